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

import math
from dataclasses import dataclass

import numpy as np

from circuitlib.analysis.mask import GRID_PPD, FilterMask, closed_band
from circuitlib.analysis.measure import RESONANCE_WINDOW
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


def _marks(roots: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The dense marks (Hz) of every circuit at once, as `mask.marks_of_roots` gives each circuit's from its roots
    (rad/s): each root's magnitude and imaginary part, and a window of +-4/Q around the sharp ones. Returns (marks,
    the circuit of each)."""
    owner = np.repeat(np.arange(len(roots)), [len(r) for r in roots])
    r = np.concatenate(roots) if roots else np.zeros(0, dtype=complex)
    keep = np.isfinite(r) & (np.abs(r) > 0)
    r, owner = r[keep], owner[keep]
    f = np.abs(r) / (2 * math.pi)
    with np.errstate(divide="ignore"):
        q = np.where(r.real != 0, np.abs(r) / (2 * np.abs(r.real)), 1e6)  # a root on the jw axis: Q = 1e6
    sharp = q > 1
    windows = f[sharp, None] * (1 + RESONANCE_WINDOW[None, :] / q[sharp, None])
    marks = np.concatenate([f, np.abs(r.imag) / (2 * math.pi), windows.ravel()])
    owners = np.concatenate([owner, owner, np.repeat(owner[sharp], RESONANCE_WINDOW.size)])
    return marks[marks > 0], owners[marks > 0]


def _grids(masks: list[FilterMask], marks: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every band's verification grid at once, as `mask.grids_at_marks` builds each band's (GRID_PPD points a decade
    from edge to edge, the circuit's marks inside, points closer than 1e-9 relative merged): (frequencies in order
    band by band, the band of each; and per band its circuit, its number within its mask, and PASS or STOP)."""
    table = [(i, j, PASS if kind == "pass" else STOP, *closed_band(lo, hi))
             for i, m in enumerate(masks) for j, (kind, lo, hi) in enumerate(m.bands())]
    circuit, seg, kind = (np.array([t[k] for t in table], dtype=int) for k in range(3))
    lo, hi = (np.array([t[k] for t in table]) for k in (3, 4))
    n = np.maximum((GRID_PPD * np.log10(hi / lo)).astype(int), 1) + 1
    first = np.cumsum(n) - n
    band = np.repeat(np.arange(len(table)), n)
    log_lo, span = np.log(lo), np.log(hi) - np.log(lo)
    y = log_lo[band] + (np.arange(band.size) - first[band]) * (span / (n - 1))[band]  # log f
    f = np.exp(y)
    f[first], f[first + n - 1] = lo, hi
    order = np.argsort(owners, kind="stable")  # each circuit's marks together
    marks, owners = marks[order], owners[order]
    start, count = np.searchsorted(owners, np.arange(len(masks))), np.bincount(owners, minlength=len(masks))
    per = count[circuit]  # a (band, mark) pair for every mark of the band's circuit
    pair_band = np.repeat(np.arange(len(table)), per)
    at = np.repeat(start[circuit], per) + np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    paired = marks[at]
    inside = (paired > lo[pair_band]) & (paired < hi[pair_band])
    f, band = np.concatenate([f, paired[inside]]), np.concatenate([band, pair_band[inside]])
    y = np.concatenate([y, np.log(paired[inside])])
    order = np.argsort(band + 0.5 * (y - log_lo[band]) / span[band], kind="stable")  # by band, then frequency: the
    # position in the band runs from 0 to 1 (np.lexsort on the two is ten times slower)
    f, band = f[order], band[order]
    keep = np.ones(f.size, dtype=bool)
    keep[1:] = (band[1:] != band[:-1]) | (np.diff(f) > 1e-9 * f[1:])  # duplicates would make empty brackets
    return f[keep], band[keep], circuit, seg, kind


def _rows(circuits: list[Circuit], masks: list[FilterMask], stacked: Stacked) -> tuple[np.ndarray, ...]:
    """(frequencies, kinds, segments), each (B, F): every circuit's band grids end to end, padded by repeating the
    last frequency (kind PAD); a segment number per band, so that refinement never spans two bands."""
    f, band, circuit, seg, kind = _grids(masks, *_marks(finite_roots(circuits, stacked)))
    row = circuit[band]  # each point's circuit: bands are numbered circuit by circuit, so rows come in order
    length = np.bincount(row, minlength=len(masks))
    col = np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length)
    freq = np.repeat(f[np.cumsum(length) - 1][:, None], length.max(), axis=1)
    kinds, segs = np.full(freq.shape, PAD), np.full(freq.shape, -1)
    freq[row, col], kinds[row, col], segs[row, col] = f, kind[band], seg[band]
    return freq, kinds, segs


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
