"""Choose creators and their post schedule by integer programming.

The pipeline (as scipy's ``milp``): validate -> build -> solve -> translate
status -> verify -> result.  Solver statuses never leave the backends; an
infeasible request is a result with an explanation, and raising is the
caller's choice (:meth:`OptimizationResult.raise_for_status`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from .._hashing import scenario_hash
from ..errors import InputError, KolsimError
from ..pool import Pool
from ..scenario import Plan, PlanItem, Scenario
from .backends import (BACKENDS, RawSolution, pulp_solver, pulp_takes_start, relative_gap, solve_highs,
                       solve_pulp)
from .diagnose import Conflict, diagnose
from .formulation import Milp, build_milp, settle_saturation
from .problem import Problem, build_problem
from .reduce import solve_reduced
from .verify import VerificationError, VerifiedPlan, plan_vector, verify

__all__ = ["optimize", "OptimizationResult", "InfeasibleError", "Problem", "build_problem"]


class InfeasibleError(KolsimError):
    """The request has no plan (or none was found in time); exit code 3 in the CLI."""


@dataclass(frozen=True, eq=False)
class OptimizationResult:
    """The answer to a planner's request.

    Attributes
    ----------
    status : str
        ``optimal`` (gap within the asked tolerance), ``feasible`` (a verified
        plan with a larger gap, e.g. at the time limit), ``infeasible`` or
        ``no_solution`` (none found in time).
    objective : float or None
        The model's value of the plan (expected conversions, unique reach,
        interactions or profit), with the exact saturation curve.
    bound : float or None
        A proven upper bound on the best plan's value in the solver's model.
    gap : float or None
        (bound - model_objective) / model_objective, the solver's proven gap in
        its own model.  The model overstates saturated value by at most
        ``approximation_error`` of it, so for conversions and reach the gap to
        the exact optimum is at most gap + approximation_error; for profit the
        error applies to the revenue part (revenue / profit times as much).
    model_objective : float or None
        The plan's value in the solver's model (tangent envelope of saturation).
    plan : DataFrame
        kol_id, tier, category, week, posts, cost (RMB), one row per creator-week.
    spend : float
        Contracted RMB (note prices + hiring fees).
    explanation : str
        For an infeasible request: which named constraints conflict and by how much.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    plan: pd.DataFrame
    spend: float
    backend: str
    solver: str
    build_seconds: float
    solve_seconds: float
    first_solution_seconds: float | None
    gap_seconds: dict
    problem: Problem
    approximation_error: float
    binding: tuple[str, ...] = ()
    explanation: str = ""
    conflict: Conflict | None = None
    marginal_budget: dict | None = None
    simulated: dict | None = None
    candidates: int = 0
    model_size: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    model_objective: float | None = None

    def raise_for_status(self) -> "OptimizationResult":
        """Raise :class:`InfeasibleError` unless a verified plan was found."""
        if self.status in ("infeasible", "no_solution"):
            raise InfeasibleError(self.explanation or f"no plan: {self.status}")
        return self

    def to_frame(self) -> pd.DataFrame:
        """The plan: one row per creator and week."""
        return self.plan.copy()

    def summary(self) -> dict[str, Any]:
        """Status, objective, bound, gap, spend, timings, backend and provenance."""
        return {
            "status": self.status, "objective": self.objective, "objective_kind": self.problem.objective,
            "model_objective": self.model_objective,
            "bound": self.bound, "gap": self.gap, "spend": self.spend, "budget": self.problem.budget,
            "creators": int(self.plan["kol_id"].nunique()) if len(self.plan) else 0,
            "notes": int(self.plan["posts"].sum()) if len(self.plan) else 0,
            "build_seconds": self.build_seconds, "solve_seconds": self.solve_seconds,
            "first_solution_seconds": self.first_solution_seconds,
            "seconds_to_gap": {f"{k:g}": v for k, v in sorted(self.gap_seconds.items())},
            "backend": self.backend, "solver": self.solver,
            "approximation_error": self.approximation_error,
            "binding": list(self.binding), "explanation": self.explanation,
            "marginal_budget": self.marginal_budget, "simulated": self.simulated,
            "candidates": self.candidates, "excluded": int(len(self.problem.excluded)),
            "notices": list(self.problem.notices),
            "model_size": self.model_size, "provenance": self.provenance,
        }


#: Columns of a plan (plan.csv).
PLAN_COLUMNS = ("kol_id", "tier", "category", "week", "posts", "cost")


def _plan_frame(p: Problem, vp: VerifiedPlan) -> pd.DataFrame:
    k, w = np.nonzero(vp.posts)
    return pd.DataFrame({
        "kol_id": p.ids[k], "tier": p.tier[k], "category": p.category[k], "week": w + 1,
        "posts": vp.posts[k, w], "cost": vp.posts[k, w] * p.cost_cents[k] / 100
        + np.where(w == np.argmax(vp.posts[k] > 0, axis=1), p.fee_cents[k] / 100, 0.0),
    })


