"""An independent check of a plan, in exact arithmetic.

The verifier reads the plan (notes per creator and week) and the
:class:`~kolsim.optimize.problem.Problem`, not the solver's matrix: money is
counted in whole cents, shares as exact fractions, the platform's cadence rule
on the actual publication days (as the simulator places them), and the
objective is recomputed from the model.  A solver answer that breaks anything
is rejected, naming what it breaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import InputError, KolsimError
from ..rules import CADENCE_WINDOW_DAYS, max_in_window, week_days
from .families import Family
from .formulation import Milp, own_envelope, settle_saturation
from .problem import Problem

__all__ = ["VerifiedPlan", "VerificationError", "verify", "plan_value"]

INTEGRALITY_TOL = 1e-6


class VerificationError(KolsimError):
    """A solver's answer broke a constraint or misreported its objective."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the solver's plan failed verification: " + "; ".join(problems))


@dataclass(frozen=True, eq=False)
class VerifiedPlan:
    """A plan that passed every check: integer notes (N, W) and hires (N,)."""

    posts: np.ndarray
    hired: np.ndarray
    spend_cents: int
    value: float        # the model's value of the plan (exact saturation curve)
    model_value: float  # the value the solver's model gives it (tangent envelope)


def _frac(x: float) -> Fraction:
    return Fraction(repr(float(x)))  # the decimal the user wrote, not the binary double


def plan_value(p: Problem, posts: np.ndarray, hired: np.ndarray) -> tuple[float, float]:
    """(exact model value, value under the request's tangent envelope) of a plan."""
    pressure = (p.value * posts).sum(axis=1)
    S = len(p.segment_names)
    if p.saturating:
        owns = np.flatnonzero(p.owns)
        direct = pressure * (1 - p.own_share) if owns.size else pressure
        own_exact = np.zeros(p.n)  # c_k (1 - exp(-O_k / c_k)), O_k = sum_w own_value[k, w] x_kw; and its envelope
        own_env = np.zeros(p.n)
        if owns.size:
            m = p.own_capacity[owns]
            own = (p.own_value * posts).sum(axis=1)
            own_exact[owns] = m * -np.expm1(-own[owns] / m)
            own_env[owns] = own_envelope(p, own, owns)
        A = p.capacity
        seg_exact = np.bincount(p.segment, weights=direct + own_exact, minlength=S)
        seg_env = np.bincount(p.segment, weights=direct + own_env, minlength=S)
        exact = A * -np.expm1(-seg_exact / A)
        if p.cuts:
            env = np.minimum(A, [np.min(a + b * c) for (b, a), c in zip(p.cuts, seg_env)])  # z <= A_s too
        else:
            env = A * -np.expm1(-seg_env / A)
    else:
        exact = env = np.bincount(p.segment, weights=pressure, minlength=S)
    total_exact = p.unit_value * exact.sum()
    total_env = p.unit_value * env.sum()
    if p.objective == "profit":
        cost = float((p.expected_cost * posts.sum(axis=1)).sum() + (p.fee * hired).sum())
        total_exact -= cost
        total_env -= cost
    return float(total_exact), float(total_env)


