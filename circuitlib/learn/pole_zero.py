"""Predicting a circuit's poles and zeros from its latent code, three ways (notebook 05).

- `fixed_2x2`: the seed's head, always 2 poles and 2 zeros, trained with its Chamfer loss.
- `masked_set`: up to `slots` poles and zeros, each slot with an existence logit, matched to
  the true roots by the Hungarian algorithm.
- `analytic`: decode the circuit (of several decodes, the one that re-encodes closest to the posterior once its
  values are fitted to it, decoding.decode_fitted) and take the generalized eigenvalues of its nodal pencils.

Roots are compared in normalized coordinates: s / omega_ref, with omega_ref = 2 pi f of the
circuit's main frequency, mapped by asinh on each axis so that a root at the origin and roots
decades away both stay finite and comparable. A model never sees omega_ref; it is a yardstick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, Field
from scipy.optimize import linear_sum_assignment
from torch import nn

from circuitlib.analysis.measure import class_from_levels
from circuitlib.core.circuit import BLOCKING, Circuit, structural_problems, topology_signature
from circuitlib.core.records import main_figures
from circuitlib.learn import decoding, evaluation, training
from circuitlib.learn.graphs import values_log10_error
from circuitlib.learn.models import ModelConfig
from circuitlib.sim.mna import limits_of_roots, poles_zeros

METHODS = ("fixed_2x2", "masked_set", "analytic")
UNPOLISHED = "analytic_unpolished"  # an extra row of `compare`: decode_consistent's choice, values as decoded


@dataclass
class Roots:
    """Poles and zeros of one circuit in asinh-normalized coordinates, each (n, 2) as [re, im]."""

    poles: np.ndarray
    zeros: np.ndarray

    @property
    def counts(self) -> tuple[int, int]:
        return len(self.poles), len(self.zeros)


def roots_in_asinh_units(roots_rad_s: list[list[float]] | np.ndarray, omega_ref_rad_s: float) -> np.ndarray:
    """[[re, im], ...] in rad/s to asinh(s / omega_ref) per axis, (n, 2)."""
    arr = np.asarray(roots_rad_s, dtype=float).reshape(-1, 2)
    return np.arcsinh(arr / omega_ref_rad_s)


def record_roots(record: dict, omega_ref_rad_s: float) -> Roots:
    return Roots(*(roots_in_asinh_units(record[k], omega_ref_rad_s) for k in ("poles", "zeros")))


# ---------------------------------------------------------------- what the roots imply


def response_of_roots(roots: Roots) -> str:
    """Response class implied by the roots alone (unit gain), by measure's rule (`class_from_levels`) on |H|
    over a grid spanning the roots, with the exact limits of the rational function (`mna.limits_of_roots`)."""
    p, z = (_snap_origin(np.sinh(r) @ np.array([1, 1j])) for r in (roots.poles, roots.zeros))
    if not len(p) and not len(z):
        return "flat"
    marks = np.abs(np.concatenate([p, z]))
    marks = marks[marks > 0]
    lo, hi = (marks.min() / 1e2, marks.max() * 1e2) if len(marks) else (1e-3, 1e3)
    omega = np.unique(np.concatenate([np.logspace(np.log10(lo), np.log10(hi), int(20 * np.log10(hi / lo)) + 2),
                                      marks, np.abs(z.imag[z.imag != 0])]))

    def mag(w: np.ndarray) -> np.ndarray:
        s = 1j * w[:, None]
        num = np.prod(s - z[None, :], axis=1) if len(z) else np.ones(len(w))
        den = np.prod(s - p[None, :], axis=1) if len(p) else np.ones(len(w))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.abs(num / den)

    h = mag(omega)
    h0, hinf = limits_of_roots(z, p, 0.0)
    peak = np.nanmax(np.concatenate([h[np.isfinite(h)], [h0, hinf]]))
    return class_from_levels(peak, h0, hinf, lambda: np.nanmin(h))


def _snap_origin(roots: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Roots within `tol` of the origin (normalized units, rounding residue of an exact zero) become 0."""
    return np.where(np.abs(roots) < tol, 0.0, roots)


def chamfer(pred: np.ndarray, true: np.ndarray) -> float:
    """Symmetric Chamfer distance between two point sets (mean nearest-neighbour distance each way).
    Against an empty set, each point costs its distance to the origin (the seed's convention)."""
    if not len(pred) and not len(true):
        return 0.0
    if not len(pred) or not len(true):
        pts = pred if len(pred) else true
        return float(np.linalg.norm(pts, axis=1).mean())
    d = np.linalg.norm(pred[:, None, :] - true[None, :, :], axis=2)
    return float(0.5 * (d.min(axis=1).mean() + d.min(axis=0).mean()))


