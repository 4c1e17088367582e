"""Sweeps: a scenario simulated at many values of its numeric keys, on common random numbers.

A sweep varies keys given by their documented paths (``tiers.micro.cvr``,
``word_of_mouth.q_per_year``, ``campaign.budget``, ``audience.segments.beauty``,
``waves.launch.posts_per_creator`` …; ``docs/analysis.md``) over a design:

- ``grid``: every combination of the keys' values;
- ``oat``: one key at a time, the others at the scenario's values (the first
  point is the scenario itself), for a tornado;
- ``sobol`` and ``morris``: SALib's designs over the keys' ranges
  (:mod:`kolsim.sensitivity`), with the indices of every metric.

Every point is the scenario with those values set through
:meth:`Scenario.with_`, so it is checked like a file (a bad point is an
:class:`~kolsim.errors.InputError` naming the key and the value, raised before
anything runs).  Every point is simulated with the same seed, so the points
share their random numbers and differences between them are smooth.  The points
run in this process, in local worker processes or on a Dask cluster
(:mod:`kolsim.parallel`); the results are the same, byte for byte.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import parallel, sensitivity
from ._hashing import scenario_hash
from ._version import __version__
from .engines import ENGINES, simulate
from .engines._common import seed_sequence
from .errors import InputError, ScenarioError
from .results import SUMMARY_COLUMNS, _html
from .scenario import MAX_RUNS, Scenario
from .scenario.checks import did_you_mean
from .text import name_key

__all__ = ["Vary", "parse_vary", "sweep", "SweepResult", "METHODS", "MAX_POINTS"]

#: The designs a sweep can take.
METHODS = ("grid", "oat") + sensitivity.METHODS
#: The most points one sweep may have.
MAX_POINTS = 100_000
#: The metrics reported when none are asked for (with a price: revenue; with a margin: profit, ROI).
DEFAULT_METRICS = ("conversions", "reads", "unique_reach", "interactions", "spend", "cpa")
#: Columns of a point's statistics in the tidy table.
STAT_COLUMNS = tuple(c for c in SUMMARY_COLUMNS if c != "kind")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _exact(v: float) -> str:
    """A number as it round-trips (30000, 0.0123456789, 1234567), for provenance and messages."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e16 else repr(float(v))


@dataclass(frozen=True)
class Vary:
    """One key of a sweep and what it takes: a list of ``values`` or a range
    ``low``–``high`` (``points`` of them for a grid; sampled for Sobol and Morris),
    on a log scale if ``log``.  Write one as ``KEY=LO:HI:N``, ``KEY=LO:HI:N:log``,
    ``KEY=LO:HI`` (Sobol, Morris) or ``KEY=a,b,c`` (:func:`parse_vary`)."""

    key: str
    values: tuple[float, ...] | None = None
    low: float | None = None
    high: float | None = None
    points: int | None = None
    log: bool = False

    @property
    def spec(self) -> str:
        """The ``KEY=…`` text of this key, every number as it round-trips."""
        if self.values is not None:
            return f"{self.key}={','.join(map(_exact, self.values))}"
        parts = [_exact(self.low), _exact(self.high)] + ([str(self.points)] if self.points else [])
        return f"{self.key}={':'.join(parts + (['log'] if self.log else []))}"

    def grid(self) -> tuple[float, ...]:
        """The values a grid or one-at-a-time sweep takes, in increasing order."""
        if self.values is not None:
            return tuple(sorted(self.values))
        steps = (np.geomspace if self.log else np.linspace)(self.low, self.high, self.points)
        # 12 significant digits: 0.01:0.04:4 is 0.01, 0.02, 0.03, 0.04, not 0.020000000000000004
        return tuple(float(f"{v:.12g}") for v in steps)


