"""Band masks as lowpass masks, and lowpass circuits as band circuits: the exact frequency transformations.

A bandpass (bandstop) mask asks of its lowpass equivalent a passband edge at 1 and a stopband edge at W_s
(`stopband_ratio`); a lowpass circuit that meets that lowpass mask becomes, element by element, a band circuit that
meets the band mask (`band_from_lowpass`), because the substitution maps every lowpass frequency onto the band
frequencies with the same gain:

- bandpass: p = (s^2 + w0^2) / (s B): an inductor becomes a series LC, a capacitor a parallel LC;
- bandstop: p = s B / (s^2 + w0^2): an inductor becomes a parallel LC, a capacitor a series LC;

with w0^2 the product and B the difference of the design's passband edges (rad/s), and p = s / w_c the lowpass
circuit's frequency over its passband edge w_c. Resistors (the terminations) are unchanged.
"""

from __future__ import annotations

import math

from circuitlib.analysis.mask import FilterMask
from circuitlib.core.circuit import Circuit, Edge


def design_passband(mask: FilterMask) -> float | tuple[float, float]:
    """The passband edge(s) in Hz that the prototype's passband edge is mapped to before the slack is split: the
    mask's own, except for a bandstop mask whose stopband edges s1, s2 are not geometrically centred on its
    passband edges p1, p2. There one passband edge moves inwards (the mask's passband is still covered) until
    p1' p2' = s1 s2: both stopband edges then map to the same lowpass-equivalent ratio (p2' - p1') / (s2 - s1),
    the largest the mask allows, which is what scipy's bandstop `*ord` optimises its passband edges for.

    >>> m = FilterMask("bandstop", (900.0, 1200.0), (1000.0, 1050.0), 0.5, 30.0)
    >>> [round(f, 3) for f in design_passband(m)]
    [900.0, 1166.667]
    """
    p, s = mask.passband_hz, mask.stopband_hz
    if mask.response != "bandstop":
        return p
    centre_sq = s[0] * s[1]
    if p[0] * p[1] > centre_sq:
        return p[0], centre_sq / p[0]
    return centre_sq / p[1], p[1]


def stopband_ratio(mask: FilterMask) -> float:
    """W_s: the mask's stopband edge in the lowpass-equivalent frequency (passband edge at 1), the nearer one for
    band masks, with the centre at the geometric mean of the design's passband edges (`design_passband`).

    >>> round(stopband_ratio(FilterMask("bandpass", (900.0, 1100.0), (700.0, 1400.0), 0.5, 30.0)), 4)  # at 1400 Hz
    3.4643
    """
    p, s = design_passband(mask), mask.stopband_hz
    if mask.response == "lowpass":
        return s / p
    if mask.response == "highpass":
        return p / s
    f0sq, bw = p[0] * p[1], p[1] - p[0]
    if mask.response == "bandpass":
        return min(abs(f * f - f0sq) / (f * bw) for f in s)
    return min(f * bw / abs(f0sq - f * f) for f in s)


def lowpass_equivalent(mask: FilterMask) -> FilterMask:
    """The lowpass mask whose solutions `band_from_lowpass` turns into solutions of the band `mask`: passband edge at
    the band's reference (`FilterMask.reference_hz`), stopband edge W_s times that, the same ripple, attenuation and
    terminations.

    >>> lp = lowpass_equivalent(FilterMask("bandpass", (900.0, 1100.0), (700.0, 1400.0), 0.5, 30.0, 50.0, 50.0))
    >>> lp.response, round(lp.stopband_hz / lp.passband_hz, 6), lp.load_ohm
    ('lowpass', 3.464286, 50.0)
    """
    if mask.response not in ("bandpass", "bandstop"):
        raise ValueError(f"a lowpass equivalent is taken of a band mask, not of a {mask.response} mask")
    fc = mask.reference_hz
    return FilterMask("lowpass", fc, fc * stopband_ratio(mask), mask.ripple_db, mask.attenuation_db,
                      mask.source_ohm, mask.load_ohm)


def resonator(kind: str, x: float, response: str, w0sq: float, bw: float) -> tuple[str, float, float]:
    """What a lowpass element becomes in a band filter: ("series" or "parallel", L in H, C in F), for an inductor
    (kind "L") of reactance x ohm, or a capacitor ("C") of susceptance x siemens, at the lowpass passband edge;
    w0sq is the product and bw the difference of the band edges (rad/s). Classical ladders use it too.

    >>> shape, l_h, c_f = resonator("L", 1.0, "bandpass", 1.0, 0.5)  # series: L = x / B, C = B / (x w0^2)
    >>> shape, l_h, c_f
    ('series', 2.0, 0.5)
    """
    if response == "bandpass":
        return ("series", x / bw, bw / (x * w0sq)) if kind == "L" else ("parallel", bw / (x * w0sq), x / bw)
    if response == "bandstop":
        return ("parallel", x * bw / w0sq, 1 / (x * bw)) if kind == "L" else ("series", 1 / (x * bw), x * bw / w0sq)
    raise ValueError(f"response must be bandpass or bandstop, not {response!r}")


def band_from_lowpass(circuit: Circuit, fc_hz: float, response: str, band_hz: tuple[float, float]) -> Circuit:
    """The band circuit of a lowpass `circuit` whose passband edge is `fc_hz`: its gain at a band frequency is the
    lowpass gain at the mapped frequency, with the lowpass edge landing on both edges of `band_hz` (Hz). Series
    LC pairs take a new internal node each; names (RS, RL) are kept.

    >>> lp = Circuit(0, {(1, 2): Edge(l_h=1e-3), (0, 2): Edge(c_f=1e-6)})
    >>> bp = band_from_lowpass(lp, 1e3, "bandpass", (900.0, 1100.0))
    >>> bp.n_internal, sorted((c.kind, c.node_a, c.node_b) for c in bp.components())
    (1, [('C', 0, 2), ('C', 2, 3), ('L', 0, 2), ('L', 1, 3)])
    """
    if response not in ("bandpass", "bandstop"):
        raise ValueError(f"response must be bandpass or bandstop, not {response!r}")
    wc = 2 * math.pi * fc_hz
    w0sq, bw = (2 * math.pi) ** 2 * band_hz[0] * band_hz[1], 2 * math.pi * (band_hz[1] - band_hz[0])
    slots: dict[tuple[int, int], dict[str, float]] = {}
    nxt = circuit.n_nodes
    for (a, b), e in sorted(circuit.edges.items()):
        slot = slots.setdefault((a, b), {})
        if e.r_ohm is not None:
            slot["r_ohm"] = e.r_ohm
        for kind, v in (("L", e.l_h), ("C", e.c_f)):
            if v is None:
                continue
            shape, l_h, c_f = resonator(kind, wc * v, response, w0sq, bw)  # wc v: reactance or susceptance at p = 1
            if shape == "series":
                slots[(a, nxt)] = {"l_h": l_h}
                slots[(b, nxt)] = {"c_f": c_f}
                nxt += 1
            else:
                slot.update(l_h=l_h, c_f=c_f)
    edges = {k: Edge(**v) for k, v in slots.items() if v}
    return Circuit(nxt - 3, edges, dict(circuit.names))
