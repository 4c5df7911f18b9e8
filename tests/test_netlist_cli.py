"""Netlist round trips, the strict reader, and the command line's one-line errors with exit status 2."""

import json
import subprocess
import sys

import circuits as tc
import pytest

from circuitlib.core.errors import NetlistError
from circuitlib.core.netlist import parse_netlist, parse_value, to_netlist

GOOD = "* RC low-pass\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 159.15494309189535n\n.ac dec 10 1 1e6\n.end\n"
T = "* a title line: line 1 of a SPICE deck is always its title\n"


@pytest.mark.parametrize("circuit", [tc.twin_t_notch(1e3), tc.butterworth3_lowpass(2e3), tc.series_rlc_bandpass(5e3, 20)])
def test_round_trip_is_exact(circuit):
    parsed = parse_netlist(to_netlist(circuit), "vout")
    assert parsed.circuit.edges == circuit.edges and parsed.circuit.n_internal == circuit.n_internal


@pytest.mark.parametrize("token, value", [("10k", 1e4), ("2.2uF", 2.2e-6), ("1meg", 1e6), ("3.3e-9", 3.3e-9),
                                          ("47p", 47e-12), ("1m", 1e-3), ("5ohm", 5.0)])
def test_values_with_suffixes(token, value):
    assert parse_value(token) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text, fragment", [
    (GOOD.replace(".end", ".control\nshell rm -rf /\n.endc\n.end"), ".control"),
    (GOOD + "", None),
    (T + "V1 in 0 AC 1\n.include evil.lib\nR1 in out 1k\nC1 out 0 1n\n", ".include"),
    (T + "V1 in 0 AC 1\n.lib x\nR1 in out 1k\nC1 out 0 1n\n", ".lib"),
    (T + "V1 in 0 AC 1\nXU1 in out sub\nR1 in out 1k\nC1 out 0 1n\n", "XU1"),
    (T + "V1 in 0 AC 1\n.subckt sub a b\nR1 in out 1k\nC1 out 0 1n\n", ".subckt"),
    (T + "V1 in 0 AC 1\nV2 out 0 AC 1\nR1 in out 1k\nC1 out 0 1n\n", "second independent source"),
    (T + "V1 in 0 AC 1\nR1 in out 1k\nR1 out 0 1k\nC1 out 0 1n\n", "R1"),
    (T + "V1 in 0 AC 1\nR1 in out abc\nC1 out 0 1n\n", "unknown name 'abc'"),
    (T + "V1 in 0 AC 1\nR1 in out .k\nC1 out 0 1n\n", "not a number"),
    (T + "V1 in 0 AC 1\nR1 in out 0\nC1 out 0 1n\n", "not positive"),
    (T + "V1 in 0 AC 1\nR1 in out -5\nC1 out 0 1n\n", "not positive"),
    (T + "V1 in 0 AC 1\nR1 in out 1e400\nC1 out 0 1n\n", "finite"),
    (T + "R1 in out 1k\nC1 out 0 1n\n", "no independent voltage source"),
    (T + "V1 in 0 AC 1\nR1 in out 1k\nC1 out 0 1n\nE1 out 0 in 0 2\n", "E1"),
])
def test_reader_rejects_what_is_not_whitelisted(text, fragment):
    if fragment is None:
        assert parse_netlist(text, "out").circuit.n_nodes == 3
        return
    with pytest.raises(NetlistError, match="(?i)" + fragment.replace(".", r"\.")):
        parse_netlist(text, "out")


def test_line_one_is_the_title_as_in_every_spice():
    """SPICE's rule: a first line that looks like a card is still the title, never an element."""
    parsed = parse_netlist("R1 in out 1k\nV1 in 0 AC 1\nR2 in out 2k\nC1 out 0 1n\n", "out")
    assert parsed.element_names == ["R2", "C1"]


def test_reading_is_separate_from_the_design_ranges():
    """A 1 F capacitor and a 1 Tohm resistor read (ngspice simulates them); `measure` reports them as problems."""
    from circuitlib.analysis.measure import measure

    parsed = parse_netlist(T + "V1 in 0 AC 1\nR1 in out 1e12\nC1 out 0 1\n", "out")
    m = measure(parsed.circuit)
    assert not m.valid and m.problems


