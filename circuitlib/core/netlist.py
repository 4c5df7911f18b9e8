"""SPICE netlist text in and out.

The reader (`parse_netlist`) reads decks as ngspice reads them, through `deck.read_deck`: the title line,
continuations, comments, engineering values, `.param`, passive subcircuits, one independent V source whose
negative terminal is ground. Anything that could run or reach outside (`.control`, `shell`, `.include`, `.lib`),
active devices and unknown cards are refused with a NetlistError, naming the line, before anything is
simulated. Reading is separate from the design ranges: a 1 F capacitor reads and simulates, and `measure`
reports it as a problem. The writer (`to_netlist`) writes exact values (17 digits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge
from circuitlib.core.deck import Deck, read_deck, spice_number
from circuitlib.core.errors import NetlistError

MAX_BYTES = 256_000
MAX_ELEMENTS = 200
MAX_INTERNAL_NODES = 20
GROUND_NAMES = {"0", "gnd"}
FIELD = {"R": "r_ohm", "L": "l_h", "C": "c_f"}


@dataclass(frozen=True)
class AcSweep:
    """An `.ac` card: `dec` or `oct` points per interval, or `lin` total points."""

    variation: str = "dec"
    points: int = 200
    fstart_hz: float = 1.0
    fstop_hz: float = 1e6

    def card(self) -> str:
        return f".ac {self.variation} {self.points} {self.fstart_hz!r} {self.fstop_hz!r}"

    def frequencies_hz(self) -> np.ndarray:
        """The frequencies of the sweep, as ngspice lays them out.

        >>> AcSweep("dec", 2, 1.0, 100.0).frequencies_hz().round(3).tolist()
        [1.0, 3.162, 10.0, 31.623, 100.0]
        """
        if self.variation == "lin":
            return np.linspace(self.fstart_hz, self.fstop_hz, self.points)
        base = 10.0 if self.variation == "dec" else 2.0
        n = int(math.floor(self.points * math.log(self.fstop_hz / self.fstart_hz, base) + 1e-9)) + 1
        return self.fstart_hz * base ** (np.arange(n) / self.points)


@dataclass
class Parsed:
    """A parsed netlist: the circuit plus the original node names (index -> name)."""

    circuit: Circuit
    node_names: dict[int, str]
    ac: AcSweep | None = None
    element_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader accommodated (ignored cards, units, ...)


parse_value = spice_number  # one reading of SPICE numbers, ngspice's


def parse_netlist(text: str | bytes, output_node: str | None = None, subckt: str | None = None,
                  source_ohm: float | None = None, load_ohm: float | None = None) -> Parsed:
    """Read a SPICE deck as ngspice reads it (`deck.read_deck`: line 1 is the title, `+` continuations, `4k7`,
    `.param`, passive `.subckt`; anything that could run or reach outside is refused before anything is
    simulated). The input node is the one driven by the single V source; `output_node` may be left out when
    the deck's output cards name exactly one node voltage. Names and nodes are case-insensitive.

    >>> parsed = parse_netlist("* divider\\nV1 a 0 AC 1\\nR1 a b 1k\\nR2 b 0 1k\\nC1 b 0 1u\\n", output_node="b")
    >>> parsed.circuit.n_internal, parsed.node_names[1], parsed.element_names
    (0, 'a', ['R1', 'R2', 'C1'])

    A bare `.subckt` (a filter tool's output) is read with `subckt=NAME`, its first pin driven through
    `source_ohm` and its last pin loaded by `load_ohm` (None: open).
    """
    deck = read_deck(text, subckt=subckt)  # bytes are decoded as ngspice reads them (UTF-8, else 8-bit)
    if subckt is not None:
        return _from_subckt(deck, subckt, output_node, source_ohm, load_ohm)
    return from_deck(deck, output_node)


def from_deck(deck: Deck, output_node: str | None = None) -> Parsed:
    """The circuit of a deck read by `read_deck`, with the deck's notes and a note for a source without AC part."""
    src = deck.source
    if src is None:
        raise NetlistError("the netlist has no independent voltage source to define the input node")
    if src.node_neg != "0":
        raise NetlistError(f"line {src.line}: the source's negative terminal must be ground (0), as circuitlib "
                           "drives the input against ground")
    if output_node is None:
        if len(deck.probed_nodes) != 1:
            named = ", ".join(deck.probed_nodes) or "none"
            raise NetlistError(f"name the output node: the deck's output cards name {named}")
        output_node = deck.probed_nodes[0]
    notes = list(deck.notes)
    if src.ac_mag is None:
        notes.append(f"{src.name.upper()} has no AC part: simulated as the AC input at 1 V")
    elements = [(e.name.upper(), e.kind.upper(), e.node_a, e.node_b, e.value) for e in deck.elements]
    ac = None if deck.ac is None else AcSweep(deck.ac.variation, deck.ac.points, deck.ac.fstart_hz, deck.ac.fstop_hz)
    parsed = _build(elements, src.node_pos, output_node.lower(), ac)
    spelled = {i: deck.node_spelling.get(n, n) for i, n in parsed.node_names.items()}
    return Parsed(parsed.circuit, spelled, ac, parsed.element_names, notes)


def _from_subckt(deck: Deck, name: str, output_node: str | None, source_ohm: float | None,
                 load_ohm: float | None) -> Parsed:
    """A bare two-port `.subckt` as a circuit: pins (in, out) or (in, out, ref) with ref tied to ground; the
    first pin is driven through `source_ohm` (None or 0: an ideal source) and the output loaded by `load_ohm`."""
    pins = [p for p in deck.pins if p not in GROUND_NAMES]
    if len(deck.pins) == 3 and deck.pins[2] not in GROUND_NAMES:
        pins = pins[:2]  # the third pin of (in, out, ref) is the reference: ground
    if len(pins) != 2:
        raise NetlistError(f".subckt {name} has pins {' '.join(deck.pins)}: circuitlib reads a two-port "
                           "(in out) or (in out ref) subcircuit")
    for ohm, what in ((source_ohm, "source_ohm"), (load_ohm, "load_ohm")):
        if ohm is not None and not (math.isfinite(ohm) and ohm >= 0):
            raise NetlistError(f"{what} = {ohm} must be a finite resistance >= 0")
    ref = deck.pins[2] if len(deck.pins) == 3 and deck.pins[2] not in GROUND_NAMES else None
    node = lambda n: "0" if n == ref else n  # noqa: E731
    elements = [(e.name.upper(), e.kind.upper(), node(e.node_a), node(e.node_b), e.value) for e in deck.elements]
    source_node, out = pins[0], (output_node or pins[1]).lower()
    if source_ohm:
        source_node = _fresh("vin", {n for e in elements for n in e[2:4]})
        elements.append((_fresh("RS", {e[0] for e in elements}), "R", source_node, pins[0], source_ohm))
    if load_ohm:
        elements.append((_fresh("RL", {e[0] for e in elements}), "R", out, "0", load_ohm))
    parsed = _build(elements, source_node, out, None)
    spelled = {i: deck.node_spelling.get(n, n) for i, n in parsed.node_names.items()}
    return Parsed(parsed.circuit, spelled, None, parsed.element_names, list(deck.notes))


def _fresh(stem: str, used: set[str]) -> str:
    """`stem`, or `stem1`, `stem2`, ...: the first not in `used` (names a termination the subcircuit lacks)."""
    return next(c for c in [stem] + [f"{stem}{i}" for i in range(1, len(used) + 2)] if c not in used)


def _build(elements, source_node: str, output_node: str, ac: AcSweep | None) -> Parsed:
    names = [e[0] for e in elements]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise NetlistError(f"duplicate element name {dupes[0]}")
    key = lambda n: "0" if n.lower() in GROUND_NAMES else n.lower()  # noqa: E731
    if len(elements) > MAX_ELEMENTS:
        raise NetlistError(f"more than {MAX_ELEMENTS} elements")
    for name, _, _, _, value in elements:
        if not value > 0:
            raise NetlistError(f"{name} = {value:g} is not positive: a passive R, L or C has a positive value")
    used = {key(n) for e in elements for n in e[2:4]}
    src, out = key(source_node), key(output_node)
    if out not in used:
        raise NetlistError(f"output node '{output_node}' does not exist in the netlist")
    if out == "0" or out == src:
        raise NetlistError(f"output node '{output_node}' must differ from ground and from the input node")
    if src == "0":
        raise NetlistError("the source must drive a node other than ground")
    index = {"0": GND, src: VIN, out: VOUT}
    for _, _, a, b, _ in elements:
        for n in (key(a), key(b)):
            index.setdefault(n, len(index))
    if len(index) - 3 > MAX_INTERNAL_NODES:
        raise NetlistError(f"more than {MAX_INTERNAL_NODES} internal nodes")
    edges: dict[tuple[int, int], dict[str, float]] = {}
    for name, kind, a, b, value in elements:
        i, j = sorted((index[key(a)], index[key(b)]))
        slot = edges.setdefault((i, j), {})
        if FIELD[kind] in slot:
            raise NetlistError(f"{name}: a second {kind} between the same two nodes (one R, L and C per node pair)")
        slot[FIELD[kind]] = value
    circuit = Circuit(len(index) - 3, {k: Edge(**v) for k, v in edges.items()})
    original = {i: n for n, i in index.items()}
    original[VIN] = source_node
    return Parsed(circuit, original, ac, names)


def to_netlist(circuit: Circuit, ac: AcSweep | None = AcSweep(), title: str = "circuitlib netlist") -> str:
    """SPICE text of `circuit`: the source drives vin, the output is vout, values exact (17 digits).

    >>> print(to_netlist(Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)}), ac=None), end="")
    * circuitlib netlist
    VIN vin 0 DC 0 AC 1
    C1 0 vout 1e-07
    R1 vin vout 1000.0
    .end
    """
    lines = [f"* {title}", "VIN vin 0 DC 0 AC 1"]
    for comp in circuit.components():
        a, b = circuit.node_name(comp.node_a), circuit.node_name(comp.node_b)
        lines.append(f"{comp.name} {a} {b} {comp.value!r}")
    if ac is not None:
        lines.append(ac.card())
    lines.append(".end")
    return "\n".join(lines) + "\n"


def read_netlist_file(path: str, output_node: str | None = None, subckt: str | None = None,
                      source_ohm: float | None = None, load_ohm: float | None = None) -> Parsed:
    """Read and parse a netlist file (arguments as `parse_netlist`); unreadable files raise NetlistError.

    >>> read_netlist_file("/nonexistent.cir", "out")
    Traceback (most recent call last):
    ...
    circuitlib.core.errors.NetlistError: cannot read /nonexistent.cir: No such file or directory
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise NetlistError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_netlist(data, output_node, subckt, source_ohm, load_ohm)
