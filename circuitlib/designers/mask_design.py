"""Designs that meet a filter mask: classical synthesis at minimum order, verified exactly and in ngspice.

For each family (Butterworth, Chebyshev I, inverse Chebyshev, elliptic, Bessel) the order comes from the mask as
scipy's `*ord` functions compute it. The lowpass prototype then meets the ripple exactly at its passband edge and
the attenuation at some w_a >= 1; the mask asks for the attenuation from its lowpass-equivalent stopband edge W_s on.
When W_s > w_a the slack is split evenly: the design's edge is moved by k = sqrt(W_s / w_a), so that the mask's
passband edge maps to 1/k and its stopband edge to W_s/k, and both margins are positive. The ladder is synthesised
between the mask's terminations in both forms (minimum-inductor and minimum-capacitor). The candidates are verified on
the exact response, fewest parts first, until no unverified one could rank among the n best; those n are verified in
ngspice and ranked: met first, then fewest parts, fewest inductors, largest margin.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import brentq
from scipy.signal import freqs_zpk

from circuitlib.analysis.mask import FilterMask, MaskReport, verify, verify_ngspice
from circuitlib.analysis.sensitivity import PartSensitivity, margin_sensitivity
from circuitlib.analysis.tolerance import Tolerance, YieldReport, tolerance_yield
from circuitlib.core.circuit import Circuit, topology_signature
from circuitlib.core.errors import SpecificationError
from circuitlib.core.lossy import Losses, with_losses
from circuitlib.core.netlist import to_netlist
from circuitlib.designers import mask_generative, mask_search, standard_values
from circuitlib.synthesis import ladder as lad
from circuitlib.synthesis.band import design_passband, stopband_ratio
from circuitlib.synthesis.classical import filter_parts, ladder_circuit
from circuitlib.synthesis.values import ESERIES

FAMILIES = lad.FAMILIES
FORMS = {"min-inductor": "shunt_first", "min-capacitor": "series_first"}
METHODS = ("classical", "search", "generative", "knn")
PROPOSER = {"search": "none", "generative": "generative", "knn": "knn"}  # where each searching method's proposals
# come from: random topologies (no model), the mask-conditioned prior, the nearest training pairs
# a ladder that meets its mask by less than this sits on the mask's edge (an equiripple band touching it, when no
# share of ripple or attenuation could be held back at that order): rounding decides it, so one order more is tried
MIN_MARGIN_DB = 1e-3
SCREEN_SAMPLES = 200  # with a yield target, a design is first sampled this often (see _screened_yield)


@dataclass
class MaskDesign:
    """One design for a mask, with its figures from the nodal solver and from ngspice."""

    mask: FilterMask
    method: str
    family: str | None  # None: a searched topology, of no classical family
    order: int | None
    form: str | None
    circuit: Circuit
    nodal: MaskReport
    verified: MaskReport | None  # ngspice; None when not asked for
    latency_ms: float  # from the mask to this design and its reports
    notes: list[str] = field(default_factory=list)
    eseries: str | None = None  # the preferred-value series of every filter part; None: exact values
    losses: Losses | None = None  # the part losses every report was verified with; None: ideal parts
    lossless: MaskReport | None = None  # with losses: the same parts ideal, for the margin the losses cost
    yield_report: YieldReport | None = None  # None: no tolerance was asked for
    sensitivity: list[PartSensitivity] | None = None  # None: not asked for
    min_yield: float | None = None  # the yield target the design was asked to reach
    stages: dict | None = None  # a searched design: its verified figures as sampled and as optimised
    novel: bool | None = None  # a learned proposal: whether its topology is absent from the training records

    @property
    def parts(self) -> int:
        return len(filter_parts(self.circuit))

    @property
    def inductors(self) -> int:
        return sum(c.kind == "L" for c in filter_parts(self.circuit))

    @property
    def met(self) -> bool:
        report = self.verified or self.nodal
        return report.met

    @property
    def reaches_yield(self) -> bool:
        """True without a yield target; with one, whether the sampled yield reaches it."""
        if self.min_yield is None:
            return True
        return self.yield_report is not None and self.yield_report.fraction >= self.min_yield

    def rank_key(self) -> tuple:
        """Met first, then reaching the yield target (short of it: the highest yield first), then fewest parts,
        fewest inductors, largest margin, lowest order. Margins count to 1e-9 dB: two that differ only by rounding,
        which varies between machines, are equal (designs held back by the same share of the ripple often are)."""
        short = 0.0 if self.reaches_yield else -(self.yield_report.fraction if self.yield_report else -1.0)
        return (not self.met, not self.reaches_yield, short, self.parts, self.inductors,
                -round((self.verified or self.nodal).margin_db, 9), self.order or 0)

    def model(self) -> Circuit:
        """The circuit the reports are of: the design's parts, lossy when `losses` says so."""
        return with_losses(self.circuit, self.losses) if self.losses else self.circuit

    def to_json(self) -> dict:
        report = self.verified or self.nodal
        tol = self.yield_report.tolerance if self.yield_report else None
        bom = [{"name": c.name, "kind": c.kind, "value": c.value, "series": self.eseries,
                "tolerance": tol.of(c.kind) if tol else None, "count": 1,
                "nodes": [Circuit.node_name(c.node_a), Circuit.node_name(c.node_b)]}
               for c in filter_parts(self.circuit)]
        out = {"netlist": to_netlist(self.circuit, self.mask.sweep()), "input_node": "vin", "output_node": "vout",
               "method": self.method, "family": self.family, "order": self.order, "form": self.form,
               "topology": topology_signature(self.circuit), "parts": self.parts, "inductors": self.inductors,
               "mask": self.mask.to_json(), "verified": report.to_json(),
               "cross_check": {"engine": "mna", "margin_db": self.nodal.margin_db,
                               "max_abs_diff_db": _largest_difference(self.nodal, self.verified)},
               "bom": bom, "eseries": self.eseries,
               "losses": self.losses.to_json() if self.losses else None,
               "lossy_netlist": to_netlist(self.model(), self.mask.sweep()) if self.losses else None,
               "lossless_margin_db": self.lossless.margin_db if self.lossless else None,
               "yield": self.yield_report.to_json() if self.yield_report else None,
               "sensitivity": [p.to_json() for p in self.sensitivity] if self.sensitivity is not None else None,
               "latency_ms": self.latency_ms, "notes": self.notes, "stages": self.stages, "novel": self.novel}
        searched = "a searched topology belongs to no classical family"
        out["null_reasons"] = {k: why for k, why in (
            ("family", searched), ("order", searched), ("form", searched),
            ("stages", "a classical design is synthesised, not sampled and optimised"),
            ("novel", "no model proposed it, so there is no training set to compare with"
             if self.method in ("classical", "search") else "not known"),
            ("yield", "no tolerance was given"), ("sensitivity", "not asked for"),
            ("losses", "ideal parts"), ("eseries", "exact values"),
            ("cross_check.max_abs_diff_db", "not verified in ngspice")) if _get(out, k) is None}
        return out


