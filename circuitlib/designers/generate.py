"""Specification-driven generation, six methods side by side (the book's definitions page):

- knn: the seed's method, the average latent of the k training circuits nearest to the specification,
  decoded by the 8-D reproduction model;
- conditional: the specification-conditioned decoder of the production model; its latents are drawn from the
  aggregate posterior, training circuits of the specified class near the target Q (their frequency does not
  matter: the decoder writes a prototype, normalised in frequency and impedance, and exact scaling moves it to
  the specification's frequency); the prototype's values are fitted to the latent's posterior by re-encoding
  (the model alone: no simulation, no look at the specification);
- decoded: conditional with the values exactly as the decoder writes them;
- refined: conditional candidates, their values then tuned exactly to the specification (synth.refine);
- lookup: no model, the training circuits that conditional draws its latents from, scaled to the target;
- analytic: closed-form textbook designs.

Every design returned is valid and verified in ngspice. A design that misses its specification is
reported with its errors, never as met; a specification nothing can meet raises SpecificationError.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, Field, field_validator, model_validator

from circuitlib.analysis.measure import Measurement, measure
from circuitlib.analysis.spec import F_RANGE_HZ, Q_RANGE, Achieved, Specification, achieved, errors, meets
from circuitlib.analysis.spec_sensitivity import FigureSensitivity, figure_sensitivity
from circuitlib.analysis.spec_yield import SpecYieldReport, spec_yield
from circuitlib.analysis.tolerance import Tolerance
from circuitlib.core.circuit import Circuit, topology_signature
from circuitlib.core.errors import CheckpointError, CircuitlibError, SpecificationError
from circuitlib.core.netlist import parse_netlist, to_netlist
from circuitlib.core.paths import DATASET, LATENT_INDEX, PRODUCTION, REPRODUCTION
from circuitlib.core.records import main_figures
from circuitlib.learn import graphs, latent_index
from circuitlib.learn.dataset import circuit_from_record, load_records, verify_manifest
from circuitlib.learn.decoding import polish_values
from circuitlib.learn.loading import load_model
from circuitlib.learn.prototype import PROTOTYPE_F_HZ, denormalised, prototype
from circuitlib.sim.spice import ngspice_rel_err
from circuitlib.synthesis import values as synth


@dataclass
class Design:
    """One generated circuit with what it achieves against its specification."""

    spec: Specification
    method: str
    circuit: Circuit
    measured: Measurement
    got: Achieved
    f_err: float | None
    q_err: float | None
    latency_ms: float
    ngspice_max_rel_err: float | None = None
    eseries: str | None = None
    notes: list[str] = field(default_factory=list)
    yield_report: SpecYieldReport | None = None  # None: no tolerance was asked for
    sensitivity: list[FigureSensitivity] | None = None  # None: not asked for
    min_yield: float | None = None

    def met(self, tol: float) -> bool:
        return self.measured.valid and meets(self.spec, self.got, tol)

    @property
    def reaches_yield(self) -> bool:
        """True without a yield target; with one, whether the sampled yield reaches it."""
        return self.min_yield is None or (self.yield_report is not None
                                          and self.yield_report.fraction >= self.min_yield)

    def to_json(self) -> dict:
        tol = self.yield_report.tolerance if self.yield_report else None
        bom = [part | {"series": self.eseries, "tolerance": tol.of(part["kind"]) if tol else None, "count": 1}
               for part in synth.bom(self.circuit)]
        out = {"netlist": to_netlist(self.circuit), "input_node": "vin", "output_node": "vout",
               "method": self.method, "topology": topology_signature(self.circuit),
               "measured": self.measured.to_json(), "bom": bom, "eseries": self.eseries,
               "target": {"response": self.spec.response, "f_hz": self.spec.f_hz, "q": self.spec.q},
               "achieved": {"f_hz": self.got.f_hz, "q": self.got.q}, "f_err": self.f_err, "q_err": self.q_err,
               "ngspice_max_rel_err": self.ngspice_max_rel_err,
               "yield": self.yield_report.to_json() if self.yield_report else None,
               "sensitivity": [p.to_json() for p in self.sensitivity] if self.sensitivity is not None else None,
               "notes": self.notes}
        out["null_reasons"] = {k: why for k, why in (
            ("yield", "no tolerance was given"), ("sensitivity", "not asked for"), ("eseries", "exact values"),
            ("ngspice_max_rel_err", "not verified in ngspice")) if out[k] is None}
        return out


def check_supported(spec: Specification) -> None:
    """Refuse specifications outside what any method here can build."""
    if not F_RANGE_HZ[0] <= spec.f_hz <= F_RANGE_HZ[1]:
        raise SpecificationError(f"f = {spec.f_hz:g} Hz is outside the supported range "
                                 f"{F_RANGE_HZ[0]:g} Hz to {F_RANGE_HZ[1]:g} Hz")
    if spec.q is not None and not Q_RANGE[0] <= spec.q <= Q_RANGE[1]:
        raise SpecificationError(f"q = {spec.q:g} is outside the supported range {Q_RANGE[0]:g} to {Q_RANGE[1]:g}")


class Designer:
    """Holds the models (loaded once, SHA256-verified) and designs circuits for specifications."""

    def __init__(self, production: Path = PRODUCTION, reproduction: Path = REPRODUCTION, dataset: Path = DATASET,
                 candidates: int = 16, index: Path = LATENT_INDEX):
        self.paths = (Path(production), Path(reproduction), Path(dataset))
        self.index_dir = Path(index)
        self.candidates_per_round = candidates

    @cached_property
    def production(self):
        return load_model(self.paths[0])[0]

    @cached_property
    def reproduction(self):
        return load_model(self.paths[1])[0]

    @cached_property
    def index(self) -> latent_index.LatentIndex:
        """The committed latent index when it matches the checkpoints; otherwise built from the dataset's
        training split (SHA256-verified), which notebook 01 writes."""
        try:
            return latent_index.load(self.index_dir, self.paths[0], self.paths[1])
        except CheckpointError as stale:
            if not (self.paths[2] / "manifest.json").is_file():
                raise CircuitlibError(f"{stale}; and there is no dataset at {self.paths[2]} to rebuild it from "
                                      "(run notebook 01: make book)") from None
        manifest = verify_manifest(self.paths[2])
        records = load_records(self.paths[2] / manifest["records"])
        return latent_index.build(records, self.production, self.reproduction)

    @cached_property
    def knn_index(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Training circuits' (log10 f, log10 q), responses and 8-D latent means (the seed's kNN table)."""
        ix, rows = self.index, self.index.knn_rows
        return np.stack([ix.log_f[rows], ix.log_q[rows]], axis=1), ix.response[rows].tolist(), ix.knn_z

    # ---------------------------------------------------------------- the four methods

    def analytic(self, spec: Specification, n: int, seed: int) -> list[Circuit]:
        return [synth.analytic(spec)]

    def knn(self, spec: Specification, n: int, seed: int, k: int = 5) -> list[Circuit]:
        keys, responses, latents = self.knn_index
        q = spec.q if spec.q is not None else 0.707
        dist = np.hypot(keys[:, 0] - math.log10(spec.f_hz), keys[:, 1] - math.log10(q))
        if spec.response != "any":
            dist = np.where(np.array(responses) == spec.response, dist, np.inf)
        z = torch.as_tensor(latents[np.argsort(dist)[:k]].mean(axis=0, keepdims=True), dtype=torch.float32)
        return [graphs.from_tensors(int(nn), c, v) for nn, c, v in zip(*self.reproduction.decoder.generate(z))]

    def candidates(self, spec: Specification, count: int, seed: int, polish: bool = True) -> list[Circuit]:
        """`count` decodes of the production model conditioned on the specification. The latents are drawn from
        the model's aggregate posterior: training circuits of the specified class, picked at random with weight
        exp(-(log10 q - log10 q_target)^2 / 2 h^2), h = latent_index.Q_BANDWIDTH_DECADES, without replacement. Their
        frequency does not matter: a prototype model decodes a prototype (learn.prototype), its values fitted to
        the latent's posterior (decoding.polish_values: the model alone, no simulation and no look at the
        specification; skipped with `polish` False), then denormalised to the specification's frequency by exact
        scaling. An older model predicts L and C at that frequency, and its values are used as decoded."""
        index, proto = self.index, self.production.cfg.prototype
        rows, targets = index.draw(spec, count, np.random.default_rng(seed))
        z = torch.as_tensor(index.z[rows], dtype=torch.float32)
        specs = [graphs.spec_vector(r, PROTOTYPE_F_HZ if proto else f, q) for r, f, q in targets]
        decoded = self.production.decoder.generate(z, torch.stack(specs))
        circuits = [graphs.from_tensors(int(nn), c, v) for nn, c, v in zip(*decoded)]
        if not proto:
            return circuits
        if polish:
            sd = torch.as_tensor(index.z_sd[rows], dtype=torch.float32)
            circuits, _ = polish_values(self.production, circuits, z, sd, POLISH_STEPS)
        return [denormalised(c, f) for c, (_, f, _) in zip(circuits, targets)]

    def conditional(self, spec: Specification, n: int, seed: int, polish: bool = True) -> list[Circuit]:
        """n of the `candidates` that are valid and of the specified response class, values as the model gives
        them (never tuned to the specification); distinct topologies first, in sampling order (candidates are
        measured only until n distinct ones are found)."""
        return _distinct_first(self.candidates(spec, max(n, self.candidates_per_round), seed, polish), spec, n)

    @cached_property
    def training_records(self) -> list[dict]:
        """The dataset's training split, in the latent index's row order (SHA256-verified)."""
        if not (self.paths[2] / "manifest.json").is_file():
            raise CircuitlibError(f"no dataset at {self.paths[2]} (run notebook 01: make book)")
        manifest = verify_manifest(self.paths[2])
        return [r for r in load_records(self.paths[2] / manifest["records"]) if r["split"] == "train"]

    def lookup(self, spec: Specification, n: int, seed: int) -> list[Circuit]:
        """No model: the training circuits that `conditional` draws its latents from (the same rows), each moved to
        the target by the same exact scaling. What `conditional` would return if it rebuilt them exactly."""
        rows, targets = self.index.draw(spec, max(n, self.candidates_per_round), np.random.default_rng(seed))
        records = [self.training_records[int(i)] for i in rows]
        circuits = [denormalised(prototype(circuit_from_record(r), main_figures(r)[0]), f)
                    for r, (_, f, _) in zip(records, targets)]
        return _distinct_first(circuits, spec, n)

    def decoded(self, spec: Specification, n: int, seed: int) -> list[Circuit]:
        """`conditional` with the values exactly as the decoder writes them (no fit to the posterior)."""
        return self.conditional(spec, n, seed, polish=False)

    def refined(self, spec: Specification, n: int, seed: int, rounds: int = 4) -> list[Circuit]:
        """Conditional candidates, tuned to the specification; up to `rounds` batches of candidates are drawn
        (each round from its own seed) until n designs meet it."""
        out: list[Circuit] = []
        seen: set[str] = set()
        for r in range(rounds):
            self._refine_round(spec, n, seed + r * 7919, out, seen)
            if len(out) >= n:
                break
        if not out:
            raise SpecificationError("no conditional candidate could be refined to meet the specification")
        return out

    def _refine_round(self, spec: Specification, n: int, seed: int, out: list, seen: set) -> None:
        """Refine this round's candidates, fewest parts first (the cheaper bill of materials, and the faster
        refinement and E-series snapping), until n distinct topologies meet the specification."""
        draws = self.candidates(spec, self.candidates_per_round, seed, polish=False)  # refine tunes them exactly
        for cand in sorted(draws, key=lambda c: len(c.components())):
            sig = topology_signature(cand)
            if sig in seen or not _can_reach(cand, spec):
                continue
            try:
                tuned = synth.refine(cand, spec)
            except SpecificationError:
                continue
            if measure(tuned).valid and meets(spec, achieved(tuned, spec), 1e-3):
                out.append(tuned)
                seen.add(sig)
            if len(out) >= n:
                break


