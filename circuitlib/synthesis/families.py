"""The dataset's circuit families (the book's definitions page), each a function (rng, target) -> Circuit.

Second-order templates are built from a target natural frequency f_hz, a Q and an
impedance level z0_ohm, so the dataset covers frequency and Q by construction.
Classical ladders (Butterworth, Chebyshev 0.5 dB, Bessel) are synthesized from their
denominator polynomial by continued-fraction (Cauer) expansion: a source resistor,
then an LC ladder whose last element is a shunt capacitor at VOUT (output unloaded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.signal

from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge

TWO_PI = 2 * math.pi
# Value ranges of the dataset.
DATA_R = (10.0, 1e6)
DATA_L = (1e-6, 1.0)
DATA_C = (10e-12, 100e-6)


@dataclass(frozen=True)
class Target:
    """What a family instance aims at: frequency (Hz), Q, impedance level (ohm), ladder order."""

    f_hz: float
    q: float
    z0_ohm: float
    order: int = 2


def in_range(circuit: Circuit) -> bool:
    """Every value inside the dataset's ranges."""
    ranges = {"R": DATA_R, "L": DATA_L, "C": DATA_C}
    return all(ranges[c.kind][0] <= c.value <= ranges[c.kind][1] for c in circuit.components())


def _lc(t: Target) -> tuple[float, float]:
    """L and C with resonance f_hz and characteristic impedance sqrt(L/C) = z0_ohm."""
    w = TWO_PI * t.f_hz
    return t.z0_ohm / w, 1.0 / (t.z0_ohm * w)


# ---------------------------------------------------------------- the seed's templates


def rc_lowpass(t: Target) -> Circuit:
    return Circuit(0, {(VIN, VOUT): Edge(r_ohm=t.z0_ohm), (GND, VOUT): Edge(c_f=1 / (TWO_PI * t.f_hz * t.z0_ohm))})


def rc_highpass(t: Target) -> Circuit:
    return Circuit(0, {(VIN, VOUT): Edge(c_f=1 / (TWO_PI * t.f_hz * t.z0_ohm)), (GND, VOUT): Edge(r_ohm=t.z0_ohm)})


def rl_lowpass(t: Target) -> Circuit:
    return Circuit(0, {(VIN, VOUT): Edge(l_h=t.z0_ohm / (TWO_PI * t.f_hz)), (GND, VOUT): Edge(r_ohm=t.z0_ohm)})


def rl_highpass(t: Target) -> Circuit:
    return Circuit(0, {(VIN, VOUT): Edge(r_ohm=t.z0_ohm), (GND, VOUT): Edge(l_h=t.z0_ohm / (TWO_PI * t.f_hz))})


def rlc_bandpass(t: Target) -> Circuit:
    """Series L-C into a resistor to ground: Q = z0 / R."""
    l, c = _lc(t)
    return Circuit(1, {(VIN, 3): Edge(l_h=l), (3, VOUT): Edge(c_f=c), (GND, VOUT): Edge(r_ohm=t.z0_ohm / t.q)})


def rlc_series_lowpass(t: Target) -> Circuit:
    """Series R-L, output across C: Q = z0 / R."""
    l, c = _lc(t)
    return Circuit(1, {(VIN, 3): Edge(r_ohm=t.z0_ohm / t.q), (3, VOUT): Edge(l_h=l), (GND, VOUT): Edge(c_f=c)})


def rlc_parallel_bandpass(t: Target) -> Circuit:
    """Series R into a parallel L || C tank: Q = R / z0."""
    l, c = _lc(t)
    return Circuit(0, {(VIN, VOUT): Edge(r_ohm=t.q * t.z0_ohm), (GND, VOUT): Edge(l_h=l, c_f=c)})


def lc_shunt_notch(t: Target) -> Circuit:
    """Series R, then a series L-C from VOUT to ground: notch at resonance, notch Q = z0 / R."""
    l, c = _lc(t)
    return Circuit(1, {(VIN, VOUT): Edge(r_ohm=t.z0_ohm / t.q), (VOUT, 3): Edge(l_h=l), (GND, 3): Edge(c_f=c)})


def lc_lowpass(t: Target) -> Circuit:
    """Series L, output across C || R load: Q = R / z0."""
    l, c = _lc(t)
    return Circuit(0, {(VIN, VOUT): Edge(l_h=l), (GND, VOUT): Edge(r_ohm=t.q * t.z0_ohm, c_f=c)})


def cl_highpass(t: Target) -> Circuit:
    """Series C, output across L || R load: Q = R / z0."""
    l, c = _lc(t)
    return Circuit(0, {(VIN, VOUT): Edge(c_f=c), (GND, VOUT): Edge(r_ohm=t.q * t.z0_ohm, l_h=l)})


# ---------------------------------------------------------------- classical ladders


@lru_cache(maxsize=None)
def prototype(kind: str, order: int) -> tuple[float, ...]:
    """Normalized (1 ohm, 1 rad/s) element values of a source-terminated, open-output LC ladder
    whose transfer is K / D(s), D the denominator of the named all-pole filter."""
    design = {"butterworth": lambda: scipy.signal.butter(order, 1.0, analog=True),
              "chebyshev": lambda: scipy.signal.cheby1(order, 0.5, 1.0, analog=True),
              "bessel": lambda: scipy.signal.bessel(order, 1.0, analog=True, norm="mag")}[kind]
    den = np.asarray(design()[1], dtype=float)
    p, q = den.copy(), den.copy()
    p[1::2], q[0::2] = 0.0, 0.0  # p: degrees n, n-2, ...; q: degrees n-1, n-3, ...
    q, g = q[1:], []
    while len(q) and len(p) >= 2:
        a = p[0] / q[0]
        g.append(float(a))
        p, q = q, (p - a * np.concatenate([q, [0.0]]))[2:]
    return tuple(g)


