"""Fast AC sweeps: each circuit's H(s) in factored form, evaluated on many frequencies at once.

H(s) = K * prod(s - z_i) / prod(s - p_j). Poles and zeros come once per circuit from the generalized
eigenvalues of its nodal pencils; the gain K from one exact solve. A factored product keeps its relative
accuracy deep in a stopband, where a sum of pole residues would cancel. Every circuit's factored form is
checked against exact solves at a few frequencies across the sweep; a circuit that fails the check (roots
too clustered to separate, say) is swept by exact solves instead, so the result never silently degrades.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circuitlib.circuit import Circuit
from circuitlib.mna import _finite_eigs, _frequency_scale, natural_order, pencil, response

CHECK_POINTS = 9  # exact solves per circuit, log-spaced over the sweep
CHECK_RTOL = 1e-9  # the factored form must match them this closely


@dataclass
class Factored:
    """H(s) = gain * prod(s - zeros) / prod(s - poles), s in rad/s; `exact` when the form failed its check."""

    gain: complex
    poles: np.ndarray
    zeros: np.ndarray
    exact: bool = False


def _roots(circuit: Circuit) -> tuple[np.ndarray, np.ndarray]:
    p = pencil(circuit)
    w = _frequency_scale(p)
    order = natural_order(circuit)
    n = p.G.shape[0]
    a, b = np.zeros((n + 1, n + 1)), np.zeros((n + 1, n + 1))
    a[:n, :n], a[:n, n], a[n, :n] = p.G, -p.b0, p.c
    b[:n, :n], b[:n, n] = p.C, -p.b1
    return _finite_eigs(p.G, p.C, order, w), _finite_eigs(a, b, order, w)


def _product(s: np.ndarray, poles: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """prod(s - zeros) / prod(s - poles), pairing each zero with a pole to keep magnitudes moderate."""
    out = np.ones(s.shape, dtype=complex)
    for k in range(max(len(poles), len(zeros))):
        num = s - zeros[k] if k < len(zeros) else 1.0
        den = s - poles[k] if k < len(poles) else 1.0
        out *= num / den
    return out


def factor(circuit: Circuit, f_hz: np.ndarray) -> Factored:
    """The factored H of one circuit, checked at CHECK_POINTS frequencies spanning `f_hz`."""
    p = pencil(circuit)
    s_check = 2j * np.pi * np.geomspace(np.min(f_hz), np.max(f_hz), CHECK_POINTS)
    exact = response(p, s_check)
    try:
        poles, zeros = _roots(circuit)
    except (np.linalg.LinAlgError, ValueError):
        return Factored(0j, np.zeros(0), np.zeros(0), exact=True)
    shape = _product(s_check, poles, zeros)
    ref = int(np.argmax(np.abs(exact)))
    if not np.all(np.isfinite(exact)) or exact[ref] == 0 or shape[ref] == 0 or not np.all(np.isfinite(shape)):
        return Factored(0j, poles, zeros, exact=True)
    gain = exact[ref] / shape[ref]
    err = np.abs(gain * shape - exact) / np.maximum(np.abs(exact), 1e-300)
    return Factored(gain, poles, zeros, exact=bool(err.max() > CHECK_RTOL))


def sweep_hz(circuits: list[Circuit], f_hz: np.ndarray, chunk: int = 128) -> np.ndarray:
    """H(j 2 pi f) for every circuit and frequency, (B, F) complex. Circuits are evaluated `chunk` at a time
    from their factored forms (padded root arrays); circuits whose form failed its check are solved exactly."""
    f_hz = np.asarray(f_hz, dtype=float)
    s = 2j * np.pi * f_hz
    out = np.empty((len(circuits), len(f_hz)), dtype=complex)
    forms = [factor(c, f_hz) for c in circuits]
    for start in range(0, len(circuits), chunk):
        part = [k for k in range(start, min(start + chunk, len(circuits))) if not forms[k].exact]
        if part:
            out[part] = _evaluate([forms[k] for k in part], s)
    for k, form in enumerate(forms):
        if form.exact:
            out[k] = response(pencil(circuits[k]), s)
    return out


def _evaluate(forms: list[Factored], s: np.ndarray) -> np.ndarray:
    """Padded, vectorized evaluation of several factored forms: a padded root contributes (s - 0)/(s - 0) = 1."""
    width = max(max(len(f.poles), len(f.zeros)) for f in forms)
    poles = np.zeros((len(forms), width), dtype=complex)
    zeros = np.zeros((len(forms), width), dtype=complex)
    has_p = np.zeros((len(forms), width), dtype=bool)
    has_z = np.zeros((len(forms), width), dtype=bool)
    for i, f in enumerate(forms):
        poles[i, : len(f.poles)], has_p[i, : len(f.poles)] = f.poles, True
        zeros[i, : len(f.zeros)], has_z[i, : len(f.zeros)] = f.zeros, True
    out = np.array([f.gain for f in forms], dtype=complex)[:, None] * np.ones(len(s), dtype=complex)[None, :]
    for k in range(width):
        num = np.where(has_z[:, k, None], s[None, :] - zeros[:, k, None], 1.0)
        den = np.where(has_p[:, k, None], s[None, :] - poles[:, k, None], 1.0)
        out *= num / den
    return out
