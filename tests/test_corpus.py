"""The third-party deck corpus (tests/decks, manifest.json) against ngspice itself.

* Every `accept` deck: ngspice (the batch binary, on a wrapper of the ORIGINAL deck text; see corpus_ngspice.py for
  the few documented edits) gives the reference AC result at the deck's natural output node, once per module.
  circuitlib's reader and nodal solver (`read_netlist_file` + `simulate(engine="mna")`, and the CLI `simulate
  --engine mna --json` for a few) must match it within 0.01 dB wherever ngspice's |H| is above -200 dB, and within
  a thousandth of a degree in phase there.
* Every `refuse` deck: `python -m circuitlib measure FILE` exits 2 within 30 s with one line on stderr, no
  traceback, naming the manifest's reason words and the line the refusal is about.
* The passive `.subckt` decks are counted by `test_subckt_deck_is_flattened[...]` (run `-k subckt`).

Two accept decks are not compared (KNOWN_GAPS): ngspice simulates them, circuitlib refuses them by a documented
rule of its own. Both refusals are checked to be clean one-line errors, so the gap stays visible.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from corpus_ngspice import DEFAULT_AC, NGSPICE, NgspiceError, ngspice_ac, probed_nodes

from circuitlib.core.circuit import VIN, VOUT
from circuitlib.core.errors import NetlistError
from circuitlib.core.netlist import AcSweep, read_netlist_file
from circuitlib.sim.ac import simulate

ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "tests" / "decks"
MANIFEST = json.loads((DECKS / "manifest.json").read_text(encoding="utf-8"))
ENTRY = {e["file"]: e for e in MANIFEST}
ACCEPT = [e["file"] for e in MANIFEST if e["expect"] == "accept"]
REFUSE = [e["file"] for e in MANIFEST if e["expect"] == "refuse"]
SUBCKT = [f for f in ACCEPT if "subckt" in ENTRY[f]["features"]]

DB_TOL = 0.01  # dB, wherever ngspice's |H| > FLOOR_DB
PHASE_TOL_DEG = 1e-3
FLOOR_DB = -200.0
CLI_TIMEOUT_S = 30

# Accept decks that ngspice simulates but circuitlib refuses by a documented rule: file -> (why, words of the refusal)
KNOWN_GAPS = {
    "xyce_rc_ladder_3000.cir": ((
        "flattening gives 3001 R and 3001 C: circuitlib reads at most 2,000 elements after flattening "
        "(deck.MAX_ELEMENTS) and builds circuits of at most 200 elements and 20 internal nodes "
        "(netlist.MAX_ELEMENTS, MAX_INTERNAL_NODES); ngspice simulates it (checked)"),
        ("line 9", "more than 2000 elements")),
    "xyce_power_r_semicolon_param.cir": ((
        "the source 'VIN 0 1' has its + terminal at ground; circuitlib drives the input node against ground and "
        "refuses a source whose negative terminal is not ground (netlist.from_deck, book/cli.md 'Accepted "
        "netlists'); ngspice gives |V(2)| = 0.0909 at 180 degrees (checked)"),
        ("line 3", "negative terminal must be ground")),
}
COMPARED = [f for f in ACCEPT if f not in KNOWN_GAPS]

# Refuse decks: file -> (words that the manifest's reason or notes and circuitlib's one line both contain,
#                         how the deck's line named by circuitlib's error starts)
REFUSALS = {
    "ngspice_probe_control.cir": ((".control",), ".control"),
    "ngspice_rkm_4k7_control.cir": ((".control",), ".control"),
    "lepton_helloworld_control.cir": ((".control",), ".control"),
    "pyspice_kicad_include.cir": ((".include",), ".include"),
    "ngspice_multistage_vcvs.cir": (("e2",), "e2 "),
    "ngspice_two_sources.deck": (("second", "independent", "v1", "v2"), "v2 "),
    "xyce_switch.cir": (("switch", "sw"), "sw "),
    "ngspice_coupled_tline.cir": (("coupled multiconductor",), "p1 "),
    "ngspice_no_source_pz.cir": (("no independent", "source"), ".end"),
    "xyce_stray_comment_line.cir": (("line 6", "really"), "really "),
}

# A few accept decks also go through the CLI: own .ac and Latin-1, subckt defaults, nested subckt in UTF-8,
# ac= resistance with the output taken from .print, PSpice TC=a,b with the output taken from .PROBE
CLI_DECKS = ["spicelib_ac_latin1_micro.net", "ngspice_param_subckt.cir", "spicelib_nested_subckt_utf8.net",
             "ngspice_res_partition_acres.cir", "xdm_pspice_multiline_options.pspice"]


def _deck_text(name: str) -> str:
    return (DECKS / name).read_bytes().decode("latin-1")


def natural_output(name: str) -> str:
    """The manifest's output node, or (null) the one node voltage that the deck's output cards name."""
    given = ENTRY[name]["output_node"]
    if given is not None:
        return given
    named = probed_nodes(_deck_text(name))
    assert len(named) == 1, f"{name}: output_node is null, but the output cards name {named}"
    return named[0]


def _cli(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "circuitlib", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=CLI_TIMEOUT_S, check=False)
    return run, time.monotonic() - start


@pytest.fixture(scope="module")
def ngspice_results() -> dict[str, object]:
    """ngspice's own AC result (corpus_ngspice.NgspiceAc) for every compared accept deck, or the NgspiceError."""
    if NGSPICE is None:
        pytest.skip("the ngspice batch binary is not installed (apt-get install ngspice)")
    out: dict[str, object] = {}
    for name in COMPARED:
        try:
            out[name] = ngspice_ac(DECKS / name, natural_output(name))
        except NgspiceError as exc:
            out[name] = exc
    return out


