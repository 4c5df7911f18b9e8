"""Prototypes: a circuit moved to PROTOTYPE_F_HZ and back keeps its response, its Q and its value ratios; the
graphs a prototype model trains on carry prototypes and the reference frequency, never the record's own."""

import math

import numpy as np
import pytest

from circuitlib.analysis.measure import measure
from circuitlib.core.records import main_figures
from circuitlib.learn import graphs
from circuitlib.learn.models import ModelConfig
from circuitlib.learn.prototype import PROTOTYPE_F_HZ, denormalised, prototype
from circuitlib.learn.training import graphs_of, model_circuit, model_f_hz
from circuitlib.sim.mna import pencil, response_hz
from circuitlib.synthesis import families as fam
from circuits import series_rlc_bandpass, series_rlc_lowpass

PROTO = ModelConfig(latent_groups=(2, 2, 4), dim=16, heads=2, conditional=True, prototype=True)


@pytest.mark.parametrize("make, f_hz, q", [(series_rlc_lowpass, 37.0, 0.6), (series_rlc_lowpass, 2.2e5, 4.0),
                                           (series_rlc_bandpass, 150.0, 12.0), (series_rlc_bandpass, 9e4, 0.3)])
def test_prototype_sits_at_the_reference_and_denormalises_back_exactly(make, f_hz, q):
    circuit = make(f_hz, q)
    m = measure(circuit)
    f0, q0 = main_figures(m)
    proto = prototype(circuit, f0)
    pm = measure(proto)
    assert pm.response == m.response
    assert main_figures(pm)[0] == pytest.approx(PROTOTYPE_F_HZ, rel=1e-9)
    assert main_figures(pm)[1] == pytest.approx(q0, rel=1e-9)
    back = denormalised(proto, f0)
    f = np.logspace(math.log10(f0) - 2, math.log10(f0) + 2, 41)
    assert np.allclose(response_hz(pencil(back), f), response_hz(pencil(circuit), f), rtol=1e-9, atol=1e-15)
    ranges = {"R": fam.DATA_R, "L": fam.DATA_L, "C": fam.DATA_C}
    for c in proto.components():  # a second-order prototype fits the dataset's ranges with room to spare
        assert ranges[c.kind][0] <= c.value <= ranges[c.kind][1]


def test_prototype_graphs_carry_the_prototype_and_the_reference_frequency():
    circuit = series_rlc_bandpass(4.4e4, 3.0)
    m = measure(circuit)
    record = {"response": m.response, "fc_hz": m.fc_hz, "f0_hz": m.f0_hz, "q": m.q, "q_pole": m.q_pole,
              "n_internal": circuit.n_internal,
              "edges": [[a, b, e.r_ohm, e.l_h, e.c_f] for (a, b), e in circuit.edges.items()]}
    assert model_f_hz(record, PROTO) == PROTOTYPE_F_HZ
    assert model_f_hz(record, PROTO.model_copy(update={"prototype": False})) == pytest.approx(4.4e4, rel=1e-9)
    (data,) = graphs_of([record], PROTO)
    want = graphs.spec_vector("bandpass", PROTOTYPE_F_HZ, m.q)
    assert np.allclose(data.spec[0].numpy(), want.numpy())
    assert np.allclose(data.pair_values[0].numpy(), graphs.targets(model_circuit(record, PROTO)).values.numpy())
    assert not np.allclose(data.pair_values[0].numpy(), graphs.targets(circuit).values.numpy())


def test_prototype_needs_a_conditional_model_and_replaces_the_spec_frequency_shift():
    with pytest.raises(ValueError, match="prototype needs conditional"):
        ModelConfig(prototype=True)
    with pytest.raises(ValueError, match="prototype needs conditional"):
        ModelConfig(conditional=True, prototype=True, values_at_spec_frequency=True)
