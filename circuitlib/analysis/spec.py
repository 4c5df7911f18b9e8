"""Specifications (response, f_hz, q) and how a circuit's figures are read against one (the book's definitions page)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from circuitlib.analysis.measure import Measurement, measure, pole_q
from circuitlib.core.circuit import Circuit
from circuitlib.core.errors import SpecificationError
from circuitlib.core.records import CUTOFF_RESPONSES, FILTER_RESPONSES, main_figures
from circuitlib.sim.mna import poles_zeros

RESPONSES = (*FILTER_RESPONSES, "any")
F_RANGE_HZ = (10.0, 1e6)
Q_RANGE = (0.02, 200.0)


@dataclass(frozen=True)
class Specification:
    """What a design must meet. For lowpass/highpass q is the pole Q (None: any order);
    for bandpass/bandstop q is f0/BW; 'any' reads the highest-Q pole pair.

    >>> Specification("bandpass", 5e3, 20.0)
    Specification(response='bandpass', f_hz=5000.0, q=20.0)
    >>> Specification("bandpass", 5e3)
    Traceback (most recent call last):
    ...
    circuitlib.core.errors.SpecificationError: a bandpass specification needs q
    """

    response: str
    f_hz: float
    q: float | None = None

    def __post_init__(self) -> None:
        if self.response not in RESPONSES:
            raise SpecificationError(f"response must be one of {', '.join(RESPONSES)}, not {self.response!r}")
        if not (isinstance(self.f_hz, (int, float)) and math.isfinite(self.f_hz) and self.f_hz > 0):
            raise SpecificationError(f"f_hz must be a positive finite number, not {self.f_hz!r}")
        if self.q is not None and not (isinstance(self.q, (int, float)) and math.isfinite(self.q) and self.q > 0):
            raise SpecificationError(f"q must be a positive finite number or None, not {self.q!r}")
        if self.q is None and self.response in ("bandpass", "bandstop", "any"):
            raise SpecificationError(f"a {self.response} specification needs q")


@dataclass(frozen=True)
class Achieved:
    """The figures of a circuit read the way a specification asks; None with a reason when absent."""

    f_hz: float | None
    q: float | None
    reason: str = ""


def any_figures(circuit: Circuit) -> Achieved:
    """The 'any' convention: natural frequency sqrt(p1 p2)/2 pi and q_pole of the highest-Q pole pair."""
    q, f_hz, why = pole_q(poles_zeros(circuit))
    return Achieved(f_hz if q is not None else None, q, why)


def achieved(circuit: Circuit, spec: Specification, m: Measurement | None = None) -> Achieved:
    """The figures that `spec` compares against."""
    if spec.response == "any":
        return any_figures(circuit)
    m = m or measure(circuit)
    if m.response != spec.response:
        return Achieved(None, None, f"the circuit is {m.response}, not {spec.response}")
    f_hz, q = main_figures(m)
    if spec.response in CUTOFF_RESPONSES:
        return Achieved(f_hz, q, m.absent.get("fc_hz", "") or m.absent.get("q_pole", ""))
    return Achieved(f_hz, q, m.absent.get("f0_hz", ""))


def errors(spec: Specification, got: Achieved) -> tuple[float | None, float | None]:
    """Relative errors |measured - target| / target of f and q (q error None when q is not specified)."""
    f_err = None if got.f_hz is None else abs(got.f_hz - spec.f_hz) / spec.f_hz
    if spec.q is None:
        return f_err, None
    return f_err, (None if got.q is None else abs(got.q - spec.q) / spec.q)


def meets(spec: Specification, got: Achieved, tol: float) -> bool:
    """Met at tolerance `tol` when every specified figure exists and is within `tol`."""
    f_err, q_err = errors(spec, got)
    if f_err is None or f_err > tol:
        return False
    return spec.q is None or (q_err is not None and q_err <= tol)
