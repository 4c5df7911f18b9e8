"""Exports: the LTspice schematic and the KiCad netlist read back to the same circuit, the Touchstone file agrees
with scikit-rf's own S-parameters of the same lumped network, the SVG holds every part, and the command line
writes them (or refuses with one line and exit status 2)."""

import json
import math
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import circuits as tc  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import skrf  # noqa: E402
from skrf.media import DefinedGammaZ0  # noqa: E402

from circuitlib.analysis.mask import FilterMask  # noqa: E402
from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge  # noqa: E402
from circuitlib.core.deck import read_deck  # noqa: E402
from circuitlib.core.netlist import AcSweep, parse_netlist, to_netlist  # noqa: E402
from circuitlib.designers.mask_design import design  # noqa: E402
from circuitlib.report import asc_drawing, export  # noqa: E402
from circuitlib.sim.mna import pencil, response_hz  # noqa: E402
from circuitlib.synthesis import families as fam  # noqa: E402
from circuitlib.synthesis import ladder as lad  # noqa: E402
from circuitlib.synthesis.classical import ladder_circuit  # noqa: E402

SWEEP = AcSweep("dec", 50, 10.0, 1e5)
F_HZ = np.geomspace(10.0, 1e5, 81)


def _ladder(family, order, response, rs, rl, form, ripple=0.5, att=40.0):
    """A classical ladder between rs and rl (ohm): edge 1 kHz, or 800-1250 Hz for band filters."""
    proto = lad.synthesise(family, order, ripple, att if family in ("elliptic", "chebyshev2") else None,
                           rs_ohm=1.0, rl_ohm=rl / rs, form=form)
    edge = 1e3 if response in ("lowpass", "highpass") else (800.0, 1250.0)
    return ladder_circuit(lad.transform(proto, response, edge, rs))


LADDERS = {
    "butterworth5-lowpass-shunt": _ladder("butterworth", 5, "lowpass", 50.0, 50.0, "shunt_first", ripple=3.0103),
    "chebyshev5-highpass-series": _ladder("chebyshev1", 5, "highpass", 50.0, 50.0, "series_first"),
    "chebyshev3-bandpass": _ladder("chebyshev1", 3, "bandpass", 50.0, 50.0, "shunt_first"),
    "elliptic5-lowpass-traps": _ladder("elliptic", 5, "lowpass", 50.0, 50.0, "series_first"),
    "elliptic5-lowpass-tanks": _ladder("elliptic", 5, "lowpass", 50.0, 50.0, "shunt_first"),
    "elliptic3-bandpass": _ladder("elliptic", 3, "bandpass", 75.0, 300.0, "shunt_first"),
    "elliptic3-bandstop": _ladder("elliptic", 3, "bandstop", 75.0, 300.0, "series_first"),
    "chebyshev4-unequal": _ladder("chebyshev1", 4, "lowpass", 75.0, 300.0, "series_first"),
}


def _odd_circuits():
    """Circuits that are not ladders: bridges (twin-T, Wien), named families and random topologies."""
    t = fam.Target(1e3, 2.0, 1e3, 5)
    out = {"twin-t": tc.twin_t_notch(1e3), "wien": tc.wien(1e3), "rc": tc.rc_lowpass(1e3, 1e-7)}
    out |= {f"family-{name}": fam.build(name, t) for name in fam.FAMILIES if name != "random"}
    rng = np.random.default_rng(7)
    while sum(k.startswith("random") for k in out) < 25:
        c = fam.random_topology(rng, max_internal=4, p_edge=0.55)
        if any(VOUT in key for key, e in c.edges.items() if e.parts()):
            out[f"random-{len(out)}"] = c
    return out


ODD = _odd_circuits()


# ---------------------------------------------------------------- LTspice


