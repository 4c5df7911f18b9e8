"""Training of the circuit VAE.

Deterministic: batch order and reparameterization noise come from generators seeded by
(seed, epoch, batch), so a run resumed from its last checkpoint retraces an uninterrupted one.
A checkpoint (safetensors + meta.json) is written atomically after every epoch.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
from pydantic import BaseModel, Field
from torch_geometric.data import Batch
from tqdm import tqdm

from circuitlib.core.circuit import Circuit
from circuitlib.core.records import main_figures
from circuitlib.learn import checkpoint, graphs
from circuitlib.learn.dataset import circuit_from_record
from circuitlib.learn.models import CircuitVAE, ModelConfig
from circuitlib.learn.models.vae import LossWeights
from circuitlib.learn.prototype import PROTOTYPE_F_HZ, prototype
from circuitlib.sim.differentiable import resolve_device

TERMS = ("node", "edge", "value", "connectivity", "kl")


class TrainConfig(BaseModel, frozen=True):
    model: ModelConfig = ModelConfig()
    weights: LossWeights = LossWeights()
    epochs: int = Field(40, ge=1, le=100_000)
    batch_size: int = Field(64, ge=1, le=4096)
    lr: float = Field(2e-3, gt=0, le=1.0)
    weight_decay: float = Field(0.01, ge=0)
    seed: int = Field(0, ge=0)
    threads: int = Field(2, ge=1, le=256)


def model_f_hz(record: dict, cfg: ModelConfig) -> float | None:
    """The main frequency of `record`'s circuit as the model sees it: PROTOTYPE_F_HZ for a prototype model."""
    return PROTOTYPE_F_HZ if cfg.prototype else main_figures(record)[0]


def model_circuit(record: dict, cfg: ModelConfig) -> Circuit:
    """`record`'s circuit as the model reads and writes it: as stored, or its prototype (learn.prototype)."""
    circuit = circuit_from_record(record)
    return prototype(circuit, main_figures(record)[0]) if cfg.prototype else circuit


def graphs_of(records: list[dict], cfg: ModelConfig) -> list:
    """PyG graphs of dataset records as `cfg`'s model sees them (with the record's own specification when
    conditional; a prototype model's at PROTOTYPE_F_HZ)."""
    def spec(r: dict) -> torch.Tensor | None:
        return graphs.spec_vector(r["response"], model_f_hz(r, cfg), main_figures(r)[1]) if cfg.conditional else None

    return [graphs.to_data(model_circuit(r, cfg), spec(r)) for r in records]


def _batches(items: list, size: int, seed: int, epoch: int) -> list[list]:
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return [[items[i] for i in order[k : k + size]] for k in range(0, len(items), size)]


def _distributed() -> tuple[int, int]:
    """(rank, world size): (0, 1) unless running under torchrun with an initialized process group."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _epoch(model, data: list, cfg: TrainConfig, epoch: int, optimizer) -> dict[str, float]:
    """One epoch. Under DistributedDataParallel every rank takes its share of each batch and the gradients
    are averaged across ranks; the logged terms are averaged too."""
    model.train()
    rank, world = _distributed()
    device = next(model.parameters()).device
    sums = dict.fromkeys(TERMS + ("total",), 0.0)
    batches = _batches(data, cfg.batch_size, cfg.seed, epoch)
    for b, items in enumerate(batches):
        items = items[rank::world] or items[:1]  # every rank must run forward; a tiny last batch is reused
        noise = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch * 10_007 + b + 7919 * rank)
        torch.manual_seed(cfg.seed * 1_000_003 + epoch * 10_007 + b + 7919 * rank)  # dropout masks: resume-safe
        total, terms = model(Batch.from_data_list(items).to(device), cfg.weights, generator=noise)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        for k, v in terms.items():
            sums[k] += v * len(items)
        sums["total"] += float(total.detach()) * len(items)
    if world > 1:
        packed = torch.tensor(list(sums.values()), dtype=torch.float64, device=device)
        torch.distributed.all_reduce(packed)
        sums = dict(zip(sums, packed.tolist()))
    return {k: v / len(data) for k, v in sums.items()}


@torch.no_grad()
def validation_loss(model: CircuitVAE, data: list, cfg: TrainConfig) -> dict[str, float]:
    """Per-term loss at the posterior mean (no sampling noise)."""
    model.eval()
    device = next(model.parameters()).device
    sums = dict.fromkeys(TERMS + ("total",), 0.0)
    for k in range(0, len(data), 256):
        items = data[k : k + 256]
        total, terms = model.loss(Batch.from_data_list(items).to(device), cfg.weights, sample=False)
        for key, v in terms.items():
            sums[key] += v * len(items)
        sums["total"] += float(total.detach()) * len(items)
    return {k: v / max(1, len(data)) for k, v in sums.items()}


def _lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Cosine decay to 5% of the initial rate."""
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs)))


