"""Training resumes to the same result, checkpoints are verified by SHA256, pickles are refused."""

import json
import pickle

import numpy as np
import pytest
import torch

from circuitlib import checkpoint, dataset
from circuitlib.errors import CheckpointError, CircuitlibError
from circuitlib.models import ModelConfig
from circuitlib.train import TrainConfig, load_model, train


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds")
    cfg = dataset.DatasetConfig(n_circuits=160, seed=3, workers=2)
    result = dataset.build_dataset(cfg, out, progress=False)
    return dataset.load_records(result.records_path), result.manifest["sha256"]


TINY = TrainConfig(model=ModelConfig(latent_groups=(2, 2, 4), dim=16, encoder_layers=1, decoder_layers=1, heads=2),
                   epochs=4, batch_size=32, seed=5, threads=1)


def test_killed_and_resumed_run_matches_an_uninterrupted_one(records, tmp_path, monkeypatch):
    import circuitlib.train as train_module

    recs, sha = records
    _, straight = train(TINY, recs, sha, tmp_path / "straight", progress=False)
    train(TINY, recs, sha, tmp_path / "resumed", progress=False, stop_after=2)  # "killed" after epoch 2
    assert checkpoint.read_meta(tmp_path / "resumed")["epoch"] == 2
    ran, real_epoch = [], train_module._epoch
    monkeypatch.setattr(train_module, "_epoch", lambda *a, **k: ran.append(a[3]) or real_epoch(*a, **k))
    _, resumed = train(TINY, recs, sha, tmp_path / "resumed", progress=False)
    assert ran == [2, 3], "a resumed run trains only the epochs its checkpoint does not have"
    assert resumed["epoch"] == straight["epoch"] == 4
    finished, _ = train(TINY, recs, sha, tmp_path / "resumed", progress=False)  # nothing left to train
    assert not finished.training  # evaluation after a no-op resume must not run with dropout
    assert resumed["history"] == straight["history"]
    assert resumed["weights_sha256"] == straight["weights_sha256"]


def test_meta_holds_what_the_issue_asks(records, tmp_path):
    recs, sha = records
    _, meta = train(TINY.model_copy(update={"epochs": 1}), recs, sha, tmp_path, progress=False)
    assert {"config", "dataset_sha256", "epoch", "metrics", "git_commit", "weights_sha256"} <= set(meta)
    assert meta["weights_sha256"] == checkpoint.sha256_file(tmp_path / checkpoint.WEIGHTS)
    model, _ = load_model(tmp_path)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_one_flipped_byte_is_refused_before_loading(records, tmp_path):
    recs, sha = records
    train(TINY.model_copy(update={"epochs": 1}), recs, sha, tmp_path, progress=False)
    raw = bytearray((tmp_path / checkpoint.WEIGHTS).read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (tmp_path / checkpoint.WEIGHTS).write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="SHA256"):
        load_model(tmp_path)


def test_a_pickle_in_place_of_the_weights_is_refused_unpickled(records, tmp_path, monkeypatch):
    recs, sha = records
    train(TINY.model_copy(update={"epochs": 1}), recs, sha, tmp_path, progress=False)
    payload = pickle.dumps({"w": torch.zeros(2)})
    (tmp_path / checkpoint.WEIGHTS).write_bytes(payload)
    meta = json.loads((tmp_path / checkpoint.META).read_text())
    meta["weights_sha256"] = checkpoint.sha256_file(tmp_path / checkpoint.WEIGHTS)  # even a matching hash
    (tmp_path / checkpoint.META).write_text(json.dumps(meta))

    class PickleUsed(BaseException):  # not an Exception: no error handler in the loader can swallow it
        pass

    def boom(*args, **kwargs):
        raise PickleUsed("pickle was used")

    monkeypatch.setattr(pickle, "loads", boom)
    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(torch, "load", boom)
    with pytest.raises(CheckpointError, match="safetensors"):
        load_model(tmp_path)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_model(tmp_path / "nowhere")


