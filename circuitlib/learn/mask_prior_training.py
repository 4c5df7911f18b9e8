"""Training the mask-conditioned prior, and sampling circuits from it for a mask.

Each dataset record (`learn.mask_dataset`) attains many masks: its passband edge at every tabulated ripple and its
stopband edge at every tabulated attenuation. A training pair is one of those masks with the record's circuit,
frequency-scaled so that the mask's reference (passband edge, or band centre) sits at 1 rad/s. Training is
deterministic (batch order and pairs from seeded generators) and checkpointed as safetensors plus JSON.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch_geometric.data import Batch
from tqdm import tqdm

from circuitlib.analysis.mask import FilterMask, MaskError
from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge, topology_signature
from circuitlib.learn import checkpoint, graphs
from circuitlib.learn.mask_dataset import record_circuit
from circuitlib.learn.models.mask_prior import MaskPrior, PriorConfig, mask_features
from circuitlib.learn.training import resolve_device
from circuitlib.synthesis.values import scale

PRIOR_TERMS = ("node", "edge", "value", "connectivity")


class PriorTrainConfig(BaseModel, frozen=True):
    prior: PriorConfig = PriorConfig()
    epochs: int = Field(12, ge=1, le=100_000)
    batch_size: int = Field(64, ge=1, le=4096)
    lr: float = Field(2e-3, gt=0, le=1.0)
    masks_per_record: int = Field(3, ge=1, le=64)  # training pairs drawn from each record's descriptors
    seed: int = Field(0, ge=0)
    threads: int = Field(2, ge=1, le=256)


def _levels(table: dict) -> list[tuple[float, object]]:
    return [(float(k), v) for k, v in table.items() if v is not None]


def record_mask(record: dict, ripple_db: float, attenuation_db: float) -> FilterMask | None:
    """The mask a record's own circuit attains at one tabulated ripple and attenuation (its descriptors are in rad/s;
    the mask's edges are in Hz), or None where the two edges do not make a consistent mask."""
    p = record["descriptors"]["pass_edge"].get(repr(float(ripple_db)))
    s = record["descriptors"]["stop_edge"].get(repr(float(attenuation_db)))
    if p is None or s is None or attenuation_db <= ripple_db:
        return None
    hz = lambda e: tuple(x / (2 * math.pi) for x in e) if isinstance(e, list) else e / (2 * math.pi)  # noqa: E731
    try:
        return FilterMask(record["response"], hz(p), hz(s), ripple_db, attenuation_db, record["rs_ohm"],
                          record["rl_ohm"])
    except MaskError:
        return None


def normalised_mask(mask: FilterMask) -> FilterMask:
    """`mask` moved in frequency so that its reference lies at 1 rad/s (1 / 2 pi Hz), where the search's
    normalised circuits have theirs."""
    ref = mask.reference_hz * 2 * math.pi
    div = lambda e: tuple(x / ref for x in e) if isinstance(e, tuple) else e / ref  # noqa: E731
    return FilterMask(mask.response, div(mask.passband_hz), div(mask.stopband_hz), mask.ripple_db,
                      mask.attenuation_db, mask.source_ohm, mask.load_ohm)


def training_pairs(records: list[dict], per_record: int, seed: int) -> list[tuple[FilterMask, Circuit]]:
    """Up to `per_record` (normalised mask, normalised circuit) pairs per record, levels drawn at random."""
    rng = np.random.default_rng([seed, 11])
    out = []
    for record in records:
        ripples = [r for r, _ in _levels(record["descriptors"]["pass_edge"])]
        atts = [a for a, _ in _levels(record["descriptors"]["stop_edge"])]
        if not ripples or not atts:
            continue
        circuit = record_circuit(record)
        for _ in range(per_record):
            mask = record_mask(record, ripples[int(rng.integers(len(ripples)))], atts[int(rng.integers(len(atts)))])
            if mask is not None:
                out.append((normalised_mask(mask), scale(circuit, freq=1 / (2 * math.pi * mask.reference_hz))))
    return out


def to_graphs(pairs: list[tuple[FilterMask, Circuit]], max_nodes: int) -> list:
    """PyG graphs of the pairs whose circuits fit `max_nodes` (larger ones are left out)."""
    return [graphs.to_data(c, mask_features(m), max_nodes) for m, c in pairs if c.n_nodes <= max_nodes]


