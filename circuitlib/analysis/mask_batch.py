"""Many mask verifications in one batch: each circuit against its own mask, on the grids of `analysis.mask`.

The poles and zeros of every circuit come from one batch of eigenvalue problems (`sweep.finite_roots`) and set the
dense marks of each circuit's band grids; every circuit is then evaluated on its own grid in one factored sweep
(`sweep.sweep_rows`, checked against exact solves), and each band's extremes are refined by the vertex of the
parabola through the extreme sample and its neighbours in log frequency, as the batched yield does. The exact
verification (`mask.verify`) refines every local extremum with an optimizer instead; the two agree to about 1e-4 dB
on the mask grid of notebook 07 (tests/test_mask_batch.py), and this one is what a search or a benchmark calls for
many circuits at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circuitlib.analysis.mask import FilterMask, grids_at_marks, marks_of_roots
from circuitlib.core.circuit import Circuit
from circuitlib.sim.sweep import Stacked, finite_roots, stack, sweep_rows

PAD, PASS, STOP = 0, 1, 2  # what each column of a padded grid row is


@dataclass(frozen=True)
class BatchReport:
    """Per circuit: the worst passband gains and stopband gain (dB re G_ref) and the margin (dB, >= 0: met)."""

    pass_min_db: np.ndarray
    pass_max_db: np.ndarray
    stop_max_db: np.ndarray
    margin_db: np.ndarray

    @property
    def met(self) -> np.ndarray:
        return self.margin_db >= 0


def _rows(circuits: list[Circuit], masks: list[FilterMask], stacked: Stacked) -> tuple[np.ndarray, ...]:
    """(frequencies, kinds, segments), each (B, F): every circuit's band grids end to end, padded by repeating the
    last frequency (kind PAD); a segment number per band, so that refinement never spans two bands."""
    grids = [grids_at_marks(m, marks_of_roots(r)) for m, r in zip(masks, finite_roots(circuits, stacked))]
    width = max(sum(len(f) for _, f in g) for g in grids)
    freq = np.empty((len(grids), width))
    kind = np.full((len(grids), width), PAD)
    seg = np.full((len(grids), width), -1)
    for i, g in enumerate(grids):
        row = np.concatenate([f for _, f in g])
        freq[i, : len(row)], freq[i, len(row) :] = row, row[-1]
        kind[i, : len(row)] = np.concatenate([np.full(len(f), PASS if k == "pass" else STOP) for k, f in g])
        seg[i, : len(row)] = np.concatenate([np.full(len(f), j) for j, (_, f) in enumerate(g)])
    return freq, kind, seg


def _extreme(db: np.ndarray, logf: np.ndarray, use: np.ndarray, seg: np.ndarray, sign: float) -> np.ndarray:
    """Per row, the largest (sign 1) or smallest (sign -1) of db where `use`, refined by the vertex of the parabola
    through the extreme sample and its two neighbours when they lie in the same band; -sign * inf for none."""
    y = np.where(use, sign * db, -np.inf)
    i = np.argmax(y, axis=1)
    r = np.arange(len(y))
    best = y[r, i]
    inner = (i > 0) & (i < y.shape[1] - 1)
    j = np.clip(i, 1, y.shape[1] - 2)
    inner &= (seg[r, j - 1] == seg[r, i]) & (seg[r, j + 1] == seg[r, i]) & np.isfinite(best)
    x0, x1, x2 = logf[r, j - 1], logf[r, j], logf[r, j + 1]
    y0, y1, y2 = y[r, j - 1], y[r, j], y[r, j + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        a = (d12 - d01) / (x2 - x0)
        xv = 0.5 * (x0 + x1) - d01 / (2 * a)
        yv = y0 + d01 * (xv - x0) + a * (xv - x0) * (xv - x1)
    ok = inner & (a < 0) & (xv > x0) & (xv < x2) & np.isfinite(yv)
    best = np.where(ok, np.maximum(best, yv), best)
    return sign * best


def verify_batch(circuits: list[Circuit], masks: list[FilterMask]) -> BatchReport:
    """Each circuit's figures against its own mask (a mask's terminations are elements of its circuit).

    >>> from circuitlib.core.circuit import Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # |H|^2 = 1 / (1 + (f / 1591.55 Hz)^2)
    >>> masks = [FilterMask("lowpass", 100.0, 2500.0, 0.5, 20.0), FilterMask("lowpass", 1e3, 1e5, 3.0, 20.0)]
    >>> r = verify_batch([rc, rc], masks)
    >>> r.met.tolist(), np.round(r.stop_max_db, 3).tolist(), np.round(r.pass_min_db, 4).tolist()
    ([False, True], [-5.4, -35.965], [-0.0171, -1.4451])
    """
    if len(circuits) != len(masks):
        raise ValueError(f"{len(circuits)} circuits for {len(masks)} masks")
    stacked = stack(circuits)
    freq, kind, seg = _rows(circuits, masks, stacked)
    floor = min(10 ** (-(m.attenuation_db + 20.0) / 20.0) * m.g_ref for m in masks)  # as `tolerance.check_floor`
    h = sweep_rows(circuits, freq, floor=floor, stacked=stacked)
    g_ref = np.array([m.g_ref for m in masks])[:, None]
    db = 20 * np.log10(np.maximum(np.abs(h), 1e-300) / g_ref)
    logf = np.log10(freq)
    pmin = _extreme(db, logf, kind == PASS, seg, -1.0)
    pmax = _extreme(db, logf, kind == PASS, seg, 1.0)
    smax = _extreme(db, logf, kind == STOP, seg, 1.0)
    ripple = np.array([m.ripple_db for m in masks])
    atten = np.array([m.attenuation_db for m in masks])
    margin = np.minimum.reduce([ripple - pmax, pmin + ripple, -atten - smax])
    return BatchReport(pmin, pmax, smax, margin)