def test_values_at_spec_frequency_round_trip_absolute_values():
    """The decoder may predict L and C as reactances at the spec's frequency; what it returns stays absolute:
    the shift it adds to its inputs is the one it removes from its outputs."""
    from circuitlib import graphs
    from circuitlib.models.decoder import GraphGPTDecoder

    dec = GraphGPTDecoder((2, 2, 4), dim=16, layers=1, heads=2, conditional=True, values_at_spec_frequency=True)
    spec = torch.stack([graphs.spec_vector("lowpass", 1e5, 0.7), graphs.spec_vector("lowpass", 1e2, 0.7)])
    shift = dec.value_shift(spec)
    decade = (torch.tensor([0.0, 1.0, 1.0]) / graphs.LOG_SCALE)  # one decade of L and C, in normalized units
    assert torch.allclose(shift[0, 0, 0] - shift[1, 0, 0], 3 * decade)  # 1e5 Hz vs 1e2 Hz: three decades apart
    plain = GraphGPTDecoder((2, 2, 4), dim=16, layers=1, heads=2, conditional=True)
    assert plain.value_shift(spec) == 0.0


@pytest.fixture(scope="module")
def made_records():
    """160 seen-topology circuits drawn with notebook 01's defaults (the production model's own families and
    ranges), made here: CI has no dataset file yet when the unit tests run."""
    cfg = dataset.DatasetConfig()
    reserved = dataset.reserved_topologies(cfg)
    drawn = (dataset.make_record(i, cfg, reserved) for i in range(200))
    recs = [r for r in drawn if r is not None and not r["heldout_topology"]][:160]
    assert len(recs) == 160
    return recs


def test_one_candidate_is_the_greedy_decode_and_more_rebuild_at_least_as_many_topologies(made_records):
    """decode_means (one candidate) is the decoder's greedy decode of the posterior mean; with 24 candidates
    decode_consistent keeps, per circuit, the decode that re-encodes closest to the posterior, which must
    rebuild at least as many of their topologies exactly."""
    from torch_geometric.data import Batch

    from circuitlib import graphs
    from circuitlib.circuit import topology_signature
    from circuitlib.generate import PRODUCTION
    from circuitlib.train import decode_consistent, decode_means, graphs_of

    model, _ = load_model(PRODUCTION)
    recs = made_records
    data = graphs_of(recs, model.cfg.conditional)
    greedy = decode_means(model, data)
    batch = Batch.from_data_list(data)
    with torch.no_grad():
        direct = model.decoder.generate(model.encode(batch)[0], batch.spec)
    assert [c.edges for c in greedy] == [graphs.from_tensors(int(n), c, v).edges for n, c, v in zip(*direct)]
    exact = lambda circuits: sum(topology_signature(c) == r["topology"] for c, r in zip(circuits, recs))  # noqa: E731
    assert exact(decode_consistent(model, data, 24)) >= exact(greedy)


def test_auto_device_is_the_gpu_when_torch_sees_one_and_cuda_without_one_is_refused(monkeypatch):
    from circuitlib.train import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(CircuitlibError, match="no GPU"):
        resolve_device("cuda")
    with pytest.raises(CircuitlibError, match="device must be"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "3")  # under torchrun: this process's GPU
    assert resolve_device("auto") == torch.device("cuda", 1)
    assert resolve_device("cpu") == torch.device("cpu")


