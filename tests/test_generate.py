"""How `conditional` draws latents and picks among the decoder's samples (stand-ins: no model needed)."""

import math

import circuits as tc
import numpy as np
import pytest
import torch

from circuitlib.analysis.spec import Specification
from circuitlib.core.circuit import topology_signature
from circuitlib.core.errors import SpecificationError
from circuitlib.designers.generate import Designer, _PosteriorIndex
from circuitlib.learn import graphs


class FixedSamples(Designer):
    """A Designer whose decoder 'samples' a fixed list of circuits."""

    def __init__(self, samples):
        super().__init__()
        self.samples = samples

    def candidates(self, spec, count, seed):
        return self.samples[:count]


def test_conditional_keeps_valid_circuits_of_the_class_distinct_topologies_first():
    rc_a, rc_b, rl = tc.rc_lowpass(1e3, 1e-7), tc.rc_lowpass(2e3, 1e-7), tc.rl_lowpass(1e3, 0.1)
    band, invalid = tc.series_rlc_bandpass(1e3, 5), tc.rc_lowpass(1e3, 0.0)  # a zero capacitor is not valid
    designer = FixedSamples([invalid, rc_a, band, rc_b, rl])
    got = designer.conditional(Specification("lowpass", 1e3), 2, seed=0)
    assert got == [rc_a, rl]  # the repeat of rc_a's topology waits behind a new topology
    got = designer.conditional(Specification("lowpass", 1e3), 3, seed=0)
    assert got == [rc_a, rl, rc_b]
    assert [topology_signature(c) for c in got[:2]] == [topology_signature(rc_a), topology_signature(rl)]
    assert designer.conditional(Specification("bandpass", 1e3, 5.0), 3, seed=0) == [band]


def test_conditional_refuses_when_no_sample_is_of_the_class():
    designer = FixedSamples([tc.rc_lowpass(1e3, 1e-7), tc.series_rlc_bandpass(1e3, 5)])
    with pytest.raises(SpecificationError, match="no sampled candidate"):
        designer.conditional(Specification("bandstop", 1e3, 5.0), 1, seed=0)


def _index():
    """Four training circuits: lowpass at q 1.0, 1.1 and 10, a bandpass at q 1.0 (log10 figures)."""
    nan = float("nan")
    return _PosteriorIndex(np.array(["lowpass", "lowpass", "lowpass", "bandpass"]),
                           log_f=np.array([3.0, 4.0, 2.0, 5.0]), log_q=np.log10([1.0, 1.1, 10.0, 1.0]),
                           any_log_f=np.array([3.1, 4.2, 2.0, nan]), any_log_q=np.log10([1.0, 1.1, 10.0, nan]),
                           z=np.eye(4))


def test_the_sampler_draws_the_class_nearest_in_q_first():
    index = _index()
    for seed in range(20):
        rows, specs = index.draw(Specification("lowpass", 500.0, 1.0), 2, np.random.default_rng(seed))
        assert set(rows) == {0, 1}  # q = 10 is a decade away (score -200): never before these two
        assert all(torch.equal(s, specs[0]) for s in specs)  # decoded with the target specification itself
    rows, _ = index.draw(Specification("lowpass", 500.0, 1.0), 10, np.random.default_rng(0))
    assert sorted(rows) == [0, 1, 2]  # only lowpass circuits, however many are asked for


def test_the_any_convention_moves_each_circuit_onto_the_target_frequency():
    rows, specs = _index().draw(Specification("any", 1e3, 1.1), 1, np.random.default_rng(0))
    assert rows.tolist() == [1]  # the bandpass has no pole pair: not a candidate
    # lowpass 1 has fc 10^4 Hz and its pole pair at 10^4.2 Hz: it is decoded at fc = 10^(3 - 0.2) Hz
    want = graphs.spec_vector("lowpass", 10 ** 2.8, 1.1)
    assert torch.allclose(specs[0], want)
    assert math.isclose(float(specs[0][graphs.SPEC_LOG_F]), (2.8 - 3.5) / 1.5, rel_tol=1e-6)


def test_the_sampler_refuses_a_class_it_has_never_seen():
    with pytest.raises(SpecificationError, match="no training circuit is a bandstop"):
        _index().draw(Specification("bandstop", 1e3, 2.0), 4, np.random.default_rng(0))

