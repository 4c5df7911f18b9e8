"""Filter masks, and their exact verification.

A mask is what a filter designer asks for: pass a band within +-ripple_db, attenuate at least attenuation_db in the
stopband, between a source resistance and a load. Gain is read against the ideal terminated reference
G_ref = RL / (RS + RL) (1 for an open load): the mask is met when, in every passband, |20 log10(|H| / G_ref)| <=
ripple_db and, in every stopband, 20 log10(|H| / G_ref) <= -attenuation_db.

Verification samples every band densely, from decades beyond the outer edges (and the exact limits at 0 and
infinity) to the band edges, with dense windows at every sharp pole and zero, and refines every local extremum on the
exact response with a bounded optimizer: ripple peaks between grid points are what break a mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from circuitlib.analysis.measure import resonance_windows_hz
from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SpecificationError
from circuitlib.core.netlist import AcSweep
from circuitlib.core.records import FILTER_RESPONSES
from circuitlib.sim import spice
from circuitlib.sim.limits import limit_gain
from circuitlib.sim.mna import group_delay_s, pencil, poles_zeros, response_hz

BEYOND_DECADES = 3.0  # bands are sampled this far beyond their outer edges (and the limits taken exactly)
NARROW_POINTS = 50  # ngspice sweeps a band narrower than NARROW_POINTS / GRID_PPD decades at this many lin points
GRID_PPD = 200  # points per decade of the verification grid, plus dense windows at sharp poles and zeros


class MaskError(SpecificationError):
    """A mask that is inconsistent or out of range."""


def _finite_positive(name: str, value: float, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        need = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise MaskError(f"{name} must be {need}, not {value!r}")
    return float(value)


def _edges(name: str, value, pair: bool) -> tuple[float, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) != (2 if pair else 1):
        need = "a pair lo,hi" if pair else "one frequency"
        raise MaskError(f"{name} must be {need} for this response, not {value!r}")
    out = tuple(_finite_positive(name, v) for v in values)
    if pair and not out[0] < out[1]:
        raise MaskError(f"{name} must be in increasing order with distinct edges, not {value!r}")
    return out


@dataclass(frozen=True)
class FilterMask:
    """What a filter must meet; frequencies in Hz, levels in dB, terminations in ohm (source 0: ideal source;
    load None: open output).

    >>> FilterMask("lowpass", 1000.0, 2500.0, 0.5, 40.0, 50.0, 50.0).g_ref
    0.5
    >>> FilterMask("lowpass", 2500.0, 1000.0, 0.5, 40.0)
    Traceback (most recent call last):
    ...
    circuitlib.analysis.mask.MaskError: a lowpass stopband edge (1000 Hz) must lie above its passband edge (2500 Hz)
    """

    response: str
    passband_hz: float | tuple[float, float]
    stopband_hz: float | tuple[float, float]
    ripple_db: float
    attenuation_db: float
    source_ohm: float = 0.0
    load_ohm: float | None = None

    def __post_init__(self) -> None:
        if self.response not in FILTER_RESPONSES:
            raise MaskError(f"response must be one of {', '.join(FILTER_RESPONSES)}, not {self.response!r}")
        pair = self.response in ("bandpass", "bandstop")
        p, s = _edges("passband_hz", self.passband_hz, pair), _edges("stopband_hz", self.stopband_hz, pair)
        _check_order(self.response, p, s)
        object.__setattr__(self, "passband_hz", p if pair else p[0])
        object.__setattr__(self, "stopband_hz", s if pair else s[0])
        object.__setattr__(self, "ripple_db", _finite_positive("ripple_db", self.ripple_db))
        object.__setattr__(self, "attenuation_db", _finite_positive("attenuation_db", self.attenuation_db))
        if self.attenuation_db <= self.ripple_db:
            raise MaskError(f"attenuation_db ({self.attenuation_db:g}) must exceed ripple_db ({self.ripple_db:g})")
        object.__setattr__(self, "source_ohm", _finite_positive("source_ohm", self.source_ohm, allow_zero=True))
        if self.load_ohm is not None:
            object.__setattr__(self, "load_ohm", _finite_positive("load_ohm", self.load_ohm))

    @property
    def reference_hz(self) -> float:
        """The mask's reference frequency: its passband edge, or the passband's geometric centre for band masks
        (where a normalised design puts 1 rad/s, and where an inductor's Q is taken when no frequency is given)."""
        p = np.atleast_1d(self.passband_hz)
        return float(p[0]) if len(p) == 1 else float(math.sqrt(p[0] * p[1]))

    @property
    def g_ref(self) -> float:
        """The ideal terminated gain RL / (RS + RL); 1 for an open load."""
        return 1.0 if self.load_ohm is None else self.load_ohm / (self.source_ohm + self.load_ohm)

    def bands(self) -> list[tuple[str, float, float]]:
        """('pass' or 'stop', lo_hz, hi_hz) of every band; 0 and inf for the open ends."""
        p, s = self.passband_hz, self.stopband_hz
        if self.response == "lowpass":
            return [("pass", 0.0, p), ("stop", s, math.inf)]
        if self.response == "highpass":
            return [("stop", 0.0, s), ("pass", p, math.inf)]
        if self.response == "bandpass":
            return [("stop", 0.0, s[0]), ("pass", p[0], p[1]), ("stop", s[1], math.inf)]
        return [("pass", 0.0, p[0]), ("stop", s[0], s[1]), ("pass", p[1], math.inf)]

    def sweep(self, points_per_decade: int = 100) -> AcSweep:
        """The `.ac` sweep of a netlist for this mask: a decade below its lowest edge to a decade above its highest.

        >>> FilterMask("bandpass", (900.0, 1100.0), (700.0, 1400.0), 0.5, 30.0).sweep().card()
        '.ac dec 100 70.0 14000.0'
        """
        edges = np.concatenate([np.atleast_1d(self.passband_hz), np.atleast_1d(self.stopband_hz)])
        return AcSweep("dec", points_per_decade, float(edges.min()) / 10, float(edges.max()) * 10)

    def to_json(self) -> dict:
        keys = ("response", "passband_hz", "stopband_hz", "ripple_db", "attenuation_db", "source_ohm", "load_ohm")
        out = {k: getattr(self, k) for k in keys}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def _check_order(response: str, p: tuple[float, ...], s: tuple[float, ...]) -> None:
    if response == "lowpass" and not s[0] > p[0]:
        raise MaskError(f"a lowpass stopband edge ({s[0]:g} Hz) must lie above its passband edge ({p[0]:g} Hz)")
    if response == "highpass" and not s[0] < p[0]:
        raise MaskError(f"a highpass stopband edge ({s[0]:g} Hz) must lie below its passband edge ({p[0]:g} Hz)")
    if response == "bandpass" and not s[0] < p[0] < p[1] < s[1]:
        raise MaskError(f"a bandpass passband {p[0]:g}-{p[1]:g} Hz must lie inside its stopband edges "
                        f"{s[0]:g}-{s[1]:g} Hz")
    if response == "bandstop" and not p[0] < s[0] < s[1] < p[1]:
        raise MaskError(f"a bandstop stopband {s[0]:g}-{s[1]:g} Hz must lie inside its passband edges "
                        f"{p[0]:g}-{p[1]:g} Hz")


@dataclass(frozen=True)
class MaskReport:
    """Worst passband gains and worst stopband gain (dB re G_ref), where each is reached (Hz; 0 or inf for an
    exact limit), and the margin: the smallest of ripple - pass_max, pass_min + ripple and -attenuation - stop_max.
    The mask is met when the margin is >= 0."""

    met: bool
    pass_min_db: float
    pass_max_db: float
    stop_max_db: float
    margin_db: float
    pass_min_hz: float
    pass_max_hz: float
    stop_max_hz: float
    decisive: str  # "pass_min", "pass_max" or "stop_max": the figure the margin comes from
    delay_min_s: float | None  # group delay over the passband(s), from the exact nodal solver; None: not asked
    delay_max_s: float | None
    engine: str = "mna"

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("met", "pass_min_db", "pass_max_db", "stop_max_db", "margin_db",
                                              "delay_min_s", "delay_max_s", "engine")}