def _get(d: dict, dotted: str):
    for key in dotted.split("."):
        d = d[key]
    return d


def _largest_difference(a: MaskReport, b: MaskReport | None) -> float | None:
    if b is None:
        return None
    keys = ("pass_min_db", "pass_max_db", "stop_max_db")
    return max(abs(getattr(a, k) - getattr(b, k)) for k in keys)


def attenuation_edge(zpk: tuple, attenuation_db: float) -> float:
    """w_a: the largest lowpass-prototype frequency (rad/s) where the loss is still below `attenuation_db`; beyond it
    the prototype attenuates at least that much."""
    z, p, k = zpk
    w = np.geomspace(1.0, 1e4, 4001)
    loss = -20 * np.log10(np.maximum(np.abs(freqs_zpk(z, p, k, w)[1]), 1e-300))
    below = np.flatnonzero(loss < attenuation_db)
    if not len(below) or below[-1] == len(w) - 1:
        return math.inf
    i = below[-1]
    f = lambda lw: -20 * math.log10(max(abs(freqs_zpk(z, p, k, [10 ** lw])[1][0]), 1e-300)) - attenuation_db  # noqa
    return 10 ** brentq(f, math.log10(w[i]), math.log10(w[i + 1]), xtol=1e-14)


def _design_edges(mask: FilterMask, k: float) -> float | tuple[float, float]:
    """The edge(s) that the lowpass prototype's omega = 1 is mapped to: `design_passband`, moved by k."""
    p = design_passband(mask)
    if mask.response == "lowpass":
        return p * k
    if mask.response == "highpass":
        return p / k
    f0, bw = math.sqrt(p[0] * p[1]), (p[1] - p[0]) * (k if mask.response == "bandpass" else 1 / k)
    lo = -bw / 2 + math.sqrt(bw * bw / 4 + f0 * f0)
    return lo, lo + bw