def _graph(text: str) -> nx.MultiGraph:
    """The deck as a multigraph: nets as nodes (ground, vin and vout labelled), one edge per element."""
    deck = read_deck(text)
    g = nx.MultiGraph()
    for e in deck.elements:
        for n in (e.node_a, e.node_b):
            g.add_node(n, label=n if n in ("0", "vin", "vout") else None)
        g.add_edge(e.node_a, e.node_b, key=e.name.upper(), part=(e.name.upper(), e.kind.upper(), e.value))
    return g


def _same_parts(a: dict, b: dict) -> bool:
    return sorted(v["part"] for v in a.values()) == sorted(v["part"] for v in b.values())


def assert_same_circuit(ours: str, theirs: str) -> None:
    """Same elements (name, kind, exact value) on the same nets, up to the names of unlabelled nets; same source
    and same .ac card."""
    parse_netlist(ours, "vout")  # both are decks the package reads
    parse_netlist(theirs, "vout")
    a, b = read_deck(ours), read_deck(theirs)
    assert sorted((e.name.upper(), e.kind.upper(), e.value) for e in a.elements) == sorted(
        (e.name.upper(), e.kind.upper(), e.value) for e in b.elements)
    assert nx.is_isomorphic(_graph(ours), _graph(theirs), node_match=lambda x, y: x["label"] == y["label"],
                            edge_match=_same_parts)
    assert (b.source.node_pos, b.source.node_neg, b.source.ac_mag) == ("vin", "0", 1.0)
    assert a.ac == b.ac


@pytest.mark.parametrize("name", list(LADDERS) + list(ODD))
def test_ltspice_round_trip_gives_our_netlist(name):
    circuit = (LADDERS | ODD)[name]
    asc = export.to_ltspice_asc(circuit, SWEEP, name)
    assert_same_circuit(to_netlist(circuit, SWEEP), export.read_ltspice_asc(asc))


@pytest.mark.parametrize("name", list(LADDERS))
def test_ltspice_ladder_is_drawn_on_the_grid_without_labels_in_between(name):
    """Ladders need no net labels but vin, vout and ground: every connection is a wire or a pin on a wire, on
    LTspice's 16-unit grid, wires horizontal or vertical; and the rebuilt deck simulates exactly like ours."""
    circuit = LADDERS[name]
    asc = export.to_ltspice_asc(circuit, SWEEP, name)
    where = {"WIRE": slice(1, 5), "FLAG": slice(1, 3), "SYMBOL": slice(2, 4)}
    numbers = [int(v) for line in asc.splitlines() if line.split()[0] in where
               for v in line.split()[where[line.split()[0]]]]
    assert numbers and all(v % 16 == 0 for v in numbers)
    for line in asc.splitlines():
        if line.startswith("WIRE"):
            x1, y1, x2, y2 = map(int, line.split()[1:])
            assert x1 == x2 or y1 == y2
    assert {line.split()[3] for line in asc.splitlines() if line.startswith("FLAG")} == {"0", "vin", "vout"}
    theirs = parse_netlist(export.read_ltspice_asc(asc), "vout").circuit
    h_ours, h_theirs = response_hz(pencil(circuit), F_HZ), response_hz(pencil(theirs), F_HZ)
    assert np.allclose(h_theirs, h_ours, rtol=1e-9, atol=1e-12 * np.abs(h_ours).max())  # nets numbered otherwise


def test_ltspice_bridges_run_above_the_rail():
    asc = export.to_ltspice_asc(ODD["twin-t"], None, "twin-T")
    horizontal = [line for line in asc.splitlines() if line.startswith("SYMBOL") and line.endswith("R270")]
    assert any(int(line.split()[3]) < 0 for line in horizontal)  # a series part drawn above the rail


