"""Execute the book's notebooks in order with papermill, skipping those whose inputs have not changed.

A notebook's key is the SHA256 of its code cells (parameters included), of the package's source and the pinned
dependencies, of the repository's input data (the seed's documents and the deck corpus), and of the key of the
notebook before it: the notebooks run in order and read what the earlier ones wrote (the dataset, the checkpoints,
the results), so a change anywhere upstream reruns everything after it. A notebook whose key matches the stamp of
its last successful run (in `_build/exec-cache/`) keeps its stored outputs; `--force` (`make book FORCE=1`) runs
them all. The status page runs every time: it reports the cache state of each. A notebook that fails stops the
sequence, and its stamp is not written.

    python -m circuitlib.report.execute [--force] NOTEBOOK ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from circuitlib.core.files import atomic_write_bytes
from circuitlib.core.paths import ROOT

CACHE = ROOT / "_build" / "exec-cache"
INPUTS = ("circuitlib", "pyproject.toml", "requirements.lock", "data/seed", "tests/decks")  # what every notebook reads
ALWAYS = ("status.ipynb",)  # the status page reports this run's cache states, so it runs every time


def _digest_tree(paths: list[Path]) -> str:
    """SHA256 over the relative names and bytes of every file under `paths` (sorted; caches skipped)."""
    h = hashlib.sha256()
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*"))
                   if f.is_file() and "__pycache__" not in f.parts and not f.name.endswith(".pyc"))
    for f in files:
        h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def code_digest(notebook: Path) -> str:
    """SHA256 of a notebook's code cells and kernel: what its execution depends on, outputs and prose excluded."""
    nb = nbformat.read(notebook, as_version=4)
    h = hashlib.sha256(nb.metadata.get("kernelspec", {}).get("name", "").encode())
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(b"\0" + cell.source.encode())
    return h.hexdigest()


def keys(notebooks: list[Path]) -> list[str]:
    """The cache key of every notebook, in order (each includes the one before it)."""
    previous = _digest_tree([ROOT / p for p in INPUTS])
    out = []
    for nb in notebooks:
        previous = hashlib.sha256(f"{previous}:{code_digest(nb)}".encode()).hexdigest()
        out.append(previous)
    return out


def stamp_path(notebook: Path) -> Path:
    return CACHE / (str(Path(notebook).resolve().relative_to(ROOT)).replace("/", "__") + ".json")


def cache_state(notebook: Path, key: str | None = None) -> dict:
    """What the stamp of `notebook` says: {"state": "cached", "executed", "stale" or "never run", ...}."""
    path = stamp_path(notebook)
    if not path.is_file():
        return {"state": "never run here"}
    stamp = json.loads(path.read_text())
    if key is not None and stamp.get("key") != key:
        return stamp | {"state": "stale"}
    return stamp


def run(notebooks: list[Path], force: bool = False, kernel: str = "python3") -> list[dict]:
    """Execute each notebook whose key changed (all with `force`), in order; a row per notebook."""
    rows = []
    for nb, key in zip(notebooks, keys(notebooks)):
        stamp = cache_state(nb, key)
        if not force and stamp.get("key") == key and Path(nb).name not in ALWAYS:
            print(f"== cached  {nb} (unchanged since {stamp['executed_at']})", flush=True)
            atomic_write_bytes(stamp_path(nb), json.dumps(stamp | {"state": "cached"}).encode())
            rows.append({"notebook": str(nb), "state": "cached"})
            continue
        print(f"== papermill {nb}", flush=True)
        t0 = time.time()
        env = dict(os.environ, TQDM_DISABLE="1")
        done = subprocess.run([sys.executable, "-m", "papermill", "--kernel", kernel, "--cwd", str(Path(nb).parent),
                               "--log-level", "WARNING", str(nb), str(nb)], env=env)
        if done.returncode != 0:
            raise SystemExit(f"{nb} failed (papermill exit status {done.returncode}); later notebooks not run")
        CACHE.mkdir(parents=True, exist_ok=True)
        new = {"key": key, "state": "executed", "wall_s": round(time.time() - t0, 1),
               "executed_at": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())}
        atomic_write_bytes(stamp_path(nb), json.dumps(new).encode())
        rows.append({"notebook": str(nb), "state": "executed"})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--force", action="store_true", help="execute every notebook, changed or not")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows = run(args.notebooks, args.force)
    ran = sum(r["state"] == "executed" for r in rows)
    print(f"{ran} notebooks executed, {len(rows) - ran} cached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