def test_values_units_and_case_as_ngspice_reads_them():
    parsed = parse_netlist(T + "v1 IN 0 ac 1\nr1 in Out 4k7\nC1 OUT 0 1uF\nR2 out 0 1x\n", "out")
    edges = parsed.circuit.edges
    assert edges[(1, 2)].r_ohm == 4000.0  # '4k7' is 4 k: ngspice ignores what follows the scale letter
    assert edges[(0, 2)].c_f == 1e-6 and edges[(0, 2)].r_ohm == 1.0  # '1x' is 1 ohm, the 'x' a unit
    assert parsed.node_names[1] == "IN" and parsed.node_names[2] == "Out"  # the user's first spelling


def test_reader_rejects_binary_and_missing_output():
    with pytest.raises(NetlistError, match="binary"):
        parse_netlist(b"V1 in 0 AC 1\x00\x01", "out")
    with pytest.raises(NetlistError, match="does not exist"):
        parse_netlist(GOOD, "nowhere")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "circuitlib", *args], capture_output=True, text=True, timeout=120)


def test_cli_measure_json(tmp_path):
    path = tmp_path / "rc.cir"
    path.write_text(GOOD)
    out = run_cli("measure", str(path), "--out", "out", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"valid", "problems", "response", "fc_hz", "f0_hz", "q", "q_pole", "order", "poles", "zeros"}
    assert data["response"] == "lowpass" and data["q_pole"] is None
    assert data["fc_hz"] == pytest.approx(1e3, rel=1e-6)  # 1/(2 pi 1k 159.15n) = 1 kHz