def test_read_ltspice_asc_joins_nets_as_ltspice_does():
    """A hand-written schematic in LTspice's own style: rotations R0, R90, R180, R270; a pin on the middle of a wire
    joins it; a wire that crosses another without an end on it does not; the source's Value2 holds `AC 1`."""
    asc = "\n".join([
        "Version 4", "SHEET 1 880 680",
        "WIRE 48 80 48 112", "WIRE 96 80 48 80", "WIRE 320 80 176 80", "WIRE 272 32 272 128",
        "FLAG 48 192 0", "FLAG 48 80 in", "FLAG 240 144 0", "FLAG 320 160 0", "FLAG 320 80 out", "FLAG 272 208 0",
        "FLAG 272 32 side", "FLAG 400 80 far",
        "SYMBOL voltage 48 96 R0", "WINDOW 123 24 124 Left 2", "SYMATTR InstName V1", "SYMATTR Value2 AC 1",
        'SYMATTR Value ""',
        "SYMBOL ind 80 96 R270", "WINDOW 0 32 56 VTop 2", "SYMATTR InstName L1", "SYMATTR Value 1m",
        "SYMBOL cap 224 80 R0", "SYMATTR InstName C1", "SYMATTR Value 1u",
        "SYMBOL res 336 176 R180", "SYMATTR InstName R1", "SYMATTR Value 50",
        "SYMBOL res 256 112 R0", "SYMATTR InstName R2", "SYMATTR Value 1k",
        "SYMBOL res 416 64 R90", "WINDOW 0 0 56 VBottom 2", "SYMATTR InstName R3", "SYMATTR Value 1k",
        "TEXT 40 300 Left 2 !.ac dec 10 1 1meg"])
    assert export.read_ltspice_asc(asc).splitlines() == [
        "* LTspice schematic", "V1 in 0 AC 1", "L1 in out 1m", "C1 out 0 1u", "R1 0 out 50", "R2 side 0 1k",
        "R3 far out 1k", ".ac dec 10 1 1meg", ".end"]


@pytest.mark.parametrize("text, fragment", [
    ("Version 4\nSYMBOL npn 0 0 R0\nSYMATTR InstName Q1\n", "npn"),
    ("Version 4\nSYMBOL res 0 0 R45\nSYMATTR InstName R1\n", "R45"),
    ("Version 4\nSYMBOL res 0 0 R0\nSYMATTR Value 1k\n", "InstName"),
    ("Version 4\nWIRE 0 x 16 0\n", "line 2"),
    ("Version 4\nFLAG 0 0 a\nFLAG 0 0 b\nSYMBOL res 0 -16 R0\nSYMATTR InstName R1\nSYMATTR Value 1\n", "same net"),
])
def test_read_ltspice_asc_refuses_what_it_cannot_read(text, fragment):
    with pytest.raises(export.NetlistError, match=fragment):
        export.read_ltspice_asc(text)


def test_spicelib_reads_the_schematic(tmp_path):
    """spicelib's AscEditor (given stand-ins for LTspice's res/cap/ind/voltage symbols, which need LTspice itself)
    reads every part with its value, the rotations and the .ac directive."""
    asc_editor = pytest.importorskip("spicelib.editor.asc_editor")
    for symbol in ("res", "cap", "ind", "voltage"):
        body = ["Version 4", "SymbolType CELL", f"SYMATTR Prefix {export.SYMBOL_PREFIX[symbol]}"]
        for i, (x, y) in enumerate(export.SYMBOL_PINS[symbol], start=1):
            body += [f"PIN {x} {y} NONE 0", f"PINATTR SpiceOrder {i}"]
        (tmp_path / f"{symbol}.asy").write_text("\n".join(body) + "\n")
    circuit = LADDERS["elliptic5-lowpass-traps"]
    (tmp_path / "f.asc").write_text(export.to_ltspice_asc(circuit, SWEEP, "elliptic"))
    editor = asc_editor.AscEditor(str(tmp_path / "f.asc"))
    assert editor.get_components() == ["VIN"] + [c.name for c in circuit.components()]
    assert editor.get_component_value("VIN") == "AC 1"
    for c in circuit.components():
        assert float(editor.get_component_value(c.name)) == c.value
        assert editor.get_component_position(c.name)[1].name in ("R0", "R270")
    assert [d.text for d in editor.directives if d.text.startswith(".")] == [SWEEP.card()]