def parse_vary(text: str) -> Vary:
    """A ``--vary`` argument: ``KEY=LO:HI:N[:log]``, ``KEY=LO:HI[:log]`` or ``KEY=a,b,c``.

    Examples
    --------
    >>> parse_vary("tiers.micro.cvr=0.01:0.03:3").grid()
    (0.01, 0.02, 0.03)
    >>> parse_vary("campaign.budget=50000,80000").values
    (50000.0, 80000.0)
    >>> parse_vary("word_of_mouth.q_per_year=0.1:1:3:log").grid()[1]
    0.316...
    """
    where = f"--vary {text}"
    key, eq, spec = str(text).partition("=")
    key, spec = key.strip(), spec.strip()
    if not eq or not key or not spec:
        raise InputError("must be KEY=LO:HI:N, KEY=LO:HI:N:log, KEY=LO:HI (sobol, morris) or KEY=a,b,c, "
                         "e.g. tiers.micro.cvr=0.01:0.03:5", where=where)
    if not re.fullmatch(r"[A-Za-z0-9_.\-#\u00a0-\uffff]+", key) or ".." in key or key.startswith("."):
        raise InputError(f"{key!r} is not a key path such as tiers.micro.cvr", where=where)

    def number(s: str) -> float:
        if not re.fullmatch(_NUMBER, s.strip()):
            raise InputError(f"{s.strip()!r} is not a number", where=where)
        x = float(s)
        if not math.isfinite(x):
            raise InputError(f"{s.strip()!r} is not a finite number", where=where)
        return x

    if ":" not in spec:
        values = tuple(number(s) for s in spec.split(","))
        if len(set(values)) != len(values):
            raise InputError("lists a value twice", where=where)
        return Vary(key=key, values=values)
    parts = [s.strip() for s in spec.split(":")]
    log = parts[-1].lower() == "log"
    if log:
        parts = parts[:-1]
    if len(parts) not in (2, 3):
        raise InputError("a range is LO:HI, LO:HI:N or LO:HI:N:log", where=where)
    low, high = number(parts[0]), number(parts[1])
    if not low < high:
        raise InputError(f"needs LO < HI (got {low:g} and {high:g})", where=where)
    if log and low <= 0:
        raise InputError(f"a log scale needs LO > 0 (got {low:g})", where=where)
    points = None
    if len(parts) == 3:
        if not re.fullmatch(r"\d+", parts[2]) or not 2 <= int(parts[2]) <= MAX_POINTS:
            raise InputError(f"N must be a whole number of points from 2 to {MAX_POINTS:,} (got {parts[2]!r})",
                             where=where)
        points = int(parts[2])
    return Vary(key=key, low=low, high=high, points=points, log=log)


@dataclass(frozen=True)
class _Key:
    """A key resolved on a scenario: the path :meth:`Scenario.with_` takes, and its value there."""

    vary: Vary
    path: str
    base: float
    integer: bool


