"""Scale-out and failure isolation of dataset generation: a Dask cluster and a crashing worker both give the
same records as the serial run."""

import hashlib
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

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
