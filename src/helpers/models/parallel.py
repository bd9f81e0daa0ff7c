"""Independent model fits spread over the machine's cores, with the results a single process gives.

scikit-learn's gradient boosting threads each fit with OpenMP, but the fits here are small (a few
thousand rows each): two OpenMP threads fit one arm 10% faster than one, while two processes of one
thread each fit two arms in the time of one. Each worker runs one OpenMP thread, imports numpy with
the parent's environment (so the same math path, ``kernel.SAME_MATH_EVERYWHERE``), and a task's result
depends on its arguments alone: in which worker, in which order or how fast it ran never changes it.
The workers are started once per process (spawned: a fork of a process whose OpenMP threads have run
can hang) and serve every later call."""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
_POOL: ProcessPoolExecutor | None = None


def workers() -> int:
    """Processes a ``starmap`` runs in: the cores this process may use."""
    return len(os.sched_getaffinity(0))


def starmap(function: Callable[..., T], arguments: Iterable[Sequence[object]]) -> list[T]:
    """``[function(*args) for args in arguments]``, in that order, computed in ``workers()`` processes
    when there are several tasks and cores (``function`` and its arguments are pickled: a module-level
    function and plain data); a task's exception is raised here, with its own message, and a worker that
    died (killed for memory, say) raises WorkerDied, the next call starting new workers. ``arguments``
    is drawn as workers free up: at most one task more than there are workers is held at once (a task's
    rows can be large: 190 MB per arm of the off-policy scores at 1M customers)."""
    tasks = iter(arguments)
    first = list(itertools.islice(tasks, 2))
    if len(first) < 2 or workers() < 2:
        return [function(*args) for args in itertools.chain(first, tasks)]
    pending: deque[Future[T]] = deque()
    results = []
    try:
        for args in itertools.chain(first, tasks):
            pending.append(_pool().submit(function, *args))
            if len(pending) > workers():
                results.append(pending.popleft().result())
        return results + [future.result() for future in pending]
    except BrokenProcessPool as exc:
        global _POOL
        _POOL = None
        raise WorkerDied(
            f"a worker process running {function.__name__} stopped before it finished (out of memory, or "
            "killed); its results are lost, nothing was kept. Run it again, or free memory first."
        ) from exc


class WorkerDied(RuntimeError):
    """A worker process of ``starmap`` ended in the middle of a task."""


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(workers(), mp_context=get_context("spawn"), initializer=_one_thread)
    return _POOL


def _one_thread() -> None:
    """A worker's start: OpenMP (scikit-learn's trees) and BLAS on one thread each, whether loaded
    already (by the parent's main module, imported again here) or later."""
    from threadpoolctl import threadpool_limits

    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    threadpool_limits(1)
