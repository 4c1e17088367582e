"""Incremental planning: the best additions to a plan already bought, and the replacement when
creators drop out.

Both keep every bought note (``optimize(..., bought=...)``: the notes are lower bounds of the
integer program and the verifier checks them) and start the search from the plan as it stands.
Each returns a :class:`Replan`: the new optimum and what changed against the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from .errors import InputError
from .optimize import OptimizationResult, build_problem, optimize
from .optimize.pipeline import evaluate_plan
from .scenario import Scenario

__all__ = ["Replan", "extend_plan", "drop_creators"]


@dataclass(frozen=True, eq=False)
class Replan:
    """A re-plan: ``result`` (the new optimum), ``before`` (the plan's value and spend under the
    request, before the change), ``changes`` (one row per creator and week whose notes change:
    kol_id, week, posts before and after, and why: ``added``, ``dropped``), the extra cost and the
    gain."""

    result: OptimizationResult
    before_value: float | None
    before_spend: float
    changes: pd.DataFrame
    kept_notes: int

    @property
    def extra_cost(self) -> float:
        return float(self.result.spend - self.before_spend) if self.result.has_plan else float("nan")

    @property
    def gain(self) -> float | None:
        if not self.result.has_plan or self.before_value is None:
            return None
        return float(self.result.objective - self.before_value)

    def __repr__(self) -> str:
        return (f"Replan({self.result.status}: {len(self.changes)} change(s), {self.kept_notes} bought note(s) kept; "
                f"extra cost ¥{self.extra_cost:,.0f}, gain {self.gain if self.gain is not None else '–'})")


def _plan(plan: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("kol_id", "week", "posts") if c not in getattr(plan, "columns", ())]
    if missing:
        raise InputError(f"the plan needs columns kol_id, week, posts (missing {', '.join(missing)})", where="--start")
    out = plan[["kol_id", "week", "posts"]].copy()
    out["kol_id"] = out["kol_id"].astype(str)
    return out


def _spend(scenario: Scenario, pool, plan: pd.DataFrame) -> float:
    """What the plan costs at the pool's prices: its notes and each creator's fee once."""
    p = build_problem(scenario, pool, budget=1e12, bought=plan)
    at = {str(k): i for i, k in enumerate(p.ids)}
    cents = 0
    for kol, g in plan.groupby("kol_id"):
        k = at[str(kol)]
        n = int(g["posts"].sum())
        cents += int(p.cost_cents[k]) * n + (int(p.fee_cents[k]) if n else 0)
    return cents / 100


def _changes(before: pd.DataFrame, after: pd.DataFrame, dropped: Sequence[str] = ()) -> pd.DataFrame:
    b = before.groupby(["kol_id", "week"])["posts"].sum()
    a = after.groupby(["kol_id", "week"])["posts"].sum() if len(after) else pd.Series(dtype=float)
    keys = sorted(set(b.index) | set(a.index))
    rows = []
    for kol, week in keys:
        nb, na = int(b.get((kol, week), 0)), int(a.get((kol, week), 0))
        if nb != na:
            rows.append({"kol_id": kol, "week": int(week), "posts_before": nb, "posts_after": na,
                         "change": "dropped" if kol in dropped else "added" if na > nb else "removed"})
    return pd.DataFrame(rows, columns=["kol_id", "week", "posts_before", "posts_after", "change"])


def extend_plan(scenario: Scenario, pool, plan: pd.DataFrame, extra_budget: float, **solve) -> Replan:
    """The best additions to ``plan`` (already bought, kept as it is) for ``extra_budget`` more:
    the budget is the plan's cost plus the extra; ``solve`` goes to :func:`kolsim.optimize`."""
    if isinstance(extra_budget, bool) or not isinstance(extra_budget, (int, float)) or not extra_budget >= 0:
        raise InputError(f"must be a number of RMB, 0 or more (got {extra_budget!r})", where="--extra-budget")
    plan = _plan(plan)
    spend = _spend(scenario, pool, plan)
    sc = scenario.with_({"campaign.budget": max(spend + extra_budget, 0.01)})
    before, _ = evaluate_plan(sc, pool, plan, objective=solve.get("objective"))
    r = optimize(sc, pool, bought=plan, start=plan, marginal=False, **solve)
    return Replan(result=r, before_value=before, before_spend=spend, changes=_changes(plan, r.plan),
                  kept_notes=int(plan["posts"].sum()))


def drop_creators(scenario: Scenario, pool, plan: pd.DataFrame, drop: Sequence[str], **solve) -> Replan:
    """The plan with ``drop`` creators out: their notes are gone, the rest is kept, and the
    scenario's budget is re-spent on the best replacements (the dropped creators are excluded)."""
    plan = _plan(plan)
    drop = [str(d) for d in drop]
    if not drop:
        raise InputError("names no creator", where="--drop")
    unknown = [d for d in drop if d not in set(plan["kol_id"])]
    if unknown:
        raise InputError(f"{unknown[0]!r} is not in the plan; the plan's creators are "
                         f"{', '.join(sorted(set(plan['kol_id']))[:20])}", where="--drop")
    kept = plan[~plan["kol_id"].isin(drop)]
    opt = scenario.optimize
    if opt is None:
        raise InputError("has no [optimize] table: the replacement is chosen by optimising its request",
                         file=scenario.source)
    sc = scenario.with_({"optimize.exclude": tuple(dict.fromkeys(tuple(opt.exclude) + tuple(drop))),
                         "optimize.must_include": tuple(m for m in opt.must_include if m not in drop)})
    before, _ = evaluate_plan(scenario, pool, plan, objective=solve.get("objective"))
    r = optimize(sc, pool, bought=kept, start=kept, marginal=False, **solve)
    return Replan(result=r, before_value=before, before_spend=_spend(scenario, pool, plan),
                  changes=_changes(plan, r.plan, drop), kept_notes=int(kept["posts"].sum()))
