"""Designs that meet a filter mask: classical synthesis at minimum order, verified exactly and in ngspice.

For each family (Butterworth, Chebyshev I, inverse Chebyshev, elliptic, Bessel) the order comes from the mask as
scipy's `*ord` functions compute it. The lowpass prototype then meets the ripple exactly at its passband edge and
the attenuation at some w_a >= 1; the mask asks for the attenuation from its lowpass-equivalent stopband edge W_s on.
When W_s > w_a the slack is split evenly: the design's edge is moved by k = sqrt(W_s / w_a), so that the mask's
passband edge maps to 1/k and its stopband edge to W_s/k, and both margins are positive. The ladder is synthesised
between the mask's terminations in both forms (minimum-inductor and minimum-capacitor), every candidate is verified
on the exact response and in ngspice, and the designs are ranked: met first, then fewest parts, fewest inductors,
largest margin.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq
from scipy.signal import freqs_zpk

from circuitlib.analysis.mask import FilterMask, MaskReport, verify, verify_ngspice
from circuitlib.core.circuit import Circuit, topology_signature
from circuitlib.core.errors import SpecificationError
from circuitlib.core.netlist import to_netlist
from circuitlib.synthesis import ladder as lad
from circuitlib.synthesis.classical import filter_parts, ladder_circuit

FAMILIES = lad.FAMILIES
FORMS = {"min-inductor": "shunt_first", "min-capacitor": "series_first"}
METHODS = ("classical",)


@dataclass
class MaskDesign:
    """One design for a mask, with its figures from the nodal solver and from ngspice."""

    mask: FilterMask
    method: str
    family: str
    order: int
    form: str
    circuit: Circuit
    nodal: MaskReport
    verified: MaskReport | None  # ngspice; None when not asked for
    latency_ms: float
    notes: list[str] = field(default_factory=list)

    @property
    def parts(self) -> int:
        return len(filter_parts(self.circuit))

    @property
    def inductors(self) -> int:
        return sum(c.kind == "L" for c in filter_parts(self.circuit))

    @property
    def met(self) -> bool:
        report = self.verified or self.nodal
        return report.met

    def rank_key(self) -> tuple:
        return (not self.met, self.parts, self.inductors, -(self.verified or self.nodal).margin_db)

    def to_json(self) -> dict:
        report = self.verified or self.nodal
        bom = [{"name": c.name, "kind": c.kind, "value": c.value, "nodes": [Circuit.node_name(c.node_a),
                Circuit.node_name(c.node_b)]} for c in filter_parts(self.circuit)]
        return {"netlist": to_netlist(self.circuit), "input_node": "vin", "output_node": "vout",
                "method": self.method, "family": self.family, "order": self.order, "form": self.form,
                "topology": topology_signature(self.circuit), "parts": self.parts, "inductors": self.inductors,
                "mask": self.mask.to_json(), "verified": report.to_json(),
                "cross_check": {"engine": "mna", "margin_db": self.nodal.margin_db,
                                "max_abs_diff_db": _largest_difference(self.nodal, self.verified)},
                "bom": bom, "latency_ms": self.latency_ms, "notes": self.notes}


def _largest_difference(a: MaskReport, b: MaskReport | None) -> float | None:
    if b is None:
        return None
    keys = ("pass_min_db", "pass_max_db", "stop_max_db")
    return max(abs(getattr(a, k) - getattr(b, k)) for k in keys)


def stopband_ratio(mask: FilterMask) -> float:
    """W_s: the mask's stopband edge in the lowpass-equivalent frequency (passband edge at 1), the nearer one for
    band masks (with the centre at the geometric mean of the passband edges)."""
    p, s = mask.passband_hz, mask.stopband_hz
    if mask.response == "lowpass":
        return s / p
    if mask.response == "highpass":
        return p / s
    f0sq, bw = p[0] * p[1], p[1] - p[0]
    if mask.response == "bandpass":
        return min(abs(f * f - f0sq) / (f * bw) for f in s)
    return min(f * bw / abs(f0sq - f * f) for f in s)


def attenuation_edge(zpk: tuple, attenuation_db: float) -> float:
    """w_a: the largest lowpass-prototype frequency (rad/s) where the loss is still below `attenuation_db`; beyond it
    the prototype attenuates at least that much."""
    z, p, k = zpk
    w = np.geomspace(1.0, 1e4, 4001)
    loss = -20 * np.log10(np.maximum(np.abs(freqs_zpk(z, p, k, w)[1]), 1e-300))
    below = np.flatnonzero(loss < attenuation_db)
    if not len(below) or below[-1] == len(w) - 1:
        return math.inf
    i = below[-1]
    f = lambda lw: -20 * math.log10(max(abs(freqs_zpk(z, p, k, [10 ** lw])[1][0]), 1e-300)) - attenuation_db  # noqa
    return 10 ** brentq(f, math.log10(w[i]), math.log10(w[i + 1]), xtol=1e-14)


def _design_edges(mask: FilterMask, k: float) -> float | tuple[float, float]:
    """The edge(s) that the lowpass prototype's omega = 1 is mapped to, moved by k (k = 1: the mask's own)."""
    p = mask.passband_hz
    if mask.response == "lowpass":
        return p * k
    if mask.response == "highpass":
        return p / k
    f0, bw = math.sqrt(p[0] * p[1]), (p[1] - p[0]) * (k if mask.response == "bandpass" else 1 / k)
    lo = -bw / 2 + math.sqrt(bw * bw / 4 + f0 * f0)
    return lo, lo + bw


def _terminations(mask: FilterMask) -> tuple[float, float | None, float]:
    """(rs, rl) normalised for `synthesise`, and the impedance level in ohm that undoes the normalisation."""
    if mask.source_ohm > 0:
        return 1.0, (None if mask.load_ohm is None else mask.load_ohm / mask.source_ohm), mask.source_ohm
    if mask.load_ohm is not None:
        return 0.0, 1.0, mask.load_ohm
    return 0.0, None, 1e3  # unterminated: the synthesis adds its own resistor, put at 1 kohm


SAFETY = (0.2, 0.1, 0.05, 0.02, 0.01, 0.002, 0.0)  # shares of ripple and attenuation held back, tried in turn


def design_levels(family: str, order: int, mask: FilterMask) -> tuple[float, float]:
    """(ripple, attenuation) in dB to synthesise with: the mask's, tightened by the largest share in SAFETY that
    keeps the minimum order. An equiripple passband (Chebyshev I, elliptic) touches -ripple at every ripple trough,
    and an equiripple stopband (Chebyshev II, elliptic) touches -attenuation at every lobe, so moving the edge alone
    (`classical_candidates`) could not give those a margin."""
    for t in SAFETY:
        ripple, att = mask.ripple_db * (1 - t), mask.attenuation_db * (1 + t)
        try:
            n, _ = lad.min_order(family, mask.response, mask.passband_hz, mask.stopband_hz, ripple, att)
        except ValueError:
            continue
        if n <= order:
            return ripple, att
    return mask.ripple_db, mask.attenuation_db


def _synthesise(family: str, order: int, mask: FilterMask, form: str) -> tuple[lad.Ladder, list[str]]:
    """The normalised ladder, trying the realisable variants of even-order elliptic and Chebyshev II functions."""
    rs, rl, _ = _terminations(mask)
    ripple, att = design_levels(family, order, mask)
    att = att if family in ("chebyshev2", "elliptic") else None
    errors = []
    for variant in ("a", "b", "c") if family in ("chebyshev2", "elliptic") else ("a",):
        try:
            ladder = lad.synthesise(family, order, ripple, att, rs_ohm=rs, rl_ohm=rl, form=form, variant=variant)
            return ladder, ([f"variant {variant}: {errors[-1]}"] if errors else []) + list(ladder.notes)
        except ValueError as exc:
            errors.append(str(exc))
    raise ValueError(errors[-1])


def classical_candidates(mask: FilterMask, family: str, form: str, ngspice: bool = True) -> list[MaskDesign]:
    """The minimum-order design of `family` in `form` ("min-inductor" or "min-capacitor"); when that order is not
    realisable between these terminations (an even-order Chebyshev I or elliptic between equal terminations), the
    next order, with a note saying why."""
    t0 = time.perf_counter()
    try:
        order, _ = lad.min_order(family, mask.response, mask.passband_hz, mask.stopband_hz, mask.ripple_db,
                                 mask.attenuation_db)
    except ValueError:  # a Bessel function of order 25 or less cannot reach the attenuation
        return []
    notes: list[str] = []
    for n in (order, order + 1):
        try:
            ladder, more = _synthesise(family, n, mask, FORMS[form])
        except ValueError as exc:
            notes.append(f"order {n} not realised: {exc}")
            continue
        ripple, att = design_levels(family, n, mask)
        zpk = lad.prototype_zpk(family, n, ripple, att if family in ("chebyshev2", "elliptic") else None,
                                ladder.variant)
        k = math.sqrt(max(stopband_ratio(mask) / attenuation_edge(zpk, mask.attenuation_db), 1.0))
        _, _, r0 = _terminations(mask)
        circuit = ladder_circuit(lad.transform(ladder, mask.response, _design_edges(mask, k), r0))
        nodal = verify(circuit, mask)
        latency = (time.perf_counter() - t0) * 1e3
        checked = verify_ngspice(circuit, mask, nodal) if ngspice else None
        return [MaskDesign(mask, "classical", family, n, form, circuit, nodal, checked, latency, notes + more)]
    return []


def design(mask: FilterMask, method: str = "classical", n: int = 3, family: str | None = None,
           form: str | None = None, ngspice: bool = True) -> list[MaskDesign]:
    """The `n` best designs for `mask`, ranked: met first, then fewest parts, fewest inductors, largest margin.
    `family` and `form` force one family or form.

    >>> m = FilterMask("lowpass", 1000.0, 2500.0, 0.5, 40.0, 50.0, 50.0)
    >>> best = design(m, n=1, ngspice=False)[0]
    >>> best.family, best.order, best.parts, best.met
    ('elliptic', 4, 5, True)
    """
    if method not in METHODS:
        raise SpecificationError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if family is not None and family not in FAMILIES:
        raise SpecificationError(f"family must be one of {', '.join(FAMILIES)}, not {family!r}")
    if form is not None and form not in FORMS:
        raise SpecificationError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    if not isinstance(n, int) or not 1 <= n <= 50:
        raise SpecificationError(f"n must be an integer from 1 to 50, not {n!r}")
    designs = [d for fam in ([family] if family else FAMILIES) for fo in ([form] if form else FORMS)
               for d in classical_candidates(mask, fam, fo, ngspice)]
    if not designs:
        raise SpecificationError("no classical ladder realises this mask between these terminations")
    return sorted(designs, key=MaskDesign.rank_key)[:n]