# ---------------------------------------------------------------- KiCad


@pytest.mark.parametrize("name", list(LADDERS) + ["twin-t", "wien"])
def test_kicad_round_trip(name):
    circuit = (LADDERS | ODD)[name]
    text = export.to_kicad_net(circuit, f'{name} "quoted" \\ title')
    assert text.count("(") == text.count(")")
    back = export.read_kicad_net(text)
    assert back["title"] == f'{name} "quoted" \\ title'
    comps = circuit.components()
    assert sorted(back["components"]) == sorted(c.name for c in comps)
    pin_net = {(ref, pin): net for net, nodes in back["nets"].items() for ref, pin in nodes}
    assert len(pin_net) == 2 * len(comps)
    for c in comps:
        got = back["components"][c.name]
        assert (got["kind"], got["part"], got["lib"], got["value"]) == (c.kind, c.kind, "Device", c.value)
        assert got["footprint"] == export.FOOTPRINT[c.kind]
        assert read_deck(f"*\nV1 a 0 AC 1\nR1 a 0 {got['value_text']}\n").elements[0].value == pytest.approx(
            c.value, rel=5e-6)
        names = [("GND" if n == GND else "/" + Circuit.node_name(n)) for n in (c.node_a, c.node_b)]
        assert [pin_net[(c.name, "1")], pin_net[(c.name, "2")]] == names


def test_kicad_footprints_are_standard_library_names():
    assert export.FOOTPRINT == {"R": "Resistor_SMD:R_0805_2012Metric", "C": "Capacitor_SMD:C_0805_2012Metric",
                                "L": "Inductor_SMD:L_1210_3225Metric"}


@pytest.mark.parametrize("text", ["(export (components)", "(design)", '(export (x "a))'])
def test_read_kicad_net_refuses_broken_text(text):
    with pytest.raises(export.NetlistError):
        export.read_kicad_net(text)


# ---------------------------------------------------------------- Touchstone


def _skrf_reference(circuit: Circuit, z1: float, z2: float) -> skrf.Network:
    """The same filter built by scikit-rf from its own lumped elements, ports at the filter's input (z1) and
    output (z2)."""
    tp = export.two_port(circuit)
    freq = skrf.Frequency.from_f(F_HZ, unit="hz")
    media = DefinedGammaZ0(frequency=freq, z0=50.0)
    make = {"R": media.resistor, "L": media.inductor, "C": media.capacitor}
    nets: dict[int, list] = {}
    for c in tp.parts:
        element = make[c.kind](c.value, name=c.name)
        nets.setdefault(c.node_a, []).append((element, 0))
        nets.setdefault(c.node_b, []).append((element, 1))
    nets.setdefault(tp.port1, []).insert(0, (skrf.circuit.Circuit.Port(freq, "port1", z0=z1), 0))
    nets.setdefault(tp.port2, []).insert(0, (skrf.circuit.Circuit.Port(freq, "port2", z0=z2), 0))
    nets.setdefault(GND, []).append((skrf.circuit.Circuit.Ground(freq, "gnd"), 0))
    connections = [nets.pop(tp.port1), nets.pop(tp.port2)] + list(nets.values())
    return skrf.circuit.Circuit(connections).network


def _read_s2p(text: str, tmp_path) -> skrf.Network:
    path = tmp_path / "filter.s2p"
    path.write_text(text)
    return skrf.Network(str(path))


TERMINATED = ["butterworth5-lowpass-shunt", "elliptic5-lowpass-traps", "chebyshev3-bandpass", "elliptic3-bandpass",
              "elliptic3-bandstop", "chebyshev4-unequal"]


