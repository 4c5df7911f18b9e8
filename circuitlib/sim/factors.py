"""Rational functions in factored form, evaluated on the jw axis by one compiled loop.

The roots of each polynomial of a stack are grouped into real factors (`factors`): a power of s for the roots at exactly
0, one real quadratic s^2 + b s + c for each conjugate pair and each pair of real roots, and an odd real root. At s = jw
a quadratic is (c - w^2) + j b w, so a pair costs one complex product where its two linear factors would cost two.

`ratio_at_jw` evaluates gain * numerator / denominator at every frequency of every row, compiled with numba: a row at a
time, factor by factor over the row's frequencies in work arrays that stay in the cache (simple loops, which the
compiler vectorises), and the result written once. The same products as numpy array operations on a whole stack take
three passes over memory per factor and a complex division of their own, and a sweep is bound by that traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit


@dataclass
class Factors:
    """The roots of a stack of polynomials (one a row), grouped for evaluation on the jw axis: `power` roots at exactly
    0, (jw)^power; quadratic factors s^2 + b s + c (b, c real), one for each conjugate pair and each pair of real
    roots; an odd real root; and the complex roots of a row whose roots are not in conjugate pairs (`lone`: the
    eigenvalues of a real matrix are, so this is for safety)."""

    power: np.ndarray  # (B,) int
    b: np.ndarray  # (B, Q) real, each row's `quads` to the left
    c: np.ndarray
    quads: np.ndarray  # (B,) int
    odd: np.ndarray  # (B,) real root, where has_odd
    has_odd: np.ndarray  # (B,) bool
    lone: np.ndarray  # (B, L) complex
    has_lone: np.ndarray  # (B, L) bool

    def take(self, rows: np.ndarray | slice) -> Factors:
        return Factors(*(getattr(self, f.name)[rows] for f in fields(self)))

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The fields as contiguous arrays of the dtypes the compiled loop is built for (one compilation)."""
        kinds = (np.int64, float, float, np.int64, float, np.bool_, complex, np.bool_)
        return tuple(np.ascontiguousarray(getattr(self, f.name), dtype=k) for f, k in zip(fields(self), kinds))


