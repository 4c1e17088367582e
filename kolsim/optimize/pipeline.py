"""The optimizer's pipeline, step by step (as scipy's ``milp``).

validate the request -> build the problem -> solve -> translate the status ->
verify the plan -> the result, then the analyses of the result (the lines it
binds, what ¥1,000 more would buy).  Solver statuses never leave the
backends; an infeasible request is a result with an explanation, and raising
is the caller's choice (:meth:`OptimizationResult.raise_for_status`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace

import pandas as pd

from .._hashing import pool_hash, scenario_hash
from .._version import __version__
from ..errors import InputError
from ..pool import Pool
from ..scenario import Optimize, Scenario
from .backends import BACKENDS, GAP_TOLERANCE, RawSolution, pulp_solver, pulp_takes_start, relative_gap, solve_highs
from .binding import binding
from .diagnose import Conflict, diagnose
from .formulation import build_milp, settle_saturation
from .marginal import marginal_budget
from .problem import EXCLUSIONS, Problem, build_problem
from .quick import solve_pulp_started
from .reduce import solve_reduced
from .result import PLAN_COLUMNS, OptimizationResult, Status, plan_frame
from .verify import VerificationError, plan_vector, verify

__all__ = ["optimize", "evaluate_plan"]


@dataclass(frozen=True)
class _Request:
    """The solver settings of a request, checked."""

    backend: str
    solver: str | None
    time_limit: float
    gap: float
    reduce: bool


def _validate(backend: str, solver: str | None, time_limit, gap, settings, reduce: bool) -> _Request:
    """Step 1: the arguments, in the library's words (the CLI names its flags)."""
    import math

    if backend not in BACKENDS:
        raise InputError(f"must be one of {', '.join(BACKENDS)} (got {backend!r})", where="backend")
    if solver is not None and not str(solver).strip():
        raise InputError("must name a solver (got an empty name)", where="solver")
    if backend == "pulp":
        pulp_solver(solver or "PULP_CBC_CMD")  # an unknown solver is refused before anything else
    elif solver is not None:
        raise InputError(f"{solver!r} is for the pulp backend; the highs backend solves with HiGHS",
                         where="solver")
    time_limit = float(time_limit if time_limit is not None else settings.time_limit)
    gap = float(gap if gap is not None else settings.gap)
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise InputError(f"must be a number of seconds > 0 (got {time_limit:g})", where="time_limit")
    if not 0 <= gap < 1:
        raise InputError(f"must be from 0 to below 1 (got {gap:g})", where="gap")
    return _Request(backend, solver, time_limit, gap, reduce)


def _build(scenario: Scenario, pool: Pool, objective: str | None, bought: pd.DataFrame | None = None) -> Problem:
    """Step 2: the request as arrays; a pool with no candidate left says why, in codes' words."""
    p = build_problem(scenario, pool, objective=objective, bought=bought)
    if p.n == 0:
        counts = Counter(code for codes in p.excluded["codes"] for code in codes.split(";"))
        why = "; ".join(f"{n} because {EXCLUSIONS[code]}" for code, n in counts.most_common())
        raise InputError(f"no candidate can be hired: all {len(p.excluded):,} creators of the pool are "
                         f"excluded ({why}); excluded.csv of `kolsim optimize --out` and `kolsim pool vet` "
                         "list them", file=pool.source)
    return p


def _solve(p: Problem, req: _Request, time_limit: float, start=None):
    """Step 3: the search; returns ``(raw, milp, build_seconds, sizes)``."""
    t0 = time.perf_counter()
    if req.backend == "highs" and req.reduce:
        return solve_reduced(p, time_limit=time_limit, gap=req.gap, start=start)
    m = build_milp(p)
    build_s = time.perf_counter() - t0
    sizes = {"columns": m.n_cols, "rows": int(m.A.shape[0]), "nonzeros": int(m.A.nnz), "candidates": p.n}
    x0 = None
    if start is not None:
        x0, sizes["start"] = plan_vector(p, m, start)
        if x0 is not None and req.backend == "pulp" and not pulp_takes_start(req.solver):
            x0, sizes["start"] = None, f"not used: PuLP's {req.solver} takes no warm start here"
    if req.backend == "highs":
        raw = solve_highs(m, time_limit=time_limit, gap=req.gap, start=x0)
    else:
        raw = solve_pulp_started(m, time_limit=time_limit, gap=req.gap, solver=req.solver, start=x0)
    return raw, m, build_s, sizes


