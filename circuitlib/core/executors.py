"""Where independent pieces of work run: in this process, or on any `concurrent.futures` executor, a Dask
distributed cluster's included (`dask_executor`). Work mapped either way gives the same results, in the same order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext


class DaskExecutor(Executor):
    """A concurrent.futures executor on a Dask distributed cluster that owns its client: `shutdown` (or leaving a
    `with` block) closes the client too, so that nothing keeps reconnecting to a scheduler that has gone."""

    def __init__(self, scheduler: str):
        from distributed import Client  # dask.distributed (heavy): only a run with a scheduler address needs it

        self._client = Client(scheduler)
        self._inner = self._client.get_executor()

    def submit(self, fn, /, *args, **kwargs):
        return self._inner.submit(fn, *args, **kwargs)

    def map(self, fn, *iterables, **kwargs):
        return self._inner.map(fn, *iterables, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait)
        self._client.close()


def dask_executor(scheduler: str) -> DaskExecutor:
    """A concurrent.futures executor on a Dask distributed cluster (`scheduler` is its address, "tcp://host:8786");
    close it (a `with` block, or `shutdown()`) when done. Each Dask worker process loads its own ngspice; run workers
    with one thread each (`--nthreads 1`)."""
    return DaskExecutor(scheduler)


def executor_for(scheduler: str | None) -> AbstractContextManager[Executor | None]:
    """`with executor_for(scheduler) as executor:` an executor on the Dask cluster at `scheduler`, closed when the
    block ends, or None (this process) when `scheduler` is None: what a notebook's `-p scheduler tcp://...` selects.

    >>> with executor_for(None) as executor:
    ...     executor is None
    True
    """
    return nullcontext(None) if scheduler is None else dask_executor(scheduler)


def mapped(fn: Callable, *iterables: Iterable, executor: Executor | None = None) -> Iterator:
    """fn(*args) for the items of `iterables` taken together, in order: in this process without an executor, else on
    it (fn and the items are sent to its workers, so both must pickle; Dask's cloudpickle also takes notebook
    functions and lambdas). Iterables are read whole first: give finite ones.

    >>> list(mapped(pow, [2, 3], [2, 2]))
    [4, 9]
    """
    columns = [list(it) for it in iterables]
    return map(fn, *columns) if executor is None else executor.map(fn, *columns)
