"""The graph VAE: a component-aware GNN encoder and a latent-guided autoregressive decoder."""

from circuitlib.learn.models.decoder import GraphGPTDecoder
from circuitlib.learn.models.encoder import CircuitEncoder
from circuitlib.learn.models.vae import CircuitVAE, ModelConfig

__all__ = ["CircuitEncoder", "GraphGPTDecoder", "CircuitVAE", "ModelConfig"]
