"""Tolerance yield, lossy parts and sensitivities: the sampler's sigma, closed forms, the exact solver and ngspice."""

import math

import numpy as np
import pytest
from scipy import stats

from circuitlib.analysis.mask import FilterMask, verify, verify_ngspice
from circuitlib.analysis.sensitivity import margin_sensitivity
from circuitlib.analysis.tolerance import (
    Tolerance,
    parse_tolerance,
    sample_factors,
    sampled_values,
    tolerance_yield,
    wilson_interval,
)
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.errors import SpecificationError
from circuitlib.core.lossy import Losses, with_losses
from circuitlib.sim.mna import pencil, response_hz

RC = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # components: C1, R1; fc = 1591.55 Hz
FC = 1 / (2 * math.pi * 1e3 * 1e-7)
MASK = FilterMask("lowpass", 1e3, 1.5e3, 0.5, 45.0, 50.0, 50.0)


@pytest.fixture(scope="module")
def ladder():
    from circuitlib.designers.mask_design import design

    return design(MASK, n=1, family="chebyshev1", ngspice=False)[0].circuit


@pytest.mark.parametrize("tol", [0.01, 0.05, 0.10])
def test_the_normal_sampler_has_sigma_tol_over_3(tol):
    """spicelib's Monte Carlo once drew sigma = tol (its PR 304): here the relative sigma of the drawn values is tol/3
    (tol/3 times 0.9866 exactly, the sigma of a normal truncated at 3 sigma), and no draw leaves +-tol."""
    f = sample_factors(["R", "L", "C"], Tolerance(r=tol, l=tol, c=tol, samples=100_000, seed=7),
                       np.random.default_rng(7))
    sigma = f.std(axis=0)
    np.testing.assert_allclose(sigma, tol / 3 * stats.truncnorm(-3, 3).std(), rtol=0.01)
    np.testing.assert_allclose(sigma, tol / 3, rtol=0.02)
    np.testing.assert_allclose(f.mean(axis=0), 1.0, atol=tol / 300)
    assert np.abs(f - 1).max() <= tol


def test_sampled_values_over_nominal_have_sigma_tol_over_3(ladder):
    values, _ = sampled_values(ladder, Tolerance(r=0.05, l=0.05, c=0.05, samples=40_000, seed=1))
    nominal = np.array([c.value for c in ladder.components()])
    rel = values / nominal
    parts = [i for i, c in enumerate(ladder.components()) if c.name not in ("RS", "RL")]
    np.testing.assert_allclose(rel[:, parts].std(axis=0), 0.05 / 3, rtol=0.03)
    fixed = [i for i, c in enumerate(ladder.components()) if c.name in ("RS", "RL")]
    assert len(fixed) == 2 and (rel[:, fixed] == 1).all()  # the terminations are not toleranced


def test_the_uniform_sampler_has_sigma_tol_over_root_3():
    f = sample_factors(["C"], Tolerance(c=0.1, distribution="uniform", samples=100_000), np.random.default_rng(0))
    assert f.std() == pytest.approx(0.1 / math.sqrt(3), rel=0.01) and np.abs(f - 1).max() <= 0.1


def test_rc_yield_is_the_share_of_samples_whose_rc_product_stays_below_nominal():
    """A mask edge at fc with 3.0103 dB ripple: a sample meets it exactly when w_c R C <= 1, i.e. when the product
    of its R and C multipliers is <= 1 (and the stopband, 20 dB at 1 MHz, is never at risk)."""
    mask = FilterMask("lowpass", FC, 1e6, 10 * math.log10(2), 20.0)
    report = tolerance_yield(RC, mask, Tolerance(r=0.05, c=0.05, samples=4000, seed=11))
    product = report.factors.prod(axis=1)  # C1 and R1 are both toleranced
    assert abs(report.passed - int((product <= 1).sum())) <= 2  # samples within rounding of the edge
    lo, hi = report.ci95
    assert lo < report.fraction < hi and {name for name, _ in report.top_failing_parts} <= {"R1", "C1"}


def test_the_batched_margins_agree_with_exact_verification(ladder):
    tol = Tolerance(r=0.02, l=0.02, c=0.02, samples=40, seed=3)
    report = tolerance_yield(ladder, MASK, tol)
    values, _ = sampled_values(ladder, tol)
    exact = np.array([verify(ladder.with_values(v), MASK).margin_db for v in values])
    np.testing.assert_allclose(report.margins_db, exact, atol=1e-4)


def test_the_batched_yield_agrees_with_ngspice_on_the_same_samples(ladder):
    """The same seed, the same samples, each run through ngspice: margins within 0.01 dB, and the same verdicts."""
    tol = Tolerance(r=0.03, l=0.03, c=0.03, samples=12, seed=5)
    report = tolerance_yield(ladder, MASK, tol)
    values, _ = sampled_values(ladder, tol)
    spice = np.array([verify_ngspice(ladder.with_values(v), MASK).margin_db for v in values])
    np.testing.assert_allclose(report.margins_db, spice, atol=0.01)
    clear = np.abs(spice) > 0.01
    assert ((report.margins_db >= 0) == (spice >= 0))[clear].all() and 0 < (spice >= 0).sum() < len(spice)


def test_the_same_seed_gives_the_same_yield_and_another_seed_other_samples(ladder):
    a = tolerance_yield(ladder, MASK, Tolerance(r=0.03, l=0.03, c=0.03, samples=300, seed=1))
    b = tolerance_yield(ladder, MASK, Tolerance(r=0.03, l=0.03, c=0.03, samples=300, seed=1))
    c = tolerance_yield(ladder, MASK, Tolerance(r=0.03, l=0.03, c=0.03, samples=300, seed=2))
    assert (a.margins_db == b.margins_db).all() and not np.array_equal(a.factors, c.factors)


