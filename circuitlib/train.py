"""Training and evaluation of the circuit VAE.

Deterministic: batch order and reparameterization noise come from generators seeded by
(seed, epoch, batch), so a run resumed from its last checkpoint retraces an uninterrupted one.
A checkpoint (safetensors + meta.json) is written atomically after every epoch.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch_geometric.data import Batch

from circuitlib import checkpoint, graphs
from circuitlib.circuit import topology_signature
from circuitlib.dataset import circuit_from_record, main_figures
from circuitlib.errors import CheckpointError, CircuitlibError
from circuitlib.measure import measure
from circuitlib.models import CircuitVAE, ModelConfig
from circuitlib.models.vae import LossWeights

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


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """Where training runs. "auto": the GPU when torch sees one (under torchrun, the GPU of this process's
    LOCAL_RANK), else the CPU. "cuda" on a machine without a GPU is an error, not a silent CPU run."""
    if name not in DEVICES:
        raise CircuitlibError(f"device must be one of {', '.join(DEVICES)}, not {name!r}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise CircuitlibError("device 'cuda' asked for, but torch sees no GPU here (torch.cuda.is_available() False)")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())


def graphs_of(records: list[dict], conditional: bool) -> list:
    """PyG graphs of dataset records (with the record's own specification when conditional)."""
    return [graphs.to_data(circuit_from_record(r), graphs.record_spec(r) if conditional else None) for r in records]


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
    from tqdm import tqdm

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    where = resolve_device(device)
    model = CircuitVAE(cfg.model).to(where)
    rank, world = _distributed()
    ids = [where.index] if where.type == "cuda" else None
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids) if world > 1 else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_data = graphs_of([r for r in records if r["split"] == "train"], cfg.model.conditional)
    val_data = graphs_of([r for r in records if r["split"] == "val"], cfg.model.conditional)
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


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def teacher_forced_accuracy(model: CircuitVAE, data: list) -> dict[str, float]:
    """Node type, edge existence and component type accuracy with teacher forcing at the posterior mean."""
    model.eval()
    hits = dict.fromkeys(("node", "exist", "component"), 0)
    counts = dict.fromkeys(hits, 0)
    for k in range(0, len(data), 256):
        batch = Batch.from_data_list(data[k : k + 256])
        mu, _ = model.encode(batch)
        n = model.decoder.max_nodes
        types = model.node_types(batch.n_nodes, n)
        spec = getattr(batch, "spec", None) if model.cfg.conditional else None
        type_logits, class_logits, _ = model.decoder(mu, types, batch.pair_classes, batch.pair_values, spec)
        t = torch.arange(n + 1)
        type_target = torch.cat([types, torch.full((len(types), 1), 4)], dim=1)
        tmask = t[None] <= batch.n_nodes[:, None]
        hits["node"] += int((type_logits.argmax(-1) == type_target)[tmask].sum())
        counts["node"] += int(tmask.sum())
        idx = torch.arange(n)
        real = idx[None] < batch.n_nodes[:, None]
        pmask = real[:, :, None] & real[:, None, :] & (idx[:, None] < idx[None, :])[None]
        pred, true = class_logits.argmax(-1), batch.pair_classes
        hits["exist"] += int(((pred > 0) == (true > 0))[pmask].sum())
        counts["exist"] += int(pmask.sum())
        emask = pmask & (true > 0)
        hits["component"] += int((pred == true)[emask].sum())
        counts["component"] += int(emask.sum())
    return {"node_type_acc": hits["node"] / counts["node"], "edge_existence_acc": hits["exist"] / counts["exist"],
            "component_type_acc": hits["component"] / max(1, counts["component"])}


@torch.no_grad()
def decode_means(model: CircuitVAE, data: list) -> list:
    """Free-running greedy decode of each graph's posterior mean, as Circuits."""
    return decode_consistent(model, data, candidates=1)


def _candidates(model: CircuitVAE, batch, candidates: int, gen: torch.Generator, distances: bool) -> tuple:
    """`candidates` decodes of each graph of `batch` (a list over candidates of lists of Circuits), each one's
    distance sum(((mu' - mu) / sigma)^2) from its posterior when asked ((candidates, graphs), else None),
    and the posterior's mu and sigma. Half the candidates are greedy decodes of the mean and of latent samples,
    half sample the edge classes from the mean."""
    mu, logvar = model.encode(batch)
    sd = torch.exp(0.5 * logvar)
    spec = getattr(batch, "spec", None) if model.cfg.conditional else None
    options, cost = [], []
    for c in range(candidates):
        greedy = c < (candidates + 1) // 2
        z = mu if c == 0 or not greedy else mu + sd * torch.randn(mu.shape, generator=gen)
        decoded = model.decoder.generate(z, spec, temperature=0.0 if greedy else 1.0, generator=gen)
        circuits = [graphs.from_tensors(int(n), cl, v) for n, cl, v in zip(*decoded)]
        options.append(circuits)
        if distances:
            again = Batch.from_data_list([graphs.to_data(circ) for circ in circuits])  # the encoder sees no spec
            cost.append((((model.encode(again)[0] - mu) / sd) ** 2).sum(dim=1))
    return options, torch.stack(cost) if cost else None, mu, sd


