"""The dataset for filter masks: classical ladders (and mutants of them), each with exact descriptors of the masks it
attains.

A designer asks for a mask (`analysis.mask.FilterMask`); a record says which masks its circuit attains, at some
frequency scale, between terminations of its load/source ratio.

Records
-------
Record i is drawn from its own generator, ``np.random.default_rng([seed, i])``, so that it does not depend on how
work is spread over processes. It is a classical ladder (`synthesis.ladder.synthesise`): a random family, order
1..max_order, form, variant (even-order Chebyshev II: "b"; even-order elliptic: "b" or "c"), ripple (log-uniform)
and attenuation (uniform) from the config's ranges, and terminations: unterminated (ideal source, open load: the
synthesis adds a 1 ohm load that is a filter part), ideal source + load, source + open load, or doubly terminated
with rl/rs = 1 or log-uniform in [0.25, 4]; transformed to the record's response (band responses with a log-uniform
fractional bandwidth). A combination that synthesis cannot realise (ValueError, or RuntimeError for a numerical
failure) is drawn again from the same generator. With probability `mutation_share` the record is a mutant of such a
ladder: one random L or C removed, an L or C (reactance log-uniform in [0.1, 10] ohm at omega = 1) added between two
existing nodes (never across the ideal source), or one L or C swapped for the other kind at the same reactance at
omega = 1. A mutant is kept only when it has no structural problem (the value ranges aside: normalised values are
not physical ones), no dangling internal node, no pole of H on the j omega axis, and exact limits at 0 and infinity
(`sim.limits.limit_gain`) that still match its response class (a stopband end 0, a passband end G_ref); otherwise
another mutation (up to MUTATION_TRIES) and then another ladder is drawn. A lossless mode that H does not see is
allowed (the bandstop transforms of elliptic and Chebyshev II trap arms have one at the centre, where the nodal
matrix is singular although H is finite): records list them in `hidden_modes_rad_s`, and the descriptor grid keeps
1e-7 away from them.

Every record is normalised: the passband edge (lowpass/highpass) or the passband's geometric centre (band
responses) at omega = 1 rad/s, the source resistance 1 ohm (with an ideal source the load is 1 ohm; unterminated
records hold their own 1 ohm load). A mutant keeps its parent's scale.

Fields: id, index, split ("train"/"val"/"test" by a hash of seed and id, 70/10/20 %), response, family (or
"mutant"), parent_family, parent_order and mutation (mutants; else None), order (the prototype's; a mutant's: its
poles, halved for band responses), n_poles, hidden_modes_rad_s, form, variant, ripple_db and attenuation_db (the
design's), fractional_bandwidth (band responses), terminations, rs_ohm (1 or 0 for an ideal source), rl_ohm (None
for an open load), g_ref, n_internal, n_nodes, edges ([a, b, r_ohm, l_h, c_f], as `learn.dataset.edges_json`),
termination_names ([a, b, "RS"|"RL"]), parts and inductors (filter parts: RS and RL not counted), topology
(`topology_signature`), descriptors, crossings_3db, multi_band.

Descriptors
-----------
Gains g(omega) are in dB relative to G_ref = rl/(rs + rl) (1 for an open load), computed on the exact response
(a nodal solve of the circuit, see `_Gain`; it agrees with `sim.mna.response_hz` to about 1e-10): a log grid
(GRID_PPD points per decade over 1e-2..1e2 rad/s, widened to a decade past every pole and zero, up to
NODAL_RAD_S), dense points around every pole and zero, ends extended until the response has settled to its exact
limit (`limit_gain`; beyond NODAL_RAD_S the exact pole-zero product, anchored on the solved value at the range's
end), every local extremum refined (a zoom of ZOOM_ROUNDS rounds), and every crossing refined with
scipy.optimize.brentq. "Exceeds r" means |g| > r + TOL_DB (equiripple bands touch their ripple exactly).

* ``pass_edge[r]`` for r in RIPPLES_DB: the passband edge(s) adjacent to the passband limit. Lowpass: the first
  omega from DC where |g| exceeds r (None when |g(0)| > r); highpass: mirrored from infinity; bandpass: (lo, hi)
  of the contiguous region around the passband's centre (omega = 1) where |g| <= r (None when |g(1)| > r);
  bandstop: (edge of the lower passband from DC, edge of the upper passband from infinity).
* ``stop_edge[a]`` for a in ATTENUATIONS_DB: lowpass: the smallest omega above which g <= -a everywhere, up to
  infinity (None when the limit at infinity is above -a); highpass: mirrored; bandpass: (the highest omega below
  which g <= -a everywhere from DC, the lowest above which it holds up to infinity); bandstop: the pair around the
  deepest notch (ties, below -200 dB, go to the notch nearest omega = 1) where g <= -a (None when the notch never
  reaches -a).

The rule in one line: the passband edge adjacent to the passband limit, and for bandstop the deepest notch.
Keys are strings (repr of the level as a float: "0.05", "1.0", "10.0"), values a float, a [lo, hi] pair, or None. Where a crossing
cannot be bracketed the value is None (conservative: the record then attains no mask at that level).

* ``multi_band``: the gain crosses -3.0103 dB (DB3) re G_ref more often than the class implies (lowpass/highpass
  once, bandpass/bandstop twice): a dip inside a passband, or a second notch. (The ripple range ends at 3 dB, so an
  equiripple passband never reaches that level.)

Attaining a mask
----------------
`attains(record, mask)` returns k, the factor that multiplies the record's normalised angular frequencies to give
rad/s (omega_mask = k * omega_record), or None: the mask's passband must lie inside k times the record's passband
at the largest tabulated ripple <= the mask's ripple, and its stopband inside k times the record's stopband at the
smallest tabulated attenuation >= the mask's attenuation (conservative). Every edge gives a bound on k; k is the
geometric middle of the feasible interval. `circuit_of(record, mask, k)` is the record's circuit at the mask's
impedance level (its source resistance; with an ideal source its load; unterminated: UNTERMINATED_OHM) and
frequency scale k.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator
from scipy.optimize import brentq
from tqdm import tqdm

from circuitlib.analysis.mask import FilterMask, marks_of_roots
from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge, structural_problems, topology_signature
from circuitlib.core.config import parse_config
from circuitlib.core.errors import CircuitlibError, SpecificationError
from circuitlib.core.files import atomic_write_bytes, sha256_file
from circuitlib.learn.dataset import edges_json
from circuitlib.sim.limits import limit_gain
from circuitlib.sim.mna import poles_zeros
from circuitlib.synthesis import ladder as lad
from circuitlib.synthesis.classical import filter_parts, ladder_circuit

RESPONSES = lad.RESPONSES
FAMILIES = lad.FAMILIES
RIPPLES_DB = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
ATTENUATIONS_DB = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0)
DB3 = lad.DB3  # the multi-band level, 3.0103 dB below G_ref
TOL_DB = 1e-8  # "exceeds a level" means by more than this (equiripple bands touch their levels exactly)
GRID_PPD = 400  # points per decade of the descriptor grid
CORE_RAD_S = (1e-2, 1e2)  # the grid spans at least this, and a decade past every pole and zero ...
NODAL_RAD_S = (1e-5, 1e5)  # ... within this: beyond it a nodal solve of a normalised circuit loses the output
ZOOM_ROUNDS, ZOOM_POINTS = 4, 33  # refinement of every local extremum: rounds of a local grid, each 16x finer
DEEP_DB = -200.0  # notches deeper than this count as equally deep
SETTLED_DB = (0.02, -100.0)  # a grid end has settled: within 0.02 dB of a 0 dB limit, or below -100 dB for a 0 limit
MUTATION_TRIES = 8  # mutations of one ladder before another ladder is drawn
MAX_DRAWS = 200  # ladders drawn for one record before giving up (never reached in practice)
UNTERMINATED_OHM = 1e3  # impedance level of an unterminated record's circuit (the mask does not fix one)
TERMINATIONS = {"unterminated": 0.15, "ideal_source": 0.15, "open_load": 0.15, "equal": 0.3, "ratio": 0.25}
RATIO_RANGE = (0.25, 4.0)
ADDED_REACTANCE_OHM = (0.1, 10.0)  # an added L or C: its reactance at omega = 1, log-uniform
RECORDS_FILE, MANIFEST_FILE = "records.jsonl.gz", "manifest.json"


def level_key(level: float) -> str:
    """The descriptor key of a ripple or attenuation level, repr of its float: "0.05", "1.0", "80.0"."""
    return repr(float(level))


# ---------------------------------------------------------------- config


class MaskDatasetConfig(BaseModel, frozen=True):
    """Parameters of the mask dataset; a bad value fails here with a clear message."""

    n_records: int = Field(3000, ge=10, le=2_000_000)
    seed: int = Field(0, ge=0)
    max_order: int = Field(10, ge=1, le=20)
    mutation_share: float = Field(0.25, ge=0.0, le=1.0)
    ripple_db: tuple[float, float] = (0.01, 3.0)
    attenuation_db: tuple[float, float] = (20.0, 80.0)
    fractional_bandwidth: tuple[float, float] = (0.05, 1.5)
    responses: tuple[str, ...] = RESPONSES

    @field_validator("ripple_db")
    @classmethod
    def _ripple(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] <= 3.0:
            raise ValueError("ripple_db must be (low, high) with 0 < low <= high <= 3 dB")
        return value

    @field_validator("attenuation_db")
    @classmethod
    def _attenuation(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] <= 200.0:
            raise ValueError("attenuation_db must be (low, high) with 0 < low <= high <= 200 dB")
        return value

    @field_validator("fractional_bandwidth")
    @classmethod
    def _bandwidth(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1] <= 10.0:
            raise ValueError("fractional_bandwidth must be (low, high) with 0 < low <= high <= 10")
        return value

    @field_validator("responses")
    @classmethod
    def _responses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(RESPONSES))
        if unknown or not value or len(set(value)) != len(value):
            raise ValueError(f"responses must be distinct names from: {', '.join(RESPONSES)}")
        return tuple(value)

    @model_validator(mode="after")
    def _levels(self) -> MaskDatasetConfig:
        if not self.attenuation_db[0] > self.ripple_db[1]:
            raise ValueError("attenuation_db must lie above ripple_db")
        return self


def config_from(**params) -> MaskDatasetConfig:
    """Typed config from notebook parameters; a bad value raises one clear CircuitlibError line."""
    return parse_config(MaskDatasetConfig, **params)


# ---------------------------------------------------------------- drawing a ladder


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(10 ** rng.uniform(math.log10(lo), math.log10(hi)))


def _band_edges(response: str, bandwidth: float) -> tuple[float, ...]:
    """The normalised edges (rad/s): 1, or (lo, hi) with lo * hi = 1 and hi - lo = bandwidth."""
    if response in ("lowpass", "highpass"):
        return (1.0,)
    lo = math.sqrt(bandwidth * bandwidth / 4 + 1) - bandwidth / 2
    return lo, lo + bandwidth


def _draw_spec(rng: np.random.Generator, cfg: MaskDatasetConfig, response: str) -> dict:
    """One ladder's parameters; every number is drawn whether it is used or not."""
    family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    order = int(rng.integers(1, cfg.max_order + 1))
    ripple = _log_uniform(rng, *cfg.ripple_db)
    attenuation = float(rng.uniform(*cfg.attenuation_db))
    u = rng.random()
    ratio = _log_uniform(rng, *RATIO_RANGE)
    form = lad.FORMS[int(rng.integers(2))]
    variant_c = rng.random() < 0.5
    bandwidth = _log_uniform(rng, *cfg.fractional_bandwidth)
    cumulative, termination = 0.0, "ratio"
    for name, share in TERMINATIONS.items():
        cumulative += share
        if u < cumulative:
            termination = name
            break
    rs, rl = {"unterminated": (0.0, None), "ideal_source": (0.0, 1.0), "open_load": (1.0, None),
              "equal": (1.0, 1.0), "ratio": (1.0, ratio)}[termination]
    variant = "a"
    if order % 2 == 0 and family in ("chebyshev2", "elliptic"):
        variant = "c" if family == "elliptic" and variant_c else "b"
    return {"family": family, "order": order, "ripple_db": ripple,
            "attenuation_db": attenuation if family in ("chebyshev2", "elliptic") else None,
            "terminations": termination, "rs": rs, "rl": rl,
            "form": form if termination in ("equal", "ratio") else None, "variant": variant,
            "fractional_bandwidth": bandwidth if response in ("bandpass", "bandstop") else None}


