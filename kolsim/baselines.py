"""Simpler plans beside an optimised one: what the integer program buys over the rules of thumb.

Three baselines are built from the same request (:class:`~kolsim.optimize.Problem`) and checked
by the same verifier as the optimizer's plans:

- **greedy**: a cost-benefit ranking with lazy re-evaluation (CELF, Leskovec et al. 2007): the
  move with the best expected gain per yuan is taken, one at a time (hiring a creator for its
  minimum notes, or one more note of a hired creator), within the budget, the weekly limits,
  the cadence cap over every four weeks, the brand's weekly cap and the tiers' counts;
- **template**: the planners' tier template (1 top, 10 mid and 15 small creators, micro and KOC,
  each at its minimum notes from its first allowed week; the best of each tier by value per
  yuan), trimmed from the largest group until it fits the budget;
- **random**: a random feasible plan (creators in random order, each hired at its minimum notes
  in random allowed weeks while the budget allows), seeded.

Each is simulated on the same random numbers as the optimised plan, so the differences are
paired; a baseline that breaks a rule the verifier checks (a category share, a tier's minimum) is
reported with the rule and not simulated.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd

from .analysis import plan_outcomes
from .engines._common import seed_sequence
from .optimize import OptimizationResult, Problem
from .optimize.formulation import build_milp
from .optimize.verify import plan_value, plan_vector
from .results import describe
from .rules import WINDOW_WEEKS

__all__ = ["baselines", "greedy_plan", "template_plan", "random_plan", "TEMPLATE", "MAX_CANDIDATES"]

#: The planners' template: creators per tier group (RED agencies' 1-2 top / 10-15 mid / 15-20 small).
TEMPLATE = {"top": 1, "mid": 10, "small": 15}
#: Above this many candidates the greedy baseline is not built (it re-values the plan per move).
MAX_CANDIDATES = 3000


class _State:
    """A plan being built, with the rules a move must keep."""

    def __init__(self, p: Problem):
        self.p = p
        self.posts = np.zeros_like(p.upper, dtype=np.int64)
        if p.bought is not None:
            self.posts += p.bought
        self.hired = (self.posts.sum(axis=1) > 0).astype(np.int64)
        self.spend = int((p.cost_cents * self.posts.sum(axis=1) + p.fee_cents * self.hired).sum())
        o = p.settings
        self.week_cap = o.max_posts_per_week
        self.tier_max = {t: r.max_creators for t, r in o.tiers.items() if r.max_creators is not None}

    def value(self, posts=None, hired=None) -> float:
        return plan_value(self.p, self.posts if posts is None else posts, self.hired if hired is None else hired)[0]

    def fits(self, k: int, add: np.ndarray) -> bool:
        p = self.p
        new = self.posts[k] + add
        if np.any(new > p.upper[k]):
            return False
        W = len(new)
        for w0 in range(max(1, W - WINDOW_WEEKS + 1)):  # the cadence cap over every four weeks
            if new[w0:w0 + WINDOW_WEEKS].sum() > p.cap[k]:
                return False
        if self.week_cap is not None and np.any(self.posts.sum(axis=0) + add > self.week_cap):
            return False
        fee = 0 if self.hired[k] else int(p.fee_cents[k])
        if self.spend + int(p.cost_cents[k]) * int(add.sum()) + fee > p.budget_cents:
            return False
        if not self.hired[k] and p.tier[k] in self.tier_max:
            if int(self.hired[p.tier == p.tier[k]].sum()) >= self.tier_max[p.tier[k]]:
                return False
        return True

    def cost(self, k: int, add: np.ndarray) -> int:
        return int(self.p.cost_cents[k]) * int(add.sum()) + (0 if self.hired[k] else int(self.p.fee_cents[k]))

    def apply(self, k: int, add: np.ndarray) -> None:
        self.spend += self.cost(k, add)
        self.posts[k] += add
        self.hired[k] = 1

    def frame(self) -> pd.DataFrame:
        k, w = np.nonzero(self.posts)
        return pd.DataFrame({"kol_id": self.p.ids[k], "week": w + 1, "posts": self.posts[k, w]})


def _first_notes(p: Problem, k: int, start: int = 0, rng=None) -> np.ndarray | None:
    """A creator's minimum notes in its allowed weeks (from week ``start``, or random weeks)."""
    need = int(max(1, p.min_posts[k]))
    weeks = np.flatnonzero(p.upper[k] > 0)
    if rng is not None:
        weeks = rng.permutation(weeks)
    else:
        weeks = np.concatenate([weeks[weeks >= start], weeks[weeks < start]])
    add = np.zeros(p.weeks, np.int64)
    for w in weeks:
        take = min(need - int(add.sum()), int(p.upper[k, w]))
        add[w] += take
        if add.sum() >= need:
            return add
    return None