def test_cli_train_on_a_missing_gpu_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = subprocess.run([sys.executable, "-m", "circuitlib", "train", "--out", str(tmp_path), "--device", "cuda",
                          "--dataset", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert "no GPU" in out.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU (this CPU-only machine has none)")
def test_a_gpu_run_retraces_the_cpu_run(records, tmp_path):
    """Same noise (CPU generators) and same data: the GPU run's losses follow the CPU run's to rounding."""
    recs, sha = records
    cfg = TINY.model_copy(update={"epochs": 2})
    _, cpu = train(cfg, recs, sha, tmp_path / "cpu", progress=False, device="cpu")
    model, gpu = train(cfg, recs, sha, tmp_path / "gpu", progress=False, device="cuda")
    assert next(model.parameters()).device.type == "cpu"
    for a, b in zip(cpu["history"], gpu["history"]):
        assert a["val"]["total"] == pytest.approx(b["val"]["total"], rel=1e-3)


def test_polishing_recovers_perturbed_values_and_never_changes_a_topology(made_records):
    """Round trip: encode real circuits, spoil every value by up to 0.3 decade, and fit the values back to the
    posterior by re-encoding (train.polish_values). The values must come back, and the topology must not move.
    A circuit whose topology cannot reach the posterior (a wrong one) keeps its values as they were."""
    from torch_geometric.data import Batch

    from circuitlib import graphs
    from circuitlib.circuit import Circuit, topology_signature
    from circuitlib.generate import PRODUCTION
    from circuitlib.train import graphs_of, polish_values

    model, _ = load_model(PRODUCTION)
    recs = made_records[:48]
    truth = [dataset.circuit_from_record(r) for r in recs]
    with torch.no_grad():
        mu, logvar = model.encode(Batch.from_data_list(graphs_of(recs, model.cfg.conditional)))
    rng = torch.Generator().manual_seed(0)

    def spoil(c: Circuit) -> Circuit:
        scale = lambda v: v * 10 ** float(0.6 * torch.rand(1, generator=rng) - 0.3) if v else v  # noqa: E731
        return Circuit(c.n_internal, {k: type(e)(scale(e.r_ohm), scale(e.l_h), scale(e.c_f))
                                      for k, e in c.edges.items()})

    spoiled = [spoil(c) for c in truth]
    before = np.concatenate([graphs.values_log10_error(t, s) for t, s in zip(truth, spoiled)])
    polished, distance = polish_values(model, spoiled, mu, torch.exp(0.5 * logvar), steps=100)
    after = np.concatenate([graphs.values_log10_error(t, p) for t, p in zip(truth, polished)])
    assert [topology_signature(p) for p in polished] == [r["topology"] for r in recs]
    assert np.median(before) > 0.1 and np.median(after) < np.median(before) / 10
    assert (distance <= model.cfg.latent_dim).all()
    assert topology_signature(truth[0]) != topology_signature(truth[1])  # circuit 1's topology is wrong for 0
    kept, distance = polish_values(model, truth[1:2], mu[:1], torch.exp(0.5 * logvar[:1]), steps=100)
    assert distance[0] > model.cfg.latent_dim and kept[0].edges == truth[1].edges


def test_fitted_decodes_are_the_consistent_ones_or_fits_inside_the_posterior(made_records):
    """decode_fitted returns decode_consistent's choices from the same candidates, and in their place either a fit
    that re-encodes inside the posterior or, failing that, the consistent choice itself. Where both rebuild the
    original's topology, the fitted values are far closer to the original's."""
    from torch_geometric.data import Batch

    from circuitlib import graphs
    from circuitlib.circuit import topology_signature
    from circuitlib.generate import PRODUCTION
    from circuitlib.train import decode_consistent, decode_fitted, graphs_of

    model, _ = load_model(PRODUCTION)
    recs = made_records[:64]
    data = graphs_of(recs, model.cfg.conditional)
    fitted, consistent = decode_fitted(model, data, candidates=8, seed=4)
    assert [c.edges for c in consistent] == [c.edges for c in decode_consistent(model, data, 8, seed=4)]
    with torch.no_grad():
        mu, logvar = model.encode(Batch.from_data_list(data))
        again = model.encode(Batch.from_data_list([graphs.to_data(c) for c in fitted]))[0]
    distance = (((again - mu) / torch.exp(0.5 * logvar)) ** 2).sum(dim=1)
    assert all(d <= model.cfg.latent_dim or f is c for d, f, c in zip(distance, fitted, consistent))
    both = [(dataset.circuit_from_record(r), f, c) for r, f, c in zip(recs, fitted, consistent)
            if topology_signature(f) == topology_signature(c) == r["topology"]]
    assert len(both) > 40
    err = lambda k: np.median(np.concatenate([graphs.values_log10_error(b[0], b[k]) for b in both]))  # noqa: E731
    assert err(1) < err(2) / 5