def _binding(p: Problem, vp: VerifiedPlan) -> tuple[str, ...]:
    """Policy lines the plan presses against: no cheaper note, creator or share step fits."""
    o = p.settings
    out = []
    spend = vp.spend_cents / 100
    unused = vp.hired == 0
    room = p.upper.sum(axis=1) > vp.posts.sum(axis=1)
    more = np.where(vp.hired == 1, p.cost, p.fee + o.min_posts_if_hired * p.cost)  # a note, or a new hire
    cheapest = more[room].min(initial=math.inf)
    if p.budget - spend < cheapest:
        out.append(f"budget ¥{p.budget:,.0f} (¥{p.budget - spend:,.0f} left; the cheapest addition costs "
                   f"¥{cheapest:,.0f})")
    per_week = vp.posts.sum(axis=0)
    if o.max_posts_per_week is not None and np.any(per_week >= o.max_posts_per_week):
        weeks = np.flatnonzero(per_week >= o.max_posts_per_week) + 1
        out.append(f"brand cadence of {o.max_posts_per_week} notes a week (full in week(s) "
                   f"{', '.join(map(str, weeks))})")
    for t, r in o.tiers.items():
        n = int(vp.hired[p.tier == t].sum())
        if r.max_creators is not None and n >= r.max_creators:
            out.append(f"tier {t}: at most {r.max_creators} creator{'' if r.max_creators == 1 else 's'}")
        if r.min_creators and n <= r.min_creators and unused[p.tier == t].any():
            out.append(f"tier {t}: at least {r.min_creators} creator{'' if r.min_creators == 1 else 's'}")
    at_cap = (vp.posts.sum(axis=1) > 0) & (vp.posts.sum(axis=1) >= np.minimum(
        p.cap * math.ceil(p.weeks / 4), p.upper.sum(axis=1)))
    if at_cap.any():
        out.append(f"platform rule: {int(at_cap.sum())} hired creator(s) at their sponsored-note cap")
    for wb in o.budget_by_weeks:
        cols = np.array(wb.weeks) - 1
        spent = float((p.cost * vp.posts[:, cols].sum(axis=1)).sum())
        fits = (vp.posts[:, cols] < p.upper[:, cols]).any(axis=1)  # a creator with room for a note there
        if wb.max - spent < p.cost[fits].min(initial=math.inf):
            out.append(f"budget of weeks {', '.join(map(str, wb.weeks))}: ¥{spent:,.0f} of ¥{wb.max:,.0f}")
    spend_each = p.cost * vp.posts.sum(axis=1) + p.fee * vp.hired
    total = spend_each.sum()
    shares = [(f"category {c}", p.category == c, b.min, b.max) for c, b in o.category_share.items()]
    shares += [(f"tier {t}", p.tier == t, r.min_share, r.max_share) for t, r in o.tiers.items()]
    for name, mine, lo, hi in shares:  # within a point of a bound
        s = spend_each[mine].sum()
        if total > 0 and (hi < 1 and s >= (hi - 0.01) * total or lo > 0 and s <= (lo + 0.01) * total):
            out.append(f"{name}: {s / total:.0%} of spend (bounds {lo:.0%}–{hi:.0%})")
    return tuple(out)


