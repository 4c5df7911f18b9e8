"""Trained models from their checkpoints, and metrics recorded into them."""

from __future__ import annotations

import json
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



def record_metrics(ckpt_dir: Path, metrics: dict) -> dict:
    """Store evaluation metrics in meta.json (atomically), keeping every other field."""
    meta = checkpoint.read_meta(ckpt_dir)
    meta["metrics"] = metrics
    atomic_write_bytes(Path(ckpt_dir) / checkpoint.META, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
    return meta
