"""The Monte Carlo engine: the model's draws, vectorised over replications and days.

Replications are simulated in blocks of :data:`BLOCK` (1024).  Block b draws
from its own stream, the b-th child of the run's seed sequence, and a block is
always simulated whole; a run of n replications keeps the first n.  So
replication i depends only on the seed and i: results are byte-identical for
any number of worker processes or blocks per task, and 200 runs reproduce the
first 100.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from typing import Callable

import numpy as np

from ..model import DAILY_METRICS, TOTAL_METRICS, PostTable, build_post_table, draw_block
from ..results import SimulationResult
from ..scenario import Scenario
from ._common import provenance, rel_half_width, require_posts, run_settings, seed_sequence, spawn

__all__ = ["simulate", "BLOCK", "seed_sequence"]

#: Replications per random stream (the unit of reproducibility).  Large enough
#: that the day-by-day loop's per-call overhead is small, small enough that a
#: short run wastes little.
BLOCK = 1024


def _run_blocks(table: PostTable, seeds: list[np.random.SeedSequence]) -> list[dict[str, np.ndarray]]:
    return [draw_block(table, np.random.default_rng(s), BLOCK) for s in seeds]


def simulate(scenario: Scenario, *, runs: int | None = None, rng=None, workers: int = 1,
             blocks_per_task: int = 1, target_half_width: float | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Simulate a scenario by Monte Carlo.

    Parameters
    ----------
    scenario : Scenario
    runs : int, optional
        Replications (the most, with a stopping rule); default from the scenario.
    rng : None, int, SeedSequence or Generator, optional
        The source of randomness; default the scenario's seed.
    workers : int
        Worker processes (1 runs in this process).  Results do not depend on it.
    blocks_per_task : int
        Blocks of replications handed to a worker at a time.
    target_half_width : float, optional
        Stop at the first block after which the 95 % interval of mean
        conversions is narrower than this share of the mean.
    progress : callable, optional
        Called as ``progress(done, total)`` replications after each batch.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/micro_seeding.toml")
    >>> a = kolsim.simulate(s, runs=300, rng=7)
    >>> b = kolsim.simulate(s, runs=100, rng=7, workers=1)
    >>> bool((a.totals["conversions"][:100] == b.totals["conversions"]).all())
    True
    """
    runs, target, ss = run_settings(scenario, runs, rng, target_half_width)
    if workers < 1 or blocks_per_task < 1:
        raise ValueError("workers and blocks_per_task must be at least 1")
    table = build_post_table(scenario)
    require_posts(table, scenario)
    n_blocks = math.ceil(runs / BLOCK)

    # exactly `runs` rows; a block's surplus replications are dropped as it is stored
    totals: dict[str, np.ndarray] = {}
    daily: dict[str, np.ndarray] = {}

    def store(b: int, out: dict[str, np.ndarray]) -> None:
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, runs)
        for k in TOTAL_METRICS:
            if k not in totals:
                totals[k] = np.empty(runs, dtype=out[k].dtype)
            totals[k][lo:hi] = out[k][: hi - lo]
        for k in DAILY_METRICS:
            arr = out[f"daily_{k}"]
            if k not in daily:
                daily[k] = np.empty((runs, table.horizon), dtype=arr.dtype)
            daily[k][lo:hi] = arr[: hi - lo]

    children = spawn(ss, n_blocks)
    per_round = workers * blocks_per_task if target else n_blocks
    done = 0
    stop_at = n_blocks
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        while done < stop_at:
            batch = list(range(done, min(done + per_round, n_blocks)))
            tasks = [batch[i:i + blocks_per_task] for i in range(0, len(batch), blocks_per_task)]
            seeds = [[children[b] for b in t] for t in tasks]
            # results are stored as they arrive (in order), never all held at once
            outs = (map(_run_blocks, [table] * len(tasks), seeds) if pool is None
                    else pool.map(_run_blocks, [table] * len(tasks), seeds))
            for t, res in zip(tasks, outs):
                for b, out in zip(t, res):
                    store(b, out)
            if target:
                # the first block, in order, after which the rule holds
                for b in batch:
                    n = min((b + 1) * BLOCK, runs)
                    if rel_half_width(totals["conversions"][:n]) <= target:
                        stop_at = b + 1
                        break
            done = batch[-1] + 1
            if progress is not None:
                progress(min(done * BLOCK, runs), runs)
    finally:
        if pool is not None:
            pool.shutdown()

    n = min(stop_at * BLOCK, runs)
    if n < runs:  # stopped early: keep the replications drawn
        totals = {k: v[:n].copy() for k, v in totals.items()}
        daily = {k: v[:n].copy() for k, v in daily.items()}
    prov = provenance(scenario, ss, runs=n, requested=runs, target=target, engine="montecarlo",
                      settings={"block_size": BLOCK})
    return SimulationResult(scenario=scenario, table=table, totals=totals, daily=daily,
                            engine="montecarlo", provenance=prov)
