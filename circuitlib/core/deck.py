"""Read a SPICE deck of a linear passive circuit the way ngspice 39 reads it.

`read_deck(text)` turns deck text into a plain intermediate representation (`Deck`): the R, L and C
elements after subcircuit flattening, the one independent voltage source, the `.ac` card, the node
voltages that output cards name, and one note per accommodation. Every deck that could execute
something, reach outside, or is not a linear passive circuit driven by one voltage source is refused
with a `NetlistError` while reading, before anything is simulated; the message is one line that starts
with `line N: `. Nothing here opens a file, runs a command, or calls `eval`/`exec`.

The accepted language
---------------------
Lines. Line 1 is always the title (as in SPICE), except that a first line ngspice would still follow or
run (`.include`, `.lib`, `.control`, `*ng_script`, `*#`) is refused. `.title xyz` sets the title.
A line starting with `+` (after blanks) continues the previous card; comment and blank lines may sit in
between. Whole-line comments: `*`, `$`, `;`, `//`. Inline comments: `;` and `//` anywhere, `$` when it
starts the line or follows a blank or tab (so `1$x` is a name). `*#` lines are ngspice commands and are
refused. Reading stops at `.end`; the lines after it are ignored, but `.control` (which ngspice 39 still
runs after `.end`), `.include`, `.lib`, `*#` and `shell` there are refused all the same.
Text: bytes are decoded as UTF-8, else as Windows-1252 (Latin-1 plus printable 0x80-0x9F, as PSpice
writes comments), else Latin-1 (LTspice writes Latin-1 `µ`); a leading BOM is dropped.
NUL bytes, control characters other than tab/CR/LF, format characters and line separators are refused;
so is a deck over 256,000 bytes. Names are case-insensitive (canonical form: lower case).

Fields are separated by blanks, tabs and commas; `=`, `(` and `)` are tokens of their own; `{...}` and
`'...'` are expressions. Nodes: `0` and `gnd` (any case) are ground, canonical `'0'`; other nodes are
their lower-case names, and `Deck.node_spelling` keeps the first spelling seen.

Elements (name = letter + anything, the letter alone is a valid name):
    Rname n1 n2 value|r=value [m=..] [ac=..] [tc1=..] [tc2=..] [tc=a[,b]] [tce=..]  (also resistance=)
    Lname n1 n2 value|l=value [m=..] [ic=..] [tc1=..] [tc2=..]        (also inductance=)
    Cname n1 n2 value|c=value [m=..] [ic=..] [tc1=..] [tc2=..]        (also capacitance=)
`m=` is ngspice's multiplier: m parallel copies, folded into `Element.value` (R/m, L/m, C*m; checked
against ngspice 39). `ac=` on a resistor is its AC resistance: ngspice uses it in `.ac`, so it becomes
the value (with a note). `ic=` and temperature coefficients are ignored with a note (they do not change
an AC analysis at the nominal temperature); temperature coefficients together with `.temp` or
`.options temp=/tnom=` are refused. PSpice's `tc=a,b` is accepted with a note although ngspice 39
stops on it. A missing value is refused (ngspice would use 1 mOhm).

One independent voltage source:
    Vname n+ n- [[DC] v] [AC [mag [phase]]] [SIN|PULSE|PWL|EXP|SFFM|AM|TRNOISE|TRRANDOM (...) or bare]
`AC` alone means magnitude 1, phase 0, as in ngspice; `ac_mag`/`ac_phase_deg` are None without an AC
part and `dc` is None without a DC value. Transient parts (and DISTOF1/2) are evaluated, then ignored
with a note. Current sources, a second source, and sources inside `.subckt` are refused.

Values (element, source and `.ac` fields) follow ngspice's INPevaluate, checked against ngspice 39:
`[+-]digits[.digits][e[+-]digits]` then an optional scale factor, case-insensitive: t=1e12 g=1e9
k=1e3 meg=1e6 m=1e-3 mil=25.4e-6 u=µ(U+00B5)=1e-6 n=1e-9 p=1e-12 f=1e-15; everything after that is
ignored (units). So `4k7` is 4000, `2u2` is 2e-6, `1r5` is 1, `1a` is 1 (no atto), `1μF` with the
Greek mu U+03BC is 1: these are read as ngspice reads them, with a note. A value may also be
`{expr}`, `'expr'` or a bare `.param` name.

Expressions (`.param`, `{...}`, subcircuit parameters) follow ngspice 39's numparam: numbers as
above except that `mil` is milli and digits after the unit letters (`4k7`) are an error; `+ - * /`,
`^` and `**` (left-associative, binding tighter than unary minus, and taking |x| as ngspice does, so
`(-2)^3` is 8), parentheses, `.param` names, and sqrt sqr exp ln log (natural) log10 abs min max pow
pwr. ngspice 39 numparam has no `pi`; neither does this. Division by zero, unknown names, and
non-finite results are refused. `.param` definitions may come in any order (as ngspice sorts them); a
later definition of the same name wins; a cycle is refused.

Subcircuits: `.subckt NAME pins... [params:] [a=1 ...]` ... `.ends [NAME]` at top level, holding R, L, C,
X and `.param` cards only (no nested definitions). `Xname nodes... NAME [params:] [a=..]` flattens
it: internal nodes become `x1.n1` (canonical, as ngspice names them), elements `X1.R2` (the user's
spelling joined with '.'; ngspice says `r.x1.r2`). Parameters are looked up in the instance, then in
the instantiating subcircuit, then globally (as ngspice does). Nesting deeper than 10 levels,
recursion, and pin-count mismatches are refused; at most 2,000 elements and 2,000 instances, and a
work budget (card text and expression tokens re-read per instance) bounds the time any deck can take.
`read_deck(text, subckt='NAME')` reads a deck that only defines subcircuits: NAME's body becomes the
top level (its pins are the node names, element and node names stay unprefixed, `Deck.pins` lists them in
order) and `source` is None.

Dot cards: `.ac dec|oct|lin N fstart fstop` (one; N a whole number up to 100,000; fstart > 0 except for
`lin`, which may start at 0 as in ngspice; fstop >= fstart). Ignored with a note: `.op .tran .dc .noise .print
.plot .probe .probe64 .save .meas .measure .options .option .opt .temp .ic .nodeset .four .fourier .width
.tf .pz .sens .disto .backanno .end` (`.backanno` is in every LTspice export; the analyses are harmless).
`v(x) vdb(x) vm(x) vp(x) vr(x) vi(x)`, and PSpice's `n(x)` and `v([x])`, in `.print .plot .probe
.probe64 .save .meas .measure .noise .tf .four .fourier` fill `probed_nodes`, and so does the output
node of `.pz in+ in- out 0 ...`; `v(a,b)` is skipped with a note. Any other dot card is refused.
Refused element letters: D Q M J Z (active devices), E F G H (controlled sources), B (behavioural),
S W (switches), T O U Y P (lines), K (mutual inductance), A (XSPICE), N (OSDI), I (current source).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from circuitlib.core.errors import NetlistError

MAX_BYTES = 256_000
MAX_ELEMENTS = 2_000
MAX_INSTANCES = 2_000
MAX_DEPTH = 10
MAX_NESTING = 60
MAX_AC_POINTS = 100_000
MAX_WORK = 1_500_000


@dataclass(frozen=True)
class Element:
    """One R, L or C after flattening; `value` is in SI units with any `m=` multiplier folded in."""

    name: str
    kind: str
    node_a: str
    node_b: str
    value: float
    line: int


@dataclass(frozen=True)
class Source:
    """The independent voltage source; `ac_*` are None without an AC part, `dc` without a DC value."""

    name: str
    node_pos: str
    node_neg: str
    ac_mag: float | None
    ac_phase_deg: float | None
    dc: float | None
    line: int


@dataclass(frozen=True)
class AcCard:
    """An `.ac` card: `dec`/`oct` points per interval or `lin` total points, from fstart to fstop."""

    variation: str
    points: int
    fstart_hz: float
    fstop_hz: float


@dataclass(frozen=True)
class Deck:
    """A deck as read: see the module docstring for what each field holds."""

    title: str
    elements: tuple[Element, ...]
    source: Source | None
    ac: AcCard | None
    node_spelling: dict[str, str]
    probed_nodes: tuple[str, ...]
    notes: tuple[str, ...]
    pins: tuple[str, ...] = ()  # the pins of the subcircuit read with subckt=NAME, in order; () otherwise


class _Problem(Exception):
    """A problem in one card; the card loop turns it into a NetlistError naming the card's line."""


