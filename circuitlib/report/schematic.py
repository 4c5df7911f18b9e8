"""Schematics drawn the way an engineer draws a filter: a ladder from source to load.

The source stands on the left, series elements run along the top from node to node, shunt elements go down
to one ground rail, and the output terminal is on the right. Nodes are placed left to right by their distance
from the input; an element between two nodes that are not neighbours on the top rail (a bridge, as in a
twin-T) is drawn above it. Each element is labelled with its netlist name and its value with an SI prefix,
and is drawn from the same Circuit that writes the netlist, so the drawing and the netlist cannot disagree.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import matplotlib.pyplot as plt
import schemdraw
import schemdraw.elements as elm

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Component

PITCH = 3.0  # horizontal distance between node columns (schemdraw units)
TOP = 3.0  # height of the top rail above the ground rail
LEVEL = 1.6  # height of each row of bridges above the top rail
PARALLEL = 1.3  # vertical offset between the branches of a parallel series combination
RAIL_BRANCH = (0.0, -0.9, 0.9)  # offsets of the parallel branches of an element on the top rail
SLOT = 2.6  # horizontal offset between shunt branches under one node (room for a label)
_PREFIX = [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"),
           (1e-15, "f")]
_UNIT = {"R": "Ω", "L": "H", "C": "F"}
_SYMBOL = {"R": elm.Resistor, "L": elm.Inductor2, "C": elm.Capacitor}


def eng(value: float, unit: str = "") -> str:
    """A value with an SI prefix and three significant digits.

    >>> eng(1591.5494, "Hz"), eng(1e-7, "F"), eng(47.0, "Ω")
    ('1.59 kHz', '100 nF', '47 Ω')
    """
    for scale, prefix in _PREFIX:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


@dataclass(frozen=True)
class Placed:
    """One element as drawn: its netlist name, kind, value and nodes; 'series' (along the top rail or a bridge
    row above it, `row` 0 being the rail) or 'shunt' (down to ground); and the end points of its branch."""

    component: Component
    role: str
    row: int
    start: tuple[float, float]
    end: tuple[float, float]

    @property
    def label(self) -> str:
        c = self.component
        return f"{c.name} {eng(c.value, _UNIT[c.kind])}"


def shunt_stubs(circuit: Circuit) -> dict[int, int]:
    """Internal nodes in the middle of a two-element shunt branch (a node joined to ground and to one other node,
    and to nothing else, as in a series-LC trap to ground), mapped to the node the branch hangs from."""
    edges: dict[int, list[int]] = {n: [] for n in range(circuit.n_nodes)}
    for a, b in circuit.edges:
        if a != b:
            edges[a].append(b)
            edges[b].append(a)
    return {m: next(n for n in edges[m] if n != GND) for m in range(3, circuit.n_nodes)
            if len(edges[m]) == 2 and GND in edges[m] and edges[m] != [GND, GND]}


def node_columns(circuit: Circuit) -> dict[int, int]:
    """Left-to-right column of every node on the top rail: breadth-first from VIN over the non-ground elements,
    VOUT last; nodes the search does not reach come before VOUT, in index order. Shunt-branch middle nodes
    (`shunt_stubs`) hang below the rail and have no column."""
    stubs = shunt_stubs(circuit)
    adjacency: dict[int, set[int]] = {n: set() for n in range(1, circuit.n_nodes) if n not in stubs}
    for a, b in circuit.edges:
        if GND not in (a, b) and a != b and a in adjacency and b in adjacency:
            adjacency[a].add(b)
            adjacency[b].add(a)
    order, seen, queue = [], {VIN}, deque([VIN])
    while queue:
        node = queue.popleft()
        order.append(node)
        for nxt in sorted(adjacency[node] - seen - {VOUT}):
            seen.add(nxt)
            queue.append(nxt)
    order += [n for n in range(3, circuit.n_nodes) if n not in seen and n not in stubs]
    return {node: i for i, node in enumerate(order + [VOUT])}


def _bridge_rows(spans: list[tuple[int, int]]) -> list[int]:
    """A row above the top rail for each (left, right) column span, so that no two overlapping spans share one."""
    rows: list[list[tuple[int, int]]] = []
    out = []
    for lo, hi in spans:
        row = next((i for i, taken in enumerate(rows) if all(hi <= a or lo >= b for a, b in taken)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append((lo, hi))
        out.append(row + 1)
    return out


def layout(circuit: Circuit) -> list[Placed]:
    """Where every element of `circuit` is drawn (see `Placed`), in netlist order but the load RL last."""
    col = node_columns(circuit)
    stubs = shunt_stubs(circuit)
    x = {node: PITCH * c for node, c in col.items()}
    by_edge: dict[tuple[int, int], list[Component]] = {}
    for comp in circuit.components():
        by_edge.setdefault((min(comp.node_a, comp.node_b), max(comp.node_a, comp.node_b)), []).append(comp)
    bridges = [key for key in by_edge if GND not in key and not set(key) & set(stubs)
               and abs(col[key[0]] - col[key[1]]) != 1]
    bridge_row = dict(zip(bridges, _bridge_rows([tuple(sorted((col[a], col[b]))) for a, b in bridges])))
    slots: dict[tuple, tuple[int, int]] = {}  # shunt branches so far: key -> (rail node, slot to its right)
    placed = []
    work = [(key, comp) for key, comps in by_edge.items() for comp in comps]
    work.sort(key=lambda item: item[1].name == "RL")  # the load is drawn last, at the right end, as engineers do
    for (a, b), comp in work:
        if GND in (a, b) or set((a, b)) & set(stubs):
            placed.append(_shunt(comp, stubs, x, slots))
            continue
        k = sum(1 for p in placed if p.role == "series" and {p.component.node_a, p.component.node_b} == {a, b})
        left, right = sorted((a, b), key=lambda n: x[n])
        row = bridge_row.get((a, b), 0)
        y = TOP + LEVEL * row + (PARALLEL * k if row else RAIL_BRANCH[k])
        placed.append(Placed(comp, "series", row, (x[left], y), (x[right], y)))
    return placed


def _shunt(comp: Component, stubs: dict[int, int], x: dict[int, float], slots: dict[tuple, tuple[int, int]]) -> Placed:
    """A shunt element: straight down from its rail node to ground, or one half of a two-element branch through
    a stub node (the upper half from the rail to mid-height, the lower half on to ground). Every branch under a
    rail node takes the next slot to its right."""
    a, b = comp.node_a, comp.node_b
    stub = next((n for n in (a, b) if n in stubs), None)
    rail = stubs[stub] if stub is not None else (b if a == GND else a)
    key = ("stub", stub) if stub is not None else ("element", comp.name)
    if key not in slots:
        slots[key] = (rail, sum(1 for r, _ in slots.values() if r == rail))
    xs = x[rail] + SLOT * slots[key][1]
    if stub is None:
        return Placed(comp, "shunt", 0, (xs, TOP), (xs, 0.0))
    if GND in (a, b):
        return Placed(comp, "shunt", 0, (xs, TOP / 2), (xs, 0.0))
    return Placed(comp, "shunt", 0, (xs, TOP), (xs, TOP / 2))


def _draw_element(d: schemdraw.Drawing, p: Placed) -> None:
    symbol = _SYMBOL[p.component.kind]
    (x0, y0), (x1, y1) = p.start, p.end
    if p.role == "shunt":
        d += symbol().at((x0, y0)).to((x1, y1)).label(p.label, loc="bottom", fontsize=9)
        return
    mid = x0 + PITCH / 2 if p.row else (x0 + x1) / 2  # a bridge's element sits between its first two columns
    d += symbol().at((mid - 1.0, y0)).to((mid + 1.0, y1)).label(p.label, loc="top", fontsize=9)
    d += elm.Line().at((x0, y0)).to((mid - 1.0, y0))
    d += elm.Line().at((mid + 1.0, y1)).to((x1, y1))
    if y0 != TOP:  # a parallel branch or a bridge: verticals down to the top rail
        d += elm.Line().at((x0, TOP)).to((x0, y0))
        d += elm.Line().at((x1, TOP)).to((x1, y1))


def _draw_shunt_wires(d: schemdraw.Drawing, placed: list[Placed], x: dict[int, float], stubs: dict[int, int]) -> None:
    """Rail pieces from a node to the shunt branches set to its right, and the dot of each stub node."""
    for p in placed:
        a, b = p.component.node_a, p.component.node_b
        stub = next((n for n in (a, b) if n in stubs), None)
        rail = stubs[stub] if stub is not None else (b if a == GND else a)
        if p.start[1] == TOP and p.start[0] != x[rail]:
            d += elm.Line().at((x[rail], TOP)).to((p.start[0], TOP))
        if stub is not None and p.end[1] == TOP / 2:
            d += elm.Dot().at(p.end)


def schematic(circuit: Circuit, ax: plt.Axes | None = None, title: str | None = None) -> plt.Figure:
    """The ladder drawing of `circuit` on `ax` (a new figure when None).

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> fig = schematic(Circuit(1, {(1, 3): Edge(l_h=1e-3), (0, 3): Edge(c_f=1e-6), (2, 3): Edge(l_h=1e-3),
    ...                             (0, 2): Edge(r_ohm=50.0)}))
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_text()[:1] in "RLC")
    ['C1 1 µF', 'L1 1 mH', 'L2 1 mH', 'R1 50 Ω']
    """
    placed = layout(circuit)
    col = node_columns(circuit)
    x = {node: PITCH * c for node, c in col.items()}
    width = PITCH * (len(col) + 1)
    if ax is None:
        rows = max((p.row for p in placed), default=0)
        span = (max([x[VOUT]] + [p.start[0] for p in placed]) - x[VIN]) / PITCH + 1
        fig = plt.figure(figsize=(2.2 + 1.25 * span, 2.4 + 0.6 * rows))
        ax = fig.add_subplot(111)
    d = schemdraw.Drawing(canvas=ax, show=False)
    d.config(fontsize=10, unit=2.0)
    src_x = x[VIN] - PITCH
    out_x = max([x[VOUT]] + [p.start[0] for p in placed if p.role == "shunt"]) + PITCH * 0.6
    d += elm.SourceSin().at((src_x, 0.0)).to((src_x, TOP)).label("1 V AC", loc="top", fontsize=9)
    d += elm.Line().at((src_x, TOP)).to((x[VIN], TOP))
    d += elm.Line().at((src_x, 0.0)).to((out_x, 0.0))
    d += elm.Ground().at((x[VIN] - PITCH / 2, 0.0))
    for p in placed:
        _draw_element(d, p)
    _draw_shunt_wires(d, placed, x, shunt_stubs(circuit))
    d += elm.Line().at((x[VOUT], TOP)).to((out_x, TOP))
    d += elm.Dot(open=True).at((out_x, TOP)).label("vout", loc="right", fontsize=10)
    d += elm.Dot(open=True).at((out_x, 0.0))
    for node, xn in x.items():
        d += elm.Dot().at((xn, TOP))
        if node != VOUT:
            d += elm.Label().at((xn - 0.35, TOP - 0.4)).label(circuit.node_name(node), fontsize=8, color="#777")
    d.draw(show=False)
    ax.set_axis_off()
    ax.set_xlim(src_x - 1.2, max(width, out_x + 1.5))
    if title:
        ax.set_title(title)
    return ax.figure