def _terminations(mask: FilterMask) -> tuple[float, float | None, float]:
    """(rs, rl) normalised for `synthesise`, and the impedance level in ohm that undoes the normalisation."""
    if mask.source_ohm > 0:
        return 1.0, (None if mask.load_ohm is None else mask.load_ohm / mask.source_ohm), mask.source_ohm
    if mask.load_ohm is not None:
        return 0.0, 1.0, mask.load_ohm
    return 0.0, None, 1e3  # unterminated: the synthesis adds its own resistor, put at 1 kohm


SAFETY = (0.2, 0.1, 0.05, 0.02, 0.01, 0.002, 0.0)  # shares of ripple and attenuation held back, tried in turn
WIDE_SAFETY = (0.5, 0.35) + SAFETY  # above the minimum order, where the order was bought for margin


def design_levels(family: str, order: int, mask: FilterMask, lift_db: float = 0.0,
                  shares: tuple[float, ...] = SAFETY) -> tuple[float, float]:
    """(ripple, attenuation) in dB to synthesise with: the mask's (its attenuation raised by `lift_db`, see
    `_synthesise`), tightened by the largest of `shares` that keeps the order within `order`. An equiripple passband
    (Chebyshev I, elliptic) touches -ripple at every ripple trough, and an equiripple stopband (Chebyshev II,
    elliptic) touches -attenuation at every lobe, so moving the edge alone (`_build`) could not give those a
    margin."""
    base_att = mask.attenuation_db + lift_db
    for t in shares:
        ripple, att = mask.ripple_db * (1 - t), base_att * (1 + t)
        try:
            n, _ = lad.min_order(family, mask.response, mask.passband_hz, mask.stopband_hz, ripple, att)
        except ValueError:
            continue
        if n <= order:
            return ripple, att
    return mask.ripple_db, base_att


def _lift_db(ladder: lad.Ladder, mask: FilterMask) -> float:
    """How far in dB the ladder's passband peak lies above the mask's reference G_ref: 0, except for an even-order
    Chebyshev I or elliptic ladder whose DC gain (the resistive divider, G_ref) is a ripple trough. The mask reads
    the stopband against G_ref, so the function must attenuate that much more below its own peak."""
    lift = 20 * math.log10(ladder.gain_ref / mask.g_ref)
    return lift if lift > 1e-9 else 0.0  # rounding: a peak at G_ref