def _reference(ngspice_results: dict, name: str):
    ref = ngspice_results[name]
    if isinstance(ref, NgspiceError):
        pytest.fail(f"ngspice gave no AC result for {name}: {ref}")
    # the wrapper applies the deck's own AC spec, or AC 1 where the deck has none: 1 V at 0 degrees in every deck
    np.testing.assert_allclose(ref.v_src, 1.0, rtol=0, atol=1e-12)
    return ref


def _compare(name: str, ref, f_hz: np.ndarray, h: np.ndarray) -> float:
    """Assert circuitlib's H matches ngspice's V(out)/V(source) on ngspice's sweep; the worst dB difference."""
    assert len(f_hz) == len(ref.f_hz), f"{name}: {len(f_hz)} frequencies, ngspice {len(ref.f_hz)}"
    np.testing.assert_allclose(f_hz, ref.f_hz, rtol=1e-6)  # ngspice steps multiplicatively: ~4e-9 apart
    h_ng = ref.v_out / ref.v_src
    db_ng = 20 * np.log10(np.maximum(np.abs(h_ng), 1e-300))
    db = 20 * np.log10(np.maximum(np.abs(h), 1e-300))
    live = db_ng > FLOOR_DB
    assert live.sum() >= 0.5 * len(live), f"{name}: most of the sweep is below {FLOOR_DB} dB"
    worst = float(np.max(np.abs(db - db_ng)[live]))
    at = int(np.argmax(np.where(live, np.abs(db - db_ng), -1)))
    assert worst <= DB_TOL, f"{name}: {worst:.4g} dB from ngspice at {f_hz[at]:.6g} Hz ({db[at]:.4f} vs {db_ng[at]:.4f})"
    phase = np.abs(np.angle(h[live] / h_ng[live], deg=True))
    assert phase.max() <= PHASE_TOL_DEG, f"{name}: phase {phase.max():.3g} degrees from ngspice"
    return worst


def _sweep_of(parsed, ref) -> AcSweep:
    if parsed.ac is not None:
        assert ref.own_ac, "circuitlib found an .ac card that the wrapper did not"
        return parsed.ac
    assert not ref.own_ac, "the wrapper found an .ac card that circuitlib did not"
    return AcSweep(*DEFAULT_AC)


# ---------------------------------------------------------------------------------------------------------------
# The manifest


def test_manifest_lists_every_deck_once() -> None:
    files = sorted(p.name for p in DECKS.iterdir() if p.name not in ("manifest.json", "README.md"))
    assert sorted(ENTRY) == files and len(MANIFEST) == len(ENTRY)
    assert (len(ACCEPT), len(REFUSE), len(SUBCKT)) == (23, 10, 5)
    assert set(REFUSALS) == set(REFUSE) and set(KNOWN_GAPS) <= set(ACCEPT) and set(CLI_DECKS) <= set(COMPARED)