def _distinct_first(candidates: list[Circuit], spec: Specification, n: int) -> list[Circuit]:
    """n of `candidates` that are valid and of the specified response class; distinct topologies first, in the
    given order (candidates are measured only until n distinct ones are found)."""
    distinct: dict[str, Circuit] = {}
    repeats: list[Circuit] = []
    for cand in candidates:
        if len(distinct) == n:
            break
        if not _can_reach(cand, spec):
            continue
        sig = topology_signature(cand)
        if sig in distinct:
            repeats.append(cand)
        else:
            distinct[sig] = cand
    if not distinct:
        raise SpecificationError("no sampled candidate is a valid circuit of the specified response class")
    return (list(distinct.values()) + repeats)[:n]


@dataclass(frozen=True)
class Method:
    """A registered way to propose circuits for a specification: `propose(designer, spec, n, seed)`."""

    name: str
    summary: str
    uses_model: bool
    propose: Callable[[Designer, Specification, int, int], list[Circuit]]


REGISTRY: dict[str, Method] = {m.name: m for m in (
    Method("knn", "the seed's k-nearest-neighbour latent average, decoded by the 8-D model", True, Designer.knn),
    Method("decoded", "the specification-conditioned decoder, values as decoded", True, Designer.decoded),
    Method("conditional", "the specification-conditioned decoder, values fitted to the latent's posterior", True,
           Designer.conditional),
    Method("refined", "conditional candidates, values tuned exactly to the specification", True, Designer.refined),
    Method("lookup", "no model: the training circuits conditional draws from, scaled to the target", False,
           Designer.lookup),
    Method("analytic", "closed-form textbook designs", False, Designer.analytic),
)}
METHODS = tuple(REGISTRY)