def _synthesise(family: str, order: int, mask: FilterMask, form: str,
                shares: tuple[float, ...] = SAFETY) -> tuple[lad.Ladder, list[str], float]:
    """The normalised ladder, trying the realisable variants of even-order elliptic and Chebyshev II functions,
    and its lift (`_lift_db`); a Chebyshev II or elliptic function is synthesised again with its attenuation
    raised by the lift (the lift depends on the ripple alone, so a second pass settles it)."""
    rs, rl, _ = _terminations(mask)
    lift = 0.0
    for _ in range(3):
        ripple, att = design_levels(family, order, mask, lift, shares)
        att = att if family in ("chebyshev2", "elliptic") else None
        errors: list[str] = []
        for variant in ("a", "b", "c") if family in ("chebyshev2", "elliptic") else ("a",):
            try:
                ladder = lad.synthesise(family, order, ripple, att, rs_ohm=rs, rl_ohm=rl, form=form, variant=variant)
                break
            except ValueError as exc:
                errors.append(str(exc))
        else:
            raise ValueError(errors[-1])
        new_lift = _lift_db(ladder, mask)
        if att is None or abs(new_lift - lift) < 1e-9:
            break
        lift = new_lift
    notes = ([f"variant {ladder.variant}: {errors[-1]}"] if errors else []) + list(ladder.notes)
    if new_lift > 0:
        notes.append(f"passband peak {new_lift:.3g} dB above G_ref: the stopband attenuation is asked that much more")
    return ladder, notes, new_lift


@dataclass
class _Pending:
    """A family's ladder in one form at one order, built but not yet verified."""

    family: str
    form: str
    order: int
    first_order: int  # the family's minimum order for the mask; one more is tried when that misses
    circuit: Circuit
    notes: list[str]

    def key(self) -> tuple[int, int]:
        parts = filter_parts(self.circuit)
        return len(parts), sum(c.kind == "L" for c in parts)


def _build(mask: FilterMask, family: str, form: str, first: int, orders: tuple[int, ...],
           notes: list[str]) -> _Pending | None:
    """The ladder of `family` in `form` at the first of `orders` that these terminations realise, with the design's
    edge moved by the slack between the prototype's attenuation edge and the mask's (see the module docstring)."""
    for n in orders:
        shares = SAFETY if n == first else WIDE_SAFETY
        try:
            ladder, more, lift = _synthesise(family, n, mask, FORMS[form], shares)
        except ValueError as exc:
            notes = notes + [f"order {n} not realised: {exc}"]
            continue
        ripple, att = design_levels(family, n, mask, lift, shares)
        zpk = lad.prototype_zpk(family, n, ripple, att if family in ("chebyshev2", "elliptic") else None,
                                ladder.variant)
        k = math.sqrt(max(stopband_ratio(mask) / attenuation_edge(zpk, mask.attenuation_db + lift), 1.0))
        _, _, r0 = _terminations(mask)
        circuit = ladder_circuit(lad.transform(ladder, mask.response, _design_edges(mask, k), r0))
        return _Pending(family, form, n, first, circuit, notes + more)
    return None


def _first_ladders(mask: FilterMask, families, forms) -> list[_Pending]:
    """Every family's ladder in every form at its minimum order (or the next, where that one is not realised)."""
    pending = []
    for family in families:
        try:
            order, _ = lad.min_order(family, mask.response, mask.passband_hz, mask.stopband_hz, mask.ripple_db,
                                     mask.attenuation_db)
        except ValueError:  # a Bessel function of order 25 or less cannot reach the attenuation
            continue
        for form in forms:
            built = _build(mask, family, form, order, (order, order + 1), [])
            if built is not None:
                pending.append(built)
    return pending


@dataclass(frozen=True)
class Buildable:
    """What a buildable design asks for beyond the mask: every part at a standard value of `eseries`, parts with
    `losses`, a yield under `tolerance` of at least `min_yield`. With a yield target, orders up to the minimum + 2
    are tried, since one more order buys margin."""

    eseries: str | None = None
    losses: Losses | None = None
    tolerance: Tolerance | None = None
    min_yield: float | None = None

    @property
    def extra_orders(self) -> int:
        return 2 if self.min_yield is not None else 1


