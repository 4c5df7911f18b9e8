"""Band masks as lowpass masks and lowpass circuits as band circuits: the substitution by its closed form, the
lowpass equivalent of a mask against classical synthesis, and the search on band masks."""

import numpy as np
import pytest

from circuitlib.analysis.mask import FilterMask, verify
from circuitlib.core.circuit import Circuit, Edge, structural_problems
from circuitlib.designers import mask_search as ms
from circuitlib.designers.mask_design import design
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.synthesis.band import band_from_lowpass, design_passband, lowpass_equivalent, stopband_ratio

FC = 1e3


def _trap_ladder() -> Circuit:
    """RS, shunt C, series L with a parallel C (a trap), shunt C, RL: a lowpass with a finite zero."""
    return Circuit(1, {(1, 3): Edge(r_ohm=50.0), (0, 3): Edge(c_f=2.1e-6), (2, 3): Edge(l_h=9e-3, c_f=3e-7),
                       (0, 2): Edge(c_f=1.7e-6, r_ohm=75.0)}, {(1, 3, "R"): "RS", (0, 2, "R"): "RL"})


@pytest.mark.parametrize("response", ["bandpass", "bandstop"])
def test_band_gain_is_the_lowpass_gain_at_the_mapped_frequency(response):
    """|H_band(f)| = |H_lp(W(f))| with W = fc (f^2 - f0^2) / (f B) (bandpass) or fc f B / (f0^2 - f^2) (bandstop)."""
    lp, band = _trap_ladder(), (800.0, 1300.0)
    out = band_from_lowpass(lp, FC, response, band)
    f = np.geomspace(100.0, 1e4, 301)
    f0sq, bw = band[0] * band[1], band[1] - band[0]
    w = FC * ((f * f - f0sq) / (f * bw) if response == "bandpass" else f * bw / (f0sq - f * f))
    np.testing.assert_allclose(np.abs(response_hz(pencil(out), f)), np.abs(response_hz(pencil(lp), np.abs(w))),
                               rtol=1e-9, atol=1e-14)


def test_every_reactive_part_becomes_two_and_the_terminations_stay():
    lp = _trap_ladder()
    bp = band_from_lowpass(lp, FC, "bandpass", (800.0, 1300.0))
    kinds = lambda c: sorted(p.kind for p in c.components() if p.name not in ("RS", "RL"))
    assert len(kinds(bp)) == 2 * len(kinds(lp))
    assert kinds(bp).count("L") == kinds(bp).count("C") == len(kinds(lp))
    assert {p.name: p.value for p in bp.components() if p.kind == "R"} == {"RS": 50.0, "RL": 75.0}
    assert bp.n_internal == lp.n_internal + 1  # a new node for each series LC: here the one inductor's


def test_the_edges_of_the_lowpass_land_on_both_band_edges():
    lp = _trap_ladder()
    g_edge = abs(response_hz(pencil(lp), np.array([FC]))[0])
    for response in ("bandpass", "bandstop"):
        out = band_from_lowpass(lp, FC, response, (800.0, 1300.0))
        np.testing.assert_allclose(np.abs(response_hz(pencil(out), np.array([800.0, 1300.0]))), g_edge, rtol=1e-9)


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="bandpass or bandstop"):
        band_from_lowpass(_trap_ladder(), FC, "highpass", (800.0, 1300.0))
    with pytest.raises(ValueError, match="band mask"):
        lowpass_equivalent(FilterMask("lowpass", 1e3, 2e3, 0.5, 30.0))


@pytest.mark.parametrize("mask", [
    FilterMask("bandpass", (900.0, 1100.0), (600.0, 1500.0), 0.5, 35.0, 50.0, 50.0),
    FilterMask("bandstop", (800.0, 1250.0), (960.0, 1010.0), 1.0, 30.0, 75.0, 300.0),
    FilterMask("bandpass", (2e5, 3e5), (1.5e5, 4.5e5), 0.3, 40.0, 600.0, None),
])
def test_a_lowpass_design_of_the_equivalent_meets_the_band_mask(mask):
    """Classical synthesis of the lowpass equivalent, transformed, meets the band mask (exact verification)."""
    lp_mask = lowpass_equivalent(mask)
    assert lp_mask.stopband_hz / lp_mask.passband_hz == pytest.approx(stopband_ratio(mask))
    (lp,) = design(lp_mask, n=1, ngspice=False)
    assert lp.met
    out = band_from_lowpass(lp.circuit, lp_mask.passband_hz, mask.response, design_passband(mask))
    report = verify(out, mask, delay=False)
    assert report.met, report.margin_db


def test_the_search_meets_a_band_mask_through_its_lowpass_equivalent():
    mask = FilterMask("bandpass", (900.0, 1100.0), (500.0, 2000.0), 0.5, 25.0, 50.0, 50.0)
    assert ms.searched_mask(mask).response == "lowpass" and ms.searched_mask(ms.searched_mask(mask)).response == \
        "lowpass"
    cfg = ms.SearchConfig(proposals=12, budget=6, steps=150)
    result = ms.search_without_model(mask, 2, cfg)
    assert result.optimized.met >= 1
    best = result.optimized.best
    assert verify(best, mask, delay=False).met
    n_parts, n_l = ms.parts_of(best)
    assert n_parts == 2 * n_l  # resonators: one L and one C for each lowpass part


def test_an_unterminated_mask_gets_values_in_range():
    """Between an ideal source and an open load the impedance level is free: realised values are centred."""
    mask = FilterMask("bandstop", (6.55e6, 6.95e6), (6.72e6, 6.78e6), 0.4, 40.0)
    lp = Circuit(1, {(1, 3): Edge(r_ohm=1.0, l_h=1.0), (0, 3): Edge(c_f=2.0), (2, 3): Edge(l_h=1.0),
                     (0, 2): Edge(c_f=1.0)})
    out = ms.realised(lp, mask)
    assert not structural_problems(out)
    assert ms.parts_of(out)[0] == 2 * 4 + 1
