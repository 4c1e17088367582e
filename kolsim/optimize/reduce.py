"""Solving large pools: a core problem, and a bound that proves it suffices.

Good plans hire a few percent of a pool, so the integer program is solved on a
*core* of promising creators, and a Lagrangian bound proves what the rest
could add:

1. **Core.**  Creators are ranked by the value per RMB of their best weekly
   pattern; the core takes the best overall and the best of every tier and
   category (so tier minimums and spend shares can be met), the cheapest of
   every tier, and every must-include.
2. **Pricing (column generation).**  The LP relaxation of the core gives
   multipliers pi for the coupling rows (budget, shares, tier counts, weekly
   caps, saturation cuts).  For every creator k of the whole pool, the value of
   hiring it at those prices, g_k = max over its feasible weekly patterns of
   (c - A^T pi) restricted to its columns, is computed exactly by enumerating
   its patterns (its cadence windows, weekly limits and minimum notes).
   Creators with g_k > 0 join the core and the LP is solved again, until none
   is left or the rounds run out; in that last case the whole model's LP is
   solved and its duals priced, so the bound is never weaker than the LP's.
3. **Bound.**  For any pi of the right signs,
   UB(pi) = pi . b + sum_k max(0, g_k) + sum_s max(0, d_z,s) A_s
   bounds every plan of the whole pool (Lagrangian relaxation of the coupling
   rows; each creator's own rows kept, so it is at least as strong as the LP).
   A plan that hires k is worth at most UB - max(0, g_k) + g_k.
4. **Fixing.**  With an incumbent of value z from the core's integer program,
   every creator whose forced bound is below z can be in no better plan and
   is dropped for good; the integer program is solved again on the core plus
   every creator that could still matter.  The bound reported for the whole
   pool is min(UB, max(bound of that solve, the largest forced bound dropped)),
   which is valid whatever the time limit cut short.
5. **Anytime.**  While time is left and the gap is not proven, fixing is
   redone at the incumbent and the searched set widened (every creator that
   could still beat it, or the most promising of them, twice as many each
   round), each search starting from the incumbent.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .backends import GAP_TOLERANCE, RawSolution, relative_gap, solve_highs
from .families import Family
from .formulation import Milp, build_milp
from .problem import Problem, window_starts
from .quick import QUICK_GAP, better, fix_and_solve, lp_and_quick
from .verify import plan_vector

__all__ = ["solve_reduced", "SMALL_POOL"]

#: Pools with at most this many candidates are solved whole.
SMALL_POOL = 300
#: Up to this many, the core starts as the whole pool (one LP gives exact prices).
WHOLE_LP = 2500
#: The families of rows that tie creators together, priced by the Lagrangian bound.
COUPLING = frozenset(f for f in Family if f.coupling and f.rows)
MAX_PATTERNS = 50_000
#: When fixing keeps more than this share of a pool of at most WHOLE_LP, they are searched at
#: once: widening in steps would only repeat most of the work.
WHOLE_SHARE = 0.6


def _sizes(m: Milp, p: Problem) -> dict:
    return {"columns": m.n_cols, "rows": int(m.A.shape[0]), "nonzeros": int(m.A.nnz), "candidates": p.n}


def solve_reduced(p: Problem, *, time_limit: float, gap: float, rounds: int = 12,
                  start: pd.DataFrame | None = None):
    """Solve a request, through a core problem when the pool is large.

    ``start``: a plan (kol_id, week, posts) to start from, such as the plan of
    a request solved before; used when it fits this request
    (``sizes["start"]`` says whether it was, and why not).

    Returns ``(raw, milp, build_seconds, sizes)`` with ``raw.x`` in the
    columns of the whole pool's model ``milp``.
    """
    t0 = time.perf_counter()
    full = build_milp(p)
    build = time.perf_counter() - t0
    sizes = _sizes(full, p)
    x0 = None
    if start is not None:
        x0, sizes["start"] = plan_vector(p, full, start)
    deadline = t0 + time_limit
    if p.n <= SMALL_POOL:
        return _solve_whole(full, deadline, gap, t0 + build, x0), full, build, sizes
    sizes["method"] = "core and bound"

    def left() -> float:
        return deadline - time.perf_counter()

    coupling = np.array([g.family in COUPLING for g in full.groups], bool)[full.row_group]
    pattern = (full.A != 0).astype(float)  # the matrix's nonzeros, for restricting it

    def restrict(keep: np.ndarray):
        return _restrict(full, p, keep, coupling, pattern)

    pricer = _Pricer(p, full, coupling)
    core, ratio = _initial_core(p, pricer)
    hired0 = x0[full.n_x:full.n_x + full.n_y] > 0.5 if x0 is not None else np.zeros(p.n, bool)
    core |= hired0  # a start's creators are searched

    # 1. column generation on the core's LP relaxation, priced over the whole pool
    #    (a mid-size pool's whole LP is cheap: its duals are the answer at once)
    ub, g, y_lp, x_lp, priced_out, lp_seconds = math.inf, None, None, None, False, 0.0
    order = np.argsort(-ratio, kind="stable")
    if p.n <= WHOLE_LP:
        core[:] = True
    for _ in range(rounds):
        sub, cols = restrict(core)
        t_lp = time.perf_counter()
        lp = solve_highs(sub.milp, time_limit=max(1.0, left()), gap=gap, relax=True, duals=True)
        lp_seconds = time.perf_counter() - t_lp
        if lp.status == "infeasible" and not core.all():
            # the core cannot meet the policy on its own: widen it by the next best
            core[order[~core[order]][: max(200, int(core.sum()))]] = True
            continue
        if lp.duals is None:
            break
        pi = np.zeros(full.A.shape[0])
        pi[sub.rows] = lp.duals
        ub_r, g_r = pricer.bound(pi)
        y_lp = np.zeros(p.n)
        y_lp[np.flatnonzero(core)] = lp.x[sub.milp.n_x:sub.milp.n_x + sub.milp.n_y]
        x_lp = _in_pool(full, cols, lp.x)
        if ub_r < ub:
            ub, g = ub_r, g_r
        new = np.flatnonzero((g_r > 1e-9 * max(1.0, abs(ub_r))) & ~core)
        priced_out = new.size == 0  # no creator outside the core adds value at the core's prices
        if priced_out or left() < 0.6 * time_limit:
            break
        core[new[np.argsort(-g_r[new])][: max(100, int(core.sum()) // 4)]] = True
    lp_bound = math.inf  # the whole model's LP bound, when solved
    # (the whole LP's time is foreseen from the core's, by their sizes: when it would not fit in
    # half the time left, its time goes to the plan instead)
    foresee = lp_seconds * full.A.nnz / max(1, sub.milp.A.nnz) if g is not None else math.inf
    sizes["whole_lp_skipped"] = bool(g is not None and not priced_out and foresee > 0.5 * left())
    if g is not None and not priced_out and left() > 0.5 and not sizes["whole_lp_skipped"]:
        # the core's prices leave value outside it, so its bound may be weaker than the whole
        # model's LP relaxation: price at the whole LP's duals, whose bound is at most the LP's
        lp = solve_highs(full, time_limit=max(0.5, 0.5 * left()), gap=gap, relax=True, duals=True)
        if lp.bound is not None and lp.duals is not None:
            ub_r, g_r = pricer.bound(lp.duals)
            if ub_r < ub:
                ub, g = ub_r, g_r
            lp_bound = lp.bound
            y_lp, x_lp = lp.x[full.n_x:full.n_x + full.n_y], lp.x
    sizes["core_candidates"] = int(core.sum())
    sizes["lagrangian_bound"] = ub
    sizes["priced_out"] = priced_out

    # 2. a quick plan: the LP's integral part kept, its fractional rest decided
    if y_lp is not None and g is not None:
        support = (y_lp > 1e-6) | p.must
        rivals = np.argsort(-np.where(support, -np.inf, g))[: max(50, int(support.sum()) // 2)]
        support[rivals] = True
    else:
        support = core.copy()
    support |= hired0
    sub, cols = restrict(support)
    path = []  # (seconds, incumbent, bound for the whole pool)

    first_x = None  # the first plan found, in the whole pool's columns

    def found(x: np.ndarray | None) -> np.ndarray | None:
        nonlocal first_x
        if x is not None:
            path.append((time.perf_counter() - t0 - build, float(sub.milp.c @ x), ub))
            if first_x is None:
                first_x = _in_pool(full, cols, x)
        return x

    #    first only the LP's fractional creators are decided (fast); if that is not within
    #    QUICK_GAP of the bound, the LP's nearest rivals join in
    x_sub = x_lp[cols] if x_lp is not None else None
    #    (each program may take about as long as the core's last LP took, a measure of how hard
    #    this request is, and never more than 40 % of the time left)
    quick = found(fix_and_solve(sub.milp, x_sub, _quick_limit(1.0, 0.2, 0.05, lp_seconds, left()),
                                open_unhired=False))
    if quick is None or ub - path[-1][1] > QUICK_GAP * abs(path[-1][1]):
        quick = better(sub.milp, quick, found(fix_and_solve(sub.milp, x_sub,
                                                            _quick_limit(3.0, 0.5, 0.15, lp_seconds, left()))))
    quick = better(sub.milp, quick, found(x0[cols] if x0 is not None else None))
    first_seen = path[0][0] if path else None

    # 3. a better plan from the support, so that fixing bites: for 30 % of the time left, and on
    #    until its plan leaves few enough creators to search (without that, the last search would
    #    be this one again); a better plan is what it is for, so HiGHS's sub-MIP heuristics run
    spent = time.perf_counter() - t0 - build
    forced = np.where(p.must, ub, ub - np.maximum(g, 0) + g) if g is not None else None

    def worth_keeping(z: float) -> float:
        """The bound above which a creator could beat a plan worth z by more than the gap asked
        for; a creator at or below it is left out, and the proof stands."""
        return z + gap * abs(z)

    at_least = max(0.5, 0.3 * left())
    n_support = int(support.sum())
    searchable = max(2 * n_support, 800)  # the most creators the last search takes on
    z_quick = float(sub.milp.c @ quick) if quick is not None else None
    g_quick = relative_gap(z_quick, min(ub, lp_bound)) if g is not None else None
    if g_quick is not None and g_quick <= gap + GAP_TOLERANCE:
        # the quick plan already proves the gap asked against the pool's bound: nothing to search
        raw = RawSolution(status="optimal", x=quick, objective=z_quick, bound=min(ub, lp_bound), solver=lp.solver,
                          solve_seconds=time.perf_counter() - t0 - build)
    elif forced is None:
        raw = solve_highs(sub.milp, time_limit=at_least, gap=gap, start=quick)
    else:
        others = np.sort(forced[~support])
        # a pool whose whole model is tractable goes on after at_least to the search of all it keeps
        # (skipping this search when fixing keeps most of it at the quick plan was measured worse:
        # its better plan is what the last search starts from)
        tractable = p.n <= WHOLE_LP

        def fixing_bites(seconds: float, z: float, _bound: float) -> bool:
            kept = len(others) - np.searchsorted(others, worth_keeping(z), side="right")
            return seconds >= at_least and (tractable or n_support + kept <= searchable)

        raw = solve_highs(sub.milp, time_limit=max(0.5, left()), gap=gap, start=quick, stop=fixing_bites)
    path += _whole_pool_path(raw, spent, ub, forced, support)
    if raw.x is None and quick is None:
        sizes["method"] = "whole model (the core had no plan)"
        raw = solve_highs(full, time_limit=max(1.0, left()), gap=gap)
        raw.solve_seconds = time.perf_counter() - t0 - build
        return raw, full, build, sizes
    best_x, best_cols = (raw.x, cols) if raw.x is not None else (quick, cols)
    searched, bound_part = support, (raw.bound if raw.bound is not None else math.inf)
    if first_seen is None:
        first_seen = raw.first_solution_seconds
        first_x = _in_pool(full, cols, raw.first_x)

    if g is None:  # no prices, so no bound for the pool: the support's search is the answer
        return replace(_lift(raw, full, best_cols, None), first_x=first_x), full, build, sizes

    # 4. anytime: re-fix at the incumbent, search every creator that could still beat it (when
    #    they are too many, the searched set widened by the highest forced bounds, twice as many
    #    each round), and go on while time is left and the gap is not proven
    z1 = float(sub.milp.c @ best_x)
    sizes["kept_after_fixing"] = int((support | (forced > worth_keeping(z1))).sum())
    incumbent = _in_pool(full, best_cols, best_x)
    z = float(full.c @ incumbent)
    widenings = 0
    for _ in range(64):  # each round widens the search or ends it; the cap is a guard
        outside = float(forced[~searched].max(initial=-math.inf))
        g_now = relative_gap(z, min(ub, lp_bound, max(bound_part, outside)))
        if (g_now is not None and g_now <= gap + GAP_TOLERANCE) or left() <= 0.5:
            break
        keep = searched | (forced > worth_keeping(z))
        if keep.sum() <= searchable or (p.n <= WHOLE_LP and keep.sum() >= WHOLE_SHARE * p.n):
            search = keep  # few enough; or fixing cannot bite on a pool whose whole model is tractable
        else:  # too many to search at once: the most promising of them join, and the next round more
            missing = np.flatnonzero(keep & ~searched)
            room = max(int(searchable - searched.sum()), int(searched.sum()) // 2, 50)
            search = searched.copy()
            search[missing[np.argsort(-forced[missing], kind="stable")][:room]] = True
            searchable *= 2
            widenings += 1
        sub2, cols2 = restrict(search)
        spent = time.perf_counter() - t0 - build
        # on every creator that could still matter the search can prove the gap, so its time goes
        # to the proof; on a part of them only a better plan helps, so it keeps the sub-MIPs
        complete = bool((search >= keep).all())
        # a part's search ends at its own proof or half the time left, so that the next round runs
        raw2 = solve_highs(sub2.milp, time_limit=max(0.5, left() if complete else 0.5 * left()), gap=gap,
                           start=incumbent[cols2], sub_mips=not complete)
        path += _whole_pool_path(raw2, spent, ub, forced, search)
        if raw2.x is not None and float(sub2.milp.c @ raw2.x) >= z - 1e-9 * max(1.0, abs(z)):
            raw, best_x, best_cols = raw2, raw2.x, cols2
            incumbent = _in_pool(full, cols2, raw2.x)
            z = float(full.c @ incumbent)
        searched = search
        bound_part = raw2.bound if raw2.bound is not None else math.inf
    sizes["widenings"] = widenings
    outside = float(forced[~searched].max(initial=-math.inf))
    bound = min(ub, lp_bound, max(bound_part, outside))
    raw = replace(raw, x=best_x, objective=float(full.c[best_cols] @ best_x))
    lifted = _lift(raw, full, best_cols, bound)
    lifted.first_solution_seconds, lifted.first_x = first_seen, first_x
    lifted.solve_seconds = time.perf_counter() - t0 - build
    z = lifted.objective
    if bound < z <= bound + 1e-6 * max(1.0, abs(z)):
        # a bound that round-off leaves just below the plan's value (the Lagrangian's sums, the LP's
        # tolerances): no plan is worth more than the bound, so it is the plan's value
        bound = lifted.bound = z
    g_now = relative_gap(z, bound)
    lifted.status = "optimal" if g_now is not None and g_now <= gap + GAP_TOLERANCE else "feasible"
    lifted.gap_seconds = gap_times(path, (0.01, 0.001), final_gap=g_now, end=lifted.solve_seconds)
    lifted.trajectory = path
    sizes["final_candidates"] = int(searched.sum())
    return lifted, full, build, sizes


def _whole_pool_path(raw: RawSolution, offset: float, ub: float, forced, searched) -> list:
    """A search's (time, incumbent, bound) with its bound made valid for the whole pool."""
    if forced is None:
        return []
    outside = float(forced[~searched].max(initial=-math.inf))
    return [(offset + t, zz, min(ub, max(bb, outside))) for t, zz, bb in raw.trajectory]


