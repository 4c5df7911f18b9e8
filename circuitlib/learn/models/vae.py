"""The VAE: encoder, reparameterization, decoder, and the per-term loss."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, Field, field_validator, model_validator
from torch import nn

from circuitlib.learn.graphs import CLASS_HAS, NODE_TYPES
from circuitlib.learn.models.decoder import GraphGPTDecoder
from circuitlib.learn.models.encoder import CircuitEncoder


class ModelConfig(BaseModel, frozen=True):
    """Architecture. latent_groups is the hierarchical split [topology | values | transfer function]."""

    latent_groups: tuple[int, ...] = (2, 2, 4)
    dim: int = Field(96, ge=8, le=1024)
    encoder_layers: int = Field(3, ge=1, le=12)
    decoder_layers: int = Field(3, ge=1, le=12)
    heads: int = Field(4, ge=1, le=16)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    conditional: bool = False
    values_at_spec_frequency: bool = False  # conditional only: predict L and C as reactances at the spec's f
    prototype: bool = False  # conditional only: read and write prototypes (learn.prototype), denormalised to the spec

    @field_validator("latent_groups")
    @classmethod
    def _groups(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or len(value) > 8 or any(g < 1 or g > 256 for g in value):
            raise ValueError("latent_groups must be 1 to 8 group sizes, each from 1 to 256")
        return value

    @model_validator(mode="after")
    def _heads_divide_dim(self) -> "ModelConfig":
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be a multiple of heads ({self.heads})")
        if self.prototype and (not self.conditional or self.values_at_spec_frequency):
            raise ValueError("prototype needs conditional, and replaces values_at_spec_frequency")
        return self

    @property
    def latent_dim(self) -> int:
        return sum(self.latent_groups)


class LossWeights(BaseModel, frozen=True):
    """Weight of each loss term. value_loss "l1" fits the median log-value (the metric reported), "mse" the mean."""

    node: float = 1.0
    edge: float = 1.0
    value: float = 3.0
    connectivity: float = 5.0
    kl: float = 0.005
    value_loss: Literal["mse", "l1"] = "l1"


class CircuitVAE(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = CircuitEncoder(cfg.latent_dim, cfg.dim, cfg.encoder_layers)
        self.decoder = GraphGPTDecoder(cfg.latent_groups, cfg.dim, cfg.decoder_layers, cfg.heads, cfg.conditional,
                                       dropout=cfg.dropout, values_at_spec_frequency=cfg.values_at_spec_frequency)

    def encode(self, data) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(data)

    @staticmethod
    def node_types(n_nodes: torch.Tensor, max_nodes: int) -> torch.Tensor:
        t = torch.arange(max_nodes, device=n_nodes.device).expand(len(n_nodes), -1)
        types = torch.where(t < 3, t, torch.full_like(t, NODE_TYPES.index("INTERNAL")))
        return torch.where(t < n_nodes[:, None], types, torch.full_like(t, NODE_TYPES.index("STOP")))

    def forward(self, data, weights: LossWeights, generator: torch.Generator | None = None,
                sample: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss (so that DistributedDataParallel, which wraps forward, synchronizes its gradients)."""
        return self.loss(data, weights, generator, sample)

    def loss(self, data, weights: LossWeights, generator: torch.Generator | None = None,
             sample: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and its terms (node, edge, value, connectivity, kl) for a PyG batch."""
        mu, logvar = self.encode(data)
        # the noise is drawn on the CPU generator and moved: a run draws the same noise on any device
        eps = torch.randn(mu.shape, generator=generator).to(mu.device) if sample else torch.zeros_like(mu)
        z = mu + eps * torch.exp(0.5 * logvar)
        n = self.decoder.max_nodes
        types = self.node_types(data.n_nodes, n)
        spec = getattr(data, "spec", None) if self.cfg.conditional else None
        type_logits, class_logits, values = self.decoder(z, types, data.pair_classes, data.pair_values, spec)
        terms = reconstruction_terms(data, types, type_logits, class_logits, values, weights.value_loss)
        terms["kl"] = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()
        total = sum(getattr(weights, k) * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}


def reconstruction_terms(data, types, type_logits, class_logits, values, value_loss: str) -> dict[str, torch.Tensor]:
    """The decoder's loss terms (node, edge, value, connectivity) under teacher forcing, for a PyG batch."""
    bsz, n = types.shape
    dev = types.device
    t = torch.arange(n + 1, device=dev).expand(bsz, -1)
    type_target = torch.cat([types, torch.full((bsz, 1), NODE_TYPES.index("STOP"), device=dev)], dim=1)
    type_mask = t <= data.n_nodes[:, None]
    node = nn.functional.cross_entropy(type_logits[type_mask], type_target[type_mask])
    idx = torch.arange(n, device=dev)
    real = (idx[None, :] < data.n_nodes[:, None])  # (B, N)
    pair_mask = real[:, :, None] & real[:, None, :] & (idx[:, None] < idx[None, :])[None]
    edge = nn.functional.cross_entropy(class_logits[pair_mask], data.pair_classes[pair_mask])
    present = CLASS_HAS.to(dev)[data.pair_classes].bool() & pair_mask[..., None]
    fit = nn.functional.l1_loss if value_loss == "l1" else nn.functional.mse_loss
    value = fit(values[present], data.pair_values[present]) if present.any() else values.sum() * 0
    p_none = torch.softmax(class_logits, dim=-1)[..., 0]
    sym = torch.where(pair_mask, p_none, torch.ones_like(p_none))
    sym = sym * sym.transpose(1, 2)  # pair (j, t) counted for both of its nodes
    isolated = torch.where(real, sym.prod(dim=2), torch.zeros_like(sym[..., 0]))
    connectivity = -torch.log1p(-isolated.clamp(max=1 - 1e-6))[real].mean()
    return {"node": node, "edge": edge, "value": value, "connectivity": connectivity}