def _fail(line: int, message: str) -> NetlistError:
    return NetlistError(f"line {line}: " + " ".join(message.split()))


def _q(token: str) -> str:
    shown = token if len(token) <= 40 else token[:40] + "..."
    return "'" + shown.encode("ascii", "backslashreplace").decode("ascii") + "'"


class _Notes:
    """Notes keyed by text, each listing the lines it applies to."""

    def __init__(self) -> None:
        self._lines: dict[str, list[int]] = {}

    def add(self, text: str, line: int) -> None:
        lines = self._lines.setdefault(text, [])
        if line not in lines:
            lines.append(line)

    def render(self) -> tuple[str, ...]:
        out = []
        for text, lines in sorted(self._lines.items(), key=lambda item: item[1][0]):
            shown = ", ".join(str(n) for n in lines[:10]) + (", ..." if len(lines) > 10 else "")
            out.append(f"{text} (line{'s' if len(lines) > 1 else ''} {shown})")
        return tuple(out)


# ---------------------------------------------------------------------------------------------------
# Text, lines and cards

_LINE_SPLIT = re.compile(r"\r\n|\r|\n")
_BAD_ASCII = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_COMMENT = re.compile(r";|//|(?<![^ \t])\$")


@dataclass
class _Card:
    line: int
    text: str


def _line_of(text: str, index: int) -> int:
    return len(_LINE_SPLIT.split(text[:index]))


def _decode(data: str | bytes, notes: _Notes) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise _fail(1, f"the deck is {len(data)} bytes; at most {MAX_BYTES} are read")
        nul = data.find(b"\x00")
        if nul >= 0:
            raise _fail(data[:nul].count(b"\n") + 1, "NUL byte: this is binary data, not a SPICE deck")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_8bit(data, notes)
    else:
        text = data
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_BYTES:
            raise _fail(1, f"the deck is {size} bytes; at most {MAX_BYTES} are read")
    text = text.removeprefix("\ufeff")
    _check_characters(text)
    return text


def _decode_8bit(data: bytes, notes: _Notes) -> str:
    """Windows-1252 where every byte is defined there (it is Latin-1 except 0x80-0x9F), else Latin-1."""
    try:
        text = data.decode("cp1252")
        notes.add("decoded as Windows-1252/Latin-1 (the bytes are not UTF-8)", 1)
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.add("decoded as Latin-1 (the bytes are not UTF-8)", 1)
    return text


def _check_characters(text: str) -> None:
    found = _BAD_ASCII.search(text)
    bad = found.start() if found else len(text)
    for match in _NON_ASCII.finditer(text, 0, bad):
        if unicodedata.category(match.group()) in _BAD_CATEGORIES:
            bad = match.start()
            break
    if bad < len(text):
        if text[bad] == "\x00":
            raise _fail(_line_of(text, bad), "NUL character: this is binary data, not a SPICE deck")
        raise _fail(_line_of(text, bad), f"control or format character U+{ord(text[bad]):04X} is not allowed")


def _title(lines: list[str]) -> str:
    title = lines[0].strip() if lines else ""
    low = title.lower()
    for prefix, what in ((".inc", ".include"), (".lib", ".lib"), (".control", ".control"), (".endc", ".endc"),
                         ("*ng_script", "*ng_script"), ("*#", "*#")):
        if low.startswith(prefix):
            raise _fail(1, f"the title line starts with {what}, which ngspice would act on; refused")
    return title


def _screen_card(text: str, line: int) -> None:
    head = text.split(None, 1)[0].lower()
    if head.startswith((".control", ".endc")):
        raise _fail(line, f"{head}: .control blocks run ngspice commands; refused")
    if head.startswith(".inc"):
        raise _fail(line, f"{head}: .include is refused; the reader never opens other files")
    if head.startswith(".lib"):
        raise _fail(line, f"{head}: .lib is refused; the reader never opens other files")
    if head == "shell":
        raise _fail(line, "'shell' runs a system command; refused")


def _screen_comment(text: str, line: int) -> None:
    if text.startswith("*#"):
        raise _fail(line, "'*#' lines are ngspice commands; refused (write '* #' for a comment)")


def _after_end(lines: list[str], start: int, end_line: int, notes: _Notes) -> None:
    ignored = 0
    for index in range(start, len(lines)):
        text = lines[index].strip()
        if not text:
            continue
        ignored += 1
        if text.startswith("*"):
            _screen_comment(text, index + 1)
        elif text.lower().startswith((".control", ".endc")):
            raise _fail(index + 1, ".control after .end is refused: ngspice still runs it")
        else:
            _screen_card(text, index + 1)
    extra = f"; ignored {ignored} line{'s' if ignored != 1 else ''} after it" if ignored else ""
    notes.add(f"stopped reading at .end{extra}", end_line)


