"""Designing to a mask by search: propose topologies, optimise their values, verify the best exactly.

0. A band mask is searched as its lowpass equivalent (`searched_mask`), as classical synthesis does: the proposals,
   the optimisation and the loss are the lowpass ones, and every candidate is turned into a band circuit by the
   exact frequency transformation (`synthesis.band`) before it is verified against the band mask itself.
1. A proposer gives K topologies with starting values between the mask's terminations (RS and RL are fixed
   elements). Without a model (`random_topologies`), each is a random graph of L and C elements whose size is drawn
   around the classical minimum, kept when it is structurally valid and its exact limits at 0 and infinity are those
   of the mask's response (scaling values cannot change them).
2. The values of all K are optimised at once (successive halving: the better half goes on after each round),
   through the differentiable nodal solver, on a smooth mask loss: the
   squared violation of the mask, tightened by a safety share, on fixed grids in every band. The problem is
   normalised first: frequencies in units of the mask's reference (its passband edge, or a band's centre),
   impedances in units of the termination level, so that every element starts near a reactance of 1.
3. At most `budget` candidates, lowest loss first, are verified exactly (`mask_batch.verify_batch`, then
   `mask.verify` for the chosen ones), before and after optimisation, so raw success is visible.
4. The designs are ranked as classical designs are: met first, then fewest parts, fewest inductors, largest margin;
   the best are verified in ngspice.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from pydantic import BaseModel, Field

from circuitlib.analysis.mask import FilterMask, MaskReport, verify
from circuitlib.analysis.mask_batch import verify_batch
from circuitlib.core.circuit import GND, VIN, VOUT, Circuit, Edge, structural_problems
from circuitlib.core.config import parse_config
from circuitlib.sim import stamping
from circuitlib.sim.differentiable import batch_response, torch_matrices
from circuitlib.sim.limits import limit_gain
from circuitlib.synthesis.band import band_from_lowpass, design_passband, lowpass_equivalent
from circuitlib.synthesis.values import centre_impedance

KIND_FIELD = {"L": "l_h", "C": "c_f"}
HALVING_ROUNDS = 3
CHUNK = 16  # circuits optimised in one batch


class SearchConfig(BaseModel, frozen=True):
    """How hard a search works on one mask."""

    proposals: int = Field(48, ge=1, le=100_000)  # topologies proposed (K)
    budget: int = Field(16, ge=1, le=100_000)  # exact verifications after optimisation
    steps: int = Field(300, ge=0, le=100_000)  # Adam steps of value optimisation
    lr: float = Field(0.08, gt=0, le=10.0)  # on the natural log of each normalised value
    points_per_band: int = Field(32, ge=4, le=10_000)  # loss grid
    safety: float = Field(0.15, ge=0, lt=1)  # share of ripple (and of attenuation, in dB) the loss holds back
    extra_parts: int = Field(3, ge=0, le=20)  # sizes drawn from minimum .. minimum + extra_parts filter parts
    seed: int = Field(0, ge=0)


def search_config(**params) -> SearchConfig:
    """Typed config from keyword parameters; a bad value raises one clear CircuitlibError line."""
    return parse_config(SearchConfig, **params)


@dataclass(frozen=True)
class Scale:
    """The normalisation of a mask: frequencies over f_ref_hz, impedances over r0_ohm."""

    f_ref_hz: float
    r0_ohm: float

    @classmethod
    def of(cls, mask: FilterMask) -> Scale:
        f_ref = mask.reference_hz
        r0 = mask.source_ohm if mask.source_ohm > 0 else (mask.load_ohm if mask.load_ohm is not None else 1e3)
        return cls(f_ref, r0)

    def denormalise(self, kind: str, value: float) -> float:
        """SI value of a normalised one (L and C at a reactance of `value` times R0 at f_ref)."""
        w = 2 * math.pi * self.f_ref_hz
        return {"R": value * self.r0_ohm, "L": value * self.r0_ohm / w, "C": value / (self.r0_ohm * w)}[kind]

    def normalise(self, kind: str, value: float) -> float:
        return value / self.denormalise(kind, 1.0)

    def circuit(self, normalised: Circuit) -> Circuit:
        """A normalised circuit at this frequency and impedance level, in SI values."""
        return normalised.with_values([self.denormalise(c.kind, c.value) for c in normalised.components()])


def _terminated(mask: FilterMask, scale: Scale) -> tuple[dict, dict, int]:
    """Edges and names of the terminations (normalised), and the node the filter network starts from."""
    edges: dict[tuple[int, int], dict[str, float]] = {}
    names: dict[tuple[int, int, str], str] = {}
    start = VIN
    if mask.source_ohm > 0:
        start = 3
        edges[(VIN, start)] = {"r_ohm": mask.source_ohm / scale.r0_ohm}
        names[(VIN, start, "R")] = "RS"
    if mask.load_ohm is not None:
        edges[(GND, VOUT)] = {"r_ohm": mask.load_ohm / scale.r0_ohm}
        names[(GND, VOUT, "R")] = "RL"
    return edges, names, start


def limits_right(circuit: Circuit, mask: FilterMask) -> bool:
    """Whether the exact gains at 0 and infinity are those of the response: the reference G_ref in a band that
    reaches them, and zero where a stopband does."""
    for at, band in (("zero", mask.bands()[0]), ("infinity", mask.bands()[-1])):
        h = limit_gain(circuit, at)
        if h is None:
            return False
        gain = abs(h) / mask.g_ref
        if (band[0] == "pass") != (abs(gain - 1) < 1e-6) or (band[0] == "stop" and gain > 1e-9):
            return False
    return True


def structure_ok(circuit: Circuit) -> bool:
    """Valid apart from the values (a normalised circuit's values are not SI), and no dead-end internal node."""
    if any(p.code != "value_out_of_range" for p in structural_problems(circuit)):
        return False
    degree = np.zeros(circuit.n_nodes, dtype=int)
    for (a, b), e in circuit.edges.items():
        degree[[a, b]] += len(e.parts())
    return bool((degree[3:] >= 2).all())


def random_topology(mask: FilterMask, parts: int, rng: np.random.Generator, attempts: int = 200) -> Circuit | None:
    """A random connected graph of `parts` L and C elements between the mask's terminations: a random spanning tree
    over the filter's nodes (its input, VOUT, GND and up to parts - 2 internal nodes), then the remaining elements
    between random node pairs; kinds are fair coin flips and normalised values log-normal around 1. Kept when
    valid, with no dead-end node, and with the response's limits at 0 and infinity; None when no attempt gives one."""
    scale = Scale.of(mask)
    fixed, names, start = _terminated(mask, scale)
    first = 3 + int(start == 3)  # the first free internal node
    for _ in range(attempts):
        extra = int(rng.integers(0, max(1, parts - 1)))  # internal nodes of the filter network
        nodes = [start, VOUT, GND] + list(range(first, first + extra))
        edges = {k: dict(v) for k, v in fixed.items()}
        order = rng.permutation(len(nodes))
        pairs = [(nodes[order[i]], nodes[order[int(rng.integers(0, i))]]) for i in range(1, len(nodes))]
        pairs += [tuple(nodes[j] for j in rng.choice(len(nodes), size=2, replace=False))
                  for _ in range(parts - len(pairs))]
        for a, b in pairs:
            key = (min(a, b), max(a, b))
            slot = edges.setdefault(key, {})
            free = [k for k in ("L", "C") if KIND_FIELD[k] not in slot and key not in fixed]
            if free:
                slot[KIND_FIELD[free[int(rng.integers(0, len(free)))]]] = float(np.exp(rng.normal(0.0, 0.7)))
        circuit = Circuit(first - 3 + extra, {k: Edge(**v) for k, v in edges.items() if v}, names)
        if sum(c.kind in "LC" for c in circuit.components()) != parts or not structure_ok(circuit):
            continue
        if limits_right(circuit, mask):
            return circuit
    return None


def random_topologies(mask: FilterMask, count: int, sizes: list[int], rng: np.random.Generator) -> list[Circuit]:
    """`count` random topologies (normalised), sizes drawn from `sizes` in turn; the search without a model."""
    out = []
    for i in range(count * 4):
        if len(out) == count:
            break
        found = random_topology(mask, int(sizes[i % len(sizes)]), rng)
        if found is not None:
            out.append(found)
    return out


@dataclass(frozen=True)
class LossGrid:
    """Normalised angular frequencies of the loss and, per point, whether it lies in a passband."""

    omega: torch.Tensor
    is_pass: torch.Tensor


def loss_grid(mask: FilterMask, scale: Scale, points_per_band: int) -> LossGrid:
    """`points_per_band` log-spaced points in every band (open ends closed 2 decades past the edge), edges
    included, in units of 2 pi f_ref."""
    omegas, kinds = [], []
    for kind, lo, hi in mask.bands():
        lo_f = lo if lo > 0 else hi / 10**2
        hi_f = hi if math.isfinite(hi) else lo * 10**2
        f = np.geomspace(lo_f, hi_f, points_per_band) / scale.f_ref_hz
        omegas.append(f)
        kinds.append(np.full(len(f), kind == "pass"))
    return LossGrid(torch.as_tensor(np.concatenate(omegas)), torch.as_tensor(np.concatenate(kinds)))


def mask_loss(h: torch.Tensor, grid: LossGrid, mask: FilterMask, safety: float) -> torch.Tensor:
    """Per circuit, the mean squared violation of the mask tightened by `safety`: passband gain outside
    +-ripple (1 - safety) in units of the ripple, stopband gain above -attenuation (1 + safety) in units of 10 dB.
    h: (B, F) complex responses on `grid`."""
    db = 20 * torch.log10(h.abs().clamp_min(1e-30) / mask.g_ref)
    ripple = mask.ripple_db * (1 - safety)
    pass_v = torch.relu(db.abs() - ripple) / mask.ripple_db
    stop_v = torch.relu(db + mask.attenuation_db * (1 + safety)) / 10.0
    v = torch.where(grid.is_pass[None, :], pass_v, stop_v)
    return (v**2).mean(dim=1) + (v.amax(dim=1) ** 2) * 0.1


def _free(st: stamping.Stamps, circuits: list[Circuit]) -> np.ndarray:
    """Which elements of the batch are filter parts (optimised), as opposed to the fixed terminations."""
    fixed = [c.name in ("RS", "RL") for circ in circuits for c in circ.components()]
    return ~np.array(fixed, dtype=bool)


def _adam(circuits: list[Circuit], mask: FilterMask, cfg: SearchConfig, steps: range) -> tuple[list, np.ndarray]:
    """Adam on the log-values of the filter parts of all `circuits` at once, for the global step numbers `steps` of
    a cosine schedule over cfg.steps; returns the circuits with their new values and each one's final loss."""
    st = stamping.stamp(circuits)
    free = torch.as_tensor(_free(st, circuits))
    base = torch.as_tensor(np.log(st.values))
    grid = loss_grid(mask, Scale.of(mask), cfg.points_per_band)
    delta = torch.zeros(int(free.sum()), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=cfg.lr)

    def losses() -> torch.Tensor:
        log_v = base.clone()
        log_v[free] = base[free] + delta
        h = batch_response(*torch_matrices(st, torch.exp(log_v.clamp(-12, 12))), grid.omega)
        return mask_loss(h, grid, mask, cfg.safety)

    for step in steps:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / cfg.steps)))
        opt.zero_grad()
        losses().sum().backward()
        opt.step()
    with torch.no_grad():
        final = losses().numpy()
        values = st.values.copy()
        values[free.numpy()] = np.exp((base[free] + delta).clamp(-12, 12).numpy())
    out, k = [], 0
    for circ in circuits:
        n = len(circ.components())
        out.append(circ.with_values(values[k : k + n]))
        k += n
    return out, final


