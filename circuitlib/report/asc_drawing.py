"""A small drawing of an LTspice schematic (`.asc`) with matplotlib, to show an exported `.asc` without LTspice.

It reads the lines that place things on the sheet and draws them where LTspice would, y axis pointing down:

- `WIRE x1 y1 x2 y2`: a line;
- `SYMBOL name x y rotation` with its `SYMATTR InstName` / `Value` lines: the part between its two pins (the pin
  offsets of `export.SYMBOL_PINS`, turned by `export.pin_offset`, as `to_ltspice_asc` and `read_ltspice_asc` use):
  a zig-zag for a resistor, bumps for an inductor, two plates for a capacitor, a circle for a voltage source, a
  labelled box for any other symbol (at its origin, its pins unknown); one text label per part, name and value;
- `FLAG x y name`: a ground sign for net `0`, else the net's name as a label.

Other lines (`TEXT`, `WINDOW`, `IOPIN`, ...) are not drawn. Every artist carries a `gid` ("wire", "part", "label",
"flag") so that a test can count them. Coordinates are LTspice's grid units (16 per grid step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from circuitlib.core.errors import NetlistError
from circuitlib.report.export import SYMBOL_PINS, Point, si_value, symbol_pins

BODY = 48  # length of a part's body along its pins, grid units; the rest are leads
WIDTH = 10  # half width of a zig-zag, coil or plate
BOX = 24  # half size of the box drawn for a symbol this module does not know


@dataclass
class AscSymbol:
    """A placed symbol: its LTspice name (`res`, `cap`, ...), origin, rotation, pins (None for an unknown symbol)
    and SYMATTR attributes (keys lower case)."""

    symbol: str
    origin: Point
    rotation: str
    pins: tuple[Point, Point] | None
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.attrs.get("instname", self.symbol)

    @property
    def value(self) -> str:
        return " ".join(v for v in (self.attrs.get("value", ""), self.attrs.get("value2", "")) if v and v != '""')


@dataclass
class AscSheet:
    """What an `.asc` places on the sheet: wires, flags (point, net name) and symbols, in file order."""

    wires: list[tuple[Point, Point]] = field(default_factory=list)
    flags: list[tuple[Point, str]] = field(default_factory=list)
    symbols: list[AscSymbol] = field(default_factory=list)


def _int(token: str, line: int) -> int:
    try:
        return int(token)
    except ValueError:
        raise NetlistError(f"line {line}: {token!r} is not an LTspice coordinate") from None


def parse_asc(text: str) -> AscSheet:
    """The WIRE, FLAG, SYMBOL and SYMATTR lines of an `.asc`.

    >>> sheet = parse_asc("WIRE 0 0 96 0\\nFLAG 0 0 vin\\nSYMBOL res 80 -16 R90\\nSYMATTR InstName R1\\n")
    >>> sheet.wires, sheet.flags, sheet.symbols[0].name, sheet.symbols[0].pins
    ([((0, 0), (96, 0))], [((0, 0), 'vin')], 'R1', ((64, 0), (-16, 0)))
    """
    sheet = AscSheet()
    current: AscSymbol | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        f = raw.split()
        key = f[0].upper() if f else ""
        if key == "WIRE" and len(f) >= 5:
            sheet.wires.append(((_int(f[1], n), _int(f[2], n)), (_int(f[3], n), _int(f[4], n))))
        elif key == "FLAG" and len(f) >= 4:
            sheet.flags.append(((_int(f[1], n), _int(f[2], n)), f[3]))
        elif key == "SYMBOL" and len(f) >= 5:
            symbol = f[1].replace("\\", "/").split("/")[-1].lower()
            origin, rotation = (_int(f[2], n), _int(f[3], n)), f[4].upper()
            pins = symbol_pins(symbol, origin, rotation) if symbol in SYMBOL_PINS else None
            current = AscSymbol(symbol, origin, rotation, pins)
            sheet.symbols.append(current)
        elif key == "SYMATTR" and current is not None and len(f) >= 2:
            current.attrs[f[1].lower()] = raw.split(None, 2)[2].strip() if len(f) > 2 else ""
    return sheet


def short_value(value: str) -> str:
    """A part's value for a label: a plain number to 4 significant digits with an SI prefix, else as written.

    >>> short_value("0.0012345678901234567"), short_value("50"), short_value("AC 1")
    ('1.235m', '50', 'AC 1')
    """
    try:
        number = float(value)
    except ValueError:
        return value
    return si_value(number, 4) if number else "0"


def _frame(a: Point, b: Point) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The midpoint, unit vector along a -> b, its normal, and the length."""
    pa, pb = np.asarray(a, float), np.asarray(b, float)
    length = float(np.hypot(*(pb - pa)))
    u = (pb - pa) / length if length else np.array([1.0, 0.0])
    return (pa + pb) / 2, u, np.array([-u[1], u[0]]), length


