"""Checkpoints: safetensors weights plus JSON metadata, written atomically, checked by SHA256
before loading, and never read through pickle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from circuitlib.core.errors import CheckpointError
from circuitlib.core.files import atomic_write_bytes, sha256_file
from circuitlib.core.paths import ROOT

WEIGHTS, OPTIMIZER, META = "model.safetensors", "optimizer.safetensors", "meta.json"
SAFETENSORS_MAX_HEADER = 100_000_000


def git_commit(repo: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=repo or ROOT)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> str:
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(path))
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
    return sha256_file(path)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, pstate in state["state"].items():
        for key, value in pstate.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{key}"] = value
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _slots(out_dir: Path) -> tuple[Path, Path]:
    return out_dir.with_name(f".{out_dir.name}.staging"), out_dir.with_name(f".{out_dir.name}.old")


def recover(out_dir: Path) -> None:
    """Finish a swap that an interruption cut between its two renames."""
    out_dir = Path(out_dir)
    _, old = _slots(out_dir)
    if not out_dir.exists() and old.exists():
        os.replace(old, out_dir)


def save(out_dir: Path, model: torch.nn.Module, meta: dict, optimizer: torch.optim.Optimizer | None = None) -> dict:
    """Write weights, optimizer state and meta.json into a staging folder, then swap it in place of the
    previous checkpoint: at every moment the folder holds one complete checkpoint (see `recover`)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    recover(out_dir)
    staging, old = _slots(out_dir)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    meta = dict(meta, weights_sha256=_save_tensors(model.state_dict(), staging / WEIGHTS))
    if optimizer is not None:
        tensors, rest = _optimizer_tensors(optimizer)
        meta["optimizer_sha256"] = _save_tensors(tensors, staging / OPTIMIZER)
        meta["optimizer_state"] = rest
    meta.setdefault("git_commit", git_commit())
    atomic_write_bytes(staging / META, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return meta


def read_meta(ckpt_dir: Path) -> dict:
    recover(ckpt_dir)
    path = Path(ckpt_dir) / META
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {ckpt_dir} ({META} is missing)") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(f"{path} is not valid JSON") from None


def _verified_tensors(path: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    if expected_sha256 is None or sha256_file(path) != expected_sha256:
        raise CheckpointError(f"{path} does not match the SHA256 recorded in {META}; refusing to load it")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) < 8 or int.from_bytes(head, "little") > SAFETENSORS_MAX_HEADER:
        raise CheckpointError(f"{path} is not a safetensors file")
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for malformed files
        raise CheckpointError(f"{path} is not a valid safetensors file: {exc}") from None


def load_weights(ckpt_dir: Path, model: torch.nn.Module) -> dict:
    """Load verified weights into `model`; returns meta. Any mismatch raises CheckpointError."""
    meta = read_meta(ckpt_dir)
    tensors = _verified_tensors(Path(ckpt_dir) / WEIGHTS, meta.get("weights_sha256"))
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{ckpt_dir}: weights do not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return meta


def load_optimizer(ckpt_dir: Path, optimizer: torch.optim.Optimizer, meta: dict) -> None:
    tensors = _verified_tensors(Path(ckpt_dir) / OPTIMIZER, meta.get("optimizer_sha256"))
    rest = meta["optimizer_state"]
    state: dict = {}
    for name, value in list(tensors.items()) + list(rest["scalars"].items()):
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": rest["param_groups"]})