def _resolve(scenario: Scenario, vary: Vary) -> _Key:
    """Where ``vary.key`` lives in the scenario, by its documented (TOML) path."""
    where = f"--vary {vary.spec}"
    parts = vary.key.split(".")
    if parts[0] in ("simulation", "schema_version", "source", "notices"):
        raise InputError(f"{parts[0]} does not change the campaign (the sweep's own --runs and --seed set how "
                         "each point is simulated)", where=where)
    if parts[:2] == ["audience", "segments"]:
        parts = ["segments"] + parts[2:]
    elif parts == ["audience", "default_size"]:
        parts = ["default_segment_size"]
    if parts[0] == "waves" and len(parts) > 1:
        names = [w.name for w in scenario.waves]
        ref = parts[1].lstrip("#")
        if ref.isdigit() and 1 <= int(ref) <= len(names):
            parts[1] = str(int(ref) - 1)
        elif ref in names:
            parts[1] = str(names.index(ref))
        else:
            raise InputError(f"the scenario has no wave {parts[1]!r}; " + (
                f"waves are named {', '.join(map(repr, names))} or numbered 1 to {len(names)}" if names else
                "it has no [[waves]]"), where=where)
    obj: Any = scenario
    for i, head in enumerate(parts):
        at = ".".join(vary.key.split(".")[:i + 1])
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            names = [f.name for f in dataclasses.fields(obj) if f.name not in ("source", "notices", "TABLE")]
            if head not in names:
                raise InputError(f"{at!r} is not a scenario key; it holds {', '.join(names)}."
                                 f"{did_you_mean(head, names)}", where=where)
            obj = getattr(obj, head)
        elif isinstance(obj, Mapping):
            key = head if head in obj else name_key(head)
            if key not in obj:
                raise InputError(f"{at!r} is not in the scenario; it holds {', '.join(map(str, obj)) or 'nothing'}."
                                 f"{did_you_mean(head, list(obj))}", where=where)
            parts[i] = key
            obj = obj[key]
        elif isinstance(obj, tuple) and head.isdigit() and int(head) < len(obj):
            obj = obj[int(head)]
        else:
            raise InputError(f"{at!r} is not a scenario key", where=where)
    if obj is None:
        raise InputError("is not set in the scenario, so it takes its default; set it in the file to vary it",
                         where=where)
    if dataclasses.is_dataclass(obj) or isinstance(obj, Mapping):
        names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else list(obj)
        raise InputError(f"is a table; name one of its keys ({', '.join(map(str, names))})", where=where)
    if isinstance(obj, bool) or not isinstance(obj, (int, float, np.integer, np.floating)):
        raise InputError(f"is not a numeric key (its value is {obj!r}); only numbers can be varied", where=where)
    return _Key(vary=vary, path=".".join(parts), base=float(obj), integer=isinstance(obj, (int, np.integer)))


def _value(k: _Key, v: float, where: str):
    if k.integer:
        if v != round(v):
            raise InputError(f"{k.vary.key} is a whole number, so every value must be whole (got {v:g}; "
                             "choose LO, HI and N so the steps are whole, or list the values)", where=where)
        return int(round(v))
    return float(v)


def _design(keys: list[_Key], method: str, samples: int, seed: int) -> list[dict[str, float]]:
    """The points: for each, the value of every key."""
    if method in ("grid", "oat"):
        for k in keys:
            if k.vary.values is None and k.vary.points is None:
                raise InputError(f"a {method} sweep needs N points (LO:HI:N) or a list of values",
                                 where=f"--vary {k.vary.spec}")
        if method == "grid":
            n = math.prod(len(k.vary.grid()) for k in keys)
            if n > MAX_POINTS:
                raise InputError(f"the grid has {n:,} points; a sweep takes at most {MAX_POINTS:,}", where="--vary")
            return [dict(zip((k.vary.key for k in keys), combo))
                    for combo in itertools.product(*(k.vary.grid() for k in keys))]
        base = {k.vary.key: k.base for k in keys}
        n = 1 + sum(len(k.vary.grid()) for k in keys)
        if n > MAX_POINTS:
            raise InputError(f"the sweep has {n:,} points; a sweep takes at most {MAX_POINTS:,}", where="--vary")
        return [dict(base)] + [{**base, k.vary.key: v} for k in keys for v in k.vary.grid()]
    factors = []
    for k in keys:
        where = f"--vary {k.vary.spec}"
        if k.vary.values is not None or k.vary.points is not None:
            raise InputError(f"{method} samples a range: give KEY=LO:HI (or LO:HI:log); how many points is "
                             f"--samples", where=where)
        if k.integer:
            raise InputError(f"{method} samples continuous values, and {k.vary.key} is a whole number; vary it "
                             "with --method grid or oat", where=where)
        factors.append(sensitivity.Factor(k.vary.key, k.vary.low, k.vary.high, k.vary.log))
    try:
        x = (sensitivity.sobol_design(factors, samples, seed) if method == "sobol"
             else sensitivity.morris_design(factors, samples, seed))
    except ValueError as e:
        raise InputError(str(e), where="--samples") from e
    if len(x) > MAX_POINTS:
        raise InputError(f"the design has {len(x):,} points; a sweep takes at most {MAX_POINTS:,}", where="--samples")
    return [dict(zip((k.vary.key for k in keys), row)) for row in x.tolist()]


