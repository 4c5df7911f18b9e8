"""Every command of the README, run as a new user runs it: in a clean copy of the repository whose data/dataset
holds only its manifest (notebook 01 has not run), with the copy's own package on the path."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RC = "* RC low-pass\nV1 in 0 AC 1\nR1 in out 1k\nC1 out 0 100n\n.end\n"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The tracked and unignored files of the working tree, without the dataset's records."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split("\n")
    dest = tmp_path_factory.mktemp("clone")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not rel.startswith(("data/dataset/circuits", "tests/decks/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    assert not list((dest / "data" / "dataset").glob("*.jsonl.gz"))
    (dest / "rc.cir").write_text(RC)
    return dest


def _run(clone: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(clone), TQDM_DISABLE="1")
    return subprocess.run([sys.executable, "-m", "circuitlib", *args], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_clone_runs_its_own_package(clone):
    env = dict(os.environ, PYTHONPATH=str(clone))
    out = subprocess.run([sys.executable, "-c", "import circuitlib; print(circuitlib.__file__)"], cwd=clone, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith(str(clone))


@pytest.mark.parametrize("args", [
    ("measure", "rc.cir", "--out", "out"),
    ("measure", "rc.cir", "--out", "out", "--json"),
    ("simulate", "rc.cir", "--out", "out"),
    ("simulate", "rc.cir", "--out", "out", "--engine", "mna", "--fstart", "10", "--fstop", "1e5", "--ppd", "10"),
    ("generate", "--response", "bandpass", "--f", "10000", "--q", "5"),
    ("generate", "--response", "bandpass", "--f", "5000", "--q", "20", "--method", "refined", "-n", "1",
     "--eseries", "E24", "--json"),
    ("generate", "--response", "lowpass", "--f", "1000", "--q", "0.7", "--method", "knn", "--json"),
    ("generate", "--response", "highpass", "--f", "2000", "--q", "2", "--method", "conditional", "--json"),
    ("generate", "--response", "bandstop", "--f", "300", "--q", "3", "--method", "analytic", "--json"),
    ("bench", "--quick", "--circuits", "8", "--specs", "3", "--graphs", "32", "--masks", "2", "--json"),
    ("--help",),
])
def test_a_readme_command_works_before_any_notebook_ran(clone, args):
    run = _run(clone, *args)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    if "--json" in args:
        json.loads(run.stdout)


def test_train_without_the_dataset_says_which_step_to_run(clone):
    run = _run(clone, "train", "--out", "runs/ckpt", "--epochs", "1")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "notebook 01" in run.stderr and "Traceback" not in run.stderr


def test_lookup_without_the_dataset_says_which_step_to_run(clone):
    """The no-model baseline reads the training circuits themselves, which only notebook 01 builds."""
    run = _run(clone, "generate", "--response", "lowpass", "--f", "1000", "--q", "0.9", "--method", "lookup")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "notebook 01" in run.stderr and "Traceback" not in run.stderr