def _grid(lo_hz: float, hi_hz: float, marks_hz: np.ndarray) -> np.ndarray:
    """A log grid from lo to hi at GRID_PPD per decade, plus the band edges and the marks inside."""
    n = max(int(GRID_PPD * math.log10(hi_hz / lo_hz)), 1) + 1
    f = np.exp(np.linspace(math.log(lo_hz), math.log(hi_hz), n))  # np.geomspace's points, without its overhead
    f[0], f[-1] = lo_hz, hi_hz
    inside = marks_hz[(marks_hz > lo_hz) & (marks_hz < hi_hz)]
    if not len(inside):
        return f
    f = np.sort(np.concatenate([f, inside]))
    return f[np.concatenate([[True], np.diff(f) > 1e-9 * f[1:]])]  # duplicates would make empty brackets


def _marks(circuit: Circuit) -> np.ndarray:
    """Frequencies worth sampling densely: every pole and zero, with windows +-4/Q around the sharp ones."""
    pz = poles_zeros(circuit)
    return marks_of_roots(np.concatenate([pz.poles, pz.zeros]))


def _may_decide(g: np.ndarray, i: int, sign: float) -> bool:
    """Whether the local extremum of the grid at i could, refined, reach the band's grid extreme. A smooth peak
    sampled at spacing h rises above its highest sample by at most a quarter of the drop to the next sample (a
    parabola: excess a d^2 with d <= h/2, drop >= a h^2), so a peak whose sample plus four such drops stays below
    the grid's extreme cannot decide the band; nor can a peak less than 1e-9 dB above its samples (float noise on
    a flat stretch)."""
    drop = max(abs(g[i] - g[i - 1]), abs(g[i] - g[i + 1]))
    return 4 * drop > 1e-9 and sign * g[i] + 4 * drop >= (g.max() if sign > 0 else -g.min())