@torch.no_grad()
def decode_consistent(model: CircuitVAE, data: list, candidates: int = 24, seed: int = 0) -> list:
    """Several decodes of each graph's posterior (`_candidates`), keeping the one whose own encoding lies closest
    to it. With one candidate this is the greedy decode of the mean, and nothing is re-encoded."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = []
    for k in range(0, len(data), 256):
        batch = Batch.from_data_list(data[k : k + 256])
        options, cost, _, _ = _candidates(model, batch, candidates, gen, distances=candidates > 1)
        best = cost.argmin(dim=0) if cost is not None else torch.zeros(len(options[0]), dtype=torch.long)
        out += [options[int(b)][i] for i, b in enumerate(best)]
    return out


@torch.no_grad()
def decode_fitted(model: CircuitVAE, data: list, candidates: int = 24, seed: int = 0, topologies: int = 2,
                  steps: int = 100) -> tuple[list, list]:
    """decode_consistent with the values fitted before the choice. The candidates are grouped by topology; the
    closest decode of each of the `topologies` closest topologies has its values fitted to the posterior
    (`polish_values`), and the fit that ends closest is kept, so a right topology with imprecise decoded values
    beats a wrong one. When no fit ends inside the posterior, decode_consistent's choice is kept as decoded.
    Returns the fitted choices and, for comparison, decode_consistent's choices (the same candidates)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out, consistent = [], []
    for k in range(0, len(data), 256):
        options, cost, mu, sd = _candidates(model, Batch.from_data_list(data[k : k + 256]), candidates, gen, True)
        starts, owner = [], []
        for i in range(len(mu)):
            best: dict[str, int] = {}
            for c in cost[:, i].argsort().tolist():  # closest first: a topology's first decode is its closest
                best.setdefault(topology_signature(options[c][i]), c)
            starts += [options[c][i] for c in list(best.values())[:topologies]]
            owner += [i] * min(topologies, len(best))
        owner = torch.tensor(owner)
        fitted, distance = polish_values(model, starts, mu[owner], sd[owner], steps)
        for i in range(len(mu)):
            mine = torch.nonzero(owner == i).flatten()
            j = int(mine[distance[mine].argmin()])
            consistent.append(options[int(cost[:, i].argmin())][i])
            out.append(fitted[j] if distance[j] <= model.cfg.latent_dim else consistent[-1])
    return out, consistent