def _evaluate(p: _Pending, mask: FilterMask, build: Buildable, t0: float) -> tuple[MaskDesign, bool]:
    """The design of a pending ladder with its reports (`with_build`), and whether it is acceptable."""
    d = MaskDesign(mask, "classical", p.family, p.order, p.form, p.circuit, verify(p.circuit, mask, delay=False),
                   None, 0.0, p.notes, losses=build.losses, min_yield=build.min_yield)
    return with_build(d, build, t0)


def with_build(d: MaskDesign, build: Buildable, t0: float) -> tuple[MaskDesign, bool]:
    """`d` with the reports `build` asks for (standard values, losses, yield), and whether it is acceptable: it
    meets the mask by MIN_MARGIN_DB or more, with the yield asked for."""
    d = replace(d, losses=build.losses, min_yield=build.min_yield)
    if build.eseries:
        d = to_standard_values(d, build.eseries)
    if build.losses:
        ideal, lossy = d.nodal, verify(d.model(), d.mask, delay=False)
        d = replace(d, nodal=lossy, lossless=ideal,
                    notes=d.notes + [f"lossy parts cost {ideal.margin_db - lossy.margin_db:.3g} dB of margin"])
    ok = d.nodal.margin_db >= MIN_MARGIN_DB
    if build.tolerance is not None and ok:
        d = replace(d, yield_report=_screened_yield(d.model(), d.mask, build))
        ok = build.min_yield is None or d.yield_report.fraction >= build.min_yield
    return replace(d, latency_ms=(time.perf_counter() - t0) * 1e3), ok


def _screened_yield(circuit: Circuit, mask: FilterMask, build: Buildable) -> YieldReport:
    """The yield under `build.tolerance`; with a yield target, a first SCREEN_SAMPLES draws (the same seed) settle
    a design whose 95% interval already lies below the target, and only the others are sampled in full."""
    tol = build.tolerance
    if build.min_yield is not None and tol.samples > SCREEN_SAMPLES:
        quick = tolerance_yield(circuit, mask, tol.model_copy(update={"samples": SCREEN_SAMPLES}))
        if quick.ci95[1] < build.min_yield:
            return quick
    return tolerance_yield(circuit, mask, tol)


def with_full_yield(d: MaskDesign, tol: Tolerance | None) -> MaskDesign:
    """`d` with its yield from all the samples of `tol`, where the search settled it on a screening run."""
    if tol is None or d.yield_report is None or d.yield_report.tolerance == tol:
        return d
    return replace(d, yield_report=tolerance_yield(d.model(), d.mask, tol))


def _shortfall(d: MaskDesign, mask: FilterMask, build: Buildable) -> str:
    if not d.nodal.met:
        return f"misses the mask by {-d.nodal.margin_db:.3g} dB"
    if d.nodal.margin_db < MIN_MARGIN_DB:
        return f"meets the mask with {d.nodal.margin_db:.2g} dB only"
    return f"yields {d.yield_report.fraction:.3f} < {build.min_yield:g}"


def classical_designs(mask: FilterMask, n: int, families=FAMILIES, forms=tuple(FORMS),
                      build: Buildable = Buildable(), t0: float | None = None) -> list[MaskDesign]:
    """Designs for `mask` from which the `n` best can be ranked: every family in every form at its minimum order,
    in the order of fewest parts, then fewest inductors, each verified exactly (with its standard values, losses
    and yield when `build` asks for them). A ladder that is not acceptable (`_evaluate`) is tried at one order more,
    up to `build.extra_orders` more: the variant that these terminations realise can be weaker than the function
    scipy's order is for, and a higher order buys margin for a yield. The search stops when `n` designs are
    acceptable and every ladder not yet verified has more parts or inductors than the n-th of them: those could not
    rank among the `n` best, so the result is the one that verifying all of them would give."""
    t0 = time.perf_counter() if t0 is None else t0
    heap = [(p.key(), i, p) for i, p in enumerate(_first_ladders(mask, families, forms))]
    heapq.heapify(heap)
    done: list[tuple[MaskDesign, bool]] = []
    count = len(heap)
    while heap:
        good = sorted((d.parts, d.inductors) for d, ok in done if ok)
        if len(good) >= n and heap[0][0] > tuple(good[n - 1]):
            break
        _, _, p = heapq.heappop(heap)
        d, ok = _evaluate(p, mask, build, t0)
        if not ok and p.order < p.first_order + build.extra_orders:
            note = f"order {p.order} {_shortfall(d, mask, build)}"
            more = _build(mask, p.family, p.form, p.first_order, (p.order + 1,), p.notes + [note])
            if more is not None:
                heapq.heappush(heap, (more.key(), count, more))
                count += 1
                continue
        done.append((d, ok))
    return [d for d, _ in done]