def _unmatched_shares(p: Problem, pool: Pool) -> str:
    """Why no plan can meet a minimum share of spend on a category that no candidate is in ("" when
    every such category has candidates)."""
    have = set(map(str, p.category))
    bad = [(c, b.min) for c, b in p.settings.category_share.items() if b.min > 0 and c not in have]
    if not bad:
        return ""
    in_pool = sorted(set(map(str, pool.frame["category"])))
    c, share = bad[0]
    where = "no creator of the pool is in it" if c not in in_pool else \
        "every creator of the pool in it is left out before solving (excluded.csv says why)"
    return (f"category {c}: [optimize.category_share] asks at least {share:.0%} of spend, but {where}; "
            f"the pool's categories are {', '.join(in_pool[:12])}{' …' if len(in_pool) > 12 else ''} (a category "
            f"named differently in the pool, such as 美妆 for beauty, must be mapped to the scenario's name)")


def _no_plan(scenario, pool, p: Problem, req: _Request, raw: RawSolution, status: Status, explanation: str,
             build_seconds: float, sizes: dict, provenance: dict, conflict: Conflict | None = None,
             bound: float | None = None) -> OptimizationResult:
    return OptimizationResult(
        status=status, objective=None, bound=bound, gap=None,
        plan=pd.DataFrame(columns=list(PLAN_COLUMNS)), spend=0.0, backend=req.backend, solver=raw.solver,
        build_seconds=build_seconds, solve_seconds=raw.solve_seconds, first_solution_seconds=None,
        gap_seconds={}, problem=p, approximation_error=p.approximation_error, explanation=explanation,
        conflict=conflict, candidates=p.n, model_size=sizes, provenance=provenance, scenario=scenario, pool=pool)


def _explain_infeasible(scenario, pool, p: Problem, req: _Request, raw: RawSolution) -> tuple[Status, str, Conflict | None]:
    """Step 4 for a request the solver calls infeasible: which of the planner's lines conflict."""
    def rebuild(settings, budget, cadence, pool_min_posts):
        return build_problem(scenario, pool, objective=p.objective, settings=settings, budget=budget,
                             cadence=cadence, pool_min_posts=pool_min_posts, bought=p.bought_plan)

    conflict = diagnose(p, rebuild, time_limit=min(10.0, req.time_limit))
    if conflict.refuted:
        return Status.NO_SOLUTION, f"{conflict.message} ({raw.solver})", None
    notes = "".join(f" {line[len('must include '):]} cannot be hired as things stand: "
                    f"{p.blocked[line[len('must include '):]]}."
                    for line in conflict.lines
                    if line.startswith("must include ") and line[len("must include "):] in p.blocked)
    return Status.INFEASIBLE, conflict.message + notes, conflict


