"""Factored rational functions on the jw axis: `factors` groups roots into real factors, `ratio_at_jw` evaluates
gain * numerator / denominator in one compiled loop. Both are checked against the product of the roots themselves."""

import numpy as np
import pytest

from circuitlib.sim.factors import factors, ratio_at_jw


def random_roots(rng: np.random.Generator, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, K) roots and mask: exact zeros, conjugate pairs, real roots (pairs and an odd one), every seventh row one
    complex root without its mirror, in scattered columns, and a non-root value where the mask is off."""
    rows = []
    for i in range(n_rows):
        k = rng.integers(0, 4)
        pairs = rng.uniform(-3e3, -10, k) + 1j * rng.uniform(10, 5e3, k)
        reals = rng.uniform(-5e3, 5e3, rng.integers(0, 4))
        lone = rng.uniform(-1e3, -1, 1) + 1j * rng.uniform(1, 1e3, 1) if i % 7 == 0 else np.zeros(0)
        rows.append(np.concatenate([pairs, pairs.conj(), reals, lone, np.zeros(rng.integers(0, 3))]))
    width = max(map(len, rows)) + 1
    roots, present = np.full((n_rows, width), 7.0 + 3j), np.zeros((n_rows, width), dtype=bool)
    for i, r in enumerate(rows):
        cols = rng.permutation(width)[: len(r)]
        roots[i, cols], present[i, cols] = r, True
    return roots, present


def product(s: np.ndarray, roots: np.ndarray, present: np.ndarray) -> np.ndarray:
    """prod(s - r) over the present roots of each row, s (B, F)."""
    return np.prod(np.where(present[:, :, None], s[:, None, :] - roots[:, :, None], 1.0), axis=1)


@pytest.mark.parametrize("grid", [False, True])
def test_the_ratio_is_that_of_the_products_of_the_roots(grid):
    """For 40 random numerators and denominators, evaluated for the rows in a scattered order into scattered rows of
    the output, on one grid or on a grid per row: gain * prod(jw - z) / prod(jw - p), to 1e-12."""
    rng = np.random.default_rng(3)
    z, hz = random_roots(rng, 40)
    p, hp = random_roots(rng, 40)
    gain = rng.normal(size=40) + 1j * rng.normal(size=40)
    rows = rng.permutation(40)[:30]
    dest = rng.permutation(50)[:30]
    w = np.geomspace(1.0, 1e5, 300)
    w = np.stack([w * rng.uniform(0.5, 2) for _ in rows]) if grid else w
    out = np.full((50, 300), np.nan, dtype=complex)
    ratio_at_jw(w, factors(z, hz), factors(p, hp), gain, rows, out, dest)
    s = 1j * (w if grid else np.broadcast_to(w, (len(rows), 300)))
    want = gain[rows, None] * product(s, z[rows], hz[rows]) / product(s, p[rows], hp[rows])
    assert np.max(np.abs(out[dest] - want) / np.abs(want)) < 1e-12
    assert np.isnan(np.delete(out, dest, axis=0)).all()  # no other row written


def test_a_row_is_evaluated_up_to_its_length_and_the_rest_repeats_its_last_value():
    """With `length`, row k is evaluated on its first length[k] frequencies and the rest of its row holds the value at
    the last of them (a per-circuit grid padded by repeating its last frequency)."""
    rng = np.random.default_rng(5)
    z, hz = random_roots(rng, 3)
    p, hp = random_roots(rng, 3)
    w = np.stack([np.geomspace(1.0, 1e4, 50)] * 3)
    length = np.array([50, 7, 1])
    out = ratio_at_jw(w, factors(z, hz), factors(p, hp), np.ones(3), np.arange(3), np.empty((3, 50), dtype=complex),
                      length=length)
    want = product(1j * w, z, hz) / product(1j * w, p, hp)
    for k, n in enumerate(length):
        assert np.allclose(out[k, :n], want[k, :n], rtol=1e-12, atol=0)
        assert np.all(out[k, n:] == out[k, n - 1])


def test_grouping_pairs_real_roots_and_keeps_the_odd_one():
    """(s + 1)(s + 2)(s + 5): real roots are taken two by two in order, so (s + 5)(s + 2) = s^2 + 7 s + 10 and -1 is the
    odd root;
    a conjugate pair -1 +- 2j is s^2 + 2 s + 5; two zeros at 0 are a power."""
    f = factors(np.array([[-5, -1, -2, 0], [-1 + 2j, 0, -1 - 2j, 0]], dtype=complex), np.ones((2, 4), dtype=bool))
    assert f.quads.tolist() == [1, 1] and f.has_odd.tolist() == [True, False] and f.power.tolist() == [1, 2]
    assert (f.b[0, 0], f.c[0, 0], f.odd[0]) == (7.0, 10.0, -1.0)
    assert (f.b[1, 0], f.c[1, 0]) == (2.0, 5.0)


@pytest.mark.parametrize("change, message", [
    ({"rows": np.array([0, 3])}, "rows must index"),
    ({"rows": np.array([-1])}, "rows must index"),
    ({"dest": np.array([0, 5])}, "dest must give"),
    ({"dest": np.array([0])}, "dest must give"),
    ({"length": np.array([0, 4])}, "length must be"),
    ({"length": np.array([1, 5])}, "length must be"),
    ({"out": np.empty((2, 4))}, "complex"),
    ({"out": np.empty((2, 3), dtype=complex)}, "w_rad_s of shape"),
    ({"w": np.ones((3, 4))}, "w_rad_s of shape"),
])
def test_indices_out_of_range_are_refused_before_the_compiled_loop(change, message):
    """The compiled loop checks no index, so a row, destination or length out of range is refused first (it would
    write outside the output); the output must be complex and the grid as wide as it."""
    rng = np.random.default_rng(1)
    num, den = (factors(*random_roots(rng, 3)) for _ in range(2))
    args = {"w": np.geomspace(1.0, 10.0, 4), "rows": np.array([0, 2]), "dest": np.array([1, 0]),
            "length": np.array([4, 2]), "out": np.empty((2, 4), dtype=complex)} | change
    with pytest.raises(ValueError, match=message):
        ratio_at_jw(args["w"], num, den, np.ones(3), args["rows"], args["out"], args["dest"], args["length"])
