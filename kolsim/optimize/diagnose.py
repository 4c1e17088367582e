"""Why a request is infeasible, in the planner's words.

A deletion filter over the planner's named policy lines: starting from all of
them, each is relaxed in turn and kept relaxed if the rest stays infeasible.
What remains is an irreducible conflict: every line in it is needed for the
conflict, and relaxing any one of them makes the request feasible.  The
shortfall is then measured in each line's own unit: the least budget that
meets every other line, and for each other line with a number (a week budget,
the brand cadence, a share, a creator count, the minimum notes) the nearest
value that works with the rest of the conflict held.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..scenario import Optimize, ShareBounds, TierRule
from .backends import solve_highs
from .families import Family
from .formulation import build_milp
from .problem import Problem

__all__ = ["Conflict", "diagnose", "policy_lines"]


@dataclass(frozen=True)
class Line:
    """One relaxable line of the planner's policy: its words, its family and what it is about."""

    name: str
    family: Family
    key: str = ""


@dataclass(frozen=True)
class Conflict:
    """An irreducible set of policy lines that cannot all hold, and by how much."""

    lines: tuple[str, ...]
    shortfall: str
    message: str
    refuted: bool = False  # a plan meeting every line exists: the solver's "infeasible" was wrong


_TIER_LINES = (Family.TIER_MIN, Family.TIER_MAX, Family.TIER_SHARE_MIN, Family.TIER_SHARE_MAX, Family.TIER_WEEKS)


def policy_lines(p: Problem) -> list[Line]:
    """Every line of the policy that a planner could relax."""
    o = p.settings
    lines = [Line(f"budget ¥{p.budget:,.0f}", Family.BUDGET)]
    for i, wb in enumerate(o.budget_by_weeks):
        lines.append(Line(f"budget of weeks {', '.join(map(str, wb.weeks))} (¥{wb.max:,.0f})",
                          Family.WEEK_BUDGET, str(i)))
    if o.max_posts_per_week is not None:
        lines.append(Line(f"brand cadence: at most {o.max_posts_per_week} sponsored notes a week",
                          Family.BRAND_CADENCE))
    for cat, b in o.category_share.items():
        if b.min > 0:
            lines.append(Line(f"category {cat}: at least {b.min:.0%} of spend", Family.CATEGORY_MIN, cat))
        if b.max < 1:
            lines.append(Line(f"category {cat}: at most {b.max:.0%} of spend", Family.CATEGORY_MAX, cat))
    for t, r in o.tiers.items():
        if r.min_creators > 0:
            lines.append(Line(f"tier {t}: at least {r.min_creators} creator{'' if r.min_creators == 1 else 's'}",
                              Family.TIER_MIN, t))
        if r.max_creators is not None:
            lines.append(Line(f"tier {t}: at most {r.max_creators} creator{'' if r.max_creators == 1 else 's'}",
                              Family.TIER_MAX, t))
        if r.min_share > 0:
            lines.append(Line(f"tier {t}: at least {r.min_share:.0%} of spend", Family.TIER_SHARE_MIN, t))
        if r.max_share < 1:
            lines.append(Line(f"tier {t}: at most {r.max_share:.0%} of spend", Family.TIER_SHARE_MAX, t))
        if r.weeks is not None:
            lines.append(Line(f"tier {t}: only in weeks {', '.join(map(str, r.weeks))}", Family.TIER_WEEKS, t))
    if o.min_posts_if_hired > 1:
        lines.append(Line(f"at least {o.min_posts_if_hired} notes from each hired creator", Family.MIN_POSTS))
    for t, r in o.tiers.items():
        if r.min_posts is not None and r.min_posts > 1:
            lines.append(Line(f"tier {t}: at least {r.min_posts} notes from each hired creator",
                              Family.MIN_POSTS, t))
    if p.pool_min_posts:
        lines.append(Line("the pool's min_posts column", Family.MIN_POSTS, POOL))
    for k in np.flatnonzero(p.must):
        lines.append(Line(f"must include {p.ids[k]}", Family.MUST_INCLUDE, str(p.ids[k])))
    lines.append(Line(f"platform rule: at most {o.sponsored_share:.0%} of monthly notes sponsored",
                      Family.CADENCE))
    return lines


#: The key of the line that stands for the pool's ``min_posts`` column.
POOL = "pool"


