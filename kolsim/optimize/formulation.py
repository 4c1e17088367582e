"""The integer program as sparse arrays (no per-variable Python objects).

Columns: x[k, w] (integer notes of creator k in week w, only where allowed),
y[k] (binary hire), z[s] (saturated value of segment s, when saturating).
Rows come in named groups so that a report reads like the planner's policy
and a diagnosis can name what conflicts.  ``docs/optimizer.md`` states the
formulation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .problem import Problem, saturation_cuts, window_starts

__all__ = ["Milp", "Group", "build_milp"]

INF = float("inf")


@dataclass(frozen=True)
class Group:
    """A named family of rows: one policy line of the planner's."""

    name: str
    kind: str  # budget | week_budget | brand_cadence | category_max | category_min | tier_min |
    #            tier_max | tier_share_max | tier_share_min | min_posts | cadence | saturation | symmetry
    key: str = ""  # the category, tier or index the group is about
    unit: str = ""  # what its slack is measured in: "RMB", "creators", "notes"


@dataclass(frozen=True, eq=False)
class Milp:
    """``maximize c x  s.t.  row_lo <= A x <= row_hi, lb <= x <= ub, x_j integer where integral``."""

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    integral: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_group: np.ndarray
    groups: tuple[Group, ...]
    xk: np.ndarray  # creator of each x column
    xw: np.ndarray  # week (0-based) of each x column
    n_y: int
    n_z: int
    approximation_error: float = 0.0
    cuts: tuple = field(default=(), repr=False)  # per segment (slopes, intercepts)

    @property
    def n_x(self) -> int:
        return len(self.xk)

    @property
    def n_cols(self) -> int:
        return len(self.c)

    def y_col(self, k):
        return self.n_x + np.asarray(k)

    def z_col(self, s):
        return self.n_x + self.n_y + np.asarray(s)


class _Rows:
    """Collects rows group by group, each group's entries sorted by row, into CSR arrays."""

    def __init__(self):
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.counts: list[int] = []
        self.groups: list[Group] = []
        self.m = 0

    def add(self, group: Group, rows, cols, vals, lo, hi, count: int) -> None:
        """Rows 0 .. count-1 of a new group; ``rows`` need not be sorted."""
        if count == 0:
            return
        rows = np.asarray(rows, np.int64)
        order = np.argsort(rows, kind="stable")  # linear on the few sorted runs every group has
        self.groups.append(group)
        self.counts.append(count)
        self.r.append(rows[order] + self.m)
        self.c.append(np.asarray(cols, np.int64)[order])
        self.v.append(np.asarray(vals, float)[order])
        self.lo.append(np.full(count, lo, float) if np.ndim(lo) == 0 else np.asarray(lo, float))
        self.hi.append(np.full(count, hi, float) if np.ndim(hi) == 0 else np.asarray(hi, float))
        self.m += count

    def add_row(self, group: Group, cols, vals, lo: float, hi: float) -> None:
        """A group of one row."""
        cols = np.asarray(cols, np.int64)
        self.groups.append(group)
        self.counts.append(1)
        self.r.append(np.full(len(cols), self.m))
        self.c.append(cols)
        self.v.append(np.asarray(vals, float))
        self.lo.append(np.array([lo], float))
        self.hi.append(np.array([hi], float))
        self.m += 1

    def matrix(self, n: int) -> sp.csr_matrix:
        """The rows as a CSR matrix with n columns (no (row, column) pair is repeated)."""
        indptr = np.zeros(self.m + 1, np.int64)
        np.cumsum(np.bincount(np.concatenate(self.r), minlength=self.m), out=indptr[1:])
        return sp.csr_matrix((np.concatenate(self.v), np.concatenate(self.c), indptr), shape=(self.m, n))


def _creators(n: int) -> str:
    return f"{n} creator{'' if n == 1 else 's'}"


def settle_saturation(m: Milp, p: Problem, x: np.ndarray) -> np.ndarray:
    """The same plan with each segment's saturated value at its largest feasible level.

    A solver stopped early may leave z_s below min(A_s, min_i a_i + b_i C_s);
    every objective rewards z_s, so raising it is always right.
    """
    if m.n_z == 0:
        return x
    x = np.array(x, float)
    pressure = np.bincount(p.segment[m.xk], weights=p.value[m.xk, m.xw] * x[:m.n_x], minlength=m.n_z)
    z = [min(float(p.segment_sizes[s]), float(np.min(a + b * pressure[s]))) for s, (b, a) in enumerate(m.cuts)]
    x[m.n_x + m.n_y:] = z
    return x


