"""Exact classical synthesis of LC ladder filters (Darlington insertion-loss method).

Depends only on the standard library, numpy and scipy. Nothing here is an optimiser: every element value
comes from closed-form polynomial algebra, and every synthesised ladder is verified numerically against its
transfer function before it is returned.

Pipeline
--------
1. ``min_order``: the minimum order for a mask, exactly as ``scipy.signal.*ord(..., analog=True)`` computes it
   (Bessel: own definition, see the function).
2. ``prototype_zpk``: the normalised analog lowpass prototype H(s) = N(s)/D(s): passband edge at 1 rad/s with gain
   exactly -ripple_db there, and max |H(j omega)| = 1 (the lossless two-port normalisation).
3. ``synthesise``: the LC ladder between the terminations, normalised to rs = 1 ohm (rl = 1 ohm when rs = 0) and
   omega_p = 1 rad/s.

   * Doubly terminated: |S21|^2 = K^2 |H|^2, Feldtkeller |S11|^2 = 1 - |S21|^2 gives F(s)F(-s) =
     D(s)D(-s) - K^2 N(s)N(-s); F is built from a spectral factorisation (left-half-plane roots by default,
     reflection zeros on the j omega axis taken once each), S11 = F/D and Z_in = rs (D + F)/(D - F).
   * Singly terminated: with D = m + n (even + odd part), z11 = m/n (rs > 0, output open) or y22 = m/n
     (rs = 0, load rl), since V_out/E = N/(m + n) then follows from z21 = N/n (or -y21 = N/n).
   * The driving-point function is expanded into a ladder: all transmission zeros at infinity by the Cauer
     continued fraction (full removal of series L or shunt C), each finite zero j Omega by zero shifting
     (partial removal of a shunt C so that the remainder vanishes at j Omega, then full removal of a series
     parallel-LC trap; the dual form uses a partial series L and a shunt series-LC trap). The remainder is the
     load resistor (doubly terminated) or an open/short (singly terminated). The extraction order starts with
     Saal & Ulbrich's (1958) order; if an element comes out negative, every other order is searched (including
     early full removals at infinity when there are two or more zeros there, which switches the trap type).
   * Numerics: the prototype's float poles and zeros are taken as exact; all polynomials are formed and expanded
     in 60-digit ``decimal`` arithmetic and the spectral factor's roots are Newton-polished to that precision,
     because the coefficient-based expansion loses about one digit per element in double precision. Where the
     reflection zeros have exact structure (equal or matched terminations), D is re-derived from F F* + N N* so
     that numerator, denominator and reflection polynomial are mutually exact. Every ladder is then checked
     against gain_ref * H(j omega) (1e-6 relative or 1e-9 absolute) before it is returned.
   * Even orders of elliptic and Chebyshev II: scipy's functions (type "a") have |H(inf)| != 0, which no
     transformerless LC ladder can realise (at infinity every ladder is a wire or an open); ``variant="b"``
     (highest zero moved to infinity) and ``variant="c"`` (elliptic, also lowest reflection zero moved to DC)
     are the classical realisable forms (Saal & Ulbrich 1958). Some Chebyshev II functions of high order and
     low attenuation have no positive-element ladder in this class (e.g. order 7 with 40 dB for equal
     terminations); those raise ValueError.
4. ``transform`` / ``denormalise``: lowpass -> lowpass/highpass/bandpass/bandstop element substitution and
   impedance/frequency scaling.
5. ``response``: V_out/E by chained ABCD matrices, independent of any nodal solver.
6. ``g_values``: closed-form Butterworth and Chebyshev I g-values (Matthaei, Young & Jones 1964, sec. 4.05).

Gain convention
---------------
A ladder realises V_out/E = gain_ref * H(s) exactly (E = EMF behind rs; ``Ladder.gain_ref``). Every lowpass
ladder here is a plain wire at DC (series L and series parallel-LC traps are shorts, shunt C and shunt series-LC
traps are opens), so V_out/E(0) is fixed by the terminations alone:

* doubly terminated: V_out/E(0) = G_ref = rl/(rs + rl), so gain_ref = G_ref/H(0). For functions with H(0) = 1
  (Butterworth, Bessel, Chebyshev II, odd Chebyshev I and elliptic, elliptic type c) gain_ref = G_ref, and for
  rs != rl the transmission is scaled down by the mismatch: |S21|^2 = K^2 |H|^2, K^2 = 4 rs rl/(rs + rl)^2
  (the standard textbook behaviour; |S21| never reaches 1). For functions with DC loss equal to the ripple
  (even Chebyshev I, elliptic type b), H(0)^2 = 1/(1 + eps^2) and K^2 = 4 rs rl (1 + eps^2)/(rs + rl)^2 must
  not exceed 1: rl/rs >= r0 or rl/rs <= 1/r0 with r0 = (sqrt(1 + eps^2) + eps)^2. At exactly r0 (or 1/r0)
  K = 1, the classical tabulated case; see ``realisable_ratio``.
* singly terminated: V_out/E(0) = 1, so gain_ref = 1/H(0).

Forms
-----
``"shunt_first"``: the first arm after the source is a shunt capacitor (minimum-inductor form; finite zeros are
realised by series arms of parallel LC). ``"series_first"``: the dual, a series inductor first (minimum-capacitor
form; finite zeros by shunt arms of series LC). A singly terminated ladder has one possible form only (an open
output needs a shunt arm last, an ideal voltage source a series arm first).

Units: angular frequencies are rad/s (``omega_rad_s``), ordinary frequencies Hz (``f_hz``), inductance henry
(``l_h``), capacitance farad (``c_f``), resistance ohm.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.polynomial import polynomial as P
from scipy import optimize, signal

from circuitlib.synthesis.band import resonator

__all__ = [
    "FAMILIES",
    "FORMS",
    "RESPONSES",
    "VARIANTS",
    "Arm",
    "Ladder",
    "denormalise",
    "g_values",
    "min_order",
    "net_admittance",
    "net_impedance",
    "prototype_zpk",
    "realisable_ratio",
    "response",
    "synthesise",
    "synthesize",
    "transform",
]

FAMILIES = ("butterworth", "chebyshev1", "chebyshev2", "elliptic", "bessel")
RESPONSES = ("lowpass", "highpass", "bandpass", "bandstop")
FORMS = ("shunt_first", "series_first")
VARIANTS = ("a", "b", "c")
DB3 = 10.0 * math.log10(2.0)  # 3.0103 dB: eps = 1, the classical Butterworth/Bessel edge
MAX_ORDER = 20
_CHECK_RTOL = 1e-6   # self-check of every synthesised ladder: relative error ...
_CHECK_ATOL = 1e-9   # ... or absolute error, as a fraction of gain_ref, in deep stopband

# A two-terminal LC network: ("L", l_h) | ("C", c_f) | ("series", (net, ...)) | ("parallel", (net, ...)).
Net = tuple
Band = float | Sequence[float]


# ----------------------------------------------------------------------------------------------- data structures
def _leaf(kind: str, value: float) -> Net:
    return (kind, float(value))


def _combo(kind: str, children: Sequence[Net]) -> Net:
    """A series/parallel node; nested nodes of the same kind are flattened."""
    flat: list[Net] = []
    for child in children:
        flat.extend(child[1] if child[0] == kind else (child,))
    return (kind, tuple(flat)) if len(flat) > 1 else flat[0]


def _inv(x: np.ndarray) -> np.ndarray:
    """1/x with 1/0 = inf and 1/inf = 0 (complex division would give nan)."""
    x = np.asarray(x, dtype=complex)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = 1.0 / np.where((x == 0) | ~np.isfinite(x), 1.0, x)
    return np.where(x == 0, np.inf, np.where(np.isfinite(x), out, 0.0))


def _total(parts: list[np.ndarray]) -> np.ndarray:
    """Sum of immittances in series/parallel; an infinite part makes the sum infinite."""
    parts = [np.asarray(p, dtype=complex) for p in parts]
    infinite = np.logical_or.reduce([~np.isfinite(p) for p in parts])
    return np.where(infinite, np.inf, sum(np.where(np.isfinite(p), p, 0.0) for p in parts))


def net_impedance(net: Net, s: np.ndarray) -> np.ndarray:
    """Impedance (ohm) of a network at complex frequency s (rad/s); inf for an open circuit."""
    kind = net[0]
    if kind == "L":
        return s * net[1]
    if kind == "C":
        return _inv(s * net[1])
    if kind == "series":
        return _total([net_impedance(child, s) for child in net[1]])
    return _inv(net_admittance(net, s))


def net_admittance(net: Net, s: np.ndarray) -> np.ndarray:
    """Admittance (siemens) of a network at complex frequency s (rad/s); inf for a short circuit."""
    kind = net[0]
    if kind == "L":
        return _inv(s * net[1])
    if kind == "C":
        return s * net[1]
    if kind == "parallel":
        return _total([net_admittance(child, s) for child in net[1]])
    return _inv(net_impedance(net, s))


def _leaves(net: Net) -> list[tuple[str, float]]:
    if net[0] in ("L", "C"):
        return [net]
    return [leaf for child in net[1] for leaf in _leaves(child)]


@dataclass(frozen=True)
class Arm:
    """One ladder arm. ``position``: "series" (in the signal path between two consecutive ladder nodes) or
    "shunt" (from a ladder node to ground). ``network``: a nested tree of ("series"|"parallel", children) with
    leaves ("L", l_h) / ("C", c_f). A lowpass ladder only has ("L", l), ("C", c), a series arm
    ("parallel", (("L", l), ("C", c))) (a trap) or a shunt arm ("series", (("L", l), ("C", c))) (dual trap);
    band transformations produce 2- and 4-element arms."""

    position: str
    network: Net

    @property
    def resonator(self) -> str:
        """"single" (one element), "parallel"/"series" (an LC pair in parallel/series), or "compound"."""
        if self.network[0] in ("L", "C"):
            return "single"
        return self.network[0] if len(_leaves(self.network)) == 2 else "compound"

    @property
    def l_h(self) -> float | None:
        """The inductance (H) when the arm holds exactly one inductor, else None."""
        values = [v for k, v in _leaves(self.network) if k == "L"]
        return values[0] if len(values) == 1 else None

    @property
    def c_f(self) -> float | None:
        """The capacitance (F) when the arm holds exactly one capacitor, else None."""
        values = [v for k, v in _leaves(self.network) if k == "C"]
        return values[0] if len(values) == 1 else None

    def elements(self) -> list[tuple[str, float]]:
        """All ("L", l_h) / ("C", c_f) leaves of the arm."""
        return _leaves(self.network)


@dataclass(frozen=True)
class Ladder:
    """An LC ladder between a source resistor ``rs_ohm`` (0 = ideal voltage source) and a load ``rl_ohm``
    (None = open output), arms listed from the source to the load.

    ``gain_ref``: the V_out/E that corresponds to |H| = 1 of the prototype, i.e. V_out/E = gain_ref * H.
    ``impedance_ohm`` / ``edges_rad_s``: the impedance level and band edges the values are scaled to
    (1 ohm and (1.0,) for a normalised prototype ladder). ``load_is_element``: True when the load resistor
    was added by the synthesis (unterminated request) and belongs to the filter."""

    arms: tuple[Arm, ...]
    rs_ohm: float
    rl_ohm: float | None
    family: str
    order: int
    form: str
    notes: tuple[str, ...] = ()
    gain_ref: float = 0.5
    variant: str = "a"
    ripple_db: float | None = None
    attenuation_db: float | None = None
    response_type: str = "lowpass"
    impedance_ohm: float = 1.0
    edges_rad_s: tuple[float, ...] = (1.0,)
    load_is_element: bool = False

    def elements(self) -> list[tuple[int, str, float]]:
        """(arm index, "L"|"C", value) for every reactive element."""
        return [(i, k, v) for i, arm in enumerate(self.arms) for k, v in arm.elements()]


# ----------------------------------------------------------------------------------------------- validation
def _check_family(family: str) -> str:
    name = str(family).lower()
    if name not in FAMILIES:
        raise ValueError(f"Unknown family {family!r}; expected one of {FAMILIES}.")
    return name


def _check_order(order: int, top: int = 25) -> int:
    if int(order) != order or not 1 <= order <= top:
        raise ValueError(f"Order must be an integer from 1 to {top}, got {order!r}.")
    return int(order)


def _ripple(family: str, ripple_db: float | None) -> float:
    if ripple_db is None:
        if family in ("butterworth", "bessel"):
            return DB3
        raise ValueError(f"The {family} family needs ripple_db (passband loss at the edge, dB).")
    if not 0 < ripple_db < 100:
        raise ValueError(f"ripple_db must lie in (0, 100) dB, got {ripple_db!r}.")
    return float(ripple_db)


def _attenuation(family: str, ripple_db: float, attenuation_db: float | None) -> float | None:
    if family not in ("chebyshev2", "elliptic"):
        return None
    if attenuation_db is None or not ripple_db < attenuation_db < 400:
        raise ValueError(f"The {family} family needs attenuation_db greater than ripple_db ({ripple_db} dB).")
    return float(attenuation_db)


def _eps2(ripple_db: float) -> float:
    return 10.0 ** (ripple_db / 10.0) - 1.0


# ----------------------------------------------------------------------------------------------- minimum order
def _band_args(response: str, passband_hz: Band, stopband_hz: Band) -> tuple[np.ndarray, np.ndarray]:
    wp = np.atleast_1d(np.asarray(passband_hz, dtype=float))
    ws = np.atleast_1d(np.asarray(stopband_hz, dtype=float))
    band = response in ("bandpass", "bandstop")
    if wp.shape != ws.shape or wp.shape != ((2,) if band else (1,)) or np.any(wp <= 0) or np.any(ws <= 0):
        raise ValueError(f"A {response} mask needs {'(lo, hi) pairs' if band else 'scalars'} of positive Hz.")
    ok = {"lowpass": lambda: wp[0] < ws[0], "highpass": lambda: ws[0] < wp[0],
          "bandpass": lambda: ws[0] < wp[0] < wp[1] < ws[1],
          "bandstop": lambda: wp[0] < ws[0] < ws[1] < wp[1]}[response]()
    if not ok:
        raise ValueError(f"Passband {passband_hz} / stopband {stopband_hz} do not form a {response} mask.")
    return wp, ws


def _lowpass_ratio(response: str, wp: np.ndarray, ws: np.ndarray) -> float:
    """The lowpass-equivalent stopband edge (passband edge = 1), as scipy's *ord functions compute it (for
    bandstop without scipy's optimisation of the passband edges)."""
    if response == "lowpass":
        nat = ws / wp
    elif response == "highpass":
        nat = wp / ws
    elif response == "bandpass":
        nat = (ws ** 2 - wp[0] * wp[1]) / (ws * (wp[0] - wp[1]))
    else:
        nat = (ws * (wp[0] - wp[1])) / (ws ** 2 - wp[0] * wp[1])
    return float(np.min(np.abs(nat)))


