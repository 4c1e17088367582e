"""The budget frontier: the optimal plan at each of a range of budgets, and the smallest budget
that reaches a target.

:func:`frontier` solves the scenario's ``[optimize]`` request at each budget in increasing
order, each solve started from the plan of the budget below it (that plan fits every larger
budget, so each optimum is at least the one before); simulates each plan on common random
numbers; and reports the marginal value of ¥1,000 between points and the knee of the curve.

:func:`min_budget` finds the smallest budget whose optimal plan reaches a target in
expectation, by bisection on the budget with the solver's proven bounds: a budget whose bound is
below the target cannot reach it, and a plan that reaches it caps the answer at its spend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ._hashing import scenario_hash
from ._version import __version__
from .analysis import check_plan
from .defaults import TIERS
from .engines._common import seed_sequence
from .errors import InputError
from .optimize import OptimizationResult, build_problem, optimize
from .results import _html
from .scenario import MAX_MONEY, Scenario

__all__ = ["frontier", "FrontierResult", "min_budget", "TargetResult", "parse_budgets"]

#: The most budgets one frontier may have.
MAX_POINTS = 200


def parse_budgets(text: str) -> tuple[float, ...]:
    """``LO:HI:N`` (N budgets from LO to HI) or ``a,b,c``: budgets in RMB, increasing.

    Examples
    --------
    >>> parse_budgets("50000:150000:3")
    (50000.0, 100000.0, 150000.0)
    >>> parse_budgets("60000,90000")
    (60000.0, 90000.0)
    """
    where = "--budgets"
    parts = [p.strip().replace("_", "") for p in str(text).split(":" if ":" in text else ",")]
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"must be LO:HI:N or a list a,b,c of budgets in RMB (got {text!r})", where=where) from None
    if ":" in text:
        if len(nums) != 3 or not float(nums[2]).is_integer() or not 2 <= nums[2] <= MAX_POINTS:
            raise InputError(f"LO:HI:N needs N, a whole number of budgets from 2 to {MAX_POINTS} (got {text!r})",
                             where=where)
        lo, hi, n = nums
        if not lo < hi:
            raise InputError(f"needs LO < HI (got {lo:,.0f} and {hi:,.0f})", where=where)
        nums = [float(f"{v:.12g}") for v in np.linspace(lo, hi, int(n))]
    return _checked_budgets(nums)


def _checked_budgets(nums: Sequence[float]) -> tuple[float, ...]:
    """Budgets above 0, at most MAX_MONEY, increasing, at most MAX_POINTS of them."""
    where = "--budgets"
    for v in nums:
        if not (math.isfinite(v) and 0 < v <= MAX_MONEY):
            raise InputError(f"every budget must be above 0 and at most {MAX_MONEY:,.0f} RMB (got {v:g})", where=where)
    if any(b <= a for a, b in zip(nums, nums[1:])):
        raise InputError(f"budgets must increase (got {', '.join(f'{v:,.0f}' for v in nums)})", where=where)
    if len(nums) > MAX_POINTS:
        raise InputError(f"at most {MAX_POINTS} budgets (got {len(nums)})", where=where)
    return tuple(nums)


def _knee(x: np.ndarray, y: np.ndarray) -> int | None:
    """The point farthest above the chord from the first to the last point, on axes scaled to 0-1
    (Satopää et al.'s Kneedle for a concave increasing curve); None when the curve is straight."""
    if len(x) < 3 or y[-1] <= y[0]:
        return None
    xs, ys = (x - x[0]) / (x[-1] - x[0]), (y - y[0]) / (y[-1] - y[0])
    d = ys - xs
    k = int(np.argmax(d))
    return k if d[k] > 0.02 else None


@dataclass(frozen=True, eq=False)
class FrontierResult:
    """The optimal plan at each budget: ``table()`` (one row per budget: status, proven gap,
    expected outcome, spend, creators and notes, the simulated mean and P10-P90, the marginal value
    per ¥1,000 from the budget below, the tier mix), ``plans`` (each budget's
    :class:`OptimizationResult`) and ``knee`` (the index of the knee, or None)."""

    budgets: tuple[float, ...]
    plans: tuple[OptimizationResult, ...]
    frame: pd.DataFrame
    knee: int | None
    objective: str
    provenance: dict = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        return self.frame.copy()

    def __repr__(self) -> str:
        knee = f"; knee at ¥{self.budgets[self.knee]:,.0f}" if self.knee is not None else ""
        return (f"FrontierResult({len(self.budgets)} budgets ¥{self.budgets[0]:,.0f} to ¥{self.budgets[-1]:,.0f}, "
                f"objective {self.objective}{knee})")

    def _repr_html_(self) -> str:
        return _html(repr(self), self.frame)


def frontier(scenario: Scenario, pool, budgets: Sequence[float] | str, *, runs: int = 2000, rng=None,
             objective: str | None = None, time_limit: float | None = None, gap: float | None = None,
             progress: Callable[[int, int], None] | None = None) -> FrontierResult:
    """The optimal plan at each budget, each solve started from the plan of the budget below.

    Parameters
    ----------
    scenario : Scenario
        With an ``[optimize]`` request; its ``[campaign] budget`` is replaced by each budget.
    pool : Pool
    budgets : list of float, or str
        Increasing budgets in RMB, or ``"LO:HI:N"`` / ``"a,b,c"`` (:func:`parse_budgets`).
    runs : int
        Replications simulating each plan (0: none), on common random numbers (every plan with
        the same seed, ``rng`` or the scenario's).
    objective, time_limit, gap
        As :func:`kolsim.optimize`.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    >>> pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    >>> f = kolsim.frontier(s, pool, [100_000, 150_000], runs=200, rng=1)
    >>> bool(f.table()["objective"].is_monotonic_increasing)
    True
    """
    if isinstance(budgets, str):
        budgets = parse_budgets(budgets)
    budgets = tuple(float(b) for b in budgets)
    if not budgets:
        raise InputError("needs at least one budget", where="--budgets")
    _checked_budgets(budgets)  # the same checks for a list given in Python
    if scenario.optimize is None:
        raise InputError("has no [optimize] table: the frontier re-optimises its request", file=scenario.source)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs == 1 or runs < 0:
        raise InputError(f"must be 0 (no simulation) or at least 2 (got {runs!r})", where="--runs")
    ss = seed_sequence(scenario.simulation.seed if rng is None else rng)
    plans: list[OptimizationResult] = []
    start = None
    for i, b in enumerate(budgets):
        r = optimize(scenario.with_({"campaign.budget": b}), pool, objective=objective, time_limit=time_limit,
                     gap=gap, marginal=False, start=start)
        if runs and r.has_plan and len(r.plan):
            r = check_plan(r, runs=int(runs), rng=ss)
        plans.append(r)
        if r.has_plan:
            start = r.plan
        if progress is not None:
            progress(i + 1, len(budgets))
    rows = []
    prev = None
    for b, r in zip(budgets, plans):
        sim = r.simulated or {}
        row = {"budget": b, "status": str(r.status), "objective": r.objective, "bound": r.bound, "gap": r.gap,
               "spend": r.spend if r.has_plan else None, "creators": int(r.plan["kol_id"].nunique()) if r.has_plan else None,
               "notes": int(r.plan["posts"].sum()) if r.has_plan else None,
               "simulated_mean": sim.get("simulated_mean"), "simulated_se": sim.get("standard_error"),
               "simulated_p10": sim.get("p10"), "simulated_p90": sim.get("p90"),
               "marginal_per_1000": ((r.objective - prev[1]) / (b - prev[0]) * 1000.0)
               if prev is not None and r.objective is not None and prev[1] is not None else None}
        for t in TIERS:
            mine = r.plan[r.plan["tier"] == t] if r.has_plan else r.plan.iloc[0:0]
            row[f"{t}_creators"] = int(mine["kol_id"].nunique())
            row[f"{t}_notes"] = int(mine["posts"].sum())
            row[f"{t}_spend"] = float(mine["cost"].sum())
        rows.append(row)
        prev = (b, r.objective)
    frame = pd.DataFrame(rows)
    ok = frame["objective"].notna().to_numpy()
    knee = None
    if ok.sum() >= 3:
        idx = np.flatnonzero(ok)
        k = _knee(frame["budget"].to_numpy(float)[idx], frame["objective"].to_numpy(float)[idx])
        knee = int(idx[k]) if k is not None else None
    frame["knee"] = [i == knee for i in range(len(frame))]
    first = next((r for r in plans if r.has_plan), plans[0])
    entropy = ss.entropy
    prov = {"kolsim_version": __version__, "scenario": scenario.source, "scenario_hash": scenario_hash(scenario),
            "pool": pool.source, "budgets": list(budgets), "runs": int(runs), "objective": first.problem.objective,
            "seed": int(entropy) if isinstance(entropy, (int, np.integer)) else str(entropy),
            "common_random_numbers": "every plan simulated with the same seed",
            "solver": first.solver, "time_limit": first.provenance.get("time_limit"), "gap": first.provenance.get("gap")}
    return FrontierResult(budgets=budgets, plans=tuple(plans), frame=frame, knee=knee,
                          objective=first.problem.objective, provenance=prov)


@dataclass(frozen=True, eq=False)
class TargetResult:
    """The smallest budget whose optimal plan reaches a target in expectation.

    ``budget`` is the plan's spend (the smallest budget that buys it); ``proof_budget`` the
    largest budget at which the solver proved no plan reaches the target (its bound there is
    ``proof_budget`` < target, or no plan at all fits), so the minimum lies in
    (``proof_budget``, ``budget``]; ``proven`` says that interval is within the tolerance. It is
    not when budgets just below the answer could not be decided: their best plans fall short of
    the target, but only by less than the saturation curve's approximation (the solver's bound is
    for its piecewise-linear curve); ``solves`` lists every step (budget, status, objective, bound).
    """

    target: float
    objective: str
    budget: float | None
    plan: OptimizationResult | None
    proof_budget: float | None
    proof_bound: float | None
    solves: pd.DataFrame
    reachable: bool
    explanation: str = ""
    proven: bool = True

    def __repr__(self) -> str:
        if self.budget is None:
            return f"TargetResult({self.objective} >= {self.target:g}: not reachable; {self.explanation})"
        return (f"TargetResult({self.objective} >= {self.target:g}: ¥{self.budget:,.2f}, "
                f"none at ¥{self.proof_budget:,.2f} or less)" if self.proof_budget is not None else
                f"TargetResult({self.objective} >= {self.target:g}: ¥{self.budget:,.2f})")


def min_budget(scenario: Scenario, pool, target: float, *, objective: str | None = None,
               time_limit: float | None = None, gap: float = 1e-6, tolerance: float | None = None,
               max_budget: float | None = None, progress: Callable[[int, int | None], None] | None = None
               ) -> TargetResult:
    """The smallest budget whose optimal plan's expected ``objective`` reaches ``target``.

    Bisection on the budget between 0 and ``max_budget`` (default: what the whole pool's
    notes cost at the request's caps), each solve started from the last plan that reached the
    target and asked for ``gap``. A budget whose proven bound is below the target cannot reach
    it (the lower end moves up); a plan that reaches it brings the upper end down to its spend.
    It stops when the two are within ``tolerance`` RMB (default 0.1 % of the answer, at least
    ¥1): the answer is then the reaching plan's
    spend; it is proven minimal to within ``tolerance`` when the lower end is a proof
    (``TargetResult.proven``; ``docs/optimizer.md``).

    Raises
    ------
    InputError
        A target that is not a positive finite number.
    """
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not (math.isfinite(target) and target > 0):
        raise InputError(f"must be a number above 0 (got {target!r})", where="--target")
    if scenario.optimize is None:
        raise InputError("has no [optimize] table: the target is met by optimising its request", file=scenario.source)
    solves = []

    def solve(b, start, tighter=None):
        r = optimize(scenario.with_({"campaign.budget": b}), pool, objective=objective, time_limit=time_limit,
                     gap=tighter or gap, marginal=False, start=start)
        solves.append({"budget": b, "status": str(r.status), "objective": r.objective, "bound": r.bound})
        if progress is not None:
            progress(len(solves), None)  # how many a bisection takes is not known in advance
        return r

    if max_budget is None:  # every note the request allows, from every creator it allows
        p = build_problem(scenario, pool, objective=objective, budget=MAX_MONEY)
        max_budget = float(min(MAX_MONEY, (p.cost * p.upper.sum(axis=1)).sum() + p.fee.sum()))
    hi_r = solve(max_budget, None)
    name = hi_r.problem.objective
    if not hi_r.has_plan or hi_r.bound is None or hi_r.bound < target:
        best = hi_r.bound if hi_r.bound is not None else hi_r.objective
        why = (f"the most the pool can reach is {best:,.1f} expected {name} (a proven bound, with every note it "
               f"allows, at ¥{max_budget:,.0f})" if best is not None else f"the request has no plan ({hi_r.explanation})")
        return TargetResult(target=target, objective=name, budget=None, plan=None, proof_budget=max_budget,
                            proof_bound=hi_r.bound, solves=pd.DataFrame(solves), reachable=False, explanation=why)
    if hi_r.objective < target:  # the bound allows it but no plan found reaches it: ask harder
        hi_r = solve(max_budget, hi_r.plan)
        if hi_r.objective < target:
            return TargetResult(target=target, objective=name, budget=None, plan=None, proof_budget=None,
                                proof_bound=hi_r.bound, solves=pd.DataFrame(solves), reachable=False,
                                explanation=f"no plan found reaching it within the gap asked (best "
                                            f"{hi_r.objective:,.1f}, bound {hi_r.bound:,.1f})")
    best, hi = hi_r, hi_r.spend
    lo, y_lo = 0.0, 0.0  # the search's lower end, and at most what it can reach
    proof, proof_bound = 0.0, None  # the largest budget proven not to reach the target
    interpolate = True
    for step in range(200):
        if hi - lo <= (tolerance if tolerance is not None else max(1.0, 1e-3 * hi)):
            break
        # the first steps interpolate between what lo can reach and what hi's plan does (the
        # frontier is concave and increasing), kept within the middle 80 %; then, and after an
        # undecided step, halve
        share = (target - y_lo) / (best.objective - y_lo) if interpolate and step < 4 and best.objective > y_lo else 0.5
        mid = lo + (hi - lo) * min(0.9, max(0.1, share))
        r = solve(mid, best.plan)
        if r.has_plan and r.gap is not None and r.gap > 1e-9 and r.bound is not None and r.bound >= target > r.objective:
            r = solve(mid, r.plan, 1e-10)  # undecided within the gap asked: once more, with a tiny gap
        interpolate = True
        if r.has_plan and r.objective is not None and r.objective >= target:
            best, hi = r, min(r.spend, mid)
        elif r.bound is not None and r.bound < target:
            lo, y_lo, proof, proof_bound = mid, r.bound, mid, r.bound
        elif not r.has_plan and r.status.value == "infeasible":
            lo, proof, proof_bound = mid, mid, None  # nothing fits this budget at all
        else:
            # the best plan at this budget falls short, but the bound (of the solver's model, whose
            # saturation curve is within approximation_error above the exact one) does not prove
            # that no plan reaches it: search above, and leave the proof where it was
            lo, interpolate = mid, False
    proven = hi - proof <= (tolerance if tolerance is not None else max(1.0, 1e-3 * hi))
    return TargetResult(target=target, objective=name, budget=float(best.spend), plan=best, proof_budget=proof,
                        proof_bound=proof_bound, solves=pd.DataFrame(solves), reachable=True, proven=proven)
