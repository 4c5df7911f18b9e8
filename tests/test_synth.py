"""Closed-form designs, exact refinement and E-series snapping (no model needed)."""

import math

import pytest

from circuitlib.analysis.measure import measure
from circuitlib.analysis.spec import Specification, achieved, errors, meets
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.errors import SpecificationError
from circuitlib.designers.generate import check_supported
from circuitlib.synthesis import values as synth

SPECS = [Specification("lowpass", 1e3), Specification("lowpass", 20.0, 0.1), Specification("highpass", 5e4, 3.0),
         Specification("bandpass", 5e3, 20.0), Specification("bandpass", 4e5, 50.0), Specification("bandstop", 200.0, 5.0),
         Specification("any", 1e4, 0.05), Specification("any", 5e3, 30.0)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.response}-{s.f_hz:g}-{s.q}")
def test_analytic_designs_meet_the_spec_exactly(spec):
    circuit = synth.analytic(spec)
    assert measure(circuit).valid
    assert meets(spec, achieved(circuit, spec), 1e-9)


def test_lowpass_fc_ratio_is_one_at_butterworth_q():
    assert synth.lowpass_fc_ratio(1 / math.sqrt(2)) == pytest.approx(1.0, rel=1e-12)


def test_scaling_symmetries():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})
    fc = measure(rc).fc_hz  # 1/(2 pi R C)
    assert measure(synth.scale(rc, freq=3.0)).fc_hz == pytest.approx(3 * fc, rel=1e-9)
    assert measure(synth.scale(rc, impedance=7.0)).fc_hz == pytest.approx(fc, rel=1e-9)


def test_refine_moves_a_detuned_circuit_onto_the_spec():
    spec = Specification("bandpass", 12e3, 8.0)
    detuned = synth.scale(synth.analytic(Specification("bandpass", 3e3, 2.0)), impedance=2.0)
    tuned = synth.refine(detuned, spec)
    f_err, q_err = errors(spec, achieved(tuned, spec))
    assert f_err < 1e-4 and q_err < 1e-4


def test_refine_refuses_a_topology_that_cannot_reach_the_spec():
    rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})
    with pytest.raises(SpecificationError):
        synth.refine(rc, Specification("bandpass", 1e3, 5.0))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.response}-{s.f_hz:g}-{s.q}")
def test_e24_snapping_stays_within_two_percent(spec):
    snapped, got = synth.snap(synth.analytic(spec), spec, "E24")
    table = synth.eseries_values("E24")
    for comp in snapped.components():
        mantissa = comp.value / 10 ** math.floor(math.log10(comp.value) + 1e-12)
        assert min(abs(mantissa - t) / t for t in table) < 1e-9  # every value is an E24 value
    assert meets(spec, got, 0.02)


@pytest.mark.parametrize("spec", [Specification("bandpass", 1.0, 5.0), Specification("lowpass", 5e7),
                                  Specification("bandpass", 1e3, 1e4)])
def test_unsupported_specs_are_refused(spec):
    with pytest.raises(SpecificationError):
        check_supported(spec)


@pytest.mark.parametrize("kwargs", [{"response": "notch", "f_hz": 1e3, "q": 1.0}, {"response": "bandpass", "f_hz": -1.0, "q": 1.0},
                                    {"response": "bandpass", "f_hz": 1e3}, {"response": "lowpass", "f_hz": float("nan")}])
def test_malformed_specs_are_refused(kwargs):
    with pytest.raises(SpecificationError):
        Specification(**kwargs)
