"""Filter masks: every inconsistent mask refused with one line; exact verification against closed forms and
ngspice."""

import math
import re

import numpy as np
import pytest

from circuitlib.analysis.mask import GRID_PPD, FilterMask, MaskError, verify, verify_ngspice
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.sim.mna import pencil, response_hz

RC = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # fc = 1591.55 Hz
FC = 1 / (2 * math.pi * 1e3 * 1e-7)


@pytest.mark.parametrize("args, words", [
    (("lowpass", 2500.0, 1000.0, 0.5, 40.0), "must lie above its passband edge"),
    (("highpass", 1000.0, 2500.0, 0.5, 40.0), "must lie below its passband edge"),
    (("lowpass", 1000.0, 1000.0, 0.5, 40.0), "must lie above"),
    (("bandpass", (1100.0, 900.0), (500.0, 2000.0), 0.5, 40.0), "increasing order with distinct edges"),
    (("bandpass", (900.0, 900.0), (500.0, 2000.0), 0.5, 40.0), "increasing order with distinct edges"),
    (("bandpass", (900.0, 1100.0), (950.0, 2000.0), 0.5, 40.0), "must lie inside its stopband edges"),
    (("bandstop", (900.0, 1100.0), (800.0, 1000.0), 0.5, 40.0), "must lie inside its passband edges"),
    (("bandpass", 1000.0, (500.0, 2000.0), 0.5, 40.0), "must be a pair"),
    (("lowpass", (900.0, 1100.0), 2000.0, 0.5, 40.0), "must be one frequency"),
    (("lowpass", 1000.0, 2500.0, -0.5, 40.0), "ripple_db must be a finite number > 0"),
    (("lowpass", 1000.0, 2500.0, 0.5, math.inf), "attenuation_db must be a finite number > 0"),
    (("lowpass", math.nan, 2500.0, 0.5, 40.0), "passband_hz must be a finite number > 0"),
    (("lowpass", 1000.0, 2500.0, 3.0, 2.0), "must exceed ripple_db"),
    (("lowpass", 1000.0, 2500.0, 0.5, 40.0, -50.0), "source_ohm must be a finite number >= 0"),
    (("lowpass", 1000.0, 2500.0, 0.5, 40.0, 50.0, 0.0), "load_ohm must be a finite number > 0"),
    (("allpass", 1000.0, 2500.0, 0.5, 40.0), "response must be one of"),
])
def test_an_inconsistent_mask_is_refused_with_one_line(args, words):
    with pytest.raises(MaskError) as err:
        FilterMask(*args)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_gain_is_read_against_the_terminated_reference():
    assert FilterMask("lowpass", 1e3, 2e3, 0.5, 40.0, 50.0, 50.0).g_ref == 0.5
    assert FilterMask("lowpass", 1e3, 2e3, 0.5, 40.0, 75.0, 300.0).g_ref == pytest.approx(0.8)
    assert FilterMask("lowpass", 1e3, 2e3, 0.5, 40.0, 600.0, None).g_ref == 1.0
    assert FilterMask("bandstop", (1e3, 4e3), (1.8e3, 2.2e3), 1.0, 30.0).bands() == [
        ("pass", 0.0, 1e3), ("stop", 1.8e3, 2.2e3), ("pass", 4e3, math.inf)]


def test_an_rc_low_pass_against_its_closed_form():
    fp, fs = 500.0, 20e3
    report = verify(RC, FilterMask("lowpass", fp, fs, 1.0, 20.0))
    assert report.pass_min_db == pytest.approx(-10 * math.log10(1 + (fp / FC) ** 2), abs=1e-9)
    assert report.pass_max_db == pytest.approx(0.0, abs=1e-12) and report.pass_max_hz == 0.0  # the exact limit
    assert report.stop_max_db == pytest.approx(-10 * math.log10(1 + (fs / FC) ** 2), abs=1e-9)
    assert report.met and report.decisive == "pass_min"
    assert report.margin_db == pytest.approx(1.0 - 10 * math.log10(1 + (fp / FC) ** 2), abs=1e-9)


