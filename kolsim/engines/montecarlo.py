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
from typing import Callable

import numpy as np

from ..attribution import CREDIT_METRICS, credit_block
from ..errors import InputError
from ..model import DAILY_METRICS, TOTAL_METRICS, PostTable, build_post_table, draw_block
from ..results import SimulationResult
from ..scenario import Scenario
from ._common import (check_memory, provenance, rel_half_width, require_posts, result_bytes_per_run,
                      run_in_rounds, run_settings, spawn)

__all__ = ["simulate", "BLOCK", "block_bytes"]

#: Replications per random stream (the unit of reproducibility).  Large enough
#: that the day-by-day loop's per-call overhead is small, small enough that a
#: short run wastes little.
BLOCK = 1024


def _run_blocks(table: PostTable, seeds: list[np.random.SeedSequence],
                attribute: bool = False) -> list[dict[str, np.ndarray]]:
    if not attribute:
        return [draw_block(table, np.random.default_rng(s), BLOCK) for s in seeds]
    out = []
    for s in seeds:  # the attribution's paired run draws after the block's own draws
        rng = np.random.default_rng(s)
        res = draw_block(table, rng, BLOCK, keep=True)
        res["credit"] = credit_block(table, res.pop("parts"), rng)
        out.append(res)
    return out


def block_bytes(table: PostTable) -> float:
    """Working memory of one block of :data:`BLOCK` replications, in bytes, as :func:`draw_block`
    allocates it: about five arrays of one value per replication and note (the delivery and viral
    draws, the reads), about ten per replication, day and segment (expected reads and intents, the
    intents drawn and the day-major copies the buyers' step keeps), the note-by-day pressure matrix
    and its weighted copies (four), and the per-segment matrix product's operands."""
    P, H, S = table.n_posts, table.horizon, len(table.segment_names)
    return 8.0 * (BLOCK * (5 * P + 10 * H * S) + 4 * P * H + 3 * P * H)


def simulate(scenario: Scenario, *, runs: int | None = None, rng=None, workers: int = 1,
             blocks_per_task: int = 1, target_half_width: float | None = None,
             progress: Callable[[int, int], None] | None = None, scheduler=None,
             attribute: bool = False) -> SimulationResult:
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
        Ctrl-C stops the run in all of them with one ``KeyboardInterrupt``.
    scheduler : str or distributed.Client, optional
        Run the blocks on a Dask cluster instead (``workers`` is then ignored);
        the results are the same, byte for byte.
    blocks_per_task : int
        Blocks of replications handed to a worker at a time.
    target_half_width : float, optional
        Stop at the first block after which the 95 % interval of mean
        conversions is narrower than this share of the mean.
    progress : callable, optional
        Called as ``progress(done, total)`` replications after each batch.
    attribute : bool
        Also credit every note with its share of each replication's totals
        (:mod:`kolsim.attribution`; the result's ``credit``); the totals are
        the same either way.

    Returns
    -------
    SimulationResult

    Raises
    ------
    InputError
        When the run would not fit in memory (the estimate says by how much; see
        :func:`kolsim.engines._common.check_memory`).

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
        raise InputError("must be at least 1", where="workers" if workers < 1 else "blocks_per_task")
    table = build_post_table(scenario)
    require_posts(table, scenario)
    per_note = 8.0 * len(CREDIT_METRICS) if attribute else 0.0
    check_memory(table, runs, workers, per_process=block_bytes(table) * (2 if attribute else 1),
                 per_run=result_bytes_per_run(table, per_note=per_note),
                 what=f"blocks of {BLOCK:,} replications of {table.n_posts:,} notes")
    n_blocks = math.ceil(runs / BLOCK)

    # exactly `runs` rows; a block's surplus replications are dropped as it is stored
    totals: dict[str, np.ndarray] = {}
    daily: dict[str, np.ndarray] = {}
    credit: dict[str, np.ndarray] = {}

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
        for k, arr in out.get("credit", {}).items():
            if k not in credit:
                credit[k] = np.empty((runs,) + arr.shape[1:])
            credit[k][lo:hi] = arr[: hi - lo]

    children = spawn(ss, n_blocks)
    tasks = [(table, children[i:i + blocks_per_task], attribute) for i in range(0, n_blocks, blocks_per_task)]
    stop_at = n_blocks

    def consume(t: int, res: list[dict[str, np.ndarray]]) -> bool:
        """Store a task's blocks; with a stopping rule, stop at the first block, in order, after which
        it holds."""
        nonlocal stop_at
        for j, out in enumerate(res):
            b = t * blocks_per_task + j
            store(b, out)
            if target and rel_half_width(totals["conversions"][:min((b + 1) * BLOCK, runs)]) <= target:
                stop_at = b + 1
                return True
        return False

    run_in_rounds(_run_blocks, tasks, workers=workers, per_round=workers if target else len(tasks),
                  consume=consume, scheduler=scheduler,
                  progress=None if progress is None else
                  lambda done: progress(min(done * blocks_per_task * BLOCK, runs), runs))

    n = min(stop_at * BLOCK, runs)
    if n < runs:  # stopped early: keep the replications drawn
        totals = {k: v[:n].copy() for k, v in totals.items()}
        daily = {k: v[:n].copy() for k, v in daily.items()}
        credit = {k: v[:n].copy() for k, v in credit.items()}
    prov = provenance(scenario, ss, runs=n, requested=runs, target=target, engine="montecarlo",
                      settings={"block_size": BLOCK})
    return SimulationResult(scenario=scenario, table=table, totals=totals, daily=daily,
                            engine="montecarlo", provenance=prov, credit=credit or None)
