"""Designs written where people use them: an LTspice schematic, a KiCad netlist, Touchstone S-parameters, an SVG.

Every writer works from the same Circuit that writes the SPICE netlist (`core.netlist.to_netlist`), with the same
element names and exact values (17 significant digits), so an export cannot disagree with what was simulated.

- `to_ltspice_asc`: an LTspice schematic (`.asc`, Version 4) drawn as a ladder: the source on the left, series parts
  along the top, shunt parts down to ground flags, traps below; `read_ltspice_asc` rebuilds its SPICE netlist.
- `to_kicad_net`: a KiCad netlist (the S-expression `export` form, version "E") with the standard Device symbols
  R, C and L; `read_kicad_net` reads one back.
- `touchstone_s2p`: the two-port S-parameters of the filter between its terminations, from the nodal solver.
- `to_svg`: the ladder drawing of `report.schematic` as SVG text.

Units everywhere: ohm, henry, farad, hertz; LTspice coordinates are in its own grid units (16 per grid step).
"""

from __future__ import annotations

import io
import itertools
import math
import uuid
from dataclasses import dataclass, field

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Component, Edge
from circuitlib.core.deck import spice_number
from circuitlib.core.errors import CircuitlibError, NetlistError
from circuitlib.core.netlist import AcSweep
from circuitlib.report.schematic import _bridge_rows, node_columns, schematic, shunt_stubs
from circuitlib.sim.mna import Pencil, pencil, response_hz

FORMATS = ("ltspice", "kicad", "touchstone", "svg")
SUFFIX = {"ltspice": ".asc", "kicad": ".net", "touchstone": ".s2p", "svg": ".svg"}
DEFAULT_SWEEP = AcSweep()  # 1 Hz to 1 MHz, 200 points per decade


class ExportError(CircuitlibError):
    """A design that cannot be written in the asked form (S-parameters of an ideal source or open load)."""


# ---------------------------------------------------------------- LTspice schematic

# pins of LTspice's own symbols at rotation R0, in SpiceOrder (x right, y down)
SYMBOL_PINS = {"res": ((16, 16), (16, 96)), "res2": ((16, 16), (16, 96)), "cap": ((16, 0), (16, 64)),
               "ind": ((16, 16), (16, 96)), "ind2": ((16, 16), (16, 96)), "voltage": ((0, 16), (0, 96))}
_SYMBOL = {"R": "res", "L": "ind", "C": "cap"}
SYMBOL_PREFIX = {"res": "R", "res2": "R", "cap": "C", "ind": "L", "ind2": "L", "voltage": "V"}
# attribute windows LTspice itself writes for a part turned R270 (horizontal, pin 1 on the left): InstName, Value
_WINDOWS_R270 = {"res": ("WINDOW 0 32 56 VTop 2", "WINDOW 3 0 56 VBottom 2"),
                 "cap": ("WINDOW 0 32 32 VTop 2", "WINDOW 3 0 32 VBottom 2"),
                 "ind": ("WINDOW 0 32 56 VTop 2", "WINDOW 3 5 56 VBottom 2")}
SLOT = 96  # horizontal pitch of the shunt branches under one node
GAP = 192  # width of a series gap between two rail nodes
ROW = 96  # vertical pitch of parallel series parts above the rail
MID = 112  # height of the middle node of a two-part shunt branch (a trap) below the rail
GROUND_Y = 224  # where shunt branches meet their ground flags
SOURCE_X = -128  # the source's distance left of the input node

Point = tuple[int, int]