@pytest.mark.parametrize("name", TERMINATED)
def test_touchstone_matches_scikit_rf(name, tmp_path):
    circuit = LADDERS[name]
    tp = export.two_port(circuit)
    text = export.touchstone_s2p(circuit, F_HZ)
    ours, ref = _read_s2p(text, tmp_path), _skrf_reference(circuit, tp.rs_ohm, tp.rl_ohm)
    assert text.count("[Reference]") == (tp.rs_ohm != tp.rl_ohm)  # version 2.0 only for unequal references
    assert np.array_equal(ours.f, F_HZ)
    assert np.allclose(ours.z0, [tp.rs_ohm, tp.rl_ohm], rtol=0, atol=0)
    for i, j in ((1, 0), (0, 0), (0, 1), (1, 1)):
        assert np.max(np.abs(np.abs(ours.s[:, i, j]) - np.abs(ref.s[:, i, j]))) < 1e-9
        assert np.max(np.abs(ours.s[:, i, j] - ref.s[:, i, j])) < 1e-9


@pytest.mark.parametrize("z1, z2", [(50.0, 50.0), (75.0, 300.0)])
def test_touchstone_with_other_references_matches_scikit_rf(z1, z2, tmp_path):
    """The references may differ from the terminations the design was made for (here 50/50 designed)."""
    circuit = LADDERS["elliptic5-lowpass-tanks"]
    ours = _read_s2p(export.touchstone_s2p(circuit, F_HZ, z1, z2), tmp_path)
    ref = _skrf_reference(circuit, z1, z2)
    assert np.max(np.abs(ours.s - ref.s)) < 1e-9
    assert np.allclose(ours.z0, [z1, z2], rtol=0, atol=0)


@pytest.mark.parametrize("name", TERMINATED)
def test_s21_is_the_terminated_gain(name, tmp_path):
    """|S21| = 2 sqrt(RS/RL) |Vout/Vs|: in dB, the gain re G_ref = RL/(RS+RL) plus the mismatch 2 sqrt(RS RL)/(RS+RL)
    (0 dB for equal terminations)."""
    circuit = LADDERS[name]
    tp = export.two_port(circuit)
    rs, rl = tp.rs_ohm, tp.rl_ohm
    h = response_hz(pencil(circuit), F_HZ)  # Vout / Vs: the circuit with RS and RL as simulated
    s21_db = 20 * np.log10(np.abs(_read_s2p(export.touchstone_s2p(circuit, F_HZ), tmp_path).s[:, 1, 0]))
    gain_re_gref_db = 20 * np.log10(np.abs(h) / (rl / (rs + rl)))
    mismatch_db = 20 * math.log10(2 * math.sqrt(rs * rl) / (rs + rl))
    keep = np.abs(h) > 1e-12 * np.abs(h).max()  # not on a transmission zero, where both are rounding (-300 dB)
    assert keep.sum() >= len(F_HZ) - 1
    s21_db, gain_re_gref_db = s21_db[keep], gain_re_gref_db[keep]
    assert np.allclose(s21_db, gain_re_gref_db + mismatch_db, rtol=0, atol=1e-9)
    assert np.allclose(np.abs(export.s_parameters(circuit, F_HZ)[:, 1, 0]), 2 * math.sqrt(rs / rl) * np.abs(h),
                       rtol=1e-12, atol=1e-15)
    if rs == rl:
        assert np.allclose(s21_db, gain_re_gref_db, rtol=0, atol=1e-9)


def test_lossless_filter_conserves_power():
    s = export.s_parameters(LADDERS["elliptic3-bandpass"], F_HZ)
    assert np.allclose(np.abs(s[:, 0, 0]) ** 2 + np.abs(s[:, 1, 0]) ** 2, 1.0, atol=1e-12)
    assert np.allclose(s[:, 0, 1], s[:, 1, 0], atol=1e-12)  # reciprocal


@pytest.mark.parametrize("rs, rl, fragment", [(0.0, 50.0, "ideal source"), (50.0, None, "output is open")])
def test_touchstone_refuses_an_ideal_source_or_open_load(rs, rl, fragment):
    mask = FilterMask("lowpass", 1000.0, 2500.0, 0.5, 40.0, rs, rl)
    circuit = design(mask, n=1, ngspice=False, family="butterworth")[0].circuit
    with pytest.raises(export.ExportError, match=fragment) as info:
        export.touchstone_s2p(circuit, F_HZ)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, export.CircuitlibError)