@pytest.mark.parametrize("name", sorted(ENTRY))
def test_deck_bytes_match_manifest(name: str) -> None:
    data = (DECKS / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == ENTRY[name]["sha256"]
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == ENTRY[name]["git_blob"]


# ---------------------------------------------------------------------------------------------------------------
# Accepted decks against ngspice


@pytest.mark.parametrize("name", ACCEPT)
def test_accept_deck_matches_ngspice(name: str, ngspice_results: dict) -> None:
    if name in KNOWN_GAPS:
        pytest.skip(f"not compared: {KNOWN_GAPS[name][0]}")
    ref = _reference(ngspice_results, name)
    parsed = read_netlist_file(str(DECKS / name), ENTRY[name]["output_node"])
    assert parsed.node_names[VOUT].lower() == natural_output(name).lower()
    assert parsed.node_names[VIN].lower() == ref.source_nodes[0]
    src_notes = [n for n in parsed.notes if "has no AC part" in n]
    assert bool(src_notes) == any(e.startswith("added AC 1") for e in ref.edits)  # the same source as AC input
    result = simulate(parsed.circuit, _sweep_of(parsed, ref), engine="mna")
    _compare(name, ref, result.f_hz, result.h)


@pytest.mark.parametrize("name", CLI_DECKS)
def test_cli_simulate_matches_ngspice(name: str, ngspice_results: dict) -> None:
    ref = _reference(ngspice_results, name)
    args = ["simulate", str(DECKS / name), "--engine", "mna", "--json"]
    if ENTRY[name]["output_node"] is not None:
        args += ["--out", ENTRY[name]["output_node"]]
    if not ref.own_ac:
        args += ["--fstart", repr(DEFAULT_AC[2]), "--fstop", repr(DEFAULT_AC[3]), "--ppd", str(DEFAULT_AC[1])]
    run, _ = _cli(*args)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["engine"] == "mna"
    _compare(name, ref, np.array(out["f_hz"]), np.array(out["re"]) + 1j * np.array(out["im"]))


@pytest.mark.parametrize("name", SUBCKT)
def test_subckt_deck_is_flattened(name: str, ngspice_results: dict) -> None:
    """The passive .subckt decks: X cards flatten into dotted element names, and the result matches ngspice."""
    text = _deck_text(name).lower()
    assert ".subckt" in text and any(line.lstrip().startswith("x") for line in text.splitlines()[1:])
    if name in KNOWN_GAPS:
        pytest.skip(f"not compared: {KNOWN_GAPS[name][0]}")
    parsed = read_netlist_file(str(DECKS / name), ENTRY[name]["output_node"])
    assert any("." in element for element in parsed.element_names), parsed.element_names
    ref = _reference(ngspice_results, name)
    result = simulate(parsed.circuit, _sweep_of(parsed, ref), engine="mna")
    _compare(name, ref, result.f_hz, result.h)


@pytest.mark.parametrize("name", sorted(KNOWN_GAPS))
def test_known_gap_is_simulated_by_ngspice_and_refused_cleanly(name: str) -> None:
    """The decks KNOWN_GAPS skips: ngspice runs them, and circuitlib refuses them with its one-line error."""
    if NGSPICE is not None:
        ref = ngspice_ac(DECKS / name, natural_output(name))
        assert np.isfinite(ref.v_out).all() and abs(ref.v_out[0]) > 0
    with pytest.raises(NetlistError) as caught:
        read_netlist_file(str(DECKS / name), ENTRY[name]["output_node"])
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in KNOWN_GAPS[name][1]), message


def test_reversed_source_gap_is_ngspice_phase_180() -> None:
    """What accepting 'VIN 0 1' would have to reproduce: ngspice's V(2) is -1/11 (|H| = 0.0909 at 180 degrees)."""
    if NGSPICE is None:
        pytest.skip("the ngspice batch binary is not installed")
    ref = ngspice_ac(DECKS / "xyce_power_r_semicolon_param.cir", "2")
    np.testing.assert_allclose(ref.v_src, 1.0, atol=1e-12)
    np.testing.assert_allclose(ref.v_out, -1 / 11, rtol=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Refused decks through the CLI


@pytest.mark.parametrize("name", REFUSE)
def test_refuse_deck_one_line_exit_2(name: str) -> None:
    run, seconds = _cli("measure", str(DECKS / name))
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert seconds < CLI_TIMEOUT_S
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and run.stderr.endswith("\n"), run.stderr
    line = lines[0].lower()
    words, starts = REFUSALS[name]
    manifest = (ENTRY[name]["reason"] + " " + ENTRY[name]["notes"]).lower()
    for word in words:
        assert word in manifest, f"{word!r} is not in the manifest's reason or notes"
        assert word in line, f"{word!r} is not in {lines[0]!r}"
    assert line.startswith("error: line "), lines[0]
    number = int(line.removeprefix("error: line ").split(":", 1)[0])
    named = _deck_text(name).replace("\r\n", "\n").split("\n")[number - 1]
    assert named.strip().lower().startswith(starts), f"line {number} of {name} is {named!r}"