def band_extremes(circuit: Circuit, lo_hz: float, hi_hz: float, marks_hz: np.ndarray,
                  g_ref: float) -> tuple[float, float, float, float]:
    """(min dB, f of min, max dB, f of max) of 20 log10(|H| / g_ref) over [lo_hz, hi_hz] (inf allowed at either
    end: the band is then sampled BEYOND_DECADES past its finite edge, and the exact limit is included). Every
    local extremum of the grid is refined on the exact response."""
    p = pencil(circuit)
    finite_lo = lo_hz if lo_hz > 0 else hi_hz / 10 ** BEYOND_DECADES
    finite_hi = hi_hz if math.isfinite(hi_hz) else lo_hz * 10 ** BEYOND_DECADES
    if lo_hz == 0 and (marks_hz < finite_lo).any():  # an open end also reaches a decade past every pole and zero
        finite_lo = min(finite_lo, marks_hz.min() / 10)
    if not math.isfinite(hi_hz) and (marks_hz > finite_hi).any():
        finite_hi = max(finite_hi, marks_hz.max() * 10)
    f = _grid(finite_lo, finite_hi, marks_hz)
    db = lambda x: 20 * np.log10(np.maximum(np.abs(response_hz(p, np.atleast_1d(x))), 1e-300) / g_ref)  # noqa: E731
    g = db(f)
    points = [(float(v), float(x)) for v, x in zip(g, f)]
    for i in range(1, len(f) - 1):
        for sign in (1.0, -1.0):  # sign 1: a local maximum; -1: a local minimum
            if sign * g[i] >= sign * g[i - 1] and sign * g[i] >= sign * g[i + 1] and _may_decide(g, i, sign):
                res = minimize_scalar(lambda lf: -sign * db(10.0 ** lf)[0], method="bounded",
                                      bounds=(math.log10(f[i - 1]), math.log10(f[i + 1])), options={"xatol": 1e-12})
                points.append((float(db(10.0 ** res.x)[0]), float(10.0 ** res.x)))
    for at, edge in (("zero", lo_hz == 0), ("infinity", not math.isfinite(hi_hz))):
        if edge:
            h = limit_gain(circuit, at)
            points.append((20 * math.log10(max(abs(h), 1e-300) / g_ref), 0.0 if at == "zero" else math.inf))
    lo_pt, hi_pt = min(points), max(points)
    return lo_pt[0], lo_pt[1], hi_pt[0], hi_pt[1]