def _cards(lines: list[str], notes: _Notes) -> tuple[list[_Card], int]:
    """Logical cards (comments stripped, continuations joined) and the line where reading stopped."""
    cards: list[_Card] = []
    for index in range(1, len(lines)):
        number = index + 1
        stripped = lines[index].strip()
        if stripped.startswith("*"):
            _screen_comment(stripped, number)
            continue
        text = _COMMENT.split(stripped, 1)[0].strip()
        if not text:
            continue
        if text.startswith("+"):
            if not cards:
                raise _fail(number, "'+' continues a card, but no card comes before it")
            cards[-1].text += " " + text[1:]
            continue
        _screen_card(text, number)
        if text.split(None, 1)[0].lower() == ".end":
            _after_end(lines, index + 1, number, notes)
            return cards, number
        cards.append(_Card(number, text))
    return cards, max((i + 1 for i, text in enumerate(lines) if text.strip()), default=1)


_STOP = " \t,=(){}'\""


def _close_brace(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise _Problem("unterminated '{'")


def _tokens(text: str) -> list[str]:
    """Split a card into words, '=', '(', ')' and '{expr}' (a quoted 'expr' becomes '{expr}')."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in " \t,":
            index += 1
        elif char in "=()":
            out.append(char)
            index += 1
        elif char == "{":
            end = _close_brace(text, index)
            out.append(text[index:end + 1])
            index = end + 1
        elif char == "'":
            end = text.find("'", index + 1)
            if end < 0:
                raise _Problem("unterminated quote")
            out.append("{" + text[index + 1:end] + "}")
            index = end + 1
        elif char in "}\"":
            raise _Problem(f"unexpected {_q(char)}")
        else:
            end = index
            while end < len(text) and text[end] not in _STOP:
                end += 1
            out.append(text[index:end])
            index = end
    return out


# ---------------------------------------------------------------------------------------------------
# Numbers

_SCALE = {"t": 12, "g": 9, "k": 3, "m": -3, "u": -6, "\u00b5": -6, "n": -9, "p": -12, "f": -15}
_NUMBER = re.compile(r"([+-]?)(?=\.?\d)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d*))?")
_NUMBER_START = re.compile(r"[+-]?\.?\d")
_LETTERS = re.compile(r"[A-Za-z\u00b5\u03bc]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.#$:\[\]<>!|/@%~&+\-]{0,99}")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.#$:\[\]<>!|/@%~&+\-]{0,99}")


def _decimal(match: re.Match[str], shift: int) -> float:
    """The number a _NUMBER match spells, times 10**shift, rounded once (4.7k is exactly 4700)."""
    sign, whole, frac, exponent = match.group(1), match.group(2), match.group(3) or "", match.group(4) or ""
    digits = (whole + frac).lstrip("0") or "0"
    exp_digits = exponent.lstrip("+-") or "0"
    if len(exp_digits) > 6:
        exp_value = 10**7 if not exponent.startswith("-") else -(10**7)
    else:
        exp_value = int(exponent[:1] + exp_digits if exponent[:1] == "-" else exp_digits)
    return float(f"{sign}{digits}e{exp_value - len(frac) + shift}")


def _plain_scale(tail: str) -> tuple[int, float, str]:
    low = tail.lower()
    if low.startswith("meg"):
        return 6, 1.0, tail[3:]
    if low.startswith("mil"):
        return 0, 25.4e-6, tail[3:]
    if low[:1] in _SCALE:
        return _SCALE[low[0]], 1.0, tail[1:]
    return 0, 1.0, tail


def _plain_number(token: str) -> tuple[float, str]:
    """ngspice's INPevaluate: the value and the ignored rest of the token."""
    if len(token) > 100:
        raise _Problem(f"{_q(token)} is too long for a number")
    match = _NUMBER.match(token)
    if match is None:
        raise _Problem(f"{_q(token)} is not a number")
    shift, factor, rest = _plain_scale(token[match.end():])
    return _decimal(match, shift) * factor, rest


def spice_number(token: str) -> float:
    """A SPICE value as ngspice reads it: '4k7' is 4000, '2.2uF' 2.2e-6, '1meg' 1e6 (units after the scale are
    ignored). Raises NetlistError for a token that is not a number.

    >>> spice_number("10kOhm"), spice_number("2u2"), spice_number("1MEG")
    (10000.0, 2e-06, 1000000.0)
    """
    try:
        value, _ = _plain_number(token)
    except _Problem as exc:
        raise NetlistError(str(exc)) from None
    if not math.isfinite(value):
        raise NetlistError(f"{_q(token)} is not finite")
    return value


def _expr_scale(letters: str) -> int:
    low = letters.lower()
    if low.startswith("meg"):
        return 6
    return _SCALE.get(low[:1], 0)


# ---------------------------------------------------------------------------------------------------
# Expressions (ngspice 39 numparam), by recursive descent: no eval, no exec, a whitelist of functions


def _pwr(base: float, exponent: float) -> float:
    return math.pow(abs(base), exponent)


_FUNCS: dict[str, tuple[int, Callable[..., float]]] = {
    "sqrt": (1, math.sqrt), "sqr": (1, lambda x: x * x), "exp": (1, math.exp), "ln": (1, math.log),
    "log": (1, math.log), "log10": (1, math.log10), "abs": (1, abs), "min": (2, min), "max": (2, max),
    "pow": (2, math.pow), "pwr": (2, _pwr),
}
_EXPR_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d*)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                         r"|(?P<op>\*\*|[-+*/^(){},]))")


@dataclass
class _Budget:
    """Nesting shared by parentheses and parameter references, so no input can exhaust the stack, and
    work (card characters and expression tokens, counted again for each subcircuit instance), so no
    small deck can make flattening run for minutes."""

    depth: int = 0
    work: int = 0

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > MAX_WORK:
            raise _Problem("the deck takes too much work to read (too many or too long cards after flattening)")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Problem(f"expressions and parameters nest more than {MAX_NESTING} deep")

    def leave(self) -> None:
        self.depth -= 1


def _expr_tokens(text: str, warn: Callable[[str], None]) -> list[tuple[str, str | float]]:
    out: list[tuple[str, str | float]] = []
    index = 0
    while index < len(text):
        match = _EXPR_TOKEN.match(text, index)
        if match is None:
            if text[index:].strip():
                raise _Problem(f"unexpected {_q(text[index:].lstrip()[:1])} in expression")
            break
        index = match.end()
        if match.group("num") is not None:
            number = _NUMBER.match(match.group("num"))
            assert number is not None
            letters = _LETTERS.match(text, index).group()
            index += len(letters)
            if index < len(text) and (text[index].isdigit() or text[index] == "."):
                raise _Problem(f"{_q(match.group('num').lstrip() + letters + text[index])}... is not a number ngspice "
                               "reads in an expression (digits after the unit)")
            if "\u03bc" in letters:
                warn(f"read {_q(match.group('num').strip() + letters)} ignoring the Greek mu U+03BC, as ngspice 39 "
                     "does (write u or \u00b5 for micro)")
            out.append(("num", _decimal(number, _expr_scale(letters))))
        elif match.group("name") is not None:
            out.append(("name", match.group("name").lower()))
        else:
            out.append(("op", match.group("op")))
    return out


