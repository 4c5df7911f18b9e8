"""The benchmark's cost curves and ladders: shapes, the peer's figures where it ran and a reason where it did not."""

import numpy as np
import pytest

from circuitlib.analysis.measure import measure
from circuitlib.report import bench
from circuitlib.sim.sweep import sweep_blocks, sweep_hz


def test_ladders_are_of_the_order_asked_and_drawn_from_the_seed():
    a, b = bench.ladders(4, 6, seed=3), bench.ladders(4, 6, seed=3)
    assert [sum(c.kind in "LC" for c in x.components()) for x in a] == [6] * 4
    assert [x.components() for x in a] == [x.components() for x in b]
    assert a[0].components() != bench.ladders(1, 6, seed=4)[0].components()


def test_count_cost_runs_ngspice_only_up_to_its_limit_and_says_so():
    pool = bench.ladders(3, 3, seed=0)
    rows = bench.count_cost(pool, [1, 5], ngspice_up_to=1)
    assert [r["n"] for r in rows] == [1, 5] and all(r["mna_s"] > 0 for r in rows)
    assert rows[0]["ngspice_s"] > 0 and "why_no_ngspice" not in rows[0]
    assert rows[1]["ngspice_s"] is None and "1 circuits" in rows[1]["why_no_ngspice"]


def test_order_and_montecarlo_costs_have_both_engines_where_asked():
    orders = bench.order_cost([2, 4], 2)
    assert [r["order"] for r in orders] == [2, 4] and all(r["mna_s"] > 0 and r["ngspice_s"] > 0 for r in orders)
    mc = bench.montecarlo_cost([8, 16], [8])
    assert mc[0]["ngspice_s"] > 0 and mc[1]["ngspice_s"] is None and mc[1]["why_no_ngspice"]


def test_streamed_blocks_are_the_whole_sweep():
    circuits = bench.ladders(7, 5, seed=1)
    f_hz = np.geomspace(10.0, 1e6, 301)
    whole = sweep_hz(circuits, f_hz)
    parts = list(sweep_blocks(circuits, f_hz, block=3))
    assert [p.start for p, _ in parts] == [0, 3, 6]
    assert np.allclose(np.concatenate([h for _, h in parts]), whole, rtol=1e-9, atol=0)  # padding may differ
    assert measure(circuits[0]).fc_hz is not None  # a working filter, not an empty one


def test_cost_exponents_fit_past_the_overhead_and_say_none_where_an_engine_did_not_run():
    import pandas as pd

    n = np.array([1, 10, 100, 1000, 10000])
    cost = {"circuits": pd.DataFrame({"n": n, "mna_s": 1e-3 + 1e-5 * n,  # a flat 1 ms per call, then linear
                                      "ngspice_s": [1e-3, 1e-2, 0.1, 1.0, None]}),
            "montecarlo": pd.DataFrame({"samples": [10, 100], "mna_s": [1.0, 2.0], "ngspice_s": [None, None]})}
    k = bench.cost_exponents(cost, pd.DataFrame({"dim": [32, 64], "seconds": [1.0, 4.0]}))
    assert 0.75 < k["circuits mna"] < 1.0 and k["circuits ngspice"] == pytest.approx(1.0)
    assert k["montecarlo mna"] is None and k["montecarlo ngspice"] is None  # below FIT_FROM, and never run
    assert k["model"] == pytest.approx(2.0)
