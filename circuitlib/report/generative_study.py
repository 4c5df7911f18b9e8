"""Does the model help? One grid of masks the project never saw, four ways to design for each, one budget.

- classical: the best minimum-order ladder of `mask_design.design` (the exact baseline);
- generative: samples of the mask-conditioned prior, then value optimisation and at most `budget` exact
  verifications (`mask_search.search`);
- none: random valid topologies with the part counts of the generative samples for the same mask, then the same
  optimisation and budget (the search without a model);
- knn: the circuits of the nearest training pairs (the seed's knn, adapted to masks), then the same.

Each row is one mask and one method: met (after optimisation, exact verification, then ngspice), raw met (the same
budget spent on the proposals as sampled), parts and inductors of the best met design against classical, the yield
at 5 % parts, the distinct topologies among the met candidates and how many are novel, the latency, and whether a met
candidate was among the first b verified for each b of `budgets`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import pandas as pd
from tqdm import tqdm

from circuitlib.analysis.mask import FilterMask, verify_ngspice
from circuitlib.analysis.tolerance import Tolerance, tolerance_yield
from circuitlib.core.circuit import Circuit, topology_signature
from circuitlib.core.executors import mapped
from circuitlib.designers import mask_design
from circuitlib.designers import mask_search as ms
from circuitlib.designers.mask_generative import LearnedProposers, search_with

METHODS = ("classical", "generative", "none", "knn")
LABELS = {"classical": "classical (minimum order)", "generative": "generative (prior, optimised)",
          "none": "no model (random topologies, optimised)", "knn": "knn (nearest training pairs, optimised)"}
YIELD_TOLERANCE = Tolerance(r=0.05, l=0.05, c=0.05, samples=200, seed=0)
BUDGETS = (1, 2, 4, 8, 16)


@dataclass
class Best:
    """The best design of one method for one mask."""

    mask_index: int
    method: str
    circuit: Circuit
    met: bool


def _row(i: int, mask: FilterMask, method: str, best: Circuit | None, met: bool, raw_met: bool | None,
         seconds: float, met_topologies: set[str], novel: int | None, within: dict[int, bool],
         verified: int | None = None) -> dict:
    parts, inductors = ms.parts_of(best) if best is not None else (None, None)
    spice = verify_ngspice(best, mask) if best is not None and met else None
    return {"mask": i, "response": mask.response, "method": method, "met": bool(spice.met) if spice else False,
            "met_exact": met, "raw_met": raw_met, "parts": parts, "inductors": inductors,
            "margin_db": spice.margin_db if spice else None,
            "yield_5pct": tolerance_yield(best, mask, YIELD_TOLERANCE).fraction if spice and spice.met else None,
            "met_topologies": len(met_topologies), "novel_topologies": novel, "seconds": seconds,
            "verified": verified,
            **{f"met_within_{b}": v for b, v in within.items()}}


def study(masks: list[FilterMask], cfg: ms.SearchConfig, learned: LearnedProposers, budgets=BUDGETS,
          progress: bool = True, executor: Executor | None = None) -> tuple[pd.DataFrame, list[Best]]:
    """Every method on every mask: a row per (mask, method) and the best design of each. With an `executor` (a Dask
    cluster's), each mask is studied on a worker, the prior and training pairs loaded here first and sent along."""
    if executor is not None:
        learned.load()  # here, not from a worker's paths
    n = len(masks)
    done = mapped(study_mask, range(n), masks, [cfg] * n, [learned] * n, [budgets] * n, executor=executor)
    rows, bests = [], []
    for mask_rows, mask_bests in tqdm(done, total=n, desc="masks", disable=not progress or None):
        rows += mask_rows
        bests += mask_bests
    return pd.DataFrame(rows), bests


def study_mask(i: int, mask: FilterMask, cfg: ms.SearchConfig, learned: LearnedProposers, budgets=BUDGETS
               ) -> tuple[list[dict], list[Best]]:
    """The rows and best designs of the four methods on mask number `i`."""
    rows, bests = [], []
    t0 = time.perf_counter()
    (classical,) = mask_design.design(mask, n=1, ngspice=False)
    rows.append(_row(i, mask, "classical", classical.circuit, classical.met, classical.met,
                     time.perf_counter() - t0, {topology_signature(classical.circuit)} if classical.met else set(),
                     None, {b: classical.met for b in budgets}))
    bests.append(Best(i, "classical", classical.circuit, classical.met))
    sizes = None
    for method in ("generative", "none", "knn"):
        t0 = time.perf_counter()
        result, props = search_with(method, mask, cfg, learned, sizes)
        seconds = time.perf_counter() - t0
        if method == "generative":  # the search without a model draws the sizes of the model's samples
            sizes = props.sizes or mask_design.no_model_sizes(mask, cfg)
        tops = {topology_signature(c) for c, _ in result.met}
        novel = None if method == "none" else sum(learned.novel(c) for c, _ in
                                                  {topology_signature(c): (c, m) for c, m in result.met}.values())
        best = result.optimized.best
        met = bool(result.optimized.report and result.optimized.report.met)
        rows.append(_row(i, mask, method, best, met, result.sampled.met > 0, seconds, tops, novel,
                         {b: result.optimized.met_within(b) for b in budgets}, result.optimized.verified))
        if best is not None:
            bests.append(Best(i, method, best, met))
    return rows, bests


def against_classical(frame: pd.DataFrame, method: str) -> pd.DataFrame:
    """On each mask that `method` and classical synthesis both met (the index): the method's design minus the classical
    ladder in parts, inductors and yield at 5 %."""
    classical = frame[frame["method"] == "classical"].set_index("mask")
    part = frame[frame["method"] == method].set_index("mask")
    both = part.index[part["met"] & classical["met"].reindex(part.index).fillna(False).astype(bool)]
    return pd.DataFrame({k: part.loc[both, k] - classical.loc[both, k] for k in ("parts", "inductors", "yield_5pct")})


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per method: masks met (ngspice), raw success, median parts and inductors over classical's on the masks both
    met (`against_classical`), the median yield at 5 % of its met designs and its median difference from classical's
    on the masks both met, distinct met topologies and the novel ones, median seconds."""
    out = []
    for method in METHODS:
        part = frame[frame["method"] == method].set_index("mask")
        versus = against_classical(frame, method)
        out.append({"method": LABELS[method], "masks met": f"{int(part['met'].sum())}/{len(part)}",
                    "raw met": f"{int(part['raw_met'].fillna(False).sum())}/{len(part)}",
                    "extra parts (median)": versus["parts"].median(),
                    "extra inductors (median)": versus["inductors"].median(),
                    "yield at 5% (median of met)": part["yield_5pct"].median(),
                    "yield minus classical's (median, masks both met)": versus["yield_5pct"].median(),
                    "met topologies": int(part["met_topologies"].sum()),
                    "novel": {"classical": "synthesised", "none": "no model"}.get(method)
                    or int(part["novel_topologies"].sum()),
                    "median s": part["seconds"].median()})
    table = pd.DataFrame(out).astype(object)
    words = {"extra parts (median)": "no mask met by both", "extra inductors (median)": "no mask met by both",
             "yield minus classical's (median, masks both met)": "no mask met by both",
             "yield at 5% (median of met)": "none met"}  # a quantity that does not exist, in words, never nan
    return table.where(table.notna(), pd.DataFrame({k: [v] * len(table) for k, v in words.items()}))


def success_by_budget(frame: pd.DataFrame, budgets=BUDGETS) -> pd.DataFrame:
    """Share of masks with a met candidate among the first b verified, per method (rows) and budget (columns)."""
    return pd.DataFrame({b: frame.groupby("method")[f"met_within_{b}"].mean() for b in budgets}).loc[list(METHODS)]


def saving(best: Best, classical: Circuit) -> tuple[int, int]:
    """(parts, inductors) of a design minus those of the classical ladder of its mask: negative is fewer."""
    mine, theirs = ms.parts_of(best.circuit), ms.parts_of(classical)
    return mine[0] - theirs[0], mine[1] - theirs[1]


def gallery(bests: list[Best], novel: Callable[[Circuit], bool]) -> list[Best]:
    """The met designs of the searching methods that are novel (`novel`) or use fewer inductors than the classical
    ladder of their mask, those with the fewest parts (then inductors) against that ladder first."""
    classical = {b.mask_index: b.circuit for b in bests if b.method == "classical"}
    picked = [b for b in bests if b.method != "classical" and b.met and b.mask_index in classical
              and (novel(b.circuit) or saving(b, classical[b.mask_index])[1] < 0)]
    return sorted(picked, key=lambda b: saving(b, classical[b.mask_index]))
