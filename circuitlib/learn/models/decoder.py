"""GraphGPT: a latent-guided autoregressive decoder over nodes.

Step t reads the tokens of nodes 0..t-1 (causal self-attention) and cross-attends to the
context tokens (the latent, split into its groups, plus the specification in the
conditional variant). Its output predicts node t's type (GND, VIN, VOUT, INTERNAL, STOP)
and, for every earlier node j, the 8-way class of edge (j, t) and the normalized
log-values of the components present.
"""

from __future__ import annotations

import torch
from torch import nn

from circuitlib.learn.graphs import CLASS_HAS, LOG_SCALE, MAX_NODES, NODE_TYPES, SPEC_DIM, SPEC_LOG_F

N_CLASSES = CLASS_HAS.shape[0]


class GraphGPTDecoder(nn.Module):
    def __init__(self, latent_groups: tuple[int, ...], dim: int = 96, layers: int = 3, heads: int = 4,
                 conditional: bool = False, max_nodes: int = MAX_NODES, dropout: float = 0.0,
                 values_at_spec_frequency: bool = False, spec_dim: int = SPEC_DIM):
        super().__init__()
        self.groups, self.max_nodes, self.conditional = latent_groups, max_nodes, conditional
        self.relative = conditional and values_at_spec_frequency
        self.latent_tokens = nn.ModuleList(nn.Linear(g, dim) for g in latent_groups)
        self.spec_token = nn.Sequential(nn.Linear(spec_dim, dim), nn.SiLU(), nn.Linear(dim, dim)) if conditional else None
        self.bos = nn.Parameter(torch.zeros(dim))
        self.pos = nn.Embedding(max_nodes + 1, dim)
        self.type_emb = nn.Embedding(len(NODE_TYPES), dim)
        self.class_emb = nn.Embedding(N_CLASSES, dim)
        self.value_proj = nn.Linear(3, dim)
        self.slot = nn.Embedding(max_nodes, dim)  # which earlier node an edge goes to
        layer = nn.TransformerDecoderLayer(dim, heads, 4 * dim, dropout=dropout, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerDecoder(layer, layers)
        self.norm = nn.LayerNorm(dim)
        self.type_head = nn.Linear(dim, len(NODE_TYPES))
        self.pair = nn.Sequential(nn.Linear(3 * dim, dim), nn.SiLU(), nn.Linear(dim, N_CLASSES + 3))

    def context(self, z: torch.Tensor, spec: torch.Tensor | None = None) -> torch.Tensor:
        parts = torch.split(z, list(self.groups), dim=1)
        tokens = [proj(p) for proj, p in zip(self.latent_tokens, parts)]
        if self.conditional:
            tokens.append(self.spec_token(spec))
        return torch.stack(tokens, dim=1)

    def node_tokens(self, types: torch.Tensor, classes: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Token of node t: its type plus a summary of its edges to earlier nodes j < t."""
        n = self.max_nodes
        upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=types.device), diagonal=1)  # (j, t) with j < t
        has = CLASS_HAS.to(classes.device)[classes]
        edge = self.class_emb(classes) + self.value_proj(values * has) + self.slot.weight[:, None, :]
        edge = edge * (upper & (classes > 0)).unsqueeze(-1)
        return self.type_emb(types) + edge.sum(dim=1)

    def value_shift(self, spec: torch.Tensor | None) -> torch.Tensor | float:
        """Normalized log-value offset that turns L and C into their reactance at the specification's frequency
        (log10 of omega L and omega C, up to a constant), so the network only predicts impedance levels and ratios."""
        if not self.relative:
            return 0.0
        log_f_offset = spec[:, SPEC_LOG_F] * 1.5  # log10 f - 3.5, from graphs.spec_vector
        return (log_f_offset[:, None] / LOG_SCALE * torch.tensor([0.0, 1.0, 1.0], device=spec.device))[:, None, None, :]

    def forward(self, z: torch.Tensor, types: torch.Tensor, classes: torch.Tensor, values: torch.Tensor,
                spec: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher forcing. types (B, N), classes (B, N, N), values (B, N, N, 3) ->
        type logits (B, N+1, 5), class logits (B, N, N, 8), values (B, N, N, 3) for pairs (j, t).
        Values in and out are normalized absolute log-values; inside, they may be taken at the spec frequency."""
        bsz, n = types.shape
        shift = self.value_shift(spec)
        tokens = self.node_tokens(types, classes, values + shift)
        x = torch.cat([self.bos.expand(bsz, 1, -1), tokens], dim=1) + self.pos.weight[: n + 1]
        causal = torch.triu(torch.full((n + 1, n + 1), float("-inf"), device=x.device), diagonal=1)
        h = self.norm(self.blocks(x, self.context(z, spec), tgt_mask=causal))
        class_logits, rel_values = self.pairs(h)
        return self.type_head(h), class_logits, rel_values - shift

    def pairs(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge (j, t) from the state that predicts node t (h[t]) and the state after node j (h[j+1])."""
        n = self.max_nodes
        ht = h[:, :n].unsqueeze(1).expand(-1, n, -1, -1)  # [b, j, t] = h[t]
        hj = h[:, 1 : n + 1].unsqueeze(2).expand(-1, -1, n, -1)  # [b, j, t] = h[j + 1]
        out = self.pair(torch.cat([ht, hj, ht * hj], dim=-1))
        return out[..., :N_CLASSES], out[..., N_CLASSES:]

    @torch.no_grad()
    def generate(self, z: torch.Tensor, spec: torch.Tensor | None = None, temperature: float = 0.0,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decode node by node. GND, VIN, VOUT are forced first; then INTERNAL or STOP.
        temperature 0 takes the most likely class; > 0 samples. Returns n_nodes (B,), classes, values."""
        bsz, n, dev = z.shape[0], self.max_nodes, z.device
        types = torch.full((bsz, n), NODE_TYPES.index("STOP"), dtype=torch.long, device=dev)
        classes = torch.zeros(bsz, n, n, dtype=torch.long, device=dev)
        values = torch.zeros(bsz, n, n, 3, device=dev)
        n_nodes = torch.full((bsz,), n, dtype=torch.long, device=dev)
        alive = torch.ones(bsz, dtype=torch.bool, device=dev)
        for t in range(n + 1):
            type_logits, class_logits, value_pred = self.forward(z, types, classes, values, spec)
            if t == n:
                break
            if t < 3:
                chosen = torch.full((bsz,), t, dtype=torch.long, device=dev)
            else:
                logits = type_logits[:, t, [NODE_TYPES.index("INTERNAL"), NODE_TYPES.index("STOP")]]
                pick = _choose(logits, temperature, generator)
                chosen = torch.where(pick == 0, NODE_TYPES.index("INTERNAL"), NODE_TYPES.index("STOP"))
            stop = alive & (chosen == NODE_TYPES.index("STOP"))
            n_nodes[stop] = t
            alive &= ~stop
            types[alive, t] = chosen[alive]
            if t > 0:
                cls = _choose(class_logits[:, :t, t].reshape(-1, N_CLASSES), temperature, generator).view(bsz, t)
                classes[alive, :t, t] = cls[alive]
                values[alive, :t, t] = value_pred[alive, :t, t]
            if not alive.any():
                break
        return n_nodes, classes, values


def _choose(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / temperature, dim=-1).cpu()  # sampled on the CPU generator, on any device
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1).to(logits.device)