def _body(symbol: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The body's polylines in the part's own frame, (along, across) from its midpoint, before scaling."""
    half = BODY / 2
    if symbol.startswith("res"):
        t = np.linspace(-half, half, 13)
        w = np.array([0, 1, 0, -1] * 3 + [0], float) * WIDTH
        return [(t, w)]
    if symbol.startswith("ind"):
        t = np.linspace(-half, half, 97)
        w = WIDTH * np.abs(np.sin(4 * math.pi * (t + half) / BODY))
        return [(t, w)]
    if symbol == "cap":
        gap = 4.0
        return [(np.array([-gap, -gap]), np.array([-2 * WIDTH, 2 * WIDTH])),
                (np.array([gap, gap]), np.array([-2 * WIDTH, 2 * WIDTH]))]
    return []


def _draw_symbol(ax: Axes, part: AscSymbol, fontsize: float) -> None:
    label = "\n".join(s for s in (part.name, short_value(part.value)) if s)
    if part.pins is None:  # a symbol this module does not know: a labelled box at its origin
        x, y = part.origin
        ax.add_patch(Rectangle((x - BOX, y - BOX), 2 * BOX, 2 * BOX, fill=False, lw=1.2, gid="part"))
        ax.text(x, y, f"{part.symbol}\n{label}", ha="center", va="center", fontsize=fontsize, gid="label")
        return
    a, b = part.pins
    mid, u, nrm, length = _frame(a, b)
    half = min(BODY / 2, length / 2)
    if part.symbol == "cap":
        half = 4.0
    elif part.symbol == "voltage":
        half = min(20.0, length / 2)
    for start, sign in ((np.asarray(a, float), 1), (np.asarray(b, float), -1)):  # the leads
        end = mid - sign * u * half
        ax.plot([start[0], end[0]], [start[1], end[1]], color="black", lw=1.2, gid="part")
    for t, w in _body(part.symbol):
        pts = mid[:, None] + np.outer(u, t) + np.outer(nrm, w)
        ax.plot(pts[0], pts[1], color="black", lw=1.2, gid="part")
    if part.symbol == "voltage":
        ax.add_patch(Circle(tuple(mid), half, fill=False, lw=1.2, gid="part"))
        plus = mid - u * half * 0.5
        ax.text(plus[0], plus[1], "+", ha="center", va="center", fontsize=fontsize, gid="part")
    if abs(u[0]) >= abs(u[1]):  # a horizontal part: the label above it (y points down)
        ax.text(mid[0], mid[1] - 1.6 * WIDTH, label, ha="center", va="bottom", fontsize=fontsize, gid="label")
    else:  # a vertical one: the label to its right
        ax.text(mid[0] + (half if part.symbol == "voltage" else 2 * WIDTH) + 6, mid[1], label, ha="left",
                va="center", fontsize=fontsize, gid="label")


def _draw_flag(ax: Axes, p: Point, name: str, fontsize: float) -> None:
    x, y = p
    if name == "0":  # ground: three shrinking bars below the point (y down)
        ax.plot([x, x], [y, y + 8], color="black", lw=1.2, gid="flag")
        for k, w in enumerate((16, 10, 4)):
            ax.plot([x - w, x + w], [y + 8 + 5 * k] * 2, color="black", lw=1.2, gid="flag")
        return
    ax.plot([x], [y], marker="o", ms=3, color="tab:blue", gid="flag")
    ax.text(x + 4, y - 6, name, color="tab:blue", ha="left", va="bottom", fontsize=fontsize, gid="flag")


def draw_asc(text: str, ax: Axes | None = None, title: str | None = None, fontsize: float = 7.0) -> Figure:
    """Draw the `.asc` text on `ax` (a new figure sized to the sheet when None) and return the figure: wires as
    lines (gid "wire", one per WIRE line), each symbol at its pins with one label of name and value (gid "label"),
    flags as ground signs or net labels (gid "flag"); y axis downward like LTspice's."""
    sheet = parse_asc(text)
    points = [p for w in sheet.wires for p in w] + [p for p, _ in sheet.flags]
    points += [p for s in sheet.symbols for p in (s.pins or (s.origin,))]
    if ax is None:
        xs, ys = [p[0] for p in points] or [0], [p[1] for p in points] or [0]
        width, height = max(xs) - min(xs) + 160, max(ys) - min(ys) + 160
        scale = min(9.0 / width, 6.0 / height)
        fig, ax = plt.subplots(figsize=(max(3.0, width * scale), max(2.0, height * scale)))
    else:
        fig = ax.figure
    for a, b in sheet.wires:
        ax.plot([a[0], b[0]], [a[1], b[1]], color="tab:green", lw=1.2, gid="wire")
    for part in sheet.symbols:
        _draw_symbol(ax, part, fontsize)
    for p, name in sheet.flags:
        _draw_flag(ax, p, name, fontsize)
    ax.set_aspect("equal")
    ax.margins(0.08)
    ax.autoscale_view()
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return fig