def _celf(st: _State, who: np.ndarray, stop=None) -> None:
    """CELF on the creators ``who``: the move with the best gain per yuan, re-valued lazily, until
    none fits or ``stop(st)`` holds."""
    p = st.p
    base = st.value()
    heap = [(-math.inf, int(k), int(w), -1) for k in who for w in np.flatnonzero(p.upper[k] > 0)]
    heapq.heapify(heap)  # (−gain per cent, creator, week, the plan's version it was valued on)
    stamp = 0
    while heap and not (stop is not None and stop(st)):
        neg, k, w, seen = heapq.heappop(heap)
        add = _first_notes(p, k, w) if not st.hired[k] else np.eye(p.weeks, dtype=np.int64)[w]
        if add is None or not st.fits(k, add):
            continue  # it never fits again: the plan only grows
        if seen != stamp:  # stale: re-value against the current plan and put back
            posts = st.posts.copy()
            posts[k] += add
            hired = st.hired.copy()
            hired[k] = 1
            gain = st.value(posts, hired) - base
            if gain > 1e-12:
                heapq.heappush(heap, (-gain / max(st.cost(k, add), 1), k, w, stamp))
            continue
        st.apply(k, add)
        base = st.value()
        stamp += 1
        heapq.heappush(heap, (neg, k, w, -1))  # its next note in this week may fit too


def _rules_first(st: _State, order) -> None:
    """The request's minimums before anything else: each tier's minimum creators (the first in
    ``order`` of that tier, at their minimum notes), then each category's minimum share of the
    budget (filled by ``order``)."""
    p, o = st.p, st.p.settings
    for t, r in o.tiers.items():
        for k in order(np.flatnonzero(p.tier == t)):
            if int(st.hired[p.tier == t].sum()) >= r.min_creators:
                break
            add = _first_notes(p, int(k))
            if not st.hired[k] and add is not None and st.fits(int(k), add):
                st.apply(int(k), add)
    for cat, b in o.category_share.items():
        if b.min <= 0:
            continue
        mine = p.category == cat

        def enough(s, mine=mine, share=b.min):
            return int((p.cost_cents * s.posts.sum(axis=1) + p.fee_cents * s.hired)[mine].sum()) >= share * p.budget_cents
        for k in order(np.flatnonzero(mine)):
            if enough(st):
                break
            add = _first_notes(p, int(k))
            if not st.hired[k] and add is not None and st.fits(int(k), add):
                st.apply(int(k), add)


def greedy_plan(p: Problem) -> pd.DataFrame:
    """The CELF greedy plan: the request's minimums by value per yuan, then the best expected gain
    per yuan, one move at a time."""
    st = _State(p)
    ratio = _ratios(p)
    _rules_first(st, lambda ks: ks[np.argsort(-ratio[ks], kind="stable")])
    _celf(st, np.arange(p.n))
    return st.frame()


def _ratios(p: Problem) -> np.ndarray:
    """Each creator's value per cent at its minimum notes, alone."""
    ratio = np.zeros(p.n)
    for k in range(p.n):
        add = _first_notes(p, k)
        if add is None:
            continue
        one = np.zeros_like(p.upper, dtype=np.int64)
        one[k] = add
        hired = np.zeros(p.n, np.int64)
        hired[k] = 1
        ratio[k] = plan_value(p, one, hired)[0] / max(int(p.cost_cents[k]) * int(add.sum()) + int(p.fee_cents[k]), 1)
    return ratio


def template_plan(p: Problem) -> pd.DataFrame:
    """The planners' tier template, the best of each tier by value per yuan, trimmed to the budget."""
    groups = {"top": ("top", "celebrity"), "mid": ("mid",), "small": ("micro", "koc")}
    ratio = _ratios(p)
    first = {k: a for k in range(p.n) if (a := _first_notes(p, k)) is not None}
    picks = {}
    for g, tiers in groups.items():
        mine = [k for k in np.argsort(-ratio, kind="stable") if k in first and p.tier[k] in tiers]
        picks[g] = mine[:TEMPLATE[g]]
    while True:
        st = _State(p)
        ok = True
        for g in ("top", "mid", "small"):
            for k in picks[g]:
                if st.hired[k]:
                    continue
                if not st.fits(k, first[k]):
                    ok = False
                    break
                st.apply(k, first[k])
            if not ok:
                break
        if ok or not any(picks.values()):
            return st.frame()
        largest = max(picks, key=lambda g: len(picks[g]))
        picks[largest] = picks[largest][:-1]  # drop the weakest of the largest group and try again


