"""Fast AC sweeps: each circuit's H(s) in factored form, evaluated on many frequencies at once.

H(s) = K * prod(s - z_i) / prod(s - p_j). Poles and zeros come once per circuit from the generalized
eigenvalues of its nodal pencils; the gain K from one exact solve. A factored product keeps its relative
accuracy deep in a stopband, where a sum of pole residues would cancel.

A multiple root (three zeros at the origin of a third-order high-pass, say) comes out of an eigen-solver as a
small ring of roots, eps^(1/m) wide, and roots at infinity as huge spurious ones. Both are recognised by the
polynomial of the ring, which is z^m to rounding (that of genuine small roots is not), and replaced by the exact
multiple root. Every circuit's factored form is then checked against exact solves at a few frequencies across
the sweep (relative to |H|, or to 1e-15 of the largest checked |H| where |H| is smaller still); a circuit that
fails is tried again with the shift where it failed, and then swept by exact solves, so the result never silently
degrades. Because of that check, a form may be guessed: where H(s) prod(s - p) is K s^m at the check points
(all-pole low-passes, their high-pass transforms, simple band-passes), the zeros are taken to be m zeros at the
origin, and the zero pencil's eigenvalues are computed only for the circuits where that fails.

How the time is kept down: the circuits are read once into stamps with array operations (`stamping.stamp`),
factored in groups of equal size (`stack`: no circuit padded to a much larger one, since eigenvalues cost the cube of
the size), and the factored forms evaluated by one compiled loop (`factors.ratio_at_jw`), a row at a time in work
arrays that stay in the cache, each result written once. Past memory, `sweep_blocks` streams the circuits a block at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from circuitlib.core.circuit import Circuit
from circuitlib.sim import stamping
from circuitlib.sim.factors import factors, ratio_at_jw
from circuitlib.sim.mna import Pencil, poles_zeros, response

CHECK_POINTS = 9  # exact solves per circuit, log-spaced over the sweep
CHECK_RTOL = 1e-9  # the factored form must match them this closely, relative to the larger of |H| and
CHECK_FLOOR = 1e-15  # this share of the circuit's largest checked |H| (-300 dB: deep-stopband values that
# neither form gets to 1e-9 relative, an order-10 ladder's 1e-26 say, are held to 1e-24 of the peak instead)
MONOMIAL_FIT = 1e-6  # spread of log|numerator / s^m| over the check points within which a monomial numerator is tried
CLUSTER_TOL = 1e-9  # a ring of roots is one multiple root when its polynomial is z^m to this (relative) accuracy
CLUSTER_RADIUS = 0.05  # rings are looked for within this share of the circuit's frequency scale
GROUP_LEAST, GROUP_MOST = 64, 1024  # circuits factored together (size_groups)
EXACT_ENTRIES = 32 * 9 * 11**2  # matrix entries solved together (`_exact`): 32 order-10 ladders at 9 points
STREAM_BLOCK = 4096  # circuits per block of `sweep_blocks`: 79 MB of H at 1,201 points


def _stack(circuits: list[Circuit] | stamping.Stamps) -> tuple[np.ndarray, ...]:
    """Nodal pencils of every circuit (`stamping`; or of the circuits already stamped) in one padded stack: G, C, b0,
    b1, out of shapes (B, n, n) and (B, n), and each circuit's frequency scale (rad/s, as mna._frequency_scale),
    computed without the padding."""
    st = circuits if isinstance(circuits, stamping.Stamps) else stamping.stamp(circuits)
    g, c, b0, b1, out = stamping.matrices(st)
    real = np.arange(g.shape[-1])[None, :] < st.unknowns[:, None]
    return g, c, b0, b1, out, _frequency_scales(g * (real[:, :, None] & real[:, None, :]), c)


def _frequency_scales(g: np.ndarray, c: np.ndarray) -> np.ndarray:
    """exp(mean log|G_ij| - mean log|C_ij|) over the nonzero entries of each circuit (rad/s); 1 without C."""
    with np.errstate(divide="ignore"):
        lg, lc = np.log(np.abs(g)), np.log(np.abs(c))
    ng, nc = (g != 0).sum(axis=(1, 2)), (c != 0).sum(axis=(1, 2))
    mean_g = np.where(g != 0, lg, 0.0).sum(axis=(1, 2)) / np.maximum(ng, 1)
    mean_c = np.where(c != 0, lc, 0.0).sum(axis=(1, 2)) / np.maximum(nc, 1)
    return np.where((nc > 0) & (ng > 0), np.exp(mean_g - mean_c), 1.0)


def _zero_pencil(g, c, b0, b1, out) -> tuple[np.ndarray, np.ndarray]:
    """The pencils bordered by input and output, [[G, -b0], [out, 0]] + s [[C, -b1], [0, 0]], whose finite
    eigenvalues are the zeros of H."""
    bsz, n = b0.shape
    za, zb = np.zeros((bsz, n + 1, n + 1)), np.zeros((bsz, n + 1, n + 1))
    za[:, :n, :n], za[:, :n, n], za[:, n, :n] = g, -b0, out
    zb[:, :n, :n], zb[:, :n, n] = c, -b1
    return za, zb


def _ring_at_zero(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(B, K) mask of the roots in x that make up a multiple root at exactly 0: the largest set of the roots
    nearest 0, all within CLUSTER_RADIUS * scale, whose polynomial prod(z - x_i) is z^m to CLUSTER_TOL
    (coefficient k relative to scale^k). A single root counts when it is within CLUSTER_TOL * scale of 0."""
    bsz, k_max = x.shape
    order = np.argsort(np.abs(x), axis=1)
    xs = np.take_along_axis(x, order, 1) / scale[:, None]
    near = np.abs(xs) <= CLUSTER_RADIUS  # a prefix of each sorted row
    rows = np.flatnonzero(near[:, 0]) if k_max else np.zeros(0, dtype=int)  # only these can hold a ring
    size = np.zeros(bsz, dtype=int)
    if not len(rows):
        return np.zeros(x.shape, dtype=bool)
    xs, near = xs[rows], near[rows]
    m = int(near.sum(axis=1).max())
    coeffs = np.zeros((len(rows), m + 1), dtype=complex)  # degree m at most: the rest would stay 0
    coeffs[:, 0] = 1.0
    with np.errstate(all="ignore"):  # far roots may overflow the coefficients; they are never near
        for k in range(m):
            coeffs[:, 1:] = coeffs[:, 1:] - xs[:, k, None] * coeffs[:, :-1]
            size[rows] = np.where(near[:, k] & (np.abs(coeffs[:, 1:]).max(axis=1) <= CLUSTER_TOL), k + 1, size[rows])
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(k_max), (bsz, k_max)), 1)
    return ranks < size[:, None]


