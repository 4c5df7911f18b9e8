"""Scale-out and failure isolation of dataset generation: a Dask cluster and a crashing worker both give the
same records as the serial run."""

import hashlib
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circuitlib.learn import dataset

CFG = dataset.DatasetConfig(n_circuits=60, seed=11, workers=2)


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return digest(dataset.build_dataset(CFG, tmp_path_factory.mktemp("ref"), progress=False).records_path)


def test_a_local_dask_cluster_gives_the_same_records(tmp_path, reference):
    from distributed import LocalCluster

    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
          dataset.dask_executor(cluster.scheduler_address) as executor):
        result = dataset.build_dataset(CFG, tmp_path, executor=executor, progress=False)
    assert digest(result.records_path) == reference
    assert executor._client.status == "closed"  # nothing left to reconnect to the closed scheduler


def _die_once(flag: str) -> None:
    """Worker initializer: the first worker to start after `flag` is written kills its own process."""
    try:
        os.remove(flag)
    except FileNotFoundError:
        return
    os._exit(3)


def test_a_dead_worker_is_replaced_and_the_run_continues(tmp_path, reference):
    flag = tmp_path / "crash-once"
    flag.write_text("x")
    pools = []

    def make():
        pools.append(ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"), initializer=_die_once,
                                         initargs=(str(flag),)))
        return pools[-1]

    result = dataset.build_dataset(CFG, tmp_path / "out", progress=False, make_executor=make)
    assert len(pools) >= 2, "the crash must have forced a new pool"
    assert not flag.exists()
    assert digest(result.records_path) == reference


def test_a_worker_that_always_dies_ends_the_run_with_one_clear_error(tmp_path):
    from circuitlib.core.errors import CircuitlibError

    def make():
        (tmp_path / "crash").write_text("x")  # every new pool crashes again
        return ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_die_once,
                                   initargs=(str(tmp_path / "crash"),))

    with pytest.raises(CircuitlibError, match="workers died"):
        dataset.build_dataset(CFG, tmp_path / "out", progress=False, make_executor=make)
    assert not (tmp_path / "out" / "circuits.jsonl.gz").exists()


@pytest.fixture(scope="module")
def cluster_executor():
    """A local Dask cluster of two single-threaded worker processes, and an executor on it, closed after the module."""
    from distributed import LocalCluster

    from circuitlib.core.executors import dask_executor

    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
          dask_executor(cluster.scheduler_address) as executor):
        yield executor


def test_a_yield_on_a_cluster_is_the_yield_in_process(cluster_executor, monkeypatch):
    from circuitlib.analysis import tolerance
    from circuitlib.analysis.mask import FilterMask
    from circuitlib.designers.mask_design import design

    monkeypatch.setattr(tolerance, "YIELD_BLOCK", 256)  # several blocks for the workers
    mask = FilterMask("lowpass", 1e3, 2e3, 0.5, 30.0, 50.0, 50.0)
    (best,) = design(mask, n=1, ngspice=False)
    tol = tolerance.Tolerance(r=0.05, l=0.05, c=0.05, samples=700, seed=3)
    here = tolerance.tolerance_yield(best.circuit, mask, tol)
    there = tolerance.tolerance_yield(best.circuit, mask, tol, executor=cluster_executor)
    assert np.array_equal(here.margins_db, there.margins_db) and here.top_failing_parts == there.top_failing_parts
    assert 0 < here.fraction < 1  # a yield that some samples fail: the blame is compared too


def test_a_mask_grid_designed_on_a_cluster_is_the_grid_designed_in_process(cluster_executor):
    from circuitlib.core.executors import mapped
    from circuitlib.report.mask_study import MaskGrid, random_masks, timed_design

    masks = random_masks(MaskGrid(count=4, seed=5))
    here = [d for d, _ in mapped(timed_design, masks)]
    there = [d for d, _ in mapped(timed_design, masks, executor=cluster_executor)]
    assert [d.circuit.components() for d in here] == [d.circuit.components() for d in there]
    margins = [[(d.nodal.margin_db, d.verified.margin_db) for d in run] for run in (here, there)]
    assert margins[0] == margins[1]


def test_the_generative_study_on_a_cluster_is_the_study_in_process(cluster_executor):
    from circuitlib.designers import mask_search
    from circuitlib.designers.mask_generative import LearnedProposers
    from circuitlib.report import generative_study as gs
    from circuitlib.report.mask_study import MaskGrid, random_masks

    masks = random_masks(MaskGrid(count=2, seed=20261207))
    cfg = mask_search.search_config(budget=2, proposals=6, steps=20, seed=0)
    here, _ = gs.study(masks, cfg, LearnedProposers(), progress=False)
    there, _ = gs.study(masks, cfg, LearnedProposers(), progress=False, executor=cluster_executor)
    same = [c for c in here.columns if c != "seconds"]
    pd.testing.assert_frame_equal(here[same], there[same])
