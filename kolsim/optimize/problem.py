"""A planner's request compiled to arrays: candidates x weeks, values, prices, caps.

The values come from the campaign model (:func:`kolsim.model.creator_table`
and the decay kernel), the same numbers the engines sample; the optimizer sees
only this :class:`Problem`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import capacity, creator_table, decay_kernel, decision_share, own_audience
from ..pool import Pool, vet
from ..rules import WEEK_DAY, WINDOW_WEEKS, cadence_cap
from ..scenario import OBJECTIVES, Optimize, Scenario

__all__ = ["Problem", "build_problem", "min_posts_of", "EXCLUSIONS", "SOFT_EXCLUSIONS", "ranges"]

#: Why a creator is left out before solving, by code (excluded.csv's ``codes`` column).
EXCLUSIONS: dict[str, str] = {
    "vetting": "a red flag of vetting (kolsim pool vet)",
    "banned_by_law": "its category may not be promoted by creators (law, [S3])",
    "brand_banned": "its category is in [optimize] banned_categories",
    "exclude_list": "it is on [optimize] exclude",
    "no_sponsored_note": "the platform's rule allows it no sponsored note",
    "no_week": "its tier may post in no week of the plan",
    "over_budget": "its smallest commitment (fee and minimum notes) exceeds the budget",
    "below_min_posts": "its weeks and the platform's rule allow it fewer notes than its minimum",
}
#: Exclusions that a must-include overrides (said in a notice); the others stand.
SOFT_EXCLUSIONS = frozenset({"vetting"})


@dataclass(frozen=True, eq=False)
class Problem:
    """Candidates (N), weeks (W) and everything the formulation needs.

    Attributes
    ----------
    ids, tier, category : arrays (N,)
    segment : int array (N,), into ``segment_names`` / ``segment_sizes``
    segment_sizes : float array (S,)
        People in each segment.
    capacity : float array (S,)
        The saturation curve's scale of each segment: its in-market people
        (:func:`kolsim.model.capacity`) for conversions and profit, its people
        for reach.
    cost, fee : float arrays (N,)
        RMB per note and one-off hiring fee (contracted: what the budget counts).
    cost_cents, fee_cents : int arrays (N,)
        The same in whole cents, for exact verification.
    expected_cost : float array (N,)
        Expected RMB per note: the price times (upfront share + (1 - upfront) P(delivered)).
    cap : int array (N,)
        Sponsored notes allowed in any 4 weeks: floor(sponsored_share x monthly posts).
    min_posts : int array (N,)
        Least notes of each creator if hired (:func:`min_posts_of`).
    upper : int array (N, W)
        Most notes in a week (0 where the week is not allowed).
    value : float array (N, W)
        Expected contribution of one note published in week w (on its middle day): purchase
        decisions on and off RED within the horizon (conversions, profit), reads (reach) or
        interactions.
    objective : str
    saturating : bool
        Whether per-segment value saturates as M (1 - exp(-C/M)), M the capacity.
    cuts : tuple of (slopes, intercepts), one per segment when saturating
        The tangents z <= intercept + slope C that approximate the curve up to
        the most pressure the segment can take (:func:`saturation_cuts`); part
        of the request, so every model of it (and any baseline) uses the same.
    own_share : float array (N,)
        Share of a note's value raised among the creator's own followers, f_k = theta_t (1 - omega)
        (0 when nothing saturates).
    own_capacity : float array (N,)
        The scale c_k of each creator's own-follower curve c_k (1 - exp(-O_k / c_k)): its
        in-market own followers m_k for conversions and profit (its own followers for reach),
        times P(delivery) for a creator who delivers all its notes or none.
    own_value : float array (N, W)
        Each note's pressure on that curve, O_k = sum_w own_value[k, w] x_kw, chosen so that the
        curve is the engines' expectation over the notes' viral factors and delivery
        (:func:`_expected_own`); about f_k value[k, w] when the curve is far from its top.
    own_cuts : (slopes, intercepts, counts)
        The tangents of every creator's own-follower curve, one creator after the other
        (``counts[k]`` of them for creator k, 0 where f_k = 0).
    approximation_error : float
        The largest relative overestimate of the model value over the exact one:
        the segments' tangent envelopes' error e_s, or (1 + e_s)(1 + e_own) - 1
        with own-follower curves nested in them (0 when nothing saturates).
    unit_value : float
        RMB per saturated unit (price x margin) for profit; 1 otherwise.
    budget, budget_cents
    must : bool array (N,)
    settings : Optimize
    excluded : DataFrame
        Creators left out before solving, each with its reason.
    horizon : int
    """

    ids: np.ndarray
    tier: np.ndarray
    category: np.ndarray
    segment: np.ndarray
    segment_names: tuple[str, ...]
    segment_sizes: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    fee: np.ndarray
    cost_cents: np.ndarray
    fee_cents: np.ndarray
    expected_cost: np.ndarray
    cap: np.ndarray
    min_posts: np.ndarray
    upper: np.ndarray
    value: np.ndarray
    objective: str
    saturating: bool
    unit_value: float
    budget: float
    budget_cents: int
    must: np.ndarray
    settings: Optimize
    horizon: int
    cuts: tuple = field(default=(), repr=False)
    own_share: np.ndarray | None = field(default=None, repr=False)
    own_capacity: np.ndarray | None = field(default=None, repr=False)
    own_value: np.ndarray | None = field(default=None, repr=False)
    own_cuts: tuple = field(default=(), repr=False)
    approximation_error: float = 0.0
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["kol_id", "tier", "reason", "codes"]))
    notices: tuple[str, ...] = ()
    blocked: dict = field(default_factory=dict)  # must-include creators a hard rule blocks, and why
    pool_min_posts: bool = False  # the pool's min_posts column asks more than 1 note of some creator
    bought: np.ndarray | None = field(default=None, repr=False)  # (N, W) notes already bought: kept
    bought_plan: pd.DataFrame | None = field(default=None, repr=False)  # the same, as given

    @property
    def n(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"Problem({self.n:,} candidates over {self.weeks} weeks, objective {self.objective}, "
                f"budget ¥{self.budget:,.0f}; {len(self.excluded):,} excluded)")

    @property
    def weeks(self) -> int:
        return self.upper.shape[1]

    @property
    def owns(self) -> np.ndarray:
        """Whether each creator has an own-follower curve in the model (f_k > 0 and saturating)."""
        if not self.saturating or self.own_share is None:
            return np.zeros(self.n, bool)
        return self.own_share > 0

    def subset(self, keep: np.ndarray) -> "Problem":
        """The same request restricted to candidates ``keep`` (bool mask or indices)."""
        idx = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        arrays = {f: getattr(self, f)[idx] for f in (
            "ids", "tier", "category", "segment", "cost", "fee", "cost_cents", "fee_cents",
            "expected_cost", "cap", "min_posts", "upper", "value", "must")}
        if self.bought is not None:
            arrays["bought"] = self.bought[idx]
        if self.own_share is not None:
            arrays["own_share"], arrays["own_capacity"] = self.own_share[idx], self.own_capacity[idx]
            arrays["own_value"] = self.own_value[idx]
        if self.own_cuts:
            b, a, counts = self.own_cuts
            first = np.cumsum(counts) - counts
            take = ranges(first[idx], counts[idx])
            arrays["own_cuts"] = (b[take], a[take], counts[idx])
        return replace(self, **arrays)


def ranges(first: np.ndarray, length: np.ndarray) -> np.ndarray:
    """first[0], first[0] + 1, ..., first[0] + length[0] - 1, first[1], ...: the runs, one after another."""
    first, length = np.asarray(first, np.int64), np.asarray(length, np.int64)
    return (first - (length.cumsum() - length)).repeat(length) + np.arange(int(length.sum()))


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, float) * 100).astype(np.int64)


def min_posts_of(opt: Optimize, tier: np.ndarray, column: np.ndarray | None = None) -> np.ndarray:
    """Least notes of each creator if hired: its pool row's ``min_posts`` where given, else its
    tier's ``[optimize.tiers.T] min_posts``, else ``[optimize] min_posts_if_hired``."""
    m = np.full(len(tier), opt.min_posts_if_hired, np.int64)
    for t, r in opt.tiers.items():
        if r.min_posts is not None:
            m[tier == t] = r.min_posts
    if column is not None:
        given = np.isfinite(column)
        m[given] = np.asarray(column)[given].astype(np.int64)
    return m


