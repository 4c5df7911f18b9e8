"""Classical ladders as circuits: a synthesised LC ladder (`ladder`) placed between its terminations.

The source node is VIN (driven by the ideal 1 V source); with a source resistance the element `RS` joins VIN to
the ladder's first node, and with a load the element `RL` joins the output node VOUT to ground, so that simulating
the circuit as written shows the terminated response. Series arms run from node to node, shunt arms go to
ground, and a series (or parallel) combination inside an arm gets its own internal nodes.
"""

from __future__ import annotations

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge
from circuitlib.synthesis.ladder import Ladder

_FIELD = {"R": "r_ohm", "L": "l_h", "C": "c_f"}


class _Builder:
    """Edges and internal nodes of a circuit under construction."""

    def __init__(self) -> None:
        self.edges: dict[tuple[int, int], dict[str, float]] = {}
        self.names: dict[tuple[int, int, str], str] = {}
        self.n_internal = 0

    def node(self) -> int:
        self.n_internal += 1
        return 2 + self.n_internal

    def add(self, kind: str, value: float, a: int, b: int, name: str | None = None) -> None:
        key = (min(a, b), max(a, b))
        slot = self.edges.setdefault(key, {})
        if _FIELD[kind] in slot:
            raise ValueError(f"two {kind} elements in parallel between nodes {key}: not a ladder this type holds")
        slot[_FIELD[kind]] = float(value)
        if name:
            self.names[(*key, kind)] = name

    def place(self, net: tuple, a: int, b: int) -> None:
        """A two-terminal network ("L"|"C", value) or ("series"|"parallel", children) between nodes a and b."""
        if net[0] in ("L", "C"):
            self.add(net[0], net[1], a, b)
        elif net[0] == "parallel":
            for child in net[1]:
                self.place(child, a, b)
        else:
            children = list(net[1])
            ends = [a] + [self.node() for _ in children[:-1]] + [b]
            for child, x, y in zip(children, ends, ends[1:]):
                self.place(child, x, y)

    def circuit(self) -> Circuit:
        return Circuit(self.n_internal, {k: Edge(**v) for k, v in self.edges.items()}, self.names)


def ladder_circuit(ladder: Ladder) -> Circuit:
    """The circuit of a denormalised ladder, its terminations as the elements RS and RL (a load that the synthesis
    added to an unterminated request is a filter element, R1).

    >>> from circuitlib.synthesis import ladder as lad
    >>> proto = lad.synthesise("butterworth", 3, 3.0103, rs_ohm=1.0, rl_ohm=1.0, form="shunt_first")
    >>> c = ladder_circuit(lad.denormalise(proto, 50.0, 2e3 * 3.141592653589793))
    >>> [(p.name, p.kind) for p in c.components()]
    [('RL', 'R'), ('C1', 'C'), ('C2', 'C'), ('RS', 'R'), ('L1', 'L')]
    """
    b = _Builder()
    series_at = [i for i, arm in enumerate(ladder.arms) if arm.position == "series"]
    if ladder.rs_ohm > 0:
        first = VOUT if not series_at else b.node()
        b.add("R", ladder.rs_ohm, VIN, first, "RS")
    else:
        first = VIN
    node = first
    for i, arm in enumerate(ladder.arms):
        if arm.position == "shunt":
            if node == VIN:
                raise ValueError("a shunt arm across the ideal source does nothing: the ladder needs a series arm first")
            b.place(arm.network, node, GND)
            continue
        nxt = VOUT if i == series_at[-1] else b.node()
        b.place(arm.network, node, nxt)
        node = nxt
    if ladder.rl_ohm is not None:
        b.add("R", ladder.rl_ohm, VOUT, GND, None if ladder.load_is_element else "RL")
    return b.circuit()


def filter_parts(circuit: Circuit) -> list:
    """The filter's own elements: every component but the terminations RS and RL."""
    return [c for c in circuit.components() if c.name not in ("RS", "RL")]