def _finite_roots(a: np.ndarray, b: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Finite roots s of det(a + s b) = 0 for a stack of pencils, by shift and invert: the eigenvalues mu of
    (a + sigma b)^-1 b give s = sigma - 1/mu; mu = 0 is a root at infinity. Rings of roots at infinity are
    dropped and rings at the origin set to exactly 0. Returns (B, K) roots and a mask of the finite ones."""
    return _shifted_roots(np.linalg.solve(a + sigma[:, None, None] * b, b), sigma)


def _shifted_roots(shifted: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_finite_roots` from the shift-inverted matrices (a + sigma b)^-1 b, (B, K, K)."""
    mu = np.linalg.eigvals(shifted)
    infinite = _ring_at_zero(mu * sigma[:, None], np.ones_like(sigma))  # mu * sigma is 1 at s = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = np.where(infinite, 0.0, sigma[:, None] - 1.0 / np.where(infinite, 1.0, mu))
    at_zero = _ring_at_zero(np.where(infinite, 1e300, roots), sigma)
    return np.where(at_zero, 0.0, roots), ~infinite


def _exact(g, c, b0, b1, out, s: np.ndarray) -> np.ndarray:
    """Exact H at a few points for the whole stack by dense solves: s is (K,) for all circuits or (B, K).

    These are plain LU solves, without the refinement step of `mna.solve_refined`: they are the reference the factored
    form must match to CHECK_RTOL, and the two are computed independently (an LU at each point; eigenvalues of a
    shifted pencil), so where they agree both are right, and where a badly scaled system has cost the LU its accuracy
    the circuit fails its check and is solved exactly, refined. The systems go EXACT_ENTRIES matrix entries at a
    time, so that the work arrays stay small enough to be reused rather than mapped afresh (fresh pages cost more
    than the arithmetic here)."""
    s = np.broadcast_to(s, (len(g), s.shape[-1]))
    h = np.empty(s.shape, dtype=complex)
    step = max(1, EXACT_ENTRIES // max(1, s.shape[1] * g.shape[1] ** 2))
    for k in range(0, len(g), step):
        part = slice(k, k + step)
        h[part] = _exact_rows(g[part], c[part], b0[part], b1[part], out[part], s[part])
    return h


def _exact_rows(g, c, b0, b1, out, s: np.ndarray) -> np.ndarray:
    a = np.empty((*s.shape, *g.shape[1:]), dtype=complex)  # G + s C, built from its real and imaginary parts
    np.multiply(s.real[..., None, None], c[:, None], out=a.real)  # (complex arithmetic on real G and C costs 10x)
    a.real += g[:, None]
    np.multiply(s.imag[..., None, None], c[:, None], out=a.imag)
    rhs = b0[:, None] + s[:, :, None] * b1[:, None]
    with np.errstate(all="ignore"):
        x = np.linalg.solve(a, rhs[..., None])[..., 0]
    return np.einsum("bfn,bn->bf", x, out)


def _shift_solve(g, c, b0, b1, sigma: np.ndarray, also: np.ndarray | None = None) -> np.ndarray:
    """(G + sigma C)^-1 [also, b0 + sigma b1] for the real shifts sigma (rad/s), one a circuit, by real dense solves
    (one LU for `also`'s columns and the input's): the last column gives H at the shifts (`_output`), which sets the
    gain of the factored form (plain LU as `_exact`: the check vouches for it). LinAlgError when a shift is a root."""
    rhs = (b0 + sigma[:, None] * b1)[..., None]
    with np.errstate(all="ignore"):
        return np.linalg.solve(g + sigma[:, None, None] * c, rhs if also is None else np.concatenate([also, rhs], 2))


def _output(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The output row `out` (B, n) applied to the solutions x (B, n): H, (B,)."""
    return np.einsum("bn,bn->b", x, out)


@dataclass
class _Factored:
    """Roots, masks and gain of a stack of circuits; ok marks those that passed the check."""

    zeros: np.ndarray
    has_z: np.ndarray
    poles: np.ndarray
    has_p: np.ndarray
    gain: np.ndarray
    ok: np.ndarray
    worst: np.ndarray  # index of the check point with the largest error

    def __post_init__(self) -> None:
        bsz, k = len(self.zeros), max(self.zeros.shape[1], self.poles.shape[1])  # numerators and denominators
        both = np.zeros((2 * bsz, k), dtype=complex)  # as one stack (one call's overhead, not two)
        present = np.zeros((2 * bsz, k), dtype=bool)
        both[:bsz, : self.zeros.shape[1]], present[:bsz, : self.zeros.shape[1]] = self.zeros, self.has_z
        both[bsz:, : self.poles.shape[1]], present[bsz:, : self.poles.shape[1]] = self.poles, self.has_p
        grouped = factors(both, present)
        self.num, self.den = grouped.take(slice(0, bsz)), grouped.take(slice(bsz, 2 * bsz))

    def at(self, w: np.ndarray, rows: np.ndarray, out: np.ndarray | None = None, dest: np.ndarray | None = None,
           length: np.ndarray | None = None) -> np.ndarray:
        """H(jw) on w (F,) (rad/s), or on a row of w (len(rows), F) each, for the circuits `rows`: into row dest[k] of
        `out` for rows[k] (row k, and a fresh (len(rows), F) array, without them); `length` as `ratio_at_jw`."""
        out = np.empty((len(rows), w.shape[-1]), dtype=complex) if out is None else out
        return ratio_at_jw(w, self.num, self.den, self.gain, rows, out, dest, length)


def _roots(mats: tuple[np.ndarray, ...], sigma: np.ndarray) -> tuple[np.ndarray, ...]:
    """(poles, has_p, zeros, has_z) of a stack with shifts sigma; LinAlgError when a shift lands on a root."""
    poles, has_p = _finite_roots(mats[0], mats[1], sigma)
    zeros, has_z = _finite_roots(*_zero_pencil(*mats), sigma)
    return poles, has_p, zeros, has_z


def _factor(mats: tuple[np.ndarray, ...], sigma: np.ndarray, s_check: np.ndarray, h_check: np.ndarray,
            floor: float = CHECK_FLOOR, roots: tuple[np.ndarray, ...] | None = None,
            h_sigma: np.ndarray | None = None) -> _Factored:
    """Factored forms with shifts sigma (rad/s), checked against the exact h_check at s_check (relative to |H|, or
    to `floor` times the largest checked |H| where |H| is smaller); `roots` are `_roots(mats, sigma)` and h_sigma the
    exact H at the shifts (which sets the gain), when known."""
    g, c, b0, b1, out = mats
    bsz = len(g)
    try:
        poles, has_p, zeros, has_z = roots or _roots(mats, sigma)
    except np.linalg.LinAlgError:  # a shift landed on a root of some circuit: none of this stack is factored
        no = np.zeros((bsz, 1))
        return _Factored(no, no > 0, no, no > 0, no[:, 0], np.zeros(bsz, bool), np.zeros(bsz, int))
    if h_sigma is None:
        try:
            h_sigma = _output(_shift_solve(g, c, b0, b1, sigma)[..., -1], out)
        except np.linalg.LinAlgError:
            h_sigma = np.full(bsz, np.nan)
    with np.errstate(all="ignore"):
        shape_sigma = (np.prod(np.where(has_z, sigma[:, None] - zeros, 1.0), axis=1)
                       / np.prod(np.where(has_p, sigma[:, None] - poles, 1.0), axis=1))
        form = _Factored(zeros, has_z, poles, has_p, h_sigma / shape_sigma, np.zeros(bsz, bool), np.zeros(bsz, int))
        ref = np.maximum(np.abs(h_check), floor * np.abs(h_check).max(axis=1, keepdims=True))
        err = np.abs(form.at(s_check.imag, np.arange(bsz)) - h_check) / ref
    err = np.where(np.isfinite(err), err, np.inf)
    form.ok = (err.max(axis=1) <= CHECK_RTOL) & np.isfinite(form.gain)
    form.worst = err.argmax(axis=1)
    return form


def _monomial(poles: np.ndarray, has_p: np.ndarray, s_check: np.ndarray, h_check: np.ndarray, floor: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The zeros of H on the guess that its numerator is K s^m, as (B, M) roots and their mask, and whether the guess
    fits the check points: m zeros at exactly 0, m the slope of log|H(s) prod(s - p)| against log|s| over the check
    points, rounded and kept between 0 and the number of poles; it fits where |H(s) prod(s - p) / s^m| is the same at
    every check point to MONOMIAL_FIT. Points where |H| is below `floor` times its largest are left out, as the check
    leaves out their relative error. All-pole low-passes (m = 0), their high-pass transforms (m = the order) and simple
    band-passes are of this kind; the check against exact solves still decides whether the guess holds."""
    with np.errstate(all="ignore"):
        log_den = np.where(has_p[:, None, :], np.log(np.abs(s_check[..., None] - poles[:, None, :])), 0.0).sum(axis=2)
        y = np.log(np.abs(h_check)) + log_den  # log|numerator| at the check points, (B, K)
        used = (np.abs(h_check) >= floor * np.abs(h_check).max(axis=1, keepdims=True)) & np.isfinite(y)
        x = np.broadcast_to(np.log(np.abs(s_check)), y.shape)
        n = used.sum(axis=1)
        xc = np.where(used, x - (x * used).sum(axis=1, keepdims=True) / n[:, None], 0.0)
        yc = np.where(used, y - np.where(used, y, 0.0).sum(axis=1, keepdims=True) / n[:, None], 0.0)
        slope = (xc * yc).sum(axis=1) / (xc ** 2).sum(axis=1)
        m = np.clip(np.rint(np.where(np.isfinite(slope), slope, 0.0)), 0, has_p.sum(axis=1)).astype(int)
        rest = y - m[:, None] * x  # log|K|, if the guess holds
        spread = np.where(used, rest, -np.inf).max(axis=1) - np.where(used, rest, np.inf).min(axis=1)
    fits = (n >= 2) & (spread <= MONOMIAL_FIT)
    zeros = np.zeros((len(m), int(m.max(initial=0))), dtype=complex)
    return zeros, np.arange(zeros.shape[1])[None, :] < m[:, None], fits


def _zeros_of(mats: tuple[np.ndarray, ...], sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The finite zeros of a stack (`_finite_roots` of its zero pencil); none, where a shift lands on a root (the
    factored form then fails its check, and the circuit goes on to the retry)."""
    try:
        return _finite_roots(*_zero_pencil(*mats), sigma)
    except np.linalg.LinAlgError:
        return np.zeros((len(sigma), 0), dtype=complex), np.zeros((len(sigma), 0), dtype=bool)


def _with_rows(base: list[np.ndarray], rows: np.ndarray, part: tuple[np.ndarray, np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Roots and mask `base` (B, K) with the rows `rows` replaced by `part` (len(rows), K'), padded to one width."""
    width = max(base[0].shape[1], part[0].shape[1])
    roots, mask = np.zeros((len(base[0]), width), dtype=complex), np.zeros((len(base[0]), width), dtype=bool)
    roots[:, : base[0].shape[1]], mask[:, : base[0].shape[1]] = base
    mask[rows] = False
    roots[rows, : part[0].shape[1]], mask[rows, : part[0].shape[1]] = part
    return roots, mask


def _batch_matrices(mats: tuple[np.ndarray, ...], sigma: np.ndarray, f_hz: np.ndarray,
                    floor: float = CHECK_FLOOR, roots: tuple[np.ndarray, ...] | None = None,
                    result: np.ndarray | None = None, dest: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(H of every circuit on f_hz, whether each came from its factored form) for stacked pencils (G, C, b0, b1, out)
    with frequency scales sigma (rad/s); `floor` and `roots` (at those shifts) as `_factor`; H is written into
    `result` when given (circuit i into its row dest[i], or row i without `dest`).

    A circuit is evaluated from the first of these factored forms that passes the check: (1) its poles, with its
    zeros when `roots` gives them, or else the guess that its numerator is K s^m (`_monomial`), which spares the
    zero pencil's eigenvalues; (2) with its zeros from the zero pencil; (3) both found again with the shift at its
    worst check point (roots are most accurate near the shift). A circuit that passes none is solved exactly."""
    g, c, b0, b1, out = mats
    grid = f_hz.ndim == 2  # a frequency grid per circuit
    lo, hi = (f_hz.min(axis=-1), f_hz.max(axis=-1)) if grid else (f_hz.min(), f_hz.max())
    s_check = 2j * np.pi * np.geomspace(lo, hi, CHECK_POINTS, axis=-1)
    h_check = _exact(*mats, s_check)
    try:  # one LU at the shifts: H there (the gain) and, unless the roots are known, C shift-inverted (the poles)
        shifted = _shift_solve(g, c, b0, b1, sigma, c if roots is None else None)
    except np.linalg.LinAlgError:  # a shift on a root of some circuit: every circuit of the stack to the retry
        shifted = None
    h_sigma = np.full(len(g), np.nan) if shifted is None else _output(shifted[..., -1], out)
    w = 2 * np.pi * f_hz
    pick = (lambda a, r: a[r]) if grid else (lambda a, r: a)  # noqa: E731 - the rows' own grids, or the one grid
    sub = lambda rows: mats if len(rows) == len(g) else tuple(m[rows] for m in mats)  # noqa: E731
    result = np.empty((len(g), f_hz.shape[-1]), dtype=complex) if result is None else result
    dest = np.arange(len(g)) if dest is None else dest
    factored, worst = np.zeros(len(g), dtype=bool), np.zeros(len(g), dtype=int)

    def attempt(rows: np.ndarray, shift: np.ndarray, found: tuple[np.ndarray, ...] | None,
                at_shift: np.ndarray | None) -> np.ndarray:
        """Evaluate the circuits `rows` that pass with this shift and these roots; return those that do not."""
        form = _factor(sub(rows), shift, pick(s_check, rows), h_check[rows], floor, found, at_shift)
        ok = np.flatnonzero(form.ok)
        _evaluate(form, pick(w, rows), ok, result, dest[rows])
        factored[rows[ok]], worst[rows] = True, form.worst
        return rows[~form.ok]

    pending = np.arange(len(g))
    if roots is None:
        if shifted is not None:
            poles = _shifted_roots(shifted[..., :-1], sigma)
            *guess, fits = _monomial(*poles, s_check, h_check, floor)
            other = np.flatnonzero(~fits)  # their zeros from the zero pencil
            roots = (*poles, *(_with_rows(guess, other, _zeros_of(sub(other), sigma[other])) if len(other) else guess))
            pending = attempt(pending, sigma, roots, h_sigma)
            guessed = pending[fits[pending]]  # a monomial numerator fitted, and failed the check
            if len(guessed):
                known = (roots[0][guessed], roots[1][guessed], *_zeros_of(sub(guessed), sigma[guessed]))
                pending = np.union1d(pending[~fits[pending]], attempt(guessed, sigma[guessed], known, h_sigma[guessed]))
    else:
        pending = attempt(pending, sigma, roots, h_sigma)
    if len(pending):
        shift = np.abs(s_check[pending, worst[pending]] if grid else s_check[worst[pending]])
        pending = attempt(pending, shift, None, None)
    for i in pending:
        result[dest[i]] = response(Pencil(g[i], c[i], b0[i], b1[i], out[i]), 1j * pick(w, i))
    return result, factored


def _evaluate(form: _Factored, w: np.ndarray, ok: np.ndarray, result: np.ndarray, dest: np.ndarray) -> None:
    """H of the circuits `ok` of `form` into rows dest[ok] of `result`, on w (rad/s) of shape (F,), or (B, F) a row per
    circuit of the form, each padded by repeating its last frequency (evaluated only up to its first repeat)."""
    if w.ndim == 1:
        form.at(w, ok, result, dest[ok])
        return
    differs = np.concatenate([np.ones((len(w), 1), dtype=bool), w[:, :-1] != w[:, -1:]], axis=1)  # (B, F)
    length = w.shape[1] - np.argmax(differs[:, ::-1], axis=1)  # up to the first of the final frequency's repeats
    form.at(w[ok], ok, result, dest[ok], length[ok])


def sweep_hz(circuits: list[Circuit], f_hz: np.ndarray) -> np.ndarray:
    """H(j 2 pi f) for every circuit and frequency, (B, F) complex. Circuits whose factored form misses the exact
    solves at the check points by more than CHECK_RTOL are solved exactly."""
    return sweep_with_report(circuits, f_hz)[0]


def sweep_blocks(circuits: list[Circuit], f_hz: np.ndarray, block: int = STREAM_BLOCK
                 ) -> Iterator[tuple[slice, np.ndarray]]:
    """`sweep_hz` `block` circuits at a time, as (the circuits' slice, their H (block, F)): for more circuits than
    their whole H would fit in memory (16 bytes a point; 1e6 circuits at 1,201 points are 19 GB), the caller keeps
    what it needs of each block, and the memory stays at one block's, whatever the number of circuits.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rcs = [Circuit(0, {(1, 2): Edge(r_ohm=r), (0, 2): Edge(c_f=1e-6)}) for r in (1e3, 2e3, 4e3)]
    >>> [(part.start, h.shape) for part, h in sweep_blocks(rcs, np.array([10.0, 100.0]), block=2)]
    [(0, (2, 2)), (2, (1, 2))]
    """
    for k in range(0, len(circuits), block):
        yield slice(k, min(k + block, len(circuits))), sweep_hz(circuits[k : k + block], f_hz)


def sweep_with_report(circuits: list[Circuit], f_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`sweep_hz` plus a (B,) mask of the circuits evaluated from their factored form (the rest: exact solves).
    Circuits are factored in groups of about equal size (`stack`)."""
    f_hz = np.asarray(f_hz, dtype=float)
    return _sweep_groups(stack(circuits), f_hz, CHECK_FLOOR)


def _sweep_groups(stacked: Stacked, f_hz: np.ndarray, floor: float) -> tuple[np.ndarray, ...]:
    """(H, factored) of every stacked circuit, group by group, on f_hz (F,) or on a row of f_hz (B, F) each."""
    n = sum(map(len, stacked.groups))
    h = np.empty((n, f_hz.shape[-1]), dtype=complex)
    factored = np.empty(n, dtype=bool)
    roots = stacked.roots or [None] * len(stacked.groups)
    for rows, (mats, sigma), known in zip(stacked.groups, stacked.parts, roots):
        f_rows = f_hz[rows] if f_hz.ndim == 2 else f_hz
        _, factored[rows] = _batch_matrices(mats, sigma, f_rows, floor, known, result=h, dest=rows)
    return h, factored


def size_groups(sizes: list[int], least: int = GROUP_LEAST, most: int = GROUP_MOST) -> list[np.ndarray]:
    """Indices of `sizes` in groups, smallest sizes first: a group closes when it holds `most`, or when it holds at
    least `least` and the next size differs; so groups are of one size, but for a few stragglers that join larger ones.

    >>> [g.tolist() for g in size_groups([4, 2, 3, 3, 4, 4, 9], least=2, most=4)]  # the one 2 joins the 3s
    [[1, 2, 3], [0, 4, 5], [6]]
    """
    order = np.argsort(sizes, kind="stable")
    cuts = [k for k in range(1, len(order)) if sizes[order[k]] != sizes[order[k - 1]]]
    groups, start = [], 0
    for k in [*cuts, len(order)]:
        while k - start > most:
            groups.append(order[start : start + most])
            start += most
        if k - start >= least or k == len(order):
            groups.append(order[start:k])
            start = k
    return [g for g in groups if len(g)]


@dataclass
class Stacked:
    """A list of circuits stamped once and split into groups of about equal size (`size_groups`), so that none is
    padded up to a much larger one (dense solves and eigenvalues cost the cube of the padded size; most circuits
    have 2 or 3 unknowns, a few have 12): each group's circuit indices, its stacked nodal pencils and frequency
    scales, and its roots at those shifts once `finite_roots` has found them (what `finite_roots` and `sweep_rows`
    share)."""

    groups: list[np.ndarray]
    parts: list[tuple[tuple[np.ndarray, ...], np.ndarray]]  # (G, C, b0, b1, out), sigma
    roots: list[tuple[np.ndarray, ...]] | None = None


def stack(circuits: list[Circuit]) -> Stacked:
    """`circuits` stamped once (each group's stamps are a subset), for `finite_roots` and then `sweep_rows`."""
    if not circuits:
        return Stacked([], [])
    st = stamping.stamp(circuits)
    groups = size_groups(st.unknowns.tolist())
    parts = []
    for rows in groups:
        whole = len(groups) == 1 and bool(np.all(rows == np.arange(len(rows))))  # the usual case for a batch of one kind
        *mats, sigma = _stack(st if whole else stamping.subset(st, rows))
        parts.append((tuple(mats), sigma))
    return Stacked(groups, parts)


def finite_roots(circuits: list[Circuit], stacked: Stacked | None = None) -> list[np.ndarray]:
    """The finite poles and zeros (rad/s, together) of every circuit, from one batch of eigenvalue problems per size
    group (the roots of the factored form, before its check against exact solves); `stacked` is `stack(circuits)`,
    which keeps them for `sweep_rows`."""
    stacked = stacked or stack(circuits)
    out: list[np.ndarray] = [np.zeros(0, dtype=complex)] * len(circuits)
    found = []
    for rows, (mats, sigma) in zip(stacked.groups, stacked.parts):
        try:
            roots = _roots(mats, sigma)
        except np.linalg.LinAlgError:  # a shift on a root of some circuit: each circuit of the group on its own
            roots = None
            for i in rows:
                out[i] = np.concatenate([(pz := poles_zeros(circuits[i])).poles, pz.zeros])
        else:
            for i, p, hp, z, hz in zip(rows, *roots):
                out[i] = np.concatenate([p[hp], z[hz]])
        found.append(roots)
    stacked.roots = found
    return out


def sweep_rows(circuits: list[Circuit], f_hz: np.ndarray, floor: float = CHECK_FLOOR,
               stacked: Stacked | None = None) -> np.ndarray:
    """H(j 2 pi f) of each circuit on its own row of `f_hz` (B, F), (B, F) complex: stamped and factored together
    (by size group), each circuit checked against exact solves across its own row, with the same fallback as
    `sweep_hz`; `stacked` is `stack(circuits)` when the caller has it.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rcs = [Circuit(0, {(1, 2): Edge(r_ohm=r), (0, 2): Edge(c_f=1e-6)}) for r in (1e3, 2e3)]
    >>> f = np.array([[1 / (2 * np.pi * 1e-3)], [1 / (2 * np.pi * 2e-3)]])  # each one's own cutoff
    >>> np.round(np.abs(sweep_rows(rcs, f)[:, 0]) ** 2, 9).tolist()
    [0.5, 0.5]
    """
    f_hz = np.asarray(f_hz, dtype=float)
    if f_hz.shape[0] != len(circuits):
        raise ValueError(f"f_hz has {f_hz.shape[0]} rows for {len(circuits)} circuits")
    return _sweep_groups(stacked or stack(circuits), f_hz, floor)[0]


def sweep_values(circuit: Circuit, values: np.ndarray, f_hz: np.ndarray, chunk: int = 256,
                 floor: float = CHECK_FLOOR) -> np.ndarray:
    """H(j 2 pi f) of `circuit` with each row of `values` (N, E) as its element values (in `components()` order),
    (N, F) complex: the circuit is stamped once and its copies solved as one batch, `chunk` at a time, with the same
    factored form and exact fallback as `sweep_hz`. `floor` (a share of the largest checked |H|) is the level below
    which the factored form is checked for absolute rather than relative accuracy: a caller that reads only gains
    above some level (a mask's stopband limit) may raise it from CHECK_FLOOR to just below that level.

    >>> from circuitlib.core.circuit import Circuit, Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-6)})  # components: C1, R1
    >>> h = sweep_values(rc, np.array([[1e-6, 1e3], [1e-6, 2e3]]), np.array([1 / (2 * np.pi * 1e-3)]))
    >>> np.round(np.abs(h[:, 0]) ** 2, 6).tolist()  # at the first one's cutoff: 1/2, and 1/(1 + 4) for 2 kohm
    [0.5, 0.2]
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    one = stamping.stamp([circuit])
    if values.shape[1] != len(one.kinds):
        raise ValueError(f"values has {values.shape[1]} columns; the circuit has {len(one.kinds)} elements")
    f_hz = np.asarray(f_hz, dtype=float)
    h = np.empty((len(values), len(f_hz)), dtype=complex)
    for k in range(0, len(values), chunk):
        rows = values[k : k + chunk]
        g, c, b0, b1, out = stamping.matrices(stamping.repeat(one, len(rows)), rows.ravel())
        _batch_matrices((g, c, b0, b1, out), _frequency_scales(g, c), f_hz, floor, result=h[k : k + len(rows)])
    return h
