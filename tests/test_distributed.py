"""Training under torchrun: 2 CPU processes with DistributedDataParallel (gloo) against one process."""

import json
import subprocess
import sys

import pytest

from circuitlib.learn import dataset

ARGS = ["--epochs", "3", "--latent", "2,2,4", "--dim", "16", "--threads", "1", "--batch-size", "32", "--seed", "4"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds")
    dataset.build_dataset(dataset.DatasetConfig(n_circuits=160, seed=3, workers=2), out, progress=False)
    return out


def last_json(cmd: list[str]) -> dict:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_processes_train_in_step_and_match_one(folder, tmp_path):
    one = last_json([sys.executable, "-m", "circuitlib", "train", "--dataset", str(folder), "--out",
                     str(tmp_path / "one"), *ARGS])
    two = last_json([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                     "-m", "circuitlib", "train", "--dataset", str(folder), "--out", str(tmp_path / "two"), *ARGS])
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert two["ranks_identical"], "DDP ranks must end with identical weights"
    assert two["epoch"] == one["epoch"] == 3
    # each rank sees half of every batch with its own noise, so the runs agree closely but not bit for bit
    for split in ("train", "val"):
        assert two[split]["total"] == pytest.approx(one[split]["total"], rel=0.1)
    assert json.loads((tmp_path / "two" / "meta.json").read_text())["world_size"] == 2
