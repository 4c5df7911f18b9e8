"""The vertex of the parabola through three samples: how a sampled maximum is refined between grid points (in dB
against log frequency) by the Monte Carlo yield (`tolerance`) and the batched verification (`mask_batch`)."""

from __future__ import annotations

import numpy as np


def parabola_max(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each column of x and y, (3, N): the value at the vertex of the parabola through the three points, and
    whether that vertex is a maximum strictly between x[0] and x[2] (elsewhere the value is not to be used).

    >>> x = np.array([[0.0], [0.5], [1.0]])
    >>> value, ok = parabola_max(x, 2.0 - (x - 0.3) ** 2)
    >>> float(np.round(value[0], 12)), bool(ok[0])
    (2.0, True)
    >>> bool(parabola_max(x, (x - 0.3) ** 2)[1][0])  # a minimum
    False
    """
    (x0, x1, x2), (y0, y1, y2) = x, y
    with np.errstate(divide="ignore", invalid="ignore"):
        d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        a = (d12 - d01) / (x2 - x0)  # p(x) = y0 + d01 (x - x0) + a (x - x0)(x - x1); a < 0 at a maximum
        xv = 0.5 * (x0 + x1) - d01 / (2 * a)
        yv = y0 + d01 * (xv - x0) + a * (xv - x0) * (xv - x1)
    return yv, (a < 0) & (xv > x0) & (xv < x2) & np.isfinite(yv)