def ladder(kind: str, order: int, highpass: bool, t: Target) -> Circuit:
    """Source resistor z0, then the ladder; odd orders start with a shunt C, even with a series L
    (a highpass swaps every L and C). Scaled so the -3 dB point of the prototype lands near f_hz."""
    g = prototype(kind, order)
    w = TWO_PI * t.f_hz
    edges = {(VIN, 3): Edge(r_ohm=t.z0_ohm)}
    node, shunt = 3, order % 2 == 1
    for k, gk in enumerate(g):
        last = k == len(g) - 1
        if shunt:
            edges[(GND, node)] = Edge(l_h=t.z0_ohm / (gk * w)) if highpass else Edge(c_f=gk / (t.z0_ohm * w))
        else:
            nxt = node + 1
            edges[(node, nxt)] = Edge(c_f=1 / (gk * t.z0_ohm * w)) if highpass else Edge(l_h=gk * t.z0_ohm / w)
            node = nxt
        shunt = not shunt
        if last:
            break
    return _rename(edges, out=node)


def _rename(edges: dict[tuple[int, int], Edge], out: int) -> Circuit:
    """Make node `out` the VOUT node and renumber internal nodes 3, 4, ... in order."""
    nodes = sorted({n for pair in edges for n in pair} - {GND, VIN, out})
    index = {GND: GND, VIN: VIN, out: VOUT, **{n: 3 + i for i, n in enumerate(nodes)}}
    return Circuit(len(nodes), {(index[a], index[b]): e for (a, b), e in edges.items()})


# ---------------------------------------------------------------- networks


def twin_t(t: Target) -> Circuit:
    """Twin-T notch at f_hz; a load resistor z0 * q at VOUT tunes its notch width."""
    r = t.z0_ohm
    c = 1 / (TWO_PI * t.f_hz * r)
    return Circuit(2, {(VIN, 3): Edge(r_ohm=r), (3, VOUT): Edge(r_ohm=r), (GND, 3): Edge(c_f=2 * c),
                       (VIN, 4): Edge(c_f=c), (4, VOUT): Edge(c_f=c), (GND, 4): Edge(r_ohm=r / 2),
                       (GND, VOUT): Edge(r_ohm=r * max(t.q, 0.05) * 20)})


def wien(t: Target) -> Circuit:
    """Wien bandpass: series R-C, then R || C to ground; the ratio q stretches R2/R1 and C2/C1."""
    r1 = t.z0_ohm
    k = max(min(t.q, 10.0), 0.1)
    c1 = 1 / (TWO_PI * t.f_hz * r1 * k)
    return Circuit(1, {(VIN, 3): Edge(r_ohm=r1), (3, VOUT): Edge(c_f=c1), (GND, VOUT): Edge(r_ohm=r1 * k, c_f=c1 / k)})


def bridged_t(t: Target) -> Circuit:
    """Bridged-T notch: two series C with R from their junction to ground, bridged by R * q^2."""
    r = t.z0_ohm
    c = 1 / (TWO_PI * t.f_hz * r)
    bridge = r * max(t.q, 0.2) ** 2 * 4
    return Circuit(1, {(VIN, 3): Edge(c_f=c), (3, VOUT): Edge(c_f=c), (GND, 3): Edge(r_ohm=r),
                       (VIN, VOUT): Edge(r_ohm=bridge), (GND, VOUT): Edge(r_ohm=20 * bridge)})


TEMPLATES = {
    "rc_lowpass": rc_lowpass, "rc_highpass": rc_highpass, "rl_lowpass": rl_lowpass, "rl_highpass": rl_highpass,
    "rlc_bandpass": rlc_bandpass, "lc_shunt_notch": lc_shunt_notch, "rlc_series_lowpass": rlc_series_lowpass,
    "rlc_parallel_bandpass": rlc_parallel_bandpass, "lc_lowpass": lc_lowpass, "cl_highpass": cl_highpass,
    "twin_t": twin_t, "wien": wien, "bridged_t": bridged_t,
}
LADDERS = {f"{kind}_{side}": (kind, side == "highpass")
           for kind in ("butterworth", "chebyshev", "bessel") for side in ("lowpass", "highpass")}
FAMILIES = tuple(TEMPLATES) + tuple(LADDERS) + ("random",)
SEED_TEMPLATES = tuple(list(TEMPLATES)[:10])


def build(family: str, t: Target) -> Circuit:
    """The circuit of a named (non-random) family at target `t`."""
    if family in TEMPLATES:
        return TEMPLATES[family](t)
    kind, highpass = LADDERS[family]
    return ladder(kind, t.order, highpass, t)


def random_topology(rng: np.random.Generator, max_internal: int = 3, p_edge: float = 0.45) -> Circuit:
    """A random circuit: 0..max_internal internal nodes, each node pair (but VIN-GND) an edge of a random
    class with probability p_edge, values log-uniform over the dataset ranges. Not yet checked for validity."""
    n_int = int(rng.integers(0, max_internal + 1))
    n = 3 + n_int
    edges = {}
    for a in range(n):
        for b in range(a + 1, n):
            if (a, b) == (GND, VIN) or rng.random() > p_edge:
                continue
            cls = ("R", "L", "C", "RL", "RC", "LC", "RLC")[int(rng.integers(0, 7))]
            edges[(a, b)] = Edge(**{f: _log_uniform(rng, *rg) for k, f, rg in
                                    (("R", "r_ohm", DATA_R), ("L", "l_h", DATA_L), ("C", "c_f", DATA_C)) if k in cls})
    return Circuit(n_int, edges)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(10 ** rng.uniform(math.log10(lo), math.log10(hi)))
