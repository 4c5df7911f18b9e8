"""Value-level design tools that need no model: closed-form textbook designs, exact
refinement of a circuit's values to a specification, and E-series snapping.

Two exact symmetries of any RLC circuit do most of the work:
- frequency scaling: L -> L/k and C -> C/k maps H(s) to H(s/k), so every frequency moves by k;
- impedance scaling: R -> aR, L -> aL, C -> C/a leaves H(s) unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace

import eseries as es
import numpy as np
from scipy.optimize import brentq

from circuitlib.analysis.spec import Achieved, Specification, achieved, errors
from circuitlib.core.circuit import Circuit, Edge, structural_problems
from circuitlib.core.errors import SpecificationError
from circuitlib.synthesis import families as fam

TWO_PI = 2 * math.pi
ESERIES = ("E6", "E12", "E24", "E48", "E96", "E192")  # IEC 60063 preferred-value series


def scale(circuit: Circuit, freq: float = 1.0, impedance: float = 1.0, r: float = 1.0) -> Circuit:
    """Frequency scaling by `freq`, impedance scaling by `impedance`, and resistors alone by `r`."""
    edges = {}
    for key, e in circuit.edges.items():
        edges[key] = Edge(None if e.r_ohm is None else e.r_ohm * impedance * r,
                          None if e.l_h is None else e.l_h * impedance / freq,
                          None if e.c_f is None else e.c_f / (impedance * freq))
    return Circuit(circuit.n_internal, edges, dict(circuit.names))


def centre_impedance(circuit: Circuit) -> Circuit:
    """Impedance-scale (H unchanged) so every value sits inside the dataset ranges with the widest margin;
    when no scale fits them all, the one with the smallest violation."""
    lows, highs = [], []
    for c in circuit.components():
        lo, hi = {"R": fam.DATA_R, "L": fam.DATA_L, "C": fam.DATA_C}[c.kind]
        a, b = math.log10(lo / c.value), math.log10(hi / c.value)  # allowed log10 of the scale factor
        lows.append(-b if c.kind == "C" else a)
        highs.append(-a if c.kind == "C" else b)
    if not lows:
        return circuit
    return scale(circuit, impedance=10 ** ((max(lows) + min(highs)) / 2))


def lowpass_fc_ratio(q: float) -> float:
    """fc / f0 of w0^2/(s^2 + s w0/Q + w0^2)."""
    a = 1 - 1 / (2 * q * q)
    return math.sqrt(a + math.sqrt(a * a + 1))


def analytic(spec: Specification) -> Circuit:
    """The textbook design of `spec`: RC for a first-order low/highpass, series RLC for a second-order
    low/highpass, bandpass and pole pair ('any'), series-LC shunt for a bandstop."""
    f, q = spec.f_hz, spec.q
    t = lambda f0, qq: fam.Target(f0, qq, 1e3)  # noqa: E731
    if spec.response in ("lowpass", "highpass") and q is None:
        built = fam.rc_lowpass(t(f, 1.0)) if spec.response == "lowpass" else fam.rc_highpass(t(f, 1.0))
    elif spec.response == "lowpass":
        built = fam.rlc_series_lowpass(t(f / lowpass_fc_ratio(q), q))
    elif spec.response == "highpass":
        built = fam.cl_highpass(t(f * lowpass_fc_ratio(q), q))
    elif spec.response == "bandstop":
        built = fam.lc_shunt_notch(t(f, q))
    else:  # bandpass, and 'any': a pole pair at f with pole Q q
        built = fam.rlc_bandpass(t(f, q))
    return centre_impedance(built)


def refine(circuit: Circuit, spec: Specification, tol: float = 1e-4, rounds: int = 4) -> Circuit:
    """Tune values so the circuit meets `spec`: exact frequency scaling for f, and a 1-D root search
    on the resistor scale for q. Raises SpecificationError when the topology cannot reach the spec."""
    current = circuit
    for _ in range(rounds):
        got = achieved(current, spec)
        if got.f_hz is None:
            raise SpecificationError(f"the circuit has no figure for this specification ({got.reason})")
        current = scale(current, freq=spec.f_hz / got.f_hz)
        if spec.q is None:
            return centre_impedance(current)
        f_err, q_err = errors(spec, achieved(current, spec))
        if f_err is not None and q_err is not None and f_err <= tol and q_err <= tol:
            return centre_impedance(current)
        current = _tune_q(current, spec)
        f_err, q_err = errors(spec, achieved(current, spec))
        if f_err is not None and q_err is not None and f_err <= tol and q_err <= tol:
            return centre_impedance(current)
    got = achieved(current, spec)
    f_err, q_err = errors(spec, got)
    if f_err is None or q_err is None or max(f_err, q_err) > 10 * tol:
        raise SpecificationError(f"the topology cannot reach f={spec.f_hz:g} Hz, q={spec.q:g} "
                                 f"(best: f={got.f_hz}, q={got.q})")
    return centre_impedance(current)


def _q_of(circuit: Circuit, spec: Specification, log_r: float) -> float | None:
    return achieved(scale(circuit, r=10 ** log_r), spec).q


def _tune_q(circuit: Circuit, spec: Specification) -> Circuit:
    """Find the resistor scale at which q equals the target: expand a bracket around the current
    scale (log10 steps 0.25, 0.5, 1, 2, 4 each way), then Brent's method on log q."""
    if not any(c.kind == "R" for c in circuit.components()):
        return circuit

    def gap(g: float) -> float | None:
        q = _q_of(circuit, spec, g)
        return None if q is None else math.log(q / spec.q)

    d0 = gap(0.0)
    if d0 is None:
        return circuit
    for step in (0.25, 0.5, 1.0, 2.0, 4.0):
        for g in (step, -step):
            d = gap(g)
            if d is not None and d * d0 <= 0:
                lo, hi = sorted((0.0, g))
                safe = lambda x: gap(x) if gap(x) is not None else (d if abs(x - g) < abs(x) else d0)  # noqa: E731
                return scale(circuit, r=10 ** brentq(safe, lo, hi, xtol=1e-9))
    return circuit