def at_order(mask: FilterMask, family: str, form: str, order: int, eseries: str | None = None) -> MaskDesign:
    """The `family` ladder in `form` at `order` (the minimum, or more: one more order buys margin: here half the ripple
    is held back at order 7, a fifth at the minimum), at standard values
    of `eseries` when given, verified exactly (not in ngspice). Raises SpecificationError when these terminations
    cannot realise that order.

    >>> m = FilterMask("lowpass", 1000.0, 2500.0, 0.5, 40.0, 50.0, 50.0)
    >>> [round(at_order(m, "chebyshev1", "min-inductor", n).nodal.margin_db, 2) for n in (5, 7)]
    [0.1, 0.25]
    """
    _check_arguments("classical", 1, eseries, family, form, None, None)
    first, _ = lad.min_order(family, mask.response, mask.passband_hz, mask.stopband_hz, mask.ripple_db,
                             mask.attenuation_db)
    if order < first:
        raise SpecificationError(f"{family} needs order {first} or more for this mask, not {order}")
    pending = _build(mask, family, form, first, (order,), [])
    if pending is None:
        raise SpecificationError(f"these terminations cannot realise a {family} ladder of order {order} ({form})")
    return with_delay(_evaluate(pending, mask, Buildable(eseries.upper() if eseries else None), time.perf_counter())[0])


def with_delay(d: MaskDesign) -> MaskDesign:
    """`d` with its exact report verified again with the passband group delay (the search leaves it out)."""
    return replace(d, nodal=verify(d.model(), d.mask))


def minimum_order_parts(mask: FilterMask, must_meet: bool = True) -> int | None:
    """The classical baseline's part count: the fewest filter parts of any family's ladder, in either form, at its
    minimum order. With `must_meet` (the default) that is the lowest order that realises the mask: scipy's, or one
    more where these terminations cannot realise scipy's function or the variant they do realise (an even-order
    function with a zero moved to infinity) misses the mask; every family is verified. Without it, the ladders at
    scipy's order (or the next where that one is not realised) are counted whether or not they meet the mask.
    None when no family gives a count."""
    if must_meet:
        counts = [d.parts for d in classical_designs(mask, n=len(FAMILIES) * len(FORMS)) if d.met]
    else:
        counts = [p.key()[0] for p in _first_ladders(mask, FAMILIES, tuple(FORMS))]
    return min(counts) if counts else None


def to_standard_values(d: MaskDesign, series: str) -> MaskDesign:
    """`d` with every filter part at a value of `series`, chosen jointly (`standard_values.snap`)."""
    t0 = time.perf_counter()
    circuit, report = standard_values.snap(d.circuit, d.mask, series)
    note = f"values from {series}: margin {report.margin_db:.3f} dB (exact values: {d.nodal.margin_db:.3f} dB)"
    return replace(d, circuit=circuit, nodal=report, eseries=series, notes=d.notes + [note],
                   latency_ms=d.latency_ms + (time.perf_counter() - t0) * 1e3)


