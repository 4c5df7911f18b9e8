"""Tolerance yield of an (f, Q) design: how often a build with toleranced parts still has its f and q within
`within` (relative) of the specification.

The parts are drawn as for a mask (`analysis.tolerance`: normal with sigma = tol / 3 truncated at +-tol, or
uniform), and each sample's figures are measured by the definitions themselves (`analysis.spec.achieved`: root
finding on the exact response, poles from the eigenvalues), 1.5-3 ms a sample for the 3-part designs: a figure is
a crossing or a pole, not a value on a shared grid, so samples are measured one by one rather than in a batch. A
sample whose figure is absent (its response class changed) fails.

A failing sample is put down to the part whose deviation, times the figure's sensitivity to it
(`analysis.spec_sensitivity`, by autograd), moves the failing figure furthest in the direction it failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from circuitlib.analysis.spec import Specification, achieved
from circuitlib.analysis.spec_sensitivity import figure_sensitivity
from circuitlib.analysis.tolerance import Tolerance, sampled_values, toleranced, wilson_interval
from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SpecificationError


@dataclass(frozen=True)
class SpecYieldReport:
    """The share of samples whose f and q are within `within` of the specification, its 95% Wilson interval, the
    largest sampled error, and the parts most often blamed for a failure (name, failures)."""

    tolerance: Tolerance
    within: float
    passed: int
    fraction: float
    ci95: tuple[float, float]
    worst_error: float  # the largest max(f error, q error) of any sample; inf when a sample lost a figure
    top_failing_parts: list[tuple[str, int]]
    errors: np.ndarray  # (samples,) each sample's max(f error, q error), inf where a figure is absent
    factors: np.ndarray  # (samples, toleranced parts)

    def to_json(self) -> dict:
        t = self.tolerance
        return {"tolerance": {"R": t.r, "L": t.l, "C": t.c}, "distribution": t.distribution, "samples": t.samples,
                "seed": t.seed, "within": self.within, "yield": self.fraction, "ci95": list(self.ci95),
                "worst_margin_db": None, "worst_error": self.worst_error if math.isfinite(self.worst_error) else None,
                "top_failing_parts": [{"name": n, "failures": k} for n, k in self.top_failing_parts],
                "null_reasons": {"worst_margin_db": "an (f, Q) specification has no dB margin: worst_error is the "
                                                    "largest relative error of f or q"}
                | ({} if math.isfinite(self.worst_error) else
                   {"worst_error": "a sample lost a figure (its response class changed)"})}


def sample_errors(circuit: Circuit, spec: Specification, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(signed relative error of f, of q) per row of `values`: (got - target) / target, nan where absent (q's is 0
    when the specification has no q)."""
    f_err, q_err = np.full(len(values), np.nan), np.zeros(len(values))
    for k, row in enumerate(values):
        got = achieved(circuit.with_values(row), spec)
        if got.f_hz is not None:
            f_err[k] = got.f_hz / spec.f_hz - 1.0
        if spec.q is not None:
            q_err[k] = np.nan if got.q is None else got.q / spec.q - 1.0
    return f_err, q_err


def _blame(circuit: Circuit, spec: Specification, factors: np.ndarray, f_err: np.ndarray, q_err: np.ndarray,
           failed: np.ndarray) -> list[tuple[str, int]]:
    """For each failed sample with both figures present, the part whose deviation moves its worse figure furthest
    the way it erred (first order in the normalised sensitivities), counted per part, most blamed first."""
    present = failed & np.isfinite(f_err) & np.isfinite(q_err)
    if not present.any():
        return []
    comps = circuit.components()
    parts = toleranced(circuit)
    sens = figure_sensitivity(circuit, spec)
    s_f = np.array([sens[i].f or 0.0 for i in parts])
    s_q = np.array([sens[i].q or 0.0 for i in parts])
    f, q = f_err[present], q_err[present]
    by_q = np.abs(q) > np.abs(f)
    s = np.where(by_q[:, None], s_q[None, :], s_f[None, :])
    direction = np.sign(np.where(by_q, q, f))
    push = s * np.log(factors[present]) * direction[:, None]  # each part's share of the error, in its direction
    counts = np.bincount(np.argmax(push, axis=1), minlength=len(parts))
    order = np.argsort(-counts, kind="stable")
    return [(comps[parts[j]].name, int(counts[j])) for j in order if counts[j] > 0][:5]


def spec_yield(circuit: Circuit, spec: Specification, tol: Tolerance, within: float) -> SpecYieldReport:
    """The yield of `circuit` against `spec` under `tol`: the share of samples with f and q within `within`.

    An RC low-pass at fc = 1/(2 pi R C) = 1591.5 Hz with 5% parts: fc moves by -(dR/R + dC/C), whose sigma is
    sqrt(2) 5%/3 = 2.4%, so about 96% of the samples are within 5% of nominal and about a third within 1%.

    >>> from circuitlib.core.circuit import Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    >>> spec, tol = Specification("lowpass", 1591.549), Tolerance(r=0.05, c=0.05, samples=400, seed=1)
    >>> round(spec_yield(rc, spec, tol, 0.05).fraction, 2), round(spec_yield(rc, spec, tol, 0.01).fraction, 2)
    (0.96, 0.35)
    """
    if not (isinstance(within, (int, float)) and 0 < within < 1):
        raise SpecificationError(f"within must be a fraction between 0 and 1 (0.05 is 5%), not {within!r}")
    if not toleranced(circuit):
        raise SpecificationError("the circuit has no part to tolerance")
    values, factors = sampled_values(circuit, tol)
    f_err, q_err = sample_errors(circuit, spec, values)
    worst = np.where(np.isfinite(f_err) & np.isfinite(q_err), np.maximum(np.abs(f_err), np.abs(q_err)), np.inf)
    passed = int((worst <= within).sum())
    return SpecYieldReport(tol, within, passed, passed / tol.samples, wilson_interval(passed, tol.samples),
                           float(worst.max()), _blame(circuit, spec, factors, f_err, q_err, worst > within),
                           worst, factors)


__all__ = ["SpecYieldReport", "spec_yield", "sample_errors"]
