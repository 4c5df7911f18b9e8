"""The exact limits H(0) and H(infinity), from the s -> 0 and s -> infinity forms of the nodal equations, against
closed forms and against sympy's exact limits of the symbolic nodal equations (values as exact rationals)."""

from fractions import Fraction

import pytest
import sympy as sp

from circuitlib.analysis.measure import measure
from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge
from circuitlib.learn import dataset
from circuitlib.synthesis import families as fam
from circuitlib.sim.limits import limit_gain

S = sp.symbols("s")

# dataset record c0001236 (seed 0): a random topology labelled lowpass while its gain returns to 0 dB near 1e10 Hz
C0001236 = Circuit(3, {
    (0, 3): Edge(l_h=1.196494376899099e-06), (0, 5): Edge(l_h=0.0044841289532345065),
    (1, 5): Edge(r_ohm=371117.11342810054, l_h=0.2653185927786765), (2, 3): Edge(l_h=0.8108991948986544),
    (2, 5): Edge(r_ohm=27.417695826126522, l_h=7.685871606084492e-06), (3, 4): Edge(c_f=3.9190377607446017e-07),
    (3, 5): Edge(r_ohm=82.69502517606459, c_f=3.5940539032207386e-09)})


def sympy_limits(circuit: Circuit) -> tuple[float, float]:
    """Exact limits of V(VOUT) from the symbolic nodal admittance Y(s) = sC + G + Gamma/s (rational values)."""
    unknown = [n for n in range(circuit.n_nodes) if n not in (GND, VIN)]
    index = {n: i for i, n in enumerate(unknown)}
    y = sp.zeros(len(unknown), len(unknown))
    rhs = sp.zeros(len(unknown), 1)
    for (a, b), e in circuit.edges.items():
        exact = lambda v: sp.Rational(Fraction(v))  # noqa: E731 - the float's exact value
        adm = sp.Integer(0)
        if e.c_f is not None:
            adm += exact(e.c_f) * S
        if e.r_ohm is not None:
            adm += 1 / exact(e.r_ohm)
        if e.l_h is not None:
            adm += 1 / (exact(e.l_h) * S)
        for x, other in ((a, b), (b, a)):
            if x in index:
                y[index[x], index[x]] += adm
                if other in index:
                    y[index[x], index[other]] -= adm
                elif other == VIN:
                    rhs[index[x]] += adm
    num, den = (sp.Poly(part, S) for part in sp.fraction(sp.cancel(sp.together(y.LUsolve(rhs)[index[VOUT]]))))
    low = lambda p: min(m[0] for m in p.monoms())  # noqa: E731 - the lowest power present
    h0 = 0.0 if low(num) > low(den) else float(num.coeff_monomial(S ** low(num)) / den.coeff_monomial(S ** low(den)))
    hinf = 0.0 if num.degree() < den.degree() else float(num.LC() / den.LC())
    return abs(h0), abs(hinf)


CLOSED_FORMS = [
    (Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)}), 1.0, 0.0),  # RC low-pass
    (Circuit(0, {(1, 2): Edge(c_f=1e-6), (0, 2): Edge(r_ohm=1e3)}), 0.0, 1.0),  # CR high-pass
    (Circuit(0, {(1, 2): Edge(c_f=1e-9), (0, 2): Edge(c_f=3e-9, r_ohm=1e3)}), 0.0, 0.25),  # capacitive divider
    (Circuit(0, {(1, 2): Edge(l_h=3e-3), (0, 2): Edge(l_h=1e-3, r_ohm=1e3)}), 0.25, 0.0),  # inductive divider
    (Circuit(1, {(1, 3): Edge(l_h=1e-2), (2, 3): Edge(c_f=1e-7), (0, 2): Edge(r_ohm=1e2)}), 0.0, 0.0),  # band-pass
    (Circuit(1, {(1, 2): Edge(r_ohm=5e2), (2, 3): Edge(l_h=0.1), (0, 3): Edge(c_f=1e-7)}), 1.0, 1.0),  # notch
    # limits reached only far outside any sweep: a shelf that returns to 0 dB above 1e10 Hz ...
    (Circuit(1, {(1, 2): Edge(r_ohm=1e3), (2, 3): Edge(r_ohm=10.0), (0, 3): Edge(l_h=1e-8)}), 10 / 1010, 1.0),
    # ... and one that returns to 0 dB below 0.02 Hz
    (Circuit(1, {(1, 2): Edge(r_ohm=1e3), (2, 3): Edge(c_f=1e-2), (0, 3): Edge(r_ohm=10.0)}), 1.0, 10 / 1010),
]


@pytest.mark.parametrize("circuit, h0, hinf", CLOSED_FORMS)
def test_limits_equal_their_closed_forms(circuit, h0, hinf):
    assert limit_gain(circuit, "zero") == pytest.approx(h0, rel=1e-12, abs=1e-15)
    assert limit_gain(circuit, "infinity") == pytest.approx(hinf, rel=1e-12, abs=1e-15)


def test_the_issues_record_is_a_bandstop_whose_gain_returns_above_1e10_hz():
    assert limit_gain(C0001236, "infinity") == pytest.approx(1.0, rel=1e-9)
    assert limit_gain(C0001236, "zero") == pytest.approx(0.016529983385124, rel=1e-9)
    assert sympy_limits(C0001236) == pytest.approx((0.016529983385124, 1.0), rel=1e-9)
    assert measure(C0001236).response == "bandstop"


def _dataset_circuits(n: int) -> list[Circuit]:
    cfg = dataset.DatasetConfig(n_circuits=n, seed=11, workers=1)
    return [d[1] for d in (dataset.draw(i, cfg) for i in range(n)) if d is not None]


@pytest.mark.parametrize("circuit", _dataset_circuits(40))
def test_limits_equal_sympys_exact_limits(circuit):
    h0, hinf = sympy_limits(circuit)
    assert limit_gain(circuit, "zero") == pytest.approx(h0, rel=1e-9, abs=1e-14)
    assert limit_gain(circuit, "infinity") == pytest.approx(hinf, rel=1e-9, abs=1e-14)


def test_a_floating_output_has_no_limit():
    assert limit_gain(Circuit(1, {(1, 3): Edge(r_ohm=1.0), (0, 3): Edge(r_ohm=1.0)}), "zero") is None


def test_a_ladder_whose_float_stamped_pencil_rolls_off_still_passes_at_infinity():
    """A Bessel high-pass (series C, shunt L): the capacitor Laplacian's float diagonal C1 + C2 is rounded, which
    gives the float pencil a spurious pole near 1e19 rad/s; the limit comes from the graph and stays exactly 1."""
    ladder = fam.ladder("bessel", 5, True, fam.Target(1e3, 1.0, 237.0, 5))
    assert limit_gain(ladder, "infinity") == pytest.approx(1.0, rel=1e-12)
    assert limit_gain(ladder, "zero") == 0.0
