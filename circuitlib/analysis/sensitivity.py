"""Sensitivity of a design's mask margin to each of its parts, by autograd through the differentiable nodal solver.

The margin is the smallest slack of three figures (worst passband gains, worst stopband gain), each an extremum of
the gain over its band. At an extremum inside a band the gain's derivative in frequency is zero, so the figure's
derivative with respect to a part is the gain's derivative at the extremum's frequency (the envelope theorem), and
at a band edge it is that too. The normalised sensitivity of the margin to part x is d margin_dB / d ln x: the dB of
margin gained per unit relative change of x; reported per 1% (divided by 100).

Where several extrema tie (the troughs of an equiripple passband), the margin is their minimum and is not smooth:
the figure is then the sensitivity at the extremum that the verification reports, and the margin's one-sided
derivatives can differ from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from circuitlib.analysis.mask import BEYOND_DECADES, FilterMask, MaskReport, verify
from circuitlib.core.circuit import Circuit
from circuitlib.sim import stamping
from circuitlib.sim.mna import pencil, response_hz

FIXED = ("RS", "RL")  # the terminations, which the mask gives: no sensitivity reported


@dataclass(frozen=True)
class PartSensitivity:
    """d margin_dB / d(x / x0) per 1% for one part, and the figure the margin comes from."""

    name: str
    kind: str
    value: float
    d_margin_db_per_pct: float
    figure: str  # "pass_min", "pass_max" or "stop_max"

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "value": self.value,
                "d_margin_db_per_pct": self.d_margin_db_per_pct, "figure": self.figure}


def _finite_frequency(f_hz: float, mask: FilterMask) -> float:
    """An exact limit's frequency (0 or inf) replaced by the verification grid's far end."""
    edges = np.atleast_1d(mask.passband_hz).tolist() + np.atleast_1d(mask.stopband_hz).tolist()
    if f_hz == 0:
        return min(edges) / 10 ** BEYOND_DECADES
    if math.isinf(f_hz):
        return max(edges) * 10 ** BEYOND_DECADES
    return f_hz


def margin_sensitivity(circuit: Circuit, mask: FilterMask, report: MaskReport | None = None) -> list[PartSensitivity]:
    """The normalised sensitivity of the mask margin to every filter part (RS and RL excluded), by autograd.

    An RC low-pass whose passband edge decides the margin: there |H|^2 = 1 / (1 + (w R C)^2), so the gain in dB
    falls by d/d ln R = -20 (wRC)^2 / (1 + (wRC)^2) / ln 10, -4.34 dB at the cutoff (per 1%: -0.0434), the same for C.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    >>> s = margin_sensitivity(rc, FilterMask("lowpass", 1591.549, 1e6, 3.5, 20.0))
    >>> [(p.name, round(p.d_margin_db_per_pct, 4), p.figure) for p in s]
    [('C1', -0.0434, 'pass_min'), ('R1', -0.0434, 'pass_min')]
    """
    import torch

    from circuitlib.sim.differentiable import batch_response, torch_matrices

    report = report or verify(circuit, mask)
    f_hz = _finite_frequency({"pass_min": report.pass_min_hz, "pass_max": report.pass_max_hz,
                              "stop_max": report.stop_max_hz}[report.decisive], mask)
    st = stamping.stamp([circuit])
    values = torch.tensor(st.values, dtype=torch.float64, requires_grad=True)
    h = batch_response(*torch_matrices(st, values), torch.tensor([2 * math.pi * f_hz], dtype=torch.float64))[0, 0]
    db = 20 * torch.log10(h.abs() / mask.g_ref)
    db.backward()
    sign = 1.0 if report.decisive == "pass_min" else -1.0  # slack = db + ripple, or -db - (ripple or attenuation)
    per_ln = sign * (values.grad * values).detach().numpy()
    return [PartSensitivity(c.name, c.kind, c.value, float(per_ln[i]) / 100.0, report.decisive)
            for i, c in enumerate(circuit.components()) if c.name not in FIXED]


def finite_difference(circuit: Circuit, mask: FilterMask, report: MaskReport, name: str,
                      rel_step: float = 1e-5) -> float:
    """The check of `margin_sensitivity` for part `name`: d slack / d ln x per 1%, by a forward difference of the
    exact gain at the frequency of the figure that decides the margin (held fixed, as the envelope theorem allows).

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    >>> m = FilterMask("lowpass", 1591.549, 1e6, 3.5, 20.0)
    >>> round(finite_difference(rc, m, verify(rc, m), "R1"), 4)
    -0.0434
    """
    f_hz = _finite_frequency({"pass_min": report.pass_min_hz, "pass_max": report.pass_max_hz,
                              "stop_max": report.stop_max_hz}[report.decisive], mask)
    gain_db = lambda c: 20 * math.log10(abs(response_hz(pencil(c), np.array([f_hz]))[0]))  # noqa: E731
    values = [c.value * (1 + rel_step if c.name == name else 1) for c in circuit.components()]
    sign = 1.0 if report.decisive == "pass_min" else -1.0
    return sign * (gain_db(circuit.with_values(values)) - gain_db(circuit)) / (100 * rel_step)
