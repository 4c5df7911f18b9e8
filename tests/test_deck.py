"""Tests for circuitlib.core.deck: reading SPICE decks the way ngspice 39 reads them.

The value tables below were checked against ngspice 39 (`ngspice -b`, printing `@rN[resistance]`) on
the development machine; `test_tables_agree_with_ngspice` re-checks them wherever an `ngspice` binary
is on PATH and is skipped elsewhere.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from circuitlib.core.deck import MAX_ELEMENTS, AcCard, Deck, Element, Source, read_deck
from circuitlib.core.errors import NetlistError

BASE = "V1 in 0 AC 1\nR1 in out 1k\nC1 out 0 1u\n"


def read(body: str, **kwargs: object) -> Deck:
    """A deck whose line 1 is the title and whose line 2 is the first line of `body`."""
    return read_deck("test deck\n" + textwrap.dedent(body), **kwargs)  # type: ignore[arg-type]


def refusal(body: str | bytes, **kwargs: object) -> str:
    with pytest.raises(NetlistError) as info:
        if isinstance(body, bytes):
            read_deck(body, **kwargs)  # type: ignore[arg-type]
        else:
            read(body, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert re.match(r"line \d+: \S", message), message
    return message


def line_of(message: str) -> int:
    return int(message.split(":", 1)[0].removeprefix("line "))


def values(d: Deck) -> dict[str, float]:
    return {e.name: e.value for e in d.elements}


# ---------------------------------------------------------------------------------------------------
# Value tables (token -> what ngspice 39 reads)

# Plain element values: ngspice's INPevaluate. Everything after the scale factor is ignored.
PLAIN = {
    "1k": 1e3, "4k7": 4000.0, "2u2": 2e-6, "1r5": 1.0, "1k7": 1000.0, "1.5MEG": 1.5e6, "1.5meg": 1.5e6,
    "1Meg7": 1e6, "10kOhm": 1e4, "1Kohm": 1e3, "1ohm": 1.0, "1uF": 1e-6, "100nH": 1e-7, "1mil": 25.4e-6,
    "2MiL": 50.8e-6, "1milk": 25.4e-6, "1a": 1.0, "1e3": 1e3, "1e+3": 1e3, "1E3": 1e3, ".5": 0.5, "+.5": 0.5,
    "1M": 1e-3, "1mf": 1e-3, "1Mi": 1e-3, "1me": 1e-3, "1mega": 1e6, "1x": 1.0, "1F": 1e-15, "1p": 1e-12,
    "1n": 1e-9, "1T": 1e12, "1G": 1e9, "3e-2k": 30.0, "1kk": 1e3, "1ek": 1e3, "1e+k": 1e3, "1ex": 1.0,
    "1.5.5": 1.5, "2.k": 2e3, ".5e-3meg": 500.0, "1e-3meg": 1e3, "0.5k": 500.0, "1.e3": 1e3, "10": 10.0,
    "1E3MEG": 1e9, "1\u00b5": 1e-6, "1\u00b5F": 1e-6, "1\u03bc": 1.0, "1k\u03bc": 1e3, "1e300k": 1e303,
}

# {expressions}: ngspice 39 numparam. `mil` is milli here, ^ takes |x|, log is natural.
EXPRESSIONS = {
    "2**3": 8.0, "2^3": 8.0, "2^3^2": 64.0, "2**3**2": 64.0, "-2**2+10": 6.0, "-2^2+10": 6.0, "2^-1*8": 4.0,
    "(-2)^3+20": 28.0, "(-2)^2": 4.0, "(-2)^0.5": math.sqrt(2), "pow(-2,3)+20": 12.0, "pwr(-2,3)+20": 28.0,
    "4^0.5^2": 4.0, "0^0+1": 2.0, "sqrt(16)": 4.0, "sqr(3)": 9.0, "max(3,4)": 4.0, "min(3,4)": 3.0,
    "log(10)": math.log(10), "ln(10)": math.log(10), "log10(100)": 2.0, "exp(1)": math.e, "abs(-3)": 3.0,
    "1kohm*2": 2e3, "2ms": 2e-3, "1e3k": 1e6, "2mil": 2e-3, "1MEG": 1e6, "1Meg*2": 2e6, "1a*1e18": 1e18,
    "1ek": 1e3, "1e+k": 1e3, "2.k": 2e3, "1e": 1.0, "10/4": 2.5, "8/2/2": 2.0, "20-3-4": 13.0,
    "(1+2)*3-4/2": 7.0, "--3": 3.0, "+-3+10": 7.0, "3-2^2+10": 9.0, "2*-3+10": 4.0, "1\u00b5*1e6": 1.0,
    "1\u03bc*1e6": 1e6, "ln(exp(2))": 2.0, " 3 * ( 1 + 2 ) ": 9.0,
}

# Expressions ngspice 39 refuses (it stops with an error); so does read_deck.
BAD_EXPRESSIONS = ["4k7", "1meg7", "1.5.5", "pi", "2/0", "sqrt(-1)", "log(0)", "0^-1", "pow(-8,1/3)", "nosuch",
                   "2*(3", "1/(1-1)"]


@pytest.mark.parametrize("token,expected", PLAIN.items(), ids=list(PLAIN))
def test_plain_values_read_as_ngspice(token: str, expected: float) -> None:
    d = read(f"V1 in 0 AC 1\nR1 in 0 {token}\n")
    assert d.elements[0].value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("expr,expected", EXPRESSIONS.items(), ids=list(EXPRESSIONS))
def test_expressions_evaluate_as_ngspice(expr: str, expected: float) -> None:
    d = read(f"V1 in 0 AC 1\nR1 in 0 {{{expr}}}\n")
    assert d.elements[0].value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("expr", BAD_EXPRESSIONS)
def test_expressions_ngspice_refuses_are_refused(expr: str) -> None:
    assert line_of(refusal(f"V1 in 0 AC 1\nR1 in 0 {{{expr}}}\n")) == 3


def test_misreads_that_follow_ngspice_are_noted() -> None:
    d = read("V1 in 0 AC 1\nR1 in a 4k7\nC1 a 0 1\u03bcF\nR2 a 0 10kOhm\n")
    assert values(d) == {"R1": 4000.0, "C1": 1.0, "R2": 1e4}
    assert any("'4k7' as 4000" in n and "(line 3)" in n for n in d.notes)
    assert any("as 1," in n and "(line 4)" in n for n in d.notes)
    assert not any("10kOhm" in n for n in d.notes)


def test_param_numbers_follow_numparam_not_inpevaluate() -> None:
    d = read(".param d=1mil\nV1 in 0 AC 1\nR1 in 0 {d}\nR2 in 0 1mil\n")
    assert values(d) == pytest.approx({"R1": 1e-3, "R2": 25.4e-6})
    assert line_of(refusal(".param c=4k7\nV1 in 0 AC 1\nR1 in 0 {c}\n")) == 2


@pytest.mark.skipif(shutil.which("ngspice") is None, reason="no ngspice binary on PATH")
def test_tables_agree_with_ngspice(tmp_path: Path) -> None:
    """Run the tables through the real ngspice and compare with read_deck (needs ngspice on PATH)."""
    cards = [f"r{i} 1 0 {token}" for i, token in enumerate(PLAIN)]
    cards += [f"r{len(PLAIN) + i} 1 0 {{{expr}}}" for i, expr in enumerate(EXPRESSIONS)]
    count = len(cards)
    prints = [" ".join(f"@r{i}[resistance]" for i in range(k, min(k + 8, count))) for k in range(0, count, 8)]
    deck = "\n".join(["check", *cards, "v1 1 0 dc 1", ".control", "op", *(f"print {p}" for p in prints),
                      ".endc", ".end", ""])
    (tmp_path / "t.cir").write_bytes(deck.encode("utf-8"))
    out = subprocess.run(["ngspice", "-b", "t.cir"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         errors="replace", check=False)
    got = {int(m[1]): float(m[2]) for m in re.finditer(r"@r(\d+)\[resistance\] = (\S+)", out.stdout + out.stderr)}
    expected = list(PLAIN.values()) + list(EXPRESSIONS.values())
    assert len(got) == count, out.stdout[-2000:]
    for index, value in enumerate(expected):
        assert got[index] == pytest.approx(value, rel=2e-6), cards[index]
    for expr in BAD_EXPRESSIONS:
        (tmp_path / "b.cir").write_text(f"bad\nr1 1 0 {{{expr}}}\nv1 1 0 dc 1\n.control\nop\n"
                                        "print @r1[resistance]\n.endc\n.end\n")
        out = subprocess.run(["ngspice", "-b", "b.cir"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             check=False)
        assert "@r1[resistance] =" not in out.stdout, expr


# ---------------------------------------------------------------------------------------------------
# Lines, title, comments, continuation, case


def test_first_line_is_always_the_title() -> None:
    d = read_deck("R1 1 0 1k\nV1 in 0 AC 1\nR2 in 0 2k\n")
    assert d.title == "R1 1 0 1k"
    assert [e.name for e in d.elements] == ["R2"]


def test_title_card_sets_the_title() -> None:
    assert read(BASE + ".title My low-pass ; comment\n").title == "My low-pass"
    assert read(BASE).title == "test deck"


def test_continuation_lines_join_across_comments_and_blanks() -> None:
    d = read("V1 in 0\n+ AC 2\nR1 in 0\n* a comment between\n\n   + 2k\n")
    assert d.elements[0].value == 2000.0 and d.elements[0].line == 4
    assert d.source is not None and d.source.ac_mag == 2.0


def test_all_comment_kinds() -> None:
    d = read("""\
        * star comment
        $ dollar comment
        ; semicolon comment
        // slash comment
          * indented star
        V1 in 0 AC 1
        R1 in 0 1k ; 9k
        R2 in 0 2k $ 9k
        R3 in 0 3k\t$ 9k
        R4 in 0 4k // 9k
        R5 in 0 5k//9k
        R6 in 0 6k;9k
        R7 in 1$x 7k
        R8 1$x 0 8k
        """)
    assert values(d) == {f"R{i}": i * 1e3 for i in range(1, 9)}
    assert "1$x" in d.node_spelling


def test_dollar_without_blank_is_not_a_comment() -> None:
    # 'a$b' is one node name; a comment would have cut the card short and left R1 without a value
    d = read("V1 in 0 AC 1\nR1 in a$b 1k\nR2 a$b 0 1k\n")
    assert d.elements[0].node_b == "a$b"


def test_case_folding_keeps_first_spelling() -> None:
    d = read("V1 IN 0 AC 1\nR1 IN OUT 1k\nC1 out 0 1u\nr2 Out 0 1k\n")
    assert {e.node_a for e in d.elements} | {e.node_b for e in d.elements} == {"in", "out", "0"}
    assert d.node_spelling["out"] == "OUT" and d.node_spelling["in"] == "IN"
    assert refusal("V1 in 0 AC 1\nR1 in 0 1k\nr1 in 0 2k\n").startswith("line 4: duplicate name r1")


def test_gnd_is_ground() -> None:
    d = read("V1 in GND AC 1\nR1 in out 1k\nC1 out gnd 1u\n")
    assert d.source is not None and d.source.node_neg == "0"
    assert d.elements[1].node_b == "0"
    assert d.node_spelling["0"] == "GND"


def test_tabs_and_commas_separate_fields() -> None:
    d = read("V1\tin\t0\tAC 1,45\nR1\tin,0,1k\n")
    assert d.source is not None and (d.source.ac_mag, d.source.ac_phase_deg) == (1.0, 45.0)
    assert d.elements[0].value == 1e3


def test_latin1_micro_sign_bytes() -> None:
    d = read_deck(b"title\nV1 in 0 AC 1\nC1 in 0 2.2\xb5F\n")
    assert d.elements[0].value == pytest.approx(2.2e-6)
    assert any("Latin-1" in n for n in d.notes)


def test_utf8_bytes_and_bom() -> None:
    d = read_deck("\ufefftitl\u00e9\nV1 in 0 AC 1\nC1 in 0 1\u00b5\n".encode())
    assert d.title == "titl\u00e9" and d.elements[0].value == 1e-6
    assert not any("Latin-1" in n for n in d.notes)


def test_element_named_by_letter_alone() -> None:
    d = read("v in 0 AC 1\nr in a 1k\nl a b 1m\nc b 0 1u\n")
    assert [(e.name, e.kind) for e in d.elements] == [("r", "R"), ("l", "L"), ("c", "C")]
    assert d.source is not None and d.source.name == "v"


# ---------------------------------------------------------------------------------------------------
# Elements


def test_element_forms_and_lines() -> None:
    d = read("V1 in 0 AC 1\nR1 in a r=2k\nR2 a b resistance = 3k\nL1 b c 10uH ic=1m\nC1 c 0 c=1n ic=0\n")
    assert [(e.name, e.kind, e.node_a, e.node_b, e.value, e.line) for e in d.elements] == [
        ("R1", "R", "in", "a", 2e3, 3), ("R2", "R", "a", "b", 3e3, 4), ("L1", "L", "b", "c", 1e-5, 5),
        ("C1", "C", "c", "0", 1e-9, 6)]
    assert any(n.startswith("ignored IC=") and "lines 5, 6" in n for n in d.notes)


def test_m_multiplier_is_parallel_copies() -> None:
    # Checked against ngspice 39 AC results: R m=2 halves R, L m=2 halves L, C m=2 doubles C.
    d = read("V1 in 0 AC 1\nR1 in a 1k m=2\nL1 a b 1m m=4\nC1 b 0 1n m=2\n")
    assert values(d) == pytest.approx({"R1": 500.0, "L1": 0.25e-3, "C1": 2e-9})
    assert any("m= read as" in n for n in d.notes)
    assert line_of(refusal("V1 in 0 AC 1\nR1 in 0 1k m=0\n")) == 3


def test_temperature_coefficients() -> None:
    d = read("V1 in 0 AC 1\nR1 in 0 1k tc1=0.001 tc2=0\nR2 in 0 1k tc=0.001\nR3 in 0 1k tce=0.1\n")
    assert values(d) == {"R1": 1e3, "R2": 1e3, "R3": 1e3}
    assert any("temperature coefficients" in n and "lines 3, 4, 5" in n for n in d.notes)
    # PSpice's tc=a,b: ngspice 39 stops on it ("unknown parameter"); read_deck accepts it with a note
    d = read("V1 in 0 AC 1\nR_R1 in 0 1k TC=0,0\n")
    assert d.elements[0].value == 1e3 and any("tc=a,b" in n and "(line 3)" in n for n in d.notes)
    message = refusal("V1 in 0 AC 1\nR1 in 0 1k tc1=0.001\n.temp 50\n")
    assert line_of(message) == 3 and "line 4" in message


@pytest.mark.parametrize("card,words", [
    ("R1 in 0 -1k", "not positive"), ("R1 in 0 0", "not positive"), ("C1 in 0 {-1u}", "not positive"),
    ("R1 in 0 1e999", "not finite"), ("L1 in 0 1e308meg", "not finite"),
    ("R1 in 0", "R1 has no value"), ("R1 in", "needs two nodes"), ("R1 in 0 r=", "has no value"),
    ("C1 in 0 m=2", "has no value"), ("R1 in 0 1k 2k", "unexpected '2k'"),
    ("R1 in 0 rmod l=1u", "'l' is not supported"),
    ("R1 in 0 1k r=2k", "twice"), ("R1 in 0 1k dtemp=5", "'dtemp' is not supported"),
    ("R1 in 0 1k ic=1", "'ic' is not supported"), ("R1 in {x} 1k", "not a node name"),
    ("C1 in 0 1u ac=1", "'ac' is not supported"), ("R1 in 0 1k ac=-1", "ac= -1 is not positive"),
    ("R1 in 0 abc", "unknown name 'abc'"), ("R1 in 0 1k\"", "unexpected"),
])
def test_bad_element_cards(card: str, words: str) -> None:
    message = refusal(f"V1 in 0 AC 1\n{card}\n")
    assert line_of(message) == 3 and words in message, message


# ---------------------------------------------------------------------------------------------------
# The source


@pytest.mark.parametrize("spec,dc,mag,phase", [
    ("DC 1 AC 2 30 SIN(0 1 1k)", 1.0, 2.0, 30.0),
    ("SIN(0 1 1k) AC 3,45", None, 3.0, 45.0),
    ("PULSE 0 1 0 1n 1n 1u 2u AC 4", None, 4.0, 0.0),
    ("PWL(0 0 1m 1) DC 3 AC 5 60", 3.0, 5.0, 60.0),
    ("EXP(0 1 0 1u 1u 2u) AC 6", None, 6.0, 0.0),
    ("AC 7 SIN 0 1 1k", None, 7.0, 0.0),
    ("AC", None, 1.0, 0.0),
    ("2.5", 2.5, None, None),
    ("DC=4", 4.0, None, None),
    ("0 AC 1 -90", 0.0, 1.0, -90.0),
    ("ac 1 sffm(0 1 1k 5 100) distof1 0.1", None, 1.0, 0.0),
    ("pwl(0 0 1m 1) r=0 td=1m ac 2", None, 2.0, 0.0),
])
def test_source_keeps_dc_and_ac(spec: str, dc: float | None, mag: float | None, phase: float | None) -> None:
    d = read(f"V1 in 0 {spec}\nR1 in 0 1k\n")
    assert d.source == Source("V1", "in", "0", mag, phase, dc, 2)


def test_dc_only_source_has_no_ac() -> None:
    d = read("Vdd in 0 DC 5\nR1 in 0 1k\n")
    assert d.source is not None and d.source.ac_mag is None and d.source.ac_phase_deg is None
    assert d.source.dc == 5.0


def test_transient_parts_are_noted() -> None:
    d = read("V1 in 0 AC 1 SIN(0 1 1k)\nR1 in 0 1k\n")
    assert "ignored the transient part (SIN) of V1 (line 2)" in d.notes


@pytest.mark.parametrize("body,line,words", [
    ("V1 in 0 AC 1\nV2 in 0 DC 1\nR1 in 0 1k\n", 3, "second independent source V2"),
    ("V1 in 0 AC 1\nR1 in 0 1k\nI1 in 0 1m\n", 4, "current sources"),
    ("I1 in 0 AC 1\nR1 in 0 1k\n", 2, "current sources"),
    ("V1 in 0 AC 1 portnum 1\nR1 in 0 1k\n", 2, "'portnum'"),
    ("V1 in\nR1 in 0 1k\n", 2, "needs two nodes"),
    ("V1 in 0 DC\nR1 in 0 1k\n", 2, "DC needs one value"),
    ("V1 in 0 SIN(0 1\nR1 in 0 1k\n", 2, "unterminated"),
    ("V1 in 0 AC {1/0}\nR1 in 0 1k\n", 2, "division by zero"),
    ("R1 in 0 1k\nC1 in 0 1u\n", 3, "no independent voltage source"),
])
def test_source_refusals(body: str, line: int, words: str) -> None:
    message = refusal(body)
    assert line_of(message) == line and words in message, message


# ---------------------------------------------------------------------------------------------------
# .param and {expressions}


def test_params_any_order_last_wins_and_quotes() -> None:
    d = read("""\
        .param b={a*2}
        .param a=3 c=1 c=5
        .param e = 'a+1' f = sqrt( 16 ) g=a * 3 + 1
        V1 in 0 AC {a/3}
        R1 in 0 {b}
        R2 in 0 {c}
        R3 in 0 e
        R4 in 0 {f}
        R5 in 0 'g'
        R6 in 0 {LATER}
        R7 in 0 { a * 2 }
        .param later=7
        """)
    assert values(d) == {"R1": 6.0, "R2": 5.0, "R3": 4.0, "R4": 4.0, "R5": 10.0, "R6": 7.0, "R7": 6.0}
    assert d.source is not None and d.source.ac_mag == 1.0


@pytest.mark.parametrize("body,line,words", [
    (".param a=b\n.param b=a\n", 2, "depends on itself"),
    (".param a={1/0}\n", 2, "division by zero"),
    (".param a=unknown_name\n", 2, "unknown name 'unknown_name'"),
    (".param\n", 2, ".param needs"),
    (".param f(x)=x*2\n", 2, ".param needs"),
    (".param a=\n", 2, "has no value"),
    (".param a={__import__('os').system('x')}\n", 2, "in expression"),
    (".param a={__import__}\n", 2, "unknown name '__import__'"),
    (".param a={eval(1)}\n", 2, "unknown function 'eval'"),
    (".param a=1 b={a.__class__}\n", 2, "unexpected"),
    (".param a={open(1)}\n", 2, "unknown function 'open'"),
    (".param a={2 if 1 else 3}\n", 2, "expected '}'"),
    (".param a={1 == 1}\n", 2, "unexpected '='"),
    (".param a={1e308*1e308}\n", 2, "not finite"),
    (".param a={9^9^9^9^9}\n", 2, "not a finite number"),
    (".param a={max(1)}\n", 2, "takes 2 arguments"),
    (".param a={" + "(" * 100 + "1" + ")" * 100 + "}\n", 2, "nest more than"),
])
def test_param_refusals(body: str, line: int, words: str) -> None:
    message = refusal(body + BASE)
    assert line_of(message) == line and words in message, message


def test_malicious_expression_in_element_is_refused_without_running() -> None:
    marker = Path("/tmp/circuitlib_deck_marker_should_not_exist")
    message = refusal(f"V1 in 0 AC 1\nR1 in 0 {{__import__('os').system('touch {marker}')}}\n")
    assert line_of(message) == 3 and "in expression" in message
    assert not marker.exists()


def test_param_chains() -> None:
    forward = "".join(f".param p{i}={{p{i - 1}+1}}\n" for i in range(1, 200))
    assert read(".param p0=1\n" + forward + "V1 in 0 AC 1\nR1 in 0 {p199}\n").elements[0].value == 200.0
    backward = "".join(f".param p{i}={{p{i + 1}+1}}\n" for i in range(199)) + ".param p199=1\n"
    message = refusal(backward + "V1 in 0 AC 1\nR1 in 0 {p0}\n")
    assert "nest more than" in message


# ---------------------------------------------------------------------------------------------------
# Subcircuits

NESTED = """\
    .param g=3
    .subckt inner a b w=2
    R2 a mid {k*w+g}
    C3 mid b 1n
    .ends
    .subckt outer p q params: k=10
    .param loc=100
    X1 p q inner w={loc}
    L1 p q 1u
    .ends outer
    Xtop in GND outer k=20
    V1 in 0 AC 1
    """


def test_subckt_flattening_two_levels() -> None:
    d = read(NESTED)
    assert [(e.name, e.node_a, e.node_b, e.value, e.line) for e in d.elements] == [
        ("Xtop.X1.R2", "in", "xtop.x1.mid", 2003.0, 4),  # k from outer (20), w from X1 (loc=100), g global
        ("Xtop.X1.C3", "xtop.x1.mid", "0", 1e-9, 5),
        ("Xtop.L1", "in", "0", 1e-6, 10),
    ]
    assert d.node_spelling["xtop.x1.mid"] == "Xtop.X1.mid"


def test_subckt_default_parameters() -> None:
    d = read(NESTED.replace("Xtop in GND outer k=20", "Xtop in GND outer"))
    assert d.elements[0].value == 10 * 100 + 3


def _chain(levels: int) -> str:
    cards = [f".subckt s{i} a b\nX{i} a b s{i + 1}\n.ends\n" for i in range(1, levels)]
    cards.append(f".subckt s{levels} a b\nR1 a b 1k\n.ends\n")
    return "".join(cards) + "V1 in 0 AC 1\nXtop in 0 s1\n"


def test_depth_limit() -> None:
    d = read(_chain(10))  # Xtop -> s1 -> ... -> s10: 10 levels, accepted
    assert d.elements[0].name == "Xtop.X1.X2.X3.X4.X5.X6.X7.X8.X9.R1"
    assert d.elements[0].node_a == "in"
    message = refusal(_chain(11))  # 11 levels: refused at the card X10 inside .subckt s10 (line 3 + 3 * 9)
    assert "deeper than 10" in message and line_of(message) == 30


def test_recursion_is_refused() -> None:
    message = refusal(".subckt a p q\nXa p q a\n.ends\nV1 in 0 AC 1\nX1 in 0 a\n")
    assert line_of(message) == 3 and "recursion" in message
    message = refusal(".subckt a p q\nXb p q b\n.ends\n.subckt b p q\nXa p q a\n.ends\nV1 in 0 AC 1\nX1 in 0 a\n")
    assert line_of(message) == 6 and "recursion" in message


@pytest.mark.parametrize("body,line,words", [
    (".subckt f a b\nR1 a b 1k\n.ends\nV1 in 0 AC 1\nX1 in f\n", 6, "connects 1 nodes, but .subckt f has 2 pins"),
    (".subckt f a b\nR1 a b 1k\n.ends\nV1 in 0 AC 1\nX1 in 0 0 f\n", 6, "connects 3 nodes"),
    ("V1 in 0 AC 1\nX1 in 0 nosuch\n", 3, "no .subckt named 'nosuch'"),
    (".subckt f a b\nR1 a b 1k\n.ends\nV1 in 0 AC 1\nX1 in 0 f zz=1\n", 6, "has no parameter 'zz'"),
    (".subckt f a b\nR1 a b {-1}\n.ends\nV1 in 0 AC 1\nX1 in 0 f\n", 3, "in X1: R1: resistance -1 is not positive"),
    (".subckt f a b\nD1 a b dmod\n.ends\nV1 in 0 AC 1\nR1 in 0 1k\n", 3, "diodes"),
    (".subckt f a b\nV2 a b 1\n.ends\nV1 in 0 AC 1\nR1 in 0 1k\n", 3, "sources inside .subckt"),
    (".subckt f a b\n.ac dec 1 1 2\n.ends\nV1 in 0 AC 1\nR1 in 0 1k\n", 3, ".ac inside .subckt"),
    (".subckt f a b\n.subckt g a b\n.ends\n.ends\n" + BASE, 3, "nested .subckt"),
    (".subckt f a b\nR1 a b 1k\nR2 a b 1k\n", 2, "has no .ends"),
    (".ends\n" + BASE, 2, ".ends without .subckt"),
    (".subckt f a a\n.ends\n" + BASE, 2, "names a pin twice"),
    (".subckt f a 0\n.ends\n" + BASE, 2, "is ground"),
    (".subckt f a b\n.ends\n.subckt F a b\n.ends\n" + BASE, 5, "defined twice"),
    (".subckt f a b\nR1 a b 1k\n.ends\nV1 in 0 AC 1\nX1 in 0 f\nx1 in 0 f\n", 7, "duplicate name x1"),
])
def test_subckt_refusals(body: str, line: int, words: str) -> None:
    message = refusal(body)
    assert line_of(message) == line and words in message, message


def test_ends_name_mismatch_is_noted() -> None:
    d = read(".subckt f a b\nR1 a b 1k\n.ends g\nV1 in 0 AC 1\nX1 in 0 f\n")
    assert any(".ends g closes .subckt f" in n for n in d.notes)


SUBCKT_ONLY = """\
    * rffilter output
    .subckt LPF in out
    L1 in mid 10n
    C1 mid 0 4p
    L2 mid out 10n
    X9 mid gnd cap v=2p
    .ends LPF
    .subckt cap a b v=1p
    C1 a b {v}
    .ends
    .end
    """


def test_subckt_only_deck_needs_subckt_name() -> None:
    message = refusal(SUBCKT_ONLY)
    assert "LPF" in message and "cap" in message and "--subckt NAME" in message
    assert line_of(message) == 12


def test_subckt_only_deck_with_subckt_name() -> None:
    d = read(SUBCKT_ONLY, subckt="lpf")
    assert d.source is None
    assert [(e.name, e.node_a, e.node_b, e.value) for e in d.elements] == [
        ("L1", "in", "mid", 1e-8), ("C1", "mid", "0", 4e-12), ("L2", "mid", "out", 1e-8),
        ("X9.C1", "mid", "0", 2e-12)]
    assert d.node_spelling["in"] == "in" and d.node_spelling["out"] == "out"


def test_subckt_mode_refusals() -> None:
    message = refusal(SUBCKT_ONLY, subckt="nosuch")
    assert "no .subckt named 'nosuch'" in message and "LPF, cap" in message
    message = refusal("V1 in 0 AC 1\n.subckt f a b\nR1 a b 1k\n.ends\n", subckt="f")
    assert line_of(message) == 2 and "top-level card 'V1'" in message
    message = refusal(".subckt f a b\n.ends\n", subckt="f")
    assert "has no R, L or C" in message


def test_element_and_instance_caps() -> None:
    rows = "".join(f"R{i} a b 1k\n" for i in range(50))
    body = ".subckt f a b\n" + rows + ".ends\nV1 in 0 AC 1\n" + "".join(f"X{i} in 0 f\n" for i in range(41))
    message = refusal(body)
    assert f"more than {MAX_ELEMENTS} elements" in message and "in X40:" in message
    empty = ".subckt e a b\n.ends\n" + "".join(
        f".subckt m{i} a b\n" + "".join(f"X{j} a b {'e' if i == 0 else f'm{i - 1}'}\n" for j in range(8)) + ".ends\n"
        for i in range(5))
    message = refusal(empty + "V1 in 0 AC 1\nR1 in 0 1k\nXtop in 0 m4\n")
    assert "more than 2000 subcircuit instances" in message


# ---------------------------------------------------------------------------------------------------
# Dot cards, probes, notes


def test_ac_card() -> None:
    assert read(BASE + ".ac dec 10 1 1meg\n").ac == AcCard("dec", 10, 1.0, 1e6)
    assert read(BASE + ".AC LIN 3 0 1k\n").ac == AcCard("lin", 3, 0.0, 1e3)
    assert read(BASE + ".param n=5\n.ac oct {n} 10 {10*n}\n").ac == AcCard("oct", 5, 10.0, 50.0)
    assert read(BASE).ac is None


@pytest.mark.parametrize("cards,line,words", [
    (".ac dec 10 1 1meg\n.ac dec 10 1 1meg\n", 6, "second .ac card (the first is on line 5)"),
    (".ac dec 10 1\n", 5, "expected '.ac"), (".ac log 10 1 2\n", 5, "expected '.ac"),
    (".ac dec 10.5 1 2\n", 5, "whole number"), (".ac dec 0 1 2\n", 5, "whole number"),
    (".ac dec 10 0 1k\n", 5, "not a valid dec sweep"), (".ac lin 10 2k 1k\n", 5, "not a valid lin sweep"),
])
def test_bad_ac_cards(cards: str, line: int, words: str) -> None:
    message = refusal(BASE + cards)
    assert line_of(message) == line and words in message, message


def test_probed_nodes() -> None:
    d = read(BASE + """\
        .print ac v(out) vdb(OUT) i(V1)
        .plot ac vm(in) vp(a)
        .probe vr(b)
        .save vi(c) v(gnd) @r1[i]
        .meas ac f3db when vdb(d)=-3
        .measure ac x find v(e) at=1k
        .print ac v(in,out)
        .tran 1n 1u
        """)
    assert d.probed_nodes == ("out", "in", "a", "b", "c", "0", "d", "e")
    assert "skipped 'v(in,out)': not a single node voltage (line 11)" in d.notes


def test_ignored_cards_make_one_note_per_kind() -> None:
    d = read(BASE + """\
        .op
        .tran 1n 1u
        .tran 2n 2u
        .dc V1 0 1 0.1
        .noise v(out) V1 dec 10 1 1k
        .options reltol=1e-4
        .option gmin=1e-12
        .opt abstol=1e-12
        .temp 27
        .ic v(out)=0
        .nodeset v(out)=0
        .four 1k v(out)
        .width out=80
        .print ac v(out)
        .end
        R9 this is never read
        """)
    expected = ["ignored .op (line 5)", "ignored .tran (lines 6, 7)", "ignored .dc (line 8)", "ignored .noise (line 9)",
                "ignored .options (line 10)", "ignored .option (line 11)", "ignored .opt (line 12)",
                "ignored .temp (line 13)", "ignored .ic (line 14)", "ignored .nodeset (line 15)",
                "ignored .four (line 16)", "ignored .width (line 17)", "ignored .print (line 18)",
                "stopped reading at .end; ignored 1 line after it (line 19)"]
    assert [n for n in d.notes if n in expected] == expected
    assert len(d.elements) == 2


def test_notes_are_empty_for_a_plain_deck() -> None:
    assert read(BASE).notes == ()


# ---------------------------------------------------------------------------------------------------
# Refusals: anything that could execute, reach outside, or is not linear passive

DANGEROUS = [
    (".control\nshell rm -rf /\n.endc\n", 5, ".control"),
    ("  .CONTROL\necho hi\n.endc\n", 5, ".control"),
    (".endc\n", 5, ".control"),
    ("shell touch /tmp/x\n", 5, "shell"),
    (".include /etc/passwd\n", 5, ".include"),
    (".inc models.lib\n", 5, ".include"),
    (".INCLUDE 'x.sp'\n", 5, ".include"),
    (".lib /usr/lib/models.lib tt\n", 5, ".lib"),
    ("*# shell rm -rf /\n", 5, "'*#'"),
    ("  *#echo x\n", 5, "'*#'"),
    (".end\n.control\nshell x\n.endc\n", 6, "after .end"),
    (".end\n  .include /etc/passwd\n", 6, ".include"),
    (".end\n*# echo x\n", 6, "'*#'"),
]


@pytest.mark.parametrize("cards,line,words", DANGEROUS)
def test_refuses_what_could_execute_or_reach_outside(cards: str, line: int, words: str) -> None:
    message = refusal(BASE + cards)
    assert line_of(message) == line and words in message, message


@pytest.mark.parametrize("first", [".include /etc/passwd", "  .LIB x.lib tt", ".control", "*ng_script", "*# echo"])
def test_title_lines_ngspice_acts_on_are_refused(first: str) -> None:
    message = refusal(f"{first}\n{BASE}".encode())
    assert line_of(message) == 1 and "title line" in message


LETTERS = {
    "D1 a 0 dmod": "diodes", "Q1 c b e qmod": "BJTs", "M1 d g s b nmos": "MOSFETs", "J1 d g s jmod": "JFETs",
    "Z1 d g s zmod": "MESFETs", "E1 a 0 in 0 2": "controlled sources", "F1 a 0 V1 2": "controlled sources",
    "G1 a 0 in 0 1m": "controlled sources", "H1 a 0 V1 1k": "controlled sources", "B1 a 0 V=V(in)*2": "behavioural",
    "S1 a 0 in 0 sw": "switches", "W1 a 0 V1 sw": "switches", "T1 a 0 b 0 Z0=50 TD=1n": "transmission lines",
    "O1 a 0 b 0 lmod": "lossy transmission", "U1 a b 0 umod l=1": "uniform RC", "Y1 a 0 b 0 ymod": "transmission",
    "P1 a 0 b 0 pmod": "multiconductor", "K1 L1 L2 0.9": "mutual inductance", "A1 in out amod": "XSPICE",
    "N1 a b nmod": "OSDI", "I1 a 0 1m": "current sources", "#1 a b 1k": "unknown card", "1 a b 1k": "unknown card",
    "Xyz": "needs nodes",
}


@pytest.mark.parametrize("card,words", LETTERS.items(), ids=[c.split()[0] for c in LETTERS])
def test_refused_element_letters(card: str, words: str) -> None:
    message = refusal(BASE + card + "\n")
    assert line_of(message) == 5 and words in message, message


@pytest.mark.parametrize("card,words", [
    (".model dmod D", ".model is refused"), (".func f(x) {x*2}", ".func is refused"),
    (".global vdd", ".global is refused"), (".csparam a=1", ".csparam is refused"),
    (".if (a == 1)", ".if is refused"), (".endif", ".endif is refused"), (".pss 1k 1u out 1024", "'.pss'"),
    (".foo", "'.foo' is not supported"),
    (".exec ls", "'.exec' is not supported"),
])
def test_refused_dot_cards(card: str, words: str) -> None:
    message = refusal(BASE + card + "\n")
    assert line_of(message) == 5 and words in message, message


@pytest.mark.parametrize("data,line,words", [
    (b"title\nR1 a b 1k\x00\n", 2, "NUL"),
    (b"title\nV1 in 0 AC 1\nR1 in 0 1k\x07\n", 3, "U+0007"),
    ("title\nV1 in 0 AC 1\nR1 in 0 1k\u202e\n".encode(), 3, "U+202E"),
    ("title\nV1 in 0 AC 1\u2028R1 in 0 1k\n".encode(), 2, "U+2028"),
    (b"title\nV1 in 0 AC 1\nR1 in 0 1k\x0c\n", 3, "U+000C"),
    (b"title\r\nV1 in 0 AC 1\r\nR1 in 0 1k\x1b\r\n", 3, "U+001B"),
    (b"title\n" + b"* padding padding padding\n" * 10_000, 1, "at most 256000"),
])
def test_refused_bytes(data: bytes, line: int, words: str) -> None:
    message = refusal(data)
    assert line_of(message) == line and words in message, message


def test_size_limit_for_str_counts_utf8_bytes() -> None:
    text = "title\n" + BASE + "* " + "\u00b5" * 128_000 + "\n"
    assert "at most 256000" in refusal(text.encode())
    with pytest.raises(NetlistError, match="at most 256000"):
        read_deck(text)


def test_crlf_and_cr_line_ends() -> None:
    d = read_deck("title\r\nV1 in 0 AC 1\rR1 in 0 1k\r\n+ m=2\n")
    assert d.elements[0].value == 500.0 and d.elements[0].line == 3


@pytest.mark.parametrize("body,line,words", [
    ("+ R1 in 0 1k\n" + BASE, 2, "no card comes before it"),
    ("", 1, "no R, L or C element"),
    ("V1 in 0 AC 1\n", 2, "no R, L or C element"),
    ("V1 in 0 AC 1\nR1 in 0 1k \\\n", 3, "unexpected"),
    ("V1 in 0 AC 1\nR1 in 0 {1k\n", 3, "unterminated"),
    ("V1 in 0 AC 1\nR1 in 0 1k}\n", 3, "unexpected '}'"),
])
def test_other_refusals(body: str, line: int, words: str) -> None:
    message = refusal(body)
    assert line_of(message) == line and words in message, message


def test_result_types() -> None:
    d = read(BASE + ".ac dec 10 1 1meg\n")
    assert isinstance(d, Deck) and all(isinstance(e, Element) for e in d.elements)
    assert d.elements[0] == Element("R1", "R", "in", "out", 1000.0, 3)
    with pytest.raises(AttributeError):
        d.elements[0].value = 2.0  # type: ignore[misc]


def test_instance_params_keyword_and_glued_form() -> None:
    d = read(".subckt f a b params:rv=1k\nR1 a b {rv}\n.ends\nV1 in 0 AC 1\nX1 in 0 f params: rv=5k\nX2 in 0 f\n")
    assert values(d) == {"X1.R1": 5e3, "X2.R1": 1e3}


def test_fan_out_work_is_bounded() -> None:
    # 2 instances per level, 10 levels: 1024 copies of a card holding a long expression
    long_value = "{" + "+".join(["1"] * 5_000) + "}"
    levels = "".join(f".subckt s{i} a b\nXa a b s{i + 1}\nXb a b s{i + 1}\n.ends\n" for i in range(1, 10))
    body = levels + f".subckt s10 a b\nR1 a b {long_value}\n.ends\nV1 in 0 AC 1\nXtop in 0 s1\n"
    assert "too much work" in refusal(body)


def test_reading_opens_no_file_and_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import os

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("read_deck must not open files or run commands")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    assert len(read(NESTED).elements) == 3
    for cards, _, _ in DANGEROUS:
        refusal(BASE + cards)


def test_resistor_ac_value_is_used_as_ngspice_does_in_ac() -> None:
    # ngspice 39 gives |V(2)| = 0.75 for this partition in .ac, i.e. it uses ac=15k, not the DC 5k
    d = read("vin 1 0 DC 1V AC 1V\nr1 1 2 5K\nr2 2 0 5K ac=15k m=3\n")
    assert values(d) == {"r1": 5e3, "r2": 5e3}
    assert any("r2: used ac=15k" in n and "(line 4)" in n for n in d.notes)


def test_cp1252_comment_bytes() -> None:
    d = read_deck(b"* title\n* a dash \x96 in a comment\nV1 in 0 AC 1\nR1 in 0 1k\n")
    assert d.elements[0].value == 1e3 and any("Windows-1252" in n for n in d.notes)
    message = refusal(b"* title\nV1 in 0 AC 1\nR1 in 0 1k \x81\n")  # 0x81: undefined in cp1252 -> Latin-1 C1
    assert line_of(message) == 3 and "U+0081" in message


def test_ltspice_and_pspice_directives() -> None:
    d = read(BASE + """\
        .backanno
        .noise V(noisy) V1 oct 10 1m 10Meg
        .PROBE64 N(N04173) V([X_X1.B])
        .tf v(tfout) V1
        .four 1k v(fout)
        .pz 1 0 pzout 0 vol pz
        .pz 1 0 a b cur pz
        .sens v(out)
        .disto dec 10 1 1k
        """)
    assert d.probed_nodes == ("noisy", "n04173", "x_x1.b", "tfout", "fout", "pzout")
    assert "ignored .backanno (line 5)" in d.notes and "ignored .pz (lines 10, 11)" in d.notes
    assert any("skipped the .pz output a,b" in n for n in d.notes)
