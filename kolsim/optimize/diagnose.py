"""Why a request is infeasible, in the planner's words.

A deletion filter over the planner's named policy lines: starting from all of
them, each is relaxed in turn and kept relaxed if the rest stays infeasible.
What remains is an irreducible conflict: every line in it is needed for the
conflict, and relaxing any one of them makes the request feasible.  For money
and count lines the shortfall is then measured: how much more budget, or how
many fewer creators, would make the others feasible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..scenario import Optimize, ShareBounds, TierRule
from .backends import solve_highs
from .formulation import build_milp
from .problem import Problem

__all__ = ["Conflict", "diagnose", "policy_lines"]


@dataclass(frozen=True)
class Line:
    """One relaxable line of the planner's policy."""

    name: str
    kind: str
    key: str = ""


@dataclass(frozen=True)
class Conflict:
    """An irreducible set of policy lines that cannot all hold, and by how much."""

    lines: tuple[str, ...]
    shortfall: str
    message: str


def policy_lines(p: Problem) -> list[Line]:
    """Every line of the policy that a planner could relax."""
    o = p.settings
    lines = [Line(f"budget ¥{p.budget:,.0f}", "budget")]
    for i, wb in enumerate(o.budget_by_weeks):
        lines.append(Line(f"budget of weeks {', '.join(map(str, wb.weeks))} (¥{wb.max:,.0f})", "week_budget", str(i)))
    if o.max_posts_per_week is not None:
        lines.append(Line(f"brand cadence: at most {o.max_posts_per_week} sponsored notes a week", "brand"))
    for cat, b in o.category_share.items():
        if b.min > 0:
            lines.append(Line(f"category {cat}: at least {b.min:.0%} of spend", "cat_min", cat))
        if b.max < 1:
            lines.append(Line(f"category {cat}: at most {b.max:.0%} of spend", "cat_max", cat))
    for t, r in o.tiers.items():
        if r.min_creators > 0:
            lines.append(Line(f"tier {t}: at least {r.min_creators} creator{'' if r.min_creators == 1 else 's'}",
                              "tier_min", t))
        if r.max_creators is not None:
            lines.append(Line(f"tier {t}: at most {r.max_creators} creator{'' if r.max_creators == 1 else 's'}",
                              "tier_max", t))
        if r.min_share > 0:
            lines.append(Line(f"tier {t}: at least {r.min_share:.0%} of spend", "tier_smin", t))
        if r.max_share < 1:
            lines.append(Line(f"tier {t}: at most {r.max_share:.0%} of spend", "tier_smax", t))
        if r.weeks is not None:
            lines.append(Line(f"tier {t}: only in weeks {', '.join(map(str, r.weeks))}", "tier_weeks", t))
    if o.min_posts_if_hired > 1:
        lines.append(Line(f"at least {o.min_posts_if_hired} notes from each hired creator", "min_posts"))
    for k in np.flatnonzero(p.must):
        lines.append(Line(f"must include {p.ids[k]}", "must", str(p.ids[k])))
    lines.append(Line(f"platform rule: at most {o.sponsored_share:.0%} of monthly notes sponsored",
                      "cadence"))
    return lines