POLISH_STEPS = 100  # gradient steps that fit a prototype's decoded values to its latent's posterior


def _can_reach(circuit: Circuit, spec: Specification) -> bool:
    """Scaling values cannot change a circuit's response class: skip candidates of the wrong class."""
    m = measure(circuit)
    if not m.valid:
        return False
    if spec.response == "any":
        return m.q_pole is not None
    return m.response == spec.response and (spec.q is None or spec.response not in ("lowpass", "highpass")
                                            or m.q_pole is not None)


def evaluate(spec: Specification, method: str, circuit: Circuit, t0: float, verify: bool = True,
             eseries: str | None = None) -> Design:
    """Measure (and verify in ngspice) one candidate against its specification."""
    notes = []
    if eseries:
        circuit, _ = synth.snap(circuit, spec, eseries)
    latency = (time.perf_counter() - t0) * 1e3
    m = measure(circuit)
    got = achieved(circuit, spec, m) if m.valid else Achieved(None, None, "invalid circuit")
    f_err, q_err = errors(spec, got)
    err = None
    if verify and m.valid:
        err = ngspice_rel_err(circuit)
        if err > 1e-6:
            notes.append(f"ngspice disagrees with the nodal solver by {err:.1e}")
    return Design(spec, method, circuit, m, got, f_err, q_err, latency, err, eseries, notes)


