"""Response class and figures (fc, f0, q, q_pole, order) with the definitions of the book's definitions page.

Figures are refined on the exact response: crossings by a root finder on log f,
peaks and notches by a bounded optimizer, never read off a fixed sweep grid.
A figure that does not exist is None, and `absent` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from circuitlib.core.circuit import BLOCKING, Circuit, structural_problems
from circuitlib.sim.limits import limit_gain
from circuitlib.sim.mna import Pencil, PoleZero, electrical_problems, pencil, poles_zeros, response_hz

ZERO_LIMIT_DB = 60.0  # a limit this far below the largest gain counts as zero
NOTCH_DB = 10.0  # a bandstop dips at least this far below the smaller limit
HALF_POWER = 1.0 / math.sqrt(2.0)  # -3.0103 dB
GRID_PPD = 100  # points per decade of the search grid, plus dense windows at sharp poles and zeros
ROOT_AT_ZERO_RAD_S = 1e-100  # a root below this (a denormal from rounding) is at the origin: no grid spans it


@dataclass
class Measurement:
    """What `measure` reports; poles and zeros are [re, im] in rad/s."""

    valid: bool
    problems: list[str]
    response: str | None
    fc_hz: float | None = None
    f0_hz: float | None = None
    q: float | None = None
    q_pole: float | None = None
    order: int | None = None
    poles: list[list[float]] = field(default_factory=list)
    zeros: list[list[float]] = field(default_factory=list)
    absent: dict[str, str] = field(default_factory=dict)
    multi_band: bool | None = None  # crosses its -3 dB level more often than its class implies (None: no level)

    def __post_init__(self) -> None:
        for key in ("fc_hz", "f0_hz", "q", "q_pole"):
            value = getattr(self, key)
            setattr(self, key, None if value is None else float(value))

    def to_json(self) -> dict:
        keys = ("valid", "problems", "response", "fc_hz", "f0_hz", "q", "q_pole", "order", "poles", "zeros", "absent",
                "multi_band")
        return {k: getattr(self, k) for k in keys}


RESONANCE_WINDOW = np.linspace(-4, 4, 81)  # a resonance window, in units of 1/Q


def resonance_windows_hz(roots_rad_s: np.ndarray) -> list[np.ndarray]:
    """Dense frequency windows (Hz) around the sharp roots: 81 points across +-4/Q of |root| for every root with
    Q = |root| / (2 |Re root|) above 1 (a root on the j omega axis counts as Q = 1e6)."""
    out = []
    for root, f_hz in zip(roots_rad_s, np.abs(roots_rad_s) / (2 * np.pi)):
        q = abs(root) / (2 * abs(root.real)) if root.real else 1e6
        if q > 1:
            out.append(f_hz * (1 + RESONANCE_WINDOW / q))  # scalar arithmetic: the same bits as ever (datasets hash them)
    return out


def _limit(circuit: Circuit, at: str) -> float:
    """|H| at s -> 0 or infinity (`limits.limit_gain`); nan where the output floats (an invalid circuit)."""
    gain = limit_gain(circuit, at)
    return math.nan if gain is None else abs(gain)


class _Response:
    """|H| on log10(f) for one pencil, with a search grid spanning the poles and zeros, and the exact limits."""

    def __init__(self, circuit: Circuit, p: Pencil, pz: PoleZero):
        self.p = p
        roots = np.concatenate([pz.poles, pz.zeros, pz.cancelled])
        roots = roots[np.isfinite(roots) & (np.abs(roots) > ROOT_AT_ZERO_RAD_S)]
        nat = np.abs(roots) / (2 * np.pi)
        lo, hi = (nat.min() / 1e2, nat.max() * 1e2) if len(nat) else (1e-3, 1e9)
        grid = [np.logspace(np.log10(lo), np.log10(hi), int(GRID_PPD * np.log10(hi / lo)) + 2), nat]
        grid += resonance_windows_hz(roots)
        self.f_hz = np.unique(np.concatenate(grid))
        self.f_hz = self.f_hz[self.f_hz > 0]
        self.mag = np.abs(response_hz(p, self.f_hz))
        self.h0, self.hinf = _limit(circuit, "zero"), _limit(circuit, "infinity")  # exact, from the nodal forms

    def at(self, log_f: float) -> float:
        return float(abs(response_hz(self.p, np.array([10.0 ** log_f]))[0]))

    def crossing(self, level: float, start: int, step: int, below: bool) -> float | None:
        """First grid step from index `start` in direction `step` where |H| passes `level`; refined."""
        idx = np.arange(start, len(self.f_hz)) if step > 0 else np.arange(start, -1, -1)
        side = (self.mag[idx] < level) if below else (self.mag[idx] > level)
        hits = np.flatnonzero(side)
        if not len(hits) or hits[0] == 0:
            return None
        i1, i0 = idx[hits[0]], idx[hits[0] - 1]
        lf0, lf1 = np.log10(self.f_hz[i0]), np.log10(self.f_hz[i1])
        a, b = min(lf0, lf1), max(lf0, lf1)
        ga, gb = self.at(a) - level, self.at(b) - level
        if ga == 0 or gb == 0 or ga * gb > 0:  # the level sits on a grid point, to rounding
            return 10.0 ** (a if abs(ga) <= abs(gb) else b)
        return 10.0 ** brentq(lambda lf: self.at(lf) - level, a, b, xtol=1e-15, rtol=1e-15)

    def crossings(self, level: float) -> int:
        """How often |H| passes `level` on the search grid. Grid points within rounding (1e-9 relative) of the level
        are on neither side: the grid holds each refined crossing itself, where |H| is the level to the last bit."""
        off = self.mag - level
        side = off[np.abs(off) > 1e-9 * level] > 0
        return int(np.count_nonzero(side[1:] != side[:-1]))

    def extremum(self, maximum: bool) -> tuple[float, float]:
        """(f_hz, |H|) of the refined global maximum or minimum."""
        i = int(np.argmax(self.mag) if maximum else np.argmin(self.mag))
        lo, hi = max(i - 1, 0), min(i + 1, len(self.f_hz) - 1)
        sign = -1.0 if maximum else 1.0
        res = minimize_scalar(lambda lf: sign * self.at(lf), bounds=(np.log10(self.f_hz[lo]), np.log10(self.f_hz[hi])),
                              method="bounded", options={"xatol": 1e-12})
        best = (10.0 ** res.x, self.at(res.x))
        grid_best = (self.f_hz[i], self.mag[i])
        return best if sign * best[1] <= sign * grid_best[1] else grid_best


def classify(r: _Response, pz: PoleZero) -> str:
    """Response class from the exact limits H(0) and H(infinity)."""
    if pz.identically_zero:
        return "none"
    if len(pz.poles) == 0 and len(pz.zeros) == 0:
        return "flat"
    return class_from_levels(max(r.mag.max(), r.h0, r.hinf), r.h0, r.hinf, lambda: r.extremum(maximum=False)[1])


def class_from_levels(peak: float, h0: float, hinf: float, dip: Callable[[], float]) -> str:
    """Response class from |H| levels: the largest gain, the limits at 0 and infinity, and (called only when
    neither limit is zero) the deepest gain. A limit 60 dB below the peak is zero; a notch is 10 dB deep."""
    floor = peak * 10 ** (-ZERO_LIMIT_DB / 20)
    z0, zinf = h0 < floor, hinf < floor
    if z0 and zinf:
        return "bandpass"
    if zinf:
        return "lowpass"
    if z0:
        return "highpass"
    return "bandstop" if dip() < min(h0, hinf) * 10 ** (-NOTCH_DB / 20) else "other"


def pole_q(pz: PoleZero) -> tuple[float | None, float | None, str]:
    """(q_pole, natural frequency in Hz, reason if absent) of the highest-Q pole pair."""
    poles = pz.poles
    pairs = [p for p in poles if p.imag > 0]
    if pairs:
        best = max(pairs, key=lambda p: abs(p) / (2 * abs(p.real)) if p.real else math.inf)
        if best.real == 0:
            return None, abs(best) / (2 * math.pi), "a lossless pole pair on the imaginary axis has unbounded Q"
        return abs(best) / (2 * abs(best.real)), abs(best) / (2 * math.pi), ""
    if len(poles) == 2:
        p1, p2 = abs(poles[0].real), abs(poles[1].real)
        if p1 == 0 or p2 == 0:
            return None, None, "a pole at the origin has no Q"
        return math.sqrt(p1 * p2) / (p1 + p2), math.sqrt(p1 * p2) / (2 * math.pi), ""
    if len(poles) < 2:
        return None, None, f"{len(poles)} pole(s): a first-order or static circuit has no Q"
    return None, None, f"{len(poles)} real poles and no complex pair: no pole Q is defined"


def _band_level(r: _Response, kind: str) -> tuple[float, float]:
    """(f_hz of the peak or deepest notch, the -3 dB level) of a bandpass or bandstop response."""
    if kind == "bandpass":
        f_pk, g_pk = r.extremum(maximum=True)
        return f_pk, g_pk * HALF_POWER
    f_pk, _ = r.extremum(maximum=False)
    return f_pk, min(r.h0, r.hinf) * HALF_POWER


def _band(r: _Response, kind: str, f_pk: float, level: float) -> tuple[float | None, float | None, str]:
    """(f0_hz, q, reason) of the -3 dB band around the peak (bandpass) or the deepest notch (bandstop) at f_pk."""
    below = kind == "bandpass"
    i = int(np.searchsorted(r.f_hz, f_pk))
    f_lo = r.crossing(level, min(i, len(r.f_hz) - 1), -1, below)
    f_hi = r.crossing(level, max(i - 1, 0), +1, below)
    if f_lo is None or f_hi is None or f_hi <= f_lo:
        return None, None, "the -3 dB band has no edge inside the search range"
    f0 = math.sqrt(f_lo * f_hi)
    return f0, f0 / (f_hi - f_lo), ""


def measure(circuit: Circuit) -> Measurement:
    """Validity, response class and every figure (fc, f0, q, q_pole, order, poles, zeros) of one circuit.

    A series RLC band-pass (L = 10 mH, C = 100 nF, output across R = 100 ohm): f0 = 1 / (2 pi sqrt(L C)) and
    q = sqrt(L / C) / R.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> m = measure(Circuit(1, {(1, 3): Edge(l_h=10e-3), (2, 3): Edge(c_f=100e-9), (0, 2): Edge(r_ohm=100.0)}))
    >>> m.valid, m.response, round(m.f0_hz, 1), round(m.q, 3)
    (True, 'bandpass', 5032.9, 3.162)
    """
    found = structural_problems(circuit)
    if any(p.code in BLOCKING for p in found):
        return Measurement(False, [str(p) for p in found], None, absent={"all": f"cannot be analysed: {found[0]}"})
    p = pencil(circuit)
    pz = poles_zeros(circuit, p)
    found = [str(x) for x in found + electrical_problems(circuit, p, pz)]
    if any(x.startswith("singular_matrix") for x in found):
        return Measurement(False, found, None, absent={"all": f"cannot be analysed: {found[-1]}"})
    r = _Response(circuit, p, pz)
    kind = classify(r, pz)
    m = Measurement(not found, found, kind, order=len(pz.poles),
                    poles=[[float(z.real), float(z.imag)] for z in pz.poles],
                    zeros=[[float(z.real), float(z.imag)] for z in pz.zeros])
    m.q_pole, _, why = pole_q(pz)
    if m.q_pole is None:
        m.absent["q_pole"] = why
    if kind in ("lowpass", "highpass"):
        ref = r.h0 if kind == "lowpass" else r.hinf
        start, step = (0, 1) if kind == "lowpass" else (len(r.f_hz) - 1, -1)
        m.fc_hz = r.crossing(ref * HALF_POWER, start, step, below=True)  # the crossing next to the passband
        m.multi_band = r.crossings(ref * HALF_POWER) > 1
        if m.fc_hz is None:
            m.absent["fc_hz"] = "no -3 dB crossing inside the search range"
    else:
        m.absent["fc_hz"] = f"a {kind} response has no cutoff"
    if kind in ("bandpass", "bandstop"):
        f_pk, level = _band_level(r, kind)
        m.f0_hz, m.q, why = _band(r, kind, f_pk, level)
        m.multi_band = r.crossings(level) > 2
        if m.f0_hz is None:
            m.absent["f0_hz"] = m.absent["q"] = why
    else:
        m.absent["f0_hz"] = m.absent["q"] = f"a {kind} response has no band centre or band Q"
    return replace(m)  # re-runs __post_init__: plain floats