def _ladder(spec: dict, response: str) -> tuple[lad.Ladder, Circuit] | None:
    """The normalised ladder and its circuit, or None when synthesis cannot realise the spec."""
    try:
        ladder = lad.synthesise(spec["family"], spec["order"], spec["ripple_db"], spec["attenuation_db"],
                                rs_ohm=spec["rs"], rl_ohm=spec["rl"], form=spec["form"], variant=spec["variant"])
        if response != "lowpass":
            edges_hz = [e / (2 * math.pi) for e in _band_edges(response, spec["fractional_bandwidth"])]
            ladder = lad.transform(ladder, response, edges_hz[0] if len(edges_hz) == 1 else tuple(edges_hz), 1.0)
        return ladder, ladder_circuit(ladder)
    except (ValueError, RuntimeError):
        return None


# ---------------------------------------------------------------- mutation and validity

_FIELD = {"R": "r_ohm", "L": "l_h", "C": "c_f"}


def _with_part(circuit: Circuit, key: tuple[int, int], kind: str, value: float | None) -> Circuit:
    """`circuit` with the `kind` element on edge `key` set to `value` (None: removed)."""
    edges = dict(circuit.edges)
    old = edges.get(key, Edge())
    new = Edge(**{**{f: getattr(old, f) for f in _FIELD.values()}, _FIELD[kind]: value})
    if new.parts():
        edges[key] = new
    else:
        edges.pop(key, None)
    return Circuit(circuit.n_internal, edges, dict(circuit.names))