def test_a_resonant_peak_between_grid_points_is_found():
    """A series RLC low-pass with Q = 30 peaks at Q / sqrt(1 - 1/(4 Q^2)); the grid alone sits below it."""
    q, f0, z0 = 30.0, 1e3, 1e3
    w0 = 2 * math.pi * f0
    rlc = Circuit(1, {(1, 3): Edge(r_ohm=z0 / q), (2, 3): Edge(l_h=z0 / w0), (0, 2): Edge(c_f=1 / (z0 * w0))})
    peak_db = 20 * math.log10(q / math.sqrt(1 - 1 / (4 * q * q)))
    report = verify(rlc, FilterMask("lowpass", 2e3, 1e5, 40.0, 45.0))
    assert report.pass_max_db == pytest.approx(peak_db, abs=1e-9)
    grid = np.geomspace(10.0, 2e3, int(GRID_PPD * math.log10(2e3 / 10.0)) + 1)
    grid_peak = 20 * np.log10(np.abs(response_hz(pencil(rlc), grid)).max())
    assert peak_db - grid_peak > 1e-4  # what a sampled grid alone would have reported


NOTCH = Circuit(1, {(1, 2): Edge(r_ohm=500.0), (2, 3): Edge(l_h=0.1), (0, 3): Edge(c_f=2.533e-7)})  # 1 kHz notch


@pytest.mark.parametrize("circuit, mask", [
    (RC, FilterMask("lowpass", 300.0, 20e3, 0.5, 20.0)),
    (Circuit(0, {(1, 2): Edge(c_f=1e-7), (0, 2): Edge(r_ohm=1e3)}), FilterMask("highpass", 8e3, 100.0, 0.5, 20.0)),
    (NOTCH, FilterMask("bandstop", (100.0, 1e4), (990.0, 1010.0), 3.0, 10.0)),
    (Circuit(1, {(1, 3): Edge(l_h=1e-2), (2, 3): Edge(c_f=2.533e-6), (0, 2): Edge(r_ohm=10.0)}),
     FilterMask("bandpass", (990.0, 1010.0), (100.0, 1e4), 3.0, 20.0)),
])
def test_ngspice_agrees_with_the_nodal_verification(circuit, mask):
    nodal = verify(circuit, mask)
    ng = verify_ngspice(circuit, mask, nodal)
    for key in ("pass_min_db", "pass_max_db", "stop_max_db", "margin_db"):
        assert getattr(ng, key) == pytest.approx(getattr(nodal, key), abs=0.01), key
    assert ng.engine == "ngspice" and ng.met == nodal.met


def test_group_delay_over_the_passband_matches_the_rc_closed_form():
    fp, tau = 500.0, 1e3 * 1e-7
    report = verify(RC, FilterMask("lowpass", fp, 20e3, 1.0, 20.0))
    assert report.delay_max_s == pytest.approx(tau / (1 + (2 * math.pi * fp / 1e3 * tau) ** 2), rel=1e-6)
    assert report.delay_min_s == pytest.approx(tau / (1 + (2 * math.pi * fp * tau) ** 2), rel=1e-9)


@pytest.mark.parametrize("args", [
    ["--passband", "2500", "--stopband", "1000"],
    ["--passband", "1000", "--stopband", "2500", "--ripple-db", "-1"],
    ["--passband", "1k", "--stopband", "2500"],
    ["--passband", "1000", "--stopband", "2500", "--load-ohm", "fifty"],
    ["--passband", "1000", "--stopband", "2500", "--family", "gaussian"],
])
def test_the_design_command_refuses_a_bad_mask_with_one_line(args, capsys):
    from circuitlib.cli import main

    base = {"--ripple-db": "0.5", "--attenuation-db": "40"}
    argv = ["design", "--response", "lowpass", *args]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_the_design_command_meets_a_textbook_mask(capsys):
    from circuitlib.cli import main

    assert main(["design", "--response", "lowpass", "--passband", "1000", "--stopband", "2500", "--ripple-db", "0.5",
                 "--attenuation-db", "40", "--source-ohm", "50", "--load-ohm", "50", "-n", "1", "--json"]) == 0
    import json

    (d,) = json.loads(capsys.readouterr().out)
    assert d["verified"]["met"] and d["verified"]["engine"] == "ngspice" and d["parts"] <= 5
    assert "RS vin" in d["netlist"] and "RL 0 vout" in d["netlist"] and d["cross_check"]["max_abs_diff_db"] < 0.01


