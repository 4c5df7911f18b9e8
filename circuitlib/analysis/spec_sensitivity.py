"""Sensitivity of an (f, Q) design's figures to each part, by autograd through the differentiable nodal solver.

The normalised sensitivity of a figure F to part x is S = d ln F / d ln x: the percent change of F per percent
change of x (the classical definition; a series RLC band-pass has S_L(f0) = S_C(f0) = -1/2 and S_R(Q) = -1).
Each figure of the definitions page is an implicit function of the part values, differentiated exactly:

- a -3 dB frequency f* (fc, and the band edges f_lo, f_hi that give f0 = sqrt(f_lo f_hi) and Q = f0 / (f_hi - f_lo))
  solves ln|H(f*, x)| = ln(level(x)), so d ln f* / d ln x = -(x dF/dx) / (dF/d ln f) with F = ln|H| - ln level,
  both partial derivatives by autograd. The level is the reference limit (|H| far below or above the band, where it
  has converged to the limit to 1e-12) or the band's peak, whose frequency is held fixed (an extremum: the envelope
  theorem);
- a pole pair p1, p2 of H is a pair of generalised eigenvalues of (G + p C) v = 0. With orthonormal bases Q1, Z1 of
  its left and right deflating subspaces (QZ decompositions, reordered), the 2x2 pencil Q1^T (G + p C) Z1 has the
  same pair, and to first order in the values it moves as they do; autograd differentiates its symmetric functions a0 = p1 p2 and
  a1 = -(p1 + p2), so the pole Q sqrt(a0) / a1 (|p| / (2 |Re p|) for a conjugate pair) has a derivative even through
  a double pole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.optimize import minimize_scalar

from circuitlib.analysis.measure import measure
from circuitlib.analysis.spec import Specification, achieved
from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SpecificationError
from circuitlib.core.records import BAND_RESPONSES
from circuitlib.sim import stamping
from circuitlib.sim.mna import pencil, poles_zeros, response_hz

LIMIT_DECADES = 6.0  # the reference limit is read this far beyond the figure: |H| there is the limit to ~1e-12


@dataclass(frozen=True)
class FigureSensitivity:
    """d ln f / d ln x and d ln q / d ln x of one part (percent per percent); None where the figure is absent."""

    name: str
    kind: str
    value: float
    f: float | None
    q: float | None

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "value": self.value, "d_f_pct_per_pct": self.f,
                "d_q_pct_per_pct": self.q}


class _Solver:
    """ln|H| of one circuit as a differentiable function of its element values and of ln f."""

    def __init__(self, circuit: Circuit):
        import torch

        self.torch = torch
        self.st = stamping.stamp([circuit])
        self.values = np.asarray(self.st.values, dtype=float)

    def partials(self, f_hz: float) -> tuple[np.ndarray, float]:
        """(x d ln|H| / dx per element, d ln|H| / d ln f) at f_hz."""
        from circuitlib.sim.differentiable import batch_response, torch_matrices

        torch = self.torch
        values = torch.tensor(self.values, dtype=torch.float64, requires_grad=True)
        log_f = torch.tensor([math.log(f_hz)], dtype=torch.float64, requires_grad=True)
        h = batch_response(*torch_matrices(self.st, values), 2 * math.pi * torch.exp(log_f))[0, 0]
        gv, gf = torch.autograd.grad(torch.log(h.abs()), [values, log_f])
        return (gv * values).detach().numpy(), float(gf)

    def crossing(self, f_hz: float, level_at_hz: float) -> np.ndarray:
        """d ln f* / d ln x of the crossing f* = f_hz of the level |H(level_at_hz)| / sqrt 2."""
        dx, df = self.partials(f_hz)
        dlevel, _ = self.partials(level_at_hz)
        return -(dx - dlevel) / df

    def pole_pair(self, pair: tuple[complex, complex]) -> tuple[np.ndarray, np.ndarray]:
        """(d ln q, d ln w0) per element of the pole pair p1, p2 (rad/s): a conjugate pair or two real poles, whose
        s^2 + a1 s + a0 = (s - p1)(s - p2) gives q = sqrt(a0) / a1 and w0 = sqrt(a0)."""
        from circuitlib.sim.differentiable import torch_matrices

        torch = self.torch
        g, c = (m[0] for m in stamping.matrices(self.st)[:2])
        scale = max(abs(pair[0]), abs(pair[1]))

        def chosen(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
            lam = np.divide(alpha, beta, out=np.full(len(alpha), np.inf, complex), where=beta != 0)
            return np.min([np.abs(lam - p) for p in pair], axis=0) < 1e-6 * scale

        right = scipy.linalg.ordqz(g, -c, sort=chosen, output="complex")[-1][:, :2]
        left = scipy.linalg.ordqz(g.T, -c.T, sort=chosen, output="complex")[-1][:, :2]  # w^T (G + p C) = 0
        q1, z1 = torch.as_tensor(left.T), torch.as_tensor(right)
        values = torch.tensor(self.values, dtype=torch.float64, requires_grad=True)
        gt, ct = (m[0].to(torch.complex128) for m in torch_matrices(self.st, values)[:2])
        a, b = q1 @ gt @ z1, -(q1 @ ct @ z1)  # the pair's 2x2 pencil: exact to first order in the values
        det = lambda m: m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]  # noqa: E731
        a0 = (det(a) / det(b)).real  # p1 p2
        a1 = -(a[0, 0] * b[1, 1] + a[1, 1] * b[0, 0] - a[0, 1] * b[1, 0] - a[1, 0] * b[0, 1]).real / det(b).real
        log_w0 = 0.5 * torch.log(a0)
        d_w0, = torch.autograd.grad(log_w0, values, retain_graph=True)
        d_q, = torch.autograd.grad(log_w0 - torch.log(a1), values)
        return (d_q * values).detach().numpy(), (d_w0 * values).detach().numpy()


def _pole_q(solver: _Solver, circuit: Circuit) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(d ln q_pole, d ln natural frequency) per element for the pole pair `measure.pole_q` reads: the highest-Q
    complex pair, or a second-order circuit's two real poles. Through a double pole (q = 1/2), where the poles
    themselves have no derivative, a0 and a1 still do."""
    poles = poles_zeros(circuit).poles
    pairs = [p for p in poles if p.imag > 0]
    if pairs:
        p = max(pairs, key=lambda z: abs(z) / (2 * abs(z.real)) if z.real else math.inf)
        return (None, None) if p.real == 0 else solver.pole_pair((p, p.conjugate()))
    if len(poles) == 2 and all(p.real != 0 for p in poles):
        return solver.pole_pair((complex(poles[0]), complex(poles[1])))
    return None, None