def polish_values(model: CircuitVAE, circuits: list, mu: torch.Tensor, sd: torch.Tensor, steps: int = 100,
                  lr: float = 0.02) -> tuple[list, torch.Tensor]:
    """Fit each circuit's component values (never its topology) to the posterior N(mu, sd^2) it was decoded from:
    Adam on the normalized log-values, minimizing sum(((encode(circuit) - mu) / sd)^2). The encoder reads values
    far more precisely than the decoder writes them, so this is decoding by re-encoding. A circuit takes its fitted
    values only if they end inside the posterior (distance at most the latent dimension, a posterior draw's mean
    distance): a wrong topology cannot get there, and keeps its decoded values.
    Returns the circuits and each one's final distance."""
    model.eval()
    datas = [graphs.to_data(c) for c in circuits]
    batch = Batch.from_data_list(datas)
    has = batch.edge_attr[:, :3]
    sizes = [d.edge_attr.shape[0] // 2 for d in datas]  # to_data lists every edge twice: j->t, then t->j
    starts = np.cumsum([0] + sizes[:-1])
    row = torch.tensor([int(s) + i for s, e in zip(starts, sizes) for i in (*range(e), *range(e))], dtype=torch.long)
    values = torch.zeros(sum(sizes), 3).index_copy(0, row, batch.edge_attr[:, 3:]).requires_grad_(True)
    opt = torch.optim.Adam([values], lr=lr)

    def distance() -> torch.Tensor:
        batch.edge_attr = torch.cat([has, values[row] * has], dim=1)
        return (((model.encode(batch)[0] - mu) / sd) ** 2).sum(dim=1)

    with torch.enable_grad():
        for _ in range(steps):
            (grad,) = torch.autograd.grad(distance().sum(), values)
            values.grad = grad
            opt.step()
    with torch.no_grad():
        final = distance()
    out = []
    for circ, start, size, dist in zip(circuits, starts, sizes, final):
        if dist > model.cfg.latent_dim:
            out.append(circ)
            continue
        tg = graphs.targets(circ)
        j, t = torch.nonzero(tg.classes, as_tuple=True)  # the same order as to_data's edges
        tg.values[j, t] = values.detach()[start : start + size] * graphs.CLASS_HAS[tg.classes[j, t]]
        out.append(graphs.from_tensors(tg.n_nodes, tg.classes, tg.values))
    return out, final


def reconstruct(model: CircuitVAE, records: list[dict]) -> "pd.DataFrame":  # noqa: F821
    """Per record: decode the posterior mean, re-measure it, and compare with the original."""
    import pandas as pd

    decoded = decode_means(model, graphs_of(records, model.cfg.conditional))
    rows = []
    for rec, circ in zip(records, decoded):
        same = topology_signature(circ) == rec["topology"]
        m = measure(circ)
        f0, q0 = main_figures_of(rec)
        f1, q1 = main_figures(m) if m.valid and m.response == rec["response"] else (None, None)
        err = graphs.values_log10_error(circuit_from_record(rec), circ) if same else np.zeros(0)
        rows.append({"id": rec["id"], "family": rec["family"], "exact": same, "valid": m.valid,
                     "f_orig": f0, "f_decoded": f1, "q_orig": q0, "q_decoded": q1,
                     "f_err": abs(f1 - f0) / f0 if f1 else math.inf,
                     "q_err": (abs(q1 - q0) / q0 if q1 else math.inf) if q0 is not None else None,
                     "value_errs": err.tolist()})
    return pd.DataFrame(rows)


def reconstruction_metrics(frame) -> dict[str, float]:
    """Topology exactness, decoded validity, value error and electrical f/q errors from `reconstruct`."""
    if not len(frame):
        return {"n": 0}
    value_errs = [e for errs in frame["value_errs"] for e in errs]
    q_err = frame["q_err"].dropna()
    return {"n": len(frame), "topology_exact": float(frame["exact"].mean()), "decoded_valid": float(frame["valid"].mean()),
            "median_abs_log10_value_err": float(np.median(value_errs)) if value_errs else math.inf,
            "median_rel_f_err": float(frame["f_err"].median()),
            "median_rel_q_err": float(q_err.median()) if len(q_err) else None}


def main_figures_of(record: dict) -> tuple[float | None, float | None]:
    if record["response"] in ("lowpass", "highpass"):
        return record["fc_hz"], record["q_pole"]
    return record["f0_hz"], record["q"]


def test_subsets(records: list[dict]) -> dict[str, list[dict]]:
    """The test split in two: circuits whose topology occurs in training ("seen topology") and circuits whose
    topology never does ("held-out topology": the reserved topologies plus random ones drawn only once)."""
    train_topologies = {r["topology"] for r in records if r["split"] == "train"}
    test = [r for r in records if r["split"] == "test"]
    return {"seen topology": [r for r in test if r["topology"] in train_topologies],
            "held-out topology": [r for r in test if r["topology"] not in train_topologies]}


def heldout_metrics(model: CircuitVAE, records: list[dict]) -> tuple[dict[str, float], "pd.DataFrame"]:  # noqa: F821
    """Every acceptance metric on the test split (see `test_subsets`): seen-topology circuits (main) and
    held-out-topology circuits (prefixed heldout_topology_), plus the per-record reconstruction frame."""
    import pandas as pd

    subsets = test_subsets(records)
    seen, unseen = subsets["seen topology"], subsets["held-out topology"]
    frame_seen, frame_unseen = reconstruct(model, seen), reconstruct(model, unseen)
    out = {"heldout_n": len(seen)}
    out.update(teacher_forced_accuracy(model, graphs_of(seen, model.cfg.conditional)))
    out.update({k: v for k, v in reconstruction_metrics(frame_seen).items() if k != "n"})
    out.update({f"heldout_topology_{k}": v for k, v in reconstruction_metrics(frame_unseen).items()})
    frame = pd.concat([frame_seen.assign(topology="seen"), frame_unseen.assign(topology="held out")])
    return out, frame


def record_metrics(ckpt_dir: Path, metrics: dict) -> dict:
    """Store evaluation metrics in meta.json (atomically), keeping every other field."""
    import json

    from circuitlib.dataset import atomic_write_bytes

    meta = checkpoint.read_meta(ckpt_dir)
    meta["metrics"] = metrics
    atomic_write_bytes(Path(ckpt_dir) / checkpoint.META, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
    return meta


@torch.no_grad()
def posterior_means(model: CircuitVAE, records: list[dict]) -> np.ndarray:
    """Encoder means of `records`, (n, latent_dim)."""
    model.eval()
    data = graphs_of(records, model.cfg.conditional)
    return np.concatenate([model.encode(Batch.from_data_list(data[k : k + 256]))[0].numpy()
                           for k in range(0, len(data), 256)])


def parameters_digest(model: CircuitVAE) -> str:
    """SHA256 of every parameter's bytes, in order: equal digests mean identical weights."""
    import hashlib

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