DESIGN_MASKS = [
    FilterMask("lowpass", 1e3, 2.5e3, 0.5, 40.0, 50.0, 50.0),
    FilterMask("highpass", 10e3, 4e3, 1.0, 30.0, 600.0, 600.0),
    FilterMask("bandpass", (9e3, 11e3), (6e3, 16e3), 0.3, 35.0, 75.0, 300.0),
    FilterMask("bandstop", (500.0, 2e3), (900.0, 1.1e3), 2.0, 25.0),
    FilterMask("lowpass", 5e3, 6e3, 0.1, 55.0, 50.0, None),
]


@pytest.mark.parametrize("mask", DESIGN_MASKS, ids=lambda m: m.response)
def test_every_returned_design_meets_its_mask_in_ngspice(mask):
    from circuitlib.designers.mask_design import design
    from circuitlib.synthesis.classical import filter_parts

    designs = design(mask, n=3)
    assert 1 <= len(designs) <= 3 and all(d.verified.engine == "ngspice" for d in designs)
    assert all(d.met and d.verified.margin_db > 0 for d in designs)
    keys = [(d.parts, d.inductors, -round(d.verified.margin_db, 9)) for d in designs]  # margins to 1e-9 dB
    assert keys == sorted(keys)  # ranked: fewest parts, inductors, largest margin
    for d in designs:
        assert abs(d.verified.margin_db - d.nodal.margin_db) < 0.01
        assert d.parts == len(filter_parts(d.circuit)) and {"RS", "RL"}.isdisjoint(
            c.name for c in filter_parts(d.circuit))


@pytest.mark.parametrize("mask", DESIGN_MASKS, ids=lambda m: m.response)
def test_the_best_design_has_no_more_parts_than_the_classical_minimum_order(mask):
    from circuitlib.designers.mask_design import design, minimum_order_parts

    assert design(mask, n=1, ngspice=False)[0].parts <= minimum_order_parts(mask)


@pytest.mark.parametrize("load, parts", [(50.0, 2), (None, 3)])
def test_the_classical_part_count_of_a_loose_lowpass_is_butterworths(load, parts):
    """buttord gives order 2 for 3 dB at 1 kHz and 20 dB at 6 kHz: an L and a C between terminations, and the
    unterminated ladder carries its own resistor as well."""
    from scipy import signal

    from circuitlib.designers.mask_design import minimum_order_parts

    assert signal.buttord(1e3, 6e3, 3.0, 20.0, analog=True)[0] == 2
    mask = FilterMask("lowpass", 1e3, 6e3, 3.0, 20.0, 0.0 if load is None else 50.0, load)
    assert minimum_order_parts(mask) == parts


def test_a_ladder_on_the_edge_of_its_mask_is_not_the_answer():
    """At scipy's order 3 this elliptic mask leaves no share of ripple or attenuation to hold back: the equiripple
    stopband touches -attenuation, a margin of 0 dB that rounding decides (a random mask of the unseen study,
    re-verified at -1e-15 dB). The design goes one order up instead and keeps a real margin."""
    from circuitlib.designers.mask_design import MIN_MARGIN_DB, design

    mask = FilterMask("highpass", 2771.04393484432, 907.3023663805882, 0.43394918122880505, 42.624763273402436,
                      600.0, 600.0)
    designs = design(mask, n=3, ngspice=False)
    assert all(d.nodal.margin_db >= MIN_MARGIN_DB and d.order > 3 for d in designs)
    # which side of 0 dB the order-3 ladder lands on is rounding (it differs between machines): either note says so
    order3 = re.compile(r"order 3 (meets the mask with 0 dB only|misses the mask by \d\.\d+e-1\d dB)")
    assert any(order3.search(" ".join(d.notes)) for d in designs)