def build_problem(scenario: Scenario, pool: Pool, *, objective: str | None = None,
                  settings: Optimize | None = None, budget: float | None = None,
                  cadence: bool = True, pool_min_posts: bool = True, bought: pd.DataFrame | None = None) -> Problem:
    """Compile a scenario's ``[optimize]`` policy and a candidate pool.

    Creators are left out before solving, with the reason kept, when vetting
    excludes them, the policy excludes them (the exclude list, a banned
    category), the platform's cadence rule
    allows them no sponsored note, their tier may post in no week, or their
    smallest commitment (fee + minimum posts) exceeds the budget.

    ``settings``, ``budget``, ``cadence=False`` (no platform rule) and
    ``pool_min_posts=False`` (the pool's ``min_posts`` column lifted to 1 note) replace
    the scenario's policy, budget, cadence rule and the pool's minimum notes: the diagnosis of an
    infeasible request and the ¥1,000 re-solve compile relaxed or richer
    versions of a request this way, beyond what a scenario file may say.

    ``bought`` (kol_id, week, posts): notes already bought, which every plan keeps (incremental
    planning); their creators are must-include.

    Raises
    ------
    InputError
        An id in must_include / exclude that is not in the pool, or a
        candidate's segment without a size.
    """
    opt = settings or scenario.optimize or Optimize(weeks=max(1, min(8, scenario.campaign.horizon_days // 7)))
    if bought is not None:
        bought = _bought_rows(bought, pool, opt)
        opt = replace(opt, must_include=tuple(dict.fromkeys(tuple(opt.must_include) + tuple(bought["kol_id"]))))
    objective = objective or opt.objective
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(OBJECTIVES)} (got {objective!r})")
    camp = scenario.campaign
    budget = camp.budget if budget is None else float(budget)
    if objective == "profit" and (camp.price is None or camp.margin is None):
        raise InputError("the profit objective needs [campaign] price and margin", file=scenario.source)
    ids_all = pool.frame["kol_id"].to_numpy(object)
    known = set(ids_all)
    for key, ids in (("must_include", opt.must_include), ("exclude", opt.exclude)):
        missing = [k for k in ids if k not in known]
        if missing:
            raise InputError(f"{missing[0]!r} is not in the candidate pool {pool.source or ''}".rstrip(),
                             file=scenario.source, where=f"[optimize] {key}")

    frame = pool.frame
    n_all = len(frame)
    par = creator_table(frame, scenario.tiers, pool, scenario=scenario)
    reasons: list[list[tuple[str, str]]] = [[] for _ in range(n_all)]  # (code, words) per creator
    notices: list[str] = []
    report = vet(pool, scenario.tiers, scenario.vetting)
    pos = dict(zip(ids_all, range(n_all)))
    for kol, why, codes in zip(report.excluded["kol_id"], report.excluded["reasons"], report.excluded["codes"]):
        for code, text in zip(codes.split(";"), why.split("; ")):
            reasons[pos[kol]].append(("banned_by_law" if code == "banned_category" else "vetting", f"vetting: {text}"))
    for kol in opt.exclude:
        reasons[pos[kol]].append(("exclude_list", "on the exclude list"))
    cat_all = frame["category"].to_numpy(object)
    for c in opt.banned_categories:
        hit = np.flatnonzero(cat_all == c)
        for i in hit:
            reasons[i].append(("brand_banned", f"category {c} is banned by [optimize] banned_categories"))
        if not hit.size:
            notices.append(f"banned category {c!r} matches no creator in the pool")
    # a banned creator is never a candidate, whatever the lists say
    for kol in opt.must_include:
        codes = {code for code, _ in reasons[pos[kol]]}
        if codes & {"banned_by_law", "brand_banned"}:
            why = ("is in [optimize] banned_categories" if "brand_banned" in codes
                   else "may not be promoted by creators (law, [S3])")
            raise InputError(f"must_include names {kol!r}, whose category {why}",
                             file=scenario.source, where="[optimize] must_include")

    h = camp.horizon_days
    W = opt.weeks
    cap = (cadence_cap(par["monthly_posts"], opt.sponsored_share) if cadence
           else np.full(n_all, 1000, np.int64))  # no cap worth the name
    tier = frame["tier"].to_numpy(object)
    week_ok = np.zeros((n_all, W), dtype=bool)
    for t in np.unique(tier):
        rule = opt.tiers.get(t)
        weeks = rule.weeks if rule is not None and rule.weeks is not None else range(1, W + 1)
        rows = tier == t
        for w in weeks:
            if 7 * (w - 1) < h:
                week_ok[rows, w - 1] = True
    per_week = cap if opt.max_posts_per_week is None else np.minimum(cap, opt.max_posts_per_week)
    upper = np.where(week_ok, per_week[:, None], 0).astype(np.int64)
    # money in the model is the same whole cents the verifier counts
    fee = _cents(par["hiring_fee"]) / 100
    cost = _cents(par["cost_per_post"]) / 100
    column = frame["min_posts"].to_numpy(float)
    asks_more = bool((column > 1).any())  # NaN compares False
    m = min_posts_of(opt, tier, column if pool_min_posts else np.where(np.isfinite(column), 1.0, np.nan))
    for i in np.flatnonzero(cap == 0):
        reasons[i].append(("no_sponsored_note", f"the platform's {opt.sponsored_share:.0%} rule allows no "
                           f"sponsored note at {par['monthly_posts'][i]:g} notes a month"))
    for i in np.flatnonzero((cap > 0) & ~week_ok.any(axis=1)):
        reasons[i].append(("no_week", f"tier {tier[i]} may post in no week of the plan"))
    most = most_notes(upper, cap)
    for i in np.flatnonzero((most > 0) & (most < m)):
        reasons[i].append(("below_min_posts", f"its weeks and the platform's rule allow it {most[i]} note(s), "
                           f"fewer than its minimum of {m[i]}"))
    for i in np.flatnonzero(fee + m * cost > budget + 1e-9):
        reasons[i].append(("over_budget", f"the smallest commitment (fee + {m[i]} note(s)) "
                           f"¥{fee[i] + m[i] * cost[i]:,.0f} exceeds the budget"))

    # value of one note of week w, published on the week's middle day, the day the engines
    # publish it (rules.week_days): the share of its reads within the horizon, and for buyers
    # its purchase decisions on and off RED within it (model.decision_share)
    days = [7 * w + WEEK_DAY for w in range(W)]
    if objective in ("conversions", "profit"):
        seen = decision_share(scenario, days)
    else:
        kernel = decay_kernel(scenario.decay, h)
        seen = np.array([kernel[: h - d].sum() if d < h else 0.0 for d in days])
    base = par["p_post"] * par["reads"]
    per_note = {"conversions": base * par["ctr"] * par["cvr"], "profit": base * par["ctr"] * par["cvr"],
                "reach": base, "interactions": base * par["interaction_rate"]}[objective]
    value = per_note[:, None] * seen[None, :]
    if (objective in ("conversions", "profit") and scenario.funnel.offsite_per_onsite > 0
            and "expected_conversions" in frame.columns and frame["expected_conversions"].notna().any()):
        notices.append(f"the pool's expected_conversions are read as purchases on RED; [funnel] offsite_per_onsite "
                       f"= {scenario.funnel.offsite_per_onsite:g} adds off-platform buyers on top (set it to 0 "
                       "when your figures already count them)")
    saturating = opt.saturation and objective != "interactions"
    unit_value = camp.price * camp.margin if objective == "profit" else 1.0
    expected_cost = cost * (par["upfront"] + (1 - par["upfront"]) * par["p_post"])

    segs = pool.segments()
    keep = np.array([not r for r in reasons])
    must_mask = np.isin(frame["kol_id"].to_numpy(object), list(opt.must_include))
    used = sorted(set(segs[keep | must_mask]))
    sizes = dict(scenario.segments)
    missing = [s for s in used if s not in sizes]
    if missing and scenario.default_segment_size is None:
        raise InputError(f"segment(s) {', '.join(repr(s) for s in missing)} of the candidates have no size; "
                         "add them to [audience.segments] or set [audience] default_size",
                         file=scenario.source, where="[audience]")
    for s in missing:
        sizes[s] = scenario.default_segment_size
    seg_names = tuple(used)
    seg_index = {s: i for i, s in enumerate(seg_names)}

    # a must-include creator is the planner's explicit choice: it overrides
    # vetting (said in a notice); a hard rule that leaves it no note stays, and
    # the solve reports the conflict with the reason
    for i in np.flatnonzero(must_mask):
        vetted = [text for code, text in reasons[i] if code in SOFT_EXCLUSIONS]
        if vetted:
            notices.append(f"must-include {ids_all[i]} is kept although {'; '.join(vetted)}")
    ex = [i for i in range(n_all) if reasons[i] and not must_mask[i]]
    excluded = pd.DataFrame({"kol_id": [ids_all[i] for i in ex], "tier": [tier[i] for i in ex],
                             "reason": ["; ".join(text for _, text in reasons[i]) for i in ex],
                             "codes": [";".join(dict.fromkeys(code for code, _ in reasons[i])) for i in ex]})
    hard = [i for i in np.flatnonzero(must_mask) if any(code not in SOFT_EXCLUSIONS for code, _ in reasons[i])]
    blocked = {ids_all[i]: "; ".join(text for _, text in reasons[i]) for i in hard}
    keep = keep | must_mask
    idx = np.flatnonzero(keep)
    segment = np.array([seg_index[s] for s in segs[idx]], dtype=np.int64)
    segment_sizes = np.array([sizes[s] for s in seg_names], float)
    # the curve's scale: in-market people for buyers, people for distinct readers
    curve = segment_sizes if objective == "reach" else capacity(scenario, seg_names, segment_sizes)
    cuts, error = _cuts(segment, curve, value[idx], upper[idx], opt.saturation_tolerance) \
        if saturating and seg_names else ((), 0.0)
    # each creator's own followers: a share of its notes' value lands on them and saturates there
    own_share, own_people, in_market = own_audience(scenario.response, par["real_followers"][idx],
                                                    par["follower_share"][idx], par["relevance"][idx])
    own_cap = own_people if objective == "reach" else in_market
    own_share = np.where(saturating & (own_cap > 0), own_share, 0.0)
    own_cuts: tuple = ()
    own_value = np.zeros((len(idx), W))
    owns = own_share > 0
    if owns.any():
        sigma = np.array([scenario.tiers[t].reach_sigma for t in tier[idx][owns]], float)
        cap_o, value_o = _expected_own(own_share[owns], own_cap[owns], value[idx][owns], par["p_post"][idx][owns],
                                       par["per_creator_delivery"][idx][owns], sigma)
        own_cap = np.where(owns, own_cap, 0.0)
        own_cap[owns] = cap_o
        own_value[owns] = value_o
        o_max = _most_own_pressure(value_o, upper[idx][owns], cap[idx][owns], cost[idx][owns], fee[idx][owns],
                                   budget, W)
        b, a, counts, e_own = _own_cuts(cap_o, o_max, own_share[owns], opt.saturation_tolerance)
        all_counts = np.zeros(len(idx), np.int64)
        all_counts[owns] = counts
        own_cuts = (b, a, all_counts)
        # the segment's envelope of an envelope: model <= (1 + e_seg) F((1 + e_own) C) <= (1 + e_seg)(1 + e_own) F(C),
        # F concave through 0
        error = (1 + error) * (1 + e_own) - 1
    have = set(map(str, frame["category"].to_numpy(object)[idx]))
    if camp.category not in set(map(str, frame["category"])):
        shown = ", ".join(sorted(set(map(str, frame["category"])))[:12])
        notices.append(f"no candidate is in the campaign's category {camp.category!r} (the pool's categories: "
                       f"{shown}); every creator's fit comes from the category matrix (docs/model.md)")
    for c, b in opt.category_share.items():
        if c not in have and b.min == 0:  # (a minimum share on it is infeasible: the pipeline says so)
            notices.append(f"[optimize.category_share] names category {c!r}, which no candidate is in, so its "
                           f"limit binds nothing")
    problem = Problem(
        ids=frame["kol_id"].to_numpy(object)[idx], tier=tier[idx],
        category=frame["category"].to_numpy(object)[idx],
        segment=segment, segment_names=seg_names, segment_sizes=segment_sizes, capacity=curve,
        cost=cost[idx], fee=fee[idx], cost_cents=_cents(cost[idx]), fee_cents=_cents(fee[idx]),
        expected_cost=expected_cost[idx], cap=cap[idx], min_posts=m[idx], upper=upper[idx], value=value[idx],
        objective=objective, saturating=saturating, cuts=cuts, approximation_error=error,
        own_share=own_share, own_capacity=own_cap, own_value=own_value, own_cuts=own_cuts,
        unit_value=float(unit_value),
        budget=int(round(budget * 100)) / 100, budget_cents=int(round(budget * 100)),
        must=must_mask[idx], settings=opt, horizon=h, excluded=excluded, notices=tuple(notices),
        blocked=blocked, pool_min_posts=asks_more and pool_min_posts)
    if bought is not None:
        problem = _with_bought(problem, bought)
    return problem


def _bought_rows(bought: pd.DataFrame, pool: Pool, opt: Optimize) -> pd.DataFrame:
    """The bought notes, checked: known creators, weeks of the request, whole notes."""
    missing = [c for c in ("kol_id", "week", "posts") if c not in getattr(bought, "columns", ())]
    if missing:
        raise InputError(f"the bought plan needs columns kol_id, week, posts (missing {', '.join(missing)})")
    rows = bought[["kol_id", "week", "posts"]].copy()
    rows["kol_id"] = rows["kol_id"].astype(str)
    known = set(pool.frame["kol_id"].astype(str))
    for i, (kol, week, posts) in enumerate(rows.itertuples(index=False), 1):
        if kol not in known:
            raise InputError(f"the bought plan's row {i}: {kol} is not in the candidate pool {pool.source or ''}".rstrip())
        for name, v, lo, hi in (("week", week, 1, opt.weeks), ("posts", posts, 0, 10_000)):
            x = float(v) if isinstance(v, (int, float, np.integer, np.floating)) else math.nan
            if not (math.isfinite(x) and x == int(x) and lo <= x <= hi):
                raise InputError(f"the bought plan's row {i}: {name} {v!r} is not a whole number from {lo} to {hi}"
                                 + (" (the request's weeks)" if name == "week" else ""))
    rows = rows[rows["posts"].astype(int) > 0]
    rows = rows.astype({"week": int, "posts": int}).groupby(["kol_id", "week"], as_index=False)["posts"].sum()
    return rows


def _with_bought(p: Problem, bought: pd.DataFrame) -> Problem:
    at = {str(k): i for i, k in enumerate(p.ids)}
    arr = np.zeros_like(p.upper, dtype=np.int64)
    for kol, week, posts in bought.itertuples(index=False):
        k = at[kol]  # a must-include: always a candidate
        arr[k, week - 1] = posts
        if posts > p.upper[k, week - 1]:
            why = p.blocked.get(kol, "")
            raise InputError(f"the bought plan keeps {posts} note(s) by {kol} in week {week}, but this request allows "
                             f"it at most {int(p.upper[k, week - 1])} there (the platform's cadence rule, its tier's "
                             f"weeks or the brand's weekly cap){'; ' + why if why else ''}")
    return replace(p, bought=arr, bought_plan=bought)


def _most_own_pressure(own_value, upper, cap, cost, fee, budget, weeks):
    """An upper bound on each creator's own-follower pressure O_k over every plan: its most notes
    (its weekly limits, the cadence cap in each of ceil(W / 4) disjoint 4-week windows, and what
    the budget buys after its fee) times its largest per-note pressure.  The tangents need reach
    only that far."""
    notes = upper.sum(axis=1).astype(float)
    notes = np.minimum(notes, cap * math.ceil(weeks / WINDOW_WEEKS))
    affordable = np.where(cost > 0, np.floor(np.maximum(budget - fee, 0.0) / np.where(cost > 0, cost, 1.0)), np.inf)
    notes = np.minimum(notes, affordable)
    return np.maximum(notes * own_value.max(axis=1, initial=0.0), 1e-9)


def _own_cuts(cap, o_max, share, tol):
    """Tangents of the own-follower curves, creator by creator, and their error on the objective.

    A creator's own curve carries a share of at most f_k of its pressure on the segment (its
    own pressure is at most f_k times its notes' value), so an overestimate e_k of the own curve
    is at most e_k f_k of the segment's pressure: each creator's tangents are placed for the
    tolerance tol / f_k (at most 0.2), and the error returned is max_k e_k f_k <= tol.
    """
    tol_k = np.minimum(tol / share, 0.2)
    n = len(cap)
    counts = np.zeros(n, np.int64)
    errors = np.zeros(n)
    parts: dict[int, tuple] = {}
    for t in np.unique(tol_k):
        mine = np.flatnonzero(tol_k == t)
        b, a, c, e = saturation_cuts(cap[mine], o_max[mine], float(t))
        counts[mine], errors[mine] = c, e
        ends = np.cumsum(c)
        for i, k in enumerate(mine):
            parts[int(k)] = (b[ends[i] - c[i]:ends[i]], a[ends[i] - c[i]:ends[i]])
    slopes = np.concatenate([parts[k][0] for k in range(n)]) if n else np.zeros(0)
    intercepts = np.concatenate([parts[k][1] for k in range(n)]) if n else np.zeros(0)
    return slopes, intercepts, counts, float((errors * share).max(initial=0.0))


def _expected_own(share, cap, value, p_post, per_creator, sigma, nodes: int = 80):
    """Capacities and per-note pressures of the own-follower curves, in expectation.

    The engines count m (1 - exp(-sum_j X_j / m)) of a creator's own decisions
    X_j = D_j f (v_j / delta) L_j (delivery D_j ~ Bernoulli(delta), viral factor
    L_j lognormal of mean 1, v_j the note's expected value).  Independent notes
    give E exp(-sum X_j / m) = prod_j E exp(-X_j / m) = exp(-sum_j psi_j), so the
    expected curve is m (1 - exp(-sum_j psi_j)): concave in a sum that is linear
    in the notes.  With phi(a) = E exp(-a L) (Gauss-Hermite quadrature),
    psi = -log(1 - delta + delta phi(f v / (delta m))) for notes delivered one by
    one; a creator who delivers all or none gives delta m (1 - prod_j phi), so its
    capacity is delta m and psi = -log phi(f v / (delta m)).  Returns
    ``(capacity, pressure)`` with pressure = capacity x psi (about f v for small
    a).  The campaign's and creators' shared effects are not in it (the
    optimizer plans on their mean; ``docs/optimizer.md`` §6).
    """
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    ok = share > 0
    delta = np.where(ok, np.maximum(p_post, 1e-12), 1.0)
    m = np.where(ok, cap, 1.0)
    a = share[:, None] * value / (delta * m)[:, None]                       # (N, W)
    L = np.exp(sigma[:, None] * z[None, :] - 0.5 * sigma[:, None] ** 2)    # (N, nodes)
    phi = np.exp(-a[:, :, None] * L[:, None, :]) @ w                        # (N, W)
    one_by_one = ~np.asarray(per_creator, bool)
    d = np.where(one_by_one, delta, 1.0)[:, None]
    psi = -np.log(np.maximum(1 - d + d * phi, 1e-300))
    capacity = np.where(ok, np.where(one_by_one, m, delta * m), 0.0)
    return capacity, np.where(ok[:, None], capacity[:, None] * psi, 0.0)


def most_notes(upper: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """The most notes each creator can publish: weekly limits ``upper`` (N, W) and at most
    ``cap`` in every rolling 4-week window.  Filling the weeks in order, each as far as its
    limit and the windows holding it allow, is optimal: where a best plan first has fewer
    notes than the fill (week w), moving its next later note (week w') to w keeps it feasible,
    since the windows that gain hold w but not w', so nothing after w, and the fill found
    room in them; with no later note, adding one at w would beat it."""
    N, W = upper.shape
    starts = window_starts(W)
    room = np.repeat(np.asarray(cap, np.int64)[:, None], len(starts), axis=1)  # per window
    total = np.zeros(N, np.int64)
    for w in range(W):
        mine = [j for j in starts if j <= w < j + WINDOW_WEEKS]
        x = np.minimum(upper[:, w], room[:, mine].min(axis=1)) if mine else upper[:, w]
        room[:, mine] -= x[:, None]
        total += x
    return total


def window_starts(weeks: int) -> range:
    """First weeks (0-based) of the rolling 4-week windows of the cadence rule."""
    return range(max(1, weeks - (WINDOW_WEEKS - 1)))


def _cuts(segment, sizes, value, upper, tol) -> tuple[tuple, float]:
    """Each segment's (slopes, intercepts) up to its largest pressure (every note allowed, at
    its week's value), and the largest approximation error of any segment."""
    k, w = np.nonzero(upper > 0)
    c_max = np.bincount(segment[k], weights=value[k, w] * upper[k, w], minlength=len(sizes))
    slopes, intercepts, counts, errors = saturation_cuts(sizes, np.maximum(c_max, 1e-9), tol)
    ends = np.cumsum(counts).tolist()
    cuts = tuple((slopes[e - c:e], intercepts[e - c:e]) for e, c in zip(ends, counts.tolist()))
    return cuts, float(errors.max(initial=0.0))


def saturation_cuts(sizes: np.ndarray, c_max: np.ndarray, tol: float):
    """Tangent cuts of f_s(C) = A_s (1 - exp(-C/A_s)) on [0, c_max_s], for every segment s.

    Returns ``(slopes, intercepts, counts, errors)``: the cuts of all segments
    one after the other (``counts[s]`` of them for segment s, each
    z <= intercept + slope C) and each segment's exact largest relative
    overestimate of the envelope over f on (0, c_max_s].

    In u = C/A the curve is the same for every segment, so the tangent points
    are placed once per tolerance (:func:`_tangent_points`) and a segment takes
    them in order until one tangent alone stays within ``tol`` up to its
    u_max (or the first point at or beyond u_max is reached).  The errors are
    exact, not measured on a grid: between neighbouring tangents the relative
    overestimate is largest where they cross, and beyond the last tangent it
    grows with u (docs/optimizer.md, section 6).

    Examples
    --------
    >>> b, a, counts, err = saturation_cuts(np.array([1000.0, 1000.0]), np.array([3000.0, 1e-3]), 0.001)
    >>> counts.tolist(), bool(err.max() <= 0.001)
    ([31, 1], True)
    """
    sizes = np.asarray(sizes, float)
    pts, worst = _tangent_points(float(tol))
    u_max = np.maximum(np.asarray(c_max, float) / sizes, 1e-12)
    pts = pts[:np.searchsorted(pts, u_max.max(), side="right") + 1]  # no later point is ever taken
    # the first tangent that alone stays within tol on (its point, u_max]
    h = u_max[:, None] - pts[None, :]
    alone = (h >= 0) & (_overestimate(pts[None, :], np.maximum(h, 0.0)) <= tol)
    found = alone.any(axis=1)
    last = np.minimum(np.searchsorted(pts, u_max), len(pts) - 1)  # first point at or beyond u_max
    j = np.where(found, alone.argmax(axis=1), last)
    prefix = np.concatenate([[0.0], np.maximum.accumulate(worst)])  # worst error of intervals before point i
    u_j = pts[j]
    # the last tangent's own overestimate at u_max (0 when u_max is not beyond its point); beyond
    # the last point (u = 60) it is all that is left, so it counts in both cases
    tail = _overestimate(u_j, np.maximum(u_max - u_j, 0.0))
    prev = np.maximum(j - 1, 0)
    err_last = np.maximum(prefix[prev],
                          np.minimum(worst[prev], _overestimate(pts[prev], np.maximum(u_max - pts[prev], 0.0))))
    errors = np.maximum(np.where(found, prefix[j], err_last), tail)
    counts = j + 1
    u = pts[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)]  # 0 .. count-1 each
    slopes = np.exp(-u)
    intercepts = np.repeat(sizes, counts) * (-np.expm1(-u) - slopes * u)
    return slopes, intercepts, counts, errors


def _overestimate(u0, h):
    """(t(u0 + h) - f(u0 + h)) / f(u0 + h): the tangent at u0 against f = 1 - exp(-u), h >= 0."""
    u0, h = np.asarray(u0, float), np.asarray(h, float)
    return np.exp(-u0) * (np.expm1(-h) + h) / np.maximum(-np.expm1(-(u0 + h)), 1e-300)  # 0 where h = 0


def _crossing_gap(u0: float, d: float) -> float:
    """The largest relative overestimate between the tangents at u0 and u0 + d (d > 0):
    :func:`_overestimate` at their crossing, in scalar math for the bisection's inner loop.

    They cross at u0 + 1 - d / (e^d - 1); the tangent at u0 overestimates f more
    and more up to there and the one at u0 + d less and less after it, so the
    crossing is the worst point.
    """
    h = 1.0 - d / math.expm1(d)
    return math.exp(-u0) * (math.expm1(-h) + h) / -math.expm1(-(u0 + h))


@lru_cache(maxsize=16)
def _tangent_points(tol: float, u_end: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """Tangent points 0 = u_0 < u_1 < ... <= u_end on f(u) = 1 - exp(-u), and the exact worst
    relative overestimate between each pair of neighbours.  Each next point is the farthest
    (bisection on the closed form of :func:`_crossing_gap`) that keeps that within ``tol``."""
    points, worst = [0.0], []
    while points[-1] < u_end and len(points) < 5000:
        u0 = points[-1]
        if _crossing_gap(u0, u_end - u0) <= tol:
            points.append(u_end)
            worst.append(_crossing_gap(u0, u_end - u0))
            break
        lo, hi = 0.0, u_end - u0
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if _crossing_gap(u0, mid) <= tol else (lo, mid)
        lo = max(lo, 1e-12)
        points.append(u0 + lo)
        worst.append(_crossing_gap(u0, lo))
    return np.array(points), np.array(worst)