def min_order(family: str, response: str, passband_hz: Band, stopband_hz: Band, ripple_db: float,
              attenuation_db: float) -> tuple[int, float | tuple[float, ...]]:
    """Minimum order and natural frequency for a mask: max loss ``ripple_db`` in the passband, at least
    ``attenuation_db`` in the stopband. Edges are a float (lowpass/highpass) or a (lo, hi) pair (band filters).

    Units: the Hz values are passed to ``scipy.signal.buttord/cheb1ord/cheb2ord/ellipord(..., analog=True)``
    unconverted, so the order equals scipy's for the same Hz numbers exactly (the analog order is scale-free
    except for the tolerance of scipy's bandstop edge optimiser, which is why no 2*pi is applied) and the
    returned natural frequency (scipy's ``wn``) is in Hz. For "bessel" (no scipy *ord) the order is the smallest
    N in 1..25 whose prototype, scaled to exactly -ripple_db at the passband edge, attenuates at least
    attenuation_db at the lowpass-equivalent stopband edge; the returned frequency is then the passband edge(s)
    in Hz. Raises ValueError for an inconsistent mask or an unreachable Bessel mask."""
    family = _check_family(family)
    if response not in RESPONSES:
        raise ValueError(f"Unknown response {response!r}; expected one of {RESPONSES}.")
    if not 0 < ripple_db < attenuation_db:
        raise ValueError("Need 0 < ripple_db < attenuation_db.")
    wp, ws = _band_args(response, passband_hz, stopband_hz)
    wp_arg, ws_arg = (float(wp[0]), float(ws[0])) if wp.size == 1 else (list(wp), list(ws))
    if family == "bessel":
        return _bessel_order(_lowpass_ratio(response, wp, ws), ripple_db, attenuation_db), \
            (wp_arg if wp.size == 1 else tuple(wp_arg))
    ordfun = {"butterworth": signal.buttord, "chebyshev1": signal.cheb1ord, "chebyshev2": signal.cheb2ord,
              "elliptic": signal.ellipord}[family]
    n, wn = ordfun(wp_arg, ws_arg, ripple_db, attenuation_db, analog=True)
    wn = np.atleast_1d(wn)
    return int(n), (float(wn[0]) if wn.size == 1 else tuple(float(w) for w in wn))