def _peak_hz(circuit: Circuit, f_lo: float, f_hi: float, maximum: bool) -> float:
    """The frequency of the largest (or smallest) |H| between f_lo and f_hi, refined on the exact response."""
    p = pencil(circuit)
    sign = -1.0 if maximum else 1.0
    res = minimize_scalar(lambda lf: sign * abs(response_hz(p, np.array([10.0 ** lf]))[0]),
                          bounds=(math.log10(f_lo), math.log10(f_hi)), method="bounded", options={"xatol": 1e-12})
    return 10.0 ** res.x


def _band(solver: _Solver, circuit: Circuit, response: str, f0: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(d ln f0, d ln Q) per element of a band response, from its two -3 dB edges."""
    f_hi = f0 * (math.sqrt(1 + 1 / (4 * q * q)) + 1 / (2 * q))
    f_lo = f0 * f0 / f_hi
    if response == "bandpass":
        ref_hz = _peak_hz(circuit, f_lo, f_hi, maximum=True)
    else:  # the smaller of the two limits, read far from the notch
        far = (f_lo / 10 ** LIMIT_DECADES, f_hi * 10 ** LIMIT_DECADES)
        ref_hz = min(far, key=lambda f: abs(response_hz(pencil(circuit), np.array([f]))[0]))
    d_lo, d_hi = solver.crossing(f_lo, ref_hz), solver.crossing(f_hi, ref_hz)
    d_f0 = 0.5 * (d_lo + d_hi)
    return d_f0, d_f0 - (f_hi * d_hi - f_lo * d_lo) / (f_hi - f_lo)


def figure_sensitivity(circuit: Circuit, spec: Specification) -> list[FigureSensitivity]:
    """The normalised sensitivities of the figures `spec` reads (f, and q where specified) to every part.

    A series RLC band-pass (L = 10 mH, C = 100 nF, output across R = 100 ohm): f0 = 1 / (2 pi sqrt(L C)) and
    Q = sqrt(L / C) / R, so S_L(f0) = S_C(f0) = -1/2, S_R(f0) = 0, S_L(Q) = 1/2, S_C(Q) = -1/2 and S_R(Q) = -1.

    >>> from circuitlib.core.circuit import Edge
    >>> rlc = Circuit(1, {(1, 3): Edge(l_h=10e-3), (2, 3): Edge(c_f=100e-9), (0, 2): Edge(r_ohm=100.0)})
    >>> [(s.name, round(s.f, 6) + 0, round(s.q, 6) + 0) for s in figure_sensitivity(rlc, Specification("bandpass", 5e3, 3))]
    [('R1', 0.0, -1.0), ('L1', -0.5, 0.5), ('C1', -0.5, -0.5)]
    """
    m = measure(circuit)
    got = achieved(circuit, spec, m)
    if got.f_hz is None:
        raise SpecificationError(f"no sensitivity: the design's figures are absent ({got.reason})")
    solver = _Solver(circuit)
    d_f = d_q = None
    if spec.response == "any":
        d_q, d_f = _pole_q(solver, circuit)
    elif spec.response in BAND_RESPONSES:
        d_f, d_q = _band(solver, circuit, spec.response, got.f_hz, got.q)
    else:
        ref_hz = got.f_hz / 10 ** LIMIT_DECADES if spec.response == "lowpass" else got.f_hz * 10 ** LIMIT_DECADES
        d_f = solver.crossing(got.f_hz, ref_hz)
        d_q, _ = _pole_q(solver, circuit) if got.q is not None else (None, None)
    if spec.q is None:
        d_q = None
    return [FigureSensitivity(c.name, c.kind, c.value, None if d_f is None else float(d_f[i]),
                              None if d_q is None else float(d_q[i])) for i, c in enumerate(circuit.components())]


def finite_difference(circuit: Circuit, spec: Specification, name: str,
                      rel_step: float = 1e-6) -> tuple[float | None, float | None]:
    """The check of `figure_sensitivity` for part `name`: (d ln f, d ln q) / d ln x by central differences of the
    figures as `measure` finds them (root finding on the exact response, poles from the eigenvalues).

    >>> from circuitlib.core.circuit import Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # fc = 1 / (2 pi R C)
    >>> round(finite_difference(rc, Specification("lowpass", 1591.5), "R1")[0], 6)
    -1.0
    """
    def figures(k: float) -> tuple[float | None, float | None]:
        values = [c.value * (k if c.name == name else 1.0) for c in circuit.components()]
        got = achieved(circuit.with_values(values), spec)
        return got.f_hz, got.q

    (f1, q1), (f0, q0) = figures(1 + rel_step), figures(1 - rel_step)
    step = math.log((1 + rel_step) / (1 - rel_step))
    slope = lambda a, b: None if a is None or b is None else (math.log(a) - math.log(b)) / step  # noqa: E731
    return slope(f1, f0), slope(q1, q0) if spec.q is not None else None
