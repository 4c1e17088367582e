"""Risk-aware plans for a planner: the lower tail of the outcome, not only its mean.

:func:`optimize_risk` answers "I would rather be sure of 400 than hope for 500": it maximises
CVaR or a quantile, or the mean under a floor on either, or finds the least spend with
P(outcome >= target) >= p, over S Monte Carlo scenarios of the creators' outcomes (the
sample average programs of :mod:`kolsim.optimize.risk`, solved until the plan's note counts,
which set its notes' noise, are those its scenarios were drawn with).  The plan is then checked out of
sample twice, each on fresh random numbers: on 10,000 new scenarios of the same model (what
the S scenarios' sampling costs) and by the Monte Carlo engine (what the engine says).  The
expected-value optimum is measured beside it on the same random numbers.

:func:`risk_tradeoff` traces the mean against the lower tail: from the expected-value optimum
to the plan with the best tail, the mean-maximising plan at floors in between.
``docs/optimizer.md`` §21–22.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from ._version import __version__
from .analysis import plan_outcomes
from .engines._common import seed_sequence
from .errors import InputError
from .optimize import OptimizationResult, build_problem, optimize
from .optimize.result import plan_frame
from .optimize.risk import RiskSpec, draw_multipliers, parse_risk, scenario_outcomes, solve_risk, tail_measures
from .results import _html
from .scenario import MAX_MONEY, Scenario

__all__ = ["optimize_risk", "RiskResult", "risk_tradeoff", "TradeoffResult", "parse_risk", "RiskSpec"]

#: Fresh scenarios of the out-of-sample check (drawn in blocks, so memory stays small).
CHECK_SCENARIOS = 10_000
_BLOCK = 1_000


def _posts(p, plan: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A plan table as notes (N, W) and hires (N,) of problem ``p``."""
    where = {str(k): i for i, k in enumerate(p.ids)}
    posts = np.zeros((p.n, p.weeks))
    for r in plan.itertuples():
        posts[where[str(r.kol_id)], int(r.week) - 1] += int(r.posts)
    return posts, (posts.sum(axis=1) > 0).astype(float)


def _notes(p, posts: np.ndarray) -> np.ndarray:
    """Per creator, the notes whose viral factors a scenario averages: the plan's, or the
    minimum notes if hired for a creator the plan does not hire."""
    n = posts.sum(axis=1)
    return np.where(n > 0, n, p.min_posts).astype(float)


def _outcomes(scenario, pool, p, plan: pd.DataFrame, size: int, seq) -> np.ndarray:
    """A plan's outcomes on ``size`` scenarios of stream ``seq`` (a SeedSequence: every plan gets
    the same random numbers), its notes' noise at its own note counts."""
    posts, hired = _posts(p, plan)
    a = draw_multipliers(scenario, pool, p, size, np.random.default_rng(seq), notes=_notes(p, posts))
    return scenario_outcomes(p, posts, hired, a)


def _fresh(scenario, pool, p, plans: list[pd.DataFrame], n: int, seq) -> list[np.ndarray]:
    """Each plan's outcomes on the same n fresh scenarios (in blocks, so memory stays small)."""
    blocks = seq.spawn(math.ceil(n / _BLOCK))
    return [np.concatenate([_outcomes(scenario, pool, p, plan, min(_BLOCK, n - i * _BLOCK), b)
                            for i, b in enumerate(blocks)]) for plan in plans]


def _meets(spec: RiskSpec, m: dict) -> bool:
    if spec.mode == "probability":
        return m["probability"] >= math.ceil(spec.probability * m["n"] - 1e-9) / m["n"] - 1e-12
    if spec.mode == "floor":
        return m[spec.measure] >= spec.floor
    return True