def _mutate(rng: np.random.Generator, circuit: Circuit) -> tuple[Circuit, str] | None:
    """One random mutation of `circuit` and its description, or None when the drawn one is not possible."""
    how = int(rng.integers(3))
    parts = [c for c in filter_parts(circuit) if c.kind in "LC"]
    pick = parts[int(rng.integers(len(parts)))] if parts else None
    a, b = (int(x) for x in rng.choice(circuit.n_nodes, size=2, replace=False))
    key = (min(a, b), max(a, b))
    added_kind = "LC"[int(rng.integers(2))]
    reactance = _log_uniform(rng, *ADDED_REACTANCE_OHM)
    if how == 0:
        if pick is None:
            return None
        key = (pick.node_a, pick.node_b)
        return _with_part(circuit, key, pick.kind, None), f"remove {pick.name} ({_where(key)})"
    if how == 1:
        if key == (GND, VIN) or getattr(circuit.edges.get(key, Edge()), _FIELD[added_kind]) is not None:
            return None
        value = reactance if added_kind == "L" else 1.0 / reactance
        return _with_part(circuit, key, added_kind, value), f"add {added_kind} ({_where(key)})"
    if pick is None:
        return None
    key, other = (pick.node_a, pick.node_b), "C" if pick.kind == "L" else "L"
    if getattr(circuit.edges[key], _FIELD[other]) is not None:
        return None
    swapped = _with_part(_with_part(circuit, key, pick.kind, None), key, other, 1.0 / pick.value)
    return swapped, f"swap {pick.name} ({_where(key)}) to {other}"


def _where(key: tuple[int, int]) -> str:
    return f"{Circuit.node_name(key[0])}-{Circuit.node_name(key[1])}"


def _pass_ends(response: str) -> tuple[bool, bool]:
    """Whether the ends at 0 and at infinity are passband ends."""
    return {"lowpass": (True, False), "highpass": (False, True), "bandpass": (False, False),
            "bandstop": (True, True)}[response]


def _acceptable(circuit: Circuit, response: str, g_ref: float) -> tuple[tuple[float, float], object] | None:
    """((limit at 0, limit at infinity) re G_ref, poles and zeros) when the circuit is structurally valid (value
    ranges aside), has no dangling internal node, no pole of H on or right of the j omega axis, and exact limits
    that match its response class; else None. A lossless mode that H does not see (cancelled: the bandstop
    transforms of trap arms have one at the centre) is allowed; `hidden_modes` lists it."""
    if [p for p in structural_problems(circuit) if p.code != "value_out_of_range"]:
        return None
    values = [c.value for c in circuit.components()]
    if not all(math.isfinite(v) and v > 0 for v in values):
        return None
    degree = Counter()
    for (a, b), e in circuit.edges.items():
        if e.parts():
            degree[a] += 1
            degree[b] += 1
    if any(degree[n] < 2 for n in range(3, circuit.n_nodes)):
        return None
    limits = []
    for at, passes in zip(("zero", "infinity"), _pass_ends(response)):
        h = limit_gain(circuit, at)
        if h is None:
            return None
        ratio = abs(h) / g_ref
        if (passes and not abs(ratio - 1) <= 1e-9) or (not passes and not ratio <= 1e-12):
            return None
        limits.append(1.0 if passes else 0.0)
    pz = poles_zeros(circuit)
    if pz.identically_zero:
        return None
    if np.any(pz.poles.real >= -1e-9 * np.abs(pz.poles)):
        return None
    return (limits[0], limits[1]), pz


