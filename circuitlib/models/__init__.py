"""The graph VAE: a component-aware GNN encoder and a latent-guided autoregressive decoder."""

from circuitlib.models.decoder import GraphGPTDecoder
from circuitlib.models.encoder import CircuitEncoder
from circuitlib.models.vae import CircuitVAE, ModelConfig

__all__ = ["CircuitEncoder", "GraphGPTDecoder", "CircuitVAE", "ModelConfig"]
