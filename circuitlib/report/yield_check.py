"""An independent check of a reported tolerance yield: the same design re-sampled with the same distribution by a
different sampler (scipy.stats, another seed), each sample verified on its own by the exact mask verification
(refined extrema), not by the batched grid that `analysis.tolerance` uses. An (f, Q) design's samples are measured
by another solver altogether: ngspice, its poles from its own pole-zero analysis (`.pz`) and its -3 dB frequencies
read off its AC sweep (2000 points a decade, log-linear interpolation), not by `analysis.measure`.

Two estimates of one yield from independent samples differ by sampling noise alone; they agree when their
difference lies within the 95% interval of that difference, 1.96 sqrt(p (1 - p) (1/n1 + 1/n2)) with p pooled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from circuitlib.analysis.mask import FilterMask, verify
from circuitlib.analysis.spec import Specification
from circuitlib.core.circuit import Circuit
from circuitlib.core.netlist import AcSweep
from circuitlib.sim.spice import simulate, simulate_with_poles

FIXED = ("RS", "RL")  # the terminations the mask gives are not toleranced


@dataclass(frozen=True)
class IndependentYield:
    """Samples drawn, samples that met the mask, and the yield."""

    samples: int
    passed: int

    @property
    def fraction(self) -> float:
        return self.passed / self.samples


def draw_factors(n_parts: int, tol: float, distribution: str, samples: int, seed: int) -> np.ndarray:
    """(samples, n_parts) multipliers: normal with sigma = tol/3 truncated at +-tol, or uniform on +-tol."""
    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        dist = stats.uniform(loc=1 - tol, scale=2 * tol)
    else:
        dist = stats.truncnorm(-3.0, 3.0, loc=1.0, scale=tol / 3)
    return dist.rvs(size=(samples, n_parts), random_state=rng)


def independent_yield(circuit: Circuit, mask: FilterMask, tol: float, distribution: str, samples: int,
                      seed: int) -> IndependentYield:
    """The yield of `circuit` against `mask` when every filter part is off by the same relative tolerance `tol`,
    each sample verified exactly.

    >>> from circuitlib.core.circuit import Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # fc = 1591.55 Hz
    >>> m = FilterMask("lowpass", 1591.55, 1e6, 3.0103, 20.0)  # met when R C stays at or below nominal
    >>> 0.4 < independent_yield(rc, m, 0.05, "normal", 200, seed=3).fraction < 0.6
    True
    """
    comps = circuit.components()
    parts = [i for i, c in enumerate(comps) if c.name not in FIXED]
    nominal = np.array([c.value for c in comps])
    passed = 0
    for factors in draw_factors(len(parts), tol, distribution, samples, seed):
        values = nominal.copy()
        values[parts] *= factors
        passed += verify(circuit.with_values(values), mask).met
    return IndependentYield(samples, int(passed))


def _crossing(f_hz: np.ndarray, mag: np.ndarray, level: float, start: int, step: int) -> float | None:
    """The first frequency from index `start` going `step` where |H| passes `level`, interpolated in log-log."""
    idx = np.arange(start, len(f_hz)) if step > 0 else np.arange(start, -1, -1)
    above = mag[idx] > level
    flips = np.flatnonzero(above[1:] != above[:-1])
    if not len(flips):
        return None
    i0, i1 = idx[flips[0]], idx[flips[0] + 1]
    y0, y1 = np.log(mag[i0] / level), np.log(mag[i1] / level)
    x0, x1 = np.log(f_hz[i0]), np.log(f_hz[i1])
    return float(np.exp(x0 + (x1 - x0) * y0 / (y0 - y1)))


def _vertex(y: np.ndarray) -> float:
    """The top of the parabola through three equally spaced values (a sampled peak, refined)."""
    a = y[0] - 2 * y[1] + y[2]
    return float(y[1] - (y[2] - y[0]) ** 2 / (8 * a)) if a < 0 else float(y[1])


def ngspice_figures(circuit: Circuit, spec: Specification) -> tuple[float | None, float | None]:
    """(f, q) of `circuit` as `spec` reads them, from ngspice alone: the highest-Q pole pair of its `.pz` (q_pole
    and, for 'any', the natural frequency; two real poles: sqrt(p1 p2) / (p1 + p2)); fc at 1/sqrt 2 of the gain 4 decades beyond the band; a band's edges
    at 1/sqrt 2 of its peak (bandpass) or of the smaller far gain (bandstop), read again on a second, linear sweep
    across the band, f0 = sqrt(f_lo f_hi), Q = f0 / BW."""
    f = spec.f_hz
    r = simulate_with_poles(circuit, AcSweep("dec", 2000, f / 1e4, f * 1e4))
    mag, pairs = np.abs(r.h), [p for p in r.poles if p.imag > 0 and p.real < 0]
    best = max(pairs, key=lambda p: abs(p) / (2 * abs(p.real)), default=None)
    q_pole, w0 = (None, None) if best is None else (abs(best) / (2 * abs(best.real)), abs(best))
    if best is None and len(r.poles) == 2 and all(p.real < 0 for p in r.poles):  # two real poles
        a, b = abs(r.poles[0].real), abs(r.poles[1].real)
        q_pole, w0 = math.sqrt(a * b) / (a + b), math.sqrt(a * b)
    if spec.response == "any":
        return (None, None) if w0 is None else (w0 / (2 * math.pi), q_pole)
    if spec.response in ("lowpass", "highpass"):
        start, step = (0, 1) if spec.response == "lowpass" else (len(mag) - 1, -1)
        return _crossing(r.f_hz, mag, mag[start] * math.sqrt(0.5), start, step), q_pole
    far = min(mag[0], mag[-1])
    band = _band_edges(r.f_hz, mag, spec.response, far)
    if band is None:
        return None, None
    lo, hi = band  # then again on a linear sweep of 4001 points across the band, for narrow bands
    zoom = simulate(circuit, AcSweep("lin", 4001, max(lo - (hi - lo), lo / 2), hi + (hi - lo)))
    band = _band_edges(zoom.f_hz, np.abs(zoom.h), spec.response, far)
    if band is None:
        return None, None
    lo, hi = band
    return math.sqrt(lo * hi), math.sqrt(lo * hi) / (hi - lo)


def _band_edges(f_hz: np.ndarray, mag: np.ndarray, response: str, far: float) -> tuple[float, float] | None:
    """(f_lo, f_hi) where |H| passes 1/sqrt 2 of the peak (bandpass; refined by a parabola in log |H|) or of the
    far gain `far` (bandstop), each side of the peak or notch."""
    k = int(np.argmax(mag) if response == "bandpass" else np.argmin(mag))
    level = (_vertex(np.log(mag[k - 1 : k + 2])) if response == "bandpass" and 0 < k < len(mag) - 1
             else math.log(mag[k] if response == "bandpass" else far))
    level = math.exp(level) * math.sqrt(0.5)
    lo, hi = _crossing(f_hz, mag, level, k, -1), _crossing(f_hz, mag, level, k, 1)
    return None if lo is None or hi is None else (lo, hi)


def independent_spec_yield(circuit: Circuit, spec: Specification, tol: float, distribution: str, samples: int,
                           seed: int, within: float) -> IndependentYield:
    """The share of samples (every part off by the same relative tolerance `tol`) whose f and q, as ngspice gives
    them (`ngspice_figures`), are within `within` of `spec`."""
    comps = circuit.components()
    nominal = np.array([c.value for c in comps])
    passed = 0
    for factors in draw_factors(len(comps), tol, distribution, samples, seed):
        f_hz, q = ngspice_figures(circuit.with_values(nominal * factors), spec)
        ok = f_hz is not None and abs(f_hz / spec.f_hz - 1) <= within
        passed += ok and (spec.q is None or (q is not None and abs(q / spec.q - 1) <= within))
    return IndependentYield(samples, int(passed))


def agree(p1: float, n1: int, p2: float, n2: int, z: float = 1.959963984540054) -> bool:
    """Whether two yields from independent samples differ by no more than their difference's 95% interval.

    >>> agree(0.90, 1000, 0.88, 400), agree(0.90, 1000, 0.80, 400)
    (True, False)
    """
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    half = z * math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n1 + 1 / n2))
    return abs(p1 - p2) <= max(half, 1e-12)


def spec_study(specs: list[Specification], tol: float, within: float, samples: int, check_samples: int, seed: int,
               method: str = "refined", eseries: str = "E24", designer=None) -> list[dict]:
    """Per (f, Q) specification: the `generate` design at `eseries` with its reported yield (`samples` draws
    from `seed`), the independent ngspice yield (`check_samples` draws from another seed) and whether they agree,
    and the largest gap between the autograd sensitivities and finite differences."""
    from circuitlib.analysis.spec_sensitivity import finite_difference
    from circuitlib.analysis.tolerance import Tolerance
    from circuitlib.designers.generate import Buildable, generate

    build = Buildable(eseries, Tolerance(r=tol, l=tol, c=tol, samples=samples, seed=seed), within, None, True)
    rows = []
    for spec in specs:
        d = generate(spec.response, spec.f_hz, spec.q, method=method, seed=seed, designer=designer, build=build)[0]
        y = d.yield_report
        check = independent_spec_yield(d.circuit, spec, tol, "normal", check_samples, seed + 1, within)
        gaps = [abs(a - b) for p in d.sensitivity for a, b in zip((p.f, p.q), finite_difference(d.circuit, spec, p.name))
                if a is not None and b is not None]
        rows.append({"response": spec.response, "f_hz": spec.f_hz, "q": spec.q, "parts": len(d.circuit.components()),
                     "f_err": d.f_err, "q_err": d.q_err, "yield": y.fraction, "ci95_lo": y.ci95[0],
                     "ci95_hi": y.ci95[1], "ngspice_yield": check.fraction,
                     "agree": agree(y.fraction, samples, check.fraction, check_samples),
                     "most_failing": y.top_failing_parts[0][0] if y.top_failing_parts else None,
                     "sens_fd_gap": max(gaps)})
    return rows