def factors(roots: np.ndarray, present: np.ndarray) -> Factors:
    """The present roots (B, K) of each row as `Factors`.

    >>> f = factors(np.array([[0, -1 + 2j, -1 - 2j, -3]]), np.ones((1, 4), dtype=bool))
    >>> int(f.power[0]), int(f.quads[0]), float(f.b[0, 0]), float(f.c[0, 0]), float(f.odd[0])  # s (s^2 + 2s + 5) (s + 3)
    (1, 1, 2.0, 5.0, -3.0)
    """
    zero = present & (roots == 0)
    rest = present & ~zero
    upper, lower, real = rest & (roots.imag > 0), rest & (roots.imag < 0), rest & (roots.imag == 0)
    paired = upper.sum(axis=1) == lower.sum(axis=1)  # the eigenvalues of a real matrix come in exact conjugate pairs
    pair = upper & paired[:, None]
    reals = np.sort(np.where(real, roots.real, np.inf), axis=1)  # real roots in order, taken two by two
    n_real = real.sum(axis=1)
    half = reals.shape[1] // 2
    r1, r2 = reals[:, 0 : 2 * half : 2], reals[:, 1 : 2 * half : 2]
    two = np.arange(half)[None, :] < (n_real // 2)[:, None]  # both of the two are roots
    with np.errstate(invalid="ignore"):
        b = np.concatenate([np.where(pair, -2.0 * roots.real, 0.0), np.where(two, -(r1 + r2), 0.0)], axis=1)
        c = np.concatenate([np.where(pair, roots.real ** 2 + roots.imag ** 2, 0.0), np.where(two, r1 * r2, 0.0)], axis=1)
    has_q = np.concatenate([pair, two], axis=1)
    order = np.argsort(~has_q, axis=1, kind="stable")  # the quadratic factors to the left of each row
    odd = reals[np.arange(len(roots)), np.maximum(n_real - 1, 0)] if reals.shape[1] else np.zeros(len(roots))
    lone = (upper | lower) & ~paired[:, None]
    kept = lone.shape[1] if lone.any() else 0  # no columns at all in the usual case, where every row is in pairs
    return Factors(zero.sum(axis=1), np.take_along_axis(b, order, 1), np.take_along_axis(c, order, 1),
                   has_q.sum(axis=1), odd, n_real % 2 == 1, roots[:, :kept], lone[:, :kept])


def ratio_at_jw(w_rad_s: np.ndarray, num: Factors, den: Factors, gain: np.ndarray, rows: np.ndarray,
                out: np.ndarray, dest: np.ndarray | None = None, length: np.ndarray | None = None) -> np.ndarray:
    """gain[i] num_i(jw) / den_i(jw) for each i of `rows`, written into row dest[k] of `out` (k itself without `dest`);
    w_rad_s is one grid (F,) for every row or one row each (len(rows), F). With `length`, row k is evaluated on its
    first length[k] frequencies and the rest repeat the last of them (a grid per circuit padded by repeating its last
    frequency). Returns `out`.

    >>> one = factors(np.zeros((1, 0), dtype=complex), np.zeros((1, 0), dtype=bool))
    >>> rc = factors(np.array([[-1e3 + 0j]]), np.ones((1, 1), dtype=bool))  # 1e3 / (s + 1e3): RC cutoff at 1e3 rad/s
    >>> h = ratio_at_jw(np.array([0.0, 1e3]), one, rc, np.array([1e3]), np.array([0]), np.empty((1, 2), dtype=complex))
    >>> np.round(np.abs(h[0]) ** 2, 12).tolist()
    [1.0, 0.5]
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    w = np.ascontiguousarray(np.atleast_2d(w_rad_s), dtype=float)
    w_row = np.zeros(len(rows), dtype=np.int64) if w_rad_s.ndim == 1 else np.arange(len(rows), dtype=np.int64)
    dest = np.arange(len(rows), dtype=np.int64) if dest is None else np.ascontiguousarray(dest, dtype=np.int64)
    length = np.full(len(rows), w.shape[1], dtype=np.int64) if length is None else np.asarray(length, dtype=np.int64)
    _check(w_rad_s, w, rows, dest, length, len(gain), (len(num.power), len(den.power)), out)
    _ratio(w, w_row, length, rows, dest, np.ascontiguousarray(gain, dtype=complex), *num.arrays(), *den.arrays(), out)
    return out


def _check(w_rad_s: np.ndarray, w: np.ndarray, rows: np.ndarray, dest: np.ndarray, length: np.ndarray, n: int,
           n_factors: tuple[int, int], out: np.ndarray) -> None:
    """ValueError unless every index the compiled loop will follow is in range (it checks none: a wrong index would
    write outside `out`)."""
    def within(x: np.ndarray, lo: int, hi: int) -> bool:
        return not len(x) or (int(x.min()) >= lo and int(x.max()) < hi)

    if out.dtype != complex or out.ndim != 2 or not out.flags.writeable:
        raise ValueError(f"out must be a writable 2-D complex array, not {out.dtype} of shape {out.shape}")
    if w_rad_s.ndim not in (1, 2) or w.shape[1] != out.shape[1] or (w_rad_s.ndim == 2 and len(w) != len(rows)):
        raise ValueError(f"w_rad_s of shape {w_rad_s.shape} for {len(rows)} rows into {out.shape[1]} columns")
    if n_factors != (n, n) or not within(rows, 0, n):
        raise ValueError(f"rows must index the {n} gains, numerators and denominators")
    if len(dest) != len(rows) or not within(dest, 0, len(out)):
        raise ValueError(f"dest must give one row of out (0 to {len(out) - 1}) for each of the {len(rows)} rows")
    if len(length) != len(rows) or not within(length, 1, out.shape[1] + 1):
        raise ValueError(f"length must be 1 to {out.shape[1]} for each of the {len(rows)} rows")


@njit(cache=True, nogil=True, error_model="numpy")
def _ratio(w, w_row, length, rows, dest, gain,
           n_power, n_b, n_c, n_quads, n_odd, n_has_odd, n_lone, n_has_lone,
           d_power, d_b, d_c, d_quads, d_odd, d_has_odd, d_lone, d_has_lone, out):  # pragma: no cover - compiled
    ar, ai, br, bi = np.empty(w.shape[1]), np.empty(w.shape[1]), np.empty(w.shape[1]), np.empty(w.shape[1])
    for k in range(rows.shape[0]):
        i, o, n = rows[k], dest[k], length[k]
        x = w[w_row[k], :n]
        _product(x, n_power[i], n_b[i], n_c[i], n_quads[i], n_odd[i], n_has_odd[i], n_lone[i], n_has_lone[i], ar, ai)
        _product(x, d_power[i], d_b[i], d_c[i], d_quads[i], d_odd[i], d_has_odd[i], d_lone[i], d_has_lone[i], br, bi)
        gr, gi = gain[i].real, gain[i].imag
        for j in range(n):
            pr, pi = gr * ar[j] - gi * ai[j], gr * ai[j] + gi * ar[j]
            qr, qi = br[j], bi[j]
            if abs(qr) >= abs(qi):  # Smith's division, as numpy's
                t = qi / qr
                d = qr + qi * t
                out[o, j] = complex((pr + pi * t) / d, (pi - pr * t) / d)
            else:
                t = qr / qi
                d = qi + qr * t
                out[o, j] = complex((pr * t + pi) / d, (pi * t - pr) / d)
        for j in range(n, out.shape[1]):
            out[o, j] = out[o, n - 1]


@njit(cache=True, nogil=True, error_model="numpy")
def _product(x, power, b, c, quads, odd, has_odd, lone, has_lone, re, im):  # pragma: no cover - compiled
    """One row's factors at s = jx into (re, im), factor by factor over the whole row: each step is a simple loop over
    the frequencies, which the compiler vectorises."""
    k = power % 4  # j^power
    for j in range(x.shape[0]):
        xm = x[j] ** power
        re[j] = xm if k == 0 else (-xm if k == 2 else 0.0)
        im[j] = xm if k == 1 else (-xm if k == 3 else 0.0)
    for q in range(quads):
        cq, bq = c[q], b[q]
        for j in range(x.shape[0]):
            fr, fi = cq - x[j] * x[j], bq * x[j]
            re[j], im[j] = re[j] * fr - im[j] * fi, re[j] * fi + im[j] * fr
    if has_odd:
        for j in range(x.shape[0]):
            re[j], im[j] = -re[j] * odd - im[j] * x[j], re[j] * x[j] - im[j] * odd
    for q in range(lone.shape[0]):
        if has_lone[q]:
            zr, zi = lone[q].real, lone[q].imag
            for j in range(x.shape[0]):
                fr, fi = -zr, x[j] - zi
                re[j], im[j] = re[j] * fr - im[j] * fi, re[j] * fi + im[j] * fr