def test_the_baseline_counts_the_lowest_order_that_meets():
    """ellipord gives order 4 here, but between 75 and 300 ohm an even-order elliptic ladder realises only the type
    b function (its highest zero moved to infinity), which is weaker and misses: the baseline is then the order-5
    ladder that meets, while the count at scipy's order (met or not) is the order-4 ladder's 5 parts."""
    from scipy import signal

    from circuitlib.designers.mask_design import design, minimum_order_parts

    mask = FilterMask("lowpass", 79.74e3, 106.53e3, 0.396, 27.94, 75.0, 300.0)
    assert signal.ellipord(79.74e3, 106.53e3, 0.396, 27.94, analog=True)[0] == 4
    (order4,) = design(mask, n=1, family="elliptic", form="min-capacitor", ngspice=False)
    assert order4.order == 5 and "order 4 misses the mask" in " ".join(order4.notes)
    assert minimum_order_parts(mask, must_meet=False) == 5
    best = design(mask, n=1, ngspice=False)[0]
    assert best.met and best.parts == minimum_order_parts(mask) == 7


@pytest.mark.parametrize("rl", [300.0, None])
def test_an_even_order_chebyshev_peak_above_the_reference_is_paid_for_in_the_stopband(rl):
    """An even-order Chebyshev I ladder's DC gain is the resistive divider G_ref, and its ripple peaks lie above it:
    the stopband, read against G_ref, needs that much more attenuation; the design asks for it and meets."""
    from circuitlib.designers.mask_design import design

    mask = FilterMask("lowpass", 1e3, 5e3, 1.2, 27.0, 75.0 if rl else 0.0, rl)
    (d,) = design(mask, n=1, family="chebyshev1", form="min-capacitor", ngspice=False)
    assert d.order == 2 and d.met and d.nodal.pass_max_db > 0.5
    assert any("above G_ref" in note for note in d.notes)


@pytest.mark.parametrize("passband, stopband", [((985.9e3, 1223.4e3), (1026.2e3, 1157.6e3)),
                                                ((900.0, 1300.0), (1000.0, 1050.0))])
def test_a_skewed_bandstop_is_designed_on_scipys_passband_edges(passband, stopband):
    """scipy's cheb1ord moves one passband edge of a bandstop mask inwards to balance the stopband edges, and its
    order counts on that: the design moves the same edge (cheb1ord's wn is its passband), and the Chebyshev I
    ladder at that order (the next odd one: equal terminations) meets the mask."""
    from scipy import signal

    from circuitlib.designers.mask_design import design, design_passband

    mask = FilterMask("bandstop", passband, stopband, 0.137, 43.0, 600.0, 600.0)
    order, wn = signal.cheb1ord(list(passband), list(stopband), 0.137, 43.0, analog=True)
    np.testing.assert_allclose(design_passband(mask), wn, rtol=1e-4)
    (best,) = design(mask, n=1, family="chebyshev1", ngspice=False)
    assert best.met and best.order == order + (order % 2 == 0)  # equal terminations realise odd orders only


def test_standard_values_are_series_values_and_verified_exactly():
    from circuitlib.designers.mask_design import design
    from circuitlib.synthesis.values import eseries_values, in_series

    mask = FilterMask("lowpass", 1e3, 3e3, 1.0, 30.0, 50.0, 50.0)
    (exact,) = design(mask, n=1, ngspice=False, family="chebyshev1", form="min-inductor")
    (e24,) = design(mask, n=1, ngspice=False, family="chebyshev1", form="min-inductor", eseries="E24")
    table = eseries_values("E24")
    for part in e24.to_json()["bom"]:
        mantissa = part["value"] / 10 ** math.floor(math.log10(part["value"]))
        assert np.min(np.abs(table - mantissa)) < 1e-9 and part["series"] == "E24"
        assert in_series(part["value"], "E24") and not in_series(part["value"] * 1.02, "E24")
    assert e24.nodal == verify(e24.circuit, mask)  # the report is the exact verification of these values
    assert e24.met and e24.parts == exact.parts and e24.nodal.margin_db != exact.nodal.margin_db
    assert e24.to_json()["eseries"] == "E24" and exact.to_json()["eseries"] is None