def verify(p: Problem, m: Milp, x: np.ndarray, claimed_objective: float | None = None) -> VerifiedPlan:
    """Check a solver's column vector against the planner's constraints.

    Raises
    ------
    VerificationError
        Naming every constraint the plan breaks.
    """
    bad: list[str] = []
    x = np.asarray(x, float)
    opt = p.settings
    N, W = p.n, p.weeks
    if x.shape != (m.n_cols,) or not np.all(np.isfinite(x)):
        raise VerificationError([f"the solution vector has the wrong shape or non-finite values"])
    ints = np.concatenate([x[:m.n_x], x[m.n_x:m.n_x + m.n_y]])
    frac = np.abs(ints - np.round(ints))
    if np.any(frac > INTEGRALITY_TOL):
        j = int(np.argmax(frac))
        what = (f"notes of {p.ids[m.xk[j]]} in week {m.xw[j] + 1}" if j < m.n_x
                else f"hire of {p.ids[j - m.n_x]}")
        bad.append(f"integrality: {what} is {ints[j]:g}, not a whole number")
    posts = np.zeros((N, W), dtype=np.int64)
    posts[m.xk, m.xw] = np.round(x[:m.n_x]).astype(np.int64)
    hired = np.round(x[m.n_x:m.n_x + m.n_y]).astype(np.int64)

    if np.any(posts < 0) or np.any(posts > p.upper):
        k, w = np.argwhere((posts < 0) | (posts > p.upper))[0]
        bad.append(f"weekly limit: {p.ids[k]} has {posts[k, w]} notes in week {w + 1} "
                   f"(allowed {p.upper[k, w]})")
    if np.any((hired != 0) & (hired != 1)):
        bad.append("hire decisions must be 0 or 1")
    n_posts = posts.sum(axis=1)
    if np.any((n_posts > 0) & (hired == 0)):
        k = int(np.flatnonzero((n_posts > 0) & (hired == 0))[0])
        bad.append(f"linking: {p.ids[k]} posts {n_posts[k]} notes without being hired")
    short = (hired == 1) & (n_posts < p.min_posts)
    if np.any(short):
        k = int(np.flatnonzero(short)[0])
        bad.append(f"{Family.MIN_POSTS.words}: {p.ids[k]} is hired with {n_posts[k]} notes "
                   f"(at least {p.min_posts[k]})")
    if np.any(p.must & (hired == 0)):
        k = int(np.flatnonzero(p.must & (hired == 0))[0])
        bad.append(f"{Family.MUST_INCLUDE.words}: {p.ids[k]} is not hired")
    if p.bought is not None and np.any(posts < p.bought):
        k, w = (int(v[0]) for v in np.nonzero(posts < p.bought))
        bad.append(f"bought notes: {p.ids[k]} has {int(posts[k, w])} note(s) in week {w + 1}, fewer than the "
                   f"{int(p.bought[k, w])} already bought")

    spend_each = [int(c) * int(n) + int(f) * int(h) for c, n, f, h in
                  zip(p.cost_cents, n_posts, p.fee_cents, hired)]
    spend = sum(spend_each)
    if spend > p.budget_cents:
        bad.append(f"{Family.BUDGET.words}: spend ¥{spend / 100:,.2f} exceeds ¥{p.budget_cents / 100:,.2f}")
    for wb in opt.budget_by_weeks:
        cols = np.array(wb.weeks) - 1
        s = sum(int(c) * int(n) for c, n in zip(p.cost_cents, posts[:, cols].sum(axis=1)))
        if s > round(wb.max * 100):
            bad.append(f"{Family.WEEK_BUDGET.words} {wb.weeks}: ¥{s / 100:,.2f} exceeds ¥{wb.max:,.2f}")
    if opt.max_posts_per_week is not None:
        per_week = posts.sum(axis=0)
        for w in np.flatnonzero(per_week > opt.max_posts_per_week):
            bad.append(f"{Family.BRAND_CADENCE.words}: {per_week[w]} notes in week {w + 1} "
                       f"(at most {opt.max_posts_per_week})")
    total = Fraction(spend)
    for cat, b in opt.category_share.items():
        s = Fraction(sum(v for v, c in zip(spend_each, p.category) if c == cat))
        if s > _frac(b.max) * total:
            bad.append(f"category {cat}: {float(s / total):.2%} of spend (at most {b.max:.0%})")
        if s < _frac(b.min) * total:
            bad.append(f"category {cat}: {float(s / total) if total else 0:.2%} of spend (at least {b.min:.0%})")
    for t, rule in opt.tiers.items():
        mine = p.tier == t
        count = int(hired[mine].sum())
        if count < rule.min_creators:
            bad.append(f"tier {t}: {count} creators hired (at least {rule.min_creators})")
        if rule.max_creators is not None and count > rule.max_creators:
            bad.append(f"tier {t}: {count} creators hired (at most {rule.max_creators})")
        s = Fraction(sum(v for v, keep in zip(spend_each, mine) if keep))
        if s > _frac(rule.max_share) * total:
            bad.append(f"tier {t}: {float(s / total):.2%} of spend (at most {rule.max_share:.0%})")
        if s < _frac(rule.min_share) * total:
            bad.append(f"tier {t}: share of spend below {rule.min_share:.0%}")
    # the platform's rule on the days the notes are actually published
    for k in np.flatnonzero(n_posts > 0):
        days = np.concatenate([week_days(w + 1, posts[k, w], p.horizon) for w in range(W) if posts[k, w]])
        most = max_in_window(days)
        if most > p.cap[k]:
            bad.append(f"{Family.CADENCE.words}: {p.ids[k]} publishes {most} sponsored notes within {CADENCE_WINDOW_DAYS} days "
                       f"(at most {p.cap[k]})")

    exact, envelope = plan_value(p, posts, hired)
    if claimed_objective is not None and math.isfinite(claimed_objective):
        # a solver may undervalue its own plan (an unsettled z at a time limit);
        # claiming more than the plan is worth is an error
        tol = 1e-6 * max(1.0, abs(envelope)) + 1e-6
        if claimed_objective - envelope > tol:
            bad.append(f"objective: the solver reported {claimed_objective:.6g}, "
                       f"the plan is worth {envelope:.6g} in its own model")
    if bad:
        raise VerificationError(bad)
    return VerifiedPlan(posts=posts, hired=hired, spend_cents=spend, value=exact, model_value=envelope)


