"""The mask-conditioned prior: its training pairs meet their masks, its features, its terminations, a short training
that learns, checkpoints read back by SHA256, and the proposers that feed the search."""

import math

import numpy as np
import pytest
import torch

from circuitlib.analysis.mask import FilterMask, verify
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.errors import CheckpointError
from circuitlib.designers import mask_search as ms
from circuitlib.designers.mask_generative import LearnedProposers, search_with
from circuitlib.learn import mask_dataset as md
from circuitlib.learn import mask_prior_training as mpt
from circuitlib.learn.models.mask_prior import MASK_DIM, PriorConfig, mask_features


@pytest.fixture(scope="module")
def records():
    return list(md.generate(md.MaskDatasetConfig(n_records=60, seed=3), progress=False))


def test_training_pairs_meet_their_own_masks(records):
    """A record's circuit meets the masks its descriptors say it attains; a pair's circuit, normalised so that the
    mask's reference is at 1 rad/s, meets the normalised mask, exactly."""
    for r in records[:20]:
        mask = mpt.record_mask(r, 1.0, 20.0)
        if mask is not None:
            assert verify(mpt.record_circuit(r), mask, delay=False).margin_db >= -1e-6
    pairs = mpt.training_pairs(records, 2, seed=0)
    assert len(pairs) >= len(records)
    for mask, circuit in pairs[:40]:
        assert 2 * math.pi * mask.reference_hz == pytest.approx(1.0)
        report = verify(circuit, mask, delay=False)
        assert report.margin_db >= -1e-6, (mask, report)


def test_features_read_the_normalised_mask():
    m = FilterMask("bandpass", (900.0, 1100.0), (500.0, 2000.0), 0.5, 40.0, 50.0, 200.0)
    f = mask_features(m)
    assert f.shape == (MASK_DIM,)
    assert f[2] == 1.0 and f[:4].sum() == 1.0  # bandpass one-hot
    centre = math.sqrt(900 * 1100)
    np.testing.assert_allclose(f[4:8].numpy(), np.log10([900 / centre, 1100 / centre, 500 / centre, 2000 / centre]),
                               rtol=1e-6)
    assert f[-1] == pytest.approx(math.log10(4.0)) and f[-3] == 0 and f[-2] == 0
    scaled = FilterMask("bandpass", (9e3, 11e3), (5e3, 2e4), 0.5, 40.0, 5.0, 20.0)
    torch.testing.assert_close(mask_features(scaled), f)  # frequency and impedance level do not matter


def test_terminations_are_set_or_the_sample_refused():
    mask = FilterMask("lowpass", 1e3, 3e3, 0.5, 30.0, 50.0, 100.0)
    good = Circuit(1, {(1, 3): Edge(r_ohm=7.0), (3, 2): Edge(l_h=1.0), (0, 2): Edge(r_ohm=3.0, c_f=1.0)})
    fixed = mpt.with_terminations(good, mask, r0_ohm=50.0)
    assert {c.name: c.value for c in fixed.components() if c.kind == "R"} == {"RS": 1.0, "RL": 2.0}
    no_load = Circuit(1, {(1, 3): Edge(r_ohm=7.0), (3, 2): Edge(l_h=1.0), (0, 2): Edge(c_f=1.0)})
    assert mpt.with_terminations(no_load, mask, 50.0) is None
    extra_r = Circuit(1, {(1, 3): Edge(r_ohm=7.0), (3, 2): Edge(l_h=1.0, r_ohm=2.0), (0, 2): Edge(r_ohm=3.0)})
    assert mpt.with_terminations(extra_r, mask, 50.0) is None


def test_a_short_training_learns_and_its_checkpoint_is_checked(records, tmp_path):
    train = records[:48]
    cfg = mpt.PriorTrainConfig(prior=PriorConfig(dim=32, layers=2, heads=2, max_nodes=24), epochs=4, batch_size=32)
    model, meta = mpt.train_prior(cfg, train, records[48:], tmp_path / "prior", progress=False)
    first, last = meta["history"][0]["train"], meta["history"][-1]["train"]
    assert last["edge"] < first["edge"] and last["value"] < first["value"]
    again = mpt.load_prior(tmp_path / "prior")
    spec = mask_features(FilterMask("lowpass", 1.0, 2.0, 0.5, 30.0, 1.0, 1.0))[None]
    torch.testing.assert_close(again.decoder.spec_token(spec), model.decoder.spec_token(spec))
    weights = tmp_path / "prior" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    with pytest.raises(CheckpointError, match="SHA256"):
        mpt.load_prior(tmp_path / "prior")


def test_proposers_feed_the_search(records, tmp_path):
    md.write(records, tmp_path / "ds", md.MaskDatasetConfig(n_records=60, seed=3))
    cfg = mpt.PriorTrainConfig(prior=PriorConfig(dim=32, layers=2, heads=2, max_nodes=24), epochs=2, batch_size=32)
    mpt.train_prior(cfg, [r for r in records if r["split"] == "train"], records[:5], tmp_path / "prior",
                    progress=False)
    learned = LearnedProposers(tmp_path / "prior", tmp_path / "ds")
    mask = FilterMask("lowpass", 1e3, 3e3, 0.5, 30.0, 50.0, 50.0)
    small = ms.SearchConfig(proposals=6, budget=4, steps=30)
    for proposer in ("generative", "knn"):
        result, props = search_with(proposer, mask, small, learned)
        assert props.drawn >= len(props.circuits) and len(props.circuits) <= small.proposals
        for c in props.circuits:  # every proposal is valid, between the mask's terminations, of the response
            assert ms.structure_ok(c) and ms.limits_right(c, mask)
            assert {p.name for p in c.components()} >= {"RS", "RL"}
        assert result.optimized.verified <= small.budget
    knn, _ = search_with("knn", mask, small, learned)
    assert knn.proposed > 0
    with pytest.raises(ValueError, match="proposer"):
        search_with("oracle", mask, small, learned)