def test_the_joint_search_beats_rounding_each_part():
    from circuitlib.designers.mask_design import design
    from circuitlib.designers.standard_values import choices, with_values
    from circuitlib.synthesis.classical import filter_parts
    from circuitlib.synthesis.values import eseries_values

    mask = FilterMask("bandpass", (9e3, 11e3), (6e3, 16e3), 0.5, 30.0, 50.0, 50.0)
    (exact,) = design(mask, n=1, ngspice=False, family="chebyshev1", form="min-inductor")
    (joint,) = design(mask, n=1, ngspice=False, family="chebyshev1", form="min-inductor", eseries="E12")
    table = eseries_values("E12")
    rounded = with_values(exact.circuit, {(p.node_a, p.node_b, p.kind): choices(p.value, table)[0]
                                          for p in filter_parts(exact.circuit)})
    assert joint.nodal.margin_db >= verify(rounded, mask).margin_db


def test_choices_bracket_the_value():
    from circuitlib.designers.standard_values import choices
    from circuitlib.synthesis.values import eseries_values

    table = eseries_values("E6")  # 1.0 1.5 2.2 3.3 4.7 6.8
    assert choices(5e-9, table) == pytest.approx([4.7e-9, 6.8e-9, 3.3e-9, 1e-8])
    assert choices(9.9e3, table) == pytest.approx([1e4, 6.8e3, 1.5e4, 4.7e3])


def test_an_unknown_series_is_refused_with_one_line(capsys):
    from circuitlib.cli import main

    argv = ["design", "--response", "lowpass", "--passband", "1000", "--stopband", "2500", "--ripple-db", "0.5",
            "--attenuation-db", "40", "--eseries", "E7"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'E7'" in err


def test_a_series_too_coarse_for_the_mask_names_one_that_is_fine_enough():
    """Mask 3 of the seed-0 grid has no E6 design; the note names the first finer series that has one, and a design
    at that series meets the mask when verified again."""
    from circuitlib.analysis.mask import verify
    from circuitlib.designers.mask_design import design
    from circuitlib.report.mask_study import MaskGrid, random_masks

    mask = random_masks(MaskGrid(count=4, seed=0))[3]
    coarse = design(mask, n=1, eseries="E6", ngspice=False)[0]
    assert not coarse.met
    note = coarse.notes[-1]
    finer = note.rsplit("; ", 1)[1].split()[0]
    assert note.startswith("no design at E6 values meets the mask") and finer in ("E12", "E24", "E48", "E96", "E192")
    fine = design(mask, n=1, eseries=finer, ngspice=False)[0]
    assert fine.met and verify(fine.circuit, mask).met


def test_a_designs_netlist_sweeps_the_mask_it_was_designed_for():
    """The `.ac` card of a design's netlist covers every edge of its mask, here a bandstop at 6.7 MHz (above the
    default 1 MHz sweep), read back by the netlist reader."""
    from circuitlib.core.netlist import parse_netlist
    from circuitlib.designers.mask_design import design

    mask = FilterMask("bandstop", (6.55e6, 6.95e6), (6.72e6, 6.78e6), 0.5, 30.0, 50.0, 50.0)
    (d,) = design(mask, n=1, ngspice=False)
    ac = parse_netlist(d.to_json()["netlist"], "vout").ac
    assert ac.fstart_hz <= 6.55e6 / 10 and ac.fstop_hz >= 6.95e6 * 10
