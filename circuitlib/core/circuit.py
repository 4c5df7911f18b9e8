"""The circuit data type and its structural validation.

A circuit has the nodes GND (0), VIN (1), VOUT (2) and internal nodes 3, 4, ...
VIN is driven by an ideal 1 V AC source; the output is the unloaded voltage of VOUT.
Each unordered node pair carries at most one edge: a parallel combination of at
most one R, one L and one C, which gives the 8 edge classes of records.EDGE_CLASSES.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field


GND, VIN, VOUT = 0, 1, 2

# Practical value ranges of a valid circuit.
R_RANGE_OHM = (1.0, 10e6)
L_RANGE_H = (1e-9, 10.0)
C_RANGE_F = (1e-12, 10e-3)


@dataclass(frozen=True)
class Edge:
    """A parallel combination of at most one resistor, inductor and capacitor."""

    r_ohm: float | None = None
    l_h: float | None = None
    c_f: float | None = None

    @property
    def edge_class(self) -> str:
        name = ("R" if self.r_ohm is not None else "") + ("L" if self.l_h is not None else "")
        name += "C" if self.c_f is not None else ""
        return name or "none"

    def parts(self) -> list[tuple[str, float]]:
        """The present components as (kind, value) with kind in R, L, C."""
        out = [("R", self.r_ohm), ("L", self.l_h), ("C", self.c_f)]
        return [(k, v) for k, v in out if v is not None]


@dataclass(frozen=True)
class Component:
    """One element of the circuit, named as in its netlist (R1, L2, C1, ...)."""

    name: str
    kind: str
    node_a: int
    node_b: int
    value: float


@dataclass(frozen=True)
class Problem:
    """A named reason why a circuit is not valid."""

    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass
class Circuit:
    """Nodes GND (0), VIN (1), VOUT (2) plus `n_internal` internal nodes (3, 4, ...); edges keyed by node pairs
    (a, b) with a <= b, each a parallel combination of at most one R, L and C.

    >>> rc = Circuit(0, {(2, 1): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    >>> sorted(rc.edges), [c.name for c in rc.components()]
    ([(0, 2), (1, 2)], ['C1', 'R1'])
    """

    n_internal: int = 0
    edges: dict[tuple[int, int], Edge] = field(default_factory=dict)
    names: dict[tuple[int, int, str], str] = field(default_factory=dict)  # (a, b, kind) -> a fixed name: "RS", "RL"

    def __post_init__(self) -> None:
        self.edges = {(min(a, b), max(a, b)): e for (a, b), e in self.edges.items()}
        self.names = {(min(a, b), max(a, b), kind): name for (a, b, kind), name in self.names.items()}

    @property
    def n_nodes(self) -> int:
        return 3 + self.n_internal

    @staticmethod
    def node_name(node: int) -> str:
        return {GND: "0", VIN: "vin", VOUT: "vout"}.get(node, f"n{node}")

    def components(self) -> list[Component]:
        """All elements in a fixed order (sorted edges, then R, L, C), numbered per kind; an element with a fixed
        name (`names`, such as the terminations RS and RL) keeps it and takes no number."""
        counters = {"R": 0, "L": 0, "C": 0}
        out = []
        for (a, b) in sorted(self.edges):
            for kind, value in self.edges[(a, b)].parts():
                name = self.names.get((a, b, kind))
                if name is None:
                    counters[kind] += 1
                    name = f"{kind}{counters[kind]}"
                out.append(Component(name, kind, a, b, float(value)))
        return out

    def with_values(self, values) -> Circuit:
        """The same circuit with `values` (SI units, one per element in `components()` order) as element values;
        names are kept.

        >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
        >>> [(c.name, c.value) for c in rc.with_values([2e-7, 500.0]).components()]
        [('C1', 2e-07), ('R1', 500.0)]
        """
        comps = self.components()
        if len(values) != len(comps):
            raise ValueError(f"{len(values)} values for {len(comps)} elements")
        parts: dict[tuple[int, int], dict[str, float]] = {}
        for comp, v in zip(comps, values):
            parts.setdefault((comp.node_a, comp.node_b), {})[comp.kind] = float(v)
        edges = {k: Edge(r_ohm=p.get("R"), l_h=p.get("L"), c_f=p.get("C")) for k, p in parts.items()}
        return Circuit(self.n_internal, edges, dict(self.names))

    def edge_class(self, a: int, b: int) -> str:
        edge = self.edges.get((min(a, b), max(a, b)))
        return edge.edge_class if edge else "none"

    def is_reactive(self) -> bool:
        return any(c.kind in "LC" for c in self.components())


def _neighbours(circuit: Circuit, skip: int | None = None) -> dict[int, set[int]]:
    adj: dict[int, set[int]] = {n: set() for n in range(circuit.n_nodes)}
    for (a, b), edge in circuit.edges.items():
        if a == b or not edge.parts() or skip in (a, b):
            continue
        adj[a].add(b)
        adj[b].add(a)
    return adj


def _reachable(adj: dict[int, set[int]], start: int) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in adj[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _value_problems(circuit: Circuit) -> list[Problem]:
    ranges = {"R": R_RANGE_OHM, "L": L_RANGE_H, "C": C_RANGE_F}
    out = []
    for comp in circuit.components():
        lo, hi = ranges[comp.kind]
        if not (math.isfinite(comp.value) and lo <= comp.value <= hi):
            out.append(Problem("value_out_of_range", f"{comp.name} = {comp.value:g} is outside [{lo:g}, {hi:g}]"))
    return out


def structural_problems(circuit: Circuit) -> list[Problem]:
    """The validity rules that need no simulation: loops, grounding, reachability, values."""
    out = [Problem("self_loop", f"an element has both terminals on node {circuit.node_name(a)}")
           for (a, b), e in circuit.edges.items() if a == b and e.parts()]
    for (a, b) in circuit.edges:
        if not (0 <= a < circuit.n_nodes and 0 <= b < circuit.n_nodes):
            out.append(Problem("unknown_node", f"edge ({a}, {b}) names a node outside 0..{circuit.n_nodes - 1}"))
            return out
    grounded = _reachable(_neighbours(circuit), GND)
    for node in range(1, circuit.n_nodes):
        if node not in grounded:
            out.append(Problem("floating_node", f"node {circuit.node_name(node)} does not reach ground through elements"))
    if VOUT not in _reachable(_neighbours(circuit, skip=GND), VIN):
        out.append(Problem("output_unreachable", "no path from vin to vout that avoids ground"))
    return out + _value_problems(circuit)


BLOCKING = ("unknown_node", "self_loop", "value_out_of_range")  # no pencil can be built or trusted


def _canonical(circuit: Circuit) -> tuple[str, list[int]]:
    """The smallest edge list over every relabelling of the internal nodes, and the internal
    nodes in that canonical order."""
    internal = list(range(3, circuit.n_nodes))
    present = [(a, b, e.edge_class) for (a, b), e in circuit.edges.items() if e.parts()]
    best, order = None, internal
    for perm in itertools.permutations(internal):
        relabel = {GND: GND, VIN: VIN, VOUT: VOUT, **dict(zip(internal, perm))}
        items = sorted((min(relabel[a], relabel[b]), max(relabel[a], relabel[b]), cls) for a, b, cls in present)
        key = ",".join(f"{a}-{b}:{cls}" for a, b, cls in items)
        if best is None or key < best:
            best, order = key, sorted(internal, key=lambda n: relabel[n])
    return best or "", order


PERMUTATION_LIMIT = 6  # up to this many internal nodes the canonical form is the smallest over every relabelling


def canonical_order(circuit: Circuit) -> list[int]:
    """Node order GND, VIN, VOUT, then internal nodes in canonical order (isomorphic circuits agree)."""
    if circuit.n_internal > PERMUTATION_LIMIT:
        from circuitlib.core.canonical import canonical_labelling  # imports this module

        return [GND, VIN, VOUT] + canonical_labelling(circuit)[1]
    return [GND, VIN, VOUT] + _canonical(circuit)[1]


def topology_signature(circuit: Circuit) -> str:
    """Canonical topology string, equal for circuits that are isomorphic with GND, VIN and VOUT fixed. Up to
    PERMUTATION_LIMIT internal nodes it is the smallest edge list over every relabelling (the form the dataset's
    records carry); above, the canonical labelling of `core.canonical` (colour refinement and an
    individualisation-refinement search, never every permutation), whose labels keep the fixed names RS and RL."""
    if circuit.n_internal > PERMUTATION_LIMIT:
        from circuitlib.core.canonical import canonical_labelling  # imports this module

        return canonical_labelling(circuit)[0]
    return f"{circuit.n_internal}|{_canonical(circuit)[0]}"
