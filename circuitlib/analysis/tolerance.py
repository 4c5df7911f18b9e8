"""Tolerance yield: how often a build with toleranced parts still meets its mask.

Every filter part (not the terminations RS and RL, which the mask fixes) is drawn around its nominal value: normal
with sigma = tol / 3, truncated at +-tol, or uniform on +-tol. All samples go through the nodal solver as one batch
(`sweep.sweep_values`) on the verification grid of every band; each sample's worst passband and stopband gains come
from the grid, with the extreme sample refined by a parabola through its neighbours (in log frequency), and its
margin is the mask margin of `analysis.mask`. The yield is the share of samples with margin >= 0, with a 95% Wilson
interval.

A failing sample is put down to one part: the one whose deviation, times the sensitivity of the failing figure to
that part at the nominal design (central differences on the same grid), costs the most margin; the parts that are
blamed most often are reported.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field, ValidationError
from scipy.special import ndtr, ndtri

from circuitlib.analysis.mask import FilterMask, band_grids
from circuitlib.analysis.vertex import parabola_max
from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SpecificationError
from circuitlib.core.executors import mapped
from circuitlib.sim.sweep import sweep_values

DISTRIBUTIONS = ("normal", "uniform")
FIXED = ("RS", "RL")  # the terminations: given by the mask, not toleranced
TRUNCATE_SIGMAS = 3.0  # normal samples are drawn with sigma = tol / 3 and truncated at +-tol
FD_STEP = 1e-4  # relative step of the central differences that attribute failures


class Tolerance(BaseModel, frozen=True):
    """Relative tolerances of resistors, inductors and capacitors (0.05 is 5%), the distribution, the number of
    samples and the seed they are drawn from."""

    r: float = Field(0.0, ge=0.0, lt=1.0)
    l: float = Field(0.0, ge=0.0, lt=1.0)  # noqa: E741
    c: float = Field(0.0, ge=0.0, lt=1.0)
    distribution: str = Field("normal", pattern="^(normal|uniform)$")
    samples: int = Field(1000, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0)

    def of(self, kind: str) -> float:
        return {"R": self.r, "L": self.l, "C": self.c}[kind]

    def label(self) -> str:
        kinds = {k: self.of(k) for k in "RLC"}
        if len(set(kinds.values())) == 1:
            return f"{100 * self.r:g}%"
        return ",".join(f"{k}={100 * v:g}%" for k, v in kinds.items())


_PART = re.compile(r"^\s*(?:([RLC])\s*=\s*)?([0-9.eE+-]+)\s*(%?)\s*$")


def parse_tolerance(text: str, **fields) -> Tolerance:
    """A `Tolerance` from "5%" (every kind), "0.05", or "R=1%,C=5%,L=10%" (kinds not named get 0); `fields` are
    the other fields (distribution, samples, seed).

    >>> parse_tolerance("R=1%,C=5%,L=10%").label()
    'R=1%,L=10%,C=5%'
    >>> parse_tolerance("5%", samples=200).c, parse_tolerance("0.02").l
    (0.05, 0.02)
    """
    values = {"r": 0.0, "l": 0.0, "c": 0.0}
    pieces = str(text).split(",")
    for piece in pieces:
        m = _PART.match(piece)
        if not m or (len(pieces) > 1 and not m.group(1)):
            raise SpecificationError(f"tolerance must read like 5% or R=1%,C=5%,L=10%, not {text!r}")
        try:
            v = float(m.group(2)) / (100.0 if m.group(3) else 1.0)
        except ValueError:
            raise SpecificationError(f"tolerance must read like 5% or R=1%,C=5%,L=10%, not {text!r}") from None
        if not (math.isfinite(v) and 0.0 < v < 1.0):
            raise SpecificationError(f"a tolerance must lie between 0 and 100% (0 and 1 as a fraction), not {piece!r}")
        for key in ([m.group(1).lower()] if m.group(1) else ["r", "l", "c"]):
            values[key] = v
    try:
        return Tolerance(**values, **fields)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise SpecificationError(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}, not {e['input']!r}") from None


def toleranced(circuit: Circuit) -> list[int]:
    """Indices (in `components()` order) of the parts that are toleranced: all but the terminations."""
    return [i for i, c in enumerate(circuit.components()) if c.name not in FIXED]


def sample_factors(kinds: list[str], tol: Tolerance, rng: np.random.Generator) -> np.ndarray:
    """(samples, len(kinds)) multipliers 1 + delta of the nominal values: delta = tol z / 3 with z standard normal
    truncated at +-3 (drawn by inverting the CDF, so that no sample is rejected), or uniform on +-tol.

    >>> f = sample_factors(["C"] * 2, Tolerance(c=0.05, samples=4000), np.random.default_rng(0))
    >>> f.shape, bool(abs(f.max() - 1) <= 0.05 and abs(f.min() - 1) <= 0.05)
    ((4000, 2), True)
    """
    t = np.array([tol.of(k) for k in kinds])
    shape = (tol.samples, len(kinds))
    if tol.distribution == "uniform":
        return 1.0 + t * rng.uniform(-1.0, 1.0, size=shape)
    lo = ndtr(-TRUNCATE_SIGMAS)
    z = ndtri(lo + (1 - 2 * lo) * rng.uniform(size=shape))
    return 1.0 + t * z / TRUNCATE_SIGMAS


def _extreme(db: np.ndarray, logf: np.ndarray, sign: float) -> np.ndarray:
    """Per row of db (N, F), the largest (sign 1) or smallest (sign -1) value, refined by the vertex of the
    parabola through the extreme sample and its neighbours (when it lies inside the grid)."""
    y = sign * db
    i = np.argmax(y, axis=1)
    best = y[np.arange(len(y)), i]
    inner = (i > 0) & (i < y.shape[1] - 1)
    rows, j = np.flatnonzero(inner), i[inner]
    if len(rows):
        yv, ok = parabola_max(logf[np.stack([j - 1, j, j + 1])], y[rows, np.stack([j - 1, j, j + 1])])
        best[rows[ok]] = np.maximum(best[rows[ok]], yv[ok])
    return sign * best


def figures_db(h: np.ndarray, grids: list[tuple[str, np.ndarray]], mask: FilterMask) -> dict[str, np.ndarray]:
    """Per sample (rows of h, the grids' frequencies concatenated), the worst passband gains and the worst stopband
    gain in dB re G_ref: {"pass_min", "pass_max", "stop_max"}, each (N,)."""
    out = {"pass_min": np.inf, "pass_max": -np.inf, "stop_max": -np.inf}
    start = 0
    for kind, f in grids:
        db = 20 * np.log10(np.maximum(np.abs(h[:, start : start + len(f)]), 1e-300) / mask.g_ref)
        logf = np.log10(f)
        start += len(f)
        if kind == "pass":
            out["pass_min"] = np.minimum(out["pass_min"], _extreme(db, logf, -1.0))
            out["pass_max"] = np.maximum(out["pass_max"], _extreme(db, logf, 1.0))
        else:
            out["stop_max"] = np.maximum(out["stop_max"], _extreme(db, logf, 1.0))
    return out


def slacks_db(fig: dict[str, np.ndarray], mask: FilterMask) -> dict[str, np.ndarray]:
    """The slack of each figure (>= 0: within the mask); a mask without a passband or a stopband has no slack
    there (+inf)."""
    return {"pass_max": mask.ripple_db - fig["pass_max"], "pass_min": fig["pass_min"] + mask.ripple_db,
            "stop_max": -mask.attenuation_db - fig["stop_max"]}


def wilson_interval(passed: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial proportion passed / n.

    >>> [round(x, 4) for x in wilson_interval(95, 100)]
    [0.8882, 0.9785]
    """
    p = passed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class YieldReport:
    """The yield of a design under `tolerance`: the share of samples that meet the mask, its 95% Wilson interval,
    the worst sampled margin, and the parts most often blamed for a failure (name, failures)."""

    tolerance: Tolerance
    passed: int
    fraction: float
    ci95: tuple[float, float]
    worst_margin_db: float
    top_failing_parts: list[tuple[str, int]]
    margins_db: np.ndarray  # (samples,)
    factors: np.ndarray  # (samples, toleranced parts): the drawn multipliers

    def to_json(self) -> dict:
        t = self.tolerance
        return {"tolerance": {"R": t.r, "L": t.l, "C": t.c}, "distribution": t.distribution, "samples": t.samples,
                "seed": t.seed, "yield": self.fraction, "ci95": list(self.ci95),
                "worst_margin_db": self.worst_margin_db,
                "top_failing_parts": [{"name": n, "failures": k} for n, k in self.top_failing_parts]}


def sampled_values(circuit: Circuit, tol: Tolerance) -> tuple[np.ndarray, np.ndarray]:
    """(values (samples, E) of every element, factors (samples, parts) of the toleranced ones), from `tol.seed`."""
    comps = circuit.components()
    parts = toleranced(circuit)
    factors = sample_factors([comps[i].kind for i in parts], tol, np.random.default_rng(tol.seed))
    values = np.tile([c.value for c in comps], (tol.samples, 1))
    values[:, parts] *= factors
    return values, factors


def check_floor(mask: FilterMask) -> float:
    """The level, as a share of the peak gain, 20 dB below the mask's stopband limit: the factored sweep must match
    exact solves to 1e-9 relative above it, and to 1e-9 of it below (gains there cannot decide the margin). Deep
    notches of lossless band ladders, whose factored form is good to 1e-7 dB above -150 dB but not to 1e-9
    relative at -200 dB, then stay on the fast path."""
    return 10 ** (-(mask.attenuation_db + 20.0) / 20.0) * mask.g_ref


def margins_of_values(circuit: Circuit, mask: FilterMask, values: np.ndarray,
                      grids: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(margin (N,), slack of each figure) of `circuit` with each row of `values`, on `grids`."""
    h = sweep_values(circuit, values, np.concatenate([f for _, f in grids]), floor=check_floor(mask))
    slack = slacks_db(figures_db(h, grids, mask), mask)
    return np.minimum.reduce(list(slack.values())), slack


def _blame(circuit: Circuit, mask: FilterMask, grids, factors: np.ndarray, slack: dict[str, np.ndarray],
           failed: np.ndarray) -> list[tuple[str, int]]:
    """For each failed sample, the part whose deviation costs its failing figure the most (linearised at the
    nominal design by central differences), counted per part, most blamed first."""
    if not failed.any():
        return []
    comps = circuit.components()
    parts = toleranced(circuit)
    nominal = np.array([c.value for c in comps])
    steps = np.tile(nominal, (2 * len(parts), 1))
    for k, i in enumerate(parts):
        steps[2 * k, i] *= 1 + FD_STEP
        steps[2 * k + 1, i] *= 1 - FD_STEP
    _, fd = margins_of_values(circuit, mask, steps, grids)
    names = list(slack)
    grad = np.stack([(fd[n][0::2] - fd[n][1::2]) / (2 * FD_STEP) for n in names])  # (figures, parts) per ln v
    which = np.argmin(np.stack([slack[n] for n in names]), axis=0)[failed]  # the failing figure of each sample
    cost = -grad[which] * (factors[failed] - 1.0)  # margin lost to each part's deviation
    culprit = np.argmax(cost, axis=1)
    counts = np.bincount(culprit, minlength=len(parts))
    order = np.argsort(-counts, kind="stable")
    return [(comps[parts[j]].name, int(counts[j])) for j in order if counts[j] > 0][:5]


YIELD_BLOCK = 2048  # samples per task on an executor: whole chunks of `sweep_values` (256), so the same numbers


def tolerance_yield(circuit: Circuit, mask: FilterMask, tol: Tolerance, executor: Executor | None = None
                    ) -> YieldReport:
    """The yield of `circuit` (terminations included as RS/RL, which are not toleranced) against `mask`. With an
    `executor` (a Dask cluster's, `core.executors.dask_executor`), the samples are drawn here and verified there,
    YIELD_BLOCK at a time: the same report as in this process.

    An RC low-pass at fc = 1.59 kHz with a mask edge that 5% parts cross about half the time:

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    >>> m = FilterMask("lowpass", 1591.55, 1e6, 3.0103, 20.0)
    >>> r = tolerance_yield(rc, m, Tolerance(r=0.05, c=0.05, samples=2000, seed=1))
    >>> 0.4 < r.fraction < 0.6, r.top_failing_parts[0][0] in ("R1", "C1")
    (True, True)
    """
    if not toleranced(circuit):
        raise SpecificationError("the circuit has no part to tolerance (only the terminations RS and RL)")
    grids = band_grids(circuit, mask)
    values, factors = sampled_values(circuit, tol)
    blocks = [values[k : k + YIELD_BLOCK] for k in range(0, len(values), YIELD_BLOCK)]
    n = len(blocks)
    parts = list(mapped(margins_of_values, [circuit] * n, [mask] * n, blocks, [grids] * n, executor=executor))
    margin = np.concatenate([m for m, _ in parts])
    slack = {name: np.concatenate([sl[name] for _, sl in parts]) for name in parts[0][1]}
    passed = int((margin >= 0).sum())
    blamed = _blame(circuit, mask, grids, factors, slack, margin < 0)
    return YieldReport(tol, passed, passed / tol.samples, wilson_interval(passed, tol.samples), float(margin.min()),
                       blamed, margin, factors)