YIELD_POOL = 8  # with a yield target, this many candidates are proposed and the cheapest that reaches it is kept


@dataclass(frozen=True)
class Buildable:
    """What a build asks of an (f, Q) design: standard values, a tolerance yield with f and q `within` the
    specification (relative), a yield target, and the figures' sensitivity to each part."""

    eseries: str | None = None
    tolerance: Tolerance | None = None
    within: float = 0.05
    min_yield: float | None = None
    sensitivity: bool = False

    def check(self) -> None:
        if self.eseries is not None and self.eseries.upper() not in synth.ESERIES:
            raise SpecificationError(f"eseries must be one of {', '.join(synth.ESERIES)}, not {self.eseries!r}")
        if not (isinstance(self.within, (int, float)) and 0 < self.within < 1):
            raise SpecificationError(f"within must be a fraction between 0 and 1 (0.05 is 5%), not {self.within!r}")
        if self.min_yield is not None:
            if self.tolerance is None:
                raise SpecificationError("a yield target needs a tolerance (--tolerance 5%)")
            if not (isinstance(self.min_yield, (int, float)) and 0 < self.min_yield <= 1):
                raise SpecificationError(f"min_yield must lie in (0, 1], not {self.min_yield!r}")


SCREEN_SAMPLES = 200  # with a yield target, a candidate is first sampled this often (see with_reports)


