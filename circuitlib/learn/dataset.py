"""Dataset generation: draw circuits from every family, label them with the nodal solver,
verify them in ngspice, split by topology, and write records and a manifest atomically.

Circuit i is drawn from its own generator seeded with (seed, i), so the result does not
depend on how work is spread over processes. Worker processes each own one ngspice.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import multiprocessing as mp
import os
import time
from collections import Counter
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator
from tqdm import tqdm

from circuitlib.analysis.measure import Measurement, measure
from circuitlib.core.circuit import Circuit, Edge, topology_signature
from circuitlib.core.config import parse_config
from circuitlib.core.errors import CircuitlibError, SimulationError
from circuitlib.core.executors import DaskExecutor, dask_executor  # noqa: F401 - notebook 01's executor
from circuitlib.core.files import atomic_write_bytes, sha256_file
from circuitlib.core.netlist import to_netlist
from circuitlib.core.records import FILTER_RESPONSES, main_figures
from circuitlib.sim.spice import VERIFY_SWEEP, ngspice_rel_err
from circuitlib.synthesis import families as fam

SECOND_ORDER = {"rlc_bandpass", "lc_shunt_notch", "rlc_series_lowpass", "rlc_parallel_bandpass", "lc_lowpass",
                "cl_highpass"}
VERIFY_RTOL = 1e-6  # a circuit is kept only when ngspice confirms its nodal response this closely
CHUNK = 25  # circuits per worker task
# The dataset's identity (the manifest's `sha256`, which checkpoints and the latent index record): the SHA256 of
# these fields of every record, which the seed and configuration decide exactly on any machine. The measured
# figures (poles, fc, ngspice agreement) are left out: their last bits depend on the machine's floating point.
IDENTITY_FIELDS = ("id", "family", "split", "heldout_topology", "topology", "n_internal", "edges")
SEAL_SUFFIX = ".sha256"  # beside the records file: its bytes' SHA256 and its identity, as built on this machine


class DatasetConfig(BaseModel, frozen=True):
    """Parameters of notebook 01; a bad value fails here with a clear message."""

    n_circuits: int = Field(5000, ge=10, le=2_000_000)
    seed: int = Field(0, ge=0)
    families: tuple[str, ...] = fam.FAMILIES
    f_range_hz: tuple[float, float] = (10.0, 1e6)
    q_range: tuple[float, float] = (0.05, 100.0)
    z0_range_ohm: tuple[float, float] = (30.0, 30e3)
    random_share: float = Field(0.3, ge=0.0, le=1.0)
    heldout_topology_share: float = Field(0.15, ge=0.0, lt=1.0)
    workers: int = Field(2, ge=1, le=64)

    @field_validator("families")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(fam.FAMILIES))
        if unknown or not value:
            raise ValueError(f"unknown families {unknown}; choose from: {', '.join(fam.FAMILIES)}")
        return tuple(value)

    @model_validator(mode="after")
    def _ranges(self) -> DatasetConfig:
        for name in ("f_range_hz", "q_range", "z0_range_ohm"):
            lo, hi = getattr(self, name)
            if not (0 < lo < hi and math.isfinite(hi)):
                raise ValueError(f"{name} must be (low, high) with 0 < low < high")
        return self


def config_from(**params) -> DatasetConfig:
    """Typed config from notebook parameters; a bad value raises one clear CircuitlibError line."""
    return parse_config(DatasetConfig, **params)


# ---------------------------------------------------------------- drawing one circuit


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(10 ** rng.uniform(math.log10(lo), math.log10(hi)))


def _family_of(rng: np.random.Generator, cfg: DatasetConfig) -> str:
    named = [f for f in cfg.families if f != "random"]
    if "random" in cfg.families and (not named or rng.random() < cfg.random_share):
        return "random"
    return named[int(rng.integers(0, len(named)))]


def _draw_named(rng: np.random.Generator, family: str, cfg: DatasetConfig) -> Circuit:
    q_lo, q_hi = cfg.q_range if family in SECOND_ORDER else (0.1, 10.0)
    target = fam.Target(_log_uniform(rng, *cfg.f_range_hz), _log_uniform(rng, q_lo, q_hi),
                        _log_uniform(rng, *cfg.z0_range_ohm), int(rng.integers(2, 6)))
    return fam.build(family, target)


def _acceptable(circuit: Circuit, m: Measurement, cfg: DatasetConfig) -> bool:
    f, q = main_figures(m)
    return (fam.in_range(circuit) and m.valid and m.response in FILTER_RESPONSES and f is not None
            and cfg.f_range_hz[0] <= f <= cfg.f_range_hz[1] and (q is None or q <= cfg.q_range[1]))


def draw(index: int, cfg: DatasetConfig, attempts: int = 60) -> tuple[str, Circuit, Measurement] | None:
    """Circuit `index`: its family, the circuit and its measurement, or None if no attempt was acceptable."""
    rng = np.random.default_rng([cfg.seed, index])
    family = _family_of(rng, cfg)
    for _ in range(attempts):
        circuit = fam.random_topology(rng) if family == "random" else _draw_named(rng, family, cfg)
        if not fam.in_range(circuit):
            continue
        m = measure(circuit)
        if _acceptable(circuit, m, cfg):
            return family, circuit, m
    return None


# ---------------------------------------------------------------- records


def _unit_hash(*parts: object) -> float:
    """A deterministic number in [0, 1) from its arguments."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def reserved_topologies(cfg: DatasetConfig) -> frozenset[str]:
    """Topologies of the named families: never held out, since training needs them."""
    target = fam.Target(1e3, 1.0, 1e3)
    sigs = {topology_signature(fam.build(f, target)) for f in fam.TEMPLATES}
    sigs |= {topology_signature(fam.ladder(kind, n, hp, target)) for kind, hp in fam.LADDERS.values() for n in range(2, 6)}
    return frozenset(sigs)