def with_ngspice(d: MaskDesign) -> MaskDesign:
    """`d` verified in ngspice as well (its `verified` report), on its lossy parts when it has losses."""
    t0 = time.perf_counter()
    checked = verify_ngspice(d.model(), d.mask, d.nodal)
    return replace(d, verified=checked, latency_ms=d.latency_ms + (time.perf_counter() - t0) * 1e3)


def with_sensitivity(d: MaskDesign) -> MaskDesign:
    """`d` with the sensitivity of its margin to each of its parts (`analysis.sensitivity`, by autograd)."""
    names = {c.name for c in filter_parts(d.circuit)}
    found = margin_sensitivity(d.model(), d.mask, d.nodal)
    return replace(d, sensitivity=[p for p in found if p.name in names])


def _check_arguments(method, n, eseries, family, form, min_yield, tolerance) -> None:
    if method not in METHODS:
        raise SpecificationError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method != "classical" and (family is not None or form is not None):
        raise SpecificationError("--family and --form choose among classical ladders: they apply to method classical")
    if family is not None and family not in FAMILIES:
        raise SpecificationError(f"family must be one of {', '.join(FAMILIES)}, not {family!r}")
    if form is not None and form not in FORMS:
        raise SpecificationError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    if eseries is not None and eseries.upper() not in ESERIES:
        raise SpecificationError(f"eseries must be one of {', '.join(ESERIES)}, not {eseries!r}")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 50:
        raise SpecificationError(f"n must be an integer from 1 to 50, not {n!r}")
    if min_yield is not None:
        if tolerance is None:
            raise SpecificationError("a yield target needs a tolerance (--tolerance 5%)")
        if not (isinstance(min_yield, (int, float)) and 0 < min_yield <= 1):
            raise SpecificationError(f"min_yield must lie in (0, 1], not {min_yield!r}")


def no_model_sizes(mask: FilterMask, cfg: mask_search.SearchConfig) -> list[int]:
    """The part counts the search without a model draws its random topologies from, when no model's samples say:
    from the classical minimum of the searched mask (scipy's order, met or not; 2 where there is none) to
    cfg.extra_parts more."""
    return mask_search.size_range(minimum_order_parts(mask_search.searched_mask(mask), must_meet=False) or 2, cfg)


def search_designs(mask: FilterMask, n: int, cfg: mask_search.SearchConfig, build: Buildable = Buildable(),
                   t0: float | None = None, method: str = "search",
                   learned: mask_generative.LearnedProposers | None = None) -> list[MaskDesign]:
    """Up to `n` designs from a search (`mask_generative.search_with`) whose proposals come from `method`'s proposer
    (random topologies sized from the classical minimum on, the prior, or the nearest training pairs): the met ones
    of distinct topologies, fewest parts first, with the reports `build` asks for; when none meets the mask, the
    one closest to it."""
    t0 = time.perf_counter() if t0 is None else t0
    proposer = PROPOSER[method]
    if proposer != "none" and learned is None:
        learned = mask_generative.LearnedProposers()
    sizes = no_model_sizes(mask, cfg) if proposer == "none" else None
    result, props = mask_generative.search_with(proposer, mask, cfg, learned, sizes)
    stages = {"sampled": result.sampled.to_json(), "optimized": result.optimized.to_json(),
              "proposed": result.proposed, "drawn": props.drawn, "budget": cfg.budget}
    picked: dict[str, Circuit] = {}
    for circuit, _ in sorted(result.met, key=lambda cm: (*mask_search.parts_of(cm[0]), -cm[1])):
        picked.setdefault(topology_signature(circuit), circuit)
    chosen = list(picked.values())[:n] or ([result.optimized.best] if result.optimized.best else [])
    if not chosen:
        raise SpecificationError(f"no usable proposal for this mask: {props.drawn} drawn, none valid with the "
                                 f"response's limits")
    note = f"{result.optimized.met} of {result.optimized.verified} optimised candidates meet the mask"
    return [with_build(MaskDesign(mask, method, None, None, None, c, verify(c, mask, delay=False), None, 0.0, [note],
                                  stages=stages, novel=None if proposer == "none" else learned.novel(c)), build, t0)[0]
            for c in chosen]


