"""Analyses built on the engines and the optimizer: comparing scenarios with common random
numbers, and checking an optimizer's plan against a simulation of it."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .engines import simulate
from .engines._common import seed_sequence
from .errors import InputError
from .optimize import OptimizationResult
from scipy import stats

from .results import RATIOS, SUMMARY_COLUMNS, SimulationResult, describe, _html
from .scenario import Plan, PlanItem, Scenario

__all__ = ["Comparison", "compare", "check_plan", "plan_outcomes", "scenario_labels"]

#: Totals whose paired differences a comparison reports.
KEY_METRICS = ("reads", "unique_reach", "interactions", "clicks", "conversions", "spend")
#: Metrics a verdict judges, and which way is better.
LOWER_IS_BETTER = frozenset({"spend", "cpa", "cpe", "cpv"})


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

    def baseline_index(self, baseline=None) -> int:
        """The position of the baseline: ``None`` (the first), a position, or a label or file."""
        if baseline is None:
            return 0
        if isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
            if 0 <= baseline < len(self.labels):
                return int(baseline)
        elif isinstance(baseline, str):
            for i, (label, r) in enumerate(zip(self.labels, self.results)):
                src = r.scenario.source
                if baseline == label or (src and (baseline == src or Path(baseline).resolve() == Path(src).resolve())):
                    return i
        raise InputError(f"{baseline!r} is none of the scenarios compared; give a label "
                         f"({', '.join(map(repr, self.labels))}) or a scenario file", where="baseline")

    def _others(self, baseline):
        b = self.baseline_index(baseline)
        return b, [(label, r) for i, (label, r) in enumerate(zip(self.labels, self.results)) if i != b]

    def differences(self, baseline=None) -> pd.DataFrame:
        """Paired differences of each scenario against the baseline (default the first), per key metric."""
        rows = []
        b, others = self._others(baseline)
        base = self.results[b]
        metrics = list(KEY_METRICS) + (["profit"] if all(r.has_margin for r in self.results) else [])
        for label, r in others:
            for m in metrics:
                d = describe(r.totals[m].astype(float) - base.totals[m].astype(float))
                rows.append({"scenario": label, "versus": self.labels[b], "metric": m,
                             **{k: d[k] for k in SUMMARY_COLUMNS if k != "kind"}})
        return pd.DataFrame(rows)

    def verdict(self, baseline=None, level: float = 0.95) -> pd.DataFrame:
        """Each scenario against the baseline (default the first), metric by metric.

        One row per scenario and metric: the baseline's mean and the scenario's, the
        difference with its interval, the % change with its interval, ``p_beats``
        (the share of paired replications in which the scenario does better; ties
        count half), which way is better, and ``verdict``: ``better`` or ``worse``
        when the interval of the difference excludes 0, else ``no clear
        difference``.  Totals are means of paired differences; CPA, CPE, CPV and ROI
        are ratios of means, with delta-method intervals over the paired
        replications.  A % change against a baseline at or below 0 is left empty.
        """
        if not (isinstance(level, float) and 0 < level < 1):
            raise InputError(f"must be a share between 0 and 1, e.g. 0.95 (got {level!r})", where="level")
        b, others = self._others(baseline)
        base = self.results[b]
        priced = all(r.has_margin for r in self.results)
        metrics = list(KEY_METRICS) + (["revenue", "profit"] if priced else []) + \
            ["cpv", "cpe", "cpa"] + (["roi"] if priced else [])
        t = float(stats.t.ppf(0.5 + level / 2, max(1, base.runs - 1)))
        rows = []
        for label, r in others:
            for m in metrics:
                rows.append({"scenario": label, "versus": self.labels[b], "metric": m,
                             **_paired(base, r, m, t)})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """All replications of all scenarios, with a ``scenario`` column."""
        frames = []
        for label, r in zip(self.labels, self.results):
            f = r.to_frame()
            f.insert(0, "scenario", label)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)


def _paired(a: SimulationResult, b: SimulationResult, metric: str, t: float) -> dict:
    """The verdict's figures for one metric of ``b`` against ``a``, on paired replications."""
    lower = metric in LOWER_IS_BETTER
    if metric in RATIOS:
        num, den = RATIOS[metric][:2]
        na, da = a.totals[num].astype(float), a.totals[den].astype(float)
        nb, db = b.totals[num].astype(float), b.totals[den].astype(float)
        if da.mean() <= 0 or db.mean() <= 0:
            return {"better_when": "lower" if lower else "higher", "verdict": "undefined (no " + den + ")"}
        ma, mb = na.mean() / da.mean(), nb.mean() / db.mean()
        ia, ib = (na - ma * da) / da.mean(), (nb - mb * db) / db.mean()  # influence of each replication
        with np.errstate(divide="ignore", invalid="ignore"):
            xa, xb = na / da, nb / db
        xa[(da == 0) & (na > 0)], xb[(db == 0) & (nb > 0)] = np.inf, np.inf
    else:
        xa, xb = a.totals[metric].astype(float), b.totals[metric].astype(float)
        ma, mb = xa.mean(), xb.mean()
        ia, ib = xa - ma, xb - mb
    n = len(ia)
    diff = mb - ma
    se = float((ib - ia).std(ddof=1) / math.sqrt(n))
    if ma > 0:
        q = mb / ma
        se_q = float((ib / ma - q * ia / ma).std(ddof=1) / math.sqrt(n))
        pct, pct_lo, pct_hi = q - 1, q - 1 - t * se_q, q - 1 + t * se_q
    else:
        pct = pct_lo = pct_hi = math.nan
    ok = ~(np.isnan(xa) | np.isnan(xb))
    wins = (xb[ok] < xa[ok]) if lower else (xb[ok] > xa[ok])
    ties = xb[ok] == xa[ok]
    p_beats = float((wins.sum() + 0.5 * ties.sum()) / ok.sum()) if ok.any() else math.nan
    lo, hi = diff - t * se, diff + t * se
    good = (hi < 0) if lower else (lo > 0)
    bad = (lo > 0) if lower else (hi < 0)
    return {"better_when": "lower" if lower else "higher", "mean_baseline": float(ma), "mean": float(mb),
            "difference": float(diff), "ci_low": float(lo), "ci_high": float(hi), "pct_change": float(pct),
            "pct_ci_low": float(pct_lo), "pct_ci_high": float(pct_hi), "p_beats": p_beats,
            "verdict": "better" if good else "worse" if bad else "no clear difference"}