def scores(pred: list[Roots], true: list[Roots], responses: list[str]) -> dict[str, float]:
    """count_acc (both counts exact), mean pole and zero Chamfer, response_acc (class from predicted roots)."""
    return {"count_acc": float(np.mean([p.counts == t.counts for p, t in zip(pred, true)])),
            "pole_chamfer": float(np.mean([chamfer(p.poles, t.poles) for p, t in zip(pred, true)])),
            "zero_chamfer": float(np.mean([chamfer(p.zeros, t.zeros) for p, t in zip(pred, true)])),
            "response_acc": float(np.mean([response_of_roots(p) == r for p, r in zip(pred, responses)]))}


# ---------------------------------------------------------------- the two learned heads


class _Standardize(nn.Module):
    """Fixed affine map of the latent to zero mean and unit variance (statistics of the training latents)."""

    def __init__(self, latents: np.ndarray):
        super().__init__()
        z = torch.as_tensor(latents, dtype=torch.float32)
        self.register_buffer("mean", z.mean(dim=0))
        self.register_buffer("std", z.std(dim=0).clamp(min=1e-6))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.mean) / self.std


def _mlp(latents: np.ndarray, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(_Standardize(latents), nn.Linear(latents.shape[1], hidden), nn.SiLU(),
                         nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, out))


class FixedHead(nn.Module):
    """The seed's head: latent -> exactly 2 poles and 2 zeros."""

    def __init__(self, latents: np.ndarray, hidden: int = 128):
        super().__init__()
        self.net = _mlp(latents, hidden, 8)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(z).view(-1, 2, 2, 2)
        return out[:, 0], out[:, 1]  # poles (B, 2, 2), zeros (B, 2, 2)


class MaskedSetHead(nn.Module):
    """latent -> `slots` candidate poles and zeros, each with an existence logit."""

    def __init__(self, latents: np.ndarray, slots: int, hidden: int = 256):
        super().__init__()
        self.slots = slots
        self.net = _mlp(latents, hidden, 2 * slots * 3)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(z).view(-1, 2, self.slots, 3)
        return out[:, 0], out[:, 1]  # (B, slots, [re, im, logit]) for poles and zeros


