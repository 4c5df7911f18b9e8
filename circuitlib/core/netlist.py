"""SPICE netlist text in and out.

The reader is strict: it accepts R, L and C cards, one independent V source whose
negative terminal is ground, comment lines, `.ac` and `.end`.
Everything else (`.control`, `.include`, `.lib`, `shell`, subcircuits, models,
other element letters) is rejected with a NetlistError before anything is simulated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from circuitlib.core.circuit import C_RANGE_F, GND, L_RANGE_H, R_RANGE_OHM, VIN, VOUT, Circuit, Edge
from circuitlib.core.errors import NetlistError

MAX_BYTES = 256_000
MAX_ELEMENTS = 200
MAX_INTERNAL_NODES = 20
GROUND_NAMES = {"0", "gnd"}
SUFFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "meg": 1e6, "g": 1e9, "t": 1e12}
VALUE_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|[fpnumkgt])?(ohms?|[fhv]|hz)?$", re.IGNORECASE)
NODE_RE = re.compile(r"^[A-Za-z0-9_]+$")
RANGES = {"R": R_RANGE_OHM, "L": L_RANGE_H, "C": C_RANGE_F}
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


def parse_value(token: str) -> float:
    """A SPICE number with optional scale suffix and unit letters: '10k', '2.2uF', '1e-9'."""
    m = VALUE_RE.match(token)
    if not m:
        raise NetlistError(f"'{token}' is not a number")
    value = float(m.group(1)) * SUFFIX.get((m.group(2) or "").lower(), 1.0)
    if not math.isfinite(value):
        raise NetlistError(f"'{token}' is not finite")
    return value


def _check_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        if b"\x00" in text:
            raise NetlistError("the file is binary, not a netlist")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NetlistError("the file is not UTF-8 text") from None
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise NetlistError(f"the netlist is larger than {MAX_BYTES} bytes")
    if "\x00" in text or any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
        raise NetlistError("the netlist holds control characters")
    return text


def _parse_ac(tokens: list[str], where: str) -> AcSweep:
    if len(tokens) != 5 or tokens[1].lower() not in ("dec", "oct", "lin"):
        raise NetlistError(f"{where}: expected '.ac dec|oct|lin N fstart fstop'")
    try:
        points = int(tokens[2])
    except ValueError:
        raise NetlistError(f"{where}: the number of points '{tokens[2]}' is not an integer") from None
    start, stop = parse_value(tokens[3]), parse_value(tokens[4])
    if not (0 < points <= 10_000 and 0 < start < stop):
        raise NetlistError(f"{where}: need 0 < points <= 10000 and 0 < fstart < fstop")
    return AcSweep(tokens[1].lower(), points, start, stop)


def _element(tokens: list[str], where: str) -> tuple[str, str, str, float]:
    kind = tokens[0][0].upper()
    if len(tokens) != 4:
        raise NetlistError(f"{where}: a {kind} card is 'name node node value'")
    value = parse_value(tokens[3])
    lo, hi = RANGES[kind]
    if value <= 0:
        raise NetlistError(f"{where}: {tokens[0]} = {tokens[3]} is not positive")
    if not lo <= value <= hi:
        raise NetlistError(f"{where}: {tokens[0]} = {value:g} is outside the practical range [{lo:g}, {hi:g}]")
    return kind, tokens[1], tokens[2], value


def _source(tokens: list[str], where: str) -> str:
    if len(tokens) < 3:
        raise NetlistError(f"{where}: a V card is 'name node 0 [DC v] [AC mag [phase]]'")
    if tokens[2].lower() not in GROUND_NAMES:
        raise NetlistError(f"{where}: the source's negative terminal must be ground (0)")
    rest = [t.lower() for t in tokens[3:]]
    i = 0
    while i < len(rest):
        if rest[i] not in ("dc", "ac"):
            raise NetlistError(f"{where}: unexpected '{tokens[3 + i]}' in the source card")
        j = i + 1
        while j < len(rest) and rest[j] not in ("dc", "ac"):
            parse_value(rest[j])
            j += 1
        if j - i - 1 > (1 if rest[i] == "dc" else 2):
            raise NetlistError(f"{where}: too many values after {rest[i].upper()}")
        i = j
    return tokens[1]


def parse_netlist(text: str | bytes, output_node: str) -> Parsed:
    """Parse a netlist; the input node is the one driven by its single V source.

    >>> parsed = parse_netlist("* divider\\nV1 a 0 AC 1\\nR1 a b 1k\\nR2 b 0 1k\\nC1 b 0 1u\\n", output_node="b")
    >>> parsed.circuit.n_internal, parsed.node_names[1], parsed.element_names
    (0, 'a', ['R1', 'R2', 'C1'])
    """
    text = _check_text(text)
    elements: list[tuple[str, str, str, str, float]] = []
    source_node, ac = None, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";")[0].strip()
        where = f"line {number}"
        if not line or line.startswith("*"):
            continue
        tokens = line.split()
        head = tokens[0].lower()
        if head == ".end":
            break
        if head == ".ac":
            ac = _parse_ac(tokens, where)
        elif head[0] in "rlc" and not head.startswith("."):
            elements.append((tokens[0].upper(), *_element(tokens, where)))
        elif head[0] == "v":
            if source_node is not None:
                raise NetlistError(f"{where}: more than one independent source")
            source_node = _source(tokens, where)
        else:
            raise NetlistError(f"{where}: '{tokens[0]}' is not accepted (only R, L, C, one V source, comments, .ac, .end)")
        if len(elements) > MAX_ELEMENTS:
            raise NetlistError(f"more than {MAX_ELEMENTS} elements")
    if source_node is None:
        raise NetlistError("the netlist has no independent voltage source to define the input node")
    return _build(elements, source_node, output_node, ac)


def _build(elements, source_node: str, output_node: str, ac: AcSweep | None) -> Parsed:
    names = [e[0] for e in elements]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise NetlistError(f"duplicate element name {dupes[0]}")
    key = lambda n: "0" if n.lower() in GROUND_NAMES else n  # noqa: E731
    for _, _, a, b, _ in elements:
        for n in (a, b):
            if not NODE_RE.match(n):
                raise NetlistError(f"node name '{n}' is not alphanumeric")
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


def read_netlist_file(path: str, output_node: str) -> Parsed:
    """Read and parse a netlist file; unreadable files raise NetlistError.

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
    return parse_netlist(data, output_node)