def split_of(record_id: str, topology: str, cfg: DatasetConfig, reserved: frozenset[str]) -> tuple[str, bool]:
    """(split, heldout_topology): a share of non-reserved topologies goes entirely to test."""
    if topology not in reserved and _unit_hash(cfg.seed, "topology", topology) < cfg.heldout_topology_share:
        return "test", True
    u = _unit_hash(cfg.seed, "circuit", record_id)
    return ("train" if u < 0.7 else "val" if u < 0.8 else "test"), False


def edges_json(circuit: Circuit) -> list[list]:
    return [[a, b, e.r_ohm, e.l_h, e.c_f] for (a, b), e in sorted(circuit.edges.items())]


def circuit_from_record(record: dict) -> Circuit:
    return Circuit(record["n_internal"], {(a, b): Edge(r, l, c) for a, b, r, l, c in record["edges"]})


def make_record(index: int, cfg: DatasetConfig, reserved: frozenset[str]) -> dict | None:
    """Draw, label and verify circuit `index`; None when nothing acceptable was drawn, ngspice failed, or
    ngspice disagrees with the nodal solver by more than VERIFY_RTOL (its labels would not be confirmed)."""
    drawn = draw(index, cfg)
    if drawn is None:
        return None
    family, circuit, m = drawn
    try:
        err = ngspice_rel_err(circuit)
    except SimulationError:
        return None
    if not err <= VERIFY_RTOL:
        return None
    rid = f"c{index:07d}"
    topology = topology_signature(circuit)
    split, heldout = split_of(rid, topology, cfg, reserved)
    return {"id": rid, "family": family, "topology": topology, "split": split, "heldout_topology": heldout,
            "netlist": to_netlist(circuit, ac=None), "input_node": "vin", "output_node": "vout",
            "response": m.response, "fc_hz": m.fc_hz, "f0_hz": m.f0_hz, "q": m.q, "q_pole": m.q_pole,
            "multi_band": m.multi_band,
            "order": m.order, "poles": m.poles, "zeros": m.zeros, "n_internal": circuit.n_internal,
            "edges": edges_json(circuit), "ngspice_max_rel_err": err}


def _chunk(args: tuple[int, int, DatasetConfig, frozenset[str]]) -> list[dict | None]:
    start, stop, cfg, reserved = args
    return [make_record(i, cfg, reserved) for i in range(start, stop)]


# ---------------------------------------------------------------- generation and files


