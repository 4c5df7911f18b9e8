"""Batched mask verification: each circuit on its own grid in one factored sweep, against the exact verification
and ngspice; and the per-row sweep it rests on."""

import numpy as np
import pytest

from circuitlib.analysis import mask_batch
from circuitlib.analysis.mask import FilterMask, grids_at_marks, marks_of_roots, verify, verify_ngspice
from circuitlib.analysis.mask_batch import verify_batch
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.report.mask_study import MaskGrid, random_masks
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.sim.sweep import finite_roots, sweep_rows


@pytest.fixture(scope="module")
def grid():
    from circuitlib.designers.mask_design import design

    masks = random_masks(MaskGrid(count=24, seed=3))
    return [design(m, n=1, ngspice=False)[0].circuit for m in masks], masks


def test_the_batch_agrees_with_the_exact_verification_on_a_mask_grid(grid):
    circuits, masks = grid
    batch = verify_batch(circuits, masks)
    exact = [verify(c, m, delay=False) for c, m in zip(circuits, masks)]
    for name in ("margin_db", "pass_min_db", "pass_max_db", "stop_max_db"):
        got, want = getattr(batch, name), np.array([getattr(r, name) for r in exact])
        finite = np.isfinite(want)
        assert np.array_equal(finite, np.isfinite(got)), name
        assert np.abs(got[finite] - want[finite]).max() < 1e-3, name
    assert (batch.met == np.array([r.met for r in exact])).all()


def test_the_batch_agrees_with_ngspice_on_the_same_designs(grid):
    circuits, masks = grid
    batch = verify_batch(circuits[:6], masks[:6])
    spice = [verify_ngspice(c, m) for c, m in zip(circuits[:6], masks[:6])]
    assert np.abs(batch.margin_db - [r.margin_db for r in spice]).max() < 0.01


def test_a_circuit_that_misses_its_mask_is_reported_with_its_own_figures():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # fc = 1591.55 Hz
    tight = FilterMask("lowpass", 1e3, 1.2e3, 0.5, 40.0)  # one pole cannot fall 40 dB in 20% of frequency
    loose = FilterMask("lowpass", 100.0, 1e6, 1.0, 40.0)
    r = verify_batch([rc, rc], [tight, loose])
    assert r.met.tolist() == [False, True]
    # passband edge gain -10 log10(1 + (f / fc)^2), stopband edge the same: closed forms
    fc = 1 / (2 * np.pi * 1e3 * 1e-7)
    assert r.pass_min_db[0] == pytest.approx(-10 * np.log10(1 + (1e3 / fc) ** 2), abs=1e-9)
    assert r.stop_max_db[1] == pytest.approx(-10 * np.log10(1 + (1e6 / fc) ** 2), abs=1e-9)


def test_sweep_rows_gives_each_circuit_its_own_grid_exactly(grid):
    circuits = grid[0][:8]
    rng = np.random.default_rng(0)
    f = np.sort(10 ** rng.uniform(1, 6, size=(len(circuits), 300)), axis=1)
    h = sweep_rows(circuits, f)
    exact = np.array([response_hz(pencil(c), row) for c, row in zip(circuits, f)])
    peak = np.abs(exact).max(axis=1, keepdims=True)
    big = np.abs(exact) > 1e-6 * peak  # above -120 dB: relative accuracy
    assert (np.abs(h - exact)[big] / np.abs(exact)[big]).max() < 1e-8
    deep = (np.abs(h - exact) / peak)[~big]
    assert deep.size and deep.max() < 1e-12  # deeper (at a lossless ladder's notches): absolute accuracy


def test_finite_roots_are_the_poles_and_zeros():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    (roots,) = finite_roots([rc])
    assert roots == pytest.approx([-1e4])  # one pole at -1/(R C), no finite zero


def test_a_mismatch_of_circuits_and_masks_is_refused():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    with pytest.raises(ValueError, match="1 circuits for 2 masks"):
        verify_batch([rc], [FilterMask("lowpass", 1e3, 1e4, 1.0, 20.0)] * 2)
    with pytest.raises(ValueError, match="rows"):
        sweep_rows([rc], np.ones((2, 3)))


def test_the_batch_grids_are_each_circuits_own_grids():
    """mask_batch builds every band's grid of every circuit at once; each must be the grid `mask.grids_at_marks`
    builds from that circuit's roots (`marks_of_roots`) alone, point for point."""
    from circuitlib.designers.mask_design import design

    masks = random_masks(MaskGrid(count=24, seed=5))
    circuits = [design(m, n=1, ngspice=False)[0].circuit for m in masks]
    roots = finite_roots(circuits)
    f, band, circuit, seg, kind = mask_batch._grids(masks, *mask_batch._marks(roots))
    b = 0
    for i, (m, r) in enumerate(zip(masks, roots)):
        for j, (k, want) in enumerate(grids_at_marks(m, marks_of_roots(r))):
            assert (circuit[b], seg[b], kind[b]) == (i, j, mask_batch.PASS if k == "pass" else mask_batch.STOP)
            got = f[band == b]
            assert len(got) == len(want) and np.allclose(got, want, rtol=1e-12, atol=0)
            b += 1
    assert b == len(circuit)