def _point_scenario(base: Scenario, keys: list[_Key], point: Mapping[str, float]) -> Scenario:
    changes = {}
    for k in keys:
        v = point[k.vary.key]
        changes[k.path] = _value(k, v, f"--vary {k.vary.spec}")
    try:
        return base.with_(changes)
    except ScenarioError as e:
        said = ", ".join(f"{k.vary.key}={point[k.vary.key]:g}" for k in keys)
        raise InputError(str(e), where=f"--vary at {said}") from e


def _run_point(scenario: Scenario, runs: int, ss, engine: str, metrics: tuple[str, ...]) -> list[tuple]:
    """One point's statistics, a row per metric (a task: it runs in a worker)."""
    s = simulate(scenario, runs=runs, rng=ss, workers=1, target_half_width=0, engine=engine).summary()
    # a ratio with no denominator at this point (no conversions for CPA) has no row: NaN, and n = 0
    return [tuple(float(s.at[m, c]) for c in STAT_COLUMNS) if m in s.index else
            (0.0,) + (math.nan,) * (len(STAT_COLUMNS) - 1) for m in metrics]


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A sweep's points and outcomes.

    ``design`` has one row per point (``point`` and the value of every key);
    :meth:`to_frame` is the tidy table, one row per point and metric;
    ``indices`` holds Sobol or Morris indices per metric and key (with
    ``noise_share``, the share of the outcome's variance across points that is
    Monte Carlo noise), else ``None``.
    """

    method: str
    keys: tuple[str, ...]
    metrics: tuple[str, ...]
    design: pd.DataFrame
    table: pd.DataFrame
    indices: pd.DataFrame | None
    base: dict[str, float]
    provenance: dict = field(default_factory=dict)
    decisions: pd.DataFrame | None = None
    switches: pd.DataFrame | None = None
    base_plan: pd.DataFrame | None = None

    def __repr__(self) -> str:
        if self.decisions is not None:
            return (f"SweepResult({self.method}: {len(self.design):,} points of {', '.join(self.keys)}, re-optimised; "
                    f"{len(self.switches):,} switch point(s))")
        return (f"SweepResult({self.method}: {len(self.design):,} points of {', '.join(self.keys)}; "
                f"{self.provenance.get('runs', 0):,} runs each; metrics {', '.join(self.metrics)})")

    def _repr_html_(self) -> str:
        if self.decisions is not None:
            return _html(repr(self), self.decisions)
        return _html(repr(self), self.indices if self.indices is not None else self.table)

    def to_frame(self) -> pd.DataFrame:
        """One row per point and metric: the keys' values, then n, mean, se, the 95 % interval
        and P10/P50/P90 over the point's replications."""
        return self.table.copy()

    def metric(self, name: str) -> pd.DataFrame:
        """The rows of one metric, one per point."""
        if name not in self.metrics:
            raise ValueError(f"the sweep has no metric {name!r}; it has {', '.join(self.metrics)}")
        return self.table[self.table["metric"] == name].reset_index(drop=True)


def _metrics(scenario: Scenario, metrics, engine: str) -> tuple[str, ...]:
    """The metrics asked for, checked against what the scenario reports."""
    # the rows a summary can have (a ratio is left out of one whose denominator is 0, so they are
    # added by name: a point may define what the scenario itself does not)
    from .results import RATIOS

    known = list(simulate(scenario, runs=2, rng=0, engine=engine, target_half_width=0).summary().index)
    has_margin = scenario.campaign.price is not None and scenario.campaign.margin is not None
    known += [r for r in RATIOS if r not in known and (r != "roi" or has_margin)]
    if metrics is None:
        extra = [m for m in ("revenue", "profit", "roi") if m in known]
        return tuple(m for m in DEFAULT_METRICS if m in known) + tuple(extra)
    out = []
    for m in ([metrics] if isinstance(metrics, str) else metrics):
        if m not in known:
            why = " (it needs [campaign] price and margin)" if m in ("profit", "roi", "p_profit") else \
                " (it needs [campaign] price)" if m.startswith("revenue") else ""
            raise InputError(f"{m!r} is not a metric of this scenario{why}; it reports {', '.join(known)}."
                             f"{did_you_mean(m, known)}", where="--metric")
        if m not in out:
            out.append(m)
    if not out:
        raise InputError("names no metric", where="--metric")
    return tuple(out)