def _same_config(stored: dict | None, cfg: TrainConfig) -> bool:
    """A stored config equals `cfg` once validated (a field added since it was written takes its default)."""
    try:
        return TrainConfig.model_validate(stored) == cfg
    except Exception:  # noqa: BLE001 - an unreadable stored config is simply not the same run
        return False


def train(cfg: TrainConfig, records: list[dict], dataset_sha256: str, out_dir: Path, resume: bool = True,
          progress: bool = True, stop_after: int | None = None, device: str = "auto") -> tuple[CircuitVAE, dict]:
    """Train on the 'train' split, log per-term losses on 'val', checkpoint every epoch into out_dir.
    Resumes from out_dir when its checkpoint has the same config and dataset. `stop_after` ends early
    (used to test interruption). Runs on `resolve_device(device)` (a GPU when present); the sampling noise
    comes from CPU generators, so a run draws the same noise on any device. The model returned is on the CPU."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    where = resolve_device(device)
    model = CircuitVAE(cfg.model).to(where)
    rank, world = _distributed()
    ids = [where.index] if where.type == "cuda" else None
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids) if world > 1 else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_data = graphs_of([r for r in records if r["split"] == "train"], cfg.model)
    val_data = graphs_of([r for r in records if r["split"] == "val"], cfg.model)
    history, start, elapsed = [], 0, 0.0
    if resume and (Path(out_dir) / checkpoint.META).exists():
        meta = checkpoint.read_meta(out_dir)
        if _same_config(meta.get("config"), cfg) and meta.get("dataset_sha256") == dataset_sha256:
            checkpoint.load_weights(out_dir, model)
            history, start, elapsed = meta["history"], meta["epoch"], meta.get("train_seconds", 0.0)
            if start < cfg.epochs:  # a finished run needs no optimizer state (it is not committed)
                checkpoint.load_optimizer(out_dir, optimizer, meta)
    bar = tqdm(range(start, cfg.epochs), desc="epochs", disable=(not progress or rank > 0) or None, initial=start,
               total=cfg.epochs)
    for epoch in bar:
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(cfg, epoch)
        train_terms = _epoch(net, train_data, cfg, epoch, optimizer)
        val_terms = validation_loss(model, val_data, cfg)
        elapsed += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "train": train_terms, "val": val_terms})
        bar.set_postfix(train=f"{train_terms['total']:.3f}", val=f"{val_terms['total']:.3f}")
        if rank == 0:
            checkpoint.save(out_dir, model, {"config": cfg.model_dump(mode="json"), "dataset_sha256": dataset_sha256,
                                             "epoch": epoch + 1, "history": history, "train_seconds": elapsed,
                                             "n_train": len(train_data), "world_size": world, "metrics": {}},
                            optimizer)
        if world > 1:
            torch.distributed.barrier()  # the other ranks wait for the checkpoint
        if stop_after is not None and epoch + 1 >= stop_after:
            break
    model.cpu().eval()  # on the CPU, dropout off, for everything that follows, whether or not an epoch ran
    return model, checkpoint.read_meta(out_dir)