def _finer_series_note(mask: FilterMask, series: str, families, forms) -> str:
    """Says that no design at `series` values meets `mask`, and which finer series (if any) gives one that does."""
    for finer in ESERIES[ESERIES.index(series) + 1:]:
        if any(d.met for d in classical_designs(mask, 1, families, tuple(forms), Buildable(finer))):
            return f"no design at {series} values meets the mask; {finer} values do"
    return f"no design at {series} values meets the mask, nor at any finer series (exact values may)"


def design(mask: FilterMask, method: str = "classical", n: int = 3, eseries: str | None = None,
           family: str | None = None, form: str | None = None, ngspice: bool = True, *,
           losses: Losses | None = None, tolerance: Tolerance | None = None, min_yield: float | None = None,
           sensitivity: bool = False, search: mask_search.SearchConfig | None = None,
           learned: mask_generative.LearnedProposers | None = None) -> list[MaskDesign]:
    """The `n` best designs for `mask`, ranked: met first, then reaching `min_yield`, then fewest parts, fewest
    inductors, largest margin. Candidates are verified exactly on the nodal solver (`classical_designs`); the `n`
    best are then verified in ngspice (unless `ngspice` is False) and ranked on ngspice's figures.

    `eseries` ("E6" ... "E192") puts every filter part at a standard value, chosen jointly. `family` and `form` force
    one family or form. `losses` verifies every design with lossy parts (inductor Q, capacitor ESR; the Q's frequency
    defaults to `reference_hz`). `tolerance` adds each design's yield; with `min_yield` the cheapest designs whose
    yield reaches it are returned, trying orders up to the minimum + 2. `sensitivity` adds the margin's sensitivity
    to each part. `method` "search", "generative" or "knn" designs by search instead of classical synthesis
    (`search_designs`, configured by `search`): from random topologies (no model), from the mask-conditioned prior,
    or from the nearest training pairs (`learned` holds the prior and the pairs; loaded from data/ when None).

    >>> m = FilterMask("lowpass", 1000.0, 2500.0, 0.5, 40.0, 50.0, 50.0)
    >>> best = design(m, n=1, ngspice=False)[0]
    >>> best.family, best.order, best.parts, best.met
    ('elliptic', 4, 5, True)
    """
    _check_arguments(method, n, eseries, family, form, min_yield, tolerance)
    if losses is not None and losses.inductor_q is not None and losses.q_freq_hz is None:
        losses = replace(losses, q_freq_hz=mask.reference_hz)  # where an inductor's Q is taken by default
    build = Buildable(eseries.upper() if eseries else None, losses if losses and losses.any else None, tolerance,
                      min_yield)
    t0 = time.perf_counter()
    if method != "classical":
        designs = search_designs(mask, n, search or mask_search.SearchConfig(), build, t0, method, learned)
    else:
        designs = classical_designs(mask, n, [family] if family else FAMILIES, [form] if form else tuple(FORMS),
                                    build, t0)
    if not designs:
        raise SpecificationError("no classical ladder realises this mask between these terminations")
    best = sorted((with_full_yield(with_delay(d), tolerance) for d in sorted(designs, key=MaskDesign.rank_key)[:n]),
                  key=MaskDesign.rank_key)
    if build.eseries and not best[0].met and method == "classical":
        note = _finer_series_note(mask, build.eseries, [family] if family else FAMILIES, [form] if form else FORMS)
        best = [replace(d, notes=d.notes + [note]) for d in best]
    if ngspice:
        best = sorted((with_ngspice(d) for d in best), key=MaskDesign.rank_key)
    if sensitivity:
        best = [with_sensitivity(d) for d in best]
    return best
