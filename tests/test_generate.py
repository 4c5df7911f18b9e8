"""How `conditional` draws latents and picks among the decoder's samples, and what `lookup` returns (stand-ins:
no model needed)."""

import math

import circuits as tc
import numpy as np
import pytest

from circuitlib.analysis.spec import Specification
from circuitlib.core.circuit import topology_signature
from circuitlib.core.errors import SpecificationError
from circuitlib.designers.generate import Designer
from circuitlib.learn.latent_index import LatentIndex


class FixedSamples(Designer):
    """A Designer whose decoder 'samples' a fixed list of circuits."""

    def __init__(self, samples):
        super().__init__()
        self.samples = samples

    def candidates(self, spec, count, seed, polish=True):
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
    return _latent_index(np.array(["lowpass", "lowpass", "lowpass", "bandpass"]),
                         log_f=np.array([3.0, 4.0, 2.0, 5.0]), log_q=np.log10([1.0, 1.1, 10.0, 1.0]),
                         any_log_f=np.array([3.1, 4.2, 2.0, nan]), any_log_q=np.log10([1.0, 1.1, 10.0, nan]))


def _latent_index(response: np.ndarray, **figures) -> LatentIndex:
    """A latent index of len(response) training circuits with these figures, one-band, identity latents."""
    n = len(response)
    return LatentIndex(response, **figures, multi_band=np.zeros(n, np.uint8), z=np.eye(n), z_sd=np.ones((n, n)),
                       knn_rows=np.zeros(0, np.int64), knn_z=np.zeros((0, 8)))


def test_the_sampler_draws_the_class_nearest_in_q_first():
    index = _index()
    for seed in range(20):
        rows, specs = index.draw(Specification("lowpass", 500.0, 1.0), 2, np.random.default_rng(seed))
        assert set(rows) == {0, 1}  # q = 10 is a decade away (score -200): never before these two
        assert specs == [("lowpass", 500.0, 1.0)] * 2  # decoded for the target specification itself
    rows, _ = index.draw(Specification("lowpass", 500.0, 1.0), 10, np.random.default_rng(0))
    assert sorted(rows) == [0, 1, 2]  # only lowpass circuits, however many are asked for


def test_the_any_convention_moves_each_circuit_onto_the_target_frequency():
    rows, specs = _index().draw(Specification("any", 1e3, 1.1), 1, np.random.default_rng(0))
    assert rows.tolist() == [1]  # the bandpass has no pole pair: not a candidate
    # lowpass 1 has fc 10^4 Hz and its pole pair at 10^4.2 Hz: it is decoded for fc = 10^(3 - 0.2) Hz
    (response, f_hz, q), = specs
    assert response == "lowpass" and math.isclose(f_hz, 10**2.8, rel_tol=1e-9) and math.isclose(q, 1.1, rel_tol=1e-9)


def test_the_sampler_never_draws_a_multi_band_circuit():
    index = _index()
    index.multi_band = np.array([True, False, False, False])  # the lowpass at q 1.0 dips inside its passband
    for seed in range(10):
        rows, _ = index.draw(Specification("lowpass", 500.0, 1.0), 3, np.random.default_rng(seed))
        assert 0 not in rows and sorted(rows) == [1, 2]


def test_the_sampler_refuses_a_class_it_has_never_seen():
    with pytest.raises(SpecificationError, match="no training circuit is a bandstop"):
        _index().draw(Specification("bandstop", 1e3, 2.0), 4, np.random.default_rng(0))



def test_lookup_returns_the_sampled_training_circuits_moved_exactly_onto_the_target():
    """No model: the rows conditional would draw, each training circuit scaled so its main frequency is the target;
    its Q is the training circuit's own."""
    from circuitlib.analysis.measure import measure
    from circuitlib.core.records import main_figures
    from circuitlib.learn.dataset import edges_json

    circuits = [tc.series_rlc_lowpass(1e3, 1.0), tc.rc_lowpass(2e3, 1e-7), tc.series_rlc_lowpass(1e2, 10.0),
                tc.series_rlc_bandpass(1e5, 1.0)]
    records = []
    for c in circuits:
        m = measure(c)
        records.append({"response": m.response, "fc_hz": m.fc_hz, "f0_hz": m.f0_hz, "q": m.q, "q_pole": m.q_pole,
                        "n_internal": c.n_internal, "edges": edges_json(c)})
    index = _latent_index(np.array([r["response"] for r in records]),
                          log_f=np.log10([main_figures(r)[0] for r in records]),
                          log_q=np.log10([main_figures(r)[1] or np.nan for r in records]),
                          any_log_f=np.full(4, np.nan), any_log_q=np.full(4, np.nan))
    designer = Designer()
    designer.index, designer.training_records = index, records
    (got,) = designer.lookup(Specification("lowpass", 4.7e4, 1.05), 1, seed=0)
    f_hz, q = main_figures(measure(got))
    assert math.isclose(f_hz, 4.7e4, rel_tol=1e-9) and math.isclose(q, main_figures(records[0])[1], rel_tol=1e-9)
    assert topology_signature(got) == topology_signature(circuits[0])
