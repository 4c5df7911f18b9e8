"""The nodal solver against a 60-digit solve of the same equations on a badly scaled circuit."""

import mpmath
import numpy as np
import pytest

from circuitlib.core.netlist import parse_netlist
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.sim.sweep import sweep_hz

# Drawn at random by notebook 01 (circuit c0018875 of the 100,000 run): at 1 Hz the 6 uH and 61 uH inductors
# short their nodes while the 7 uF and 0.33 nF capacitors are open, so the nodal matrix spans ~12 decades.
BADLY_SCALED = """* badly scaled
VIN vin 0 DC 0 AC 1
R1 0 n3 17.052395107732213
L1 0 n3 6.135505146800725e-05
R2 vin n3 681.7363631963142
C1 vin n3 1.7517078021445037e-08
C2 vout n3 3.3145524029841363e-10
R3 vout n4 696.9040665116254
L2 vout n4 1.1059913656342384e-05
C3 vout n4 7.089224069401509e-06
R4 n4 n5 26.45285731079688
L3 n4 n5 6.516865563325196e-06
.end
"""


def h_60_digits(p, f_hz: float) -> complex:
    """H(j 2 pi f) from the same pencil, solved in 60-digit arithmetic."""
    with mpmath.workdps(60):
        s = 2j * mpmath.pi * f_hz
        a = mpmath.matrix(p.G.tolist()) + s * mpmath.matrix(p.C.tolist())
        x = mpmath.lu_solve(a, mpmath.matrix(p.b0.tolist()) + s * mpmath.matrix(p.b1.tolist()))
        return complex(sum(x[i] * p.c[i] for i in range(len(p.c))))


@pytest.mark.parametrize("f_hz", [1.0, 10.0, 1e3, 1e6])
def test_response_matches_a_60_digit_solve_on_a_badly_scaled_circuit(f_hz):
    p = pencil(parse_netlist(BADLY_SCALED, "vout").circuit)
    exact = h_60_digits(p, f_hz)
    assert abs(response_hz(p, np.array([f_hz]))[0] - exact) <= 1e-10 * abs(exact)


def test_the_fast_sweep_matches_it_too():
    circuit = parse_netlist(BADLY_SCALED, "vout").circuit
    f_hz = np.array([1.0, 10.0, 1e3, 1e6])
    exact = np.array([h_60_digits(pencil(circuit), f) for f in f_hz])
    assert np.all(np.abs(sweep_hz([circuit], f_hz)[0] - exact) <= 1e-8 * np.abs(exact))