def optimize(scenario: Scenario, pool: Pool, *, objective: str | None = None, backend: str = "highs",
             solver: str | None = None, time_limit: float | None = None, gap: float | None = None,
             export: str | None = None, simulate_runs: int = 0, rng=None,
             marginal: bool = True, reduce: bool = True,
             start: pd.DataFrame | None = None) -> OptimizationResult:
    """Choose the creators and weekly notes that maximise the expected outcome.

    Parameters
    ----------
    scenario : Scenario
        Its ``[optimize]`` table is the policy; ``[campaign] budget`` the budget.
    pool : Pool
        The candidates.
    objective : {"conversions", "reach", "interactions", "profit"}, optional
    backend : {"highs", "pulp"}
        HiGHS on the arrays, or PuLP with ``solver`` (CBC by default).
    time_limit, gap : float, optional
        Default from the scenario (60 s, 0.01 %).
    export : str, optional
        Write the model as ``.lp`` or ``.mps`` (through PuLP).
    simulate_runs : int
        When > 0, simulate the plan by Monte Carlo and report its mean against
        the optimizer's expectation (unless the plan has no notes).
    marginal : bool
        Also solve with ¥1,000 more budget and report what it would buy.
    reduce : bool
        With HiGHS, solve large pools through the core-and-bound reduction
        (``docs/optimizer.md``); False solves the whole model at once.
    start : DataFrame, optional
        A plan to start the search from (columns kol_id, week, posts), such as
        ``result.plan`` of an earlier request. It is used only if it meets every
        rule of this request; ``summary()["model_size"]["start"]`` says whether it
        was, and if not, the rule it breaks. The ¥1,000 re-solve starts from the
        plan just found.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> r = kolsim.optimize(s, kolsim.load_pool("scenarios/pools/synthetic_300.csv"), marginal=False)
    >>> r.status, r.spend <= s.campaign.budget
    ('optimal', True)
    """
    if backend not in BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(BACKENDS)} (got {backend!r})")
    if backend == "pulp":
        pulp_solver(solver or "PULP_CBC_CMD")  # an unknown solver is refused before anything is written
    elif solver is not None:
        raise InputError(f"--solver {solver!r} is for --backend pulp; --backend highs solves with HiGHS")
    t0 = time.perf_counter()
    p = build_problem(scenario, pool, objective=objective)
    prepare_seconds = time.perf_counter() - t0
    time_limit = float(time_limit if time_limit is not None else p.settings.time_limit)
    gap = float(gap if gap is not None else p.settings.gap)
    if time_limit <= 0:
        raise InputError(f"the time limit must be > 0 seconds (got {time_limit:g})")
    if not 0 <= gap < 1:
        raise InputError(f"the gap must be from 0 to below 1 (got {gap:g})")
    if simulate_runs == 1 or simulate_runs < 0:
        raise InputError(f"simulate_runs must be 0 (no check) or at least 2 (got {simulate_runs})")
    provenance = {"kolsim_version": __version__, "scenario": scenario.source,
                  "scenario_hash": scenario_hash(scenario), "pool": pool.source,
                  "pool_sha256": _pool_hash(pool),
                  "simulation_seed": (int(rng) if isinstance(rng, (int, np.integer)) else
                                      scenario.simulation.seed) if simulate_runs else None,
                  "backend": backend, "solver_name": solver or ("highs" if backend == "highs" else "PULP_CBC_CMD"),
                  "time_limit": time_limit, "gap": gap, "objective": p.objective}
    if p.n == 0:
        raise InputError("no candidate can be hired: every creator in the pool was excluded "
                         f"({len(p.excluded)} excluded; see `kolsim pool vet`)", file=pool.source)

    raw, m, formulate_seconds, sizes = _solve(p, backend, solver, time_limit, gap, export, reduce, start)
    build_seconds = prepare_seconds + formulate_seconds

    def no_plan(status: str, explanation: str, conflict: Conflict | None = None,
                bound: float | None = None) -> OptimizationResult:
        return OptimizationResult(
            status=status, objective=None, bound=bound, gap=None,
            plan=pd.DataFrame(columns=list(PLAN_COLUMNS)), spend=0.0, backend=backend, solver=raw.solver,
            build_seconds=build_seconds, solve_seconds=raw.solve_seconds, first_solution_seconds=None,
            gap_seconds={}, problem=p, approximation_error=p.approximation_error, explanation=explanation,
            conflict=conflict, candidates=p.n, model_size=sizes, provenance=provenance)

    if raw.x is None:
        if raw.status == "infeasible":
            def rebuild(settings, budget, cadence):
                return build_problem(scenario, pool, objective=p.objective, settings=settings, budget=budget,
                                     cadence=cadence)
            conflict = diagnose(p, rebuild, time_limit=min(10.0, time_limit))
            if conflict.refuted:
                return no_plan("no_solution", f"{conflict.message} ({raw.solver})")
            return no_plan(raw.status, conflict.message + _must_reasons(p, conflict), conflict, raw.bound)
        return no_plan(raw.status, f"no plan was found within {time_limit:g} s ({raw.message})",
                       bound=raw.bound)

    try:
        vp = verify(p, m, settle_saturation(m, p, raw.x), raw.objective)
    except VerificationError as e:  # a solver's wrong answer is reported, never returned as a plan
        return no_plan("no_solution", f"no verified plan: {e}")
    bound = raw.bound + 0.0 if raw.bound is not None else None  # + 0.0: a solver's -0.0 is 0
    gap_now = relative_gap(vp.model_value, bound)
    status = raw.status
    if status == "optimal" and (gap_now is None or gap_now > gap + 1e-7):
        status = "feasible"
    result = OptimizationResult(
        status=status, objective=vp.value, bound=bound, gap=gap_now, plan=_plan_frame(p, vp),
        spend=vp.spend_cents / 100, backend=backend, solver=raw.solver, build_seconds=build_seconds,
        solve_seconds=raw.solve_seconds, first_solution_seconds=raw.first_solution_seconds,
        gap_seconds=raw.gap_seconds, problem=p, approximation_error=p.approximation_error,
        binding=_binding(p, vp), candidates=p.n, model_size=sizes, provenance=provenance,
        model_objective=vp.model_value)
    if marginal:
        result = replace(result, marginal_budget=_marginal(scenario, pool, p, result, backend, solver,
                                                           time_limit, gap, reduce))
    if simulate_runs and len(result.plan):  # a plan without notes has nothing to simulate
        result = replace(result, simulated=compare_with_simulation(scenario, pool, result, simulate_runs, rng))
    return result


