"""Prototypes: circuits normalised in frequency and impedance, the form the normalised conditional decoder reads
and writes (the way a classical designer works: design at a reference, then denormalise).

A circuit's prototype has its main frequency (fc, or f0 for band filters) moved to PROTOTYPE_F_HZ and its impedance
level centred in the dataset's value ranges (`synthesis.values.centre_impedance`; with an ideal source and an open
output the response does not depend on it). Its Q, its response class and every value ratio are the circuit's own,
so a decoder that writes prototypes only has to learn how a topology's values depend on Q; the frequency comes
from the specification, by exact scaling, with no simulation.
"""

from __future__ import annotations

from circuitlib.core.circuit import Circuit
from circuitlib.synthesis.values import centre_impedance, scale

PROTOTYPE_F_HZ = 10**3.5  # the centre of the dataset's frequency range in log10 (about 3.16 kHz)


def prototype(circuit: Circuit, f_hz: float) -> Circuit:
    """`circuit`, whose main frequency is `f_hz`, moved to PROTOTYPE_F_HZ with its impedance level centred."""
    return centre_impedance(scale(circuit, freq=PROTOTYPE_F_HZ / f_hz))


def denormalised(proto: Circuit, f_hz: float) -> Circuit:
    """A prototype moved from PROTOTYPE_F_HZ to `f_hz`, its impedance level centred again (response unchanged)."""
    return centre_impedance(scale(proto, freq=f_hz / PROTOTYPE_F_HZ))
