"""Training resumes to the same result, checkpoints are verified by SHA256, pickles are refused."""

import json
import pickle

import pytest
import torch

from circuitlib.core.errors import CheckpointError, CircuitlibError
from circuitlib.learn import checkpoint, dataset
from circuitlib.learn.loading import load_model
from circuitlib.learn.models import ModelConfig
from circuitlib.learn.training import TrainConfig, train


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds")
    cfg = dataset.DatasetConfig(n_circuits=160, seed=3, workers=2)
    result = dataset.build_dataset(cfg, out, progress=False)
    return dataset.load_records(result.records_path), result.manifest["sha256"]


TINY = TrainConfig(model=ModelConfig(latent_groups=(2, 2, 4), dim=16, encoder_layers=1, decoder_layers=1, heads=2),
                   epochs=4, batch_size=32, seed=5, threads=1)


def test_killed_and_resumed_run_matches_an_uninterrupted_one(records, tmp_path, monkeypatch):
    import circuitlib.learn.training as train_module

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
    from circuitlib.learn import graphs
    from circuitlib.learn.models.decoder import GraphGPTDecoder

    dec = GraphGPTDecoder((2, 2, 4), dim=16, layers=1, heads=2, conditional=True, values_at_spec_frequency=True)
    spec = torch.stack([graphs.spec_vector("lowpass", 1e5, 0.7), graphs.spec_vector("lowpass", 1e2, 0.7)])
    shift = dec.value_shift(spec)
    decade = (torch.tensor([0.0, 1.0, 1.0]) / graphs.LOG_SCALE)  # one decade of L and C, in normalized units
    assert torch.allclose(shift[0, 0, 0] - shift[1, 0, 0], 3 * decade)  # 1e5 Hz vs 1e2 Hz: three decades apart
    plain = GraphGPTDecoder((2, 2, 4), dim=16, layers=1, heads=2, conditional=True)
    assert plain.value_shift(spec) == 0.0


def test_auto_device_is_the_gpu_when_torch_sees_one_and_cuda_without_one_is_refused(monkeypatch):
    from circuitlib.learn.training import resolve_device

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


def test_recorded_metrics_are_rewritten_only_when_they_change(tmp_path):
    """Re-evaluating the same weights agrees to float32 rounding: meta.json then stays byte-identical."""
    from circuitlib.learn import loading

    (tmp_path / checkpoint.META).write_text(json.dumps({"metrics": {"topology_exact": 0.9, "f_err": 0.0568902}}))
    before = (tmp_path / checkpoint.META).read_bytes()
    loading.record_metrics(tmp_path, {"topology_exact": 0.9, "f_err": 0.0568908})  # rounding
    assert (tmp_path / checkpoint.META).read_bytes() == before
    loading.record_metrics(tmp_path, {"topology_exact": 0.89, "f_err": 0.0568908})  # a real change
    assert json.loads((tmp_path / checkpoint.META).read_text())["metrics"]["topology_exact"] == 0.89
