"""An independent check of a reported tolerance yield: the same design re-sampled with the same distribution by a
different sampler (scipy.stats, another seed), each sample verified on its own by the exact mask verification
(refined extrema), not by the batched grid that `analysis.tolerance` uses.

Two estimates of one yield from independent samples differ by sampling noise alone; they agree when their
difference lies within the 95% interval of that difference, 1.96 sqrt(p (1 - p) (1/n1 + 1/n2)) with p pooled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from circuitlib.analysis.mask import FilterMask, verify
from circuitlib.core.circuit import Circuit

FIXED = ("RS", "RL")  # the terminations the mask gives are not toleranced


@dataclass(frozen=True)
class IndependentYield:
    """Samples drawn, samples that met the mask, and the yield."""

    samples: int
    passed: int

    @property
    def fraction(self) -> float:
        return self.passed / self.samples


def draw_factors(n_parts: int, tol: float, distribution: str, samples: int, seed: int) -> np.ndarray:
    """(samples, n_parts) multipliers: normal with sigma = tol/3 truncated at +-tol, or uniform on +-tol."""
    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        dist = stats.uniform(loc=1 - tol, scale=2 * tol)
    else:
        dist = stats.truncnorm(-3.0, 3.0, loc=1.0, scale=tol / 3)
    return dist.rvs(size=(samples, n_parts), random_state=rng)


def independent_yield(circuit: Circuit, mask: FilterMask, tol: float, distribution: str, samples: int,
                      seed: int) -> IndependentYield:
    """The yield of `circuit` against `mask` when every filter part is off by the same relative tolerance `tol`,
    each sample verified exactly.

    >>> from circuitlib.core.circuit import Edge
    >>> rc = Circuit(0, {(1, 2): Edge(r_ohm=1e3), (0, 2): Edge(c_f=1e-7)})  # fc = 1591.55 Hz
    >>> m = FilterMask("lowpass", 1591.55, 1e6, 3.0103, 20.0)  # met when R C stays at or below nominal
    >>> 0.4 < independent_yield(rc, m, 0.05, "normal", 200, seed=3).fraction < 0.6
    True
    """
    comps = circuit.components()
    parts = [i for i, c in enumerate(comps) if c.name not in FIXED]
    nominal = np.array([c.value for c in comps])
    passed = 0
    for factors in draw_factors(len(parts), tol, distribution, samples, seed):
        values = nominal.copy()
        values[parts] *= factors
        passed += verify(circuit.with_values(values), mask).met
    return IndependentYield(samples, int(passed))


def agree(p1: float, n1: int, p2: float, n2: int, z: float = 1.959963984540054) -> bool:
    """Whether two yields from independent samples differ by no more than their difference's 95% interval.

    >>> agree(0.90, 1000, 0.88, 400), agree(0.90, 1000, 0.80, 400)
    (True, False)
    """
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    half = z * math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n1 + 1 / n2))
    return abs(p1 - p2) <= max(half, 1e-12)
