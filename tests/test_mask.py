"""Filter masks: every inconsistent mask refused with one line; exact verification against closed forms and
ngspice."""

import math

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