def hidden_modes(pz) -> list[float]:
    """The frequencies (rad/s) of the lossless natural modes that H does not see (cancelled poles on the j omega
    axis, s = 0 aside): the nodal matrix is singular there although H is finite."""
    c = pz.cancelled[(np.abs(pz.cancelled) > 1e-9) & (np.abs(pz.cancelled.real) <= 1e-9 * np.abs(pz.cancelled))]
    return sorted({float(x) for x in np.abs(c.imag[c.imag > 0])})


# ---------------------------------------------------------------- exact gain


class _Gain:
    """g(omega) in dB re G_ref on the exact response.

    On the core range [lo, hi] (CORE_RAD_S, widened to a decade past every pole and zero, within NODAL_RAD_S;
    roots at the origin that rounding left as 1e-16 or so do not count): the nodal admittance
    system (V(VIN) = 1, one unknown per node but GND and VIN), row-equilibrated and solved per point. The same
    circuit's MNA response (`sim.mna.response`) agrees to about 1e-10 relative there; this form is smaller (no
    inductor currents) and needs no extended-precision refinement, which makes a grid of thousands of points
    affordable. Beyond the core, where every pole and zero is a decade or more away and a nodal solve loses the
    output to rounding (the inductors' 1/(s L) and the capacitors' s C part by (omega/omega_0)^2), the gain is
    the core end's exact value times |P(j omega)/P(j omega_end)|, P(s) = prod(s - z)/prod(s - p) over the exact
    poles and zeros (`sim.mna.poles_zeros`): far from every root each factor is known to its root's relative
    accuracy."""

    def __init__(self, circuit: Circuit, g_ref: float, poles: np.ndarray, zeros: np.ndarray):
        index = {n: i for i, n in enumerate(n for n in range(circuit.n_nodes) if n not in (GND, VIN))}
        m = len(index)
        self.g, self.c, self.gamma = np.zeros((m, m)), np.zeros((m, m)), np.zeros((m, m))
        self.bg, self.bc, self.bgamma = np.zeros(m), np.zeros(m), np.zeros(m)
        for (a, b), e in circuit.edges.items():
            for mat, vec, y in ((self.g, self.bg, e.r_ohm and 1 / e.r_ohm), (self.c, self.bc, e.c_f),
                                (self.gamma, self.bgamma, e.l_h and 1 / e.l_h)):
                if not y:
                    continue
                for p, q in ((a, b), (b, a)):
                    if p in index:
                        mat[index[p], index[p]] += y
                        if q in index:
                            mat[index[p], index[q]] -= y
                        elif q == VIN:
                            vec[index[p]] += y
        self.out, self.g_ref = index[VOUT], g_ref
        self.poles, self.zeros = poles, zeros
        roots = np.concatenate([poles, zeros])
        mags = np.abs(roots[np.isfinite(roots)])
        mags = mags[(mags > 1e-9) & (mags < 1e9)]  # rounding leaves roots at the origin as 1e-16 or so
        self.lo = max(NODAL_RAD_S[0], min(CORE_RAD_S[0], mags.min() / 10) if len(mags) else CORE_RAD_S[0])
        self.hi = min(NODAL_RAD_S[1], max(CORE_RAD_S[1], mags.max() * 10) if len(mags) else CORE_RAD_S[1])
        self.ends = self._nodal_db(np.array([self.lo, self.hi]))

    def _nodal_db(self, w: np.ndarray) -> np.ndarray:
        s = 1j * w
        a = self.g[None] + s[:, None, None] * self.c[None] + (1 / s)[:, None, None] * self.gamma[None]
        rhs = self.bg[None] + s[:, None] * self.bc[None] + (1 / s)[:, None] * self.bgamma[None]
        scale = 1.0 / np.maximum(np.abs(a).max(axis=2), 1e-300)
        a, rhs = a * scale[:, :, None], (rhs * scale)[..., None]
        try:
            h = np.linalg.solve(a, rhs)[:, self.out, 0]
        except np.linalg.LinAlgError:  # exactly singular somewhere (a hidden lossless mode): 1e-7 beside it there
            h = np.array([self._one(a[k], rhs[k], w[k]) for k in range(len(w))])
        return 20 * np.log10(np.maximum(np.abs(h), 1e-300) / self.g_ref)

    def _one(self, a: np.ndarray, rhs: np.ndarray, w: float) -> complex:
        try:
            return np.linalg.solve(a, rhs)[self.out, 0]
        except np.linalg.LinAlgError:
            return 10 ** (self._nodal_db(np.array([w * (1 + 1e-7)]))[0] / 20) * self.g_ref

    def _log_p(self, w: np.ndarray) -> np.ndarray:
        """20 log10 |P(j omega)| (dB)."""
        s = 1j * w[:, None]
        return 20 * (np.log10(np.abs(s - self.zeros[None])).sum(axis=1) -
                     np.log10(np.abs(s - self.poles[None])).sum(axis=1))

    def db(self, w: np.ndarray) -> np.ndarray:
        w = np.atleast_1d(np.asarray(w, dtype=float))
        out = np.empty(len(w))
        core = (w >= self.lo) & (w <= self.hi)
        if core.any():
            out[core] = self._nodal_db(w[core])
        for mask, end, anchor in ((w < self.lo, self.lo, self.ends[0]), (w > self.hi, self.hi, self.ends[1])):
            if mask.any():
                out[mask] = anchor + self._log_p(w[mask]) - self._log_p(np.array([end]))[0]
        return out

    def at(self, w: float) -> float:
        return float(self.db(np.array([w]))[0])