def _quick_limit(cap: float, floor: float, share: float, lp_seconds: float, left: float) -> float:
    """A quick program's time limit: ``share`` of the time left, between ``floor`` and ``cap``
    seconds; on a request whose LP took longer than ``cap``, up to that LP's time (at most 40 %
    of the time left)."""
    limit = min(cap, max(floor, share * left))
    return max(limit, min(lp_seconds, 0.4 * left))


def _solve_whole(m: Milp, deadline: float, gap: float, started: float,
                 x0: np.ndarray | None = None) -> RawSolution:
    """A small pool, whole: the LP bound and a quick plan first (or the start given, if
    better), then the search from it."""
    lp, quick = lp_and_quick(m, deadline)
    if lp.x is None:  # no LP solution: let the search say why
        return solve_highs(m, time_limit=max(0.5, deadline - time.perf_counter()), gap=gap, start=x0)
    quick = better(m, quick, x0)
    lp_bound = lp.bound if lp.bound is not None else math.inf  # set only when the LP finished
    path = []
    if quick is not None:
        path.append((time.perf_counter() - started, float(m.c @ quick), lp_bound))
    offset = time.perf_counter() - started
    raw = solve_highs(m, time_limit=max(0.5, deadline - time.perf_counter()), gap=gap, start=quick,
                      sub_mips=quick is None)
    path += [(offset + t, z, min(b, lp_bound)) for t, z, b in raw.trajectory]
    raw.trajectory = path
    raw.solve_seconds = time.perf_counter() - started
    if path:
        raw.first_solution_seconds = path[0][0]
    if quick is not None:  # the quick plan came first
        raw.first_x = quick
    if raw.bound is not None:
        raw.bound = min(raw.bound, lp_bound)
    raw.gap_seconds = gap_times(path, (0.01, 0.001), final_gap=relative_gap(raw.objective, raw.bound),
                                end=raw.solve_seconds)
    return raw


