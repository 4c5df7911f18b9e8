"""Classical ladders as circuits: the nodal solver on the circuit equals the ladder's own ABCD response, and the
terminations are the elements RS and RL."""

import math

import numpy as np
import pytest

from circuitlib.sim.mna import pencil, response_hz
from circuitlib.synthesis import ladder as lad
from circuitlib.synthesis.classical import filter_parts, ladder_circuit

CASES = [("butterworth", n, 3.0103, None) for n in (1, 2, 5, 10)] + [
    ("chebyshev1", n, 0.5, None) for n in (3, 5, 7)] + [("bessel", 4, 1.0, None), ("elliptic", 5, 0.5, 40.0),
                                                        ("chebyshev2", 5, 1.0, 40.0)]
TERMS = [(50.0, 50.0), (75.0, 300.0), (50.0, None), (0.0, 600.0)]


def _ladders():
    for family, order, ripple, att in CASES:
        for rs, rl in TERMS:
            for form in lad.FORMS:
                try:
                    proto = lad.synthesise(family, order, ripple, att, rs_ohm=rs / (rs or 1), rl_ohm=rl and rl / (rs or rl),
                                           form=form)
                except ValueError:
                    continue
                yield pytest.param(proto, rs or rl, id=f"{family}{order}-{rs}-{rl}-{form}")


@pytest.mark.parametrize("proto, r0", list(_ladders()))
@pytest.mark.parametrize("response", ["lowpass", "highpass", "bandpass", "bandstop"])
def test_the_circuit_is_the_ladder(proto, r0, response):
    edge = 1e3 if response in ("lowpass", "highpass") else (800.0, 1250.0)
    ladder = lad.transform(proto, response, edge, r0)
    circuit = ladder_circuit(ladder)
    f_hz = np.geomspace(10.0, 1e5, 301)
    ours = response_hz(pencil(circuit), f_hz)
    theirs = lad.response(ladder, 2 * math.pi * f_hz)
    assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-12 * np.abs(theirs).max())
    names = [c.name for c in circuit.components()]
    assert ("RS" in names) == (ladder.rs_ohm > 0) and ("RL" in names) == (ladder.rl_ohm is not None
                                                                            and not ladder.load_is_element)
    assert len(filter_parts(circuit)) == len(ladder.elements()) + int(ladder.load_is_element)