def _root_points(roots: np.ndarray) -> np.ndarray:
    """Dense points (rad/s) around the poles and zeros: for each root with |Im| > 0 the j omega axis near Im, at
    steps of |Re|/4 within +-16 |Re| and geometrically out to +-1e4 |Re| (a zero on the axis: +-1e-9 ... 1e-5 of
    its frequency); and the magnitudes and windows of `analysis.mask.marks_of_roots`."""
    roots = roots[np.isfinite(roots) & (np.abs(roots) > 1e-9)]
    out = [2 * math.pi * marks_of_roots(roots)]
    near = np.linspace(-16, 16, 129)
    far = np.geomspace(16, 1e4, 40)
    offsets = np.concatenate([near, far, -far])
    for r in roots[roots.imag > 0]:
        y = r.imag
        out.append(y + max(abs(r.real), 1e-9 * y) * offsets)
    pts = np.concatenate(out) if out else np.zeros(0)
    return pts[np.isfinite(pts) & (pts > 0)]


def _off(w: np.ndarray, avoid: list[float]) -> np.ndarray:
    """The points of `w` at least 1e-7 (relative) away from every frequency of `avoid`."""
    keep = np.ones(len(w), dtype=bool)
    for x in avoid:
        keep &= np.abs(w / x - 1) > 1e-7
    return keep