def test_touchstone_refuses_bad_frequencies_and_references():
    circuit = LADDERS["butterworth5-lowpass-shunt"]
    for f in ([], [1e3, 1e2], [0.0, 1.0], [float("nan")]):
        with pytest.raises(export.ExportError, match="frequencies"):
            export.touchstone_s2p(circuit, f)
    with pytest.raises(export.ExportError, match="reference impedance"):
        export.touchstone_s2p(circuit, F_HZ, -50.0, 50.0)


def test_terminations_are_found_by_shape_in_a_deck():
    deck = "* t\nV1 a 0 AC 1\nRsrc a b 50\nL1 b out 1m\nC1 out 0 1u\nRload out 0 50\n"
    tp = export.two_port(parse_netlist(deck, "out").circuit)
    assert (tp.rs_ohm, tp.rl_ohm, sorted(c.kind for c in tp.parts)) == (50.0, 50.0, ["C", "L"])
    with pytest.raises(export.ExportError, match="ideal source"):
        export.two_port(parse_netlist("* t\nV1 a 0 AC 1\nL1 a out 1m\nR1 out 0 50\n", "out").circuit)


# ---------------------------------------------------------------- SVG


def test_svg_holds_every_part_and_is_repeatable():
    circuit = LADDERS["elliptic5-lowpass-traps"]
    svg = export.to_svg(circuit, "elliptic")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "elliptic" in svg
    assert all(f">{c.name} " in svg for c in circuit.components())
    assert export.to_svg(circuit, "elliptic") == svg


# ---------------------------------------------------------------- command line


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "circuitlib", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, check=False)


DESIGN = ["design", "--response", "lowpass", "--passband", "1000", "--stopband", "2500", "--ripple-db", "0.5",
          "--attenuation-db", "40", "--family", "elliptic", "-n", "1"]


def test_cli_exports_match_export_formats():
    from circuitlib import cli

    assert cli.EXPORTS == export.FORMATS


def _no_ac(deck: str) -> str:
    """The deck without its .ac card (stdout's netlist has the default sweep, the export the mask's)."""
    return re.sub(r"(?m)^\.ac .*\n", "", deck)