def build_milp(p: Problem) -> Milp:
    """Compile a :class:`Problem` into a :class:`Milp`.

    Reductions built in: x only where a week is allowed; x bounded by the
    weekly limit (cadence cap and brand cap); the cadence windows double as the
    linking rows x <= cap y (so no separate big-M rows); z only per segment; and
    ordering rows y_k >= y_k' among interchangeable creators (same named tier
    and category, segment, price, fee, cap, weeks and value) to break symmetry.
    """
    opt = p.settings
    N, W = p.n, p.weeks
    xk, xw = np.nonzero(p.upper > 0)
    n_x = len(xk)
    S = len(p.segment_names) if p.saturating else 0
    n = n_x + N + S
    y0 = n_x
    z0 = n_x + N

    # objective (maximise)
    c = np.zeros(n)
    v = p.value[xk, xw]
    if not p.saturating:
        c[:n_x] = v * p.unit_value
    else:
        c[z0:] = p.unit_value
    if p.objective == "profit":
        c[:n_x] -= p.expected_cost[xk]
        c[y0:z0] -= p.fee
    lb = np.zeros(n)
    ub = np.concatenate([p.upper[xk, xw].astype(float), np.ones(N), p.segment_sizes[:S]])
    lb[y0:z0] = p.must.astype(float)
    integral = np.concatenate([np.ones(n_x + N, bool), np.zeros(S, bool)])

    R = _Rows()
    spend_x = p.cost[xk]
    # 1. budget: note prices + hiring fees
    spend_cols = np.arange(n_x + N)
    spend_vals = np.concatenate([spend_x, p.fee])
    R.add_row(Group("budget", "budget", unit="RMB"), spend_cols, spend_vals, -INF, p.budget)
    # 1b. budgets of week ranges (note prices in those weeks)
    for i, wb in enumerate(opt.budget_by_weeks):
        in_range = np.zeros(W, bool)
        in_range[np.array(wb.weeks) - 1] = True
        sel = in_range[xw]
        weeks = ", ".join(map(str, wb.weeks))
        R.add_row(Group(f"budget of weeks {weeks}", "week_budget", key=str(i), unit="RMB"),
                  np.flatnonzero(sel), spend_x[sel], -INF, wb.max)
    # 5. the brand's cadence: sponsored notes a week
    if opt.max_posts_per_week is not None:
        R.add(Group(f"brand cadence: at most {opt.max_posts_per_week} sponsored notes a week",
                    "brand_cadence", unit="notes"),
              xw, np.arange(n_x), np.ones(n_x), -INF, opt.max_posts_per_week, W)
    # 2. category spend shares: L T <= S_c <= U T
    col_creator = np.concatenate([xk, np.arange(N)])  # the creator of each x and y column
    # the model tells creators apart by the categories and tiers the policy names, nothing else
    named_cat = np.zeros(N, np.int64)  # 1 + index of the creator's category among the named, or 0
    named_tier = np.zeros(N, np.int64)

    def share_rows(label: str, kind: str, key: str, mine: np.ndarray, lo: float, hi: float) -> None:
        """lo T <= S <= hi T, written as S - hi T <= 0 and lo T - S <= 0."""
        if hi >= 1 and lo <= 0:
            return
        on = mine.astype(float)[col_creator]  # 1 on the columns of the category's (tier's) creators
        if hi < 1:
            R.add_row(Group(f"{label}: at most {hi:.0%} of spend", f"{kind}_max", key, "RMB"),
                      spend_cols, spend_vals * (on - hi), -INF, 0.0)
        if lo > 0:
            R.add_row(Group(f"{label}: at least {lo:.0%} of spend", f"{kind}_min", key, "RMB"),
                      spend_cols, spend_vals * (lo - on), -INF, 0.0)

    for i, (cat, b) in enumerate(opt.category_share.items()):
        mine = p.category == cat
        named_cat[mine] = i + 1
        share_rows(f"category {cat}", "category", cat, mine, b.min, b.max)
    # 3. tier mix: hired creators and spend shares
    for i, (t, rule) in enumerate(opt.tiers.items()):
        mine = p.tier == t
        named_tier[mine] = i + 1
        members = np.flatnonzero(mine)
        if rule.min_creators > 0:
            R.add_row(Group(f"tier {t}: at least {_creators(rule.min_creators)}", "tier_min", t, "creators"),
                      y0 + members, np.ones(len(members)), rule.min_creators, INF)
        if rule.max_creators is not None:
            R.add_row(Group(f"tier {t}: at most {_creators(rule.max_creators)}", "tier_max", t, "creators"),
                      y0 + members, np.ones(len(members)), -INF, rule.max_creators)
        share_rows(f"tier {t}", "tier_share", t, mine, rule.min_share, rule.max_share)
    # 7. minimum notes if hired:  m y_k - sum_w x_kw <= 0
    m = opt.min_posts_if_hired
    R.add(Group(f"at least {m} note(s) from each hired creator", "min_posts", unit="notes"),
          np.concatenate([xk, np.arange(N)]), np.concatenate([np.arange(n_x), y0 + np.arange(N)]),
          np.concatenate([-np.ones(n_x), np.full(N, float(m))]), -INF, 0.0, N)
    # 4. the platform's cadence rule, in rolling 4-week windows; also links x to y.
    #    Window j covers weeks j .. j+3; one row per window and creator with a week in it,
    #    numbered window by window.
    n_win = len(window_starts(W))
    allowed = np.concatenate([np.zeros((N, 1), np.int64), np.cumsum(p.upper > 0, axis=1)], axis=1)
    ends = np.minimum(np.arange(n_win) + 4, W)
    has = (allowed[:, ends] - allowed[:, :n_win]) > 0  # (N, windows)
    win_rows = np.cumsum(has.T.ravel()).reshape(n_win, N).T - 1  # row of (creator, window)
    first_win = np.maximum(xw - 3, 0)  # x[k, w] is in windows max(0, w-3) .. min(w, n_win-1)
    per_x = np.minimum(xw, n_win - 1) - first_win + 1
    x_at = np.repeat(np.arange(n_x), per_x)
    x_win = first_win[x_at] + np.arange(len(x_at)) - np.repeat(np.cumsum(per_x) - per_x, per_x)
    yk, yj = np.nonzero(has)
    R.add(Group(f"platform rule: at most {opt.sponsored_share:.0%} of a creator's monthly notes "
                "sponsored, in any 4 weeks", "cadence", unit="notes"),
          np.concatenate([win_rows[xk[x_at], x_win], win_rows[yk, yj]]), np.concatenate([x_at, y0 + yk]),
          np.concatenate([np.ones(len(x_at)), -p.cap[yk].astype(float)]), -INF, 0.0, int(has.sum()))
    # 8. saturation: z_s - b_i C_s <= a_i  for each tangent i of segment s
    cuts = ()
    error = 0.0
    if p.saturating:
        seg_x = p.segment[xk]
        c_max = np.bincount(seg_x, weights=v * p.upper[xk, xw], minlength=S)
        slopes, intercepts, counts, errors = saturation_cuts(p.segment_sizes[:S], np.maximum(c_max, 1e-9),
                                                             opt.saturation_tolerance)
        error = float(errors.max(initial=0.0))
        ends = np.cumsum(counts).tolist()
        cuts = tuple((slopes[e - k:e], intercepts[e - k:e]) for e, k in zip(ends, counts.tolist()))
        # each tangent row holds every x column of its segment (grouped by segment) and z_s
        r_seg = np.repeat(np.arange(S), counts)
        by_seg = np.argsort(seg_x, kind="stable")
        n_seg = np.bincount(seg_x, minlength=S)
        per_row = n_seg[r_seg]
        rows_x = np.repeat(np.arange(len(r_seg)), per_row)
        first = np.repeat((np.cumsum(n_seg) - n_seg)[r_seg] - (np.cumsum(per_row) - per_row), per_row)
        cols_x = by_seg[first + np.arange(len(rows_x))]
        R.add(Group("saturation of each audience segment", "saturation"),
              np.concatenate([rows_x, np.arange(len(r_seg))]), np.concatenate([cols_x, z0 + r_seg]),
              np.concatenate([-slopes[rows_x] * v[cols_x], np.ones(len(r_seg))]), -INF, intercepts,
              len(r_seg))
    # symmetry: interchangeable creators are hired in order
    key = np.column_stack([named_tier, named_cat, p.segment, p.cost_cents, p.fee_cents, p.cap,
                           p.must.astype(np.int64), np.round(p.expected_cost * 100).astype(np.int64),
                           p.upper, np.round(p.value * 1e9).astype(np.int64)])
    order = np.lexsort(key.T[::-1])
    ranked = key[order]
    same = np.all(ranked[1:] == ranked[:-1], axis=1)
    first, second = order[:-1][same], order[1:][same]
    R.add(Group("interchangeable creators hired in order", "symmetry"),
          np.repeat(np.arange(len(first)), 2), np.stack([y0 + first, y0 + second], 1).ravel(),
          np.tile([1.0, -1.0], len(first)), 0.0, INF, len(first))

    return Milp(c=c, lb=lb, ub=ub, integral=integral, A=R.matrix(n),
                row_lo=np.concatenate(R.lo), row_hi=np.concatenate(R.hi),
                row_group=np.repeat(np.arange(len(R.groups)), R.counts), groups=tuple(R.groups), xk=xk, xw=xw,
                n_y=N, n_z=S, approximation_error=error, cuts=cuts)
