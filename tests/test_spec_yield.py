"""Buildable (f, Q) designs: the sensitivity of f and q by autograd against finite differences and closed forms,
the tolerance yield against ngspice on independent samples, and `generate`'s yield flags."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from circuitlib.analysis.mask import FilterMask
from circuitlib.analysis.spec import Specification, achieved
from circuitlib.analysis.spec_sensitivity import figure_sensitivity, finite_difference
from circuitlib.analysis.spec_yield import spec_yield
from circuitlib.analysis.tolerance import Tolerance
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.errors import SpecificationError
from circuitlib.report.yield_check import agree, independent_spec_yield, ngspice_figures
from circuitlib.synthesis import values as synth

SPECS = [Specification("lowpass", 1e3, 0.9), Specification("highpass", 2e4, 2.0), Specification("bandpass", 5e3, 10.0),
         Specification("bandstop", 1e4, 3.0), Specification("any", 3e3, 5.0), Specification("lowpass", 300.0),
         Specification("highpass", 900.0, 0.28)]  # two real poles


def _snapped(spec: Specification) -> Circuit:
    """The closed-form design of `spec` at E24 values (off its target, so no figure sits on a symmetry)."""
    return synth.snap(synth.analytic(spec), spec, "E24")[0]


def _assert_matches_finite_differences(circuit: Circuit, spec: Specification, tol: float = 1e-6) -> None:
    for p in figure_sensitivity(circuit, spec):
        fd_f, fd_q = finite_difference(circuit, spec, p.name)
        assert p.f == pytest.approx(fd_f, abs=tol), (p.name, "f")
        assert (p.q is None) == (fd_q is None), p.name
        if p.q is not None:
            assert p.q == pytest.approx(fd_q, abs=tol), (p.name, "q")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.response}-{s.q}")
def test_the_autograd_sensitivity_of_f_and_q_matches_finite_differences(spec):
    _assert_matches_finite_differences(_snapped(spec), spec)


def test_the_sensitivity_of_a_fifth_order_ladder_matches_finite_differences():
    from circuitlib.designers.mask_design import design

    ladder = design(FilterMask("lowpass", 1e3, 2e3, 0.5, 30.0, 50.0, 50.0), n=1, family="chebyshev1",
                    ngspice=False)[0].circuit
    spec = Specification("lowpass", 1e3, 5.0)  # fc and the Q of the highest-Q pole pair
    assert len(ladder.components()) >= 5 and achieved(ladder, spec).q > 1
    _assert_matches_finite_differences(ladder, spec, tol=1e-5)


def test_an_rc_cutoff_moves_one_for_one_against_r_and_c_and_has_no_q():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=4.7e3), (0, 2): Edge(c_f=22e-9)})  # fc = 1 / (2 pi R C)
    spec = Specification("lowpass", 1 / (2 * math.pi * 4.7e3 * 22e-9))
    assert [(p.name, round(p.f, 9), p.q) for p in figure_sensitivity(rc, spec)] == [("C1", -1.0, None),
                                                                                   ("R1", -1.0, None)]


def test_the_highpass_pole_q_sensitivity_has_its_closed_form():
    # series C into shunt L with the load R across L: q_pole = R sqrt(C / L), so S_R = 1, S_C = 1/2, S_L = -1/2
    hp = Circuit(0, {(1, 2): Edge(c_f=100e-9), (0, 2): Edge(r_ohm=2e3, l_h=10e-3)})
    s = {p.name: p.q for p in figure_sensitivity(hp, Specification("highpass", 5e3, 1.0))}
    assert s == pytest.approx({"R1": 1.0, "C1": 0.5, "L1": -0.5}, abs=1e-9)


def test_the_pole_q_has_a_derivative_through_a_double_pole():
    # series R, L into a shunt C: q_pole = sqrt(L / C) / R, here exactly 1/2 (two equal real poles)
    lc = math.sqrt(10e-3 / 100e-9)
    lp = Circuit(1, {(1, 3): Edge(r_ohm=2 * lc), (2, 3): Edge(l_h=10e-3), (0, 2): Edge(c_f=100e-9)})
    spec = Specification("lowpass", 1e3, 0.5)
    assert achieved(lp, spec).q == pytest.approx(0.5, rel=1e-7)
    s = {p.name: p.q for p in figure_sensitivity(lp, spec)}
    assert s == pytest.approx({"R1": -1.0, "L1": 0.5, "C1": -0.5}, abs=1e-7)


def test_ngspice_reads_the_same_figures_as_measure():
    for spec in SPECS:
        c = _snapped(spec)
        got, ng = achieved(c, spec), ngspice_figures(c, spec)
        assert ng[0] == pytest.approx(got.f_hz, rel=1e-6), spec
        assert (ng[1] is None) == (got.q is None) or spec.q is None
        if spec.q is not None:
            assert ng[1] == pytest.approx(got.q, rel=1e-6), spec


@pytest.mark.parametrize("spec, tol, within", [(Specification("bandpass", 5e3, 10.0), 0.02, 0.01),
                                               (Specification("lowpass", 1e3, 0.9), 0.05, 0.05),
                                               (Specification("highpass", 900.0, 0.28), 0.05, 0.03)])
def test_the_reported_yield_agrees_with_ngspice_on_independent_samples(spec, tol, within):
    c = _snapped(spec)
    reported = spec_yield(c, spec, Tolerance(r=tol, l=tol, c=tol, samples=600, seed=4), within)
    independent = independent_spec_yield(c, spec, tol, "normal", 150, seed=99, within=within)
    assert 0.02 < reported.fraction < 1.0  # a yield that can disagree
    assert agree(reported.fraction, 600, independent.fraction, 150), (reported.fraction, independent.fraction)


def test_the_yield_blames_the_part_that_sets_a_narrow_bands_q():
    # series RLC band-pass: Q = sqrt(L/C)/R moves twice as much with R as with L or C
    rlc = Circuit(1, {(1, 3): Edge(l_h=10e-3), (2, 3): Edge(c_f=100e-9), (0, 2): Edge(r_ohm=100.0)})
    spec = Specification("bandpass", 1 / (2 * math.pi * math.sqrt(10e-3 * 100e-9)), math.sqrt(10e-3 / 100e-9) / 100)
    r = spec_yield(rlc, spec, Tolerance(r=0.05, l=0.05, c=0.05, samples=400, seed=2), 0.03)
    assert r.passed < 400 and r.top_failing_parts[0][0] == "R1"
    assert r.worst_error == pytest.approx(float(np.max(r.errors)))


def test_a_bad_window_is_refused():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})
    with pytest.raises(SpecificationError, match="within"):
        spec_yield(rc, Specification("lowpass", 1591.5), Tolerance(r=0.05), 1.5)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "circuitlib", *args], capture_output=True, text=True, timeout=300)


def test_generate_reports_the_yield_bom_and_sensitivity_in_json():
    out = run_cli("generate", "--response", "lowpass", "--f", "1000", "--q", "0.9", "--method", "analytic",
                  "--eseries", "E24", "--tolerance", "R=1%,C=5%,L=10%", "--samples", "200", "--within", "3%",
                  "--sensitivity", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)[0]
    y = d["yield"]
    assert y["tolerance"] == {"R": 0.01, "L": 0.10, "C": 0.05} and y["samples"] == 200 and y["within"] == 0.03
    assert 0 <= y["ci95"][0] <= y["yield"] <= y["ci95"][1] <= 1 and y["worst_margin_db"] is None
    assert "worst_margin_db" in y["null_reasons"]
    assert {(p["kind"], p["tolerance"], p["series"], p["count"]) for p in d["bom"]} == {
        ("R", 0.01, "E24", 1), ("L", 0.10, "E24", 1), ("C", 0.05, "E24", 1)}
    assert all(synth.in_series(p["value"], "E24") for p in d["bom"])
    assert {p["name"] for p in d["sensitivity"]} == {p["name"] for p in d["bom"]}
    assert d["null_reasons"] == {}


def test_generate_without_tolerance_gives_null_with_reasons():
    out = run_cli("generate", "--response", "bandpass", "--f", "5000", "--q", "10", "--method", "analytic", "--json")
    d = json.loads(out.stdout)[0]
    assert d["yield"] is None and d["sensitivity"] is None
    assert set(d["null_reasons"]) == {"yield", "sensitivity", "eseries"}


def test_min_yield_returns_a_design_that_reaches_it_or_exits_1_saying_so():
    ok = run_cli("generate", "--response", "bandpass", "--f", "5000", "--q", "10", "--method", "analytic",
                 "--eseries", "E24", "--tolerance", "1%", "--within", "3%", "--min-yield", "0.95", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["yield"]["yield"] >= 0.95
    # 5% parts cannot hold a series RLC's Q (S_R = -1: sigma 2%) within 1% nine times in ten
    short = run_cli("generate", "--response", "bandpass", "--f", "5000", "--q", "10", "--method", "analytic",
                    "--tolerance", "5%", "--within", "1%", "--min-yield", "0.9")
    assert short.returncode == 1 and "no design reaches yield 0.9" in short.stderr


@pytest.mark.parametrize("args, words", [
    (["--min-yield", "0.9"], "--min-yield needs --tolerance"),
    (["--tolerance", "5%", "--within", "abc"], "--within must read like"),
    (["--tolerance", "5%", "--within", "150%"], "within must be a fraction"),
    (["--tolerance", "5%", "--min-yield", "1.5"], "min_yield must lie in"),
    (["--tolerance", "300%"], "tolerance must lie between"),
])
def test_bad_yield_flags_get_one_line_and_exit_2(args, words):
    out = run_cli("generate", "--response", "lowpass", "--f", "1000", "--q", "0.9", "--method", "analytic", *args)
    assert out.returncode == 2 and words in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