def sweep(scenario: Scenario, vary: Sequence[str | Vary], *, method: str = "grid", metrics=None,
          runs: int | None = None, samples: int | None = None, rng=None, engine: str = "montecarlo",
          workers: int = 1, scheduler=None, progress: Callable[[int, int], None] | None = None,
          candidates=None, objective: str | None = None, time_limit: float | None = None,
          gap: float | None = None) -> SweepResult:
    """Simulate a scenario at many values of its keys, on common random numbers; or, with
    ``candidates``, re-optimise the plan at each point (decision sensitivity).

    Parameters
    ----------
    scenario : Scenario
    vary : list of str or Vary
        The keys and their values, ``"KEY=LO:HI:N"``, ``"KEY=LO:HI:N:log"``,
        ``"KEY=LO:HI"`` (Sobol, Morris) or ``"KEY=a,b,c"``.
    method : {"grid", "oat", "sobol", "morris"}
    metrics : str or list of str, optional
        Rows of :meth:`SimulationResult.summary` to report (default: conversions,
        reads, unique reach, interactions, spend, CPA, and revenue, profit and
        ROI when the scenario has a price and margin).
    runs : int, optional
        Replications per point (default: the scenario's).
    samples : int, optional
        Sobol: base samples, a power of 2 (default 64; ``samples (d + 2)``
        points); Morris: trajectories (default 10; ``samples (d + 1)`` points).
    rng : None, int, SeedSequence or Generator
        The seed every point shares (default: the scenario's).
    engine : {"montecarlo", "des"}
    workers : int
        Local worker processes; results do not depend on it.
    scheduler : str or distributed.Client, optional
        Run the points on a Dask cluster instead; the same results.
    progress : callable, optional
        Called as ``progress(points done, points)``.
    candidates : Pool, optional
        Decision sensitivity (grid and oat): the scenario's ``[optimize]``
        request is solved at its own values (the base plan) and at every point,
        each point started from its neighbour's plan; ``decisions`` then holds,
        per point, the optimum, the plan's distance from the base plan
        (creators in and out), whether the portfolio changed from the
        neighbour, and the regret of keeping the base plan (the point's optimum
        minus the base plan's value under the point's assumptions);
        ``switches`` lists where the portfolio changes.  Nothing is simulated.
    objective, time_limit, gap
        Passed to :func:`kolsim.optimize` for each re-solve.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/micro_seeding.toml")
    >>> r = kolsim.sweep(s, ["tiers.micro.cvr=0.01,0.02"], metrics="conversions", runs=200, rng=1)
    >>> r.design["tiers.micro.cvr"].tolist()
    [0.01, 0.02]
    >>> m = r.metric("conversions")["mean"]
    >>> bool(m[1] > 1.5 * m[0])
    True
    """
    if method not in METHODS:
        raise InputError(f"must be one of {', '.join(METHODS)} (got {method!r})", where="--method")
    if engine not in ENGINES:
        raise InputError(f"must be one of {', '.join(ENGINES)} (got {engine!r})", where="--engine")
    varies = [v if isinstance(v, Vary) else parse_vary(v) for v in ([vary] if isinstance(vary, (str, Vary)) else vary)]
    if not varies:
        raise InputError("needs at least one key to vary", where="--vary")
    keys = [_resolve(scenario, v) for v in varies]
    if candidates is None:
        for k in keys:
            if k.path.startswith("optimize."):
                raise InputError("is a key of the [optimize] request, which a simulated sweep does not use; "
                                 "add --optimize --candidates POOL to re-optimise at each point",
                                 where=f"--vary {k.vary.spec}")
    seen: dict[str, str] = {}
    for k in keys:
        if k.path in seen:
            raise InputError(f"varies the same key as --vary {seen[k.path]}", where=f"--vary {k.vary.spec}")
        seen[k.path] = k.vary.spec
    runs_given, seed_given = runs is not None, rng is not None
    runs = scenario.simulation.runs if runs is None else runs
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or not 2 <= runs <= MAX_RUNS:
        raise InputError(f"must be a whole number from 2 to {MAX_RUNS:,} (got {runs!r})", where="--runs")
    if samples is None:
        samples = 64 if method == "sobol" else 10
    elif method in ("grid", "oat"):
        raise InputError(f"sets the size of a sobol or morris design; a {method} sweep's points are its "
                         "values", where="--samples")
    ss = seed_sequence(scenario.simulation.seed if rng is None else rng)
    design_seed = int(ss.generate_state(1, np.uint32)[0])
    if candidates is not None:
        if method not in ("grid", "oat"):
            raise InputError(f"re-optimises along a grid or one key at a time; {method} is for simulated "
                             "outcomes (use --method grid or oat)", where="--optimize")
        if workers != 1 or scheduler is not None:
            raise InputError("re-solves run in order, each started from its neighbour's plan; give no --workers "
                             "or --scheduler with --optimize", where="--optimize")
        for flag, given in (("--metric", metrics is not None), ("--runs", runs_given),
                            ("--engine", engine != "montecarlo"), ("--seed", seed_given)):
            if given:
                raise InputError("is for simulated sweeps; --optimize re-solves the request at each point and "
                                 "simulates nothing", where=flag)
        if scenario.optimize is None:
            raise InputError("has no [optimize] table, so there is no plan to re-optimise", file=scenario.source)
    points = _design(keys, method, samples, design_seed)
    # every key's values alone first, so that a bad value is named by itself; then every point
    for k in keys:
        for v in sorted({p[k.vary.key] for p in points}):
            _point_scenario(scenario, [k], {k.vary.key: v})
    scenarios = [_point_scenario(scenario, keys, p) for p in points]
    if candidates is not None:
        return _decisions(scenario, keys, method, points, scenarios, candidates, objective, time_limit, gap,
                          progress)
    metric_names = _metrics(scenario, metrics, engine)
    tasks = [(s, int(runs), ss, engine, metric_names) for s in scenarios]
    rows: list[list[tuple]] = []
    with parallel.workers(workers, scheduler) as pool:
        for res in pool.map(_run_point, tasks):
            rows.append(res)
            if progress is not None:
                progress(len(rows), len(tasks))
    names = [k.vary.key for k in keys]
    design = _design_frame(keys, method, points)
    records = []
    for i, res in enumerate(rows):
        for m, stats in zip(metric_names, res):
            records.append((i, m) + stats)
    stats = pd.DataFrame(records, columns=["point", "metric"] + list(STAT_COLUMNS))
    stats["n"] = stats["n"].astype(int)
    table = design.merge(stats, on="point", how="right")
    indices = None
    if method in sensitivity.METHODS:
        factors = [sensitivity.Factor(k.vary.key, k.vary.low, k.vary.high, k.vary.log) for k in keys]
        x = design[names].to_numpy(float)
        frames = []
        for m in metric_names:
            sub = table[table["metric"] == m]
            y, se = sub["mean"].to_numpy(), sub["se"].to_numpy()
            if not np.all(np.isfinite(y)):
                continue  # a ratio with a zero denominator somewhere: no indices for it
            ind = (sensitivity.sobol_indices(factors, y, design_seed) if method == "sobol"
                   else sensitivity.morris_indices(factors, x, y, design_seed))
            ind.insert(0, "metric", m)
            ind["noise_share"] = sensitivity.noise_share(y, se)
            frames.append(ind)
        indices = pd.concat(frames, ignore_index=True) if frames else None
    entropy = ss.entropy
    prov = {"kolsim_version": __version__, "scenario": scenario.source, "scenario_hash": scenario_hash(scenario),
            "method": method, "vary": [k.vary.spec for k in keys], "points": len(points), "runs": int(runs),
            "samples": samples if method in sensitivity.METHODS else None, "engine": engine,
            "seed": int(entropy) if isinstance(entropy, (int, np.integer)) else str(entropy),
            "spawn_key": list(ss.spawn_key), "design_seed": design_seed,
            "common_random_numbers": "every point uses the same seed", "numpy_version": np.__version__}
    if method in sensitivity.METHODS:
        from importlib.metadata import version
        prov["salib_version"] = version("SALib")
    return SweepResult(method=method, keys=tuple(names), metrics=metric_names, design=design, table=table,
                       indices=indices, base={k.vary.key: k.base for k in keys}, provenance=prov)