def gap_times(path: list, levels, *, final_gap: float | None = None, end: float | None = None) -> dict:
    """When the proven gap of a (seconds, incumbent, bound) path first reached each level.

    A level never reached on the path but met by ``final_gap`` counts at ``end``.
    """
    out = {}
    for level in levels:
        hits = [t for t, z, b in path if z > 0 and (b - z) / z <= level + 1e-12]
        if hits:
            out[level] = min(hits)
        elif final_gap is not None and final_gap <= level + 1e-12:
            out[level] = end
    return out


def _lift(raw: RawSolution, full: Milp, cols: np.ndarray, bound) -> RawSolution:
    """A core solution in the whole pool's columns."""
    return replace(raw, x=_in_pool(full, cols, raw.x), bound=bound, gap_seconds=dict(raw.gap_seconds),
                   first_x=_in_pool(full, cols, raw.first_x))


def _in_pool(full: Milp, cols: np.ndarray, v: np.ndarray | None) -> np.ndarray | None:
    """A vector of the restricted model with columns ``cols``, in the whole pool's columns."""
    if v is None:
        return None
    out = np.zeros(full.n_cols)
    out[cols] = v
    return out


class _Sub:
    def __init__(self, milp, rows):
        self.milp, self.rows = milp, rows


def _restrict(full: Milp, p: Problem, keep: np.ndarray, coupling: np.ndarray, pattern):
    """The model restricted to the creators in ``keep`` (others fixed at zero).

    ``pattern`` is the matrix's nonzero pattern as ones: a row whose columns all
    stay is kept; coupling rows are kept whatever they lose.
    """
    col_keep = np.concatenate([keep[full.xk], keep, np.ones(full.n_z, bool), keep[full.uk] if full.n_u else []]
                              ).astype(bool)
    outside = pattern @ (~col_keep).astype(float)
    row_keep = coupling | (outside == 0)
    rows = np.flatnonzero(row_keep)
    cols = np.flatnonzero(col_keep)
    A = full.A[rows][:, cols]
    kmap = -np.ones(p.n, np.int64)
    kmap[keep] = np.arange(keep.sum())
    xsel = col_keep[:full.n_x]
    m = Milp(c=full.c[cols], lb=full.lb[cols], ub=full.ub[cols], integral=full.integral[cols],
             A=sp.csr_matrix(A), row_lo=full.row_lo[rows], row_hi=full.row_hi[rows],
             row_group=full.row_group[rows], groups=full.groups, xk=kmap[full.xk[xsel]],
             xw=full.xw[xsel], n_y=int(keep.sum()), n_z=full.n_z,
             uk=kmap[full.uk[keep[full.uk]]] if full.n_u else full.uk)
    return _Sub(m, rows), cols


