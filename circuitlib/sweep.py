"""Fast AC sweeps: each circuit's H(s) in factored form, evaluated on many frequencies at once.

H(s) = K * prod(s - z_i) / prod(s - p_j). Poles and zeros come once per circuit from the generalized
eigenvalues of its nodal pencils; the gain K from one exact solve. A factored product keeps its relative
accuracy deep in a stopband, where a sum of pole residues would cancel. Every circuit's factored form is
checked against exact solves at a few frequencies across the sweep; a circuit that fails the check (roots
too clustered to separate, say) is swept by exact solves instead, so the result never silently degrades.
"""

from __future__ import annotations

import numpy as np

from circuitlib.circuit import Circuit
from circuitlib.mna import Pencil, _frequency_scale, pencil, response

CHECK_POINTS = 9  # exact solves per circuit, log-spaced over the sweep
CHECK_RTOL = 1e-9  # the factored form must match them this closely
FINITE_TOL = 1e-11  # |mu| below this share of the largest is a root at infinity


def _stack(pencils: list[Pencil]) -> tuple[np.ndarray, ...]:
    """Pole and zero pencils of every circuit, padded to common sizes with decoupled unknowns (identity in the
    conductance part, nothing in the capacitance part: eigenvalue at infinity, no effect on H)."""
    n = max(p.G.shape[0] for p in pencils)
    bsz = len(pencils)
    g, c = np.tile(np.eye(n), (bsz, 1, 1)), np.zeros((bsz, n, n))
    za, zb = np.tile(np.eye(n + 1), (bsz, 1, 1)), np.zeros((bsz, n + 1, n + 1))
    b0, b1, out = np.zeros((bsz, n)), np.zeros((bsz, n)), np.zeros((bsz, n))
    for i, p in enumerate(pencils):
        k = p.G.shape[0]
        g[i, :k, :k], c[i, :k, :k] = p.G, p.C
        b0[i, :k], b1[i, :k], out[i, :k] = p.b0, p.b1, p.c
        za[i, :k, :k], za[i, :k, k], za[i, k, :k], za[i, k, k] = p.G, -p.b0, p.c, 0.0
        zb[i, :k, :k], zb[i, :k, k] = p.C, -p.b1
    return g, c, b0, b1, out, za, zb


def _finite_roots(a: np.ndarray, b: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Finite roots s of det(a + s b) = 0 for a stack of pencils, by shift and invert: the eigenvalues mu of
    (a + sigma b)^-1 b give s = sigma - 1/mu; mu = 0 is a root at infinity. Returns roots and a mask."""
    mu = np.linalg.eigvals(np.linalg.solve(a + sigma[:, None, None] * b, b))
    finite = np.abs(mu) > FINITE_TOL * np.abs(mu).max(axis=1, keepdims=True).clip(min=1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.where(finite, sigma[:, None] - 1.0 / np.where(finite, mu, 1.0), 0.0)
    return roots, finite


def _factored(s: np.ndarray, poles, has_p, zeros, has_z) -> np.ndarray:
    """prod over present zeros (s - z) / prod over present poles (s - p), (B, F); an absent root is a factor 1."""
    out = np.ones((len(poles), len(s)), dtype=complex)
    for k in range(max(poles.shape[1], zeros.shape[1])):
        if k < zeros.shape[1]:
            out *= np.where(has_z[:, k, None], s[None, :] - zeros[:, k, None], 1.0)
        if k < poles.shape[1]:
            out /= np.where(has_p[:, k, None], s[None, :] - poles[:, k, None], 1.0)
    return out


def _exact(g, c, b0, b1, out, s: np.ndarray) -> np.ndarray:
    """Exact H at a few points for the whole stack by dense solves: s is (K,) for all circuits or (B, K)."""
    s = np.broadcast_to(s, (len(g), s.shape[-1]))
    a = g[:, None] + s[:, :, None, None] * c[:, None]
    rhs = b0[:, None] + s[:, :, None] * b1[:, None]
    with np.errstate(all="ignore"):
        x = np.linalg.solve(a, rhs[..., None])[..., 0]
    return np.einsum("bfn,bn->bf", x, out)


def _batch(circuits: list[Circuit], f_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H of every circuit on f_hz, whether each came from its factored form)."""
    pencils = [pencil(c) for c in circuits]
    g, c, b0, b1, out, za, zb = _stack(pencils)
    sigma = np.array([_frequency_scale(p) for p in pencils])
    s_check = 2j * np.pi * np.geomspace(f_hz.min(), f_hz.max(), CHECK_POINTS)
    try:
        poles, has_p = _finite_roots(g, c, sigma)
        zeros, has_z = _finite_roots(za, zb, sigma)
    except np.linalg.LinAlgError:  # a shift landed on a root: every circuit of this chunk is solved exactly
        return np.stack([response(p, 2j * np.pi * f_hz) for p in pencils]), np.zeros(len(pencils), dtype=bool)
    h_sigma = _exact(g, c, b0, b1, out, sigma[:, None].astype(complex))[:, 0]
    shape_sigma = _factored(np.zeros(1, complex), poles - sigma[:, None], has_p, zeros - sigma[:, None], has_z)[:, 0]
    with np.errstate(all="ignore"):
        gain = h_sigma / shape_sigma
        check = gain[:, None] * _factored(s_check, poles, has_p, zeros, has_z)
    exact_check = _exact(g, c, b0, b1, out, s_check)
    with np.errstate(all="ignore"):
        err = np.abs(check - exact_check) / np.abs(exact_check)
    ok = np.isfinite(err).all(axis=1) & (err.max(axis=1, initial=0.0) <= CHECK_RTOL) & np.isfinite(gain)
    s = 2j * np.pi * f_hz
    result = np.empty((len(circuits), len(f_hz)), dtype=complex)
    if ok.any():
        result[ok] = gain[ok, None] * _factored(s, poles[ok], has_p[ok], zeros[ok], has_z[ok])
    for i in np.flatnonzero(~ok):
        result[i] = response(pencils[i], s)
    return result, ok


def sweep_hz(circuits: list[Circuit], f_hz: np.ndarray, chunk: int = 128) -> np.ndarray:
    """H(j 2 pi f) for every circuit and frequency, (B, F) complex, `chunk` circuits at a time. Circuits whose
    factored form misses the exact solves at the check points by more than CHECK_RTOL are solved exactly."""
    return sweep_with_report(circuits, f_hz, chunk)[0]


def sweep_with_report(circuits: list[Circuit], f_hz: np.ndarray, chunk: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """`sweep_hz` plus a (B,) mask of the circuits evaluated from their factored form (the rest: exact solves)."""
    f_hz = np.asarray(f_hz, dtype=float)
    parts = [_batch(circuits[k : k + chunk], f_hz) for k in range(0, len(circuits), chunk)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