def plan_vector(p: Problem, m: Milp, plan) -> tuple[np.ndarray | None, str]:
    """A plan (kol_id, week, posts) as a column vector of ``m``, to start a solver from.

    Returns ``(vector, "used")`` when the plan meets every rule of this request (checked by
    :func:`verify`, in cents), else ``(None, "not used: " + why)``: a plan made for another
    request (another budget, policy or pool) is a start only if it still fits this one.
    Interchangeable creators (same named tier and category, prices, limits and values) may be renamed
    into the order the model hires them in; nothing else about the plan is changed.

    Raises
    ------
    InputError
        When the plan itself is malformed: a column missing, a week or a number of notes that
        is not a whole number, or a creator listed twice for one week.
    """
    missing = [c for c in ("kol_id", "week", "posts") if c not in getattr(plan, "columns", ())]
    if missing:
        raise InputError(f"the start plan needs columns kol_id, week, posts (missing {', '.join(missing)})")
    where = {str(k): i for i, k in enumerate(p.ids)}
    col = {(int(k), int(w)): j for j, (k, w) in enumerate(zip(m.xk, m.xw))}
    x = np.zeros(m.n_cols)
    seen = set()
    for row, (kol, week, posts) in enumerate(plan[["kol_id", "week", "posts"]].itertuples(index=False), 1):
        for name, value, low in (("week", week, 1), ("posts", posts, 0)):
            v = float(value) if isinstance(value, (int, float, np.integer, np.floating)) else math.nan
            if not (math.isfinite(v) and v == int(v) and v >= low):
                raise InputError(f"the start plan's row {row}: {name} {value!r} is not a whole number "
                                 f"of at least {low}")
        if (str(kol), int(week)) in seen:
            raise InputError(f"the start plan's row {row}: {kol} is listed twice for week {int(week)}")
        seen.add((str(kol), int(week)))
        if int(posts) == 0:
            continue
        k = where.get(str(kol))
        if k is None:
            left_out = p.excluded.loc[p.excluded["kol_id"].astype(str) == str(kol), "reason"]
            why = f" ({left_out.iloc[0]})" if len(left_out) else ""
            return None, f"not used: {kol} is not a candidate of this request{why}"
        j = col.get((k, int(week) - 1))
        if j is None:
            return None, f"not used: {kol} may not post in week {int(week)}"
        x[j] = float(posts)
        x[m.n_x + k] = 1.0
    x = _in_hiring_order(m, x)
    x = settle_saturation(m, p, x)
    try:
        verify(p, m, x)
    except VerificationError as e:
        return None, f"not used: {e.problems[0]}"
    act = m.A @ x  # the model's own rows too (so the solver takes it), with a margin in cents
    bad = np.flatnonzero((act > m.row_hi + 1e-6) | (act < m.row_lo - 1e-6))
    if bad.size:
        return None, f"not used: it breaks {m.groups[m.row_group[bad[0]]].name}"
    return x, "used"


def _in_hiring_order(m: Milp, x: np.ndarray) -> np.ndarray:
    """The same plan with interchangeable creators renamed into the model's hiring order.

    The model breaks symmetry with y_a >= y_b along chains of identical creators; a plan
    hiring b but not a is the same plan as one hiring a, and only that one is a start.
    """
    sym = [g for g, grp in enumerate(m.groups) if grp.family is Family.SYMMETRY]
    rows = np.flatnonzero(np.isin(m.row_group, sym))
    if rows.size == 0:
        return x
    pairs = m.A[rows]  # each row is y_a - y_b >= 0: two entries
    cols = pairs.indices.reshape(-1, 2) - m.n_x
    a_first = pairs.data.reshape(-1, 2)[:, 0] > 0
    after = dict(zip(np.where(a_first, cols[:, 0], cols[:, 1]).tolist(),
                     np.where(a_first, cols[:, 1], cols[:, 0]).tolist()))  # b follows a
    first = np.searchsorted(m.xk, np.arange(m.n_y))  # x columns are grouped by creator
    last = np.searchsorted(m.xk, np.arange(m.n_y), side="right")
    x = x.copy()
    for head in set(after) - set(after.values()):
        chain = [head]
        while chain[-1] in after:
            chain.append(after[chain[-1]])
        hired = [k for k in chain if x[m.n_x + k] > 0.5]
        if not hired:
            continue
        plans = [x[first[k]:last[k]].copy() for k in hired]  # identical creators: the same weeks
        for i, k in enumerate(chain):
            x[first[k]:last[k]] = plans[i] if i < len(plans) else 0.0
            x[m.n_x + k] = 1.0 if i < len(plans) else 0.0
    return x
