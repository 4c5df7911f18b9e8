"""Netlist round trips, the strict reader, and the command line's one-line errors with exit status 2."""

import json
import subprocess
import sys

import circuits as tc
import pytest

from circuitlib.core.errors import NetlistError
from circuitlib.core.netlist import parse_netlist, parse_value, to_netlist

GOOD = "V1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 159.15494309189535n\n.ac dec 10 1 1e6\n.end\n"


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
    ("V1 in 0 AC 1\n.include evil.lib\nR1 in out 1k\nC1 out 0 1n\n", ".include"),
    ("V1 in 0 AC 1\n.lib x\nR1 in out 1k\nC1 out 0 1n\n", ".lib"),
    ("V1 in 0 AC 1\nXU1 in out sub\nR1 in out 1k\nC1 out 0 1n\n", "XU1"),
    ("V1 in 0 AC 1\n.subckt sub a b\nR1 in out 1k\nC1 out 0 1n\n", ".subckt"),
    ("V1 in 0 AC 1\nV2 out 0 AC 1\nR1 in out 1k\nC1 out 0 1n\n", "more than one"),
    ("V1 in 0 AC 1\nR1 in out 1k\nR1 out 0 1k\nC1 out 0 1n\n", "duplicate"),
    ("V1 in 0 AC 1\nR1 in out abc\nC1 out 0 1n\n", "not a number"),
    ("V1 in 0 AC 1\nR1 in out 1x\nC1 out 0 1n\n", "not a number"),
    ("V1 in 0 AC 1\nR1 in out 0\nC1 out 0 1n\n", "not positive"),
    ("V1 in 0 AC 1\nR1 in out -5\nC1 out 0 1n\n", "not positive"),
    ("V1 in 0 AC 1\nR1 in out 1e400\nC1 out 0 1n\n", "finite"),
    ("V1 in 0 AC 1\nR1 in out 1e12\nC1 out 0 1n\n", "practical range"),
    ("R1 in out 1k\nC1 out 0 1n\n", "no independent voltage source"),
    ("V1 in 0 AC 1\nR1 in out 1k\nC1 out 0 1n\nE1 out 0 in 0 2\n", "E1"),
])
def test_reader_rejects_what_is_not_whitelisted(text, fragment):
    if fragment is None:
        assert parse_netlist(text, "out").circuit.n_nodes == 3
        return
    with pytest.raises(NetlistError, match=fragment.replace(".", r"\.")):
        parse_netlist(text, "out")


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
