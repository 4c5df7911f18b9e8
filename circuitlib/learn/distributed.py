"""Training under torchrun: DistributedDataParallel launch (gloo on CPUs, nccl on GPUs)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from circuitlib.learn.models import CircuitVAE
from circuitlib.learn.training import TrainConfig, _distributed, resolve_device, train


def parameters_digest(model: CircuitVAE) -> str:
    """SHA256 of every parameter's bytes, in order: equal digests mean identical weights."""
    h = hashlib.sha256()
    for tensor in model.state_dict().values():
        h.update(tensor.detach().contiguous().numpy().tobytes())
    return h.hexdigest()



def run_distributed(cfg: TrainConfig, records: list[dict], dataset_sha256: str, out_dir: Path,
                    device: str = "auto") -> dict | None:
    """Train under torchrun when WORLD_SIZE > 1 (gloo on CPUs, nccl on GPUs), else in this process. Returns, on
    rank 0, the last epoch's losses, the world size and whether every rank ended with identical weights; None on
    other ranks."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        torch.distributed.init_process_group("nccl" if resolve_device(device).type == "cuda" else "gloo")
    try:
        model, meta = train(cfg, records, dataset_sha256, out_dir, resume=False, progress=False, device=device)
        digests = [parameters_digest(model)] * world
        if world > 1:
            torch.distributed.all_gather_object(digests, parameters_digest(model))
        rank = _distributed()[0]
    finally:
        if world > 1:
            torch.distributed.destroy_process_group()
    if rank:
        return None
    return {"epoch": meta["epoch"], "world_size": world, "ranks_identical": len(set(digests)) == 1,
            "train": meta["history"][-1]["train"], "val": meta["history"][-1]["val"]}
