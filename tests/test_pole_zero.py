"""Notebook 05's machinery: roots to response class, doublet cancellation, Chamfer distance, and the two heads
on a synthetic task whose answer is known."""

import math

import circuits as tc
import numpy as np
import pytest

from circuitlib.learn import pole_zero as pz


def roots(poles, zeros) -> pz.Roots:
    xy = lambda r: np.arcsinh(np.array([[complex(x).real, complex(x).imag] for x in r]).reshape(-1, 2))  # noqa: E731
    return pz.Roots(xy(poles), xy(zeros))


def second_order(q: float) -> list[complex]:
    re, im = -1 / (2 * q), math.sqrt(1 - 1 / (4 * q * q))
    return [complex(re, im), complex(re, -im)]


@pytest.mark.parametrize("poles, zeros, expected", [
    ([-1], [], "lowpass"),
    ([-1], [0], "highpass"),
    (second_order(5), [0], "bandpass"),
    (second_order(5), [0, 0], "highpass"),
    (second_order(2), [1j, -1j], "bandstop"),
    (second_order(0.7), [], "lowpass"),
])
def test_response_of_textbook_roots(poles, zeros, expected):
    assert pz.response_of_roots(roots(poles, zeros)) == expected


@pytest.mark.parametrize("make, expected", [
    (lambda: tc.rc_lowpass(1e3, 1e-6), "lowpass"), (lambda: tc.series_rlc_bandpass(1e3, 10), "bandpass"),
    (lambda: tc.twin_t_notch(1e3), "bandstop"), (lambda: tc.rl_highpass(1e3, 1e-3), "highpass"),
])
def test_analytic_roots_of_real_circuits(make, expected):
    got = pz.analytic_roots(make(), pz.omega_ref(1e3))
    assert pz.response_of_roots(got) == expected


def test_rc_pole_lands_at_its_closed_form_place():
    r, c = 1e3, 1e-6
    got = pz.analytic_roots(tc.rc_lowpass(r, c), 1.0 / (r * c))  # pole at -1/RC, normalized to -1
    assert got.counts == (1, 0)
    assert np.allclose(got.poles, [[math.asinh(-1.0), 0.0]], atol=1e-9)


def test_doublets_merge_but_notches_do_not():
    real_doublet = roots([-1, -10], [-1.05])
    assert pz.merge_doublets(real_doublet, 0.1).counts == (1, 0)
    assert pz.merge_doublets(real_doublet, 0.01).counts == (2, 1)
    notch = roots(second_order(20), [1j, -1j])  # |p - z| is about |Re p|: a 40 dB notch, not a doublet
    assert pz.merge_doublets(notch, 0.1).counts == (2, 2)


def test_chamfer_closed_form():
    a = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert pz.chamfer(a, a) == 0.0
    assert pz.chamfer(a, np.array([[0.0, 0.0]])) == pytest.approx(0.5 * (0.5 + 0.0))
    assert pz.chamfer(np.zeros((0, 2)), np.array([[3.0, 4.0]])) == pytest.approx(5.0)


def synthetic(n: int, seed: int):
    """Latent = one-hot of one of 3 structures; each structure has fixed roots (1,0), (2,2) or (4,4)."""
    rng = np.random.default_rng(seed)
    kinds = [roots([-1], []), roots(second_order(3), [1j, -1j]),
             roots(second_order(2) + second_order(8), [2j, -2j, 0.5j, -0.5j])]
    k = rng.integers(0, 3, n)
    z = np.eye(3)[k] + 0.01 * rng.standard_normal((n, 3))
    return z, [kinds[i] for i in k]


def test_masked_set_learns_counts_that_fixed_2x2_cannot():
    z, truth = synthetic(600, 0)
    z_test, truth_test = synthetic(200, 1)
    responses = [pz.response_of_roots(t) for t in truth_test]
    masked = pz.scores(pz.predict(pz.fit_head("masked_set", z, truth, epochs=60), z_test), truth_test, responses)
    fixed = pz.scores(pz.predict(pz.fit_head("fixed_2x2", z, truth, epochs=60), z_test), truth_test, responses)
    assert masked["count_acc"] >= 0.99
    assert fixed["count_acc"] == pytest.approx(pz.fits_2x2_share(truth_test))
    assert masked["pole_chamfer"] < fixed["pole_chamfer"]


def test_fit_head_rejects_unknown_method():
    with pytest.raises(ValueError, match="fixed_2x2 or masked_set"):
        pz.fit_head("analytic", np.zeros((2, 3)), [roots([-1], [])] * 2)


def test_complex_pair_share_counts_root_sets_with_a_complex_pole():
    sets = [roots([-1], []), roots(second_order(3), []), roots([-0.5, -2], [0])]
    assert pz.complex_pair_share(sets) == pytest.approx(1 / 3)


def test_count_misses_splits_by_whether_the_topology_was_rebuilt():
    truth = [roots([-1], []), roots([-1, -2], [0]), roots(second_order(2), [0, 0])]
    found = {"truth": truth, "analytic": [truth[0], roots([-1], []), roots([-1], [])],
             "same_topology": [True, True, False]}
    assert pz.count_misses(found) == {"misses": 2, "other_topology": 1, "right_topology": 1}