def _relax(p: Problem, lines: list[Line]) -> Problem:
    """The request with the given lines lifted."""
    o = p.settings
    budget = p.budget
    cats = dict(o.category_share)
    tiers = dict(o.tiers)
    wbs = list(o.budget_by_weeks)
    must = p.must.copy()
    kw = {}
    upper = p.upper
    cap = p.cap
    for ln in lines:
        if ln.kind == "budget":
            budget = float(1e15)
        elif ln.kind == "week_budget":
            wbs[int(ln.key)] = None
        elif ln.kind == "brand":
            kw["max_posts_per_week"] = None
        elif ln.kind in ("cat_min", "cat_max"):
            b = cats[ln.key]
            cats[ln.key] = ShareBounds(min=0.0 if ln.kind == "cat_min" else b.min,
                                       max=1.0 if ln.kind == "cat_max" else b.max)
        elif ln.kind.startswith("tier"):
            r = tiers[ln.key]
            tiers[ln.key] = TierRule(
                min_creators=0 if ln.kind == "tier_min" else r.min_creators,
                max_creators=None if ln.kind == "tier_max" else r.max_creators,
                min_share=0.0 if ln.kind == "tier_smin" else r.min_share,
                max_share=1.0 if ln.kind == "tier_smax" else r.max_share,
                weeks=None if ln.kind == "tier_weeks" else r.weeks)
            if ln.kind == "tier_weeks":
                mine = p.tier == ln.key
                limit = upper.max(axis=1, initial=0)
                upper = upper.copy()
                upper[mine] = np.maximum(upper[mine], limit[mine][:, None])
        elif ln.kind == "min_posts":
            kw["min_posts_if_hired"] = 1
        elif ln.kind == "must":
            must[p.ids == ln.key] = False
        elif ln.kind == "cadence":
            cap = np.maximum(cap, 4 * upper.max(axis=1, initial=0))
            upper = np.where(upper > 0, np.maximum(upper, 1), upper)
    settings = replace(o, category_share=cats, tiers=tiers,
                       budget_by_weeks=tuple(w for w in wbs if w is not None), **kw)
    return replace(p, budget=budget, budget_cents=int(round(budget * 100)), must=must,
                   settings=settings, upper=upper, cap=cap)


def _feasible(p: Problem, time_limit: float) -> bool | None:
    """Feasibility of a request (True, False, or None when not decided in time)."""
    q = replace(p, objective="interactions", saturating=False, value=np.zeros_like(p.value),
                expected_cost=np.zeros_like(p.expected_cost))
    raw = solve_highs(build_milp(q), time_limit=time_limit, gap=1.0)
    if raw.status == "infeasible":
        return False
    if raw.x is not None:
        return True
    return None


def _min_budget(p: Problem, time_limit: float) -> float | None:
    """The least spend that meets every other line (None if unknown)."""
    q = replace(p, objective="profit", saturating=False, value=np.zeros_like(p.value),
                expected_cost=p.cost.astype(float), unit_value=1.0,
                budget=1e15, budget_cents=int(1e17))
    m = build_milp(q)
    raw = solve_highs(m, time_limit=time_limit, gap=1e-9)
    if raw.status != "optimal" or raw.objective is None:
        return None
    return -raw.objective


def diagnose(p: Problem, *, time_limit: float = 10.0) -> Conflict:
    """Find an irreducible set of conflicting policy lines and the shortfall."""
    lines = policy_lines(p)
    essential: list[Line] = []
    relaxed: list[Line] = []
    undecided: list[Line] = []
    for ln in lines:
        trial = _relax(p, relaxed + [ln])
        ok = _feasible(trial, time_limit)
        if ok is False:
            relaxed.append(ln)       # still infeasible without it: not needed for the conflict
        else:
            essential.append(ln)
            if ok is None:
                undecided.append(ln)
    names = tuple(ln.name for ln in essential)
    shortfall = ""
    if any(ln.kind == "budget" for ln in essential):
        need = _min_budget(_relax(p, relaxed), time_limit)
        if need is not None and need > p.budget:
            shortfall = (f"the cheapest plan meeting the other lines costs ¥{need:,.0f}, "
                         f"¥{need - p.budget:,.0f} more than the budget ¥{p.budget:,.0f}")
    for ln in essential:
        if ln.kind == "tier_min":
            r = p.settings.tiers[ln.key]
            available = int((p.tier == ln.key).sum())
            if available < r.min_creators:
                shortfall = (shortfall + "; " if shortfall else "") + (
                    f"only {available} {ln.key} creators are eligible, {r.min_creators - available} short")
    if not essential:
        msg = "the request is infeasible, but no single policy line can be named (numerical trouble)"
    else:
        tail = (" Relaxing any one of them makes the request feasible." if not undecided else
                f" Relaxing any one of them may make it feasible ({len(undecided)} could not be "
                f"decided in {time_limit:g} s: {'; '.join(ln.name for ln in undecided)}).")
        msg = ("these constraints cannot all hold: " + "; ".join(names)
               + (f". {shortfall[0].upper()}{shortfall[1:]}" if shortfall else "") + "." + tail)
    return Conflict(lines=names, shortfall=shortfall, message=msg)
