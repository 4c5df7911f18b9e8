"""Standard (E-series) values for a mask design, found jointly and re-verified exactly.

Rounding each part on its own and hoping throws away margin. Here every filter part may take any of the two
preferred values below and the two above its exact value; a coordinate search moves one part at a time to the
choice that most raises the mask margin on the verification grid (every move of a round scored in one batch through
the nodal solver), from the best few starting points, and the winner is verified exactly. When the mask leaves the impedance level free (an ideal source and an open output),
the starting points also sweep that level over a decade: the response does not depend on it, the rounding does.
The terminations RS and RL are the mask's and are never changed.
"""

from __future__ import annotations

import math

import numpy as np

from circuitlib.analysis.mask import FilterMask, MaskReport, band_grids, verify
from circuitlib.analysis.tolerance import margins_of_values
from circuitlib.core.circuit import Circuit, Edge
from circuitlib.synthesis.classical import filter_parts
from circuitlib.synthesis.values import eseries_values

_FIELD = {"R": "r_ohm", "L": "l_h", "C": "c_f"}
LEVELS = 16  # impedance levels tried over one decade when the mask leaves the level free
STARTS = 3  # starting points kept for the coordinate search


def with_values(circuit: Circuit, values: dict[tuple[int, int, str], float]) -> Circuit:
    """`circuit` with the elements keyed (a, b, kind) given new values; names and nodes kept."""
    edges = {}
    for (a, b), e in circuit.edges.items():
        fields = {f: getattr(e, f) for f in _FIELD.values()}
        for kind, f in _FIELD.items():
            if (a, b, kind) in values:
                fields[f] = values[(a, b, kind)]
        edges[(a, b)] = Edge(**fields)
    return Circuit(circuit.n_internal, edges, dict(circuit.names))


def choices(value: float, table: np.ndarray) -> list[float]:
    """The two preferred values at or below `value` and the two above it, nearest first in log distance.

    >>> choices(4.7e-9, eseries_values("E12"))  # 4.7 is itself an E12 value
    [4.7e-09, 5.6e-09, 3.9e-09, 6.8e-09]
    """
    decade = 10 ** math.floor(math.log10(value))
    ladder = np.concatenate([table[-2:] / 10, table, table[:3] * 10]) * decade
    ladder = np.array([float(f"{v:.3g}") for v in ladder])  # every series has 3 digits: 3.9000000000000004e-09
    i = int(np.searchsorted(ladder, value * (1 + 1e-12), side="right"))  # ladder[i - 1] <= value < ladder[i]
    near = [float(v) for v in ladder[max(i - 2, 0):i + 2]]
    return sorted(near, key=lambda v: abs(math.log(v / value)))


def _level_scaled(circuit: Circuit, a: float) -> Circuit:
    """Every filter part at impedance level x a (R and L times a, C divided by a): the same response when the
    mask has no terminations to hold the level."""
    values = {(p.node_a, p.node_b, p.kind): p.value * (1 / a if p.kind == "C" else a) for p in filter_parts(circuit)}
    return with_values(circuit, values)


def _margins(circuit: Circuit, mask: FilterMask, grids: list, rows: list[np.ndarray]) -> np.ndarray:
    """The sampled mask margin (dB, extrema refined by a parabola) of `circuit` with each row of element values,
    in one batch through the nodal solver."""
    return margins_of_values(circuit, mask, np.array(rows), grids)[0]


def snap(circuit: Circuit, mask: FilterMask, series: str) -> tuple[Circuit, MaskReport]:
    """The standard-value version of `circuit` (from `series`: E6 ... E192) with the largest mask margin found,
    and its exact report."""
    table = eseries_values(series)
    grids = band_grids(circuit, mask)
    free = mask.source_ohm == 0 and mask.load_ohm is None
    levels = np.logspace(-0.5, 0.5, LEVELS, endpoint=False) if free else [1.0]
    parts = [i for i, c in enumerate(circuit.components()) if c.name not in ("RS", "RL")]
    starts = []
    for a in levels:  # the level-scaled circuits keep the topology, so every start is a row of values
        values = np.array([c.value for c in _level_scaled(circuit, float(a)).components()])
        options = [choices(float(values[i]), table) for i in parts]
        values[parts] = [o[0] for o in options]
        starts.append((values, options))
    scores = _margins(circuit, mask, grids, [v for v, _ in starts])
    best_margin, best = -math.inf, circuit
    for k in np.argsort(-scores, kind="stable")[:STARTS]:
        row, options = starts[k]
        margin, row = _coordinate_search(circuit, mask, grids, parts, options, row, float(scores[k]))
        if margin > best_margin:
            best_margin, best = margin, circuit.with_values(row)
    return best, verify(best, mask, delay=False)


def _coordinate_search(circuit: Circuit, mask: FilterMask, grids: list, parts: list[int], options: list,
                       row: np.ndarray, margin: float) -> tuple[float, np.ndarray]:
    """Move one part at a time to the choice that most raises the sampled margin, until no move helps; every move
    of a round is scored in one batch."""
    for _ in range(8):
        trials = []
        for i, opts in zip(parts, options):
            for v in opts:
                if v != row[i]:
                    trial = row.copy()
                    trial[i] = v
                    trials.append(trial)
        scores = _margins(circuit, mask, grids, trials)
        best = int(np.argmax(scores))
        if not scores[best] > margin + 1e-12:
            break
        margin, row = float(scores[best]), trials[best]
    return margin, row