def optimize(scenario: Scenario, pool: Pool, *, objective: str | None = None, backend: str = "highs",
             solver: str | None = None, time_limit: float | None = None, gap: float | None = None,
             marginal: bool = True, reduce: bool = True, start: pd.DataFrame | None = None,
             bought: pd.DataFrame | None = None) -> OptimizationResult:
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
    bought : DataFrame, optional
        Notes already bought (kol_id, week, posts): every plan keeps them, and their
        creators are must-include (incremental planning; see :mod:`kolsim.replan`).

    To check the plan's expected value against a simulation of it, pass the
    result to :func:`kolsim.check_plan`; to export the model, see
    :func:`kolsim.optimize.export.model_bytes`.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> r = kolsim.optimize(s, kolsim.load_pool("scenarios/pools/synthetic_300.csv"), marginal=False)
    >>> r.status, r.spend <= s.campaign.budget
    (<Status.OPTIMAL: 'optimal'>, True)
    """
    t0 = time.perf_counter()
    req = _validate(backend, solver, time_limit, gap, scenario.optimize or Optimize(weeks=1), reduce)
    p = _build(scenario, pool, objective, bought)
    prepare_seconds = time.perf_counter() - t0
    provenance = {"kolsim_version": __version__, "scenario": scenario.source,
                  "scenario_hash": scenario_hash(scenario), "pool": pool.source, "pool_sha256": pool_hash(pool),
                  "backend": req.backend,
                  "solver_name": req.solver or ("highs" if req.backend == "highs" else "PULP_CBC_CMD"),
                  "time_limit": req.time_limit, "gap": req.gap, "objective": p.objective}
    unmatched = _unmatched_shares(p, pool)
    if unmatched:
        # a share of spend on a category no candidate has: only the plan that spends nothing meets
        # it, which is no answer to the request; said in the planner's words, exit 3
        raw0 = RawSolution(status="infeasible", x=None, objective=None, bound=None, solver="none (before solving)",
                           solve_seconds=0.0)
        return _no_plan(scenario, pool, p, req, raw0, Status.INFEASIBLE, unmatched,
                        time.perf_counter() - t0, {"candidates": p.n}, provenance)
    raw, m, formulate_seconds, sizes = _solve(p, req, req.time_limit, start)
    build_seconds = prepare_seconds + formulate_seconds

    def no_plan(status, explanation, conflict=None, bound=None):
        return _no_plan(scenario, pool, p, req, raw, status, explanation, build_seconds, sizes, provenance,
                        conflict, bound)

    if raw.x is None:
        if raw.status == "infeasible":
            status, explanation, conflict = _explain_infeasible(scenario, pool, p, req, raw)
            return no_plan(status, explanation, conflict, raw.bound if conflict else None)
        return no_plan(Status.NO_SOLUTION, f"no plan was found within {req.time_limit:g} s ({raw.message})",
                       bound=raw.bound)
    # step 5: verify, independently of the solver's matrix
    try:
        vp = verify(p, m, settle_saturation(m, p, raw.x), raw.objective)
    except VerificationError as e:  # a solver's wrong answer is reported, never returned as a plan
        return no_plan(Status.NO_SOLUTION, f"no verified plan: {e}")
    bound = raw.bound + 0.0 if raw.bound is not None else None  # + 0.0: a solver's -0.0 is 0
    gap_now = relative_gap(vp.model_value, bound)
    # "optimal" only when the gap recomputed from the verified plan is the one asked for
    status = Status.OPTIMAL if raw.status == "optimal" and gap_now is not None and gap_now <= req.gap + GAP_TOLERANCE \
        else Status.FEASIBLE
    result = OptimizationResult(
        status=status, objective=vp.value, bound=bound, gap=gap_now, plan=plan_frame(p, vp),
        spend=vp.spend_cents / 100, backend=req.backend, solver=raw.solver, build_seconds=build_seconds,
        solve_seconds=raw.solve_seconds, first_solution_seconds=raw.first_solution_seconds,
        gap_seconds=raw.gap_seconds, problem=p, approximation_error=p.approximation_error,
        binding=binding(p, vp), candidates=p.n, model_size=sizes, provenance=provenance,
        model_objective=vp.model_value, scenario=scenario, pool=pool)
    if marginal:
        result = replace(result, marginal_budget=marginal_budget(
            scenario, pool, p, result.objective, result.plan,
            lambda q, limit, plan: _solve(q, req, limit, plan), req.time_limit))
    return result


def evaluate_plan(scenario: Scenario, pool: Pool, plan: pd.DataFrame, *,
                  objective: str | None = None) -> tuple[float | None, str]:
    """The expected objective of a given plan under a request, without solving.

    ``plan`` has columns kol_id, week, posts (``OptimizationResult.plan``).
    Returns ``(value, "fits")`` when the plan meets every rule of the request,
    valued by the verifier as :func:`optimize` values its own plans; else
    ``(None, why)``: the rule it breaks under this request (another budget, a
    creator the request leaves out …).

    Examples
    --------
    >>> import kolsim
    >>> from kolsim.optimize.pipeline import evaluate_plan
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    >>> r = kolsim.optimize(s, pool, marginal=False)
    >>> value, why = evaluate_plan(s, pool, r.plan)
    >>> why, abs(value - r.objective) < 1e-6 * r.objective
    ('fits', True)
    >>> evaluate_plan(s.with_({"campaign.budget": 50_000}), pool, r.plan)[1]
    'budget: spend ¥149,990.00 exceeds ¥50,000.00'
    """
    p = _build(scenario, pool, objective)
    m = build_milp(p)
    x, why = plan_vector(p, m, plan)
    if x is None:
        return None, why.removeprefix("not used: ")
    return float(verify(p, m, x).value), "fits"