def _varied(keys: list[_Key]) -> list[str]:
    """A one-at-a-time design's ``varied`` column: the scenario itself, then each key's values."""
    return ["(base)"] + [k.vary.key for k in keys for _ in k.vary.grid()]


def _design_frame(keys: list[_Key], method: str, points: list[dict]) -> pd.DataFrame:
    """One row per point: ``point``, (``varied``,) each key's value, whole-number keys as whole numbers."""
    design = pd.DataFrame([{"point": i, **p} for i, p in enumerate(points)], columns=["point"] + [k.vary.key for k in keys])
    for k in keys:
        if k.integer:
            design[k.vary.key] = design[k.vary.key].round().astype(int)
    if method == "oat":
        design.insert(1, "varied", _varied(keys))
    return design


def _creators(plan: pd.DataFrame) -> frozenset:
    return frozenset(map(str, plan["kol_id"])) if plan is not None and len(plan) else frozenset()


def _decisions(scenario, keys, method, points, scenarios, pool, objective, time_limit, gap, progress) -> SweepResult:
    """Decision sensitivity: the optimum at every point, started from its neighbour's plan."""
    from .optimize.pipeline import evaluate_plan, optimize

    def solve(sc, start):
        return optimize(sc, pool, objective=objective, time_limit=time_limit, gap=gap, marginal=False, start=start)

    base = solve(scenario, None)
    if not base.has_plan:
        raise InputError(f"the request at the scenario's own values has no plan ({base.status}: {base.explanation})",
                         file=scenario.source, where="[optimize]")
    base_set = _creators(base.plan)
    names = [k.vary.key for k in keys]
    # each point's neighbour, solved before it: along a one-key line the next lower value; on a grid
    # the point one step back in the last key (at its first value, one step back in the key before);
    # one at a time, the next lower value of the same key, the scenario itself (point 0) among them
    varied = _varied(keys) if method == "oat" else None
    chain: list[tuple[int, int | None]] = []
    into_base: list[int] = []  # oat: the points just below the scenario's own value, one per key
    if method == "oat":
        chain.append((0, None))
        for k in keys:
            mine = [0] + [i for i in range(1, len(points)) if varied[i] == k.vary.key]
            line = sorted(mine, key=lambda i: (points[i][k.vary.key], i != 0))
            chain += [(i, line[j - 1] if j else None) for j, i in enumerate(line) if i != 0]
            into_base += [line[j - 1] for j, i in enumerate(line) if i == 0 and j]
    else:
        # point i's index along each key (the last key fastest); its neighbour steps back in the
        # last key whose index is not 0
        sizes = [len(k.vary.grid()) for k in keys]
        strides = [math.prod(sizes[j + 1:]) for j in range(len(sizes))]
        chain = []
        for i in range(len(points)):
            at = [(i // strides[j]) % sizes[j] for j in range(len(sizes))]
            moved = [j for j in range(len(sizes)) if at[j] > 0]
            chain.append((i, i - strides[moved[-1]] if moved else None))
    plans: dict[int, pd.DataFrame | None] = {}
    rows: dict[int, dict] = {}
    switches = []
    for done, (i, prev) in enumerate(chain, 1):
        pt, sc = points[i], scenarios[i]
        start = plans.get(prev) if prev is not None and plans.get(prev) is not None else base.plan
        r = base if i == 0 and method == "oat" else solve(sc, start)
        plan = r.plan if r.has_plan else None
        plans[i] = plan
        chosen = _creators(plan)
        value, fits = evaluate_plan(sc, pool, base.plan, objective=objective)
        before = _creators(plans[prev]) if prev is not None and plans[prev] is not None else None
        changed = plan is not None and before is not None and chosen != before
        row = {"point": i, **({"varied": varied[i]} if varied else {}), **pt, "neighbour": prev,
               "status": str(r.status), "objective": r.objective, "gap": r.gap, "spend": r.spend if r.has_plan else None,
               "creators": len(chosen) if plan is not None else None,
               "notes": int(plan["posts"].sum()) if plan is not None else None,
               "added": len(chosen - base_set) if plan is not None else None,
               "removed": len(base_set - chosen) if plan is not None else None,
               "changed": bool(changed), "base_plan_value": value, "base_plan": fits}
        row["regret"] = (r.objective - value) if (r.objective is not None and value is not None) else None
        row["regret_share"] = (row["regret"] / r.objective) if row["regret"] is not None and r.objective else None
        rows[i] = row
        if changed:
            switches.append({"from_point": prev, "to_point": i,
                             **{f"{k}_from": points[prev][k] for k in names}, **{f"{k}_to": pt[k] for k in names},
                             "creators_in": " ".join(sorted(chosen - before)),
                             "creators_out": " ".join(sorted(before - chosen))})
        if progress is not None:
            progress(done, len(points))
    for j in into_base:  # the step from just below the scenario's value up to it
        if plans[j] is not None and _creators(plans[j]) != base_set:
            switches.append({"from_point": j, "to_point": 0, **{f"{k}_from": points[j][k] for k in names},
                             **{f"{k}_to": points[0][k] for k in names},
                             "creators_in": " ".join(sorted(base_set - _creators(plans[j]))),
                             "creators_out": " ".join(sorted(_creators(plans[j]) - base_set))})
    switches.sort(key=lambda sw: (sw["to_point"] == 0, sw["from_point"], sw["to_point"]))
    rows = [rows[i] for i in range(len(points))]
    design = _design_frame(keys, method, points)
    decisions = pd.DataFrame(rows)
    for c in ("neighbour", "creators", "notes", "added", "removed"):
        decisions[c] = decisions[c].astype("Int64")
    for k in keys:  # the keys' values as the design holds them (whole numbers as such); same point order
        decisions[k.vary.key] = design[k.vary.key].to_numpy()
    cols = ["from_point", "to_point"] + [f"{k}_{e}" for k in names for e in ("from", "to")] + ["creators_in", "creators_out"]
    prov = {"kolsim_version": __version__, "scenario": scenario.source, "scenario_hash": scenario_hash(scenario),
            "method": method, "vary": [k.vary.spec for k in keys], "points": len(points), "optimize": True,
            "pool": pool.source, "objective": base.problem.objective, "base_objective": base.objective, "base_status": str(base.status),
            "solver": base.solver, "time_limit": base.provenance.get("time_limit"), "gap": base.provenance.get("gap")}
    return SweepResult(method=method, keys=tuple(names), metrics=("objective",), design=design,
                       table=pd.DataFrame(), indices=None, base={k.vary.key: k.base for k in keys},
                       provenance=prov, decisions=decisions, switches=pd.DataFrame(switches, columns=cols),
                       base_plan=base.plan)