class _Parser:
    """sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*; unary := sign* power;
    power := atom (('^'|'**') sign* atom)* (left-associative); atom := number | name | f(args) | (sum)."""

    def __init__(self, text: str, lookup: Callable[[str], float], budget: _Budget,
                 warn: Callable[[str], None]) -> None:
        budget.spend(len(text))
        self.toks = _expr_tokens(text, warn)
        self.pos = 0
        self.lookup = lookup
        self.budget = budget

    def run(self) -> float:
        if not self.toks:
            raise _Problem("empty expression")
        value = self._sum()
        if self.pos < len(self.toks):
            raise _Problem(f"unexpected {_q(str(self.toks[self.pos][1]))} in expression")
        if not math.isfinite(value):
            raise _Problem("the expression is not finite")
        return value

    def _peek(self) -> str | None:
        if self.pos < len(self.toks) and self.toks[self.pos][0] == "op":
            return str(self.toks[self.pos][1])
        return None

    def _take(self) -> tuple[str, str | float]:
        if self.pos >= len(self.toks):
            raise _Problem("the expression ends too early")
        self.pos += 1
        return self.toks[self.pos - 1]

    def _expect(self, op: str) -> None:
        if self._peek() != op:
            raise _Problem(f"expected {_q(op)} in expression")
        self.pos += 1

    def _sum(self) -> float:
        value = self._product()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            right = self._product()
            value = value + right if op == "+" else value - right
        return value

    def _product(self) -> float:
        value = self._unary()
        while self._peek() in ("*", "/"):
            op = self._take()[1]
            right = self._unary()
            if op == "/" and right == 0:
                raise _Problem("division by zero")
            value = value * right if op == "*" else value / right
        return value

    def _signs(self) -> float:
        sign = 1.0
        while self._peek() in ("+", "-"):
            sign = -sign if self._take()[1] == "-" else sign
        return sign

    def _unary(self) -> float:
        sign = self._signs()
        return sign * self._power()

    def _power(self) -> float:
        value = self._atom()
        while self._peek() in ("^", "**"):
            self.pos += 1
            sign = self._signs()
            value = _apply("^", _pwr, [value, sign * self._atom()])
        return value

    def _atom(self) -> float:
        kind, token = self._take()
        if kind == "num":
            return float(token)
        if kind == "name":
            return self._call(str(token)) if self._peek() == "(" else self.lookup(str(token))
        if token in ("(", "{"):
            return self._group(")" if token == "(" else "}")
        raise _Problem(f"unexpected {_q(str(token))} in expression")

    def _group(self, closing: str) -> float:
        self.budget.enter()
        try:
            value = self._sum()
        finally:
            self.budget.leave()
        self._expect(closing)
        return value

    def _call(self, name: str) -> float:
        if name not in _FUNCS:
            raise _Problem(f"unknown function {_q(name)}")
        arity, func = _FUNCS[name]
        self._expect("(")
        self.budget.enter()
        try:
            args = [self._sum()]
            while self._peek() == ",":
                self.pos += 1
                args.append(self._sum())
        finally:
            self.budget.leave()
        self._expect(")")
        if len(args) != arity:
            raise _Problem(f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, not {len(args)}")
        return _apply(name, func, args)


def _apply(name: str, func: Callable[..., float], args: list[float]) -> float:
    try:
        value = float(func(*args))
    except (ValueError, OverflowError, ZeroDivisionError):
        raise _Problem(f"{name} of {', '.join(f'{a:g}' for a in args)} is not a finite number") from None
    if not math.isfinite(value):
        raise _Problem(f"{name} of {', '.join(f'{a:g}' for a in args)} is not a finite number")
    return value


class _Scope:
    """Parameters of one level (global, or one subcircuit instance), evaluated lazily in any order."""

    def __init__(self, defs: dict[str, tuple[str, int]], parent: _Scope | None, notes: _Notes,
                 budget: _Budget, fixed: dict[str, float] | None = None) -> None:
        self.defs = defs
        self.parent = parent
        self.notes = notes
        self.budget = budget
        self.values: dict[str, float] = dict(fixed or {})
        self.busy: set[str] = set()

    def lookup(self, name: str) -> float:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            if name in scope.defs:
                return scope._define(name)
            scope = scope.parent
        raise _Problem(f"unknown name {_q(name)}")

    def _define(self, name: str) -> float:
        text, line = self.defs[name]
        if name in self.busy:
            raise _fail(line, f".param {name} depends on itself")
        self.busy.add(name)
        self.budget.enter()
        try:
            value = self.evaluate(text, line)
        except _Problem as problem:
            raise _fail(line, f".param {name}: {problem}") from None
        finally:
            self.budget.leave()
            self.busy.discard(name)
        self.values[name] = value
        return value

    def evaluate(self, text: str, line: int) -> float:
        return _Parser(text, self.lookup, self.budget, lambda note: self.notes.add(note, line)).run()

    def evaluate_all(self) -> None:
        for name in self.defs:
            self.lookup(name)


# ---------------------------------------------------------------------------------------------------
# Structure: top level, subcircuit definitions, .param definitions

_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_BODY_LETTERS = set("rlcx")


@dataclass
class _Sub:
    name: str
    display: str
    pins: tuple[str, ...]
    pin_spelling: tuple[str, ...]
    defaults: dict[str, tuple[str, int]]
    line: int
    body: list[_Card] = field(default_factory=list)
    locals: dict[str, tuple[str, int]] = field(default_factory=dict)


def _depths(text: str) -> list[int]:
    depth, quoted, out = 0, False, []
    for char in text:
        out.append(depth + quoted)
        if char == "'":
            quoted = not quoted
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
    return out


def _expr_text(token: str) -> str:
    return token[1:-1] if token.startswith("{") else token


def _param_defs(card: _Card) -> dict[str, tuple[str, int]]:
    """`.param a=1 b = {a*2} c='a+b'`: name -> (expression text, line)."""
    body = card.text.split(None, 1)[1] if len(card.text.split(None, 1)) > 1 else ""
    depth = _depths(body)
    found = [m for m in _ASSIGN.finditer(body) if depth[m.start()] == 0]
    if not found or body[:found[0].start()].strip():
        raise _fail(card.line, ".param needs name=value assignments")
    defs: dict[str, tuple[str, int]] = {}
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(body)
        expr = body[match.end():end].strip().rstrip(",").strip()
        if len(expr) >= 2 and expr[0] == expr[-1] == "'":
            expr = expr[1:-1]
        if not expr:
            raise _fail(card.line, f".param {match.group(1)} has no value")
        defs[match.group(1).lower()] = (expr, card.line)
    return defs


def _split_args(toks: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Positional words, then name=value pairs (PSpice's `tc=a,b` takes two; `params:` is skipped)."""
    positional: list[str] = []
    keyed: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(toks):
        token = toks[index]
        if token.lower().startswith("params:"):
            if len(token) > len("params:"):
                toks = toks[:index] + [token[len("params:"):]] + toks[index + 1:]
            else:
                index += 1
        elif index + 1 < len(toks) and toks[index + 1] == "=":
            if index + 2 >= len(toks) or toks[index + 2] in ("=", "(", ")"):
                raise _Problem(f"{_q(token)}= has no value")
            values = [toks[index + 2]]
            index += 3
            if token.lower() == "tc" and index < len(toks) and toks[index] not in ("=", "(", ")") and (
                    index + 1 >= len(toks) or toks[index + 1] != "="):
                values.append(toks[index])
                index += 1
            keyed.append((token.lower(), values))
        elif token in ("=", "(", ")"):
            raise _Problem(f"unexpected {_q(token)}")
        elif keyed:
            raise _Problem(f"unexpected {_q(token)} after name=value parameters")
        else:
            positional.append(token)
            index += 1
    return positional, keyed


def _subckt_header(card: _Card) -> _Sub:
    toks = _tokens(card.text)
    if len(toks) < 2 or not _NAME.fullmatch(toks[1]):
        raise _Problem(".subckt needs a name")
    pins, keyed = _split_args(toks[2:])
    for pin in pins:
        if not _NODE.fullmatch(pin):
            raise _Problem(f"{_q(pin)} is not a pin name")
        if pin.lower() in ("0", "gnd"):
            raise _Problem(f"pin {_q(pin)} is ground; a pin must be a node of its own")
    lowered = tuple(p.lower() for p in pins)
    if len(set(lowered)) != len(lowered):
        raise _Problem(f".subckt {toks[1]} names a pin twice")
    defaults = {}
    for key, values in keyed:
        if not _IDENT.fullmatch(key):
            raise _Problem(f"{_q(key)} is not a parameter name")
        defaults[key] = (_expr_text(values[0]), card.line)
    return _Sub(toks[1].lower(), toks[1], lowered, tuple(pins), defaults, card.line)


def _screen_body(card: _Card, sub: _Sub) -> None:
    head = card.text.split(None, 1)[0].lower()
    if head.startswith("."):
        raise _Problem(f"{head} inside .subckt {sub.display} is not supported (only R, L, C, X and .param)")
    if head[0] in "vi":
        raise _Problem(f"independent sources inside .subckt are not supported ({head})")
    if head[0] in _LETTER_REASONS:
        raise _Problem(f"{head}: {_LETTER_REASONS[head[0]]}")
    if head[0] not in _BODY_LETTERS:
        raise _Problem(f"unknown card {_q(head)}")


def _structure(cards: list[_Card], notes: _Notes) -> tuple[list[_Card], dict[str, _Sub], dict[str, tuple[str, int]]]:
    """Split cards into top-level cards, subcircuit definitions and global .param definitions."""
    top: list[_Card] = []
    subs: dict[str, _Sub] = {}
    global_defs: dict[str, tuple[str, int]] = {}
    current: _Sub | None = None
    for card in cards:
        words = card.text.split()
        head = words[0].lower()
        try:
            if head == ".subckt":
                if current is not None:
                    raise _Problem(f"nested .subckt definitions are not supported (inside {current.display})")
                current = _subckt_header(card)
            elif head == ".ends":
                _close_subckt(current, words, card, subs, notes)
                current = None
            elif head == ".param":
                (current.locals if current else global_defs).update(_param_defs(card))
            elif current is not None:
                _screen_body(card, current)
                current.body.append(card)
            else:
                top.append(card)
        except _Problem as problem:
            raise _fail(card.line, str(problem)) from None
    if current is not None:
        raise _fail(current.line, f".subckt {current.display} has no .ends")
    return top, subs, global_defs


def _close_subckt(current: _Sub | None, words: list[str], card: _Card, subs: dict[str, _Sub],
                  notes: _Notes) -> None:
    if current is None:
        raise _Problem(".ends without .subckt")
    if len(words) > 1 and words[1].lower() != current.name:
        notes.add(f".ends {words[1]} closes .subckt {current.display}; ngspice ignores the name", card.line)
    if current.name in subs:
        raise _Problem(f".subckt {current.display} is defined twice (first on line {subs[current.name].line})")
    subs[current.name] = current


# ---------------------------------------------------------------------------------------------------
# Cards

_LETTER_REASONS = {
    "d": "diodes are active devices; only R, L, C, X and one V source are read",
    "q": "BJTs are active devices; only R, L, C, X and one V source are read",
    "m": "MOSFETs are active devices; only R, L, C, X and one V source are read",
    "j": "JFETs are active devices; only R, L, C, X and one V source are read",
    "z": "MESFETs are active devices; only R, L, C, X and one V source are read",
    "e": "controlled sources (E, F, G, H) are not supported",
    "f": "controlled sources (E, F, G, H) are not supported",
    "g": "controlled sources (E, F, G, H) are not supported",
    "h": "controlled sources (E, F, G, H) are not supported",
    "b": "behavioural sources are not supported",
    "s": "switches are not supported",
    "w": "switches are not supported",
    "t": "transmission lines are not supported",
    "o": "lossy transmission lines are not supported",
    "u": "uniform RC lines are not supported",
    "y": "transmission lines are not supported",
    "p": "coupled multiconductor lines are not supported",
    "k": "coupled inductors: mutual inductance is not supported",
    "a": "XSPICE code models are not supported",
    "n": "OSDI (Verilog-A) devices are not supported",
    "i": "current sources are not supported: circuitlib circuits are driven by one voltage source",
}
_IGNORED_DOTS = {".op", ".tran", ".dc", ".options", ".option", ".opt", ".temp", ".ic", ".nodeset", ".width",
                 ".backanno", ".pz", ".sens", ".disto"}
_PROBE_DOTS = {".print", ".plot", ".probe", ".probe64", ".save", ".meas", ".measure", ".noise", ".tf", ".four",
               ".fourier"}
_REFUSED_DOTS = {
    ".model": "models mean semiconductor or non-ideal devices", ".func": "user functions are not supported",
    ".global": "global nodes are not supported", ".csparam": "it passes values to .control scripts",
    ".if": "conditional netlists are not supported", ".elseif": "conditional netlists are not supported",
    ".else": "conditional netlists are not supported", ".endif": "conditional netlists are not supported",
    ".endl": "libraries are not supported",
}
_PROBE_FUNCS = {"v", "vdb", "vm", "vp", "vr", "vi", "n"}
_TRANSIENT = {"sin", "pulse", "pwl", "exp", "sffm", "am", "trnoise", "trrandom"}
_SOURCE_WORDS = {"dc", "ac", "distof1", "distof2"} | _TRANSIENT
_VALUE_KEYS = {"R": ("r", "resistance"), "L": ("l", "inductance"), "C": ("c", "capacitance")}
_KIND_WORD = {"R": "resistance", "L": "inductance", "C": "capacitance"}


@dataclass(frozen=True)
class _Ctx:
    """Where a card is read: the instance path, the pin map, the parameter scope, the subckts above."""

    path: tuple[str, ...]
    pins: dict[str, str]
    scope: _Scope
    stack: tuple[str, ...]
    top: bool
    where: str


class _Reader:
    """Reads cards into elements, the source, the .ac card, probes and notes."""

    def __init__(self, subs: dict[str, _Sub], notes: _Notes, title: str) -> None:
        self.subs = subs
        self.notes = notes
        self.title = title
        self.elements: list[Element] = []
        self.names: dict[str, int] = {}
        self.spelling: dict[str, str] = {}
        self.source: Source | None = None
        self.ac: AcCard | None = None
        self.ac_line = 0
        self.probes: list[str] = []
        self.instances = 0
        self.tc_lines: list[int] = []
        self.temp_lines: list[int] = []
        self.pins: tuple[str, ...] = ()

    # -- entry points -----------------------------------------------------------------------------

    def read_top(self, top: list[_Card], scope: _Scope, end_line: int) -> None:
        if not any(_is_element(card) for card in top):
            if self.subs:
                names = ", ".join(sub.display for sub in self.subs.values())
                raise _fail(end_line, f"the deck has no top-level elements, only .subckt definitions ({names}); "
                                      "pass --subckt NAME to read one of them")
            raise _fail(end_line, "the deck has no R, L or C element")
        ctx = _Ctx((), {}, scope, (), True, "")
        for card in top:
            self.card(card, ctx)
        if not self.elements:
            raise _fail(end_line, "the deck has no R, L or C element")
        if self.source is None:
            raise _fail(end_line, "the deck has no independent voltage source (V card)")
        self._check_temperature()

    def read_subckt(self, top: list[_Card], name: str, scope: _Scope, end_line: int) -> None:
        sub = self.subs.get(name.lower())
        if sub is None:
            names = ", ".join(s.display for s in self.subs.values()) or "none"
            raise _fail(end_line, f"no .subckt named {_q(name)}; the deck defines: {names}")
        ctx = _Ctx((), {}, scope, (), True, "")
        for card in top:
            if not card.text.startswith("."):
                raise _fail(card.line, f"subckt={sub.display} reads the definition alone, but the deck has "
                                       f"the top-level card {_q(card.text.split()[0])}")
            self.card(card, ctx)
        for pin, spelling in zip(sub.pins, sub.pin_spelling):
            self.spelling.setdefault(pin, spelling)
        self.pins = sub.pins
        inner = _Scope({**sub.defaults, **sub.locals}, scope, self.notes, scope.budget)
        inner.evaluate_all()
        body = _Ctx((), {p: p for p in sub.pins}, inner, (sub.name,), False, f"in .subckt {sub.display}: ")
        for card in sub.body:
            self.card(card, body)
        if not self.elements:
            raise _fail(sub.line, f".subckt {sub.display} has no R, L or C element")
        self._check_temperature()

    def deck(self) -> Deck:
        return Deck(self.title, tuple(self.elements), self.source, self.ac, dict(self.spelling),
                    tuple(self.probes), self.notes.render(), self.pins)

    # -- one card ---------------------------------------------------------------------------------

    def card(self, card: _Card, ctx: _Ctx) -> None:
        try:
            ctx.scope.budget.spend(len(card.text))
            self._dispatch(card, _tokens(card.text), ctx)
        except _Problem as problem:
            raise _fail(card.line, ctx.where + str(problem)) from None

    def _dispatch(self, card: _Card, toks: list[str], ctx: _Ctx) -> None:
        head = toks[0].lower() if toks else ""
        if head.startswith("."):
            self._dot(head, toks, card, ctx.scope)
        elif not _NAME.fullmatch(toks[0] if toks else ""):
            raise _Problem(f"unknown card {_q(card.text.split()[0])}")
        elif head[0] in "rlc":
            self._element(toks, card.line, ctx)
        elif head[0] == "v":
            self._vsource(toks, card.line, ctx)
        elif head[0] == "x":
            self._instance(toks, card.line, ctx)
        elif head[0] in _LETTER_REASONS:
            raise _Problem(f"{toks[0]}: {_LETTER_REASONS[head[0]]}")
        else:
            raise _Problem(f"unknown card {_q(toks[0])}")

    def _dot(self, head: str, toks: list[str], card: _Card, scope: _Scope) -> None:
        if head == ".title":
            parts = card.text.split(None, 1)
            self.title = parts[1].strip() if len(parts) > 1 else ""
        elif head == ".ac":
            self._ac(toks, card.line, scope)
        elif head in _PROBE_DOTS:
            self.notes.add(f"ignored {head}", card.line)
            self._probes(toks, card.line)
        elif head in _IGNORED_DOTS:
            self.notes.add(f"ignored {head}", card.line)
            if head == ".pz":
                self._pz_probe(toks, card.line)
            if head == ".temp" or (head.startswith(".opt") and any(t.lower() in ("temp", "tnom") for t in toks)):
                self.temp_lines.append(card.line)
        elif head in _REFUSED_DOTS:
            raise _Problem(f"{head} is refused: {_REFUSED_DOTS[head]}")
        else:
            raise _Problem(f"{_q(head)} is not supported")

    # -- values -----------------------------------------------------------------------------------

    def _value(self, token: str, scope: _Scope, line: int) -> float:
        """An element, source or .ac field: a number (INPevaluate), {expr} or a bare .param name."""
        if token.startswith("{"):
            value = scope.evaluate(token[1:-1], line)
        elif _NUMBER_START.match(token):
            value, rest = _plain_number(token)
            if rest and not (rest.isascii() and rest.isalpha()):
                self.notes.add(f"read {_q(token)} as {value:g}, as ngspice 39 does: it ignores {_q(rest)} after the "
                               "number and scale factor", line)
        elif _IDENT.fullmatch(token):
            value = scope.lookup(token.lower())
        else:
            raise _Problem(f"{_q(token)} is not a number, {{expression}} or .param name")
        if not math.isfinite(value):
            raise _Problem(f"{_q(token)} is not finite")
        return value

    def _positive(self, token: str, what: str, scope: _Scope, line: int) -> float:
        value = self._value(token, scope, line)
        if value <= 0:
            raise _Problem(f"{what} {value:g} is not positive")
        return value

    # -- nodes and names --------------------------------------------------------------------------

    def _node(self, token: str, ctx: _Ctx) -> str:
        if not _NODE.fullmatch(token):
            raise _Problem(f"{_q(token)} is not a node name")
        low = token.lower()
        if low in ("0", "gnd"):
            canonical, spelling = "0", token
        elif low in ctx.pins:
            return ctx.pins[low]
        elif ctx.path:
            canonical = ".".join(p.lower() for p in ctx.path) + "." + low
            spelling = ".".join(ctx.path) + "." + token
        else:
            canonical, spelling = low, token
        self.spelling.setdefault(canonical, spelling)
        return canonical

    def _claim(self, name: str, ctx: _Ctx, line: int) -> str:
        display = ".".join(ctx.path + (name,))
        key = display.lower()
        if key in self.names:
            raise _Problem(f"duplicate name {display} (first on line {self.names[key]}); names are case-insensitive")
        self.names[key] = line
        return display

    # -- elements ---------------------------------------------------------------------------------

    def _element(self, toks: list[str], line: int, ctx: _Ctx) -> None:
        name, kind = toks[0], toks[0][0].upper()
        positional, keyed = _split_args(toks[1:])
        if len(positional) < 2:
            raise _Problem(f"{name} needs two nodes and a value")
        if len(positional) > 3:
            raise _Problem(f"{name}: unexpected {_q(positional[3])} (models and extra values are not supported)")
        value = self._element_value(name, kind, positional[2:], keyed, ctx.scope, line)
        node_a, node_b = self._node(positional[0], ctx), self._node(positional[1], ctx)
        display = self._claim(name, ctx, line)
        if len(self.elements) >= MAX_ELEMENTS:
            raise _Problem(f"more than {MAX_ELEMENTS} elements after flattening")
        self.elements.append(Element(display, kind, node_a, node_b, value, line))

    def _element_value(self, name: str, kind: str, given: list[str], keyed: list[tuple[str, list[str]]],
                       scope: _Scope, line: int) -> float:
        token = given[0] if given else None
        ac_token: str | None = None
        multiplier = 1.0
        for key, values in keyed:
            if key in _VALUE_KEYS[kind]:
                if token is not None:
                    raise _Problem(f"{name} has its value twice")
                token = values[0]
            elif key == "m":
                multiplier = self._positive(values[0], f"{name}: m=", scope, line)
                self.notes.add("m= read as m parallel copies (R/m, L/m, C*m), as ngspice does", line)
            elif key == "ac" and kind == "R":
                ac_token = values[0]
            elif key == "ic" and kind != "R":
                self._value(values[0], scope, line)
                self.notes.add("ignored IC= (initial conditions do not change an AC analysis)", line)
            elif key in ("tc1", "tc2", "tc", "tce"):
                self._temperature_coefficients(values, scope, line)
            else:
                raise _Problem(f"{name}: parameter {_q(key)} is not supported")
        if token is None:
            raise _Problem(f"{name} has no value")
        value = self._positive(token, f"{name}: {_KIND_WORD[kind]}", scope, line)
        if ac_token is not None:
            value = self._positive(ac_token, f"{name}: ac=", scope, line)
            self.notes.add(f"{name}: used ac={ac_token} as the resistance, as ngspice does in .ac "
                           f"(its DC resistance {token} is not used)", line)
        value = value * multiplier if kind == "C" else value / multiplier
        if not math.isfinite(value) or value <= 0:
            raise _Problem(f"{name}: {_KIND_WORD[kind]} with m= is not a positive finite number")
        return value

    def _temperature_coefficients(self, values: list[str], scope: _Scope, line: int) -> None:
        if any(self._value(v, scope, line) != 0 for v in values):
            self.tc_lines.append(line)
        self.notes.add("ignored temperature coefficients (no effect at the nominal 27 \u00b0C)", line)
        if len(values) > 1:
            self.notes.add("accepted PSpice's tc=a,b (ngspice 39 stops on it)", line)

    def _check_temperature(self) -> None:
        if self.tc_lines and self.temp_lines:
            raise _fail(self.tc_lines[0], "temperature coefficients together with a temperature setting "
                                          f"(line {self.temp_lines[0]}) are not supported")

    # -- the source -------------------------------------------------------------------------------

    def _vsource(self, toks: list[str], line: int, ctx: _Ctx) -> None:
        name = toks[0]
        if self.source is not None:
            raise _Problem(f"second independent source {name}; the deck may have one "
                           f"({self.source.name} on line {self.source.line})")
        if len(toks) < 3 or any(t in ("=", "(", ")") for t in toks[1:3]):
            raise _Problem(f"{name} needs two nodes")
        node_pos, node_neg = self._node(toks[1], ctx), self._node(toks[2], ctx)
        dc, mag, phase = self._source_spec(name, toks[3:], ctx.scope, line)
        self._claim(name, ctx, line)
        self.source = Source(name, node_pos, node_neg, mag, phase, dc, line)

    def _source_spec(self, name: str, toks: list[str], scope: _Scope,
                     line: int) -> tuple[float | None, float | None, float | None]:
        dc: float | None = None
        mag: float | None = None
        phase: float | None = None
        index = 0
        while index < len(toks):
            word = toks[index].lower()
            if word in ("dc", "ac", "distof1", "distof2"):
                index, values = self._source_values(toks, index + 1, 1 if word == "dc" else 2, scope, line)
                if word == "dc":
                    if not values or dc is not None:
                        raise _Problem(f"{name}: DC needs one value")
                    dc = values[0]
                elif word == "ac":
                    mag, phase = (values + [1.0, 0.0][len(values):])[:2]
                else:
                    self.notes.add(f"ignored {word.upper()} of {name} (distortion analysis only)", line)
            elif word in _TRANSIENT:
                index = self._skip_transient(toks, index + 1, scope, line)
                self.notes.add(f"ignored the transient part ({word.upper()}) of {name}", line)
            elif word in ("r", "td") and index + 1 < len(toks) and toks[index + 1] == "=":
                index, _ = self._source_values(toks, index + 2, 1, scope, line)
            elif _source_value_like(toks[index]) and dc is None and mag is None:
                dc = self._value(toks[index], scope, line)
                index += 1
            else:
                raise _Problem(f"{name}: unexpected {_q(toks[index])}")
        return dc, mag, phase

    def _source_values(self, toks: list[str], index: int, most: int, scope: _Scope,
                       line: int) -> tuple[int, list[float]]:
        if index < len(toks) and toks[index] == "=":
            index += 1
        values: list[float] = []
        while index < len(toks) and len(values) < most and _source_value_like(toks[index]):
            values.append(self._value(toks[index], scope, line))
            index += 1
        return index, values

    def _skip_transient(self, toks: list[str], index: int, scope: _Scope, line: int) -> int:
        if index < len(toks) and toks[index] == "(":
            index += 1
            while index < len(toks) and toks[index] != ")":
                self._value(toks[index], scope, line)
                index += 1
            if index >= len(toks):
                raise _Problem("unterminated '(' in the source")
            return index + 1
        while index < len(toks) and _source_value_like(toks[index]) and (
                index + 1 >= len(toks) or toks[index + 1] != "="):
            self._value(toks[index], scope, line)
            index += 1
        return index

    # -- subcircuit instances ---------------------------------------------------------------------

    def _instance(self, toks: list[str], line: int, ctx: _Ctx) -> None:
        name = toks[0]
        positional, keyed = _split_args(toks[1:])
        if not positional:
            raise _Problem(f"{name} needs nodes and a .subckt name")
        sub = self._instance_target(name, positional, ctx)
        outer = [self._node(node, ctx) for node in positional[:-1]]
        self._claim(name, ctx, line)
        self.instances += 1
        if self.instances > MAX_INSTANCES:
            raise _Problem(f"more than {MAX_INSTANCES} subcircuit instances after flattening")
        args = {}
        for key, values in keyed:
            if key not in sub.defaults:
                raise _Problem(f"{name}: .subckt {sub.display} has no parameter {_q(key)}")
            args[key] = ctx.scope.evaluate(_expr_text(values[0]), line)
        scope = _Scope({**sub.defaults, **sub.locals}, ctx.scope, self.notes, ctx.scope.budget, args)
        scope.evaluate_all()
        path = ctx.path + (name,)
        child = _Ctx(path, dict(zip(sub.pins, outer)), scope, ctx.stack + (sub.name,), False,
                     f"in {'.'.join(path)}: ")
        for card in sub.body:
            self.card(card, child)

    def _instance_target(self, name: str, positional: list[str], ctx: _Ctx) -> _Sub:
        sub = self.subs.get(positional[-1].lower())
        if sub is None:
            raise _Problem(f"{name}: no .subckt named {_q(positional[-1])}")
        if sub.name in ctx.stack:
            raise _Problem(f"{name}: .subckt {sub.display} instantiates itself (recursion)")
        if len(ctx.stack) >= MAX_DEPTH:
            raise _Problem(f"{name}: subcircuits nest deeper than {MAX_DEPTH} levels")
        if len(positional) - 1 != len(sub.pins):
            raise _Problem(f"{name} connects {len(positional) - 1} nodes, but .subckt {sub.display} has "
                           f"{len(sub.pins)} pins")
        return sub

    # -- .ac and probes ---------------------------------------------------------------------------

    def _ac(self, toks: list[str], line: int, scope: _Scope) -> None:
        if self.ac is not None:
            raise _Problem(f"a second .ac card (the first is on line {self.ac_line})")
        if len(toks) != 5 or toks[1].lower() not in ("dec", "oct", "lin"):
            raise _Problem("expected '.ac dec|oct|lin N fstart fstop'")
        points = self._value(toks[2], scope, line)
        if not points.is_integer() or not 1 <= points <= MAX_AC_POINTS:
            raise _Problem(f".ac points {points:g} is not a whole number from 1 to {MAX_AC_POINTS}")
        variation = toks[1].lower()
        fstart, fstop = self._value(toks[3], scope, line), self._value(toks[4], scope, line)
        if fstart < 0 or (fstart == 0 and variation != "lin") or fstop < fstart:
            raise _Problem(f".ac from {fstart:g} Hz to {fstop:g} Hz is not a valid {variation} sweep")
        self.ac, self.ac_line = AcCard(variation, int(points), fstart, fstop), line

    def _probe(self, node: str) -> None:
        canonical = "0" if node.lower() in ("0", "gnd") else node.lower()
        if canonical not in self.probes:
            self.probes.append(canonical)

    def _pz_probe(self, toks: list[str], line: int) -> None:
        """`.pz in+ in- out+ out- vol|cur pz|pol|zer`: the output node, when out- is ground."""
        if len(toks) >= 5 and all(_NODE.fullmatch(t) for t in toks[1:5]):
            if toks[4].lower() in ("0", "gnd"):
                self._probe(toks[3])
            else:
                self.notes.add(f"skipped the .pz output {toks[3]},{toks[4]}: not a single node voltage", line)

    def _probes(self, toks: list[str], line: int) -> None:
        for index, token in enumerate(toks):
            if token.lower() not in _PROBE_FUNCS or index + 1 >= len(toks) or toks[index + 1] != "(":
                continue
            close = toks.index(")", index + 2) if ")" in toks[index + 2:] else len(toks)
            args = [a[1:-1] if a.startswith("[") and a.endswith("]") else a for a in toks[index + 2:close]]
            if len(args) == 1 and _NODE.fullmatch(args[0]):
                self._probe(args[0])
            else:
                shown = token + "(" + ",".join(args) + ")"
                self.notes.add(f"skipped {_q(shown)}: not a single node voltage", line)


def _is_element(card: _Card) -> bool:
    return card.text[:1].lower() in ("r", "l", "c", "x")


def _source_value_like(token: str) -> bool:
    return token not in ("=", "(", ")") and token.lower() not in _SOURCE_WORDS


def read_deck(text: str | bytes, subckt: str | None = None) -> Deck:
    """Read a SPICE deck (see the module docstring); raise NetlistError('line N: ...') on anything refused.

    With `subckt='NAME'`, read a deck that only defines subcircuits: NAME's body becomes the circuit
    (its pins are the node names) and `Deck.source` is None.
    """
    try:
        return _read(text, subckt)
    except RecursionError:
        raise NetlistError("line 1: the deck nests too deeply to read") from None


def _read(text: str | bytes, subckt: str | None) -> Deck:
    notes = _Notes()
    lines = _LINE_SPLIT.split(_decode(text, notes))
    title = _title(lines)
    cards, end_line = _cards(lines, notes)
    top, subs, global_defs = _structure(cards, notes)
    scope = _Scope(global_defs, None, notes, _Budget())
    scope.evaluate_all()
    reader = _Reader(subs, notes, title)
    if subckt is None:
        reader.read_top(top, scope, end_line)
    else:
        reader.read_subckt(top, subckt, scope, end_line)
    return reader.deck()
