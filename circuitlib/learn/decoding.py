"""Decoding: circuits from the VAE's latents, and the posterior means of records."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Batch

from circuitlib.core.circuit import topology_signature
from circuitlib.learn import graphs
from circuitlib.learn.models import CircuitVAE
from circuitlib.learn.training import graphs_of


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



@torch.no_grad()
def posteriors(model: CircuitVAE, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Encoder means and standard deviations of `records`, each (n, latent_dim)."""
    model.eval()
    data = graphs_of(records, model.cfg)
    parts = [model.encode(Batch.from_data_list(data[k : k + 256])) for k in range(0, len(data), 256)]
    return (np.concatenate([mu.numpy() for mu, _ in parts]),
            np.concatenate([torch.exp(0.5 * logvar).numpy() for _, logvar in parts]))


def posterior_means(model: CircuitVAE, records: list[dict]) -> np.ndarray:
    """Encoder means of `records`, (n, latent_dim)."""
    return posteriors(model, records)[0]
