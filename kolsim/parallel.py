"""Where work runs: in this process, in local worker processes, or on a Dask cluster.

Every caller hands :func:`workers` a list of tasks whose order and seeds it has
fixed itself, and reads the results back in that order, so results never depend
on where or on how many workers they ran.  Dask is imported only when a
scheduler is given.
"""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from . import _signals
from .errors import InputError

__all__ = ["Workers", "workers", "check_scheduler"]


def _call(fn_and_args):
    fn, args = fn_and_args
    return fn(*args)


#: glibc's mallopt parameters, and the thresholds kolsim sets on a Dask worker (see below).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_BYTES, _TRIM_BYTES = 64 * 2**20, 128 * 2**20
_tuned = False


def _tune_allocator() -> None:
    """Undo, in this worker process, what Dask's nanny's MALLOC_TRIM_THRESHOLD_ does to numpy.

    Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting it turns off
    glibc's dynamic mmap threshold, so every array over 128 KiB is mapped and unmapped afresh,
    and kolsim's draws (many arrays of a few MB per block) ran 2.8 times slower (1.0 s against
    2.8 s for 5 x 2,000 replications of perfume_launch; ``benchmarks/RESULTS.md``). Raising the
    mmap threshold to 64 MiB and the trim threshold to 128 MiB brings them back to 1.2 s. It is
    done once per process, only where the variable is set, and only with glibc; memory a task
    frees is then returned to the system less eagerly.
    """
    global _tuned
    if _tuned:
        return
    _tuned = True
    if not os.environ.get("MALLOC_TRIM_THRESHOLD_") or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES)
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


class _Task:
    """A task for Dask: a plain object, since Dask takes a tuple whose first item is callable
    for a task of its own graph (distributed 2024.8 ran ``fn(args)`` instead of ``fn(*args)``)."""

    __slots__ = ("fn", "args")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args


def _call_on_dask(task: _Task):
    _tune_allocator()
    return task.fn(*task.args)


#: A scheduler's address: a protocol Dask speaks, a host, and a port.
_ADDRESS = re.compile(r"tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}")


def check_scheduler(scheduler: Any) -> None:
    """A scheduler is None, an address such as ``tcp://127.0.0.1:8786``, or a ``distributed.Client``."""
    if scheduler is None:
        return
    if isinstance(scheduler, str):
        m = _ADDRESS.fullmatch(scheduler.strip())
        if m and 0 < int(scheduler.rsplit(":", 1)[1]) < 65536:
            return
        raise InputError(f"must be a Dask scheduler's address tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786 (other "
                         f"protocols: pass a distributed.Client from Python) (got {scheduler!r})", where="scheduler")
    if type(scheduler).__name__ == "Client" and hasattr(scheduler, "map"):
        return
    raise InputError(f"must be a Dask scheduler's address such as tcp://127.0.0.1:8786, or a "
                     f"distributed.Client (got {scheduler!r})", where="scheduler")


class Workers:
    """Runs ``fn(*task)`` for many tasks and yields the results in task order."""

    def __init__(self, count: int, pool=None, client=None):
        self.count, self._pool, self._client = count, pool, client

    def map(self, fn: Callable, tasks: Sequence[tuple]) -> Iterator[Any]:
        if self._client is not None:
            futures = self._client.map(_call_on_dask, [_Task(fn, t) for t in tasks], pure=False)
            try:
                for f in futures:
                    yield f.result()
            finally:
                self._client.cancel(futures)
        elif self._pool is not None:
            yield from self._pool.map(_call, [(fn, t) for t in tasks])
        else:
            yield from map(_call, [(fn, t) for t in tasks])


@contextmanager
def workers(count: int = 1, scheduler: Any = None) -> Iterator[Workers]:
    """Workers for a run: ``count`` local processes (1: this process), or a Dask cluster.

    ``scheduler`` is an address (a client is opened and closed here) or a
    ``distributed.Client`` (used and left open); the cluster's worker threads
    are then the count.  Local workers ignore Ctrl-C (the parent alone reports
    it); on leaving, tasks not yet started are cancelled and running ones are let
    finish, so no worker is left behind.
    """
    check_scheduler(scheduler)
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - distributed is a dependency
            raise InputError(f"needs the 'distributed' package ({e})", where="scheduler") from e
        own = isinstance(scheduler, str)
        if own:
            try:
                client = Client(scheduler, timeout="10s", set_as_default=False)
            except (OSError, TimeoutError, ValueError, TypeError) as e:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({e})", where="scheduler") from e
        else:
            client = scheduler
        try:
            threads = sum(client.nthreads().values())
            if threads == 0:
                at = scheduler if isinstance(scheduler, str) else "of this client"
                raise InputError(f"the Dask scheduler {at} has no workers; start some (dask worker ADDRESS) and run "
                                 "again", where="scheduler")
            count = threads
            yield Workers(count, client=client)
        finally:
            if own:
                client.close()
        return
    if count < 1:
        raise InputError("must be at least 1", where="workers")
    if count == 1:
        yield Workers(1)
        return
    pool = ProcessPoolExecutor(max_workers=count, initializer=_signals.quiet_worker)
    try:
        yield Workers(count, pool=pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
