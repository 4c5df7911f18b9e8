"""The KL ablation (notebook 03): train the VAE at several KL weights and seeds, and measure what KL buys.

Each run trains a reduced-size, unconditional VAE on a subset of the training split, then measures on the
validation split (reconstruction loss, KL, topology exactness, active units, silhouette and cluster purity by
family) and on `prior_samples` circuits decoded from z ~ N(0, I) (validity under the strict rules,
uniqueness, novelty against the training topologies). Runs go to worker processes, one thread each.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, Field, field_validator
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from tqdm import tqdm

from circuitlib.analysis.validity import problems
from circuitlib.core.circuit import topology_signature
from circuitlib.learn import decoding, evaluation, graphs, training
from circuitlib.learn.dataset import family_group

COLUMNS = ("kl_weight", "seed", "val_recon_loss", "val_kl", "topology_exact", "active_units", "prior_valid_greedy",
           "prior_valid", "prior_unique", "prior_novel", "silhouette", "cluster_purity", "train_seconds")


class AblationConfig(BaseModel, frozen=True):
    """Notebook 03's parameters. The model and data are reduced so 15 runs fit in 10 minutes on 2 cores."""

    kl_weights: tuple[float, ...] = (0.0, 0.001, 0.005, 0.05, 0.1)
    seeds: int = Field(3, ge=1, le=100)
    epochs: int = Field(16, ge=1, le=10_000)
    n_train: int = Field(2500, ge=16)
    latent_groups: tuple[int, ...] = (2, 2, 4)
    dim: int = Field(48, ge=8, le=1024)
    layers: int = Field(2, ge=1, le=12)
    prior_samples: int = Field(1000, ge=10, le=1_000_000)
    valid_retries: int = Field(4, ge=0, le=100)
    workers: int = Field(2, ge=1, le=256)

    @field_validator("kl_weights")
    @classmethod
    def _weights(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not (0.0 <= w <= 100.0) for w in value):
            raise ValueError("kl_weights must be one or more weights between 0 and 100")
        return value