def _bessel_order(nat: float, ripple_db: float, attenuation_db: float) -> int:
    for n in range(1, 26):
        z, p, k = prototype_zpk("bessel", n, ripple_db)
        _, h = signal.freqs_zpk(z, p, k, [nat])
        if -20.0 * math.log10(abs(h[0])) >= attenuation_db:
            return n
    raise ValueError(f"No Bessel filter of order <= 25 reaches {attenuation_db} dB at {nat:.4g} x the edge.")


# ----------------------------------------------------------------------------------------------- prototypes
def prototype_zpk(family: str, order: int, ripple_db: float | None = None, attenuation_db: float | None = None,
                  variant: str = "a") -> tuple[np.ndarray, np.ndarray, float]:
    """Analog lowpass prototype (z, p, k) with passband edge 1 rad/s, gain exactly -ripple_db at omega = 1 and
    max |H(j omega)| = 1 (at DC, or at the passband peaks for even-order Chebyshev I / elliptic, whose DC gain
    is -ripple_db).

    Butterworth and Bessel are rescaled in frequency from scipy's -3 dB normalisation (ripple_db defaults to
    3.0103 dB, eps = 1); Chebyshev I and elliptic are scipy's ``cheb1ap``/``ellipap``; Chebyshev II is
    ``cheb2ap(order, attenuation_db)`` scaled so that its passband edge (gain -ripple_db) is at 1 rad/s (the
    stopband edge then lies at cosh(acosh(sqrt((10^(A/10) - 1)/(10^(R/10) - 1)))/N)).

    ``variant`` (even-order elliptic and Chebyshev II only): "a" is scipy's function (|H(inf)| != 0); "b" maps
    omega^2 bilinearly so that the highest transmission zero moves to infinity (DC and the passband edge stay,
    the passband stays equiripple); "c" (elliptic) also moves the lowest reflection zero to DC, so H(0) = 1.
    These are the classical Saal & Ulbrich (1958) types b and c."""
    family = _check_family(family)
    order = _check_order(order)
    ripple_db = _ripple(family, ripple_db)
    attenuation_db = _attenuation(family, ripple_db, attenuation_db)
    if family == "butterworth":
        z, p, k = signal.buttap(order)
        z, p, k = signal.lp2lp_zpk(z, p, k, wo=_eps2(ripple_db) ** (-0.5 / order))
    elif family == "chebyshev1":
        z, p, k = signal.cheb1ap(order, ripple_db)
    elif family == "elliptic":
        z, p, k = signal.ellipap(order, ripple_db, attenuation_db)
    elif family == "chebyshev2":
        z, p, k = signal.cheb2ap(order, attenuation_db)
        ratio = math.sqrt(_eps2(attenuation_db) / _eps2(ripple_db))
        z, p, k = signal.lp2lp_zpk(z, p, k, wo=math.cosh(math.acosh(ratio) / order))
    else:
        z, p, k = _bessel_zpk(order, ripple_db)
    z, p = np.atleast_1d(np.asarray(z, dtype=complex)), np.atleast_1d(np.asarray(p, dtype=complex))
    _check_variant(family, order, variant)
    if variant == "b":
        return _type_b(z, p, k)
    if variant == "c":
        return _type_c(z, p, k)
    return z, p, float(k)


def _bessel_zpk(order: int, ripple_db: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The Bessel prototype scaled to -ripple_db at 1 rad/s (a fresh copy of the cached one)."""
    z, p, k = _bessel_zpk_cached(order, ripple_db)
    return z.copy(), p.copy(), k


@functools.lru_cache(maxsize=1024)
def _bessel_zpk_cached(order: int, ripple_db: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Cached: the minimum Bessel order and the design-level search ask for the same prototypes many times, and
    scipy's besselap finds its poles iteratively (2 ms each)."""
    z, p, k = signal.besselap(order, norm="mag")

    def loss(log_w: float) -> float:
        _, h = signal.freqs_zpk(z, p, k, [math.exp(log_w)])
        return -20.0 * math.log10(abs(h[0])) - ripple_db

    edge = math.exp(optimize.brentq(loss, math.log(1e-8), math.log(1e8), xtol=1e-15, rtol=4 * np.finfo(float).eps))
    return signal.lp2lp_zpk(z, p, k, wo=1.0 / edge)


def _check_variant(family: str, order: int, variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"Unknown variant {variant!r}; expected one of {VARIANTS}.")
    if variant == "a":
        return
    if family not in ("elliptic", "chebyshev2") or order % 2:
        raise ValueError("Variants 'b' and 'c' exist only for even-order elliptic and chebyshev2 functions.")
    if variant == "c" and family == "chebyshev2":
        raise ValueError("Variant 'c' is defined for elliptic functions only (Chebyshev II already has H(0) = 1).")
    if order < 2:
        raise ValueError("Variants 'b' and 'c' need order >= 2.")


def _map_poles(roots: np.ndarray, new_y) -> np.ndarray:
    """Map poles s' through s^2 = new_y(s'^2), keeping the left-half-plane square root."""
    s = np.sqrt(new_y(roots.astype(complex) ** 2))
    return np.where(s.real > 0, -s, s)


def _map_zeros(roots: np.ndarray, new_y) -> np.ndarray:
    """Map j omega-axis zeros s' through s^2 = new_y(s'^2), keeping each on its half of the axis."""
    y = new_y(-(roots.imag ** 2)).real
    return 1j * np.sign(roots.imag) * np.sqrt(-y)


def _finite_zeros(z: np.ndarray) -> np.ndarray:
    """Positive transmission-zero frequencies Omega (rad/s), one per conjugate pair, ascending."""
    return np.sort(np.abs(z.imag[z.imag > 0]))


def _regain(z: np.ndarray, p: np.ndarray, h0: float) -> tuple[np.ndarray, np.ndarray, float]:
    k = h0 * np.prod(-p).real / np.prod(-z).real if z.size else h0 * np.prod(-p).real
    return z, p, float(k)


def _type_b(z: np.ndarray, p: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray, float]:
    """s^2 = s'^2 (W^2 - 1)/(W^2 + s'^2): omega = 0 and 1 fixed, the highest zero W moves to infinity."""
    w2 = _finite_zeros(z)[-1] ** 2
    h0 = abs(k * np.prod(-z) / np.prod(-p))
    zk = z[np.abs(np.abs(z) ** 2 - w2) > 1e-9 * w2]
    new_y = lambda y: y * (w2 - 1.0) / (w2 + y)
    return _regain(_map_zeros(zk, new_y), _map_poles(p, new_y), h0)


def _type_c(z: np.ndarray, p: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray, float]:
    """s^2 = (s'^2 + a)/(g (W^2 + s'^2)), a = lowest reflection zero^2, g = (1 - a)/(W^2 - 1): the lowest
    reflection zero moves to DC, the highest zero W to infinity, omega = 1 stays fixed."""
    w2 = _finite_zeros(z)[-1] ** 2
    num, den = _zpk_polys(z, p, k)
    refl = _double_roots(P.polysub(_even_square(den), _even_square(num)))   # y = -omega_r^2, ascending
    a = -refl[-1]
    g = (1.0 - a) / (w2 - 1.0)
    zk = z[np.abs(np.abs(z) ** 2 - w2) > 1e-9 * w2]
    new_y = lambda y: (y + a) / (g * (w2 + y))
    return _regain(_map_zeros(zk, new_y), _map_poles(p, new_y), 1.0)


# ----------------------------------------------------------------------------------------------- polynomials
def _zpk_polys(z: np.ndarray, p: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) ascending real coefficients, H = N/D, D monic."""
    num = k * (P.polyfromroots(z).real if z.size else np.ones(1))
    return num, P.polyfromroots(p).real


def _even_square(a: np.ndarray) -> np.ndarray:
    """A(s)A(-s) as a polynomial in y = s^2 (ascending)."""
    neg = a * (-1.0) ** np.arange(a.size)
    return P.polymul(a, neg)[::2]


def _double_roots(r: np.ndarray) -> np.ndarray:
    """The roots y_i of f where r(y) = c f(y)^2 and f has simple negative real roots only (reflection zeros
    y = -omega^2 on the j omega axis). They are the alternate roots of r' (f' interlaces f), which, unlike the
    double roots of r, are well conditioned; each is polished by Newton steps on r'."""
    d = (r.size - 1) // 2
    if d == 0:
        return np.zeros(0)
    dr, ddr = P.polyder(r), P.polyder(r, 2)
    roots = np.sort(P.polyroots(dr).real)[::2]
    for _ in range(3):
        roots = roots - P.polyval(roots, dr) / P.polyval(roots, ddr)
    if roots.size != d or np.any(roots >= 0):
        raise RuntimeError("Reflection zeros are not on the j omega axis as expected; numerical failure.")
    return roots


