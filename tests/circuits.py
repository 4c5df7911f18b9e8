"""Textbook test circuits, built edge by edge, with the closed-form figures each one has.

Nodes: 0 = GND, 1 = VIN, 2 = VOUT, 3.. internal.
"""

from __future__ import annotations

import math

from circuitlib.core.circuit import Circuit, Edge

TWO_PI = 2 * math.pi


def rc_lowpass(r: float, c: float) -> Circuit:
    """fc = 1 / (2 pi R C)."""
    return Circuit(0, {(1, 2): Edge(r_ohm=r), (0, 2): Edge(c_f=c)})


def rc_highpass(r: float, c: float) -> Circuit:
    """fc = 1 / (2 pi R C)."""
    return Circuit(0, {(1, 2): Edge(c_f=c), (0, 2): Edge(r_ohm=r)})


def rl_lowpass(r: float, l: float) -> Circuit:
    """fc = R / (2 pi L)."""
    return Circuit(0, {(1, 2): Edge(l_h=l), (0, 2): Edge(r_ohm=r)})


def rl_highpass(r: float, l: float) -> Circuit:
    """fc = R / (2 pi L)."""
    return Circuit(0, {(1, 2): Edge(r_ohm=r), (0, 2): Edge(l_h=l)})


def series_rlc_bandpass(f0: float, q: float, z0: float = 1e3) -> Circuit:
    """VIN-L-n3-C-VOUT, R to ground: H = s(R/L) / (s^2 + s R/L + 1/LC); f0 = 1/(2 pi sqrt(LC)), Q = sqrt(L/C)/R."""
    l, c = z0 / (TWO_PI * f0), 1 / (z0 * TWO_PI * f0)  # characteristic impedance sqrt(L/C) = z0
    r = z0 / q
    return Circuit(1, {(1, 3): Edge(l_h=l), (2, 3): Edge(c_f=c), (0, 2): Edge(r_ohm=r)})


def parallel_rlc_bandpass(f0: float, q: float, z0: float = 100.0) -> Circuit:
    """VIN-R-VOUT, L || C from VOUT to ground: f0 = 1/(2 pi sqrt(LC)), Q = R sqrt(C/L)."""
    l, c = z0 / (TWO_PI * f0), 1 / (z0 * TWO_PI * f0)
    r = q * z0
    return Circuit(0, {(1, 2): Edge(r_ohm=r), (0, 2): Edge(l_h=l, c_f=c)})


def series_rlc_lowpass(f0: float, q: float, z0: float = 1e3) -> Circuit:
    """VIN-R-n3-L-VOUT, C to ground: H = w0^2 / (s^2 + s w0/Q + w0^2), Q = sqrt(L/C)/R."""
    l, c = z0 / (TWO_PI * f0), 1 / (z0 * TWO_PI * f0)  # characteristic impedance sqrt(L/C) = z0
    r = z0 / q
    return Circuit(1, {(1, 3): Edge(r_ohm=r), (2, 3): Edge(l_h=l), (0, 2): Edge(c_f=c)})


def second_order_lowpass_fc(f0: float, q: float) -> float:
    """-3 dB point of w0^2/(s^2 + s w0/Q + w0^2): x^2 = a + sqrt(a^2 + 1), a = 1 - 1/(2 Q^2)."""
    a = 1 - 1 / (2 * q * q)
    return f0 * math.sqrt(a + math.sqrt(a * a + 1))


def butterworth2_lowpass(fc: float, r: float = 1e3) -> Circuit:
    """Doubly terminated (Rs = RL = R) prototype g = (1.4142, 1.4142): series L, shunt C; -3 dB at fc."""
    w = TWO_PI * fc
    g = math.sqrt(2)
    return Circuit(1, {(1, 3): Edge(r_ohm=r), (2, 3): Edge(l_h=g * r / w), (0, 2): Edge(r_ohm=r, c_f=g / (r * w))})


def butterworth3_lowpass(fc: float, r: float = 1e3) -> Circuit:
    """Doubly terminated prototype g = (1, 2, 1): shunt C, series L, shunt C; -3 dB at fc, pole Q 1."""
    w = TWO_PI * fc
    return Circuit(1, {(1, 3): Edge(r_ohm=r), (0, 3): Edge(c_f=1 / (r * w)), (3, 2): Edge(l_h=2 * r / w),
                       (0, 2): Edge(r_ohm=r, c_f=1 / (r * w))})


def twin_t_notch(f0: float, r: float = 10e3) -> Circuit:
    """Unloaded twin-T (R, R, 2C / C, C, R/2): H = (s^2 + w0^2)/(s^2 + 4 w0 s + w0^2), w0 = 1/RC; notch Q = 1/4."""
    c = 1 / (TWO_PI * f0 * r)
    return Circuit(2, {(1, 3): Edge(r_ohm=r), (3, 2): Edge(r_ohm=r), (0, 3): Edge(c_f=2 * c),
                       (1, 4): Edge(c_f=c), (4, 2): Edge(c_f=c), (0, 4): Edge(r_ohm=r / 2)})


def wien(f0: float, r: float = 10e3) -> Circuit:
    """Series R-C then R || C to ground: H = s RC / (1 + 3 s RC + (s RC)^2); f0 = 1/(2 pi RC), Q = 1/3."""
    c = 1 / (TWO_PI * f0 * r)
    return Circuit(1, {(1, 3): Edge(r_ohm=r), (3, 2): Edge(c_f=c), (0, 2): Edge(r_ohm=r, c_f=c)})


def two_rc_sections(r: float, c: float) -> Circuit:
    """Two equal unbuffered RC sections: H = 1/(1 + 3 s tau + (s tau)^2), tau = RC."""
    return Circuit(1, {(1, 3): Edge(r_ohm=r), (0, 3): Edge(c_f=c), (3, 2): Edge(r_ohm=r), (0, 2): Edge(c_f=c)})


def two_rc_sections_fc(r: float, c: float) -> float:
    """|H|^2 = 1/(x^4 + 7 x^2 + 1) = 1/2 with x = w tau gives x^2 = (sqrt(53) - 7)/2."""
    return math.sqrt((math.sqrt(53) - 7) / 2) / (TWO_PI * r * c)


def two_rc_sections_qpole() -> float:
    """Real poles s tau = (-3 +- sqrt 5)/2: sqrt(p1 p2)/(|p1| + |p2|) = 1/3."""
    return 1 / 3
