"""The records vocabulary: response classes, edge classes, and which figures are a filter's main figures.

Every module that names a response class, an edge class or reads "the" frequency and Q of a filter uses
this module, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EDGE_CLASSES: tuple[str, ...] = ("none", "R", "L", "C", "RL", "RC", "LC", "RLC")  # parallel R, L, C per node pair
CUTOFF_RESPONSES = ("lowpass", "highpass")  # described by a cutoff fc and the pole Q
BAND_RESPONSES = ("bandpass", "bandstop")  # described by a band centre f0 and q = f0 / bandwidth
FILTER_RESPONSES = CUTOFF_RESPONSES + BAND_RESPONSES
RESPONSES = ("none", "flat", *FILTER_RESPONSES, "other")  # every class `measure` can report


def main_figures(figures: Mapping[str, Any] | Any) -> tuple[float | None, float | None]:
    """(f_hz, q) that describe a filter: (fc_hz, q_pole) for lowpass and highpass, (f0_hz, q) for bandpass and
    bandstop, (None, None) otherwise. `figures` is a record (a mapping) or a Measurement (attributes).

    >>> main_figures({"response": "lowpass", "fc_hz": 1e3, "f0_hz": None, "q": None, "q_pole": 0.7071})
    (1000.0, 0.7071)
    >>> main_figures({"response": "bandpass", "fc_hz": None, "f0_hz": 5e3, "q": 20.0, "q_pole": 20.0})
    (5000.0, 20.0)
    """
    get = figures.get if isinstance(figures, Mapping) else lambda key: getattr(figures, key)
    response = get("response")
    if response in CUTOFF_RESPONSES:
        return get("fc_hz"), get("q_pole")
    if response in BAND_RESPONSES:
        return get("f0_hz"), get("q")
    return None, None
