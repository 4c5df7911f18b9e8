"""The latent index: each training circuit's response, figures and posterior means under both models.

The knn method (the seed's) averages the 8-D latents of the training circuits nearest a specification, and
the conditional method draws latents from the production model's aggregate posterior. Both need these
numbers, and computing them needs the dataset, which notebook 01 builds. The index is small (about 1 MB), so
it is committed beside the checkpoints, and `generate` works on a fresh clone.

It is a safetensors file of numbers plus a JSON file that records its SHA256 and the SHA256 of the weights it
was computed with; it is loaded only when both still match, and never through pickle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from circuitlib.analysis.measure import pole_q
from circuitlib.analysis.spec import Specification
from circuitlib.core.errors import CheckpointError, SpecificationError
from circuitlib.core.files import atomic_write_bytes, sha256_file
from circuitlib.core.records import main_figures
from circuitlib.learn import checkpoint
from circuitlib.learn.decoding import posterior_means, posteriors
from circuitlib.learn.models import CircuitVAE
from circuitlib.sim.mna import PoleZero

ARRAYS, META = "index.safetensors", "index.json"
NUMBERS = ("log_f", "log_q", "any_log_f", "any_log_q", "multi_band", "z", "z_sd", "knn_rows", "knn_z")

# conditional's sampler: how far in log10 q a training circuit may be and still count. A decode fitted to its
# posterior comes back close to its training circuit, whose q it keeps, so the bandwidth is a quarter of the 5 %
# tolerance (log10 1.05 = 0.021 decades); chosen on grid seed 1 (0.002: 77 %, 0.01: 78 %, 0.05: 24 % within
# 5 %), never on the evaluation grids of notebooks 04 and 06
Q_BANDWIDTH_DECADES = 0.005


@dataclass
class LatentIndex:
    """Per training circuit: response, main figures (log10 f in Hz and log10 q; nan where absent), the 'any'
    convention's figures (the highest-Q pole pair), whether it is multi-band (its figures then depend on the rule
    that picks the crossing, so the samplers skip it), and the production model's posterior mean `z` and standard
    deviation `z_sd`. The knn table is the single-band rows with a main q (`knn_rows`) and their 8-D posterior
    means under the reproduction model."""

    response: np.ndarray
    log_f: np.ndarray
    log_q: np.ndarray
    any_log_f: np.ndarray
    any_log_q: np.ndarray
    multi_band: np.ndarray
    z: np.ndarray
    z_sd: np.ndarray
    knn_rows: np.ndarray
    knn_z: np.ndarray

    def numbers(self) -> dict[str, np.ndarray]:
        return {k: np.ascontiguousarray(getattr(self, k)) for k in NUMBERS}

    def draw(self, spec: Specification, count: int, rng: np.random.Generator) -> tuple[np.ndarray, list]:
        """Rows of `count` training circuits for `spec`, picked at random with weight
        exp(-(log10 q - log10 q_target)^2 / 2 h^2), h = Q_BANDWIDTH_DECADES, without replacement (the conditional
        method's sampler), and the (response, main f in Hz, q) each is decoded for: the target itself, or under the
        'any' convention the circuit's own, moved in frequency onto the target. Multi-band rows are never drawn."""
        if spec.response == "any":
            log_q = self.any_log_q
            ok = np.isfinite(log_q) & np.isfinite(self.any_log_f) & np.isfinite(self.log_f)
        else:
            log_q = self.log_q
            ok = (self.response == spec.response) & np.isfinite(self.log_f)
            ok &= np.isfinite(log_q) if spec.q is not None else True
        ok &= ~self.multi_band.astype(bool)  # a multi-band circuit's figures depend on which crossing is read
        if not ok.any():
            raise SpecificationError(f"no training circuit is a {spec.response} with the figures it needs")
        gap = np.abs(log_q - math.log10(spec.q)) if spec.q is not None else np.zeros(len(log_q))
        score = np.where(ok, -0.5 * (gap / Q_BANDWIDTH_DECADES) ** 2, -np.inf) + rng.gumbel(size=len(gap))
        rows = np.argsort(-score)[: min(count, int(ok.sum()))]
        if spec.response != "any":
            return rows, [(spec.response, spec.f_hz, spec.q)] * len(rows)
        shift = math.log10(spec.f_hz) - self.any_log_f[rows]  # move each circuit's pole pair onto the target
        return rows, [(str(self.response[i]), 10 ** (self.log_f[i] + d), 10 ** self.log_q[i]
                       if np.isfinite(self.log_q[i]) else None) for i, d in zip(rows, shift)]


def _log10(value: float | None) -> float:
    return math.log10(value) if value else math.nan


def _any_figures(record: dict) -> tuple[float | None, float | None]:
    poles = np.array([complex(re, im) for re, im in record["poles"]], dtype=complex)
    q, f_hz, _ = pole_q(PoleZero(poles, np.zeros(0, complex), np.zeros(0, complex), False))
    return (f_hz if q else None), q


def build(records: list[dict], production: CircuitVAE, reproduction: CircuitVAE) -> LatentIndex:
    """The index of the training records (split 'train') under both models."""
    train = [r for r in records if r["split"] == "train"]
    main = [main_figures(r) for r in train]
    any_fig = [_any_figures(r) for r in train]
    multi = np.array([bool(r["multi_band"]) for r in train], dtype=np.uint8)
    knn_rows = np.array([i for i, (_, q) in enumerate(main) if q is not None and not multi[i]], dtype=np.int64)
    return LatentIndex(np.array([r["response"] for r in train]), np.array([_log10(f) for f, _ in main]),
                       np.array([_log10(q) for _, q in main]), np.array([_log10(f) for f, _ in any_fig]),
                       np.array([_log10(q) for _, q in any_fig]), multi, *posteriors(production, train),
                       knn_rows, posterior_means(reproduction, [train[i] for i in knn_rows]))


def _weights_sha(ckpt_dir: Path) -> str | None:
    return checkpoint.read_meta(ckpt_dir).get("weights_sha256")


def save(index: LatentIndex, folder: Path, production_dir: Path, reproduction_dir: Path,
         dataset_sha256: str) -> dict:
    """Write the index (numbers first, then the JSON that vouches for them, each atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{ARRAYS}.tmp"
    save_file(index.numbers(), str(tmp))
    tmp.replace(folder / ARRAYS)
    meta = {"arrays_sha256": sha256_file(folder / ARRAYS), "responses": index.response.tolist(),
            "production_weights_sha256": _weights_sha(production_dir),
            "reproduction_weights_sha256": _weights_sha(reproduction_dir), "dataset_sha256": dataset_sha256,
            "n_train": len(index.response)}
    atomic_write_bytes(folder / META, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
    return meta


def load(folder: Path, production_dir: Path, reproduction_dir: Path) -> LatentIndex:
    """The committed index, checked: its numbers against their SHA256, and the weights it was computed with
    against the checkpoints' own. Anything missing or stale raises CheckpointError."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"no readable latent index at {folder} ({exc.__class__.__name__})") from None
    if not (folder / ARRAYS).is_file() or sha256_file(folder / ARRAYS) != meta.get("arrays_sha256"):
        raise CheckpointError(f"{folder / ARRAYS} is missing or does not match its SHA256 in {META}")
    for key, ckpt in (("production_weights_sha256", production_dir), ("reproduction_weights_sha256", reproduction_dir)):
        if meta.get(key) != _weights_sha(ckpt):
            raise CheckpointError(f"the latent index at {folder} was computed with other weights than {ckpt}")
    arrays = load_file(str(folder / ARRAYS))
    return LatentIndex(np.array(meta["responses"]), **{k: arrays[k] for k in NUMBERS})


def up_to_date(folder: Path, production_dir: Path, reproduction_dir: Path, dataset_sha256: str) -> bool:
    """Whether the index at `folder` loads and was built from this dataset."""
    try:
        load(folder, production_dir, reproduction_dir)
        return json.loads((Path(folder) / META).read_text())["dataset_sha256"] == dataset_sha256
    except (CheckpointError, KeyError):
        return False


def refresh(folder: Path, records: list[dict], production: CircuitVAE, reproduction: CircuitVAE,
            production_dir: Path, reproduction_dir: Path, dataset_sha256: str) -> LatentIndex:
    """The index at `folder`, rebuilt from `records` and written first when it is missing, stale or was built
    from another dataset (notebook 02 calls this after training)."""
    if not up_to_date(folder, production_dir, reproduction_dir, dataset_sha256):
        save(build(records, production, reproduction), folder, production_dir, reproduction_dir, dataset_sha256)
    return load(folder, production_dir, reproduction_dir)