def test_cli_simulate_engines_agree(tmp_path):
    path = tmp_path / "rc.cir"
    path.write_text(GOOD)
    a = json.loads(run_cli("simulate", str(path), "--out", "out", "--json").stdout)
    b = json.loads(run_cli("simulate", str(path), "--out", "out", "--engine", "mna", "--json").stdout)
    assert a["f_hz"] == pytest.approx(b["f_hz"], rel=1e-12)
    assert a["re"] == pytest.approx(b["re"], rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("content, args", [
    (None, ["measure", "/nonexistent/file.cir", "--out", "out"]),
    (GOOD.replace("R1 in out 1k", "R1 in out 1k\nB1 out 0 V=1"), ["measure", "{path}", "--out", "out"]),
    (GOOD.replace(".end", ".control\nshell touch /tmp/pwned\n.endc\n.end"), ["simulate", "{path}", "--out", "out"]),
    (GOOD.replace("1k", "ten"), ["measure", "{path}", "--out", "out"]),
    (GOOD.replace("1k", "-1k"), ["measure", "{path}", "--out", "out"]),
    (GOOD, ["measure", "{path}", "--out", "missing"]),
    (GOOD, ["simulate", "{path}", "--out", "out", "--fstart", "-3"]),
    (GOOD, ["measure", "{path}"]),
    (GOOD, ["frobnicate"]),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, content, args):
    path = tmp_path / "x.cir"
    if content is not None:
        path.write_text(content)
    out = run_cli(*[a.replace("{path}", str(path)) for a in args])
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_cli_generate_analytic_json_meets_the_spec():
    out = run_cli("generate", "--response", "bandpass", "--f", "5000", "--q", "20", "--method", "analytic", "--json")
    assert out.returncode == 0, out.stderr
    (design,) = json.loads(out.stdout)
    assert set(design) >= {"netlist", "input_node", "output_node", "method", "topology", "measured", "bom"}
    assert design["measured"]["response"] == "bandpass"
    assert design["measured"]["f0_hz"] == pytest.approx(5000, rel=1e-6)
    assert design["measured"]["q"] == pytest.approx(20, rel=1e-6)
    assert design["ngspice_max_rel_err"] <= 1e-6


def test_cli_generate_with_e24_snaps_every_value():
    out = run_cli("generate", "--response", "lowpass", "--f", "1000", "--q", "0.707", "--method", "analytic",
                  "--eseries", "E24", "--json")
    assert out.returncode == 0, out.stderr
    (design,) = json.loads(out.stdout)
    assert design["eseries"] == "E24" and max(design["f_err"], design["q_err"]) <= 0.02


@pytest.mark.parametrize("args", [["--response", "bandpass", "--f", "1e9", "--q", "5"],
                                  ["--response", "bandpass", "--f", "1000"],
                                  ["--response", "notch", "--f", "1000", "--q", "2"],
                                  ["--response", "lowpass", "--f", "abc"],
                                  ["--response", "bandpass", "--f", "1000", "--q", "-2"],
                                  ["--response", "bandpass", "--f", "1000", "--q", "5000"],
                                  ["--response", "lowpass", "--f", "1000", "-n", "0"]])
def test_cli_generate_bad_spec_is_one_line_and_exit_2(args):
    out = run_cli("generate", "--method", "analytic", *args)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


SUB = "* a filter tool's output\n.SUBCKT LPF 1 2 3\nR1 1 2 1k\nC1 2 3 159.155n\n.ENDS LPF\n"


def test_bare_subckt_is_terminated_as_asked_and_matches_the_closed_form():
    """RS -> R1 -> (C1 || RL): H(s) = RL / (RS + R1 + RL + s C1 RL (RS + R1)); the third pin is the reference."""
    import numpy as np

    from circuitlib.sim.ac import simulate
    from circuitlib.core.netlist import AcSweep

    parsed = parse_netlist(SUB, subckt="lpf", source_ohm=50.0, load_ohm=1e3)
    assert sorted(parsed.element_names) == ["C1", "R1", "RL", "RS"]
    result = simulate(parsed.circuit, AcSweep("dec", 5, 10.0, 1e5))
    s = 2j * np.pi * result.f_hz
    expected = 1e3 / (50 + 1e3 + 1e3 + s * 159.155e-9 * 1e3 * 1050)
    assert np.abs(result.h) == pytest.approx(np.abs(expected), rel=1e-9)
    full = parse_netlist(SUB.replace("* a filter", "* the same filter").replace(".SUBCKT", "V1 src 0 AC 1\nRS src a 50\n"
                         "X1 a b 0 LPF\nRL b 0 1k\n.SUBCKT"), "b")
    again = simulate(full.circuit, AcSweep("dec", 5, 10.0, 1e5))
    assert again.h == pytest.approx(result.h, rel=1e-12)


def test_bare_subckt_ideal_source_and_open_output():
    parsed = parse_netlist(SUB, subckt="LPF")
    assert sorted(parsed.element_names) == ["C1", "R1"] and parsed.node_names[1] == "1"


@pytest.mark.parametrize("text, kwargs, fragment", [
    (SUB, {"subckt": "hpf"}, "no .subckt named 'hpf'"),
    ("* x\n.subckt quad 1 2 3 4\nR1 1 2 1k\nC1 2 4 1n\n.ends\n", {"subckt": "quad"}, "two-port"),
    (SUB, {"subckt": "lpf", "load_ohm": -5.0}, "load_ohm"),
    (SUB, {"subckt": "lpf", "source_ohm": float("nan")}, "source_ohm"),
    ("* x\nV1 a 0 AC 1\n.subckt f 1 2\nR1 1 2 1k\nC1 2 0 1n\n.ends\n", {"subckt": "f"}, "top-level card"),
])
def test_bare_subckt_refusals(text, kwargs, fragment):
    with pytest.raises(NetlistError, match=fragment):
        parse_netlist(text, **kwargs)


def test_cli_reads_a_bare_subckt(tmp_path):
    path = tmp_path / "lpf.lib"
    path.write_text(SUB)
    out = run_cli("measure", str(path), "--subckt", "LPF", "--source-ohm", "50", "--load-ohm", "50", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["response"] == "lowpass"
    bad = run_cli("measure", str(path), "--load-ohm", "50")
    assert bad.returncode == 2 and "--subckt" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
