"""The exact limits H(0) and H(infinity) of a circuit, from the s -> 0 and s -> infinity forms of its nodal
equations; never from an evaluation at a small or large frequency.

With node voltages as unknowns the nodal admittance is Y(s) = s C + G + Gamma / s, where C, G and Gamma are the
weighted Laplacians of the capacitors (weight C), the resistors (1/R) and the inductors (1/L); GND is held at 0
and VIN at 1. As s -> infinity the capacitors dominate, then the resistors, then the inductors; as s -> 0 the
order is reversed. The limit voltages follow level by level (a perturbation expansion of Y(s) v = 0 in 1/s or s):

1. on the dominant network, every connected cluster of unknown nodes that touches a known node has its voltages
   fixed by a Dirichlet solve of that network's Laplacian (a capacitive divider at infinity, say);
2. a cluster that touches no known node stays at one unknown common voltage, and is merged into one node;
3. the next network decides the merged nodes the same way, and so on.

A node set that floats at one level cannot be pulled by the lower-order terms of an earlier level, because those
terms vanish on it exactly (the Laplacian of a network annihilates the indicator of a set that has no edge of that
network leaving it); so the three solves give the limit exactly, up to the rounding of small dense solves, and
every null space is found from the graph, never by a numerical rank decision.
"""

from __future__ import annotations

import numpy as np

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit
from circuitlib.sim.mna import component_labels

_AT_INFINITY = ("C", "R", "L")  # admittance s C, 1 / R, 1 / (s L): the order in which they dominate as s grows
_AT_ZERO = ("L", "R", "C")


def _edges(circuit: Circuit, kind: str) -> list[tuple[int, int, float]]:
    """(a, b, weight) of every element of `kind`: C in farads, R and L as 1/R and 1/L."""
    field = {"R": "r_ohm", "L": "l_h", "C": "c_f"}[kind]
    out = []
    for (a, b), edge in circuit.edges.items():
        value = getattr(edge, field)
        if value is not None and a != b:
            out.append((a, b, value if kind == "C" else 1.0 / value))
    return out


def _components(groups: list[int], links: list[tuple[int, int]]) -> list[list[int]]:
    """Connected components of `groups` under `links` (pairs of groups)."""
    index = {g: i for i, g in enumerate(groups)}
    labels = component_labels(len(groups), [(index[a], index[b]) for a, b in links])
    out: dict[int, list[int]] = {}
    for g, label in zip(groups, labels):
        out.setdefault(label, []).append(g)
    return list(out.values())


def _level(group_of: dict[int, int], known: dict[int, float], edges: list[tuple[int, int, float]]) -> None:
    """One level: Dirichlet solves on the clusters of groups that touch a known node; the others merged. Updates
    `group_of` (unknown node -> group) and `known` (node -> voltage) in place."""
    rep = lambda n: ("k", n) if n in known else ("g", group_of[n])  # noqa: E731
    groups = sorted(set(group_of.values()))
    inner = [(rep(a)[1], rep(b)[1]) for a, b, _ in edges if rep(a)[0] == rep(b)[0] == "g" and rep(a) != rep(b)]
    touching = {rep(a if rep(a)[0] == "g" else b)[1] for a, b, _ in edges if {rep(a)[0], rep(b)[0]} == {"g", "k"}}
    for comp in _components(groups, inner):
        if not touching & set(comp):
            for n, g in group_of.items():  # floats at this level: one common voltage, decided further down
                if g in comp:
                    group_of[n] = comp[0]
            continue
        index = {g: i for i, g in enumerate(comp)}
        lap, rhs = np.zeros((len(comp), len(comp))), np.zeros(len(comp))
        for a, b, w in edges:
            ra, rb = rep(a), rep(b)
            for (x, y) in ((ra, rb), (rb, ra)):
                if x[0] == "g" and x[1] in index and x != y:
                    lap[index[x[1]], index[x[1]]] += w
                    if y[0] == "g":
                        lap[index[x[1]], index[y[1]]] -= w
                    else:
                        rhs[index[x[1]]] += w * known[y[1]]
        volts = np.linalg.solve(lap, rhs)
        for n in [n for n, g in group_of.items() if g in index]:
            known[n] = float(volts[index[group_of.pop(n)]])


def limit_gain(circuit: Circuit, at: str) -> float | None:
    """V(VOUT) / V(VIN) as s -> 0 (`at` "zero") or s -> infinity (`at` "infinity"), exactly; None when some node
    floats at every level (no element path to ground), so that the limit is not defined.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> divider = Circuit(0, {(1, 2): Edge(c_f=1e-9), (0, 2): Edge(c_f=3e-9, r_ohm=1e3)})  # C1 and C2 || R
    >>> limit_gain(divider, "zero"), limit_gain(divider, "infinity")  # R holds DC at 0; at infinity C1/(C1+C2)
    (0.0, 0.25)
    """
    order = {"zero": _AT_ZERO, "infinity": _AT_INFINITY}[at]
    known = {GND: 0.0, VIN: 1.0}
    group_of = {n: n for n in range(circuit.n_nodes) if n not in known}
    for kind in order:
        if group_of:
            _level(group_of, known, _edges(circuit, kind))
    return known.get(VOUT)