def scenario_labels(scenarios: Sequence[Scenario]) -> tuple[str, ...]:
    """How a comparison labels its scenarios: their names, else their file names, else "name (i)"."""
    names = [s.name for s in scenarios]
    if len(set(names)) == len(names):
        return tuple(names)
    stems = [Path(s.source).stem if s.source else s.name for s in scenarios]
    if len(set(stems)) == len(stems):
        return tuple(stems)
    return tuple(f"{n} ({i + 1})" for i, n in enumerate(names))


def compare(scenarios: Sequence[Scenario], *, runs: int | None = None, rng=None,
            workers: int = 1, engine: str = "montecarlo", scheduler=None,
            progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Simulate several scenarios with common random numbers.

    Every scenario is run with the same seed and the same number of
    replications (by default the first scenario's ``[simulation]`` settings);
    stopping rules are not used, so replications stay paired.  ``engine``
    is ``"montecarlo"`` or ``"des"``; ``workers`` and ``scheduler`` are
    those of :func:`kolsim.simulate`; ``progress(done, total)`` is called after
    each scenario.  :meth:`Comparison.verdict` judges each against a baseline.

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
    results = []
    for s in scenarios:
        results.append(simulate(s, runs=runs, rng=ss, workers=workers, target_half_width=0, engine=engine,
                                scheduler=scheduler))
        if progress is not None:
            progress(len(results), len(scenarios))
    results = tuple(results)
    return Comparison(results=results, labels=scenario_labels(scenarios))


def plan_outcomes(scenario: Scenario, pool, problem, plan: pd.DataFrame, *, runs: int, rng):
    """A plan (kol_id, week, posts) simulated by Monte Carlo: ``(x, result, metric)``, with ``x``
    the optimizer's objective per replication, counted as the optimizer counts it (the buyers its
    notes persuade, on and off RED; for profit, without buyers' notes, imitation and repeat orders).
    Plans simulated with the same ``rng`` share their random numbers."""
    p = problem
    items = tuple(PlanItem(kol_id=str(r.kol_id), week=int(r.week), posts=int(r.posts)) for r in plan.itertuples())
    sizes = dict(zip(p.segment_names, p.segment_sizes))
    sc = replace(scenario, waves=(), plan=Plan(pool=pool, items=items), segments=sizes)
    sim = simulate(sc, runs=runs, rng=rng, target_half_width=0)
    metric = {"conversions": "conversions_campaign+conversions_offsite", "profit": "profit",
              "reach": "unique_reach" if p.saturating else "reads",
              "interactions": "interactions"}[p.objective]
    x = sum(sim.totals[m].astype(float) for m in metric.split("+"))
    if p.objective == "profit":
        later = sim.totals["conversions_ugc"] + sim.totals["conversions_wom"]
        x = x - (scenario.campaign.price * scenario.campaign.margin) * (later + sim.totals["repeat_orders"])
    return x, sim, metric


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
    scenario = result.scenario
    x, sim, metric = plan_outcomes(result.scenario, result.pool, result.problem, result.plan, runs=runs,
                                   rng=rng if rng is not None else scenario.simulation.seed)
    later = sim.totals["conversions_ugc"] + sim.totals["conversions_wom"]
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    diff = mean - result.objective
    p10, p50, p90 = (float(v) for v in np.quantile(x, [0.1, 0.5, 0.9]))
    checked = {"metric": metric, "runs": int(x.size), "seed": sim.provenance["seed"], "simulated_mean": mean,
               "standard_error": se, "p10": p10, "p50": p50, "p90": p90, "optimizer_expectation": result.objective, "difference": diff,
               "relative_difference": diff / result.objective if result.objective else None,
               "z": diff / se if se > 0 else None,
               "word_of_mouth_conversions": float(later.mean()),
               "repeat_orders": float(sim.totals["repeat_orders"].mean())}
    return replace(result, simulated=checked)