def _solve(p: Problem, backend, solver, time_limit, gap, export, reduce, start=None):
    t0 = time.perf_counter()
    if backend == "highs" and reduce and not export:
        return solve_reduced(p, time_limit=time_limit, gap=gap, start=start)
    m = build_milp(p)
    build_s = time.perf_counter() - t0
    sizes = {"columns": m.n_cols, "rows": int(m.A.shape[0]), "nonzeros": int(m.A.nnz), "candidates": p.n}
    x0 = None
    if start is not None:
        x0, sizes["start"] = plan_vector(p, m, start)
        if x0 is not None and backend == "pulp" and not pulp_takes_start(solver):
            x0, sizes["start"] = None, f"not used: PuLP's {solver} takes no warm start here"
    if export:
        _export(m, export)
    if backend == "highs":
        raw = solve_highs(m, time_limit=time_limit, gap=gap, start=x0)
    else:
        raw = solve_pulp(m, time_limit=time_limit, gap=gap, solver=solver, start=x0)
    return raw, m, build_s, sizes


def _pool_hash(pool: Pool) -> str:
    import hashlib
    csv = pool.frame.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(csv.encode()).hexdigest()[:16]


def _export(m: Milp, path: str) -> None:
    """Write the model as LP or MPS (through PuLP), atomically like every output."""
    import os
    import tempfile

    from .. import io
    from .backends import to_pulp

    prob, _ = to_pulp(m)
    with tempfile.TemporaryDirectory() as tmp:
        name = os.path.basename(path)
        scratch = os.path.join(tmp, name)
        (prob.writeMPS if path.lower().endswith(".mps") else prob.writeLP)(scratch)
        data = open(scratch, "rb").read()
    io.write_outputs(os.path.dirname(path) or ".", {os.path.basename(path): data})


def _must_reasons(p: Problem, conflict: Conflict) -> str:
    notes = []
    ex = p.blocked
    for line in conflict.lines:
        if line.startswith("must include "):
            kol = line[len("must include "):]
            if kol in ex:
                notes.append(f" {kol} cannot be hired as things stand: {ex[kol]}.")
    return "".join(notes)


def _marginal(scenario, pool, p, result, backend, solver, time_limit, gap, reduce) -> dict | None:
    """What ¥1,000 more budget would buy (solved again, not read off a dual)."""
    step = 1000.0
    q = build_problem(scenario, pool, objective=p.objective, budget=p.budget + step)
    raw, m, _, _ = _solve(q, backend, solver, min(time_limit, 30.0), gap, None, reduce, start=result.plan)
    if raw.x is None:
        return None
    try:
        vp = verify(q, m, settle_saturation(m, q, raw.x), raw.objective)
    except VerificationError:
        return None
    return {"extra_budget": step, "objective": vp.value, "gain": vp.value - result.objective,
            "status": raw.status}


def compare_with_simulation(scenario: Scenario, pool: Pool, result: OptimizationResult,
                            runs: int, rng=None) -> dict:
    """Simulate the optimizer's plan and compare its expectation with the Monte Carlo mean."""
    from ..engines.montecarlo import simulate

    p = result.problem
    items = tuple(PlanItem(kol_id=str(r.kol_id), week=int(r.week), posts=int(r.posts))
                  for r in result.plan.itertuples())
    sizes = dict(zip(p.segment_names, p.segment_sizes))
    sc = replace(scenario, waves=(), plan=Plan(pool=pool, items=items), segments=sizes)
    sim = simulate(sc, runs=runs, rng=rng if rng is not None else scenario.simulation.seed)
    metric = {"conversions": "conversions_campaign", "profit": "profit",
              "reach": "unique_reach" if p.saturating else "reads",
              "interactions": "interactions"}[p.objective]
    x = sim.totals[metric].astype(float)
    if p.objective == "profit":
        # the optimizer counts campaign buyers only; word of mouth is reported apart
        x = x - (scenario.campaign.price * scenario.campaign.margin) * sim.totals["conversions_wom"]
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    diff = mean - result.objective
    return {"metric": metric, "runs": int(x.size), "simulated_mean": mean, "standard_error": se,
            "optimizer_expectation": result.objective, "difference": diff,
            "relative_difference": diff / result.objective if result.objective else None,
            "z": diff / se if se > 0 else None,
            "word_of_mouth_conversions": float(sim.totals["conversions_wom"].mean())}