def _grid(gain: _Gain, roots: np.ndarray, limits_db: tuple[float, float],
          avoid: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(omega, g) on the descriptor grid: the core log grid, the root points, ends extended until settled; no
    point within 1e-7 of a hidden lossless mode (`avoid`), where the nodal matrix is singular."""
    lo, hi = gain.lo, gain.hi
    base = np.geomspace(lo, hi, int(GRID_PPD * math.log10(hi / lo)) + 1)
    pts = _root_points(roots)
    w = _unique(np.concatenate([base, pts[(pts > lo) & (pts < hi)], [1.0]]))
    w = w[_off(w, avoid)]
    g = gain.db(w)
    for end in (0, -1):
        limit = limits_db[0 if end == 0 else 1]
        for _ in range(10):  # at most 10 more decades at each end
            settled = abs(g[end]) < SETTLED_DB[0] if limit == 0.0 else g[end] < SETTLED_DB[1]
            if settled:
                break
            more = np.geomspace(w[0] / 10, w[0], 41)[:-1] if end == 0 else np.geomspace(w[-1], w[-1] * 10, 41)[1:]
            gm = gain.db(more)
            w, g = (np.concatenate([more, w]), np.concatenate([gm, g])) if end == 0 else \
                (np.concatenate([w, more]), np.concatenate([g, gm]))
    return w, g


def _unique(w: np.ndarray) -> np.ndarray:
    w = np.unique(w)
    return w[np.concatenate([[True], np.diff(w) > 1e-12 * w[1:]])]


def _refine_extrema(gain: _Gain, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid with every local extremum refined: ZOOM_ROUNDS rounds of ZOOM_POINTS points between the extremum's
    neighbours, each round around the best point of the last; every evaluated point joins the grid. Extrema below
    -150 dB or flatter than 1e-9 dB (rounding on a flat stretch) are left alone."""
    d = np.diff(g)
    i = np.flatnonzero(((d[:-1] > 0) & (d[1:] <= 0)) | ((d[:-1] < 0) & (d[1:] >= 0))) + 1
    drop = np.maximum(np.abs(d[i - 1]), np.abs(d[i]))
    i = i[(drop > 1e-9) & (g[i] > -150)]
    if not len(i):
        return w, g
    sign = np.where(d[i - 1] > 0, 1.0, -1.0)  # 1: a maximum, -1: a minimum
    lo, hi = np.log(w[i - 1]), np.log(w[i + 1])
    t = np.linspace(0, 1, ZOOM_POINTS)
    new_w, new_g = [], []
    rows = np.arange(len(i))
    for _ in range(ZOOM_ROUNDS):
        x = lo[:, None] + (hi - lo)[:, None] * t[None]
        vals = gain.db(np.exp(x).ravel()).reshape(x.shape)
        new_w.append(np.exp(x).ravel())
        new_g.append(vals.ravel())
        best = np.argmax(sign[:, None] * vals, axis=1)
        lo, hi = x[rows, np.maximum(best - 1, 0)], x[rows, np.minimum(best + 1, ZOOM_POINTS - 1)]
    w_all, g_all = np.concatenate([w, *new_w]), np.concatenate([g, *new_g])
    order = np.argsort(w_all, kind="stable")
    w_all, g_all = w_all[order], g_all[order]
    keep = np.concatenate([[True], np.diff(w_all) > 1e-13 * w_all[1:]])
    return w_all[keep], g_all[keep]


class _Edges:
    """Crossing searches on the sorted grid (w, g) of one circuit."""

    def __init__(self, gain: _Gain, w: np.ndarray, g: np.ndarray):
        self.gain, self.w, self.g = gain, w, g
        self.centre = int(np.argmin(np.abs(np.log(w))))

    def cross(self, inside: int, outside: int, level: float) -> float:
        """The omega between grid points `inside` and `outside` where g crosses `level` (brentq on log omega);
        the inside point where the two do not bracket it on the scalar evaluation (conservative)."""
        f = lambda x: self.gain.at(math.exp(x)) - level
        xa, xb = math.log(self.w[inside]), math.log(self.w[outside])
        fa, fb = f(xa), f(xb)
        if fa == 0.0:
            return float(self.w[inside])
        if fa * fb > 0:
            return float(self.w[inside])
        return float(math.exp(brentq(f, min(xa, xb), max(xa, xb), xtol=1e-14, rtol=1e-15)))

    def pass_cross(self, inside: int, outside: int, r: float) -> float:
        return self.cross(inside, outside, math.copysign(r + TOL_DB, self.g[outside]))

    def first(self, flags: np.ndarray, start: int = 0) -> int | None:
        hit = np.flatnonzero(flags[start:])
        return int(hit[0]) + start if len(hit) else None

    def last(self, flags: np.ndarray, stop: int | None = None) -> int | None:
        hit = np.flatnonzero(flags[:stop])
        return int(hit[-1]) if len(hit) else None

    def from_low(self, flags: np.ndarray, cross) -> float | None:
        """The edge at the first flagged point from DC."""
        j = self.first(flags)
        return None if j is None or j == 0 else cross(j - 1, j)

    def from_high(self, flags: np.ndarray, cross) -> float | None:
        """The edge at the last flagged point from infinity."""
        j = self.last(flags)
        return None if j is None or j == len(flags) - 1 else cross(j + 1, j)

    def around(self, m: int, flags: np.ndarray, cross) -> list[float] | None:
        """The pair of edges of the unflagged region around grid point m."""
        if flags[m]:
            return None
        left, right = self.last(flags, m), self.first(flags, m)
        if left is None or right is None:
            return None
        return [cross(left + 1, left), cross(right - 1, right)]


def descriptors(circuit: Circuit, response: str, g_ref: float, limits: tuple[float, float],
                pz, avoid: list[float] = ()) -> tuple[dict, int]:
    """The descriptors of a normalised circuit (see the module docstring) and its number of -DB3 crossings.
    `limits`: |H|/G_ref at 0 and infinity; `pz`: its poles and zeros (`sim.mna.poles_zeros`); `avoid`: its hidden
    lossless modes (`hidden_modes`)."""
    gain = _Gain(circuit, g_ref, pz.poles, pz.zeros)
    roots = np.concatenate([pz.poles, pz.zeros])
    limits_db = tuple(0.0 if x == 1.0 else -math.inf for x in limits)
    w, g = _grid(gain, roots, limits_db, list(avoid))
    w, g = _refine_extrema(gain, w, g)
    keep = _off(w, list(avoid))
    w, g = w[keep], g[keep]
    e = _Edges(gain, w, g)
    l0, linf = (20 * math.log10(x) if x > 0 else -math.inf for x in limits)
    pass_edge, stop_edge = {}, {}
    for r in RIPPLES_DB:
        bad = np.abs(g) > r + TOL_DB
        pc = lambda i, o, r=r: e.pass_cross(i, o, r)
        if response == "lowpass":
            v = e.from_low(bad, pc) if abs(l0) <= r else None
        elif response == "highpass":
            v = e.from_high(bad, pc) if abs(linf) <= r else None
        elif response == "bandpass":
            v = e.around(e.centre, bad, pc)
        else:
            lo = e.from_low(bad, pc) if abs(l0) <= r else None
            hi = e.from_high(bad, pc) if abs(linf) <= r else None
            v = [lo, hi] if lo is not None and hi is not None else None
        pass_edge[level_key(r)] = v
    deepest = _deepest(w, g)
    for a in ATTENUATIONS_DB:
        above = g > -a + TOL_DB
        sc = lambda i, o, a=a: e.cross(i, o, -a + TOL_DB)
        if response == "lowpass":
            v = e.from_high(above, sc) if linf <= -a else None
        elif response == "highpass":
            v = e.from_low(above, sc) if l0 <= -a else None
        elif response == "bandpass":
            lo = e.from_low(above, sc) if l0 <= -a else None
            hi = e.from_high(above, sc) if linf <= -a else None
            v = [lo, hi] if lo is not None and hi is not None and lo < hi else None
        else:
            v = e.around(deepest, above, sc)
        stop_edge[level_key(a)] = v
    below = g > -DB3
    crossings = int(np.count_nonzero(below[1:] != below[:-1]))
    return {"pass_edge": pass_edge, "stop_edge": stop_edge,
            "limits": {"zero": limits[0], "infinity": limits[1]}}, crossings


def describe(circuit: Circuit, response: str, g_ref: float) -> dict:
    """{"descriptors", "crossings_3db", "multi_band"} of a normalised circuit read as a `response` filter with
    reference gain `g_ref`; raises CircuitlibError when the circuit is not valid for that class (see
    `_acceptable`: structure, lossless poles, limits at 0 and infinity)."""
    checked = _acceptable(circuit, response, g_ref)
    if checked is None:
        raise CircuitlibError(f"the circuit is not a valid {response} filter (structure, lossless pole, or limits "
                              "at 0 and infinity)")
    limits, pz = checked
    desc, crossings = descriptors(circuit, response, g_ref, limits, pz, hidden_modes(pz))
    return {"descriptors": desc, "crossings_3db": crossings,
            "multi_band": crossings > (2 if response in ("bandpass", "bandstop") else 1)}


def _deepest(w: np.ndarray, g: np.ndarray) -> int:
    """The grid point of the deepest notch: the lowest g, ties below DEEP_DB nearest omega = 1."""
    clipped = np.maximum(g, DEEP_DB)
    low = np.flatnonzero(clipped == clipped.min())
    return int(low[np.argmin(np.abs(np.log(w[low])))])


# ---------------------------------------------------------------- records


def termination_names(circuit: Circuit) -> list[list]:
    """[[a, b, name], ...]: the resistors with fixed names, the terminations RS and RL."""
    return [[a, b, name] for (a, b, kind), name in sorted(circuit.names.items()) if kind == "R"]


def record_circuit(record: dict) -> Circuit:
    """The normalised circuit of a record, its terminations named RS and RL."""
    edges = {(a, b): Edge(r, l, c) for a, b, r, l, c in record["edges"]}
    return Circuit(record["n_internal"], edges, {(a, b, "R"): name for a, b, name in record["termination_names"]})


SPLITS = (("train", 0.7), ("val", 0.8), ("test", 1.0))  # cumulative shares


def split_of(record_id: str, seed: int) -> str:
    """"train", "val" or "test" from a hash of the seed and the record id (70/10/20 %)."""
    digest = hashlib.sha256(f"{seed}|mask-record|{record_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return next(name for name, upto in SPLITS if u < upto)


def _g_ref(rs: float, rl: float | None) -> float:
    return 1.0 if rl is None else rl / (rs + rl)


def make_record(index: int, cfg: MaskDatasetConfig) -> dict:
    """Record `index` (see the module docstring)."""
    rng = np.random.default_rng([cfg.seed, index])
    response = cfg.responses[int(rng.integers(len(cfg.responses)))]
    mutant = bool(rng.random() < cfg.mutation_share)
    for _ in range(MAX_DRAWS):
        spec = _draw_spec(rng, cfg, response)
        built = _ladder(spec, response)
        if built is None:
            continue
        ladder, circuit = built
        rs = ladder.rs_ohm
        rl = None if ladder.rl_ohm is None or ladder.load_is_element else ladder.rl_ohm
        g_ref = _g_ref(rs, rl)
        mutation = None
        if mutant:
            for _ in range(MUTATION_TRIES):
                drawn = _mutate(rng, circuit)
                if drawn is not None and (checked := _acceptable(drawn[0], response, g_ref)) is not None:
                    circuit, mutation = drawn
                    break
            else:
                continue
        else:
            checked = _acceptable(circuit, response, g_ref)
            if checked is None:
                continue
        limits, pz = checked
        hidden = hidden_modes(pz)
        desc, crossings = descriptors(circuit, response, g_ref, limits, pz, hidden)
        band = response in ("bandpass", "bandstop")
        poles = len(pz.poles)
        parts = filter_parts(circuit)
        return {
            "id": f"m{index:07d}", "index": index, "response": response,
            "family": "mutant" if mutant else ladder.family,
            "parent_family": ladder.family if mutant else None, "parent_order": ladder.order if mutant else None,
            "mutation": mutation,
            "order": ladder.order if not mutant else (poles + 1) // 2 if band else poles,
            "n_poles": poles, "hidden_modes_rad_s": hidden, "form": ladder.form, "variant": ladder.variant,
            "ripple_db": ladder.ripple_db, "attenuation_db": ladder.attenuation_db,
            "fractional_bandwidth": spec["fractional_bandwidth"], "terminations": spec["terminations"],
            "rs_ohm": rs, "rl_ohm": rl, "g_ref": g_ref,
            "n_internal": circuit.n_internal, "n_nodes": circuit.n_nodes,
            "edges": edges_json(circuit), "termination_names": termination_names(circuit),
            "split": split_of(f"m{index:07d}", cfg.seed),
            "parts": len(parts), "inductors": sum(c.kind == "L" for c in parts),
            "topology": topology_signature(circuit),
            "descriptors": desc, "crossings_3db": crossings, "multi_band": crossings > (2 if band else 1),
        }
    raise CircuitlibError(f"record {index}: no realisable ladder in {MAX_DRAWS} draws; check the config's ranges")


def generate(cfg: MaskDatasetConfig, progress: bool = True) -> Iterator[dict]:
    """Yield cfg.n_records records in index order (a tqdm bar unless `progress` is False)."""
    bar = tqdm(total=cfg.n_records, desc="mask records", disable=not progress or None)
    try:
        for index in range(cfg.n_records):
            yield make_record(index, cfg)
            bar.update(1)
    finally:
        bar.close()


# ---------------------------------------------------------------- attaining a mask


def terminations_match(record: dict, mask: FilterMask) -> bool:
    """Whether the mask's terminations are the record's up to the impedance level: ideal source and open load
    alike, and the same load/source ratio (1e-9 relative) when both are resistors."""
    rs, rl = record["rs_ohm"], record["rl_ohm"]
    if (rs == 0) != (mask.source_ohm == 0) or (rl is None) != (mask.load_ohm is None):
        return False
    if rs > 0 and rl is not None:
        return abs((mask.load_ohm / mask.source_ohm) / (rl / rs) - 1) <= 1e-9
    return True


def _levels(mask: FilterMask) -> tuple[float | None, float | None]:
    """The largest tabulated ripple <= the mask's and the smallest tabulated attenuation >= the mask's."""
    ripples = [r for r in RIPPLES_DB if r <= mask.ripple_db * (1 + 1e-12)]
    atts = [a for a in ATTENUATIONS_DB if a >= mask.attenuation_db * (1 - 1e-12)]
    return (ripples[-1] if ripples else None), (atts[0] if atts else None)


def attains(record: dict, mask: FilterMask) -> float | None:
    """k such that the record's circuit, frequencies multiplied by k (omega_mask = k * omega_record, rad/s), meets
    `mask` by its descriptors (see the module docstring); None when no k does, or when the response or the
    terminations differ. k is the geometric middle of the feasible interval."""
    if record["response"] != mask.response or not terminations_match(record, mask):
        return None
    r, a = _levels(mask)
    if r is None or a is None:
        return None
    p_edge = record["descriptors"]["pass_edge"][level_key(r)]
    s_edge = record["descriptors"]["stop_edge"][level_key(a)]
    if p_edge is None or s_edge is None:
        return None
    two_pi = 2 * math.pi
    if mask.response in ("lowpass", "highpass"):
        p, s = two_pi * mask.passband_hz, two_pi * mask.stopband_hz
        lows, highs = ([p / p_edge], [s / s_edge]) if mask.response == "lowpass" else ([s / s_edge], [p / p_edge])
    else:
        (p1, p2), (s1, s2) = ((two_pi * x for x in mask.passband_hz), (two_pi * x for x in mask.stopband_hz))
        (pl, ph), (sl, sh) = p_edge, s_edge
        if mask.response == "bandpass":
            lows, highs = [p2 / ph, s1 / sl], [p1 / pl, s2 / sh]
        else:
            lows, highs = [p1 / pl, s2 / sh], [p2 / ph, s1 / sl]
    lo, hi = max(lows), min(highs)
    if not lo <= hi * (1 + 1e-12):
        return None
    return math.sqrt(lo * hi)


def lowpass_transitions(records: Iterable[dict], ripple_db: float = 1.0) -> list[dict]:
    """For each low-pass record of a classical family (mutants left out) and each attenuation a (dB) it reaches: its
    stopband edge at a over its passband edge at `ripple_db`, the narrowest transition it can meet in a low-pass mask
    of that ripple and attenuation (`attains`), with its family and order; records whose passband edge does not exist
    at that ripple give none.

    >>> rec = {"response": "lowpass", "family": "butterworth", "order": 3,
    ...        "descriptors": {"pass_edge": {"1.0": 0.8}, "stop_edge": {"20.0": 2.0, "40.0": None}}}
    >>> lowpass_transitions([rec])
    [{'family': 'butterworth', 'attenuation dB': 20.0, 'ratio': 2.5, 'order': 3}]
    """
    rows = []
    for r in records:
        if r["response"] != "lowpass" or r["family"] == "mutant":
            continue
        p = r["descriptors"]["pass_edge"][level_key(ripple_db)]
        for a, s in r["descriptors"]["stop_edge"].items():
            if p is not None and s is not None:
                rows.append({"family": r["family"], "attenuation dB": float(a), "ratio": s / p, "order": r["order"]})
    return rows


def impedance_of(record: dict, mask: FilterMask) -> float:
    """The impedance level (ohm) that the record's normalised circuit is scaled by for `mask`."""
    if record["rs_ohm"] > 0:
        return mask.source_ohm
    return mask.load_ohm / record["rl_ohm"] if record["rl_ohm"] is not None else UNTERMINATED_OHM


def circuit_of(record: dict, mask: FilterMask, k: float) -> Circuit:
    """The record's circuit at the mask's impedance level and frequency scale k (omega_mask = k * omega_record):
    R -> R r0, L -> L r0 / k, C -> C / (r0 k)."""
    if not terminations_match(record, mask):
        raise SpecificationError(f"record {record['id']} has other terminations than the mask")
    if not (math.isfinite(k) and k > 0):
        raise SpecificationError(f"the frequency scale k must be a positive number, not {k!r}")
    r0 = impedance_of(record, mask)
    base = record_circuit(record)
    edges = {key: Edge(None if e.r_ohm is None else e.r_ohm * r0, None if e.l_h is None else e.l_h * r0 / k,
                       None if e.c_f is None else e.c_f / (r0 * k)) for key, e in base.edges.items()}
    return Circuit(base.n_internal, edges, dict(base.names))


# ---------------------------------------------------------------- files


def write(records: Iterable[dict], folder: Path, cfg: MaskDatasetConfig) -> dict:
    """Stream `records` into folder/records.jsonl.gz (gzip with mtime 0: the same records give the same bytes) and
    write folder/manifest.json (config, count, SHA256, counts per family, response and order, shares of mutants
    and multi-band records), both atomically. Returns the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final, tmp = folder / RECORDS_FILE, folder / f".{RECORDS_FILE}.{os.getpid()}.tmp"
    counts = {"family": Counter(), "response": Counter(), "order": Counter(), "terminations": Counter(),
              "split": Counter()}
    n = multi = mutants = 0
    try:
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                for rec in records:
                    gz.write((json.dumps(rec, sort_keys=True, allow_nan=False) + "\n").encode())
                    for key, counter in counts.items():
                        counter[rec[key]] += 1
                    n += 1
                    multi += rec["multi_band"]
                    mutants += rec["family"] == "mutant"
            raw.flush()
            os.fsync(raw.fileno())
        digest = sha256_file(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, final)
    manifest = {
        "produced_by": "circuitlib.learn.mask_dataset.write",
        "config": json.loads(cfg.model_dump_json()), "records": RECORDS_FILE, "count": n, "sha256": digest,
        "counts": {k: {str(x): c for x, c in sorted(v.items())} for k, v in counts.items()},
        "share_mutants": mutants / max(n, 1), "share_multi_band": multi / max(n, 1),
        "ripples_db": list(RIPPLES_DB), "attenuations_db": list(ATTENUATIONS_DB),
    }
    atomic_write_bytes(folder / MANIFEST_FILE, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    return manifest


def read_manifest(folder: Path) -> dict:
    """The manifest of a mask dataset, after checking its records file against the SHA256."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        digest = sha256_file(folder / manifest["records"])
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        raise CircuitlibError(f"no complete mask dataset at {folder}: write one with mask_dataset.write") from None
    if digest != manifest["sha256"]:
        raise CircuitlibError(f"{folder / manifest['records']} does not match the SHA256 in its manifest "
                              "(changed or damaged): write the dataset again")
    return manifest


def load(folder: Path) -> list[dict]:
    """All records of a mask dataset, after checking the records file against the manifest's SHA256."""
    manifest = read_manifest(folder)
    with gzip.open(Path(folder) / manifest["records"], "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def build(cfg: MaskDatasetConfig, folder: Path, progress: bool = True) -> tuple[dict, bool]:
    """The dataset of `cfg` at `folder`: kept when its manifest has the same config and its records match their
    SHA256, else generated and written. Returns the manifest and whether it was generated now."""
    try:
        manifest = read_manifest(folder)
        if manifest["config"] == json.loads(cfg.model_dump_json()):
            return manifest, False
    except CircuitlibError:
        pass
    return write(generate(cfg, progress), folder, cfg), True