def active_units(mu: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies across circuits: Var_x E[z|x] > threshold (Burda et al.)."""
    return int((mu.var(axis=0) > threshold).sum())


def cluster_purity(mu: np.ndarray, labels: list[str], seed: int) -> float:
    """k-means with one cluster per label; the share of circuits in their cluster's majority label."""
    k = len(set(labels))
    assign = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(mu)
    labels = np.asarray(labels)
    return float(sum(np.unique(labels[assign == c], return_counts=True)[1].max() for c in set(assign)) / len(labels))


def silhouette(mu: np.ndarray, labels: list[str]) -> float:
    return float(silhouette_score(mu, labels)) if len(set(labels)) > 1 else float("nan")


@torch.no_grad()
def prior_circuits(model, n: int, seed: int, retries: int = 0) -> tuple[list, float]:
    """Circuits decoded from n latents drawn from the prior N(0, I), and the valid share of the greedy decodes.
    With retries > 0, sampling is validity-constrained: a latent whose greedy decode is invalid is decoded again
    by sampling the decoder's own distribution (temperature 1), up to `retries` times, keeping the first valid
    circuit. Every circuit still comes from the same latent; only invalid ones are redrawn."""
    z = torch.randn(n, model.cfg.latent_dim, generator=torch.Generator().manual_seed(seed))
    circuits = [graphs.from_tensors(int(k), c, v) for k, c, v in zip(*model.decoder.generate(z))]
    valid = [not problems(c) for c in circuits]
    greedy_valid = sum(valid) / n
    noise = torch.Generator().manual_seed(seed + 1)
    for _ in range(retries):
        bad = [i for i, ok in enumerate(valid) if not ok]
        if not bad:
            break
        redo = model.decoder.generate(z[bad], temperature=1.0, generator=noise)
        for i, (k, c, v) in zip(bad, zip(*redo)):
            circuits[i] = graphs.from_tensors(int(k), c, v)
            valid[i] = not problems(circuits[i])
    return circuits, greedy_valid


def prior_quality(circuits: list, train_topologies: set[str]) -> dict[str, float]:
    """Share valid under the strict rules; among valid ones, share of distinct topologies and of topologies
    never seen in training."""
    valid = [c for c in circuits if not problems(c)]
    topo = [topology_signature(c) for c in valid]
    n = max(1, len(valid))
    return {"prior_valid": len(valid) / len(circuits), "prior_unique": len(set(topo)) / n,
            "prior_novel": sum(t not in train_topologies for t in topo) / n}


def run_one(cfg: AblationConfig, kl_weight: float, seed: int, records: list[dict]) -> dict:
    """Train one run and measure it; returns one row of kl_ablation.csv."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    train_all = [r for r in records if r["split"] == "train"]
    pick = rng.choice(len(train_all), size=min(cfg.n_train, len(train_all)), replace=False)
    subset = [train_all[i] for i in sorted(pick)] + [r for r in records if r["split"] == "val"]
    tcfg = training.TrainConfig(model={"latent_groups": cfg.latent_groups, "dim": cfg.dim, "encoder_layers": cfg.layers,
                                    "decoder_layers": cfg.layers, "conditional": False},
                             weights={"kl": kl_weight}, epochs=cfg.epochs, seed=seed, threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        model, meta = training.train(tcfg, subset, "ablation", Path(tmp), resume=False, progress=False)
    val = [r for r in records if r["split"] == "val"]
    last = meta["history"][-1]["val"]
    recon = sum(v for k, v in last.items() if k not in ("kl", "total"))
    frame = evaluation.reconstruct(model, val)
    mu = decoding.posterior_means(model, val)
    labels = [family_group(r["family"]) for r in val]
    train_topologies = {train_all[i]["topology"] for i in pick}
    samples, greedy_valid = prior_circuits(model, cfg.prior_samples, seed, cfg.valid_retries)
    row = {"kl_weight": kl_weight, "seed": seed, "val_recon_loss": recon, "val_kl": last["kl"],
           "topology_exact": float(frame["exact"].mean()), "active_units": active_units(mu),
           **prior_quality(samples, train_topologies), "prior_valid_greedy": greedy_valid,
           "silhouette": silhouette(mu, labels), "cluster_purity": cluster_purity(mu, labels, seed),
           "train_seconds": meta["train_seconds"]}
    return row


def run(cfg: AblationConfig, records: list[dict], progress: bool = True) -> "pd.DataFrame":  # noqa: F821
    """Every (kl_weight, seed) run, in `cfg.workers` processes; one row per run, in a fixed order."""
    jobs = [(w, s) for w in cfg.kl_weights for s in range(cfg.seeds)]
    with ProcessPoolExecutor(cfg.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_one, cfg, w, s, records) for w, s in jobs]
        rows = [f.result() for f in tqdm(futures, desc="runs", disable=not progress or None)]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def summary(frame: "pd.DataFrame") -> "pd.DataFrame":  # noqa: F821
    """Mean and standard deviation over seeds, per KL weight (every measured column but the wall time)."""
    cols = [c for c in COLUMNS if c not in ("kl_weight", "seed", "train_seconds")]
    return frame.groupby("kl_weight")[cols].agg(["mean", "std"])


def choose_weight(frame: "pd.DataFrame", min_valid: float = 0.95, min_novel: float = 0.25) -> float | None:
    """The weight with the best mean topology exactness among those whose mean prior validity and novelty
    meet the bars; None when no weight does."""
    means = frame.groupby("kl_weight")[["prior_valid", "prior_novel", "topology_exact"]].mean()
    ok = means[(means.prior_valid >= min_valid) & (means.prior_novel >= min_novel)]
    return float(ok.topology_exact.idxmax()) if len(ok) else None


SEED_KL_WEIGHT = 0.005  # the weight of the seed's "after KL" model


def before_after(frame: "pd.DataFrame", after: float = SEED_KL_WEIGHT) -> "pd.DataFrame":  # noqa: F821
    """The seed's "Before vs After KL" table from measured means ± std: the smallest weight (0: no KL) against
    `after` (by default the seed's own weight)."""
    rows = {"topology exactness (val)": "topology_exact", "reconstruction loss (val)": "val_recon_loss",
            "KL (val)": "val_kl", "active latent units": "active_units",
            "prior samples valid, greedy decoding": "prior_valid_greedy",
            "prior samples valid, validity-constrained": "prior_valid",
            "prior samples unique (of valid)": "prior_unique", "prior samples novel (of valid)": "prior_novel",
            "silhouette by family": "silhouette", "cluster purity by family": "cluster_purity"}
    cell = lambda w, c: "{:.3f} ± {:.3f}".format(*frame[frame.kl_weight == w][c].agg(["mean", "std"]))  # noqa: E731
    before = min(frame.kl_weight)
    label = "before (no KL)" if before == 0 else f"before (KL {before:g})"
    return pd.DataFrame({"metric": list(rows), label: [cell(before, c) for c in rows.values()],
                         f"after (KL {after:g})": [cell(after, c) for c in rows.values()]}).set_index("metric")