def _relax(p: Problem, lines: list[Line]) -> tuple[Optimize, float, bool, bool]:
    """The policy, the budget, whether the platform's rule holds and whether the pool's
    ``min_posts`` column is read, with the given lines lifted (a lifted minimum is 1 note)."""
    o = p.settings
    budget = p.budget
    cadence = True
    pool_min_posts = True
    cats = dict(o.category_share)
    tiers = dict(o.tiers)
    wbs = list(o.budget_by_weeks)
    must = list(o.must_include)
    kw = {}
    for ln in lines:
        if ln.family is Family.BUDGET:
            budget = 1e13  # more than anything a plan can cost (budgets are at most 1e11)
        elif ln.family is Family.WEEK_BUDGET:
            wbs[int(ln.key)] = None
        elif ln.family is Family.BRAND_CADENCE:
            kw["max_posts_per_week"] = None
        elif ln.family in (Family.CATEGORY_MIN, Family.CATEGORY_MAX):
            b = cats[ln.key]
            cats[ln.key] = ShareBounds(min=0.0 if ln.family is Family.CATEGORY_MIN else b.min,
                                       max=1.0 if ln.family is Family.CATEGORY_MAX else b.max)
        elif ln.family in _TIER_LINES:
            r = tiers[ln.key]
            tiers[ln.key] = TierRule(
                min_creators=0 if ln.family is Family.TIER_MIN else r.min_creators,
                max_creators=None if ln.family is Family.TIER_MAX else r.max_creators,
                min_share=0.0 if ln.family is Family.TIER_SHARE_MIN else r.min_share,
                max_share=1.0 if ln.family is Family.TIER_SHARE_MAX else r.max_share,
                weeks=None if ln.family is Family.TIER_WEEKS else r.weeks, min_posts=r.min_posts)
        elif ln.family is Family.MIN_POSTS and ln.key == POOL:
            pool_min_posts = False
        elif ln.family is Family.MIN_POSTS and ln.key:
            tiers[ln.key] = replace(tiers[ln.key], min_posts=1)
        elif ln.family is Family.MIN_POSTS:
            kw["min_posts_if_hired"] = 1
        elif ln.family is Family.MUST_INCLUDE:
            must = [k for k in must if k != ln.key]
        elif ln.family is Family.CADENCE:
            cadence = False
    settings = replace(o, category_share=cats, tiers=tiers, must_include=tuple(must),
                       budget_by_weeks=tuple(w for w in wbs if w is not None), **kw)
    return settings, budget, cadence, pool_min_posts


def _without_objective(p: Problem) -> Problem:
    """The request with nothing to gain: its model holds the rows alone."""
    return replace(p, objective="interactions", saturating=False, value=np.zeros_like(p.value),
                   expected_cost=np.zeros_like(p.expected_cost))


def _feasible(p: Problem, time_limit: float) -> bool | None:
    """Feasibility of a request (True, False, or None when not decided in time)."""
    m = build_milp(_without_objective(p))
    if m.n_cols == 0:  # no creator left (a relaxed line can exclude them all): the empty plan decides
        return bool(np.all((m.row_lo <= 0) & (m.row_hi >= 0)))
    raw = solve_highs(m, time_limit=time_limit, gap=1.0)
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


def _min_week_spend(p: Problem, weeks: np.ndarray, time_limit: float) -> float | None:
    """The least spend on notes in ``weeks`` (0-based) that meets every line (None if unknown)."""
    m = build_milp(_without_objective(p))
    c = np.zeros(m.n_cols)
    in_weeks = np.isin(m.xw, weeks)
    c[:m.n_x][in_weeks] = -p.cost[m.xk[in_weeks]]
    raw = solve_highs(replace(m, c=c), time_limit=time_limit, gap=1e-9)
    if raw.status != "optimal" or raw.objective is None:
        return None
    return -raw.objective