def default_executor(workers: int) -> Executor:
    """Worker processes (spawned: each imports its own ngspice)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))


MAX_RESTARTS = 3  # worker-pool replacements per wave before generation gives up


def generate(cfg: DatasetConfig, executor: Executor | None = None, progress: bool = True,
             make_executor=None) -> Iterator[dict]:
    """Yield exactly cfg.n_circuits records in index order, computed in parallel chunks.
    With no `executor`, worker processes come from `make_executor()` (default: cfg.workers processes); when a
    worker dies (ngspice can crash its process), the pool is replaced and the wave is recomputed, so the run
    continues and the records are the same as without the crash."""
    reserved = reserved_topologies(cfg)
    own = executor is None
    make_executor = make_executor or (lambda: default_executor(cfg.workers))
    executor = executor or make_executor()
    bar = tqdm(total=cfg.n_circuits, desc="circuits", disable=not progress or None)
    made, start, wave = 0, 0, max(4 * cfg.workers, 8)
    try:
        while made < cfg.n_circuits:
            jobs = [(start + k * CHUNK, start + (k + 1) * CHUNK, cfg, reserved) for k in range(wave)]
            start += wave * CHUNK
            for attempt in range(MAX_RESTARTS + 1):
                try:
                    chunks = list(executor.map(_chunk, jobs))
                    break
                except BrokenProcessPool:
                    if not own or attempt == MAX_RESTARTS:
                        raise CircuitlibError(f"dataset workers died {attempt + 1} times on circuits "
                                              f"{jobs[0][0]}..{jobs[-1][1] - 1}; giving up") from None
                    executor.shutdown(wait=False, cancel_futures=True)
                    executor = make_executor()
            for chunk in chunks:
                for record in chunk:
                    if record is not None and made < cfg.n_circuits:
                        made += 1
                        bar.update(1)
                        yield record
    finally:
        bar.close()
        if own:
            executor.shutdown(cancel_futures=True)


@dataclass
class BuildResult:
    records_path: Path
    manifest: dict


def build_dataset(cfg: DatasetConfig, out_dir: Path, executor: Executor | None = None,
                  progress: bool = True, make_executor=None) -> BuildResult:
    """Generate the dataset into out_dir/circuits.jsonl.gz and out_dir/manifest.json, both atomically.
    Records stream through a gzip file (memory stays flat); counts are aggregated on the way."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "circuits.jsonl.gz"
    tmp = out_dir / f".circuits.jsonl.gz.{os.getpid()}.tmp"
    t0 = time.perf_counter()
    counts = {"family": Counter(), "response": Counter(), "split": Counter()}
    topologies, heldout_topologies, max_err, high_q, max_q, multi = set(), set(), 0.0, 0, 0.0, 0
    sha, identity = hashlib.sha256(), hashlib.sha256()
    try:
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=_Tee(raw, sha), mtime=0) as gz:
                text = io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
                for rec in generate(cfg, executor, progress, make_executor):
                    text.write(json.dumps(rec, sort_keys=True) + "\n")
                    identity.update(json.dumps({k: rec[k] for k in IDENTITY_FIELDS}, sort_keys=True).encode() + b"\n")
                    for key in counts:
                        counts[key][rec[key]] += 1
                    topologies.add(rec["topology"])
                    if rec["heldout_topology"]:
                        heldout_topologies.add(rec["topology"])
                    max_err = max(max_err, rec["ngspice_max_rel_err"])
                    q = main_figures(rec)[1]
                    high_q += q is not None and q >= 5
                    max_q = max(max_q, q or 0.0)
                    multi += bool(rec["multi_band"])
                text.flush()
                text.detach()
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:  # an error or Ctrl-C: drop the partial file (a kill leaves it, never in place of the real one)
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, final)
    seal = {"records_sha256": sha.hexdigest(), "sha256": identity.hexdigest()}
    atomic_write_bytes(out_dir / (final.name + SEAL_SUFFIX), (json.dumps(seal, indent=1) + "\n").encode())
    manifest = {
        "produced_by": "notebooks/01_dataset.ipynb (circuitlib.learn.dataset.build_dataset)",
        "parameters": json.loads(cfg.model_dump_json()),
        "records": final.name, "sha256": identity.hexdigest(), "n_circuits": sum(counts["family"].values()),
        "n_families": len(counts["family"]), "n_topologies": len(topologies),
        "n_heldout_topologies": len(heldout_topologies),
        "counts": {k: dict(sorted(v.items())) for k, v in counts.items()},
        "share_q_ge_5": high_q / max(1, sum(counts["family"].values())), "max_q": max_q,
        "share_multi_band": multi / max(1, sum(counts["family"].values())),
        "ngspice_max_rel_err": max_err, "verify_sweep": VERIFY_SWEEP.card(),
    }
    atomic_write_bytes(out_dir / "manifest.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    manifest["wall_s"] = time.perf_counter() - t0
    return BuildResult(final, manifest)


class _Tee(io.RawIOBase):
    """A writable file object that also feeds a hash."""

    def __init__(self, raw, sha) -> None:
        self.raw, self.sha = raw, sha

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha.update(data)
        return self.raw.write(data)


def load_records(path: Path) -> list[dict]:
    """All records of a dataset file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def verify_manifest(out_dir: Path) -> dict:
    """The manifest, after checking the records file: its bytes against the SHA256 its build sealed beside it
    (`SEAL_SUFFIX`), and that build's identity against the manifest's `sha256` (see IDENTITY_FIELDS)."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text())
        seal = json.loads((out_dir / (manifest["records"] + SEAL_SUFFIX)).read_text())
        digest = sha256_file(out_dir / manifest["records"])
    except (OSError, KeyError, json.JSONDecodeError):
        raise CircuitlibError(f"no complete dataset at {out_dir}: build it with notebook 01 (make book), "
                              "or pass another dataset folder") from None
    if digest != seal.get("records_sha256") or seal.get("sha256") != manifest["sha256"]:
        raise CircuitlibError(f"{out_dir / manifest['records']} does not match the SHA256 in its manifest")
    return manifest


def records_frame(records: list[dict]) -> "pd.DataFrame":  # noqa: F821
    """One row per record with the filter's main frequency and Q (`f_hz`, `q_main`) and a family group."""
    df = pd.DataFrame.from_records(records, exclude=["netlist", "poles", "zeros", "edges"])
    main = [main_figures(r) for r in records]
    df["f_hz"] = [f for f, _ in main]
    df["q_main"] = [q for _, q in main]
    df["group"] = df["family"].map(family_group)
    return df


def family_group(family: str) -> str:
    if family == "random":
        return "random topology"
    if family in fam.LADDERS:
        return "classical ladder"
    return "seed template" if family in fam.SEED_TEMPLATES else "twin-T / Wien / bridged-T"