def with_reports(d: Design, build: Buildable, screen: bool = False) -> Design:
    """`d` with the yield and the sensitivity that `build` asks for (a design without its figures has none). With
    `screen` and a yield target, SCREEN_SAMPLES draws (the same seed) come first, and settle the yield when even
    their 95% interval lies below the target."""
    if build.tolerance is not None:
        tol = build.tolerance
        if screen and build.min_yield is not None and tol.samples > SCREEN_SAMPLES:
            quick = spec_yield(d.circuit, d.spec, tol.model_copy(update={"samples": SCREEN_SAMPLES}), build.within)
            d.yield_report = quick if quick.ci95[1] < build.min_yield else None
        if d.yield_report is None:
            d.yield_report = spec_yield(d.circuit, d.spec, tol, build.within)
        d.min_yield = build.min_yield
    if build.sensitivity:
        if d.got.f_hz is None:
            d.notes.append(f"no sensitivity: the design's figures are absent ({d.got.reason})")
        else:
            d.sensitivity = figure_sensitivity(d.circuit, d.spec)
    return d


def _cost(circuit: Circuit) -> tuple[int, int]:
    """(parts, inductors): the cheaper bill of materials sorts first."""
    comps = circuit.components()
    return len(comps), sum(c.kind == "L" for c in comps)


def _cheapest(spec: Specification, method: str, circuits: list[Circuit], n: int, t0: float, verify: bool,
              build: Buildable) -> list[Design]:
    """The n cheapest candidates (fewest parts, then fewest inductors; ties in the method's order) whose yield
    reaches the target, evaluated cheapest first until n do; when fewer do, the rest by highest yield."""
    reached, short = [], []
    for c in sorted(circuits, key=_cost):
        d = with_reports(evaluate(spec, method, c, t0, verify, build.eseries), build, screen=True)
        (reached if d.reaches_yield else short).append(d)
        if len(reached) == n:
            break
    short = sorted(short, key=lambda d: -d.yield_report.fraction)[: n - len(reached)]
    for d in short:  # a screened yield, settled on SCREEN_SAMPLES draws, is reported from all of them
        if d.yield_report.tolerance != build.tolerance:
            d.yield_report = spec_yield(d.circuit, d.spec, build.tolerance, build.within)
    return reached + short


def generate(response: str, f_hz: float, q: float | None = None, n: int = 1, method: str = "refined",
           eseries: str | None = None, seed: int = 0, designer: Designer | None = None,
           verify: bool = True, build: Buildable | None = None) -> list[Design]:
    """Design `n` circuits for (response, f_hz, q) with `method`; each is measured and verified in ngspice.

    `build` adds a tolerance yield and sensitivities; with its `min_yield`, YIELD_POOL candidates are proposed and
    the cheapest whose yield reaches the target are returned (if none does, the highest yields, which
    `Design.reaches_yield` marks)."""
    build = build or Buildable(eseries)
    if eseries is not None and build.eseries is None:
        build = replace(build, eseries=eseries)
    eseries = build.eseries
    if method not in METHODS:
        raise SpecificationError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not isinstance(n, int) or not 1 <= n <= 50:
        raise SpecificationError(f"n must be an integer from 1 to 50, not {n!r}")
    build.check()
    spec = Specification(response, f_hz, q)
    check_supported(spec)
    designer = designer or Designer()
    t0 = time.perf_counter()
    if build.min_yield is not None:
        circuits = REGISTRY[method].propose(designer, spec, max(n, YIELD_POOL), seed)
        return _cheapest(spec, method, circuits[: max(n, YIELD_POOL)], n, t0, verify, build)
    circuits = REGISTRY[method].propose(designer, spec, n, seed)
    return [with_reports(evaluate(spec, method, c, t0, verify, eseries), build) for c in circuits[:n]]


# ---------------------------------------------------------------- batch evaluation (notebook 04)


