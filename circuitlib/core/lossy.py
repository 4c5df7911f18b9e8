"""Lossy parts: a real inductor as L in series with its loss resistance, a real capacitor as C in series with its ESR.

An inductor of quality factor Q at the reference frequency f_q has the series resistance R = 2 pi f_q L / Q; a
capacitor's equivalent series resistance is given in ohm. Each lossy part moves onto a new internal node, with its
resistor, named R_<part> (R_L1, R_C2), between that node and the part's other end; every other element keeps its
node pair and its name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from circuitlib.core.circuit import Circuit, Edge
from circuitlib.core.errors import SpecificationError


@dataclass(frozen=True)
class Losses:
    """Part losses: inductor Q at `q_freq_hz` (None: ideal inductors), capacitor ESR in ohm (None: ideal). A design
    fills in a missing `q_freq_hz` from its mask (the passband edge, or its centre)."""

    inductor_q: float | None = None
    q_freq_hz: float | None = None
    capacitor_esr_ohm: float | None = None

    def __post_init__(self) -> None:
        for name in ("inductor_q", "q_freq_hz", "capacitor_esr_ohm"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise SpecificationError(f"{name} must be a finite number > 0, not {v!r}")

    @property
    def any(self) -> bool:
        return self.inductor_q is not None or self.capacitor_esr_ohm is not None

    def to_json(self) -> dict:
        return {"inductor_q": self.inductor_q, "q_freq_hz": self.q_freq_hz,
                "capacitor_esr_ohm": self.capacitor_esr_ohm}


def with_losses(circuit: Circuit, losses: Losses) -> Circuit:
    """`circuit` with every inductor and capacitor made lossy as `losses` says (unchanged where it says None).

    >>> lc = Circuit(0, {(1, 2): Edge(l_h=1e-3), (0, 2): Edge(r_ohm=50.0, c_f=1e-6)})
    >>> lossy = with_losses(lc, Losses(inductor_q=50.0, q_freq_hz=1e4))
    >>> [(c.name, c.node_a, c.node_b, f"{c.value:.5g}") for c in lossy.components()]  # R = 2 pi 1e4 1e-3 / 50
    [('R1', 0, 2, '50'), ('C1', 0, 2, '1e-06'), ('L1', 1, 3, '0.001'), ('R_L1', 2, 3, '1.2566')]
    """
    if not losses.any:
        return circuit
    if losses.inductor_q is not None and losses.q_freq_hz is None:
        raise SpecificationError("inductor_q needs the frequency q_freq_hz at which it holds")
    parts: dict[tuple[int, int], dict[str, float]] = {}
    names: dict[tuple[int, int, str], str] = {}
    extra = 0

    def put(a: int, b: int, kind: str, value: float, name: str) -> None:
        key = (min(a, b), max(a, b))
        parts.setdefault(key, {})[kind] = value
        names[(*key, kind)] = name

    for comp in circuit.components():
        series_r = None
        if comp.kind == "L" and losses.inductor_q is not None:
            series_r = 2 * math.pi * losses.q_freq_hz * comp.value / losses.inductor_q
        elif comp.kind == "C" and losses.capacitor_esr_ohm is not None:
            series_r = losses.capacitor_esr_ohm
        if series_r is None:
            put(comp.node_a, comp.node_b, comp.kind, comp.value, comp.name)
            continue
        node = circuit.n_nodes + extra
        extra += 1
        put(comp.node_a, node, comp.kind, comp.value, comp.name)
        put(node, comp.node_b, "R", series_r, f"R_{comp.name}")
    edges = {k: Edge(r_ohm=v.get("R"), l_h=v.get("L"), c_f=v.get("C")) for k, v in parts.items()}
    return Circuit(circuit.n_internal + extra, edges, names)