def _set(settings: Optimize, ln: Line, v) -> Optimize:
    """The policy with line ``ln``'s number set to ``v`` (the lines ``_nearest`` bisects)."""
    o = settings
    if ln.family is Family.BRAND_CADENCE:
        return replace(o, max_posts_per_week=int(v))
    if ln.family is Family.MIN_POSTS and ln.key:
        return replace(o, tiers={**o.tiers, ln.key: replace(o.tiers[ln.key], min_posts=int(v))})
    if ln.family is Family.MIN_POSTS:
        return replace(o, min_posts_if_hired=int(v))
    if ln.family in (Family.CATEGORY_MIN, Family.CATEGORY_MAX):
        field = "min" if ln.family is Family.CATEGORY_MIN else "max"
        return replace(o, category_share={**o.category_share,
                                          ln.key: replace(o.category_share[ln.key], **{field: float(v)})})
    field = {Family.TIER_MIN: "min_creators", Family.TIER_MAX: "max_creators", Family.TIER_SHARE_MIN: "min_share",
             Family.TIER_SHARE_MAX: "max_share"}[ln.family]
    return replace(o, tiers={**o.tiers, ln.key: replace(o.tiers[ln.key], **{field: v})})


def _nearest(ln: Line, p: Problem, q: Problem, feasible: Callable[[object], bool | None],
             time_limit: float) -> str | None:
    """The value of line ``ln`` nearest to what it asks that works, in the planner's words
    (None when the line has no number, or the search was not decided in time).

    ``q`` is the request with the line lifted, which works. ``feasible(v)`` says whether the
    request works with the line set to v; it does not at the asked value and does at a value
    that cannot bind (read off ``q``), and the answer moves once in between, so the boundary is
    found by bisection: whole numbers exactly, shares to a twentieth of a point. A week budget's need is
    solved for directly (the least spend on notes in its weeks)."""
    o = p.settings
    if ln.family is Family.BRAND_CADENCE:
        most = min(1_000_000, int(q.upper.sum(axis=0).max()))  # a weekly cap that cannot bind
        asked, lifted, step = o.max_posts_per_week, max(o.max_posts_per_week + 1, most), 1
    elif ln.family is Family.MIN_POSTS and ln.key == POOL:  # one number per row: none to name
        return None
    elif ln.family is Family.MIN_POSTS:
        asked = o.tiers[ln.key].min_posts if ln.key else o.min_posts_if_hired
        lifted, step = 1, 1
    elif ln.family is Family.TIER_MIN:
        asked, lifted, step = o.tiers[ln.key].min_creators, 0, 1
    elif ln.family is Family.TIER_MAX:
        asked, lifted, step = o.tiers[ln.key].max_creators, max(o.tiers[ln.key].max_creators + 1,
                                                                int((q.tier == ln.key).sum())), 1
    elif ln.family in (Family.CATEGORY_MIN, Family.TIER_SHARE_MIN):
        asked = o.category_share[ln.key].min if ln.family is Family.CATEGORY_MIN else o.tiers[ln.key].min_share
        lifted, step = 0.0, 0.0005
    elif ln.family in (Family.CATEGORY_MAX, Family.TIER_SHARE_MAX):
        asked = o.category_share[ln.key].max if ln.family is Family.CATEGORY_MAX else o.tiers[ln.key].max_share
        lifted, step = 1.0, 0.0005
    elif ln.family is Family.WEEK_BUDGET:  # the least spend on notes in those weeks, found directly
        wb = o.budget_by_weeks[int(ln.key)]
        need = _min_week_spend(q, np.array(wb.weeks) - 1, time_limit)
        if need is None:
            return None
        return (f"the budget of weeks {', '.join(map(str, wb.weeks))} would need "
                f"¥{math.ceil(need / 100 - 1e-9) * 100:,.0f} (it allows ¥{wb.max:,.0f})")
    else:
        return None
    bad, good = asked, lifted  # infeasible at bad, feasible at good
    while abs(good - bad) > step:
        mid = (bad + good) / 2
        if step == 1:
            mid = math.floor(mid) if good > bad else math.ceil(mid)
        ok = feasible(mid)
        if ok is None:
            return None
        bad, good = (bad, mid) if ok else (mid, good)
    if ln.family is Family.BRAND_CADENCE:
        return f"the brand cadence would need {good} notes a week (it allows {asked})"
    if ln.family is Family.MIN_POSTS:
        return (f"tier {ln.key}: " if ln.key else "") + f"at most {good} note(s) from each hired creator fit (it asks {asked})"
    if ln.family is Family.TIER_MIN:
        return f"tier {ln.key}: at most {good} creator{'' if good == 1 else 's'} fit (it asks at least {asked})"
    if ln.family is Family.TIER_MAX:
        return f"tier {ln.key}: at least {good} creators are needed (it allows {asked})"
    # a share is said to a whole percent, or a tenth, if that still works (checked), else as found
    for digits in (2, 3):
        nice = round(good, digits)
        if (nice - good) * (bad - good) <= 0 or feasible(nice):  # on the workable side, or it works
            good = nice
            break
    share = f"{good:.0%}" if abs(good * 100 - round(good * 100)) < 1e-9 else f"{good:.1%}"
    what = f"category {ln.key}" if ln.family in (Family.CATEGORY_MIN, Family.CATEGORY_MAX) else f"tier {ln.key}"
    if ln.family in (Family.CATEGORY_MIN, Family.TIER_SHARE_MIN):
        return f"{what}: at most {share} of spend fits (it asks at least {asked:.0%})"
    return f"{what}: at least {share} of spend is needed (it allows {asked:.0%})"