# ----------------------------------------------------------------------------------------------- realisability
def _dc_lossy(family: str, order: int, variant: str) -> bool:
    """True when H(0) = 1/sqrt(1 + eps^2) (even Chebyshev I, even elliptic types a and b)."""
    return order % 2 == 0 and (family == "chebyshev1" or (family == "elliptic" and variant in "ab"))


def _inf_gain(family: str, order: int, variant: str) -> bool:
    """True when |H(inf)| != 0 (scipy's even-order elliptic and Chebyshev II, type a)."""
    return order % 2 == 0 and family in ("elliptic", "chebyshev2") and variant == "a"


def realisable_ratio(family: str, order: int, ripple_db: float | None = None,
                     variant: str = "a") -> tuple[tuple[float, ...] | None, str]:
    """The load/source ratios rl/rs a doubly terminated ladder can have, with an explanation.

    Returns (None, why) when any ratio works, ((r0, 1/r0), why) for the DC-lossy functions (even-order
    Chebyshev I, elliptic types a/b): at DC the ladder is a resistive divider whose mismatch loss must equal the
    ripple, so rl/rs = r0 = (sqrt(1 + eps^2) + eps)^2 or 1/r0 for |S21| = 1 at the reflection zeros
    (the tabulated case; "series_first" needs r0 > 1, "shunt_first" 1/r0). Ratios further from 1 are also
    realisable, with a flat loss K^2 = 4 r (1 + eps^2)/(1 + r)^2 < 1; ratios strictly between 1/r0 and r0,
    equal terminations included, are not. Returns ((), why) when no ratio works (even-order type a elliptic and
    Chebyshev II: |H(inf)| != 0, which no transformerless LC ladder can produce)."""
    family = _check_family(family)
    order = _check_order(order)
    _check_variant(family, order, variant)
    if _inf_gain(family, order, variant):
        return (), (f"An even-order type a {family} function has a nonzero gain at infinity, which no "
                    "transformerless LC ladder between resistors can realise; use variant 'b' (or 'c').")
    if not _dc_lossy(family, order, variant):
        return None, ("Any ratio is realisable: H(0) = 1, and rs != rl only adds the flat mismatch loss "
                      "K^2 = 4 rs rl/(rs + rl)^2. For some even orders the ratio's side (rl > rs or rl < rs) "
                      "fixes the form; synthesise says so.")
    ripple_db = _ripple(family, ripple_db)
    eps = math.sqrt(_eps2(ripple_db))
    r0 = (math.sqrt(1.0 + eps * eps) + eps) ** 2
    return (r0, 1.0 / r0), (
        f"At DC the even-order ladder is a resistive divider whose loss must equal the {ripple_db:g} dB ripple, "
        f"so rl/rs must be {r0:.6g} (form 'series_first') or {1 / r0:.6g} (form 'shunt_first'); ratios further "
        "from 1 work with an extra flat loss, ratios in between (equal terminations included) do not.")


# ----------------------------------------------------------------------------------------------- high precision
# The Cauer/zero-shifting expansion of a driving-point function given by polynomial coefficients is badly
# conditioned at high order (element errors grow about tenfold per extracted element in double precision). The
# prototype's poles and zeros (floats) are therefore taken as exact, every polynomial of the synthesis is formed
# and expanded in 60-digit decimal arithmetic, and the spectral factor's roots are Newton-polished to that
# precision; only the final element values are rounded to floats.
_PREC = 60
Dec = decimal.Decimal
HPoly = list  # ascending Decimal coefficients


def _hp_context():
    return decimal.localcontext(decimal.Context(prec=_PREC, Emax=999999, Emin=-999999))


def _hp_add(a: HPoly, b: HPoly, scale: Dec | None = None) -> HPoly:
    """a + scale * b (scale 1 by default)."""
    scale = Dec(1) if scale is None else scale
    out = list(a) + [Dec(0)] * max(0, len(b) - len(a))
    for i, x in enumerate(b):
        out[i] += scale * x
    return out


