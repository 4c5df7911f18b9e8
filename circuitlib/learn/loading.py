"""Trained models from their checkpoints, and metrics recorded into them."""

from __future__ import annotations

import json
import math
from pathlib import Path

from circuitlib.core.errors import CheckpointError
from circuitlib.core.files import atomic_write_bytes
from circuitlib.learn import checkpoint
from circuitlib.learn.models import CircuitVAE
from circuitlib.learn.training import TrainConfig


def load_model(ckpt_dir: Path) -> tuple[CircuitVAE, dict]:
    """Rebuild the model from meta.json's config and load its SHA256-verified weights."""
    meta = checkpoint.read_meta(ckpt_dir)
    try:
        cfg = TrainConfig.model_validate(meta["config"])
    except Exception as exc:
        raise CheckpointError(f"{ckpt_dir}: the config in meta.json does not validate: {exc}".splitlines()[0]) from None
    model = CircuitVAE(cfg.model)
    checkpoint.load_weights(ckpt_dir, model)
    model.eval()
    return model, meta


def metric_differences(stored: dict, recomputed: dict, rel: float = 1e-4) -> list[str]:
    """Metrics that differ between meta.json and a recomputation by more than `rel` (each is a finding).
    The model runs in float32 and its matrix products may round differently from one run to the next (the BLAS
    picks kernels by memory alignment), so a recomputation agrees to about 1e-5, not to the last bit; other
    weights or other data move a metric by far more."""
    out = []
    for key in sorted(set(stored) | set(recomputed)):
        a, b = stored.get(key), recomputed.get(key)
        same = (a == b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                            and (math.isclose(a, b, rel_tol=rel, abs_tol=1e-12) or (math.isinf(a) and math.isinf(b))))
        if not same:
            out.append(f"{key}: stored {a}, recomputed {b}")
    return out


def record_metrics(ckpt_dir: Path, metrics: dict) -> dict:
    """Store evaluation metrics in meta.json (atomically), keeping every other field. Metrics that agree with the
    stored ones to float32 rounding (`metric_differences`) are not written again, so that re-evaluating the same
    weights on another machine leaves the checkpoint's files as they are."""
    meta = checkpoint.read_meta(ckpt_dir)
    if "metrics" in meta and not metric_differences(meta["metrics"], metrics):
        return meta
    meta["metrics"] = metrics
    atomic_write_bytes(Path(ckpt_dir) / checkpoint.META, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
    return meta
