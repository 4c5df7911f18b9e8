"""Remove each protection once, in a scratch copy of the repository, and check that its test then fails.

    python tests/remove_protections.py        # prints one line per protection; exit 1 if any test still passes

Each entry names the file, the code that implements the protection, what it is replaced with, and the test
that must catch its absence. The working tree is never modified.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

REMOVALS = [
    ("netlist whitelist (.control, shell, .include, subcircuits ...)", "circuitlib/core/netlist.py",
     "raise NetlistError(f\"{where}: '{tokens[0]}' is not accepted", "continue  # (f\"{where}: '{tokens[0]}' is not accepted",
     "tests/test_netlist_cli.py::test_reader_rejects_what_is_not_whitelisted"),
    ("netlist size limit", "circuitlib/core/netlist.py",
     "if len(text.encode(\"utf-8\", \"replace\")) > MAX_BYTES:", "if False:",
     "tests/test_fuzz.py::test_oversized_netlist_is_refused"),
    ("checkpoint SHA256 check", "circuitlib/learn/checkpoint.py",
     "if expected_sha256 is None or sha256_file(path) != expected_sha256:", "if False:",
     "tests/test_training.py::test_one_flipped_byte_is_refused_before_loading"),
    ("safetensors only, never pickle (header check and loader)", "circuitlib/learn/checkpoint.py",
     ("        return load_file(str(path))",
      "if len(head) < 8 or int.from_bytes(head, \"little\") > SAFETENSORS_MAX_HEADER:"),
     ("        return torch.load(str(path), weights_only=False)", "if False:"),
     "tests/test_training.py::test_a_pickle_in_place_of_the_weights_is_refused_unpickled"),
    ("atomic dataset file (write aside, then rename)", "circuitlib/learn/dataset.py",
     "tmp = out_dir / f\".circuits.jsonl.gz.{os.getpid()}.tmp\"", "tmp = final",
     "tests/test_interruptions.py::test_killed_dataset_run_leaves_the_previous_complete_file"),
    ("dead worker pool replaced", "circuitlib/learn/dataset.py",
     "                except BrokenProcessPool:", "                except ZeroDivisionError:",
     "tests/test_scale_out.py::test_a_dead_worker_is_replaced_and_the_run_continues"),
    ("training resumes from its checkpoint", "circuitlib/learn/training.py",
     "    if resume and (Path(out_dir) / checkpoint.META).exists():", "    if False:",
     "tests/test_training.py::test_killed_and_resumed_run_matches_an_uninterrupted_one"),
    ("command line: one line and exit 2, no traceback", "circuitlib/cli.py",
     "    except CircuitlibError as exc:", "    except ZeroDivisionError as exc:",
     "tests/test_netlist_cli.py::test_cli_bad_input_is_one_line_and_exit_2"),
]


def check(name: str, rel: str, old: str | tuple, new: str | tuple, test: str) -> bool:
    """True when the test fails with the protection removed (and the removal applied cleanly). `old` and `new`
    may be tuples when a protection has several parts."""
    olds, news = (old, new) if isinstance(old, tuple) else ((old,), (new,))
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("circuitlib", "tests", "data/seed", "pyproject.toml"):
            src, dst = ROOT / part, Path(tmp) / part
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
        path = Path(tmp) / rel
        text = path.read_text()
        if any(text.count(o) != 1 for o in olds):
            print(f"SKIP  {name}: the protected code was not found once in {rel}")
            return False
        env = {"TQDM_DISABLE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": tmp, "HOME": tmp}
        run = lambda: subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],  # noqa: E731
                                     cwd=tmp, capture_output=True, text=True, env=env).returncode
        if run() != 0:
            print(f"SKIP  {name}: {test} fails even with the protection in place")
            return False
        for o, n in zip(olds, news):
            text = text.replace(o, n)
        path.write_text(text)
        caught = run() != 0
        print(f"{'OK   ' if caught else 'MISS '} {name}: {test.split('::')[1]} "
              f"{'fails' if caught else 'still passes'} without it")
        return caught


if __name__ == "__main__":
    only = sys.argv[1:]  # optional substrings of protection names
    results = [check(*r) for r in REMOVALS if not only or any(o in r[0] for o in only)]
    print(f"{sum(results)} of {len(results)} protections are caught by their test when removed")
    sys.exit(0 if all(results) else 1)