def _hp_mul(a: HPoly, b: HPoly) -> HPoly:
    out = [Dec(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return out


def _hp_val(a: HPoly, x: Dec) -> Dec:
    acc = Dec(0)
    for c in reversed(a):
        acc = acc * x + c
    return acc


def _hp_cval(a: HPoly, xr: Dec, xi: Dec) -> tuple[Dec, Dec]:
    """a(xr + j xi) by Horner's rule in complex arithmetic."""
    ar, ai = Dec(0), Dec(0)
    for c in reversed(a):
        ar, ai = ar * xr - ai * xi + c, ar * xi + ai * xr
    return ar, ai


def _hp_der(a: HPoly) -> HPoly:
    return [i * c for i, c in enumerate(a)][1:] or [Dec(0)]


def _cdiv(a: tuple[Dec, Dec], b: tuple[Dec, Dec]) -> tuple[Dec, Dec]:
    den = b[0] * b[0] + b[1] * b[1]
    return (a[0] * b[0] + a[1] * b[1]) / den, (a[1] * b[0] - a[0] * b[1]) / den


def _csqrt_lhp(yr: Dec, yi: Dec) -> tuple[Dec, Dec]:
    """The square root of yr + j yi with negative real part."""
    mod = (yr * yr + yi * yi).sqrt()
    re = ((mod + yr) / 2).sqrt()
    im = ((mod - yr) / 2).sqrt().copy_sign(yi) if yi else Dec(0)
    return -re, -im


def _hp_from_factors(m0: int, reals: Sequence[Dec], quads: Sequence[tuple[Dec, Dec]], lead: Dec) -> HPoly:
    """lead * s^m0 * prod(s - r) * prod(s^2 + b s + c)."""
    poly = [Dec(0)] * m0 + [lead]
    for r in reals:
        poly = _hp_mul(poly, [-r, Dec(1)])
    for b, c in quads:
        poly = _hp_mul(poly, [c, b, Dec(1)])
    return poly


def _hp_zpk(pr: _Proto) -> tuple[HPoly, HPoly]:
    """(N, D) from the prototype's float zeros (all on the j omega axis) and poles, taken as exact."""
    reals = [Dec(float(x.real)) for x in pr.p if abs(x.imag) <= 1e-12 * abs(x)]
    quads = [(-2 * Dec(float(x.real)), Dec(float(x.real)) ** 2 + Dec(float(x.imag)) ** 2)
             for x in pr.p if x.imag > 1e-12 * abs(x)]
    if len(reals) + 2 * len(quads) != pr.order:
        raise RuntimeError("Prototype poles are not in conjugate pairs.")
    den = _hp_from_factors(0, reals, quads, Dec(1))
    num = _hp_from_factors(0, [], [(Dec(0), Dec(float(w)) ** 2) for w in pr.zeros], Dec(float(pr.k)))
    return num, den


def _hp_even_square(a: HPoly) -> HPoly:
    """A(s)A(-s) as a polynomial in y = s^2."""
    neg = [c if i % 2 == 0 else -c for i, c in enumerate(a)]
    return _hp_mul(a, neg)[::2]


def _newton_real(f: HPoly, y: Dec) -> Dec:
    df = _hp_der(f)
    for _ in range(40):
        step = _hp_val(f, y) / _hp_val(df, y)
        y -= step
        if abs(step) <= Dec(10) ** (8 - _PREC) * max(abs(y), Dec(1)):
            break
    return y


def _newton_complex(f: HPoly, yr: Dec, yi: Dec) -> tuple[Dec, Dec]:
    df = _hp_der(f)
    for _ in range(40):
        sr, si = _cdiv(_hp_cval(f, yr, yi), _hp_cval(df, yr, yi))
        yr, yi = yr - sr, yi - si
        if abs(sr) + abs(si) <= Dec(10) ** (8 - _PREC) * max(abs(yr) + abs(yi), Dec(1)):
            break
    return yr, yi


def _hp_roots(f: HPoly) -> tuple[list[Dec], list[tuple[Dec, Dec]]]:
    """Real roots and complex roots (one of each conjugate pair, imaginary part > 0) of a real polynomial:
    double-precision roots polished by Newton's method at 60 digits, then checked by reconstruction."""
    approx = P.polyroots(np.array([float(c) for c in f])) if len(f) > 1 else np.zeros(0)
    reals = [_newton_real(f, Dec(float(y.real))) for y in approx if abs(y.imag) <= 1e-10 * abs(y)]
    pairs = [_newton_complex(f, Dec(float(y.real)), Dec(float(y.imag))) for y in approx
             if y.imag > 1e-10 * abs(y)]
    rebuilt = _hp_from_factors(0, reals, [(-2 * r, r * r + i * i) for r, i in pairs], f[-1])
    scale = max(abs(c) for c in f)
    if len(rebuilt) != len(f) or max(abs(a - b) for a, b in zip(rebuilt, f)) > Dec(10) ** -30 * scale:
        raise RuntimeError("Root polishing of the spectral factor failed (clustered roots).")
    return reals, pairs


# ----------------------------------------------------------------------------------------------- expansion
def _spiral(zeros: Sequence[float]) -> list[float]:
    """Saal & Ulbrich's extraction order: highest zero first, second highest last, then inwards, so that the
    lowest ends in the middle (it avoids negative elements)."""
    desc = sorted(zeros, reverse=True)
    left, right = desc[0::2], desc[1::2]
    return left + right[::-1]


def _hp_shift_sub(a: HPoly, c: Dec, b: HPoly) -> HPoly:
    """a(s) - c s b(s), without trimming (degrees are tracked explicitly)."""
    return _hp_add(a, [Dec(0)] + list(b), -c)


def _hp_div_resonance(a: HPoly, w2: Dec) -> HPoly:
    """Quotient of a(s)/(s^2 + w2); the remainder, zero in exact arithmetic, is dropped."""
    a = list(a)
    quo = [Dec(0)] * (len(a) - 2)
    for i in range(len(a) - 1, 1, -1):
        quo[i - 2] = a[i]
        a[i - 2] -= w2 * a[i]
    return quo


def _zero_shift(p: HPoly, q: HPoly, kind: str, omega: float):
    """One zero-shifting step at j omega on F = p/q (pole at infinity; impedance if kind == "Z", admittance if
    "Y"): partial removal of c s so that the remainder vanishes at j omega, then full removal of the pole pair
    +-j omega of its inverse. Returns (partial arm, trap arm, p', q') with p'/q' of the same kind, or None if an
    element is not positive."""
    w = Dec(float(omega))
    w2 = w * w
    c = _cdiv(_hp_cval(p, Dec(0), w), _hp_cval(q, Dec(0), w))[1] / w
    if not 0 < c < p[-1] / q[-1]:
        return None
    t = _hp_div_resonance(_hp_shift_sub(p, c, q), w2)
    k = _cdiv(_hp_cval(q, Dec(0), w), _hp_cval(t, Dec(0), w))[1] / w       # q/(s t) at s = j w (real)
    if not k > 0:
        return None
    u = _hp_div_resonance(_hp_shift_sub(q, k, t), w2)
    if kind == "Y":   # shunt C, then a series arm of parallel L C with impedance k s/(s^2 + omega^2)
        arms = (Arm("shunt", _leaf("C", c)),
                Arm("series", _combo("parallel", (_leaf("L", k / w2), _leaf("C", 1 / k)))))
    else:             # series L, then a shunt arm of series L C with admittance k s/(s^2 + omega^2)
        arms = (Arm("series", _leaf("L", c)),
                Arm("shunt", _combo("series", (_leaf("L", 1 / k), _leaf("C", k / w2)))))
    return arms[0], arms[1], t, u


def _full_step(p: HPoly, q: HPoly, kind: str):
    """Full removal of the pole at infinity of F = p/q (a transmission zero at infinity): a shunt C (kind "Y")
    or a series L (kind "Z"). Returns (arm, remainder) when that was the last element (the remainder is the
    constant immittance left, of the same kind), (arm, (p', q', kind')) with F' = p'/q' the inverse of the
    remainder otherwise, or None when the element is not positive or the remainder has no zero at infinity."""
    c = p[-1] / q[-1]
    if not c > 0:
        return None
    arm = Arm("shunt", _leaf("C", c)) if kind == "Y" else Arm("series", _leaf("L", c))
    rest = _hp_shift_sub(p, c, q)
    if len(q) == 1:
        return arm, float(rest[0] / q[0])
    if abs(rest[len(q) - 1]) > Dec(10) ** (20 - _PREC) * max(abs(x) for x in rest):
        return None
    return arm, (q, rest[: len(q) - 1], "Z" if kind == "Y" else "Y")


def _search(p: HPoly, q: HPoly, kind: str, finite: tuple[float, ...], n_inf: int, prefer: Sequence[float]):
    """Depth-first search over extraction sequences: each finite zero by zero shifting, zeros at infinity by
    full removal (one of them always last; others may come earlier when n_inf >= 2, which switches the kind of
    the traps that follow). Candidates are tried in the order of ``prefer`` (finite zeros) then infinity.
    Returns (arms, (remainder, kind), sequence) for the first sequence with all elements positive, or None."""
    if not finite:
        arms: list[Arm] = []
        for _ in range(n_inf):
            step = _full_step(p, q, kind)
            if step is None:
                return None
            arms.append(step[0])
            if not isinstance(step[1], tuple):
                return arms, (step[1], kind), [math.inf] * n_inf
            p, q, kind = step[1]
        return None
    options = [w for w in prefer if w in finite] + ([math.inf] if n_inf >= 2 else [])
    for w in options:
        if w == math.inf:
            step = _full_step(p, q, kind)
            if step is None or not isinstance(step[1], tuple):
                continue
            head, (p2, q2, kind2), rest = [step[0]], step[1], (finite, n_inf - 1)
        else:
            step = _zero_shift(p, q, kind, w)
            if step is None:
                continue
            head, (p2, q2, kind2), rest = list(step[:2]), (step[2], step[3], kind), \
                (tuple(x for x in finite if x != w), n_inf)
        out = _search(p2, q2, kind2, rest[0], rest[1], prefer)
        if out is not None:
            return head + out[0], out[1], [w] + out[2]
    return None


def _expand_any_order(p, q, kind, order: int, zeros: Sequence[float], zero_order: Sequence[float] | None):
    """Expand F = p/q with the requested extraction sequence, or search (Saal & Ulbrich's spiral order with
    the zeros at infinity last first). Returns ((arms, (remainder, kind)), sequence)."""
    n_inf = order - 2 * len(zeros)
    if zero_order is not None:
        mids = sum(1 for w in zero_order if w == math.inf)
        out = _fixed_sequence(p, q, kind, list(zero_order), n_inf - mids) if mids < n_inf else None
    else:
        out = _search(p, q, kind, tuple(zeros), n_inf, _spiral(zeros))
    if out is None:
        raise ValueError("No ladder of positive elements realises this function in this form: zero shifting gives "
                         "a negative element for every extraction order (typical of Chebyshev II at low "
                         "attenuation_db for its order).")
    return (out[0], out[1]), out[2]


def _fixed_sequence(p, q, kind, sequence: list[float], tail: int):
    arms: list[Arm] = []
    for w in sequence:
        step = _full_step(p, q, kind) if w == math.inf else _zero_shift(p, q, kind, w)
        if step is None or (w == math.inf and not isinstance(step[1], tuple)):
            return None
        if w == math.inf:
            arms.append(step[0])
            p, q, kind = step[1]
        else:
            arms += step[:2]
            p, q = step[2], step[3]
    out = _search(p, q, kind, (), tail, [])
    return None if out is None else (arms + out[0], out[1], sequence + out[2])


def _match_zeros(zeros: np.ndarray, zero_order: Sequence[float] | None) -> list[float] | None:
    if zero_order is None:
        return None
    picked = [math.inf if w == math.inf else float(zeros[np.argmin(np.abs(zeros - w))]) for w in zero_order]
    if sorted(w for w in picked if w != math.inf) != sorted(zeros.tolist()):
        raise ValueError(f"zero_order {list(zero_order)} must list each transmission zero {zeros.tolist()} once.")
    return picked


# ----------------------------------------------------------------------------------------------- synthesis
@dataclass(frozen=True)
class _Proto:
    family: str
    order: int
    ripple_db: float
    attenuation_db: float | None
    variant: str
    z: np.ndarray
    p: np.ndarray
    k: float
    h0: float
    zeros: np.ndarray
    dc_mult: int     # multiplicity of the reflection zero at DC, as a root of D D* - N N* in y = s^2


def _dc_multiplicity(family: str, order: int, variant: str) -> int:
    if family in ("butterworth", "chebyshev2"):
        return order
    if family == "bessel":
        return 1
    if family == "elliptic" and variant == "c":
        return 2
    return order % 2


def _proto(family: str, order: int, ripple_db: float | None, attenuation_db: float | None, variant: str) -> _Proto:
    family = _check_family(family)
    order = _check_order(order, MAX_ORDER)
    ripple_db = _ripple(family, ripple_db)
    attenuation_db = _attenuation(family, ripple_db, attenuation_db)
    z, p, k = prototype_zpk(family, order, ripple_db, attenuation_db, variant)
    if _inf_gain(family, order, variant):
        raise ValueError(realisable_ratio(family, order, ripple_db, variant)[1])
    num, den = _zpk_polys(z, p, k)
    return _Proto(family, order, ripple_db, attenuation_db, variant, z, p, k, float(num[0] / den[0]),
                  _finite_zeros(z), _dc_multiplicity(family, order, variant))


def _reflection_poly(pr: _Proto, num: HPoly, den: HPoly, delta: float, sigma: int, want_sign: int,
                     form: str, half: str = "lhp") -> tuple[HPoly, HPoly]:
    """(F, D): F(s)F(-s) = D D* - K^2 N N* (delta = 1 - K^2) with leading coefficient sigma, and
    sign(F(0)) = want_sign (the sign of rl - rs) when F(0) != 0. Left-half-plane zeros by default (reflection
    zeros on the j omega axis taken once each; half="rhp" mirrors the others); a real zero is mirrored when
    that fixes the sign of F(0).

    With delta > 0, F is a polished spectral factor of the exact D D* - K^2 N N*. With delta = 0 the reflection
    zeros have exact structure (multiplicity dc_mult at DC, double zeros on the axis), which the float poles
    satisfy only to rounding; the expansion needs exact consistency, so the structured F is kept and D is
    re-derived as the Hurwitz factor of F F* + N N* (its roots move by rounding-level amounts only).
    Raises ValueError if no spectral factor has the requested sign."""
    dd, nn = _hp_even_square(den), _hp_even_square(num)
    py = _hp_add(dd, nn, Dec(float(delta)) - 1)
    m0 = pr.dc_mult if delta == 0 else 0
    py[:m0] = [Dec(0)] * m0                     # exact zeros: reflection zero of order dc_mult at DC
    rest = py[m0:]
    reals: list[Dec] = []
    if delta == 0 and pr.family != "bessel":    # reflection zeros all double, on the j omega axis
        dr = _hp_der(rest)
        ys = [_newton_real(dr, Dec(float(y))) for y in _double_roots(np.array([float(c) for c in rest]))]
        quads = [(Dec(0), -y) for y in ys]
    else:
        yr, pairs = _hp_roots(rest)
        if any(y < 0 for y in yr):
            raise RuntimeError("Unexpected simple reflection zero on the j omega axis.")
        flip = -1 if half == "rhp" else 1
        reals = [-flip * y.sqrt() for y in yr]
        quads = [(-2 * flip * sr, sr * sr + si * si) for sr, si in (_csqrt_lhp(a, b) for a, b in pairs)]
    f = _hp_from_factors(m0, reals, quads, Dec(sigma))
    if want_sign and (f[0] > 0) != (want_sign > 0):
        if not reals:
            side = "rl > rs" if f[0] > 0 else "rl < rs"
            raise ValueError(f"An order-{pr.order} {pr.family} ladder in form {form!r} needs {side} here; "
                             "use the other form or swap the terminations.")
        reals[0] = -reals[0]
        f = _hp_from_factors(m0, reals, quads, Dec(sigma))
    if delta == 0:
        den = _hurwitz_factor(_hp_add(_hp_even_square(f), nn), pr.p)
    return f, den


def _hurwitz_factor(g: HPoly, poles: np.ndarray) -> HPoly:
    """The monic Hurwitz D with D(s)D(-s) = g(s^2), its roots polished from the given approximate poles."""
    reals = [-_newton_real(g, Dec(float(x.real)) ** 2).sqrt() for x in poles if abs(x.imag) <= 1e-12 * abs(x)]
    quads = []
    for x in poles[poles.imag > 1e-12 * np.abs(poles)]:
        y2 = Dec(float(x.real)) ** 2 - Dec(float(x.imag)) ** 2
        yi = 2 * Dec(float(x.real)) * Dec(float(x.imag))
        sr, si = _csqrt_lhp(*_newton_complex(g, y2, yi))
        quads.append((-2 * sr, sr * sr + si * si))
    den = _hp_from_factors(0, reals, quads, Dec(1))
    check = _hp_add(_hp_even_square(den), g, Dec(-1))
    if max(abs(c) for c in check) > Dec(10) ** -30 * max(abs(c) for c in g):
        raise RuntimeError("Re-deriving the Hurwitz denominator failed.")
    return den


def _mismatch(pr: _Proto, r: float) -> tuple[float, float, str | None]:
    """(delta = 1 - K^2, realised rl/rs, note) for rl/rs = r; raises ValueError when K^2 > 1."""
    if not _dc_lossy(pr.family, pr.order, pr.variant):
        return ((r - 1.0) / (r + 1.0)) ** 2, r, None
    e2 = 1.0 / pr.h0 ** 2 - 1.0
    delta = ((r - 1.0) ** 2 - 4.0 * r * e2) / (1.0 + r) ** 2
    if delta < -1e-6:
        raise ValueError(f"rl/rs = {r:.6g} is not realisable: "
                         + realisable_ratio(pr.family, pr.order, pr.ripple_db, pr.variant)[1])
    if delta > 1e-12:
        return delta, r, None
    r0 = (math.sqrt(1.0 + e2) + math.sqrt(e2)) ** 2
    exact = r0 if r > 1 else 1.0 / r0
    note = None if abs(exact / r - 1) < 1e-12 else f"rl/rs = {r:.8g} snapped to the matched ratio {exact:.10g}"
    return 0.0, exact, note


def _doubly(pr: _Proto, r: float, form: str, zero_order, half: str) -> tuple[list[Arm], float, float, list[str]]:
    """Doubly terminated ladder with rs = 1, rl = r: (arms, realised rl, gain_ref, notes)."""
    delta, r, note = _mismatch(pr, r)
    sigma = -1 if form == "shunt_first" else 1
    with _hp_context():
        num, den = _hp_zpk(pr)
        f, den = _reflection_poly(pr, num, den, delta, sigma, (r > 1) - (r < 1), form, half)
        plus, minus = _hp_add(den, f), _hp_add(den, f, Dec(-1))
        p, q, kind = (minus, plus[:-1], "Y") if form == "shunt_first" else (plus, minus[:-1], "Z")
        (arms, (value, last)), order = _expand_any_order(p, q, kind, pr.order, pr.zeros.tolist(), zero_order)
    rl = value if last == "Z" else 1.0 / value
    if not abs(rl / r - 1.0) < 1e-9:
        raise RuntimeError(f"Synthesis ended on {rl!r} ohm instead of {r!r}: numerical failure.")
    notes = [f"doubly terminated, K^2 = {1 - delta:.12g}"] + ([note] if note else [])
    if pr.zeros.size:
        notes.append("zero extraction order (rad/s): " + ", ".join(f"{w:.6g}" for w in order))
    return arms, r, (r / (1.0 + r)) / pr.h0, notes


def _singly(pr: _Proto, open_output: bool, zero_order) -> tuple[list[Arm], str, list[str]]:
    """Singly terminated ladder, normalised resistor 1 ohm: (arms from the source, form, notes). With
    D = m + n: open output expands z11 = m/n from the source, ideal source expands y22 = m/n from the load."""
    pole_at_inf_even = pr.order % 2 == 0
    kind = ("Z" if pole_at_inf_even else "Y") if open_output else ("Y" if pole_at_inf_even else "Z")
    zo = None if zero_order is None else (list(zero_order) if open_output else list(zero_order)[::-1])
    with _hp_context():
        den = _hp_zpk(pr)[1]
        even = [c if i % 2 == 0 else Dec(0) for i, c in enumerate(den)]
        odd = [c if i % 2 == 1 else Dec(0) for i, c in enumerate(den)]
        even, odd = (even, odd[:-1]) if pole_at_inf_even else (even[:-1], odd)
        p, q = (even, odd) if pole_at_inf_even else (odd, even)
        (arms, (value, last)), order = _expand_any_order(p, q, kind, pr.order, pr.zeros.tolist(), zo)
    expected = "Y" if open_output else "Z"      # the remainder: open (Y = 0) or short (Z = 0)
    if last != expected or not abs(value) < 1e-9:
        raise RuntimeError("Singly terminated expansion did not end on an open/short: numerical failure.")
    if not open_output:
        arms, order = arms[::-1], order[::-1]
    form = "shunt_first" if arms[0].position == "shunt" else "series_first"
    notes = ["singly terminated, " + ("open output, rs = 1" if open_output else "ideal source, rl = 1")]
    if pr.zeros.size:
        notes.append("zero extraction order from the source (rad/s): " + ", ".join(f"{w:.6g}" for w in order))
    return arms, form, notes


def synthesise(family: str, order: int, ripple_db: float | None = None, attenuation_db: float | None = None, *,
               rs_ohm: float = 1.0, rl_ohm: float | None = 1.0, form: str | None = None, variant: str = "a",
               zero_order: Sequence[float] | None = None, s11_zeros: str = "lhp") -> Ladder:
    """Exact LC ladder realising ``prototype_zpk(family, order, ripple_db, attenuation_db, variant)``.

    Terminations: ``rs_ohm > 0`` and ``rl_ohm > 0`` (doubly terminated; only rl/rs matters), ``rl_ohm=None``
    (open output), ``rs_ohm=0`` (ideal voltage source), or both (unterminated: realised as the ideal-source
    design with a 1 ohm normalised load that is part of the filter, ``Ladder.load_is_element``). The returned
    ladder is normalised: rs = 1 ohm (rl = 1 ohm when rs = 0), passband edge 1 rad/s; use ``denormalise`` or
    ``transform`` for real values. V_out/E = gain_ref * H(s) (see the module docstring for gain_ref and the
    mismatch rule K^2 = 4 rs rl/(rs + rl)^2).

    ``form``: "shunt_first" or "series_first" (None: shunt_first when possible, else series_first; singly
    terminated ladders have one possible form). ``zero_order``: finite transmission-zero frequencies (rad/s,
    normalised) in the order of extraction from the source; ``math.inf`` entries place a zero at infinity
    (a full removal) early (default: Saal & Ulbrich's spiral order with the zeros at infinity last, then a
    search over all sequences for one with positive elements). ``s11_zeros``: "lhp" (default, minimum-phase
    reflection coefficient) or "rhp": the half plane of the reflection zeros that are not on the j omega axis
    (doubly terminated only; for equal terminations "rhp" gives the mirror-image ladder, e.g. Bessel).

    Raises ValueError, with one sentence saying why, for unrealisable requests: rl/rs inside the forbidden
    band of a DC-lossy function (see ``realisable_ratio``), an even-order type a elliptic/Chebyshev II function
    (nonzero gain at infinity: use variant "b"/"c"), or a form that the terminations or order exclude."""
    pr = _proto(family, order, ripple_db, attenuation_db, variant)
    if form is not None and form not in FORMS:
        raise ValueError(f"Unknown form {form!r}; expected one of {FORMS} or None.")
    if not (math.isfinite(rs_ohm) and rs_ohm >= 0) or (rl_ohm is not None and not (math.isfinite(rl_ohm)
                                                                                     and rl_ohm > 0)):
        raise ValueError("Need rs_ohm >= 0 (0 = ideal source) and rl_ohm > 0 or None (open output).")
    zeros = _match_zeros(pr.zeros, zero_order)
    common = {"family": pr.family, "order": pr.order, "variant": pr.variant, "ripple_db": pr.ripple_db,
              "attenuation_db": pr.attenuation_db}
    if rs_ohm > 0 and rl_ohm is not None:
        if s11_zeros not in ("lhp", "rhp"):
            raise ValueError(f"s11_zeros must be 'lhp' or 'rhp', got {s11_zeros!r}.")
        ladder = _doubly_with_form(pr, rl_ohm / rs_ohm, form, zeros, common, s11_zeros)
    else:
        ladder = _singly_ladder(pr, rs_ohm, rl_ohm, form, zeros, common)
    _self_check(ladder, pr)
    return ladder


synthesize = synthesise


def _doubly_with_form(pr: _Proto, r: float, form: str | None, zeros, common: dict, half: str) -> Ladder:
    tried: list[str] = []
    for f in ([form] if form else list(FORMS)):
        try:
            arms, rl, gain, notes = _doubly(pr, r, f, zeros, half)
        except ValueError as err:
            tried.append(str(err))
            continue
        return Ladder(tuple(arms), 1.0, rl, form=f, notes=tuple(notes), gain_ref=gain, **common)
    raise ValueError(tried[-1] if len(set(tried)) == 1 or form else " / ".join(tried))


def _singly_ladder(pr: _Proto, rs_ohm: float, rl_ohm: float | None, form: str | None, zeros, common) -> Ladder:
    open_output = rs_ohm > 0
    arms, natural, notes = _singly(pr, open_output, zeros)
    if form is not None and form != natural:
        what = "an open output needs a shunt arm last" if open_output else "an ideal source needs a series arm first"
        raise ValueError(f"A singly terminated order-{pr.order} ladder can only have form {natural!r} ({what}).")
    internal = rs_ohm == 0 and rl_ohm is None
    if internal:
        notes.append("unterminated request: realised as the ideal-source design with rl = 1 ohm (normalised); "
                     "that load resistor is part of the filter")
    return Ladder(tuple(arms), 1.0 if open_output else 0.0, None if open_output else 1.0, form=natural,
                  notes=tuple(notes), gain_ref=1.0 / pr.h0, load_is_element=internal, **common)


def _self_check(ladder: Ladder, pr: _Proto) -> None:
    values = [v for _, _, v in ladder.elements()]
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise RuntimeError("Synthesis produced a non-positive or non-finite element: numerical failure.")
    w = np.concatenate((np.logspace(-2, 2, 81), pr.zeros * (1 + 1e-3)))
    _, h = signal.freqs_zpk(pr.z, pr.p, pr.k, w)
    got, want = response(ladder, w), ladder.gain_ref * h
    err = np.abs(got - want)
    if np.any(err > _CHECK_RTOL * np.abs(want) + _CHECK_ATOL * ladder.gain_ref):
        raise RuntimeError(f"Ladder response deviates from the prototype by {err.max():.3g}: numerical failure.")


# ----------------------------------------------------------------------------------------------- response
def response(ladder: Ladder, omega_rad_s) -> np.ndarray:
    """V_out/E (complex) at angular frequencies omega_rad_s, from chained ABCD matrices: the source resistor
    in series, each arm (series arm: [[1, Z], [0, 1]]; shunt arm: [[1, 0], [Y, 1]]), then the load. Only the
    top row of the chain is needed: V_out/E = 1/(A + B/rl), or 1/A for an open output. At an exact resonance
    that opens a series arm or shorts a shunt arm (a transmission zero) the result is 0."""
    w = np.asarray(omega_rad_s, dtype=float)
    s = 1j * w
    a = np.ones_like(s)
    b = np.full_like(s, ladder.rs_ohm)
    blocked = np.zeros(s.shape, dtype=bool)   # an open series arm or a shorted shunt arm (exact resonance)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for arm in ladder.arms:
            x = net_impedance(arm.network, s) if arm.position == "series" else net_admittance(arm.network, s)
            bad = ~np.isfinite(x)
            blocked |= bad
            x = np.where(bad, 0.0, x)
            if arm.position == "series":
                b = a * x + b
            else:
                a = a + b * x
        h = 1.0 / (a if ladder.rl_ohm is None else a + b / ladder.rl_ohm)
    return np.where(blocked, 0.0, h)


# ----------------------------------------------------------------------------------------------- scaling
def _map_net(net: Net, leaf_map) -> Net:
    if net[0] in ("L", "C"):
        return leaf_map(net[0], net[1])
    kids = [_map_net(child, leaf_map) for child in net[1]]
    return _combo(net[0], kids)


def _rebuild(ladder: Ladder, leaf_map, r0: float, **changes) -> Ladder:
    arms = tuple(Arm(a.position, _map_net(a.network, leaf_map)) for a in ladder.arms)
    return replace(ladder, arms=arms, rs_ohm=ladder.rs_ohm * r0,
                   rl_ohm=None if ladder.rl_ohm is None else ladder.rl_ohm * r0,
                   impedance_ohm=ladder.impedance_ohm * r0, **changes)


def denormalise(ladder: Ladder, impedance_ohm: float, omega_rad_s: float) -> Ladder:
    """Impedance scaling by impedance_ohm and frequency scaling 1 rad/s -> omega_rad_s (any ladder):
    R -> R*R0, L -> L*R0/omega, C -> C/(R0*omega). H(s) becomes H(s/omega)."""
    if not (impedance_ohm > 0 and omega_rad_s > 0):
        raise ValueError("impedance_ohm and omega_rad_s must be positive.")
    r0, w = float(impedance_ohm), float(omega_rad_s)
    leaf = lambda k, v: _leaf(k, v * r0 / w if k == "L" else v / (r0 * w))
    return _rebuild(ladder, leaf, r0, edges_rad_s=tuple(e * w for e in ladder.edges_rad_s))


def transform(ladder: Ladder, response: str, f_edge_hz: Band, impedance_ohm: float) -> Ladder:
    """Frequency transformation of a normalised lowpass ladder (edge 1 rad/s, impedance 1 ohm), with impedance
    scaling to impedance_ohm. ``f_edge_hz``: the passband edge (lowpass/highpass) or the passband edges
    (f_lo_hz, f_hi_hz) (bandpass; for bandstop the edges of the two passbands around the stopband). With
    omega0 = sqrt(omega1 omega2), B = omega2 - omega1 the mask edges map to the prototype's omega = +-1:
    highpass s -> omega_c/s (L -> C = 1/(omega_c L), C -> L = 1/(omega_c C)); bandpass s -> (s^2 + omega0^2)/(B s)
    (L -> series LC, C -> parallel LC, traps -> 4-element arms); bandstop s -> B s/(s^2 + omega0^2)
    (L -> parallel LC, C -> series LC). The result matches scipy's lp2hp_zpk/lp2bp_zpk/lp2bs_zpk."""
    if response not in RESPONSES:
        raise ValueError(f"Unknown response {response!r}; expected one of {RESPONSES}.")
    if ladder.response_type != "lowpass" or ladder.edges_rad_s != (1.0,) or ladder.impedance_ohm != 1.0:
        raise ValueError("transform needs a normalised lowpass ladder (edge 1 rad/s, 1 ohm), as synthesise returns.")
    if not impedance_ohm > 0:
        raise ValueError("impedance_ohm must be positive.")
    r0 = float(impedance_ohm)
    band = response in ("bandpass", "bandstop")
    edges = np.atleast_1d(np.asarray(f_edge_hz, dtype=float)) * 2 * math.pi
    if edges.shape != ((2,) if band else (1,)) or np.any(edges <= 0) or (band and not edges[0] < edges[1]):
        raise ValueError(f"A {response} transformation needs {'(f_lo_hz, f_hi_hz), lo < hi' if band else 'f_edge_hz'}"
                         " with positive values.")
    leaf = _leaf_map(response, edges, r0)
    return _rebuild(ladder, leaf, r0, response_type=response, edges_rad_s=tuple(float(e) for e in edges))


def _leaf_map(response: str, edges: np.ndarray, r0: float):
    if response in ("lowpass", "highpass"):
        w = edges[0]
        if response == "lowpass":
            return lambda k, v: _leaf(k, v * r0 / w if k == "L" else v / (r0 * w))
        return lambda k, v: _leaf("C", 1.0 / (w * v * r0)) if k == "L" else _leaf("L", r0 / (w * v))
    w0sq, bw = edges[0] * edges[1], edges[1] - edges[0]

    def arm(k: str, v: float) -> Net:  # a normalised L (C) has reactance (susceptance) r0 v (v / r0) at the edge
        shape, l_h, c_f = resonator(k, r0 * v if k == "L" else v / r0, response, w0sq, bw)
        return _combo(shape, (_leaf("L", l_h), _leaf("C", c_f)))
    return arm


# ----------------------------------------------------------------------------------------------- g-values
def g_values(family: str, order: int, ripple_db: float | None = None) -> tuple[float, ...]:
    """Closed-form lowpass prototype g-values (g_0, g_1, ..., g_n, g_{n+1}) for equal-ripple-edge 1 rad/s,
    doubly terminated (g_0 = 1): Butterworth (3.0103 dB edge, ripple_db ignored) g_k = 2 sin((2k - 1) pi/2n),
    g_{n+1} = 1; Chebyshev I (Matthaei, Young & Jones 1964, eq. 4.05-2): beta = ln coth(ripple/17.37)
    (17.37 = 40/ln 10), gamma = sinh(beta/2n), a_k = sin((2k - 1) pi/2n), b_k = gamma^2 + sin^2(k pi/n),
    g_1 = 2 a_1/gamma, g_k = 4 a_{k-1} a_k/(b_{k-1} g_{k-1}), g_{n+1} = 1 (n odd) or coth^2(beta/4) (n even).
    g_{n+1} is the load resistance when g_n is a shunt capacitor, the load conductance when g_n is a series
    inductor."""
    family = _check_family(family)
    n = _check_order(order)
    a = [math.sin((2 * k - 1) * math.pi / (2 * n)) for k in range(1, n + 1)]
    if family == "butterworth":
        return (1.0, *(2 * x for x in a), 1.0)
    if family != "chebyshev1":
        raise ValueError("Closed-form g-values exist here for 'butterworth' and 'chebyshev1' only.")
    ripple_db = _ripple(family, ripple_db)
    beta = math.log(1.0 / math.tanh(ripple_db * math.log(10.0) / 40.0))
    gamma = math.sinh(beta / (2 * n))
    b = [gamma ** 2 + math.sin(k * math.pi / n) ** 2 for k in range(1, n + 1)]
    g = [2 * a[0] / gamma]
    for k in range(2, n + 1):
        g.append(4 * a[k - 2] * a[k - 1] / (b[k - 2] * g[-1]))
    last = 1.0 if n % 2 else 1.0 / math.tanh(beta / 4.0) ** 2
    return (1.0, *g, last)
