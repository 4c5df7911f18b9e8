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
from circuitlib.analysis.vertex import parabola_max
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
    bands = [f for g in grids for _, f in g]
    sizes = np.array([len(f) for f in bands])
    row = np.repeat(np.repeat(np.arange(len(grids)), [len(g) for g in grids]), sizes)  # each point's circuit
    length = np.bincount(row, minlength=len(grids))
    col = np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length)
    points = np.concatenate(bands)
    freq = np.repeat(points[np.cumsum(length) - 1][:, None], length.max(), axis=1)
    kind = np.full(freq.shape, PAD)
    seg = np.full(freq.shape, -1)
    freq[row, col] = points
    kind[row, col] = np.repeat([PASS if k == "pass" else STOP for g in grids for k, _ in g], sizes)
    seg[row, col] = np.repeat([j for g in grids for j in range(len(g))], sizes)
    return freq, kind, seg


def _extreme(power: np.ndarray, logf: np.ndarray, use: np.ndarray, seg: np.ndarray, sign: float) -> np.ndarray:
    """Per row of power = (|H| / G_ref)^2, the largest (sign 1) or smallest (sign -1) gain in dB where `use`, refined
    by the vertex of the parabola (dB against log f) through the extreme sample and its two neighbours when they lie
    in the same band; -sign * inf for none. The extreme is found on the power, and only the three samples around it
    are taken to dB."""
    r = np.arange(len(power))
    i = np.argmax(np.where(use, sign * power, -np.inf), axis=1)
    j = np.clip(i, 1, power.shape[1] - 2)
    cols = np.stack([j - 1, j, j + 1], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = sign * 10 * np.log10(np.maximum(power[r[:, None], cols], 1e-300))  # dB of the three samples
        best = np.where(use[r, i], sign * 10 * np.log10(np.maximum(power[r, i], 1e-300)), -np.inf)
        inner = (i > 0) & (i < power.shape[1] - 1) & np.isfinite(best)
        inner &= (seg[r, j - 1] == seg[r, i]) & (seg[r, j + 1] == seg[r, i])
    yv, ok = parabola_max(logf[r[:, None], cols].T, y.T)
    return sign * np.where(inner & ok, np.maximum(best, yv), best)


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
    power = (h.real**2 + h.imag**2) / g_ref**2
    logf = np.log10(freq)
    pmin = _extreme(power, logf, kind == PASS, seg, -1.0)
    pmax = _extreme(power, logf, kind == PASS, seg, 1.0)
    smax = _extreme(power, logf, kind == STOP, seg, 1.0)
    ripple = np.array([m.ripple_db for m in masks])
    atten = np.array([m.attenuation_db for m in masks])
    margin = np.minimum.reduce([ripple - pmax, pmin + ripple, -atten - smax])
    return BatchReport(pmin, pmax, smax, margin)