def random_plan(p: Problem, rng: np.random.Generator) -> pd.DataFrame:
    """The request's minimums by random creators, then creators in random order, each at its
    minimum notes in random allowed weeks, while they fit."""
    st = _State(p)
    _rules_first(st, lambda ks: rng.permutation(ks))
    for k in rng.permutation(p.n):
        if st.hired[k]:
            continue
        add = _first_notes(p, int(k), rng=rng)
        if add is not None and st.fits(int(k), add):
            st.apply(int(k), add)
    return st.frame()


def baselines(result: OptimizationResult, *, runs: int = 2000, rng=None, attempts: int = 20) -> pd.DataFrame:
    """The three baselines beside ``result``'s plan, simulated on the same random numbers.

    One row per baseline: its plan's size, spend and expected value (the optimizer's model),
    whether it meets every rule (``fits``, else the rule it breaks), and against the optimised
    plan, over paired replications: the optimised plan's simulated mean minus the baseline's
    (``advantage``, with its 95 % interval), as a share of the baseline's mean (``advantage_pct``,
    with its interval) and P(the optimised plan does better), ``p_better``.
    """
    p = result.problem
    ss = seed_sequence(result.scenario.simulation.seed if rng is None else rng)
    m = build_milp(p)
    plans = {}
    if p.n <= MAX_CANDIDATES:
        plans["greedy (cost-benefit, CELF)"] = greedy_plan(p)
    plans["tier template (1 top, 10 mid, 15 small)"] = template_plan(p)
    # the random plan's own stream: a child of the run's seed that no simulation uses
    gen = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, 2**31 - 1)))
    for _ in range(attempts):
        plan = random_plan(p, gen)
        if plan_vector(p, m, plan)[0] is not None:
            break
    plans["random feasible plan"] = plan
    x_opt, _, _ = plan_outcomes(result.scenario, result.pool, p, result.plan, runs=runs, rng=ss)
    rows = []
    for name, plan in plans.items():
        x, why = plan_vector(p, m, plan)
        fits = "fits" if x is not None else why.removeprefix("not used: ")
        posts = np.zeros_like(p.upper, dtype=np.int64)
        at = {str(k): i for i, k in enumerate(p.ids)}
        for kol, week, n in plan[["kol_id", "week", "posts"]].itertuples(index=False):
            posts[at[str(kol)], int(week) - 1] = int(n)
        hired = (posts.sum(axis=1) > 0).astype(np.int64)
        spend = int((p.cost_cents * posts.sum(axis=1) + p.fee_cents * hired).sum()) / 100
        row = {"baseline": name, "creators": int(hired.sum()), "notes": int(posts.sum()), "spend": spend,
               "expected": plan_value(p, posts, hired)[0], "fits": fits, "optimised_expected": result.objective}
        if x is not None and len(plan):
            xb, _, _ = plan_outcomes(result.scenario, result.pool, p, plan, runs=runs, rng=ss)
            d = describe(x_opt - xb)
            row.update(simulated_mean=float(xb.mean()), advantage=d["mean"], advantage_low=d["ci_low"],
                       advantage_high=d["ci_high"])
            if xb.mean() > 0:
                q = x_opt.mean() / xb.mean()
                infl = (x_opt - q * xb) / xb.mean()
                half = d["ci_high"] - d["mean"]
                se_q = float(infl.std(ddof=1) / math.sqrt(len(infl)))
                t = half / d["se"] if d["se"] > 0 else 1.96
                row.update(advantage_pct=q - 1, advantage_pct_low=q - 1 - t * se_q, advantage_pct_high=q - 1 + t * se_q)
            row["p_better"] = float(((x_opt > xb).sum() + 0.5 * (x_opt == xb).sum()) / len(xb))
        rows.append(row)
    cols = ["baseline", "creators", "notes", "spend", "expected", "optimised_expected", "fits", "simulated_mean",
            "advantage", "advantage_low", "advantage_high", "advantage_pct", "advantage_pct_low", "advantage_pct_high",
            "p_better"]
    return pd.DataFrame(rows).reindex(columns=cols)