def closed_band(lo_hz: float, hi_hz: float) -> tuple[float, float]:
    """A band with its open ends closed BEYOND_DECADES past the finite edge."""
    return (lo_hz if lo_hz > 0 else hi_hz / 10 ** BEYOND_DECADES,
            hi_hz if math.isfinite(hi_hz) else lo_hz * 10 ** BEYOND_DECADES)


def band_grids(circuit: Circuit, mask: FilterMask) -> list[tuple[str, np.ndarray]]:
    """The verification grid of every band of `mask` for `circuit` ("pass" or "stop", frequencies in Hz)."""
    return grids_at_marks(mask, _marks(circuit))


def marks_of_roots(roots_rad_s: np.ndarray) -> np.ndarray:
    """Frequencies (Hz) worth sampling densely near the poles and zeros `roots_rad_s`: each root's magnitude and
    imaginary part, and windows +-4/Q around the sharp ones."""
    roots = roots_rad_s[np.isfinite(roots_rad_s) & (np.abs(roots_rad_s) > 0)]
    marks = np.concatenate([np.abs(roots) / (2 * math.pi), np.abs(roots.imag) / (2 * math.pi),
                            *resonance_windows_hz(roots)])
    return marks[marks > 0]


def grids_at_marks(mask: FilterMask, marks_hz: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Every band's verification grid (`band_grids`) with the dense marks `marks_hz` (`marks_of_roots`)."""
    return [(kind, _grid(*closed_band(lo, hi), marks_hz)) for kind, lo, hi in mask.bands()]


def sampled_margin_db(circuit: Circuit, mask: FilterMask, grids: list[tuple[str, np.ndarray]]) -> float:
    """The mask margin in dB on fixed grids (`band_grids` of a nearby circuit), without refining the extrema: a
    fast score for searches, which `verify` must confirm."""
    p, slack = pencil(circuit), math.inf
    for kind, f in grids:
        db = 20 * np.log10(np.maximum(np.abs(response_hz(p, f)), 1e-300) / mask.g_ref)
        if kind == "pass":
            slack = min(slack, mask.ripple_db - float(db.max()), float(db.min()) + mask.ripple_db)
        else:
            slack = min(slack, -mask.attenuation_db - float(db.max()))
    return slack


def passband_delay_s(circuit: Circuit, mask: FilterMask, marks_hz: np.ndarray) -> tuple[float, float]:
    """(min, max) group delay in seconds over the passbands (open ends closed BEYOND_DECADES past the edge)."""
    p = pencil(circuit)
    taus = [group_delay_s(p, _grid(*closed_band(lo, hi), marks_hz)) for kind, lo, hi in mask.bands() if kind == "pass"]
    tau = np.concatenate(taus)
    return float(tau.min()), float(tau.max())


def verify(circuit: Circuit, mask: FilterMask, delay: bool = True) -> MaskReport:
    """The mask's figures for `circuit` (its terminations included as elements), from the exact nodal solver;
    with `delay` False (a search that reads only the margin) the passband group delay is left out (None).

    An RC low-pass (fc = 1.59 kHz) against a mask it cannot meet: 20 dB at 2.5 kHz needs a steeper filter.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    >>> report = verify(rc, FilterMask("lowpass", 100.0, 2500.0, 0.5, 20.0))
    >>> report.met, round(report.pass_min_db, 4), round(report.stop_max_db, 3)
    (False, -0.0171, -5.4)
    """
    marks = _marks(circuit)
    worst = {"pass_min": (math.inf, math.nan), "pass_max": (-math.inf, math.nan), "stop_max": (-math.inf, math.nan)}
    for kind, lo, hi in mask.bands():
        mn, f_mn, mx, f_mx = band_extremes(circuit, lo, hi, marks, mask.g_ref)
        if kind == "pass":
            worst["pass_min"] = min(worst["pass_min"], (mn, f_mn))
            worst["pass_max"] = max(worst["pass_max"], (mx, f_mx))
        else:
            worst["stop_max"] = max(worst["stop_max"], (mx, f_mx))
    (pmin, f_pmin), (pmax, f_pmax), (smax, f_smax) = worst["pass_min"], worst["pass_max"], worst["stop_max"]
    delays = passband_delay_s(circuit, mask, marks) if delay else (None, None)
    slacks = {"pass_max": mask.ripple_db - pmax, "pass_min": pmin + mask.ripple_db,
              "stop_max": -mask.attenuation_db - smax}
    decisive = min(slacks, key=slacks.get)
    margin = slacks[decisive]
    return MaskReport(margin >= 0, pmin, pmax, smax, margin, f_pmin, f_pmax, f_smax, decisive, *delays)


def verify_ngspice(circuit: Circuit, mask: FilterMask, nodal: MaskReport | None = None) -> MaskReport:
    """The same figures from ngspice: each band swept at GRID_PPD points per decade (open ends BEYOND_DECADES past
    their edge), plus ngspice's own values at the frequencies where the nodal solver found the extremes, so that
    ripple peaks between sweep points are not missed. The exact limits at 0 and infinity are the nodal solver's
    alone (ngspice sweeps finite frequencies)."""
    nodal = nodal or verify(circuit, mask)
    spots = [f for f in (nodal.pass_min_hz, nodal.pass_max_hz, nodal.stop_max_hz) if 0 < f < math.inf]
    worst = {"pass_min": math.inf, "pass_max": -math.inf, "stop_max": -math.inf}
    for kind, lo, hi in mask.bands():
        lo_f = lo if lo > 0 else hi / 10 ** BEYOND_DECADES
        hi_f = hi if math.isfinite(hi) else lo * 10 ** BEYOND_DECADES
        narrow = GRID_PPD * math.log10(hi_f / lo_f) < NARROW_POINTS  # a narrow band: evenly spaced points
        sweep = spice.simulate(circuit, AcSweep("lin", NARROW_POINTS, lo_f, hi_f) if narrow
                               else AcSweep("dec", GRID_PPD, lo_f, hi_f))
        f, h = sweep.f_hz, sweep.h
        inside = [x for x in spots if lo_f <= x <= hi_f]
        if inside:
            f, h = np.concatenate([f, inside]), np.concatenate([h, spice.gain_at(circuit, np.array(inside))])
        db = 20 * np.log10(np.maximum(np.abs(h[(f >= lo_f) & (f <= hi_f)]), 1e-300) / mask.g_ref)
        if kind == "pass":
            worst["pass_min"] = min(worst["pass_min"], float(db.min()))
            worst["pass_max"] = max(worst["pass_max"], float(db.max()))
        else:
            worst["stop_max"] = max(worst["stop_max"], float(db.max()))
    slacks = {"pass_max": mask.ripple_db - worst["pass_max"], "pass_min": worst["pass_min"] + mask.ripple_db,
              "stop_max": -mask.attenuation_db - worst["stop_max"]}
    decisive = min(slacks, key=slacks.get)
    return MaskReport(slacks[decisive] >= 0, worst["pass_min"], worst["pass_max"], worst["stop_max"], slacks[decisive],
                      nodal.pass_min_hz, nodal.pass_max_hz, nodal.stop_max_hz, decisive, nodal.delay_min_s,
                      nodal.delay_max_s, "ngspice")
