"""The mask-conditioned prior p(circuit | mask): the GraphGPT decoder with the mask as its only context.

There is no encoder and no latent: the decoder's latent token is a constant, and the normalised mask (`mask_features`)
is the context every node attends to. A circuit is normalised as the search normalises it: frequencies over the mask's
reference (its passband edge, or a band's geometric centre), impedances over the source resistance (the load with an
ideal source), so the prototype's values do not depend on the absolute frequency or impedance level. Terminations are
fixed edges of the graph: an R from VIN to the first node, an R from VOUT to ground.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pydantic import BaseModel, Field
from torch import nn

from circuitlib.analysis.mask import FilterMask
from circuitlib.core.records import FILTER_RESPONSES
from circuitlib.learn.models.decoder import GraphGPTDecoder
from circuitlib.learn.models.vae import CircuitVAE, reconstruction_terms

MASK_DIM = len(FILTER_RESPONSES) + 4 + 2 + 3


def mask_features(mask: FilterMask) -> torch.Tensor:
    """The normalised mask as model input: response one-hot; log10 of the passband and stopband edges over the
    reference (a single edge repeated); log10 ripple and attenuation / 50 dB; ideal source, open load, log10 RL/RS."""
    p, s = np.atleast_1d(mask.passband_hz), np.atleast_1d(mask.stopband_hz)
    ref = mask.reference_hz
    edges = [math.log10(x / ref) for x in (p[0], p[-1], s[0], s[-1])]
    ratio = (mask.load_ohm / mask.source_ohm if mask.load_ohm is not None and mask.source_ohm > 0 else 1.0)
    out = [float(mask.response == r) for r in FILTER_RESPONSES] + edges
    out += [math.log10(mask.ripple_db), mask.attenuation_db / 50.0]
    out += [float(mask.source_ohm == 0), float(mask.load_ohm is None), math.log10(ratio)]
    return torch.tensor(out, dtype=torch.float32)


class PriorConfig(BaseModel, frozen=True):
    """Architecture of the prior."""

    dim: int = Field(64, ge=8, le=1024)
    layers: int = Field(3, ge=1, le=12)
    heads: int = Field(4, ge=1, le=16)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    max_nodes: int = Field(18, ge=4, le=64)  # GND, VIN, VOUT and up to max_nodes - 3 internal nodes


class MaskPrior(nn.Module):
    def __init__(self, cfg: PriorConfig):
        super().__init__()
        self.cfg = cfg
        self.decoder = GraphGPTDecoder((1,), cfg.dim, cfg.layers, cfg.heads, conditional=True,
                                       max_nodes=cfg.max_nodes, dropout=cfg.dropout, spec_dim=MASK_DIM)

    def _z(self, n: int, device) -> torch.Tensor:
        return torch.zeros(n, 1, device=device)

    def loss(self, data, value_weight: float = 3.0) -> tuple[torch.Tensor, dict[str, float]]:
        """Teacher-forced loss of a PyG batch whose graphs carry `spec` (their mask's features)."""
        types = CircuitVAE.node_types(data.n_nodes, self.cfg.max_nodes)
        out = self.decoder(self._z(len(data.n_nodes), data.spec.device), types, data.pair_classes,
                           data.pair_values, data.spec)
        terms = reconstruction_terms(data, types, *out, "l1")
        total = terms["node"] + terms["edge"] + value_weight * terms["value"] + terms["connectivity"]
        return total, {k: float(v.detach()) for k, v in terms.items()}

    @torch.no_grad()
    def sample(self, spec: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None):
        """Decode one circuit per row of `spec` (n_nodes, classes, normalized log-values)."""
        return self.decoder.generate(self._z(len(spec), spec.device), spec, temperature, generator)