def test_wilson_interval_against_its_closed_form():
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0)
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038315, abs=1e-6) and hi == pytest.approx(0.5961685, abs=1e-6)


@pytest.mark.parametrize("text, words", [("5", "between 0 and 100%"), ("abc", "must read like"),
                                         ("R=5%,X=1%", "must read like"), ("150%", "between 0 and 100%"),
                                         ("-1%", "between 0 and 100%"), ("R=1%,5%", "must read like")])
def test_a_bad_tolerance_is_refused_with_one_line(text, words):
    with pytest.raises(SpecificationError, match=words) as e:
        parse_tolerance(text)
    assert "\n" not in str(e.value)


def test_per_kind_tolerances_are_parsed():
    t = parse_tolerance("R=1%,C=5%,L=10%", samples=10, seed=4, distribution="uniform")
    assert (t.r, t.l, t.c, t.samples, t.seed, t.distribution) == (0.01, 0.10, 0.05, 10, 4, "uniform")
    with pytest.raises(SpecificationError, match="distribution"):
        parse_tolerance("5%", distribution="gaussian")


def _fd_margin(circuit, mask, i, h=1e-6):
    nominal = np.array([c.value for c in circuit.components()])
    up, down = nominal.copy(), nominal.copy()
    up[i] *= 1 + h
    down[i] *= 1 - h
    return (verify(circuit.with_values(up), mask).margin_db - verify(circuit.with_values(down), mask).margin_db) / (2 * h)


def test_the_margin_sensitivity_matches_finite_differences_of_the_margin():
    """A Butterworth ladder: the margin comes from one extremum (the passband edge), so the margin is smooth in
    every part and its central differences are the autograd sensitivity."""
    from circuitlib.designers.mask_design import design

    circuit = design(MASK, n=1, family="butterworth", ngspice=False)[0].circuit
    sens = margin_sensitivity(circuit, MASK)
    names = [c.name for c in circuit.components()]
    assert {s.name for s in sens} == set(names) - {"RS", "RL"}
    for s in sens:
        assert s.d_margin_db_per_pct == pytest.approx(_fd_margin(circuit, MASK, names.index(s.name)) / 100,
                                                      rel=1e-3, abs=1e-8), s.name


def test_in_an_equiripple_band_the_sensitivity_is_that_of_the_reported_extremum(ladder):
    """A Chebyshev ladder's passband troughs tie, so the margin (their minimum) is not smooth: the autograd figure is
    the derivative of the gain at the trough the verification reports, checked there by central differences."""
    report = verify(ladder, MASK)
    sens = margin_sensitivity(ladder, MASK, report)
    comps = ladder.components()
    nominal = np.array([c.value for c in comps])
    f = np.array([report.pass_min_hz])
    db = lambda v: 20 * np.log10(abs(response_hz(pencil(ladder.with_values(v)), f)[0]) / MASK.g_ref)  # noqa: E731
    assert report.decisive == "pass_min"
    for s in sens:
        i = next(k for k, c in enumerate(comps) if c.name == s.name)
        up, down = nominal.copy(), nominal.copy()
        up[i] *= 1 + 1e-6
        down[i] *= 1 - 1e-6
        assert s.d_margin_db_per_pct == pytest.approx((db(up) - db(down)) / 2e-6 / 100, rel=1e-5, abs=1e-10), s.name


def test_an_inductor_of_finite_q_has_its_series_resistance():
    """A series inductor between 50 ohm and 50 ohm: with Q = 20 at 1 kHz its resistance is 2 pi 1e3 L / 20, and the
    DC gain falls from 1/2 to 50 / (100 + R)."""
    lp = Circuit(1, {(1, 3): Edge(r_ohm=50.0), (2, 3): Edge(l_h=10e-3), (0, 2): Edge(r_ohm=50.0)},
                 names={(1, 3, "R"): "RS", (0, 2, "R"): "RL"})
    lossy = with_losses(lp, Losses(inductor_q=20.0, q_freq_hz=1e3))
    r = {c.name: c.value for c in lossy.components()}
    assert r["R_L1"] == pytest.approx(2 * math.pi * 1e3 * 10e-3 / 20)
    h0 = abs(response_hz(pencil(lossy), np.array([1e-3]))[0])
    assert h0 == pytest.approx(50 / (100 + r["R_L1"]), rel=1e-9)
    assert abs(response_hz(pencil(lp), np.array([1e-3]))[0]) == pytest.approx(0.5, rel=1e-9)


def test_capacitor_esr_limits_a_shunt_capacitors_attenuation():
    """A shunt C behind 1 kohm: far above its cutoff the ESR is all that is left, so |H| -> ESR / (1k + ESR)."""
    lossy = with_losses(RC, Losses(capacitor_esr_ohm=1.0))
    h = abs(response_hz(pencil(lossy), np.array([1e9]))[0])
    assert h == pytest.approx(1.0 / 1001.0, rel=1e-4)


@pytest.mark.parametrize("kwargs, words", [({"inductor_q": 0.0, "q_freq_hz": 1e3}, "inductor_q"),
                                           ({"capacitor_esr_ohm": math.nan}, "capacitor_esr_ohm")])
def test_bad_losses_are_refused(kwargs, words):
    with pytest.raises(SpecificationError, match=words):
        Losses(**kwargs)


def test_an_inductor_q_without_its_frequency_is_refused_when_applied():
    with pytest.raises(SpecificationError, match="q_freq_hz"):
        with_losses(Circuit(0, {(1, 2): Edge(l_h=1e-3), (0, 2): Edge(r_ohm=50.0)}), Losses(inductor_q=50.0))