class GridConfig(BaseModel, frozen=True):
    """Notebook 04's parameters: grid size, methods, tolerances, E-series of the BOM table, BOM count, seed."""

    n_grid: int = Field(200, ge=1, le=1_000_000)
    methods: tuple[str, ...] = METHODS
    tolerances: tuple[float, ...] = (0.01, 0.05, 0.10)
    eseries: tuple[str, ...] = ("E24", "E96")
    n_bom: int = Field(60, ge=0)
    seed: int = Field(0, ge=0)

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or set(value) - set(METHODS):
            raise ValueError(f"methods must be among {', '.join(METHODS)}")
        return value

    @field_validator("tolerances")
    @classmethod
    def _tolerances(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or not all(0 < t < 1 for t in value):
            raise ValueError("tolerances must be fractions between 0 and 1")
        return value

    @field_validator("eseries")
    @classmethod
    def _eseries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if set(value) - set(synth.ESERIES):
            raise ValueError(f"eseries must be among {', '.join(synth.ESERIES)}")
        return value

    @model_validator(mode="after")
    def _bom_within_grid(self) -> GridConfig:
        if self.n_bom > self.n_grid:
            raise ValueError(f"n_bom ({self.n_bom}) cannot exceed n_grid ({self.n_grid})")
        return self


def grid_specs(n: int, seed: int = 0, f_range_hz: tuple[float, float] = (20.0, 500e3),
               q_range: tuple[float, float] = (0.1, 50.0)) -> list[Specification]:
    """n specifications cycling through the four responses, f and q log-uniform, from an explicit seed."""
    rng = np.random.default_rng(seed)
    kinds = ("lowpass", "highpass", "bandpass", "bandstop")
    return [Specification(kinds[i % 4], float(10 ** rng.uniform(*np.log10(f_range_hz))),
                          float(10 ** rng.uniform(*np.log10(q_range)))) for i in range(n)]


def run_case(designer: Designer, spec: Specification, method: str, seed: int = 0,
             eseries: str | None = None) -> dict:
    """One row: the design of `spec` by `method`, or the reason there is none."""
    row = {"method": method, "response": spec.response, "f_target": spec.f_hz, "q_target": spec.q,
           "eseries": eseries or "exact"}
    t0 = time.perf_counter()
    try:
        d = generate(spec.response, spec.f_hz, spec.q, method=method, seed=seed, designer=designer, eseries=eseries)[0]
    except SpecificationError as exc:
        return row | {"valid": False, "f_err": math.inf, "q_err": math.inf, "latency_ms": (time.perf_counter() - t0) * 1e3,
                      "topology": None, "netlist": None, "note": str(exc)}
    return row | {"valid": d.measured.valid, "f_err": math.inf if d.f_err is None else d.f_err,
                  "q_err": math.inf if d.q_err is None else (d.q_err if spec.q is not None else 0.0),
                  "f_got": d.got.f_hz, "q_got": d.got.q, "latency_ms": d.latency_ms,
                  "topology": topology_signature(d.circuit), "netlist": to_netlist(d.circuit),
                  "ngspice_max_rel_err": d.ngspice_max_rel_err, "note": d.got.reason}


def summarize(frame, tolerances=(0.01, 0.05, 0.10), train_topologies: set[str] | None = None):
    """Per method: share met at each tolerance, median errors, validity, unique and novel topologies, latency."""
    rows = []
    for method, part in frame.groupby("method", sort=False):
        worst = part[["f_err", "q_err"]].max(axis=1)
        topo = part["topology"].dropna()
        row = {"method": method, "n": len(part)}
        row.update({f"met@{100 * t:g}%": float((worst <= t).mean()) for t in tolerances})
        row.update({"median f err": float(part["f_err"].median()), "median q err": float(part["q_err"].median()),
                    "valid": float(part["valid"].mean()), "unique topologies": topo.nunique(),
                    "median latency ms": float(part["latency_ms"].median())})
        if train_topologies is not None:
            row["novel topologies"] = float((~topo.isin(train_topologies)).mean()) if len(topo) else 0.0
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def parse_design(netlist: str) -> Circuit:
    """The circuit of a design's netlist (as written by to_netlist: input vin, output vout)."""
    return parse_netlist(netlist, "vout").circuit
