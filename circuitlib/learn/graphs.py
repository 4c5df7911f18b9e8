"""Circuits as model tensors, and back.

Nodes are put in canonical order (GND, VIN, VOUT, internal nodes in canonical order),
so isomorphic circuits give the same decoder targets. Component values are log10,
centred and scaled per kind, so every regression target is of order 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import Data

from circuitlib.core.circuit import Circuit, Edge, canonical_order
from circuitlib.core.records import EDGE_CLASSES

NODE_TYPES = ("GND", "VIN", "VOUT", "INTERNAL", "STOP")
KINDS = ("R", "L", "C")
LOG_CENTER = torch.tensor([3.0, -3.0, -7.0])  # log10 of 1 kohm, 1 mH, 100 nF
LOG_SCALE = torch.tensor([1.5, 1.5, 2.0])
CLASS_HAS = torch.tensor([[("R" in c), ("L" in c), ("C" in c)] for c in EDGE_CLASSES], dtype=torch.float32)
MAX_NODES = 6  # GND, VIN, VOUT and up to 3 internal nodes
FIELDS = ("r_ohm", "l_h", "c_f")


def edge_class_index(edge: Edge | None) -> int:
    return EDGE_CLASSES.index(edge.edge_class) if edge else 0


def scaled_log_value(kind_index: int, value: float) -> float:
    """log10 of a value of kind R, L or C (index 0, 1, 2), centred and scaled to order 1 (a regression target)."""
    return (math.log10(value) - float(LOG_CENTER[kind_index])) / float(LOG_SCALE[kind_index])


def denormalize(norm: torch.Tensor) -> torch.Tensor:
    """(..., 3) normalized log-values to SI values."""
    return 10.0 ** (norm * LOG_SCALE + LOG_CENTER)


@dataclass
class Targets:
    """Decoder targets of one circuit in canonical node order."""

    n_nodes: int
    classes: torch.Tensor  # (MAX_NODES, MAX_NODES) long, class of pair (j, t), j < t
    values: torch.Tensor  # (MAX_NODES, MAX_NODES, 3) normalized log-values, 0 where absent


def targets(circuit: Circuit, max_nodes: int = MAX_NODES) -> Targets:
    order = canonical_order(circuit)
    if len(order) > max_nodes:
        raise ValueError(f"circuit has {len(order)} nodes; the model handles at most {max_nodes}")
    pos = {node: i for i, node in enumerate(order)}
    classes = torch.zeros(max_nodes, max_nodes, dtype=torch.long)
    values = torch.zeros(max_nodes, max_nodes, 3)
    for (a, b), edge in circuit.edges.items():
        j, t = sorted((pos[a], pos[b]))
        classes[j, t] = edge_class_index(edge)
        for k, field in enumerate(FIELDS):
            v = getattr(edge, field)
            if v is not None:
                values[j, t, k] = scaled_log_value(k, v)
    return Targets(len(order), classes, values)


def to_data(circuit: Circuit, spec: torch.Tensor | None = None, max_nodes: int = MAX_NODES) -> Data:
    """A PyG graph for the encoder (both edge directions) carrying the decoder targets as attributes."""
    tg = targets(circuit, max_nodes)
    x = torch.zeros(tg.n_nodes, 4)
    x[torch.arange(tg.n_nodes), torch.clamp(torch.arange(tg.n_nodes), max=3)] = 1.0
    j, t = torch.nonzero(tg.classes, as_tuple=True)
    has = CLASS_HAS[tg.classes[j, t]]
    attr = torch.cat([has, tg.values[j, t]], dim=1)
    data = Data(x=x, edge_index=torch.cat([torch.stack([j, t]), torch.stack([t, j])], dim=1),
                edge_attr=torch.cat([attr, attr], dim=0))
    data.pair_classes = tg.classes.unsqueeze(0)
    data.pair_values = tg.values.unsqueeze(0)
    data.n_nodes = torch.tensor([tg.n_nodes])
    if spec is not None:
        data.spec = spec.unsqueeze(0)
    return data


def from_tensors(n_nodes: int, classes: torch.Tensor, values: torch.Tensor) -> Circuit:
    """A Circuit from decoded node count, pair classes and normalized log-values (canonical order)."""
    si = denormalize(values)
    edges = {}
    for t in range(n_nodes):
        for j in range(t):
            cls = EDGE_CLASSES[int(classes[j, t])]
            if cls == "none":
                continue
            parts = {f: float(si[j, t, k]) for k, (kind, f) in enumerate(zip(KINDS, FIELDS)) if kind in cls}
            edges[(j, t)] = Edge(**parts)
    return Circuit(n_nodes - 3, edges)


RESPONSE_CODES = ("lowpass", "highpass", "bandpass", "bandstop", "any")


def spec_vector(response: str, f_hz: float, q: float | None) -> torch.Tensor:
    """Specification features: response one-hot, log10 f centred, log10 q and a has-q flag."""
    onehot = [1.0 if response == r else 0.0 for r in RESPONSE_CODES]
    return torch.tensor(onehot + [(math.log10(f_hz) - 3.5) / 1.5, math.log10(q) if q else 0.0, float(q is not None)])


SPEC_DIM = len(RESPONSE_CODES) + 3
SPEC_LOG_F = len(RESPONSE_CODES)  # index of (log10 f - 3.5) / 1.5 in a spec vector


def values_log10_error(a: Circuit, b: Circuit) -> np.ndarray:
    """|log10 value error| of every component of `a` that `b` has at the same (canonical) place."""
    ta, tb = targets(a), targets(b)
    mask = (CLASS_HAS[ta.classes] * CLASS_HAS[tb.classes]).bool()
    err = (ta.values - tb.values).abs() * LOG_SCALE
    return err[mask].numpy()