def _padded(sets: list[np.ndarray], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Point sets padded to (N, size, 2), with a (N, size) mask of the real points."""
    pts, mask = torch.zeros(len(sets), size, 2), torch.zeros(len(sets), size, dtype=torch.bool)
    for k, a in enumerate(sets):
        pts[k, : len(a)] = torch.as_tensor(a, dtype=torch.float32)
        mask[k, : len(a)] = True
    return pts, mask


def _seed_chamfer_loss(pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The seed's loss: mean distance from each true point to its nearest prediction; an empty target
    penalizes the squared norm of every prediction."""
    nearest = torch.cdist(true, pred).min(dim=2).values  # (B, K)
    n = mask.sum(dim=1)
    matched = (nearest * mask).sum(dim=1) / n.clamp(min=1)
    return torch.where(n > 0, matched, pred.pow(2).sum(dim=(1, 2))).mean()


def _hungarian_loss(pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Existence cross-entropy on every slot plus the L1 distance of matched slots. The matching minimizes
    L1 distance minus log existence probability (as in DETR), per circuit (scipy's linear_sum_assignment)."""
    pos, logit = pred[..., :2], pred[..., 2]
    cost = (torch.cdist(pos.detach(), true, p=1) - nn.functional.logsigmoid(logit.detach())[..., None]).numpy()
    rows, cols, items = [], [], []
    for k, n in enumerate(mask.sum(dim=1).tolist()):
        r, c = linear_sum_assignment(cost[k, :, :n])
        rows += r.tolist()
        cols += c.tolist()
        items += [k] * len(r)
    exist = torch.zeros_like(logit)
    exist[items, rows] = 1.0
    bce = nn.functional.binary_cross_entropy_with_logits(logit, exist)
    if not items:
        return bce
    return bce + (pos[items, rows] - true[items, cols]).abs().sum(dim=1).mean()


def fit_head(method: str, latents: np.ndarray, roots: list[Roots], epochs: int = 60, seed: int = 0,
             batch_size: int = 128, lr: float = 2e-3) -> nn.Module:
    """Train a `fixed_2x2` or `masked_set` head on (latent, roots) pairs with AdamW."""
    if method not in ("fixed_2x2", "masked_set"):
        raise ValueError(f"fit_head trains fixed_2x2 or masked_set, not {method!r}")
    torch.manual_seed(seed)
    slots = max(max(r.counts) for r in roots)
    head = FixedHead(latents) if method == "fixed_2x2" else MaskedSetHead(latents, slots)
    loss_of = _seed_chamfer_loss if method == "fixed_2x2" else _hungarian_loss
    poles_t, poles_m = _padded([r.poles for r in roots], slots)
    zeros_t, zeros_m = _padded([r.zeros for r in roots], slots)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
    z_all = torch.as_tensor(latents, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(roots), generator=gen)
        for k in range(0, len(order), batch_size):
            idx = order[k : k + batch_size]
            poles, zeros = head(z_all[idx])
            loss = loss_of(poles, poles_t[idx], poles_m[idx]) + loss_of(zeros, zeros_t[idx], zeros_m[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    head.eval()
    return head


@torch.no_grad()
def predict(head: nn.Module, latents: np.ndarray) -> list[Roots]:
    """Roots predicted by a trained head; a masked-set slot exists when its probability exceeds 1/2."""
    poles, zeros = head(torch.as_tensor(latents, dtype=torch.float32))
    if isinstance(head, FixedHead):
        return [Roots(p.numpy(), z.numpy()) for p, z in zip(poles, zeros)]
    keep = lambda a: a[a[:, 2] > 0, :2].numpy()  # noqa: E731
    return [Roots(keep(p), keep(z)) for p, z in zip(poles, zeros)]


def analytic_roots(circuit: Circuit, omega_ref_rad_s: float) -> Roots:
    """Exact poles and zeros of a (decoded) circuit from its nodal pencils; none when it cannot be analysed."""
    if any(p.code in BLOCKING for p in structural_problems(circuit)):
        return Roots(np.zeros((0, 2)), np.zeros((0, 2)))
    pz = poles_zeros(circuit)
    as_xy = lambda r: np.stack([r.real, r.imag], axis=1) if len(r) else np.zeros((0, 2))  # noqa: E731
    return Roots(*(roots_in_asinh_units(as_xy(r), omega_ref_rad_s) for r in (pz.poles, pz.zeros)))


def merge_doublets(roots: Roots, rtol: float) -> Roots:
    """Cancel each pole-zero pair closer than rtol times the pole's distance from the imaginary axis.
    For every omega, |j omega - p| >= |Re p|, so |(j omega - z) / (j omega - p)| stays within 1 -+ rtol:
    the doublet changes |H| by at most 0.92 dB (rtol 0.1) anywhere, and is invisible in the response.
    A notch (zeros on the axis beside a sharp pole pair) is far from this bound and is never merged."""
    p = list(np.sinh(roots.poles) @ np.array([1, 1j]))
    z = list(np.sinh(roots.zeros) @ np.array([1, 1j]))
    for pole in list(p):
        d = [abs(pole - zero) for zero in z]
        if d and min(d) <= rtol * abs(pole.real):
            z.pop(int(np.argmin(d)))
            p.remove(pole)
    back = lambda r: np.arcsinh(np.stack([np.real(r), np.imag(r)], axis=1)) if r else np.zeros((0, 2))  # noqa: E731
    return Roots(back(p), back(z))


def complex_pair_share(roots: list[Roots], tol: float = 0.05) -> float:
    """Share of root sets with at least one pole off the real axis (|imag| above `tol`, normalized units):
    the seed's "always two complex poles" pattern shows as this share far above the truth's."""
    return float(np.mean([bool(np.any(np.abs(r.poles[:, 1]) > tol)) for r in roots]))


def count_misses(found: dict, method: str = "analytic") -> dict[str, int]:
    """How `method` miscounts one subset of `compare`'s result: misses in all, and how many of them are
    circuits the decoder rebuilt with another topology (the rest have the topology right, the values not)."""
    missed = [i for i, (a, t) in enumerate(zip(found[method], found["truth"])) if a.counts != t.counts]
    other = sum(not found["same_topology"][i] for i in missed)
    return {"misses": len(missed), "other_topology": other, "right_topology": len(missed) - other}


def fits_2x2_share(roots: list[Roots]) -> float:
    """Share of circuits with exactly 2 poles and 2 zeros: the most a fixed 2x2 head can count right."""
    return float(np.mean([r.counts == (2, 2) for r in roots]))


def omega_ref(f_hz: float) -> float:
    return 2 * math.pi * f_hz


class StudyConfig(BaseModel, frozen=True):
    """Notebook 05's parameters: head training epochs, seed, the doublet tolerance of `merge_doublets`, and for
    `analytic`: how many decodes it chooses from (1: the greedy decode of the posterior mean alone), how many steps
    fit their values to the posterior (decoding.decode_fitted; 0: decoding.decode_consistent, values as decoded), and
    for how many of the closest topologies."""

    head_epochs: int = Field(100, ge=1, le=10_000)
    seed: int = Field(0, ge=0)
    doublet_rtol: float = Field(0.1, ge=0.0, le=0.5)
    decode_candidates: int = Field(24, ge=1, le=256)
    polish_steps: int = Field(100, ge=0, le=10_000)
    fitted_topologies: int = Field(4, ge=1, le=256)  # notebook 05, prototype model: 697/698 seen-topology counts right


def compare(model, records: list[dict], cfg: StudyConfig = StudyConfig()) -> tuple["pd.DataFrame", dict]:  # noqa: F821
    """Fit both heads on the training split's latents and score the three methods on the test split,
    separately for circuits whose topology occurs in training and for held-out topologies.
    Returns the score table (one row per method and subset) and {subset: {method or 'truth': [Roots]}}, plus
    per subset "same_topology": whether each decoded circuit has its original's topology, and the |log10| value
    errors of the decoded circuits with their original's topology, before and after polishing."""
    train_recs = [r for r in records if r["split"] == "train"]
    subsets = evaluation.test_subsets(records)
    ref = lambda r: omega_ref(main_figures(r)[0])  # noqa: E731
    model_ref = lambda r: omega_ref(training.model_f_hz(r, model.cfg))  # noqa: E731 - where decodes have it
    z_train = decoding.posterior_means(model, train_recs)
    roots_train = [record_roots(r, ref(r)) for r in train_recs]
    heads = {m: fit_head(m, z_train, roots_train, cfg.head_epochs, cfg.seed) for m in ("fixed_2x2", "masked_set")}
    rows, found = [], {}
    for subset, recs in subsets.items():
        truth = [record_roots(r, ref(r)) for r in recs]
        z = decoding.posterior_means(model, recs)
        data = training.graphs_of(recs, model.cfg)
        if cfg.polish_steps:
            decoded, raw = decoding.decode_fitted(model, data, cfg.decode_candidates, cfg.seed, cfg.fitted_topologies,
                                               cfg.polish_steps)
        else:
            decoded = raw = decoding.decode_consistent(model, data, cfg.decode_candidates, cfg.seed)
        preds = {m: predict(h, z) for m, h in heads.items()}
        preds["analytic"] = [analytic_roots(c, model_ref(r)) for c, r in zip(decoded, recs)]
        if decoded is not raw:  # decode_consistent's choice with its values as decoded, for comparison
            preds[UNPOLISHED] = [analytic_roots(c, model_ref(r)) for c, r in zip(raw, recs)]
        strict = {m: float(np.mean([a.counts == t.counts for a, t in zip(v, truth)])) for m, v in preds.items()}
        truth = [merge_doublets(x, cfg.doublet_rtol) for x in truth]  # one rule for truth and predictions
        preds = {m: [merge_doublets(x, cfg.doublet_rtol) for x in v] for m, v in preds.items()}
        for m in preds:
            rows.append({"method": m, "subset": subset, "n": len(recs),
                         **scores(preds[m], truth, [r["response"] for r in recs]), "count_acc_strict": strict[m]})
        same = [topology_signature(c) == r["topology"] for c, r in zip(decoded, recs)]
        found[subset] = {"truth": truth, **preds, "same_topology": same, "value_err_decoded": value_errors(raw, recs, model.cfg),
                         "value_err_polished": value_errors(decoded, recs, model.cfg)}
    return pd.DataFrame(rows), found


def value_errors(circuits: list[Circuit], records: list[dict], cfg: ModelConfig) -> np.ndarray:
    """|log10 value error| of every component of the circuits rebuilt with their record's topology, against the
    record's circuit as `cfg`'s model sees it (training.model_circuit)."""
    errs = [values_log10_error(training.model_circuit(r, cfg), c) for c, r in zip(circuits, records)
            if topology_signature(c) == r["topology"]]
    return np.concatenate(errs) if errs else np.zeros(0)


def results_frame(table: "pd.DataFrame") -> "pd.DataFrame":  # noqa: F821
    """pole_zero.csv: one row per method on seen-topology test circuits, held-out-topology figures as
    heldout_topology_* columns."""
    cols = ["count_acc", "pole_chamfer", "zero_chamfer", "response_acc", "count_acc_strict", "n"]
    seen = table[table.subset == "seen topology"].set_index("method")[cols]
    held = table[table.subset == "held-out topology"].set_index("method")[cols].add_prefix("heldout_topology_")
    return seen.join(held).loc[list(METHODS)].reset_index()
