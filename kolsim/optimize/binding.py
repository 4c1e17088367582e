"""Which of the planner's lines a plan presses against (the report's ``binding:`` line)."""

from __future__ import annotations

import math

import numpy as np

from .problem import Problem
from .verify import VerifiedPlan

__all__ = ["binding"]


def binding(p: Problem, vp: VerifiedPlan) -> tuple[str, ...]:
    """Policy lines the plan presses against: no cheaper note, creator or share step fits."""
    o = p.settings
    out = []
    spend = vp.spend_cents / 100
    room = p.upper.sum(axis=1) > vp.posts.sum(axis=1)
    more = np.where(vp.hired == 1, p.cost, p.fee + p.min_posts * p.cost)  # a note, or a new hire
    cheapest = more[room].min(initial=math.inf)
    if p.budget - spend < cheapest:
        out.append(f"budget ¥{p.budget:,.0f} (¥{p.budget - spend:,.0f} left; the cheapest addition costs "
                   f"¥{cheapest:,.0f})")
    per_week = vp.posts.sum(axis=0)
    if o.max_posts_per_week is not None and np.any(per_week >= o.max_posts_per_week):
        weeks = np.flatnonzero(per_week >= o.max_posts_per_week) + 1
        out.append(f"brand cadence of {o.max_posts_per_week} notes a week (full in week(s) "
                   f"{', '.join(map(str, weeks))})")
    unused = vp.hired == 0
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
