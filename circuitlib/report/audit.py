"""The audit chapter's checks, computed from this repository's own code, runs and checkpoints:
checkpoint certification (identification, configuration, recomputed performance, readiness) and
infrastructure inventories (models, losses, notebooks, configs, runs, test coverage)."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat

from circuitlib.core.errors import CircuitlibError
from circuitlib.core.files import atomic_write_bytes
from circuitlib.core.paths import CHECKPOINTS, ROOT, TESTS
from circuitlib.learn import checkpoint
from circuitlib.learn.dataset import verify_manifest


def checkpoints(root: Path = CHECKPOINTS) -> list[Path]:
    """The graph VAE checkpoints under `root` (the mask prior, `kind` "mask_prior" in its meta.json, is certified by
    notebook 09, which loads it through the same SHA256 check)."""
    return sorted(p.parent for p in Path(root).glob("*/meta.json")
                  if json.loads(p.read_text()).get("kind") != "mask_prior")


def git_date(path: Path) -> str | None:
    """Date of the last commit that touched `path` (ISO 8601), or None outside git."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cI", "--", str(path)], capture_output=True, text=True,
                             timeout=10, cwd=ROOT)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def identification(ckpt: Path, dataset_dir: Path) -> dict:
    """Path, SHA256 computed now, whether it matches meta.json, size, epoch, date, commit, dataset SHA256."""
    meta = checkpoint.read_meta(ckpt)
    weights = ckpt / checkpoint.WEIGHTS
    sha = checkpoint.sha256_file(weights)
    try:
        current = verify_manifest(dataset_dir)["sha256"]
    except (OSError, CircuitlibError):
        current = None
    return {"checkpoint": ckpt.name, "path": str(weights.resolve().relative_to(ROOT)), "sha256": sha,
            "sha256_matches_meta": sha == meta.get("weights_sha256"), "size_mb": weights.stat().st_size / 2**20,
            "epoch": meta["epoch"], "committed": git_date(weights), "git_commit": meta.get("git_commit"),
            "dataset_sha256": meta.get("dataset_sha256"), "dataset_matches": meta.get("dataset_sha256") == current}


def parameters_of(notebook: Path) -> dict:
    """The assignments of a notebook's cell tagged `parameters`, evaluated as literals."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            return {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
    return {}


def execution(notebook: Path) -> dict:
    """Last execution of a notebook as papermill recorded it: wall time, status and when it ended (UTC)."""
    nb = nbformat.read(notebook, as_version=4)
    pm = nb.metadata.get("papermill", {})
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    executed = any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    status = "error" if errors or pm.get("exception") else ("ok" if executed else "not executed")
    return {"notebook": str(Path(notebook).resolve().relative_to(ROOT)), "wall_s": pm.get("duration"), "status": status,
            "executed_at": (pm.get("end_time") or "")[:19].replace("T", " "), "parameters": len(parameters_of(notebook))}


def coverage_by_module(coverage_json: Path) -> list[dict]:
    """Lines covered per circuitlib module from a `coverage json` report."""
    data = json.loads(Path(coverage_json).read_text())
    rows = []
    for path, info in sorted(data["files"].items()):
        s = info["summary"]
        rows.append({"module": path.split("circuitlib/")[-1], "statements": s["num_statements"],
                     "covered": s["covered_lines"], "percent": round(s["percent_covered"], 1)})
    return rows


def sources_sha256(package: Path = ROOT / "circuitlib", tests: Path = TESTS) -> str:
    """SHA256 of every Python file of the package and the tests (relative paths and contents, in order): what a
    coverage report measured."""
    digest = hashlib.sha256()
    for base in (Path(package), Path(tests)):
        for path in sorted(base.rglob("*.py")):
            digest.update(str(path.relative_to(base.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def verdict(pytest_output: str) -> str:
    """pytest's verdict from its -q output: a line per failed test, then the closing line."""
    lines = [line for line in pytest_output.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("FAILED ")]
    return "\n".join(failed + lines[-1:])


def _sidecar(coverage_json: Path) -> Path:
    return Path(coverage_json).with_suffix(".meta.json")


def record_coverage(coverage_json: Path, status: int, summary: str, tests: Path = TESTS) -> None:
    """Write beside a coverage report the run's exit status, its verdict and the `sources_sha256` it measured."""
    meta = {"status": status, "summary": summary, "sources_sha256": sources_sha256(tests=tests)}
    atomic_write_bytes(_sidecar(coverage_json), (json.dumps(meta, indent=1) + "\n").encode())


def run_coverage(coverage_json: Path, tests: Path = TESTS, workers: int = 2) -> tuple[int, str]:
    """Run the unit tests in `tests` under coverage of circuitlib (pytest-cov), on `workers` processes
    (pytest-xdist, one test file per worker at a time; 0 runs them in this process's pytest), and write the
    JSON report to `coverage_json` and its record (`record_coverage`). Returns pytest's exit status and its
    verdict."""
    coverage_json = Path(coverage_json).resolve()
    coverage_json.parent.mkdir(parents=True, exist_ok=True)
    spread = ["-n", str(workers), "--dist", "loadfile"] if workers else []
    cmd = ["-m", "pytest", "-q", "-rf", "--color=no", "-p", "no:cacheprovider", *spread, "--cov=circuitlib",
           f"--cov-report=json:{coverage_json}", str(Path(tests).resolve())]
    run = subprocess.run([sys.executable, *cmd], cwd=ROOT, capture_output=True, text=True, check=False)
    summary = verdict(run.stdout) or run.stderr.strip()[-200:]
    record_coverage(coverage_json, run.returncode, summary, tests)
    return run.returncode, summary


def coverage(coverage_json: Path, workers: int = 2) -> tuple[int, str, bool]:
    """(exit status, verdict, reused) of the unit tests under coverage: the report at `coverage_json` when its
    record says it measured the package and tests as they are now (`make unit` writes one), else a new run."""
    try:
        meta = json.loads(_sidecar(coverage_json).read_text())
        if Path(coverage_json).is_file() and meta["sources_sha256"] == sources_sha256():
            return int(meta["status"]), str(meta["summary"]), True
    except (OSError, ValueError, KeyError):
        pass
    return (*run_coverage(coverage_json, workers=workers), False)


def main(argv: list[str] | None = None) -> int:
    """`python -m circuitlib.report.audit record-coverage REPORT LOG STATUS`: record a coverage run made outside
    this module (make unit), from its saved pytest output and exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] != "record-coverage":
        print("usage: python -m circuitlib.report.audit record-coverage REPORT LOG STATUS", file=sys.stderr)
        return 2
    report, log, status = Path(args[1]), Path(args[2]), int(args[3])
    record_coverage(report, status, verdict(log.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