def _solve_settled(scenario, pool, p, spec: RiskSpec, S: int, seq, limit: float, gap: float, start):
    """The risk program with each creator's note noise at the plan's own note counts.

    The scenarios' note-level noise depends on how many notes a creator gets (the mean of n
    factors), which the program decides.  So: draw the scenarios with the start plan's counts,
    solve, re-draw the same random numbers with the plan's counts, solve again from it, until the
    counts settle (at most three solves within the time limit).  Among the plans found, the best
    on its own counts is returned: for a floor or a probability, one that meets it."""
    deadline = time.perf_counter() + limit
    counts = _notes(p, _posts(p, start)[0]) if start is not None and len(start) else p.min_posts.astype(float)
    found = []
    settled = False
    for share in (0.5, 0.6, 1.0):
        left = deadline - time.perf_counter()
        if found and left < 2.0:
            break
        a = draw_multipliers(scenario, pool, p, S, np.random.default_rng(seq), notes=counts)
        rs = solve_risk(p, a, spec, time_limit=max(1.0, share * left), gap=gap, start=start)
        if rs.plan is None:
            if not found:
                return rs, a, None
            break
        own = _notes(p, rs.plan.posts)
        same = np.array_equal(own, counts)
        y = scenario_outcomes(p, rs.plan.posts, rs.plan.hired,
                              a if same else draw_multipliers(scenario, pool, p, S, np.random.default_rng(seq), notes=own))
        tail_target = spec.target if spec.mode == "probability" else None
        found.append((rs, same, tail_measures(y, spec.alpha, tail_target)))
        if same:
            settled = True
            break
        counts, start = own, plan_frame(p, rs.plan)

    def score(item):
        rs, _, m = item
        return -rs.plan.spend_cents if spec.mode == "probability" else rs.plan.value if spec.mode == "floor" \
            else m[spec.measure]

    ok = [f for f in found if _meets(spec, f[2])]
    # a settled plan is the program's answer on its own scenarios, with its bound
    rs, same, _ = found[-1] if settled and ok and ok[-1] is found[-1] else max(ok, key=score) if ok else found[-1]
    note = (f"settled after {len(found)} solve(s)" if same else
            f"not settled after {len(found)} solve(s): the plan's note counts differ from those its "
            f"scenarios were drawn with")
    status = rs.status if same else "feasible"
    rs = replace(rs, status=status, sizes={**rs.sizes, "note_counts": note})
    return rs, a, found





@dataclass(frozen=True, eq=False)
class RiskResult:
    """A risk-aware plan, its measures in and out of sample, and the expected-value optimum's.

    Attributes
    ----------
    spec : RiskSpec
    status : str
        ``optimal`` (within the gap asked of the bound), ``feasible``, ``infeasible`` or
        ``no_solution``.
    plan : DataFrame
        kol_id, tier, category, week, posts, cost.
    spend, expected : float
        Contracted RMB, and the plan's expected value in the expected model.
    objective, bound, gap
        The program's objective at the plan (in its tangents; minus the spend for a probability),
        a proven bound on it, and their relative gap.  The bound is about the S scenarios.
    measures : DataFrame
        One row per plan (``risk``, ``expected``: the expected-value optimum) and sample
        (``in_sample``, ``out_of_sample``, ``simulated``) with mean, quantile, cvar,
        probability and their standard errors where simple.
    explanation : str
        Why there is no plan, in the planner's terms.
    comparison : dict
        Out of sample, the risk plan minus the expected-value optimum: ``{"mean" | "quantile" |
        "cvar": {"difference", "se"}}`` on the same fresh scenarios (batch-means standard errors).
    """

    spec: RiskSpec
    status: str
    plan: pd.DataFrame
    spend: float | None
    expected: float | None
    objective: float | None
    bound: float | None
    gap: float | None
    measures: pd.DataFrame
    explanation: str = ""
    comparison: dict = field(default_factory=dict)
    scenarios: int = 0
    seconds: float = 0.0
    sizes: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    expected_result: OptimizationResult | None = None
    problem: object = None
    scenario: Scenario | None = None
    pool: object = None

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

    def summary(self) -> dict:
        """Everything above but the tables, as JSON-ready values."""
        s = self.spec
        return {"risk": {"mode": s.mode, "measure": s.measure, "alpha": s.alpha, "floor": s.floor,
                         "target": s.target, "probability": s.probability, "request": s.words()},
                "status": self.status, "objective_kind": self.problem.objective if self.problem is not None else None,
                "expected": self.expected, "objective": self.objective, "bound": self.bound, "gap": self.gap,
                "spend": self.spend, "scenarios": self.scenarios, "seconds": self.seconds,
                "explanation": self.explanation, "model_size": self.sizes, "comparison": self.comparison,
                "measures": self.measures.to_dict(orient="records"), "provenance": self.provenance}

    def __repr__(self) -> str:
        if not self.has_plan:
            return f"RiskResult({self.status}: {self.spec.words()}; {self.explanation[:120]})"
        return (f"RiskResult({self.status}: {self.spec.words()}; expected {self.expected:,.4g}, "
                f"¥{self.spend:,.0f}, gap {self.gap:.2%})" if self.gap is not None else
                f"RiskResult({self.status}: {self.spec.words()}; expected {self.expected:,.4g})")

    def _repr_html_(self) -> str:
        return _html(repr(self), self.measures)