def pin_offset(offset: Point, rotation: str) -> Point:
    """A symbol pin's offset from the symbol's origin after LTspice's `rotation` (R0, R90, R180, R270; M0..M270
    mirror x first). R90 turns clockwise on screen, whose y axis points down.

    >>> pin_offset((16, 96), "R0"), pin_offset((16, 96), "R90"), pin_offset((16, 96), "R180")
    ((16, 96), (-96, 16), (-16, -96))
    >>> pin_offset((16, 96), "R270"), pin_offset((16, 96), "M0")
    ((96, -16), (-16, 96))
    """
    if rotation[:1] not in ("R", "M") or rotation[1:] not in ("0", "90", "180", "270"):
        raise NetlistError(f"unknown LTspice rotation {rotation!r}")
    x, y = offset
    if rotation[0] == "M":
        x = -x
    for _ in range(int(rotation[1:]) // 90):
        x, y = -y, x
    return x, y


def symbol_pins(symbol: str, origin: Point, rotation: str) -> tuple[Point, Point]:
    """Where the two pins of a placed `symbol` are, in SpiceOrder.

    >>> symbol_pins("res", (160, 64), "R90")  # LTspice: WIRE 144 80 ... and WIRE ... 64 80 meet these
    ((144, 80), (64, 80))
    """
    a, b = (pin_offset(p, rotation) for p in SYMBOL_PINS[symbol])
    return (origin[0] + a[0], origin[1] + a[1]), (origin[0] + b[0], origin[1] + b[1])


@dataclass
class _Sheet:
    """The drawing under construction: wires, flags (net labels), placed symbols and text lines."""

    wires: set[tuple[Point, Point]] = field(default_factory=set)
    flags: list[tuple[Point, str]] = field(default_factory=list)
    symbols: dict[str, list[str]] = field(default_factory=dict)  # element name -> its SYMBOL block
    points: list[Point] = field(default_factory=list)

    def wire(self, a: Point, b: Point) -> None:
        if a != b:
            self.wires.add((min(a, b), max(a, b)))
            self.points += [a, b]

    def path(self, *points: Point) -> None:
        for a, b in itertools.pairwise(points):
            self.wire(a, b)

    def part(self, comp: Component, start: Point, vertical: bool) -> Point:
        """Place `comp` with one pin at `start`, running down (vertical) or right; returns its other pin."""
        symbol = _SYMBOL[comp.kind]
        rotation = "R0" if vertical else "R270"
        pins = symbol_pins(symbol, (0, 0), rotation)
        first, other = sorted(pins, key=lambda p: p[0] + p[1])  # the top (vertical) or left (horizontal) pin
        origin = (start[0] - first[0], start[1] - first[1])
        end = (start[0] + other[0] - first[0], start[1] + other[1] - first[1])
        lines = [f"SYMBOL {symbol} {origin[0]} {origin[1]} {rotation}"]
        if not vertical:
            lines += list(_WINDOWS_R270[symbol])
        lines += [f"SYMATTR InstName {comp.name}", f"SYMATTR Value {comp.value!r}"]
        self.symbols[comp.name] = lines
        self.points += [start, end]
        return end

    def ground(self, p: Point) -> None:
        self.flags.append((p, "0"))
        self.points.append(p)


@dataclass
class _Branch:
    """A shunt branch under a rail node: parts straight to ground, or a trap (upper parts from the rail to a middle
    node, lower parts from there to ground)."""

    upper: list[Component]
    lower: list[Component] = field(default_factory=list)
    stub: int | None = None
    x: int = 0

    @property
    def width(self) -> int:
        return max(len(self.upper), len(self.lower), 1)


@dataclass
class _Plan:
    """A circuit sorted into a ladder: rail nodes left to right (`col`), series parts per neighbouring pair, shunt
    branches per rail node, bridges (series parts between rail nodes that are not neighbours, drawn above the
    rail), and the parts that fit none of these (drawn apart, joined by net labels)."""

    col: dict[int, int]
    series: dict[tuple[int, int], list[Component]]
    branches: dict[int, list[_Branch]]
    bridges: list[Component]
    extra: list[Component]

    @property
    def order(self) -> list[int]:
        return sorted(self.col, key=self.col.get)


def _plan(circuit: Circuit) -> _Plan:
    col = node_columns(circuit)
    stubs = {m: r for m, r in shunt_stubs(circuit).items() if r in col}
    series: dict[tuple[int, int], list[Component]] = {}
    branches: dict[int, list[_Branch]] = {n: [] for n in col}
    traps: dict[int, _Branch] = {}
    bridges, extra = [], []
    for comp in sorted(circuit.components(), key=lambda c: c.name == "RL"):  # the load last, at the right end
        a, b = comp.node_a, comp.node_b
        stub = a if a in stubs else b if b in stubs else None
        if stub is not None and a != b and {a, b} <= {stub, stubs[stub], GND}:
            if stub not in traps:
                traps[stub] = _Branch([], [], stub)
                branches[stubs[stub]].append(traps[stub])
            (traps[stub].lower if GND in (a, b) else traps[stub].upper).append(comp)
        elif GND in (a, b) and a != b and (b if a == GND else a) in col:
            branches[b if a == GND else a].append(_Branch([comp]))
        elif a in col and b in col and abs(col[a] - col[b]) == 1:
            series.setdefault(tuple(sorted((a, b), key=col.get)), []).append(comp)
        elif a in col and b in col and a != b:
            bridges.append(comp)
        else:
            extra.append(comp)
    return _Plan(col, series, branches, bridges, extra)


def _draw_branch(sheet: _Sheet, br: _Branch) -> list[Point]:
    """A shunt branch hanging from the rail at x = br.x; returns its points on the rail."""
    tops = []
    for i, comp in enumerate(br.upper):
        top = (br.x + SLOT * i, 0)
        bottom = sheet.part(comp, top, vertical=True)
        tops.append(top)
        if br.stub is None:
            sheet.wire(bottom, (top[0], GROUND_Y))
            sheet.ground((top[0], GROUND_Y))
        else:
            sheet.wire(bottom, (top[0], MID))
    if br.stub is not None:
        sheet.path(*[(br.x + SLOT * i, MID) for i in range(br.width)])
        for i, comp in enumerate(br.lower):
            bottom = sheet.part(comp, (br.x + SLOT * i, MID), vertical=True)
            sheet.wire(bottom, (bottom[0], GROUND_Y))
            sheet.ground((bottom[0], GROUND_Y))
    return tops


def _draw_series(sheet: _Sheet, parts: list[Component], left: Point, gap_x: int, right: Point) -> None:
    """Parallel series parts between rail points `left` and `right`, one row each (row 0 on the rail, the others
    above it), each part starting 48 units into the gap that begins at `gap_x`."""
    for j, comp in enumerate(parts):
        y = -ROW * j
        if j:
            sheet.wire((left[0], y + ROW), (left[0], y))
            sheet.wire((right[0], y + ROW), (right[0], y))
        start = (gap_x + (64 if comp.kind == "C" else 48), y)
        sheet.wire((left[0], y), start)
        sheet.wire(sheet.part(comp, start, vertical=False), (right[0], y))


def _draw_bridges(sheet: _Sheet, plan: _Plan, x: dict[int, int]) -> None:
    """Each bridge in a row of its own above the series parts (`schematic._bridge_rows`: overlapping spans never
    share a row), joined to its two rail nodes by single vertical wires, which cross other wires without an end
    on them and so join nothing else."""
    top = max((len(parts) - 1 for parts in plan.series.values()), default=0)
    spans = [tuple(sorted((plan.col[c.node_a], plan.col[c.node_b]))) for c in plan.bridges]
    for comp, row in zip(plan.bridges, _bridge_rows(spans)):
        y = -ROW * (top + row)
        left, right = sorted((comp.node_a, comp.node_b), key=plan.col.get)
        sheet.wire((x[left], 0), (x[left], y))
        sheet.wire((x[right], 0), (x[right], y))
        start = (x[left] + (64 if comp.kind == "C" else 48), y)
        sheet.wire((x[left], y), start)
        sheet.wire(sheet.part(comp, start, vertical=False), (x[right], y))


def _anchors(plan: _Plan, x: dict[int, int]) -> dict[int, Point]:
    """A point of every node that is drawn on the ladder (rail nodes and trap middles)."""
    out = {n: (x[n], 0) for n in plan.order}
    for branches in plan.branches.values():
        out.update({br.stub: (br.x, MID) for br in branches if br.stub is not None})
    return out


def _text(s: str) -> str:
    return " ".join(str(s).split())


def to_ltspice_asc(circuit: Circuit, ac: AcSweep | None = DEFAULT_SWEEP, title: str = "circuitlib design") -> str:
    """An LTspice schematic (`.asc`, Version 4) of `circuit`, drawn as a ladder: the source VIN (AC 1 V) on the
    left, series parts along the top rail, shunt parts down to ground flags (`FLAG x y 0`), a two-part shunt branch
    (a trap) through its middle node, parallel series parts stacked above the rail, and the input and output nets
    labelled `vin` and `vout`. A bridge (a series part between rail nodes that are not neighbours) runs in a row
    above the rail; a part that fits nowhere else is drawn apart, joined to its nets by labels with the netlist's
    node names. Values are exact (ohm, henry, farad); `ac` becomes a `.ac` directive.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> asc = to_ltspice_asc(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)}), None, "RC")
    >>> [line for line in asc.splitlines() if line.startswith(("SYMBOL", "FLAG"))]  # doctest: +NORMALIZE_WHITESPACE
    ['FLAG 192 224 0', 'FLAG -128 224 0', 'FLAG 0 0 vin', 'FLAG 192 0 vout', 'SYMBOL voltage -128 128 R0',
     'SYMBOL cap 176 0 R0', 'SYMBOL res 32 16 R270']
    """
    plan = _plan(circuit)
    sheet = _Sheet()
    x: dict[int, int] = {}
    cursor, rail_end = 0, {}
    for i, node in enumerate(plan.order):
        x[node] = cursor
        tops = [(cursor, 0)]
        for br in plan.branches[node]:
            br.x = cursor
            tops += _draw_branch(sheet, br)
            cursor += SLOT * br.width
        sheet.path(*sorted(set(tops)))
        rail_end[node] = max(tops)
        cursor = max(cursor - SLOT, x[node]) + GAP
    for (a, b), parts in plan.series.items():
        _draw_series(sheet, parts, rail_end[a], x[b] - GAP, (x[b], 0))
    source = (x[VIN] + SOURCE_X, GROUND_Y)
    sheet.symbols["VIN"] = [f"SYMBOL voltage {source[0]} {source[1] - 96} R0", "SYMATTR InstName VIN",
                            "SYMATTR Value AC 1"]
    sheet.path((source[0], GROUND_Y - 80), (source[0], 0), (x[VIN], 0))
    sheet.ground(source)
    sheet.flags += [((x[VIN], 0), "vin"), ((x[VOUT], 0), "vout")]
    _draw_bridges(sheet, plan, x)
    _draw_extra(sheet, circuit, plan, _anchors(plan, x))
    order = ["VIN"] + [c.name for c in circuit.components()]  # the netlist's order
    return _asc_text(sheet, [sheet.symbols[name] for name in order], ac, title)


def _draw_extra(sheet: _Sheet, circuit: Circuit, plan: _Plan, anchors: dict[int, Point]) -> None:
    """Parts off the ladder, side by side above everything else, each pin labelled with its node's name; the
    ladder point of each such node gets the same label."""
    top = min([y for _, y in sheet.points] + [0])
    y = top - 2 * ROW
    labelled = {VIN, VOUT, GND}
    for k, comp in enumerate(plan.extra):
        start = (anchors[VIN][0] + 2 * GAP * k, y)
        end = sheet.part(comp, start, vertical=False)
        for node, p in ((comp.node_a, start), (comp.node_b, end)):
            sheet.flags.append((p, circuit.node_name(node)))
            if node not in labelled and node in anchors:
                sheet.flags.append((anchors[node], circuit.node_name(node)))
            labelled.add(node)


def _asc_text(sheet: _Sheet, symbols: list[list[str]], ac: AcSweep | None, title: str) -> str:
    xs = [p[0] for p in sheet.points] or [0]
    ys = [p[1] for p in sheet.points] or [0]
    text_y = max(ys) + 64
    lines = ["Version 4", f"SHEET 1 {max(880, max(xs) - min(xs) + 256)} {max(680, max(ys) - min(ys) + 256)}"]
    lines += [f"WIRE {a[0]} {a[1]} {b[0]} {b[1]}" for a, b in sorted(sheet.wires)]
    lines += [f"FLAG {p[0]} {p[1]} {name}" for p, name in sheet.flags]
    lines += [line for block in symbols for line in block]
    lines.append(f"TEXT {min(xs)} {text_y} Left 2 ;{_text(title)}")
    if ac is not None:
        lines.append(f"TEXT {min(xs)} {text_y + 32} Left 2 !{ac.card()}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reading an LTspice schematic


@dataclass
class _AscPart:
    symbol: str
    pins: tuple[Point, Point]
    attrs: dict[str, str]
    line: int


def _int(token: str, line: int) -> int:
    try:
        return int(token)
    except ValueError:
        raise NetlistError(f"line {line}: {token!r} is not an LTspice coordinate") from None


def _read_asc_lines(text: str) -> tuple[list[tuple[Point, Point]], list[tuple[Point, str]], list[_AscPart], list[str]]:
    """(wires, flags, parts, TEXT lines) of an `.asc`; the TEXT lines keep their leading `!` or `;`."""
    wires, flags, parts, texts = [], [], [], []
    part = None
    for n, raw in enumerate(text.splitlines(), start=1):
        f = raw.split()
        key = f[0].upper() if f else ""
        if key == "WIRE" and len(f) >= 5:
            wires.append(((_int(f[1], n), _int(f[2], n)), (_int(f[3], n), _int(f[4], n))))
        elif key == "FLAG" and len(f) >= 4:
            flags.append(((_int(f[1], n), _int(f[2], n)), f[3]))
        elif key == "SYMBOL" and len(f) >= 5:
            symbol = f[1].replace("\\", "/").split("/")[-1].lower()
            if symbol not in SYMBOL_PINS:
                raise NetlistError(f"line {n}: symbol {f[1]} is not a resistor, capacitor, inductor or voltage source")
            part = _AscPart(symbol, symbol_pins(symbol, (_int(f[2], n), _int(f[3], n)), f[4].upper()), {}, n)
            parts.append(part)
        elif key == "SYMATTR" and part is not None and len(f) >= 2:
            part.attrs[f[1].lower()] = raw.split(None, 2)[2].strip() if len(f) > 2 else ""
        elif key == "TEXT" and len(f) >= 6:
            texts.append(raw.split(None, 5)[5].strip())
    return wires, flags, parts, texts


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    """Whether p lies on the segment a-b (ends included)."""
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    return cross == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


class _Union:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, p):
        self.parent.setdefault(p, p)
        while self.parent[p] != p:
            self.parent[p] = self.parent[self.parent[p]]
            p = self.parent[p]
        return p

    def join(self, a, b) -> None:
        self.parent[self.find(a)] = self.find(b)


def _nets(wires, flags, parts: list[_AscPart]) -> dict[Point, str]:
    """The net name of every pin point, as LTspice joins them: a wire joins its ends and every wire end, pin or
    flag lying on it; flags of one name join their nets; flag `0` is ground; other unnamed nets are N001, N002, ..."""
    u = _Union()
    points = {p for w in wires for p in w} | {p for p, _ in flags} | {p for part in parts for p in part.pins}
    for a, b in wires:
        u.join(a, b)
        for p in points:
            if _on_segment(p, a, b):
                u.join(p, a)
    by_name: dict[str, Point] = {}
    for p, name in flags:
        key = name.lower()
        if key in by_name:
            u.join(p, by_name[key])
        by_name.setdefault(key, p)
    names: dict = {}
    for p, name in flags:
        root = u.find(p)
        if names.setdefault(root, name).lower() != name.lower():
            raise NetlistError(f"the labels {names[root]} and {name} name the same net")
    used, count = {n.lower() for n in names.values()}, 0
    for part in parts:
        for p in part.pins:
            root = u.find(p)
            while root not in names:
                count += 1
                if f"n{count:03d}" not in used:
                    names[root] = f"N{count:03d}"
    return {p: names[u.find(p)] for part in parts for p in part.pins}


def read_ltspice_asc(text: str) -> str:
    """The SPICE netlist of an LTspice schematic (`.asc`) made of res, cap, ind and voltage symbols: wires, pins and
    flags joined into nets as LTspice joins them (see `_nets`), one card per symbol in file order (pins in
    SpiceOrder, values as written), the `!` directives, and `.end`. Read it with `core.netlist.parse_netlist`.

    >>> print(read_ltspice_asc(to_ltspice_asc(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)}),
    ...                                       AcSweep("dec", 10, 1.0, 1e6), "RC")), end="")
    * RC
    VIN vin 0 AC 1
    C1 vout 0 1e-07
    R1 vin vout 1000.0
    .ac dec 10 1.0 1000000.0
    .end
    """
    wires, flags, parts, texts = _read_asc_lines(text)
    net = _nets(wires, flags, parts)
    title = next((t[1:].strip() for t in texts if t.startswith(";")), "LTspice schematic")
    lines = [f"* {title}"]
    for part in parts:
        name = part.attrs.get("instname", "")
        if not name:
            raise NetlistError(f"line {part.line}: a {part.symbol} symbol has no InstName")
        prefix = SYMBOL_PREFIX[part.symbol]
        name = name if name.upper().startswith(prefix) else prefix + name
        value = " ".join(v for v in (part.attrs.get("value", ""), part.attrs.get("value2", "")) if v and v != '""')
        if not value:
            raise NetlistError(f"line {part.line}: {name} has no value")
        lines.append(f"{name} {net[part.pins[0]]} {net[part.pins[1]]} {value}")
    lines += [t[1:].replace("\\n", "\n") for t in texts if t.startswith("!")]
    return "\n".join(lines + [".end"]) + "\n"


# ---------------------------------------------------------------- KiCad netlist

FOOTPRINT = {"R": "Resistor_SMD:R_0805_2012Metric", "C": "Capacitor_SMD:C_0805_2012Metric",
             "L": "Inductor_SMD:L_1210_3225Metric"}
_DESCRIPTION = {"R": "Resistor", "C": "Unpolarized capacitor", "L": "Inductor"}
_SI = [(1e9, "G"), (1e6, "Meg"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"),
       (1e-15, "f")]


def si_value(value: float, digits: int = 6) -> str:
    """A value as a KiCad/SPICE value field: `digits` significant digits and an SI prefix (`Meg` for 1e6, as SPICE
    reads `M` as milli).

    >>> si_value(1000.0), si_value(4.7e-9), si_value(3.332805724384111e-06), si_value(2.2e6)
    ('1k', '4.7n', '3.33281u', '2.2Meg')
    """
    scale, prefix = next(((s, p) for s, p in _SI if abs(value) >= s * (1 - 5e-7)), _SI[-1])
    return f"{value / scale:.{digits}g}{prefix}"


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _net_name(node: int) -> str:
    return "GND" if node == GND else "/" + Circuit.node_name(node)


def to_kicad_net(circuit: Circuit, title: str = "circuitlib design") -> str:
    """A KiCad netlist (`export` S-expression, version "E") of `circuit`: one Device:R, Device:C or Device:L per
    element with its netlist name as reference, its value with an SI prefix (6 digits; the exact value in SI units is
    the `exact_value` property), an 0805 footprint for R and C and a 1210 one for L; nets `GND`, `/vin`, `/vout`,
    `/n3`, ... with pin 1 at the element's first node. The terminations RS and RL are included, so that the netlist
    matches the simulated circuit.

    >>> net = to_kicad_net(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)}), "RC")
    >>> read_kicad_net(net)["nets"]
    {'GND': [('C1', '1')], '/vin': [('R1', '1')], '/vout': [('C1', '2'), ('R1', '2')]}
    """
    comps = circuit.components()
    lines = ['(export (version "E")', "  (design", '    (source "circuitlib")', '    (tool "circuitlib")',
             '    (sheet (number "1") (name "/") (tstamps "/")',
             f"      (title_block (title {_q(_text(title))}) (company \"\") (rev \"\") (date \"\") (source \"\"))))",
             "  (components"]
    for c in comps:
        stamp = uuid.uuid5(uuid.NAMESPACE_URL, f"circuitlib:{_text(title)}:{c.name}")
        lines += [f"    (comp (ref {_q(c.name)})", f"      (value {_q(si_value(c.value))})",
                  f"      (footprint {_q(FOOTPRINT[c.kind])})",
                  f'      (property (name "exact_value") (value {_q(repr(c.value))}))',
                  f'      (libsource (lib "Device") (part {_q(c.kind)}) (description {_q(_DESCRIPTION[c.kind])}))',
                  '      (sheetpath (names "/") (tstamps "/"))', f'      (tstamps "{stamp}"))']
    lines[-1] += ")"
    lines.append("  (nets")
    pins: dict[int, list[tuple[str, str]]] = {}
    for c in comps:
        pins.setdefault(c.node_a, []).append((c.name, "1"))
        pins.setdefault(c.node_b, []).append((c.name, "2"))
    for code, node in enumerate(sorted(pins), start=1):
        lines.append(f'    (net (code "{code}") (name {_q(_net_name(node))})')
        lines += [f'      (node (ref {_q(ref)}) (pin "{pin}") (pintype "passive"))' for ref, pin in sorted(pins[node])]
        lines[-1] += ")"
    lines[-1] += "))"
    return "\n".join(lines) + "\n"


def _sexpr(text: str) -> list:
    """The S-expression `text` as nested lists of strings (quoted strings unescaped); no recursion, no eval."""
    stack: list[list] = [[]]
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "(":
            stack.append([])
            i += 1
        elif ch == ")":
            if len(stack) == 1:
                raise NetlistError("unbalanced ')' in the KiCad netlist")
            done = stack.pop()
            stack[-1].append(done)
            i += 1
        elif ch == '"':
            j, out = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                out.append(text[j])
                j += 1
            if j >= n:
                raise NetlistError("unterminated string in the KiCad netlist")
            stack[-1].append("".join(out))
            i = j + 1
        elif ch.isspace():
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            stack[-1].append(text[i:j])
            i = j
    if len(stack) != 1 or len(stack[0]) != 1 or not isinstance(stack[0][0], list):
        raise NetlistError("a KiCad netlist is one balanced (export ...) expression")
    return stack[0][0]


def _field(node: list, key: str) -> str | None:
    item = next((x for x in node[1:] if isinstance(x, list) and x and x[0] == key), None)
    return item[1] if item is not None and len(item) > 1 and isinstance(item[1], str) else None


def _children(node: list, key: str) -> list[list]:
    return [x for x in node[1:] if isinstance(x, list) and x and x[0] == key]


def read_kicad_net(text: str) -> dict:
    """A KiCad netlist (`export` S-expression) as {"title", "components": {ref: {"kind", "value" (SI units: the
    `exact_value` property, else the value field read as SPICE reads it), "value_text", "footprint", "lib",
    "part"}}, "nets": {name: [(ref, pin), ...]}}. See `to_kicad_net`."""
    root = _sexpr(text)
    if root[0] != "export":
        raise NetlistError("not a KiCad netlist: it does not start with (export")
    design = next(iter(_children(root, "design")), ["design"])
    block = next((tb for sheet in _children(design, "sheet") for tb in _children(sheet, "title_block")), None)
    out: dict = {"title": _field(block, "title") if block else None, "components": {}, "nets": {}}
    for comps in _children(root, "components"):
        for comp in _children(comps, "comp"):
            ref, text_value = _field(comp, "ref"), _field(comp, "value") or ""
            lib = next(iter(_children(comp, "libsource")), ["libsource"])
            exact = next((_field(p, "value") for p in _children(comp, "property") if _field(p, "name") == "exact_value"),
                         None)
            part = _field(lib, "part") or (ref or "?")[:1]
            out["components"][ref] = {"kind": part.upper()[:1], "value": spice_number(exact or text_value),
                                      "value_text": text_value, "footprint": _field(comp, "footprint"),
                                      "lib": _field(lib, "lib"), "part": part}
    for nets in _children(root, "nets"):
        for net in _children(nets, "net"):
            out["nets"][_field(net, "name")] = [(_field(n, "ref"), _field(n, "pin")) for n in _children(net, "node")]
    return out


# ---------------------------------------------------------------- S-parameters and Touchstone


@dataclass(frozen=True)
class TwoPort:
    """The filter between its terminations: its own parts, port 1 (the node after RS) and port 2 (vout), and the
    termination resistances RS and RL (ohm)."""

    parts: list[Component]
    port1: int
    port2: int
    rs_ohm: float
    rl_ohm: float


def two_port(circuit: Circuit) -> TwoPort:
    """The two-port of a terminated circuit: RS and RL by name when the circuit names them (a design), else found by
    shape (a deck): the source drives only a resistor, and vout has a resistor to ground. A design with an ideal
    source or an open load has no S-parameters: ExportError.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> tp = two_port(Circuit(1, {(1, 3): Edge(r_ohm=50.0), (3, 2): Edge(l_h=1e-3), (0, 2): Edge(r_ohm=75.0)}))
    >>> tp.port1, tp.port2, tp.rs_ohm, tp.rl_ohm, [p.name for p in tp.parts]
    (3, 2, 50.0, 75.0, ['L1'])
    """
    comps = circuit.components()
    at_vin = [c for c in comps if VIN in (c.node_a, c.node_b)]
    if circuit.names:
        rs = next((c for c in comps if c.name == "RS"), None)
        rl = next((c for c in comps if c.name == "RL"), None)
    else:
        rs = at_vin[0] if len(at_vin) == 1 and at_vin[0].kind == "R" else None
        rl = next((c for c in comps if c.kind == "R" and {c.node_a, c.node_b} == {GND, VOUT}), None)
    if rs is None or GND in (rs.node_a, rs.node_b) or at_vin != [rs]:
        raise ExportError("S-parameters need a source resistance: this circuit is driven by an ideal source "
                          "(no lone resistor RS from vin)")
    if rl is None or {rl.node_a, rl.node_b} != {GND, VOUT}:
        raise ExportError("S-parameters need a load resistance: this circuit's output is open "
                          "(no resistor RL from vout to ground)")
    port1 = rs.node_b if rs.node_a == VIN else rs.node_a
    return TwoPort([c for c in comps if c not in (rs, rl)], port1, VOUT, rs.value, rl.value)


def _driven(tp: TwoPort, drive: int, other: int, z_drive: float, z_other: float, f_hz: np.ndarray):
    """(V(drive), V(other)) with a 1 V source behind `z_drive` ohm at port `drive` and `z_other` ohm from port
    `other` to ground."""
    index = {GND: GND, drive: VOUT}  # old node -> new node; the new VIN is the source behind z_drive
    for n in [n for c in tp.parts for n in (c.node_a, c.node_b)] + [other]:
        index.setdefault(n, len(index) + 1)
    parts = [(c.kind, index[c.node_a], index[c.node_b], c.value) for c in tp.parts]
    parts += [("R", VIN, VOUT, z_drive), ("R", index[other], GND, z_other)]
    edges: dict[tuple[int, int], dict[str, float]] = {}
    for kind, a, b, value in parts:
        slot = edges.setdefault((min(a, b), max(a, b)), {})
        name = {"R": "r_ohm", "L": "l_h", "C": "c_f"}[kind]
        if name in slot:  # a second part of one kind across the same nodes: in parallel
            value = 1.0 / (1.0 / slot[name] + 1.0 / value) if kind != "C" else slot[name] + value
        slot[name] = value
    p = pencil(Circuit(len(index) - 2, {k: Edge(**v) for k, v in edges.items()}))
    volts = []
    for node in (drive, other):
        c = np.zeros_like(p.c)
        c[index[node] - 2] = 1.0
        volts.append(response_hz(Pencil(p.G, p.C, p.b0, p.b1, c), f_hz))
    return volts


def _frequencies(f_hz) -> np.ndarray:
    f = np.atleast_1d(np.asarray(f_hz, dtype=float))
    if f.ndim != 1 or not len(f) or not np.all(np.isfinite(f)) or np.any(f <= 0) or np.any(np.diff(f) <= 0):
        raise ExportError("frequencies must be finite, positive and increasing (Hz)")
    return f


def _reference(value: float | None, default: float, what: str) -> float:
    z = default if value is None else float(value)
    if not (math.isfinite(z) and z > 0):
        raise ExportError(f"{what} reference impedance must be a finite resistance > 0 ohm, not {z:g}")
    return z


def s_parameters(circuit: Circuit, f_hz, source_ohm: float | None = None,
                 load_ohm: float | None = None) -> np.ndarray:
    """S[k] (2 x 2, complex) of the filter between its terminations at each frequency f_hz[k] (Hz): port 1 at the
    node after RS with reference impedance `source_ohm`, port 2 at vout with `load_ohm` (ohm; None: the RS and RL
    of the design). Real references, so power waves and pseudo-waves agree: S11 = 2 V1/Vs - 1 and
    S21 = 2 sqrt(R1/R2) V2/Vs with the source Vs behind R1 and R2 on port 2, from the exact nodal solver.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> s = s_parameters(Circuit(1, {(1, 3): Edge(r_ohm=50.0), (3, 2): Edge(r_ohm=50.0), (0, 2): Edge(r_ohm=50.0)}),
    ...                  [1e3])
    >>> s[0].real.round(6).tolist()  # a 50 ohm series resistor between 50 ohm ports: S11 = 1/3, S21 = 2/3
    [[0.333333, 0.666667], [0.666667, 0.333333]]
    """
    tp = two_port(circuit)
    f = _frequencies(f_hz)
    z1 = _reference(source_ohm, tp.rs_ohm, "the source (port 1)")
    z2 = _reference(load_ohm, tp.rl_ohm, "the load (port 2)")
    v11, v21 = _driven(tp, tp.port1, tp.port2, z1, z2, f)
    v22, v12 = _driven(tp, tp.port2, tp.port1, z2, z1, f)
    s = np.empty((len(f), 2, 2), dtype=complex)
    s[:, 0, 0], s[:, 1, 0] = 2 * v11 - 1, 2 * math.sqrt(z1 / z2) * v21
    s[:, 1, 1], s[:, 0, 1] = 2 * v22 - 1, 2 * math.sqrt(z2 / z1) * v12
    return s


def touchstone_s2p(circuit: Circuit, f_hz, source_ohm: float | None = None, load_ohm: float | None = None,
                   title: str = "circuitlib design") -> str:
    """The filter's S-parameters (`s_parameters`) as Touchstone text, real and imaginary parts, frequencies in Hz:
    version 1 (`# HZ S RI R z0`) when both references are equal; version 2.0 with `[Reference] z1 z2` when they
    differ, as version 1 holds one reference for all ports. Data order S11 S21 S12 S22 in both.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> text = touchstone_s2p(Circuit(1, {(1, 3): Edge(r_ohm=50.0), (3, 2): Edge(r_ohm=50.0),
    ...                                   (0, 2): Edge(r_ohm=50.0)}), [1e3])
    >>> lines = text.splitlines()
    >>> lines[2], [round(float(v), 12) for v in lines[3].split()]
    ('# HZ S RI R 50', [1000.0, 0.333333333333, 0.0, 0.666666666667, 0.0, 0.666666666667, 0.0, 0.333333333333, 0.0])
    """
    f = _frequencies(f_hz)
    tp = two_port(circuit)
    z1 = _reference(source_ohm, tp.rs_ohm, "the source (port 1)")
    z2 = _reference(load_ohm, tp.rl_ohm, "the load (port 2)")
    s = s_parameters(circuit, f, z1, z2)
    head = [f"! {_text(title)}",
            "! S-parameters of the filter between its terminations (circuitlib nodal solver); port 1: after RS, "
            + "port 2: vout"]
    if z1 == z2:
        head.append(f"# HZ S RI R {z1:.17g}")
    else:
        head += ["[Version] 2.0", f"# HZ S RI R {z1:.17g}", "[Number of Ports] 2", "[Two-Port Data Order] 21_12",
                 f"[Number of Frequencies] {len(f)}", f"[Reference] {z1:.17g} {z2:.17g}", "[Network Data]"]
    rows = []
    for fk, sk in zip(f, s):
        values = [sk[0, 0], sk[1, 0], sk[0, 1], sk[1, 1]]
        rows.append(" ".join([f"{fk:.17g}"] + [f"{v.real:.17g} {v.imag:.17g}" for v in values]))
    tail = ["[End]"] if z1 != z2 else []
    return "\n".join(head + rows + tail) + "\n"


# ---------------------------------------------------------------- SVG and one entry point


def to_svg(circuit: Circuit, title: str = "circuitlib design") -> str:
    """The ladder drawing of `report.schematic` as SVG text (no date, fixed ids: the same circuit gives the same
    text)."""
    with matplotlib.rc_context({"svg.hashsalt": "circuitlib", "svg.fonttype": "none"}):
        fig = schematic(circuit, title=title)
        try:
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return buf.getvalue()


def render(kind: str, circuit: Circuit, sweep: AcSweep, title: str) -> str:
    """The text of one export `kind` (FORMATS); `sweep` sets LTspice's `.ac` and the Touchstone frequencies (Hz)."""
    if kind == "ltspice":
        return to_ltspice_asc(circuit, sweep, title)
    if kind == "kicad":
        return to_kicad_net(circuit, title)
    if kind == "touchstone":
        return touchstone_s2p(circuit, sweep.frequencies_hz(), title=title)
    if kind == "svg":
        return to_svg(circuit, title)
    raise ExportError(f"export must be one of {', '.join(FORMATS)}, not {kind!r}")