def diagnose(p: Problem, rebuild: Callable[[Optimize, float, bool, bool], Problem], *,
             time_limit: float = 10.0) -> Conflict:
    """Find an irreducible set of conflicting policy lines and the shortfall.

    The whole request is first checked again (with HiGHS, on a feasibility
    program): if a plan exists after all, the result says so (``refuted``) and
    names no lines.

    ``rebuild(settings, budget, cadence, pool_min_posts)`` compiles the request again under a
    relaxed policy (``cadence=False``: without the platform's rule; ``pool_min_posts=False``:
    the pool's ``min_posts`` column lifted to 1 note), so that
    what the policy decided before solving (exclusions, weekly limits) is
    decided again.
    """
    if _feasible(p, time_limit) is True:  # solvers have called feasible models infeasible
        return Conflict(lines=(), shortfall="", refuted=True, message=(
            "the solver said the request is infeasible, but HiGHS found a plan that meets every "
            "rule, so that answer is not trusted; try the other backend or another solver"))
    lines = policy_lines(p)
    essential: list[Line] = []
    relaxed: list[Line] = []
    undecided: list[Line] = []
    for ln in lines:
        ok = _feasible(rebuild(*_relax(p, relaxed + [ln])), time_limit)
        if ok is False:
            relaxed.append(ln)       # still infeasible without it: not needed for this conflict
        else:
            essential.append(ln)
            if ok is None:
                undecided.append(ln)
    names = tuple(ln.name for ln in essential)
    shortfall = ""
    if any(ln.family is Family.BUDGET for ln in essential):
        # the least spend that meets every other line of the original request
        need = _min_budget(rebuild(*_relax(p, [ln for ln in lines if ln.family is Family.BUDGET])), time_limit)
        if need is not None and need > p.budget:
            shortfall = (f"the cheapest plan meeting every other line costs ¥{need:,.0f}, "
                         f"¥{need - p.budget:,.0f} more than the budget ¥{p.budget:,.0f}")
    for ln in essential:
        if ln.family is Family.TIER_MIN:
            r = p.settings.tiers[ln.key]
            available = int((p.tier == ln.key).sum())
            if available < r.min_creators:
                shortfall = (shortfall + "; " if shortfall else "") + (
                    f"only {available} {ln.key} creators are eligible, {r.min_creators - available} short")
    # each other line's nearest workable value, the rest of the conflict held (the lines found
    # unnecessary stay lifted), within a time budget of its own
    base, budget, cadence, pool_min_posts = _relax(p, relaxed)
    deadline = time.perf_counter() + 3 * time_limit
    for ln in essential:
        if ln.family is Family.BUDGET or time.perf_counter() > deadline:
            continue
        def left():
            return max(0.1, min(time_limit, deadline - time.perf_counter()))
        near = _nearest(ln, p, rebuild(*_relax(p, relaxed + [ln])),
                        lambda v, ln=ln: _feasible(rebuild(_set(base, ln, v), budget, cadence, pool_min_posts), left()), left())
        if near:
            shortfall = (shortfall + "; " if shortfall else "") + near
    if not essential:
        msg = "the request is infeasible, but no single policy line can be named (numerical trouble)"
    else:
        tail = (" With the other lines lifted, relaxing any one of these makes the request feasible; "
                "other conflicts may remain." if not undecided else
                f" Relaxing any one of them may make it feasible ({len(undecided)} could not be "
                f"decided in {time_limit:g} s: {'; '.join(ln.name for ln in undecided)}).")
        msg = ("these constraints cannot all hold: " + "; ".join(names)
               + (f". {shortfall[0].upper()}{shortfall[1:]}" if shortfall else "") + "." + tail)
    return Conflict(lines=names, shortfall=shortfall, message=msg)
