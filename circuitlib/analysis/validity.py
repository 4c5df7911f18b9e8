"""Validity: every rule a circuit must meet before its figures mean anything.

The structural rules (no self-loops, every node grounded, the output reachable, values in their practical
ranges) need no simulation and live with the circuit type; the electrical ones (a non-singular nodal matrix
at the test frequencies and on the jw axis, a transfer function that is not constant) need the pencil.
"""

from __future__ import annotations

from circuitlib.core.circuit import BLOCKING, Circuit, Problem, structural_problems
from circuitlib.sim.mna import electrical_problems


def problems(circuit: Circuit) -> list[Problem]:
    """Every validity rule; an empty list means valid.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> problems(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)}))
    []
    >>> [p.code for p in problems(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(r_ohm=1e3)}))]
    ['constant_transfer']
    """
    found = structural_problems(circuit)
    if any(p.code in BLOCKING for p in found):
        return found
    return found + electrical_problems(circuit)