def _row(plan: str, sample: str, m: dict) -> dict:
    return {"plan": plan, "sample": sample, "n": m["n"], "mean": m["mean"], "mean_se": m["mean_se"],
            "quantile": m["quantile"], "cvar": m["cvar"], "probability": m.get("probability"),
            "probability_se": m.get("probability_se")}


def optimize_risk(scenario: Scenario, pool, risk: str | RiskSpec | None = None, *, target: float | None = None,
                  probability: float | None = None, scenarios: int = 200, runs: int = 2000, rng=None,
                  objective: str | None = None, time_limit: float | None = None, gap: float | None = None,
                  check_scenarios: int = CHECK_SCENARIOS) -> RiskResult:
    """A plan that is good in the lower tail, by sample average approximation.

    Parameters
    ----------
    risk : str or RiskSpec
        ``"cvar:0.1"`` maximises CVaR at 10 % (the mean of the worst tenth), ``"quantile:0.1"``
        the P10; with ``">=FLOOR"`` (``"cvar:0.1>=400"``) the expected value is maximised subject
        to the measure reaching FLOOR.
    target, probability : float
        Instead of ``risk``: the least spend whose plan reaches ``target`` with probability at
        least ``probability`` (a chance constraint). The scenario's budget is not used.
    scenarios : int
        S, the in-sample scenarios (default 200).
    runs : int
        Monte Carlo replications of the out-of-sample check by the engine (0 skips it).
    rng
        Seed (default the scenario's): the in-sample scenarios, the fresh scenarios and the
        engine's check each get their own stream of it.
    time_limit, gap
        For the risk program (default the scenario's time limit, and a 1 % gap: S = 200
        scenarios' sampling error is larger than that).

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    >>> r = kolsim.optimize_risk(s, kolsim.Pool.from_frame(pool.frame.head(40)), "cvar:0.1", scenarios=30,
    ...                          runs=0, time_limit=60, check_scenarios=1000)
    >>> r.has_plan, list(r.measures["sample"].unique())
    (True, ['in_sample', 'out_of_sample'])
    """
    t0 = time.perf_counter()
    if scenario.optimize is None:
        raise InputError("has no [optimize] table: a risk-aware plan optimises its request", file=scenario.source)
    if isinstance(scenarios, bool) or not isinstance(scenarios, (int, np.integer)) or not 10 <= scenarios <= 100_000:
        raise InputError(f"must be a whole number from 10 to 100,000 (got {scenarios!r})", where="scenarios")
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs == 1 or runs < 0:
        raise InputError(f"must be 0 (no check) or at least 2 (got {runs!r})", where="runs")
    if target is not None or probability is not None:
        if risk is not None:
            raise InputError("give either a risk measure or a target with a probability, not both", where="--risk")
        spec = RiskSpec("probability", target=None if target is None else float(target),
                        probability=None if probability is None else float(probability))
    elif risk is None:
        raise InputError("needs a risk measure (cvar:0.1, quantile:0.1>=400 …) or a target with a probability",
                         where="--risk")
    else:
        spec = risk if isinstance(risk, RiskSpec) else parse_risk(risk)
    opt = scenario.optimize
    limit = float(time_limit if time_limit is not None else opt.time_limit)
    gap = float(gap if gap is not None else max(opt.gap, 0.01))
    if not (math.isfinite(limit) and limit > 0):
        raise InputError(f"must be a number of seconds > 0 (got {limit:g})", where="time_limit")
    if not 0 <= gap < 1:
        raise InputError(f"must be from 0 to below 1 (got {gap:g})", where="gap")
    ss = seed_sequence(scenario.simulation.seed if rng is None else rng)
    inner, outer, engine = ss.spawn(3)
    expected = None
    if spec.mode == "probability":
        p = build_problem(scenario, pool, objective=objective, budget=MAX_MONEY)
        budget = float(min(MAX_MONEY, (p.cost * p.upper.sum(axis=1)).sum() + p.fee.sum()))
        p = build_problem(scenario, pool, objective=objective, budget=max(budget, 0.01))
    else:
        expected = optimize(scenario, pool, objective=objective, time_limit=limit, marginal=False)
        p = expected.problem
    provenance = {"kolsim_version": __version__, "scenario": scenario.source, "pool": pool.source,
                  "seed_entropy": str(ss.entropy), "scenarios": int(scenarios), "check_scenarios": int(check_scenarios),
                  "runs": int(runs), "time_limit": limit, "gap": gap}
    empty = pd.DataFrame(columns=["plan", "sample", "n", "mean", "mean_se", "quantile", "cvar", "probability",
                                  "probability_se"])

    def none(status, why, bound=None):
        return RiskResult(spec=spec, status=status, plan=pd.DataFrame(), spend=None, expected=None, objective=None,
                          bound=bound, gap=None, measures=empty, explanation=why, scenarios=int(scenarios),
                          seconds=time.perf_counter() - t0, provenance=provenance, expected_result=expected,
                          problem=p, scenario=scenario, pool=pool)

    if p.n == 0:
        raise InputError(f"no candidate can be hired: all {len(p.excluded):,} creators of the pool are excluded",
                         file=pool.source)
    if expected is not None and not expected.has_plan:
        return none(str(expected.status), f"the request itself has no plan: {expected.explanation}")
    rs, a, _ = _solve_settled(scenario, pool, p, spec, int(scenarios), inner, limit, gap,
                              expected.plan if expected is not None else None)
    if rs.plan is None:
        return none(rs.status, _why_none(scenario, pool, p, a, spec, rs, limit, gap, int(scenarios)), rs.bound)
    plan = plan_frame(p, rs.plan)
    plans = {"risk": plan}
    if expected is not None and len(expected.plan):
        plans["expected"] = expected.plan
    tail_target = spec.target if spec.mode == "probability" else spec.floor if spec.measure == "quantile" else None
    rows = []
    for name, pl in plans.items():
        rows.append(_row(name, "in_sample", tail_measures(_outcomes(scenario, pool, p, pl, int(scenarios), inner),
                                                          spec.alpha, tail_target)))
    comparison = {}
    if check_scenarios:
        fresh = _fresh(scenario, pool, p, list(plans.values()), int(check_scenarios), outer)
        for name, y in zip(plans, fresh):
            rows.append(_row(name, "out_of_sample", tail_measures(y, spec.alpha, tail_target)))
        if len(fresh) == 2:
            comparison = _paired(fresh[0], fresh[1], spec.alpha)
    if runs:
        sim_seed = int(engine.generate_state(1, np.uint64)[0] >> np.uint64(1))
        for name, pl in plans.items():
            if len(pl):
                x, _, _ = plan_outcomes(scenario, pool, p, pl, runs=int(runs), rng=sim_seed)
                rows.append(_row(name, "simulated", tail_measures(x, spec.alpha, tail_target)))
        provenance["simulation_seed"] = sim_seed
    return RiskResult(spec=spec, status=rs.status, plan=plan, spend=rs.plan.spend_cents / 100,
                      expected=float(rs.plan.value), objective=rs.objective, bound=rs.bound, gap=rs.gap,
                      measures=pd.DataFrame(rows), comparison=comparison, scenarios=int(scenarios),
                      seconds=time.perf_counter() - t0,
                      sizes=rs.sizes, provenance={**provenance, "solver": rs.solver}, expected_result=expected,
                      problem=p, scenario=scenario, pool=pool)


