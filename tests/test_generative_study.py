"""The side-by-side tables of notebook 09, on a hand-made frame whose answers are known."""

import pandas as pd
import pytest

from circuitlib.report import generative_study as gs


def _frame() -> pd.DataFrame:
    rows = []
    for mask in range(4):
        for method in gs.METHODS:
            met = method == "classical" or (method == "generative" and mask < 3) or (method == "knn" and mask < 2)
            rows.append({"mask": mask, "response": "lowpass", "method": method, "met": met, "met_exact": met,
                         "raw_met": method == "knn" and mask == 0, "parts": 5 + (method != "classical"),
                         "inductors": 2 - (method == "generative"), "margin_db": 0.1 if met else None,
                         "yield_5pct": 0.9 if met else None, "met_topologies": int(met),
                         "novel_topologies": None if method in ("classical", "none") else int(met and mask == 0),
                         "seconds": {"classical": 0.1, "generative": 8.0, "none": 6.0, "knn": 7.0}[method],
                         "verified": None if method == "classical" else 16,
                         **{f"met_within_{b}": met and (b >= 4 or method == "classical") for b in gs.BUDGETS}})
    return pd.DataFrame(rows)


def test_summary_counts_and_compares_with_classical():
    table = gs.summary(_frame()).set_index("method")
    gen, none = table.loc[gs.LABELS["generative"]], table.loc[gs.LABELS["none"]]
    assert gen["masks met"] == "3/4" and none["masks met"] == "0/4"
    assert table.loc[gs.LABELS["knn"], "raw met"] == "1/4"
    assert gen["extra parts (median)"] == 1 and gen["extra inductors (median)"] == -1
    assert none["extra parts (median)"] == "no mask met by both"  # no comparison, in words: not a zero, not nan
    assert none["yield at 5% (median of met)"] == "none met"
    assert gen["yield minus classical's (median, masks both met)"] == 0.0
    assert gen["novel"] == 1 and none["novel"] == "no model"
    assert not table.isna().any().any()
    assert gen["median s"] == pytest.approx(8.0)


def test_against_classical_is_per_mask_on_the_masks_both_met():
    """generative meets masks 0-2 and classical all four: three rows, each one part more and one inductor fewer than
    the ladder; none meets nothing: no rows (an empty comparison, not zeros)."""
    versus = gs.against_classical(_frame(), "generative")
    assert versus.index.tolist() == [0, 1, 2]
    assert versus["parts"].tolist() == [1, 1, 1] and versus["inductors"].tolist() == [-1, -1, -1]
    assert versus["yield_5pct"].tolist() == [0.0, 0.0, 0.0]
    assert gs.against_classical(_frame(), "none").empty


def test_success_by_budget_is_a_share_per_method_and_budget():
    curve = gs.success_by_budget(_frame())
    assert list(curve.index) == list(gs.METHODS) and list(curve.columns) == list(gs.BUDGETS)
    assert curve.loc["classical"].tolist() == [1.0] * len(gs.BUDGETS)
    assert curve.loc["generative", 2] == 0.0 and curve.loc["generative", 4] == 0.75
    assert curve.loc["none"].max() == 0.0


def test_the_gallery_keeps_novel_or_leaner_met_designs_leanest_first():
    from circuitlib.core.circuit import Circuit, Edge

    def ladder(n_l: int, n_c: int) -> Circuit:  # n_l series inductors and n_c shunt capacitors, parts counted only
        edges = {(1, 3): Edge(r_ohm=50.0)}
        for i in range(n_l):
            edges[(3 + i, 4 + i)] = Edge(l_h=1e-3)
        for i in range(n_c):
            edges[(0, 3 + i)] = Edge(c_f=1e-6)
        return Circuit(n_l + 1, edges, {(1, 3, "R"): "RS"})

    bests = [gs.Best(0, "classical", ladder(3, 2), True), gs.Best(0, "generative", ladder(2, 2), True),
             gs.Best(0, "knn", ladder(3, 3), True), gs.Best(0, "none", ladder(1, 1), False),
             gs.Best(1, "classical", ladder(2, 2), True), gs.Best(1, "generative", ladder(2, 3), True)]
    novel = lambda c: gs.ms.parts_of(c) == (6, 3)  # only mask 0's knn design is novel
    picked = gs.gallery(bests, novel)
    assert [(b.mask_index, b.method) for b in picked] == [(0, "generative"), (0, "knn")]  # -1 part first, then +1
    assert gs.saving(picked[0], bests[0].circuit) == (-1, -1)
