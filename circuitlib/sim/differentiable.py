"""The batched, differentiable nodal solver (torch): the same stamps as `mna.pencil` (`stamping`), with
gradients flowing to the element values, for value optimisation and sensitivities. It runs where its values are: on
a GPU when they are put there (`resolve_device`), on the CPU by default."""

from __future__ import annotations

import os

import numpy as np
import torch

from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import CircuitlibError
from circuitlib.sim import stamping

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """Where torch work runs (the solver here, training above). "auto": the GPU when torch sees one (under torchrun,
    the GPU of this process's LOCAL_RANK), else the CPU. "cuda" on a machine without a GPU is an error, not a silent
    CPU run."""
    if name not in DEVICES:
        raise CircuitlibError(f"device must be one of {', '.join(DEVICES)}, not {name!r}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise CircuitlibError("device 'cuda' asked for, but torch sees no GPU here (torch.cuda.is_available() False)")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())


def torch_matrices(st: stamping.Stamps, values: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(G, C, b0, b1, out) of a batch as tensors, from `stamping.stamp`'s pattern and element `values` (E,):
    the same numbers as `stamping.matrices`, with gradients flowing to `values`."""
    dev = values.device
    idx = lambda a: torch.as_tensor(a, device=dev)  # noqa: E731
    v = values[idx(st.element)]
    power = idx(st.power)
    stamped = idx(st.sign).to(values.dtype) * torch.where(power == -1, 1.0 / v, torch.where(power == 1, v, v ** 0))
    n = st.full_size
    full = []
    for mask in (st.in_g, ~st.in_g):
        m = torch.zeros(st.n_circuits, n, n, dtype=values.dtype, device=dev)
        full.append(m.index_put((idx(st.circuit[mask]), idx(st.row[mask]), idx(st.col[mask])), stamped[idx(mask)],
                                accumulate=True))
    g_full, c_full = full
    pad = np.arange(n - 1)[None, :] >= st.unknowns[:, None]
    g = g_full[:, 1:, 1:] + torch.as_tensor(pad[:, :, None] * np.eye(n - 1)[None], dtype=values.dtype, device=dev)
    out = torch.zeros(st.n_circuits, n - 1, dtype=values.dtype, device=dev)
    out[:, 0] = 1.0
    return g, c_full[:, 1:, 1:], -g_full[:, 1:, 0], -c_full[:, 1:, 0], out


def batch_response(g: torch.Tensor, c: torch.Tensor, b0: torch.Tensor, b1: torch.Tensor,
                   out: torch.Tensor, omega_rad_s: torch.Tensor) -> torch.Tensor:
    """H(j omega) for every circuit and frequency: (B, F) complex, differentiable."""
    s = 1j * omega_rad_s.to(device=g.device, dtype=torch.complex128)[None, :, None, None]
    a = g.to(torch.complex128)[:, None] + s * c.to(torch.complex128)[:, None]
    rhs = b0.to(torch.complex128)[:, None] + s[..., 0] * b1.to(torch.complex128)[:, None]
    scale = 1.0 / a.abs().amax(dim=-1).clamp_min(1e-300)
    x = torch.linalg.solve(a * scale[..., None], (rhs * scale)[..., None])[..., 0]
    return (x * out.to(torch.complex128)[:, None]).sum(-1)


def batch_response_hz(circuits: list[Circuit], f_hz: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Exact responses of many circuits on one frequency grid through the torch solver, (B, F) complex, computed on
    `device` ("cpu", "cuda" or "auto": `resolve_device`).

    >>> from circuitlib.core.circuit import Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})
    >>> np.round(np.abs(batch_response_hz([rc], np.array([1 / (2 * np.pi * 1e-3)]))) ** 2, 12).tolist()
    [[0.5]]
    """
    where = resolve_device(device)
    st = stamping.stamp(circuits)
    mats = torch_matrices(st, torch.as_tensor(st.values, dtype=torch.float64, device=where))
    omega = torch.as_tensor(2 * np.pi * np.asarray(f_hz, dtype=float), device=where)
    return batch_response(*mats, omega).cpu().numpy()