def _paired(y_risk: np.ndarray, y_expected: np.ndarray, alpha: float) -> dict:
    """The risk plan minus the expected-value plan on the same fresh scenarios: the mean, the
    quantile and the CVaR at ``alpha``, each with a standard error from batch means over blocks
    of 1,000 scenarios (the tail measures' differences have no simple closed form)."""
    n = len(y_risk) // _BLOCK
    out = {}
    for key in ("mean", "quantile", "cvar"):
        diff = tail_measures(y_risk, alpha)[key] - tail_measures(y_expected, alpha)[key]
        se = None
        if n >= 2:
            blocks = [tail_measures(y_risk[i * _BLOCK:(i + 1) * _BLOCK], alpha)[key]
                      - tail_measures(y_expected[i * _BLOCK:(i + 1) * _BLOCK], alpha)[key] for i in range(n)]
            se = float(np.std(blocks, ddof=1) / math.sqrt(n))
        out[key] = {"difference": float(diff), "se": se}
    return out


def _why_none(scenario, pool, p, a, spec: RiskSpec, rs, limit, gap, S) -> str:
    """Why a risk program has no plan, in the planner's words (with the best the pool reaches)."""
    if rs.status != "infeasible":
        return f"no plan was found within {limit:g} s ({rs.message})"
    name = p.objective
    if spec.mode == "probability":
        need = math.ceil(spec.probability * S - 1e-9)
        best = solve_risk(p, a, RiskSpec("max", "quantile", alpha=max(1e-9, 1 - need / S + 1e-12)),
                          time_limit=limit, gap=gap)
        reach = (f"; with every note it allows, the most any plan reaches in {need} of them is about "
                 f"{best.in_sample['quantile']:,.1f} (bound {best.bound:,.1f})") if best.plan is not None else ""
        return (f"no plan reaches {spec.target:,.6g} {name} in at least {need} of the {S} scenarios "
                f"(P >= {spec.probability:.0%}){reach}")
    best = solve_risk(p, a, RiskSpec("max", spec.measure, spec.alpha), time_limit=limit, gap=gap)
    what = "CVaR" if spec.measure == "cvar" else "quantile"
    reach = (f"; the highest {what} {spec.alpha:.0%} any plan within the budget reaches is about "
             f"{best.in_sample[spec.measure]:,.1f} (bound {best.bound:,.1f})") if best.plan is not None else ""
    return f"no plan within the request's rules has {what} {spec.alpha:.0%} >= {spec.floor:,.6g} {name}{reach}"