# --------------------------------------------------------------------------- #
# Pricing: each creator's best weekly pattern at given prices
# --------------------------------------------------------------------------- #
@lru_cache(maxsize=256)
def _patterns(upper: tuple, cap: int, min_posts: int) -> np.ndarray | None:
    """Every integer weekly pattern within ``upper``, the rolling 4-week cap and the
    minimum notes (the empty pattern excluded); None when there are too many."""
    W = len(upper)
    starts = list(window_starts(W))
    pats = np.zeros((1, 0), dtype=np.int64)
    for w in range(W):
        grow = [np.column_stack([pats, np.full(len(pats), v)]) for v in range(upper[w] + 1)]
        pats = np.concatenate(grow)
        for s0 in starts:  # prune windows already complete
            if s0 + 3 == w or (w == W - 1 and s0 + 3 >= W):
                lo, hi = s0, min(s0 + 4, W)
                pats = pats[pats[:, lo:hi].sum(axis=1) <= cap]
        if len(pats) > MAX_PATTERNS:
            return None
    if W < 4:
        pats = pats[pats.sum(axis=1) <= cap]
    pats = pats[pats.sum(axis=1) >= max(1, min_posts)]
    return pats


class _Pricer:
    """Computes g_k and the Lagrangian bound for every creator of the pool."""

    def __init__(self, p: Problem, m: Milp, coupling: np.ndarray):
        self.p, self.m = p, m
        self.coupling = coupling
        self.A_c = m.A[np.flatnonzero(coupling)].T.tocsr()  # columns x coupling rows
        self.rows_c = np.flatnonzero(coupling)
        self.b = np.where(np.isfinite(m.row_hi), m.row_hi, m.row_lo)[self.rows_c]
        self.is_le = np.isfinite(m.row_hi)[self.rows_c]
        self.xcol = -np.ones((p.n, p.weeks), np.int64)
        self.xcol[m.xk, m.xw] = np.arange(m.n_x)
        # each creator's own-follower envelope, its tangents padded to one width (+inf: no tangent)
        self.u_of = -np.ones(p.n, np.int64)
        if m.n_u:
            self.u_of[m.uk] = m.u0 + np.arange(m.n_u)
            b, a, counts = p.own_cuts
            width = int(counts.max(initial=0))
            self.own_b = np.zeros((p.n, width))
            self.own_a = np.full((p.n, width), np.inf)
            pos = np.arange(len(b)) - np.repeat(np.cumsum(counts) - counts, counts)
            rows = np.repeat(np.arange(p.n), counts)
            self.own_b[rows, pos], self.own_a[rows, pos] = b, a
        keys = [(tuple(int(u) for u in p.upper[k]), int(p.cap[k]), int(p.min_posts[k])) for k in range(p.n)]
        self.classes: dict[tuple, list[int]] = {}
        for k, key in enumerate(keys):
            self.classes.setdefault(key, []).append(k)

    def _own(self, part: np.ndarray, du: np.ndarray, pressure: np.ndarray) -> np.ndarray:
        """max(0, d_u) x the own-follower envelope of creators ``part`` at own pressures
        ``pressure`` (one row per creator, any number of columns)."""
        at = pressure
        env = np.full(at.shape, np.inf)
        for i in range(self.own_b.shape[1]):
            np.minimum(env, self.own_a[part, i, None] + self.own_b[part, i, None] * at, out=env)
        env = np.minimum(env, self.p.own_capacity[part, None])
        return np.maximum(du[part], 0.0)[:, None] * np.where(np.isfinite(env), env, 0.0)

    def values(self, d: np.ndarray) -> np.ndarray:
        """g_k = best (reduced) value of hiring k with its best feasible pattern.

        A creator with an own-follower curve adds max(0, d_u) times its
        envelope at the pattern's value (u_k's rows are its own, kept in the
        subproblem)."""
        p, m = self.p, self.m
        D = np.zeros((p.n, p.weeks))
        ok = self.xcol >= 0
        D[ok] = d[self.xcol[ok]]
        dy = d[m.n_x:m.n_x + m.n_y]
        du = np.zeros(p.n)
        owns = self.u_of >= 0
        du[owns] = d[self.u_of[owns]]
        g = np.full(p.n, -math.inf)
        for (upper, cap, mp), members in self.classes.items():
            idx = np.array(members)
            pats = _patterns(upper, cap, mp)
            if pats is None:  # relaxation: drop the windows and minimum notes, keep the bounds
                U = np.array(upper, float)
                pos = np.maximum(D[idx], 0) @ U
                g[idx] = dy[idx] + pos
                mine = idx[owns[idx]]
                if mine.size:  # each part at its most: a bound still
                    g[mine] += self._own(mine, du, (p.own_value[mine] @ U)[:, None])[:, 0]
                continue
            if len(pats) == 0:
                continue
            P = pats.T.astype(float)
            step = max(1, 4_000_000 // max(1, len(pats)))
            for a in range(0, len(idx), step):
                part = idx[a:a + step]
                val = D[part] @ P
                mine = owns[part]
                if mine.any():
                    val[mine] += self._own(part[mine], du, p.own_value[part[mine]] @ P)
                g[part] = dy[part] + val.max(axis=1)
        return g

    def bound(self, pi_full: np.ndarray) -> tuple[float, np.ndarray]:
        """(UB(pi), g) with pi clipped to the signs that keep the bound valid."""
        pi = pi_full[self.rows_c]
        pi = np.where(self.is_le, np.maximum(pi, 0), np.minimum(pi, 0))
        d = self.m.c - self.A_c @ pi
        g = self.values(d)
        p, m = self.p, self.m
        dz = d[m.n_x + m.n_y:m.u0]
        gz = np.maximum(dz, 0) @ p.capacity[:m.n_z] if m.n_z else 0.0
        gk = np.where(p.must, g, np.maximum(g, 0))  # a must-include is hired whatever it is worth
        return float(pi @ self.b + gk.sum() + gz), g


def _initial_core(p: Problem, pricer: _Pricer) -> np.ndarray:
    """Promising creators: value per RMB of their fullest pattern, plus coverage of every
    tier and category and the cheapest of each tier."""
    m = pricer.m
    d = np.concatenate([p.value[m.xk, m.xw], np.zeros(m.n_y + m.n_z + m.n_u)])
    value = pricer.values(d)  # the most valuable pattern (all values are >= 0)
    notes = np.minimum(p.upper.sum(axis=1), p.cap * math.ceil(p.weeks / 4))
    ratio = value / np.maximum(p.fee + p.cost * np.maximum(notes, 1), 1e-9)
    order = np.argsort(-ratio, kind="stable")
    core = np.zeros(p.n, bool)
    core |= p.must
    est = p.budget / max(np.median((p.fee + p.cost * np.maximum(notes, 1))[order[:200]]), 1.0)
    o = p.settings
    if o.max_posts_per_week is not None:  # the brand's cap bounds how many can be hired
        est = min(est, o.max_posts_per_week * p.weeks / max(1, int(p.min_posts.min(initial=1))))
    core[order[: int(min(p.n, max(150, 2 * est)))]] = True
    for labels in (p.tier, p.category):
        for lab in np.unique(labels):
            mine = np.flatnonzero(labels == lab)
            rule = o.tiers.get(lab) if labels is p.tier else None
            need = rule.min_creators if rule is not None else 0
            core[mine[np.argsort(-ratio[mine])][:15 + 2 * need]] = True
            core[mine[np.argsort(p.cost[mine] + p.fee[mine])][:5 + need]] = True
    return core, ratio