def optimise_values(circuits: list[Circuit], mask: FilterMask, cfg: SearchConfig) -> tuple[list[Circuit], np.ndarray]:
    """The normalised `circuits` with their filter parts' values optimised on `mask_loss`, and each one's final
    loss. Successive halving: cfg.steps are run in HALVING_ROUNDS rounds, and after each round only the better
    half (never fewer than cfg.budget) goes on, so the steps go to the candidates that are getting somewhere."""
    current, losses = list(circuits), np.full(len(circuits), np.inf)
    alive = list(range(len(circuits)))
    edges = np.linspace(0, cfg.steps, HALVING_ROUNDS + 1).astype(int)
    for r in range(HALVING_ROUNDS):
        if not alive:
            break
        by_size = sorted(alive, key=lambda i: stamping.unknowns(current[i]))
        for k in range(0, len(by_size), CHUNK):  # similar sizes together: a batch is padded to its largest circuit
            part = by_size[k : k + CHUNK]
            tuned, loss = _adam([current[i] for i in part], mask, cfg, range(edges[r], edges[r + 1]))
            for i, c, v in zip(part, tuned, loss):
                current[i], losses[i] = c, v
        keep = max(cfg.budget, len(alive) // 2)
        alive = sorted(alive, key=lambda i: losses[i])[:keep]
    return current, losses


def searched_mask(mask: FilterMask) -> FilterMask:
    """The mask that proposals are made and optimised for: a band mask's lowpass equivalent, any other mask itself."""
    return lowpass_equivalent(mask) if mask.response in ("bandpass", "bandstop") else mask


def realised(circuit: Circuit, mask: FilterMask) -> Circuit:
    """A normalised circuit for `searched_mask(mask)` as a circuit for `mask` in SI values: scaled (`Scale.circuit`),
    then (for a band mask) turned into the band circuit by the exact frequency transformation; between an ideal
    source and an open load, where the gain does not depend on the impedance level, that level is chosen to centre
    the values in their ranges (`synthesis.values.centre_impedance`)."""
    searched = searched_mask(mask)
    si = Scale.of(searched).circuit(circuit)
    if searched is not mask:
        si = band_from_lowpass(si, searched.passband_hz, mask.response, design_passband(mask))
    unterminated = mask.source_ohm == 0 and mask.load_ohm is None  # no resistor fixes the impedance level
    return centre_impedance(si) if unterminated else si


def initial_losses(circuits: list[Circuit], mask: FilterMask, cfg: SearchConfig) -> np.ndarray:
    """`mask_loss` of the normalised circuits as proposed."""
    if not circuits:
        return np.zeros(0)
    st = stamping.stamp(circuits)
    grid = loss_grid(mask, Scale.of(mask), cfg.points_per_band)
    with torch.no_grad():
        h = batch_response(*torch_matrices(st, torch.as_tensor(st.values)), grid.omega)
        return mask_loss(h, grid, mask, cfg.safety).numpy()


@dataclass
class Stage:
    """The exact figures of the best of up to `budget` candidates at one stage (sampled or optimised)."""

    verified: int  # exact verifications spent
    met: int  # candidates among them that meet the mask
    best: Circuit | None  # the best met one (fewest parts, then inductors, then margin), else the largest margin
    report: MaskReport | None
    met_flags: list[bool] = field(default_factory=list)  # each verified candidate's verdict, in verification order

    def met_within(self, budget: int) -> bool:
        """Whether a met candidate is among the first `budget` verified (lowest loss first)."""
        return any(self.met_flags[:budget])

    def to_json(self) -> dict:
        return {"verified": self.verified, "met": self.met,
                "margin_db": self.report.margin_db if self.report else None,
                "met_best": self.report.met if self.report else None}


def parts_of(c: Circuit) -> tuple[int, int]:
    """(filter parts, inductors): every element but the terminations RS and RL."""
    parts = [p for p in c.components() if p.name not in ("RS", "RL")]
    return len(parts), sum(p.kind == "L" for p in parts)


def verify_stage(circuits: list[Circuit], losses: np.ndarray, mask: FilterMask, budget: int) -> tuple[Stage, list]:
    """Verify the `budget` lowest-loss circuits (SI values) in one batch, and the chosen one exactly; returns the
    stage and the met circuits with their batch margins."""
    order = np.argsort(losses, kind="stable")[:budget]
    picked = [circuits[i] for i in order]
    if not picked:
        return Stage(0, 0, None, None), []
    ok_values = [not structural_problems(c) for c in picked]  # SI values: in range too
    valid = [c for c, ok in zip(picked, ok_values) if ok]
    if not valid:
        return Stage(len(picked), 0, None, None, [False] * len(picked)), []
    batch = verify_batch(valid, [mask] * len(valid))
    verdicts = iter(batch.met.tolist())
    flags = [bool(next(verdicts)) if ok else False for ok in ok_values]
    met = [(c, float(m)) for c, m, ok in zip(valid, batch.margin_db, batch.met) if ok]
    if met:
        best = min(met, key=lambda cm: (*parts_of(cm[0]), -cm[1]))[0]
    else:
        best = valid[int(np.argmax(batch.margin_db))]
    return Stage(len(picked), len(met), best, verify(best, mask, delay=False), flags), met


@dataclass
class SearchResult:
    """What one search found: the stages before and after optimisation, and the met circuits (SI values)."""

    mask: FilterMask
    proposed: int
    sampled: Stage
    optimized: Stage
    met: list[tuple[Circuit, float]] = field(default_factory=list)
    seconds: float = 0.0


def search(mask: FilterMask, proposals: list[Circuit], cfg: SearchConfig) -> SearchResult:
    """Optimise `proposals` (normalised circuits between the terminations of `searched_mask(mask)`) on the searched
    mask, and verify them, `realised`, against `mask`."""
    t0 = time.perf_counter()
    searched = searched_mask(mask)
    raw = [realised(c, mask) for c in proposals]
    sampled, _ = verify_stage(raw, initial_losses(proposals, searched, cfg), mask, cfg.budget)
    tuned, losses = optimise_values(proposals, searched, cfg) if proposals else ([], np.zeros(0))
    optimized, met = verify_stage([realised(c, mask) for c in tuned], losses, mask, cfg.budget)
    return SearchResult(mask, len(proposals), sampled, optimized, met, time.perf_counter() - t0)


def size_range(minimum_parts: int, cfg: SearchConfig) -> list[int]:
    """The filter-part counts a search draws from: the classical minimum to extra_parts more."""
    return list(range(minimum_parts, minimum_parts + cfg.extra_parts + 1))


def search_without_model(mask: FilterMask, minimum_parts: int, cfg: SearchConfig) -> SearchResult:
    """Random valid topologies for the searched mask, of the same sizes as the model's (`size_range` of the searched
    mask's minimum), then the same optimisation."""
    rng = np.random.default_rng([cfg.seed, 7])
    sizes = size_range(minimum_parts, cfg)
    return search(mask, random_topologies(searched_mask(mask), cfg.proposals, sizes, rng), cfg)
