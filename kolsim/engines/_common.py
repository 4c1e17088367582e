"""What both engines share: run settings, seeds, the loop over batches of work, the memory a
run needs, the stopping rule's measure, provenance."""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Sequence

import numpy as np

from .. import parallel
from .._hashing import scenario_hash
from .._version import __version__
from ..errors import InputError
from ..model import DAILY_METRICS, TOTAL_METRICS, PostTable
from ..scenario import Scenario

__all__ = ["seed_sequence", "run_settings", "spawn", "require_posts", "rel_half_width", "provenance",
           "run_in_rounds", "check_memory", "available_memory"]


def seed_sequence(rng) -> np.random.SeedSequence:
    """The seed sequence of a run: from None (fresh entropy), an int, a SeedSequence, or a
    Generator.

    A Generator is drawn from (one 63-bit integer becomes the run's seed), as
    SPEC 7 asks: a generator that has been used gives other results than a
    fresh one, and the same generator state the same results.  The seed drawn
    is recorded in the result's provenance, so the run can be repeated with it.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and not 0 <= int(rng) < 2**63:
            raise InputError(f"must be from 0 to 2^63 - 1 (got {rng})", where="seed")
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise TypeError(f"rng must be None, an int, a SeedSequence or a Generator (got {type(rng).__name__})")


def run_settings(scenario: Scenario, runs, rng, target_half_width) -> tuple[int, float | None,
                                                                           np.random.SeedSequence]:
    """``(runs, target_half_width, seed sequence)``: the arguments, or the scenario's defaults."""
    from ..scenario import MAX_RUNS

    runs = scenario.simulation.runs if runs is None else runs
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or not 2 <= runs <= MAX_RUNS:
        raise InputError(f"must be a whole number from 2 to {MAX_RUNS:,} (got {runs!r})", where="runs")
    target = scenario.simulation.target_half_width if target_half_width is None else target_half_width
    return int(runs), target, seed_sequence(scenario.simulation.seed if rng is None else rng)


def spawn(ss: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``ss``, from a fresh copy, so the same ``ss`` always gives the same."""
    return np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key, pool_size=ss.pool_size).spawn(n)


def require_posts(table: PostTable, scenario: Scenario) -> None:
    """A scenario with only an [optimize] table has nothing to simulate."""
    if table.n_posts == 0:
        raise InputError("has no posts to simulate: it only has an [optimize] table; run "
                         "`kolsim optimize` to choose a plan, or add [[waves]] or a [plan]",
                         file=scenario.source)


def rel_half_width(x: np.ndarray) -> float:
    """Half-width of the 95 % interval of the mean of ``x``, as a share of the mean."""
    m = x.mean()
    if x.size < 2 or m <= 0:
        return math.inf
    return 1.96 * x.std(ddof=1) / math.sqrt(x.size) / m


def run_in_rounds(fn: Callable, tasks: Sequence[tuple], *, workers: int, per_round: int,
                  consume: Callable[[int, Any], bool], progress: Callable[[int], None] | None = None,
                  scheduler: Any = None) -> int:
    """Run ``fn(*task)`` for every task, ``per_round`` tasks at a time, in this process, in
    ``workers`` worker processes or on a Dask ``scheduler`` (:func:`kolsim.parallel.workers`),
    and hand each result to ``consume(index, result)`` in task order; when ``consume`` says
    True (a stopping rule is met), no further round starts.

    Returns the number of tasks consumed.  Results never depend on ``workers`` or the
    backend: the tasks, their order and their seeds are fixed by the caller.
    """
    done = 0
    with parallel.workers(workers, scheduler) as pool:
        while done < len(tasks):
            batch = tasks[done:done + per_round]
            for k, res in enumerate(pool.map(fn, batch)):
                if consume(done + k, res):
                    return done + k + 1
            done += len(batch)
            if progress is not None:
                progress(done)
    return done


def available_memory() -> float:
    """Bytes of memory this process may count on: the system's available memory (Linux's
    MemAvailable), else its physical memory; infinite when neither can be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _gb(x: float) -> str:
    return f"{x / 1e9:,.1f} GB"


def check_memory(table: PostTable, runs: int, workers: int, *, per_process: float, per_run: float,
                 what: str) -> float:
    """Refuse, before it starts, a run that would not fit in memory; return its estimate in bytes.

    ``per_process`` is the working memory of one process (a block of
    replications in flight), ``per_run`` the bytes kept for each replication
    (its totals and daily series).  A run is refused when it would need more
    than 80 % of :func:`available_memory`.
    """
    need = per_process * max(1, workers) + per_run * runs
    have = available_memory()
    if need > 0.8 * have:
        raise InputError(
            f"needs about {_gb(need)} of memory ({runs:,} replications of {table.horizon:,} days keep "
            f"{_gb(per_run * runs)}; {max(1, workers)} process(es) at work on {what} hold "
            f"{_gb(per_process * max(1, workers))}), but about {_gb(have)} is available; use fewer "
            "replications (or [simulation] target_half_width), fewer workers, or fewer notes",
            file=None, where="runs")
    return need


def result_bytes_per_run(table: PostTable, extra_totals: int = 0, per_note: float = 0.0) -> float:
    """Bytes kept per replication: every total, every daily series and per-note records."""
    return 8.0 * (len(TOTAL_METRICS) + extra_totals + len(DAILY_METRICS) * table.horizon) + per_note * table.n_posts


def provenance(scenario: Scenario, ss: np.random.SeedSequence, *, runs: int, requested: int,
               target: float | None, engine: str, settings: dict, versions: dict | None = None) -> dict:
    """What a result records of how it was made."""
    entropy = ss.entropy
    return {
        "kolsim_version": __version__,
        "scenario": scenario.source,
        "scenario_hash": scenario_hash(scenario),
        "seed": int(entropy) if isinstance(entropy, (int, np.integer)) else str(entropy),
        "spawn_key": list(ss.spawn_key),
        "runs": runs,
        "runs_requested": requested,
        "target_half_width": target,
        "engine": engine,
        **settings,
        "numpy_version": np.__version__,
        **(versions or {}),
    }