def test_cli_design_writes_every_export(tmp_path):
    """One design call per format would be slow; ltspice and touchstone by the CLI, checked against the design's
    netlist and scikit-rf; kicad and svg through the same code path with --json (the line goes to stderr)."""
    terms = ["--source-ohm", "50", "--load-ohm", "50"]
    out = _cli(*DESIGN, *terms, "--export", "ltspice", "--export-path", str(tmp_path / "f.asc"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == f"wrote the best design as ltspice to {tmp_path / 'f.asc'}"
    netlist = out.stdout[out.stdout.index("* circuitlib netlist"):out.stdout.index(".end") + 4]
    asc = (tmp_path / "f.asc").read_text()
    assert "!.ac dec 100 " in asc
    assert_same_circuit(_no_ac(netlist + "\n"), _no_ac(export.read_ltspice_asc(asc)))
    out = _cli(*DESIGN, *terms, "--export", "touchstone", "--export-path", str(tmp_path / "f.s2p"))
    assert out.returncode == 0, out.stderr
    network = skrf.Network(str(tmp_path / "f.s2p"))
    assert network.f[0] == pytest.approx(100.0) and 24e3 < network.f[-1] <= 25e3  # a tenth of 1 kHz to 10 x 2.5 kHz
    s21_db = network.s_db[:, 1, 0]
    assert s21_db[np.argmin(np.abs(network.f - 500.0))] > -0.6  # passband: within the 0.5 dB ripple re G_ref
    assert s21_db[network.f >= 2500.0].max() < -39.9  # stopband
    out = _cli(*DESIGN, *terms, "--json", "--export", "kicad", "--export-path", str(tmp_path / "f.net"))
    assert out.returncode == 0, out.stderr
    designs = json.loads(out.stdout)
    assert out.stderr.strip() == f"wrote the best design as kicad to {tmp_path / 'f.net'}"
    kicad = export.read_kicad_net((tmp_path / "f.net").read_text())
    assert sorted(kicad["components"]) == sorted(e.name.upper() for e in read_deck(designs[0]["netlist"]).elements)


def test_cli_design_svg(tmp_path):
    out = _cli(*DESIGN, "--export", "svg", "--export-path", str(tmp_path / "sub" / "f.svg"))
    assert out.returncode == 0, out.stderr
    assert "<svg" in (tmp_path / "sub" / "f.svg").read_text()
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name != "f.svg"]  # no temporary file left behind


def test_cli_generate_exports_its_best_design(tmp_path):
    out = _cli("generate", "--response", "bandpass", "--f", "1000", "--q", "5", "--method", "analytic", "--export",
               "kicad", "--export-path", str(tmp_path / "g.net"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == f"wrote the best design as kicad to {tmp_path / 'g.net'}"
    netlist = out.stdout[out.stdout.index("* circuitlib netlist"):out.stdout.index(".end") + 4]
    parts = {e.name.upper(): e.value for e in read_deck(netlist).elements}
    kicad = export.read_kicad_net((tmp_path / "g.net").read_text())
    assert {ref: c["value"] for ref, c in kicad["components"].items()} == parts


def test_render_refuses_an_unknown_format():
    with pytest.raises(export.ExportError, match="export must be one of"):
        export.render("spice", LADDERS["elliptic5-lowpass-traps"], SWEEP, "x")


@pytest.mark.parametrize("args, fragment", [
    (DESIGN + ["--export", "touchstone", "--export-path", "x.s2p"], "ideal source or an open load"),
    (DESIGN + ["--source-ohm", "50", "--export", "touchstone", "--export-path", "x.s2p"], "open load"),
    (DESIGN + ["--export", "ltspice"], "--export and --export-path go together"),
    (DESIGN + ["--export-path", "x.asc"], "--export and --export-path go together"),
    (DESIGN + ["--export", "spice", "--export-path", "x.cir"], "invalid choice"),
    (DESIGN + ["--export", "svg", "--export-path", "."], "is a folder"),
    (["generate", "--response", "lowpass", "--f", "1000", "--export", "touchstone", "--export-path", "x.s2p"],
     "S-parameters are undefined"),
    (["generate", "--response", "lowpass", "--f", "1000", "--export", "svg"], "go together"),
])
def test_cli_export_refusals_are_one_line(args, fragment, tmp_path):
    out = _cli(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and fragment in out.stderr and "Traceback" not in out.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_simulate_s_params(tmp_path):
    circuit = LADDERS["chebyshev4-unequal"]
    deck = tmp_path / "f.cir"
    deck.write_text(to_netlist(circuit, AcSweep("dec", 5, 100.0, 1e4)))
    out = _cli("simulate", str(deck), "--out", "vout", "--s-params")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if not line.startswith("* note:")]
    assert lines[0] == "* S-parameters between RS = 75 ohm and RL = 300 ohm (nodal solver)"
    assert lines[1] == "f_hz\ts21_db\ts11_db"
    rows = np.array([[float(v) for v in line.split("\t")] for line in lines[2:]])
    s = export.s_parameters(circuit, rows[:, 0])
    assert np.allclose(rows[:, 1], 20 * np.log10(np.abs(s[:, 1, 0])), atol=2e-6)
    assert np.allclose(rows[:, 2], 20 * np.log10(np.abs(s[:, 0, 0])), atol=2e-6)
    out = _cli("simulate", str(deck), "--out", "vout", "--s-params", "--json")
    got = json.loads(out.stdout)
    assert (got["rs_ohm"], got["rl_ohm"], len(got["f_hz"])) == (75.0, 300.0, len(rows))


def test_cli_simulate_s_params_refuses_an_unterminated_deck(tmp_path):
    deck = tmp_path / "rc.cir"
    deck.write_text(to_netlist(Circuit(0, {(VIN, VOUT): Edge(r_ohm=1e3), (GND, VOUT): Edge(c_f=1e-7)})))
    out = _cli("simulate", str(deck), "--out", "vout", "--s-params")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "load resistance" in out.stderr


# ---------------------------------------------------------------- drawing an .asc (report.asc_drawing)

def _asc_of_design():
    mask = FilterMask("lowpass", 1e3, 2.5e3, 0.5, 40.0, 50.0, 50.0)
    circuit = design(mask, n=1, ngspice=False)[0].circuit
    return circuit, export.to_ltspice_asc(circuit, None, "drawing test")


def _gid(fig, gid):
    ax = fig.axes[0]
    return [a for a in list(ax.lines) + list(ax.texts) + list(ax.patches) if a.get_gid() == gid]


def test_asc_drawing_has_one_line_per_wire_and_one_label_per_part():
    circuit, asc = _asc_of_design()
    fig = asc_drawing.draw_asc(asc)
    try:
        wires = [line for line in asc.splitlines() if line.startswith("WIRE ")]
        drawn = _gid(fig, "wire")
        assert len(drawn) == len(wires)
        ends = sorted(tuple(map(int, w.split()[1:5])) for w in wires)
        assert sorted((int(x[0]), int(y[0]), int(x[1]), int(y[1])) for x, y in (l.get_data() for l in drawn)) == ends
        labels = [t.get_text() for t in _gid(fig, "label")]
        names = ["VIN"] + [c.name for c in circuit.components()]
        assert len(labels) == len(names) == asc.count("\nSYMBOL ")
        assert sorted(label.split("\n")[0] for label in labels) == sorted(names)
        assert fig.axes[0].yaxis_inverted()  # y down, like LTspice
    finally:
        plt.close(fig)


def test_asc_drawing_places_parts_at_export_pins_and_flags_as_labels():
    _, asc = _asc_of_design()
    sheet = asc_drawing.parse_asc(asc)
    # the same pins as export's own reader, which read_ltspice_asc joins into nets
    assert [s.pins for s in sheet.symbols] == [p.pins for p in export._read_asc_lines(asc)[2]]
    fig = asc_drawing.draw_asc(asc, title="t")
    try:
        for symbol in sheet.symbols:  # every part's drawing reaches both of its pins
            ends = {(round(x), round(y)) for line in _gid(fig, "part") if hasattr(line, "get_xdata")
                    for x, y in zip(line.get_xdata(), line.get_ydata())}
            assert set(symbol.pins) <= ends, symbol.name
        flags = [name for _, name in sheet.flags]
        texts = [a.get_text() for a in _gid(fig, "flag") if hasattr(a, "get_text")]
        assert sorted(texts) == sorted(f for f in flags if f != "0") == ["vin", "vout"]
        grounds = flags.count("0")  # a ground sign: a stem and three bars
        lines = [a for a in _gid(fig, "flag") if not hasattr(a, "get_text")]
        assert len(lines) == 4 * grounds + (len(flags) - grounds)
    finally:
        plt.close(fig)


def test_asc_drawing_draws_an_unknown_symbol_as_a_labelled_box():
    asc = "Version 4\nWIRE 0 0 64 0\nSYMBOL opamp2 96 0 R0\nSYMATTR InstName U1\nFLAG 0 0 in\n"
    sheet = asc_drawing.parse_asc(asc)
    assert sheet.symbols[0].pins is None and sheet.symbols[0].name == "U1"
    fig = asc_drawing.draw_asc(asc)
    try:
        assert len(_gid(fig, "wire")) == 1
        assert [t.get_text() for t in _gid(fig, "label")] == ["opamp2\nU1"]
    finally:
        plt.close(fig)
    with pytest.raises(export.NetlistError, match="line 2"):
        asc_drawing.parse_asc("Version 4\nWIRE 0 x 1 1\n")
