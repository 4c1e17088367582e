"""Analyses built on the engines and the optimizer: comparing scenarios with common random
numbers, and checking an optimizer's plan against a simulation of it."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .engines import simulate
from .engines._common import seed_sequence
from .errors import InputError
from .optimize import OptimizationResult
from .results import SUMMARY_COLUMNS, SimulationResult, describe, _html
from .scenario import Plan, PlanItem, Scenario

__all__ = ["Comparison", "compare", "check_plan"]

#: Totals whose paired differences a comparison reports.
KEY_METRICS = ("reads", "unique_reach", "interactions", "clicks", "conversions", "spend")


@dataclass(frozen=True, eq=False)
class Comparison:
    """Simulations of several scenarios on the same random streams.

    Replication i of every scenario uses stream i, so per-replication
    differences are paired and their intervals are much narrower than those of
    independent runs.
    """

    results: tuple[SimulationResult, ...]
    labels: tuple[str, ...]

    def __repr__(self) -> str:
        runs = self.results[0].runs if self.results else 0
        return f"Comparison({len(self.results)} scenarios: {', '.join(map(repr, self.labels))}; {runs:,} paired runs)"

    def _repr_html_(self) -> str:
        d = self.differences()
        return _html(repr(self), d if len(d) else self.summary())

    def summary(self) -> pd.DataFrame:
        """Long table: one row per scenario and metric."""
        frames = []
        for label, r in zip(self.labels, self.results):
            s = r.summary().reset_index()
            s.insert(0, "scenario", label)
            frames.append(s)
        return pd.concat(frames, ignore_index=True)

    def differences(self) -> pd.DataFrame:
        """Paired differences of each scenario against the first, per key metric."""
        rows = []
        base = self.results[0]
        metrics = list(KEY_METRICS) + (["profit"] if all(r.has_margin for r in self.results) else [])
        for label, r in zip(self.labels[1:], self.results[1:]):
            for m in metrics:
                d = describe(r.totals[m].astype(float) - base.totals[m].astype(float))
                rows.append({"scenario": label, "versus": self.labels[0], "metric": m,
                             **{k: d[k] for k in SUMMARY_COLUMNS if k != "kind"}})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """All replications of all scenarios, with a ``scenario`` column."""
        frames = []
        for label, r in zip(self.labels, self.results):
            f = r.to_frame()
            f.insert(0, "scenario", label)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)


def _labels(scenarios: Sequence[Scenario]) -> tuple[str, ...]:
    names = [s.name for s in scenarios]
    if len(set(names)) == len(names):
        return tuple(names)
    stems = [Path(s.source).stem if s.source else s.name for s in scenarios]
    if len(set(stems)) == len(stems):
        return tuple(stems)
    return tuple(f"{n} ({i + 1})" for i, n in enumerate(names))


def compare(scenarios: Sequence[Scenario], *, runs: int | None = None, rng=None,
            workers: int = 1, engine: str = "montecarlo") -> Comparison:
    """Simulate several scenarios with common random numbers.

    Every scenario is run with the same seed and the same number of
    replications (by default the first scenario's ``[simulation]`` settings);
    stopping rules are not used, so replications stay paired.  ``engine``
    is ``"montecarlo"`` or ``"des"`` (:func:`kolsim.simulate`).

    Examples
    --------
    >>> import kolsim
    >>> a = kolsim.load_scenario("scenarios/micro_seeding.toml")
    >>> c = kolsim.compare([a, a], runs=256, rng=1)
    >>> float(c.differences().query("metric == 'conversions'")["mean"].iloc[0])
    0.0
    """
    if len(scenarios) < 1:
        raise ValueError("compare needs at least one scenario")
    first = scenarios[0].simulation
    runs = first.runs if runs is None else runs
    ss = seed_sequence(first.seed if rng is None else rng)
    results = tuple(simulate(s, runs=runs, rng=ss, workers=workers, target_half_width=0, engine=engine)
                    for s in scenarios)
    return Comparison(results=results, labels=_labels(scenarios))


def check_plan(result: OptimizationResult, *, runs: int = 2000, rng=None) -> OptimizationResult:
    """Simulate an optimizer's plan by Monte Carlo and compare the mean with the optimizer's expectation.

    Returns the result with ``simulated`` filled in: the metric, the
    simulated mean and its standard error, the optimizer's expectation, the
    difference (absolute, relative and in standard errors), and the buyers
    the optimizer leaves out (those persuaded by buyers' notes or by
    imitation, and repeat orders).  A plan without notes has nothing to
    simulate and is returned as it is.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> r = kolsim.optimize(s, kolsim.load_pool("scenarios/pools/synthetic_300.csv"), marginal=False)
    >>> checked = kolsim.check_plan(r, runs=500, rng=1)
    >>> abs(checked.simulated["z"]) < 4
    True
    """
    if runs < 2:
        raise InputError(f"must be at least 2 (got {runs})", where="runs")
    if result.objective is None or not len(result.plan):
        return result
    scenario, pool, p = result.scenario, result.pool, result.problem
    items = tuple(PlanItem(kol_id=str(r.kol_id), week=int(r.week), posts=int(r.posts))
                  for r in result.plan.itertuples())
    sizes = dict(zip(p.segment_names, p.segment_sizes))
    sc = replace(scenario, waves=(), plan=Plan(pool=pool, items=items), segments=sizes)
    sim = simulate(sc, runs=runs, rng=rng if rng is not None else scenario.simulation.seed)
    metric = {"conversions": "conversions_campaign+conversions_offsite", "profit": "profit",
              "reach": "unique_reach" if p.saturating else "reads",
              "interactions": "interactions"}[p.objective]
    x = sum(sim.totals[m].astype(float) for m in metric.split("+"))
    later = sim.totals["conversions_ugc"] + sim.totals["conversions_wom"]
    if p.objective == "profit":
        # the optimizer counts the buyers its notes persuade (on and off RED); buyers' notes,
        # imitation and repeat orders are reported apart
        x = x - (scenario.campaign.price * scenario.campaign.margin) * (later + sim.totals["repeat_orders"])
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    diff = mean - result.objective
    checked = {"metric": metric, "runs": int(x.size), "seed": sim.provenance["seed"], "simulated_mean": mean,
               "standard_error": se, "optimizer_expectation": result.objective, "difference": diff,
               "relative_difference": diff / result.objective if result.objective else None,
               "z": diff / se if se > 0 else None,
               "word_of_mouth_conversions": float(later.mean()),
               "repeat_orders": float(sim.totals["repeat_orders"].mean())}
    return replace(result, simulated=checked)