def train_prior(cfg: PriorTrainConfig, train: list[dict], val: list[dict], out_dir: Path,
                progress: bool = True, dataset_sha256: str | None = None,
                device: str = "auto") -> tuple[MaskPrior, dict]:
    """Train on `train` records, log the per-term loss on `val`, checkpoint every epoch into `out_dir` (its meta
    records the dataset's SHA256, so a notebook can tell a checkpoint of this dataset and config). Runs on
    `training.resolve_device(device)`: a GPU when torch sees one; the model returned is on the CPU."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    where = resolve_device(device)
    model = MaskPrior(cfg.prior).to(where)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    train_data = to_graphs(training_pairs(train, cfg.masks_per_record, cfg.seed), cfg.prior.max_nodes)
    val_data = to_graphs(training_pairs(val, 1, cfg.seed + 1), cfg.prior.max_nodes)
    history, elapsed = [], 0.0
    for epoch in tqdm(range(cfg.epochs), desc="epochs", disable=not progress or None):
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs)))
        model.train()
        order = torch.randperm(len(train_data), generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch))
        sums = dict.fromkeys(PRIOR_TERMS, 0.0)
        for k in range(0, len(order), cfg.batch_size):
            items = [train_data[i] for i in order[k : k + cfg.batch_size]]
            total, terms = model.loss(Batch.from_data_list(items).to(where))
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            for key, v in terms.items():
                sums[key] += v * len(items)
        elapsed += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "train": {k: v / len(train_data) for k, v in sums.items()},
                        "val": validation(model, val_data, where)})
        checkpoint.save(out_dir, model, {"config": cfg.model_dump(mode="json"), "epoch": epoch + 1,
                                         "history": history, "train_seconds": elapsed, "n_train": len(train_data),
                                         "kind": "mask_prior", "dataset_sha256": dataset_sha256,
                                         "device": str(where), "threads": cfg.threads})
    model.cpu().eval()
    return model, checkpoint.read_meta(out_dir)


@torch.no_grad()
def validation(model: MaskPrior, data: list, device: torch.device | str = "cpu") -> dict[str, float]:
    model.eval()
    sums = dict.fromkeys(PRIOR_TERMS, 0.0)
    for k in range(0, len(data), 256):
        items = data[k : k + 256]
        _, terms = model.loss(Batch.from_data_list(items).to(device))
        for key, v in terms.items():
            sums[key] += v * len(items)
    return {k: v / max(1, len(data)) for k, v in sums.items()}


def is_trained(ckpt_dir: Path, cfg: PriorTrainConfig, dataset_sha256: str) -> bool:
    """Whether `ckpt_dir` holds a finished training of `cfg` on the dataset of that SHA256."""
    try:
        meta = checkpoint.read_meta(ckpt_dir)
        same = PriorTrainConfig.model_validate(meta["config"]) == cfg
    except Exception:  # noqa: BLE001 - a missing or unreadable checkpoint is simply not this training
        return False
    return same and meta.get("dataset_sha256") == dataset_sha256 and meta.get("epoch") == cfg.epochs


def load_prior(ckpt_dir: Path) -> MaskPrior:
    """A trained prior from its checkpoint (weights checked by SHA256)."""
    meta = checkpoint.read_meta(ckpt_dir)
    model = MaskPrior(PriorTrainConfig.model_validate(meta["config"]).prior)
    checkpoint.load_weights(ckpt_dir, model)
    return model.eval()


def with_terminations(circuit: Circuit, mask: FilterMask, r0_ohm: float) -> Circuit | None:
    """A sampled normalised circuit with its terminations set to the mask's (normalised by r0_ohm) and named: the
    R on VIN's one edge is RS, the R from VOUT to ground is RL. None when the sample's terminations do not have
    the mask's shape (a missing, extra or misplaced resistor)."""
    rs, rl = mask.source_ohm / r0_ohm, (None if mask.load_ohm is None else mask.load_ohm / r0_ohm)
    edges = dict(circuit.edges)
    names: dict = {}
    resistors = [k for k, e in edges.items() if e.r_ohm is not None]
    at_vin = [k for k in edges if VIN in k]
    expected = []
    if rs > 0:
        if len(at_vin) != 1 or edges[at_vin[0]].edge_class != "R":
            return None
        edges[at_vin[0]] = Edge(r_ohm=rs)
        names[(*at_vin[0], "R")] = "RS"
        expected.append(at_vin[0])
    if rl is not None:
        if (GND, VOUT) not in edges or edges[(GND, VOUT)].r_ohm is None:
            return None
        e = edges[(GND, VOUT)]
        edges[(GND, VOUT)] = Edge(r_ohm=rl, l_h=e.l_h, c_f=e.c_f)
        names[(GND, VOUT, "R")] = "RL"
        expected.append((GND, VOUT))
    if mask.source_ohm == 0 and mask.load_ohm is None:  # unterminated: one resistor of the filter's own, kept
        expected = [k for k in resistors][:1]
    if sorted(resistors) != sorted(expected):
        return None
    return Circuit(circuit.n_internal, edges, names)


def sample_circuits(model: MaskPrior, mask: FilterMask, count: int, r0_ohm: float, seed: int,
                    temperature: float = 1.0) -> tuple[list[Circuit], int]:
    """`count` samples of the prior for `mask`, as normalised circuits with the mask's terminations, and how many
    samples were drawn in all (the ones whose terminations do not fit are dropped)."""
    spec = mask_features(normalised_mask(mask)).expand(count, -1)
    gen = torch.Generator().manual_seed(seed)
    n_nodes, classes, values = model.sample(spec, temperature, gen)
    out = []
    for n, c, v in zip(n_nodes, classes, values):
        circuit = graphs.from_tensors(int(n), c, v)
        fixed = with_terminations(circuit, mask, r0_ohm)
        if fixed is not None:
            out.append(fixed)
    return out, count


def training_topologies(records: list[dict]) -> set[str]:
    """The topology signatures of the training records (to tell novel designs)."""
    return {topology_signature(record_circuit(r)) for r in records}
