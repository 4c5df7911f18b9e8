"""Component-aware message passing (torch-geometric): separate transforms for R, L and C,
each modulated by the component's log-value, pooled into the mean and log-variance of z."""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import MessagePassing, global_add_pool, global_mean_pool


class ComponentConv(MessagePassing):
    """x_i' = W_root x_i + sum_j sum_{k in R,L,C} has_k(ij) * W_k x_j * (1 + tanh(a_k * v_k(ij) + b_k))."""

    def __init__(self, dim: int):
        super().__init__(aggr="add")
        self.root = nn.Linear(dim, dim)
        self.kind = nn.ModuleList(nn.Linear(dim, dim, bias=False) for _ in range(3))
        self.value = nn.Linear(3, 3 * dim)
        self.dim = dim

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        return self.root(x) + self.propagate(edge_index, x=x, edge_attr=edge_attr)

    def message(self, x_j: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        has, logv = edge_attr[:, :3], edge_attr[:, 3:]
        gates = torch.tanh(self.value(logv)).view(-1, 3, self.dim)
        out = torch.zeros_like(x_j)
        for k, lin in enumerate(self.kind):
            out = out + has[:, k : k + 1] * lin(x_j) * (1 + gates[:, k])
        return out


class CircuitEncoder(nn.Module):
    """Node types -> message passing -> node and edge pooling -> (mu, logvar)."""

    def __init__(self, latent_dim: int, dim: int = 96, layers: int = 3):
        super().__init__()
        self.embed = nn.Linear(4, dim)
        self.convs = nn.ModuleList(ComponentConv(dim) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(layers))
        self.edge_mlp = nn.Sequential(nn.Linear(2 * dim + 6, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.head = nn.Sequential(nn.Linear(5 * dim, 2 * dim), nn.SiLU(), nn.Linear(2 * dim, 2 * latent_dim))

    def forward(self, data) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.embed(data.x)
        for conv, norm in zip(self.convs, self.norms):
            h = h + nn.functional.silu(norm(conv(h, data.edge_index, data.edge_attr)))
        src, dst = data.edge_index
        e = self.edge_mlp(torch.cat([h[src] + h[dst], h[src] * h[dst], data.edge_attr], dim=1))
        edge_batch = data.batch[src]
        n_graphs = int(data.num_graphs)
        fixed = torch.stack([h[data.ptr[:-1] + k] for k in range(3)], dim=1).flatten(1)  # GND, VIN, VOUT states
        pooled = torch.cat([global_mean_pool(h, data.batch, n_graphs), fixed,
                            global_add_pool(e, edge_batch, n_graphs) / 4], dim=1)
        mu, logvar = self.head(pooled).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 6.0)