def eseries_values(series: str) -> np.ndarray:
    """The normalized values of an IEC 60063 series (E6 ... E192) in [1, 10)."""
    values = np.asarray(es.series(getattr(es, series.upper())), dtype=float)
    return values / 10 ** np.floor(np.log10(values[0]))


def in_series(value: float, series: str) -> bool:
    """Whether `value` (any decade) is a preferred value of `series`.

    >>> in_series(4.7e-9, "E12"), in_series(5.1e3, "E12"), in_series(5.1e3, "E24")
    (True, False, True)
    """
    mantissa = value / 10 ** np.floor(np.log10(value))
    table = np.append(eseries_values(series), 10.0)  # a value just under a decade rounds to 10
    return bool(np.isclose(mantissa, table, rtol=1e-9).any())


def _snap_each(circuit: Circuit, table: np.ndarray, choice: tuple[int, ...] | None = None) -> Circuit:
    """Every value replaced by an E-series value: the nearest, or per part the k-th neighbour offset."""
    edges = {}
    comps = iter(range(10_000))
    for key, e in circuit.edges.items():
        vals = []
        for v in (e.r_ohm, e.l_h, e.c_f):
            if v is None:
                vals.append(None)
                continue
            i = next(comps)
            decade = 10 ** math.floor(math.log10(v))
            cands = np.concatenate([table[-2:] * decade / 10, table * decade, table[:2] * decade * 10])
            k = int(np.argmin(np.abs(np.log(cands / v))))
            if choice is not None:
                k = min(max(k + choice[i], 0), len(cands) - 1)
            vals.append(float(cands[k]))
        edges[key] = Edge(*vals)
    return Circuit(circuit.n_internal, edges)


def snap(circuit: Circuit, spec: Specification, series: str = "E24", n_scales: int = 64,
         starts: int = 4) -> tuple[Circuit, Achieved]:
    """Pick E-series values that jointly minimize the specification error. Sweep the free impedance
    scale over one decade (H does not depend on it, the rounding does) and snap each part to its nearest
    value; from the best few starts, coordinate descent moves one part at a time by up to two preferred
    values while the worst of the f and q errors falls."""
    table = eseries_values(series)
    n_parts = len(circuit.components())

    def score(c: Circuit) -> float:
        if structural_problems(c):  # a snapped value outside the practical ranges of validity
            return math.inf
        f_err, q_err = errors(spec, achieved(c, spec))
        wanted = [f_err] if spec.q is None else [f_err, q_err]  # q is not part of a q-less spec
        return max(math.inf if e is None else e for e in wanted)

    scored = sorted((score(_snap_each(scale(circuit, impedance=float(a)), table)), float(a))
                    for a in np.logspace(-0.5, 0.5, n_scales, endpoint=False))
    if not math.isfinite(scored[0][0]):
        raise SpecificationError(f"no {series} values fit the practical ranges for this design")
    best_err, best = math.inf, circuit
    for _, a in scored[:starts]:
        base, choice = scale(circuit, impedance=a), [0] * n_parts
        err = score(_snap_each(base, table, tuple(choice)))
        improved = True
        while improved and err > 1e-6:
            improved = False
            for i in range(n_parts):
                for step in (-2, -1, 1, 2):
                    trial = choice.copy()
                    trial[i] += step
                    e = score(_snap_each(base, table, tuple(trial)))
                    if e < err:
                        err, choice, improved = e, trial, True
        if err < best_err:
            best_err, best = err, _snap_each(base, table, tuple(choice))
    return best, achieved(best, spec)


def bom(circuit: Circuit) -> list[dict]:
    """Bill of materials: netlist name, kind, value (SI) and the nodes it joins."""
    return [{"name": c.name, "kind": c.kind, "value": c.value, "nodes": [Circuit.node_name(c.node_a),
             Circuit.node_name(c.node_b)]} for c in circuit.components()]


__all__ = ["analytic", "refine", "snap", "scale", "bom", "replace"]
