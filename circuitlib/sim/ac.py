"""AC analysis of a circuit with either engine: the package's exact nodal solver or ngspice."""

from __future__ import annotations

from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SimulationError
from circuitlib.core.netlist import AcSweep
from circuitlib.sim import spice
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.sim.spice import AcResult

ENGINES = ("mna", "ngspice")


def simulate(circuit: Circuit, sweep: AcSweep = AcSweep(), engine: str = "mna") -> AcResult:
    """H = V(vout) / V(vin) over an `.ac` sweep: `engine` "mna" (exact nodal solves) or "ngspice".

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})
    >>> result = simulate(rc, AcSweep("dec", 1, 1.0, 1e4))
    >>> abs(result.h).round(4).tolist()  # 1 Hz to 10 kHz; the cutoff 1/(2 pi R C) is 159.15 Hz
    [1.0, 0.998, 0.8467, 0.1572, 0.0159]
    """
    if engine == "ngspice":
        return spice.simulate(circuit, sweep)
    if engine != "mna":
        raise SimulationError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    f_hz = sweep.frequencies_hz()
    return AcResult(f_hz, response_hz(pencil(circuit), f_hz))
