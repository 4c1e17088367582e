"""Analyses built on the engines: comparing scenarios with common random numbers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .engines import simulate
from .engines.montecarlo import seed_sequence
from .results import SUMMARY_COLUMNS, SimulationResult, describe
from .scenario import Scenario

__all__ = ["Comparison", "compare"]

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