# --------------------------------------------------------------------------- #
# the trade-off curve
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class TradeoffResult:
    """The mean against the lower tail: one row per plan (``table``), their plans (``plans``)."""

    table: pd.DataFrame
    plans: pd.DataFrame
    measure: str
    alpha: float
    provenance: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"TradeoffResult({len(self.table)} plans, {self.measure} at {self.alpha:.0%})"

    def _repr_html_(self) -> str:
        return _html(repr(self), self.table)


def risk_tradeoff(scenario: Scenario, pool, *, measure: str = "cvar", alpha: float = 0.1, points: int = 5,
                  scenarios: int = 200, runs: int = 2000, rng=None, objective: str | None = None,
                  time_limit: float | None = None, gap: float | None = None,
                  check_scenarios: int = CHECK_SCENARIOS,
                  progress: Callable[[int, int], None] | None = None) -> TradeoffResult:
    """Plans from the best mean to the best lower tail, and what each gives up.

    The first plan is the expected-value optimum, the last maximises ``measure`` (CVaR or the
    quantile at ``alpha``); in between, the expected value is maximised with the measure at
    evenly spaced floors between the two plans' in-sample values, each solve started from the
    plan of the floor above it.  Every plan is measured on the same in-sample scenarios, the same
    fresh scenarios and the same engine replications (common random numbers), so the
    differences between rows are the plans'.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    >>> few = kolsim.Pool.from_frame(pool.frame.head(40))
    >>> t = kolsim.risk_tradeoff(s, few, points=3, scenarios=30, runs=0, time_limit=60, check_scenarios=1000)
    >>> len(t.table), bool(t.table["in_sample_mean"].iloc[0] >= t.table["in_sample_mean"].iloc[-1] - 1e-6)
    (3, True)
    """
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or not 2 <= points <= 50:
        raise InputError(f"must be a whole number from 2 to 50 (got {points!r})", where="--tradeoff")
    spec_max = RiskSpec("max", measure, alpha)
    ss = seed_sequence(scenario.simulation.seed if rng is None else rng)

    def seeds():  # the same streams for every solve and check of the curve
        return np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key)

    first = optimize_risk(scenario, pool, spec_max, scenarios=scenarios, runs=0, rng=seeds(), objective=objective,
                          time_limit=time_limit, gap=gap, check_scenarios=0)
    if progress is not None:
        progress(1, points)
    if not first.has_plan:
        raise InputError(f"has no plan: {first.explanation}", file=scenario.source, where="[optimize]")
    expected = first.expected_result
    p = first.problem
    inner, outer, engine = seeds().spawn(3)
    ins = first.measures.set_index(["plan", "sample"])
    lo = float(ins.loc[("expected", "in_sample"), measure])
    hi = float(ins.loc[("risk", "in_sample"), measure])
    limit = float(time_limit if time_limit is not None else scenario.optimize.time_limit)
    g = float(gap if gap is not None else max(scenario.optimize.gap, 0.01))
    solved = [("max", hi, first.status, first.gap, first.plan)]
    start = first.plan
    for i, floor in enumerate(np.linspace(hi, lo, points)[1:-1], start=2):  # from the top floor down
        r, _, _ = _solve_settled(scenario, pool, p, RiskSpec("floor", measure, alpha, floor=float(floor)),
                                 int(scenarios), inner, limit, g, start)
        if r.plan is not None:
            start = plan_frame(p, r.plan)
            solved.append(("floor", float(floor), r.status, r.gap, start))
        else:  # a point without a plan stays in the table, said so
            solved.append(("floor", float(floor), r.status, None, None))
        if progress is not None:
            progress(i, points)
    solved.append(("expected", lo, str(expected.status), expected.gap, expected.plan))
    if progress is not None:
        progress(points, points)
    solved = solved[::-1]  # from the best mean to the best tail
    frames = [pl for *_, pl in solved if pl is not None]
    fresh = iter(_fresh(scenario, pool, p, frames, int(check_scenarios), outer)) if check_scenarios else None
    sim_seed = int(engine.generate_state(1, np.uint64)[0] >> np.uint64(1))
    rows, plan_rows = [], []
    for i, (kind, floor, status, gp, pl) in enumerate(solved):
        if pl is None:
            rows.append({"point": i + 1, "kind": kind, "floor": floor, "status": status, "gap": None})
            continue
        m_in = tail_measures(_outcomes(scenario, pool, p, pl, int(scenarios), inner), alpha)
        row = {"point": i + 1, "kind": kind, "floor": floor if kind == "floor" else None, "status": status, "gap": gp,
               "spend": float(pl["cost"].sum()) if len(pl) else 0.0,
               "creators": int(pl["kol_id"].nunique()) if len(pl) else 0,
               "notes": int(pl["posts"].sum()) if len(pl) else 0,
               "in_sample_mean": m_in["mean"], "in_sample_quantile": m_in["quantile"], "in_sample_cvar": m_in["cvar"]}
        if fresh is not None:
            m_out = tail_measures(next(fresh), alpha)
            row.update({"out_of_sample_mean": m_out["mean"], "out_of_sample_quantile": m_out["quantile"],
                        "out_of_sample_cvar": m_out["cvar"]})
        if runs and len(pl):
            x, _, _ = plan_outcomes(scenario, pool, p, pl, runs=int(runs), rng=sim_seed)
            m_sim = tail_measures(x, alpha)
            row.update({"simulated_mean": m_sim["mean"], "simulated_mean_se": m_sim["mean_se"],
                        "simulated_quantile": m_sim["quantile"], "simulated_cvar": m_sim["cvar"]})
        rows.append(row)
        plan_rows.append(pl.assign(point=i + 1))
    return TradeoffResult(table=pd.DataFrame(rows), plans=pd.concat(plan_rows, ignore_index=True),
                          measure=measure, alpha=float(alpha),
                          provenance={"kolsim_version": __version__, "seed_entropy": str(ss.entropy),
                                      "scenarios": int(scenarios), "runs": int(runs), "simulation_seed": sim_seed})
