"""Killing dataset generation or training at a random moment leaves no partial file in place of a
complete one, and rerunning completes (training resumes from its last checkpoint)."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from circuitlib.learn import checkpoint, dataset

SCRIPT = """
import sys
from pathlib import Path
from circuitlib.learn import dataset
cfg = dataset.DatasetConfig(n_circuits=int(sys.argv[2]), seed=11, workers=1)
dataset.build_dataset(cfg, Path(sys.argv[1]), progress=False)
"""


def _run(out: Path, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), str(n)], start_new_session=True)


def test_killed_dataset_run_leaves_the_previous_complete_file(tmp_path):
    first = _run(tmp_path, 40)
    assert first.wait(timeout=300) == 0
    before = hashlib.sha256((tmp_path / "circuits.jsonl.gz").read_bytes()).hexdigest()
    victim = _run(tmp_path, 3000)  # cannot finish before the kill
    time.sleep(random.Random(1).uniform(4.0, 8.0))
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    after = hashlib.sha256((tmp_path / "circuits.jsonl.gz").read_bytes()).hexdigest()
    assert after == before  # the complete file is untouched; the partial one never took its name
    assert json.loads((tmp_path / "circuits.jsonl.gz.sha256").read_text())["records_sha256"] == before
    dataset.verify_manifest(tmp_path)


def test_killed_training_resumes_to_completion(tmp_path):
    recs_dir = tmp_path / "ds"
    assert _run(recs_dir, 60).wait(timeout=300) == 0
    code = f"""
from pathlib import Path
from circuitlib.learn import dataset
from circuitlib.learn.models import ModelConfig
from circuitlib.learn.training import TrainConfig, train
m = dataset.verify_manifest(Path({str(recs_dir)!r}))
recs = dataset.load_records(Path({str(recs_dir)!r}) / m["records"])
cfg = TrainConfig(model=ModelConfig(dim=16, encoder_layers=1, decoder_layers=1, heads=2), epochs=400, batch_size=16, threads=1)
train(cfg, recs, m["sha256"], Path({str(tmp_path / 'ck')!r}), progress=False)
"""
    victim = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.time() + 120
    while not (tmp_path / "ck" / checkpoint.META).exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    meta = checkpoint.read_meta(tmp_path / "ck")  # whatever moment it died, meta.json is whole
    assert meta["weights_sha256"] == checkpoint.sha256_file(tmp_path / "ck" / checkpoint.WEIGHTS)
    assert 1 <= meta["epoch"] < 400
