"""The integer program as sparse arrays (no per-variable Python objects).

Columns: x[k, w] (integer notes of creator k in week w, only where allowed),
y[k] (binary hire), z[s] (saturated value of segment s, when saturating),
u[k] (saturated value among creator k's own followers, when it has any).
Rows come in named groups so that a report reads like the planner's policy
and a diagnosis can name what conflicts.  ``docs/optimizer.md`` states the
formulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .families import Family
from .problem import Problem, ranges, window_starts

__all__ = ["Milp", "Group", "build_milp"]

INF = float("inf")


class Group(NamedTuple):
    """A named group of rows: one policy line of the planner's, of one :class:`Family`."""

    name: str
    family: Family
    key: str = ""  # the category, tier or index the group is about

    @property
    def kind(self) -> str:
        """The family's code (``budget``, ``cadence`` …)."""
        return self.family.code

    @property
    def unit(self) -> str:
        """What its slack is measured in: "RMB", "creators", "notes"."""
        return self.family.unit


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
    uk: np.ndarray = None  # creator of each u column (after the z columns)

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

    @property
    def n_u(self) -> int:
        return 0 if self.uk is None else len(self.uk)

    @property
    def u0(self) -> int:
        """The first u column."""
        return self.n_x + self.n_y + self.n_z


class _Rows:
    """Collects rows group by group, each group's entries already in row order (CSR order);
    the groups are stacked into one CSR matrix at the end."""

    def __init__(self):
        self.lengths: list = []  # per group: the number of entries of each row
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lo: list = []  # per group: a float, or an array with one bound per row
        self.hi: list = []
        self.counts: list[int] = []
        self.groups: list[Group] = []

    def add(self, group: Group, lengths, cols, vals, lo, hi) -> None:
        """A group of rows: row r holds the next ``lengths[r]`` entries of ``cols`` and ``vals``."""
        if len(lengths) > 0:
            self.groups.append(group)
            self.counts.append(len(lengths))
            self.lengths.append(lengths)
            self.cols.append(cols)
            self.vals.append(vals)
            self.lo.append(lo)
            self.hi.append(hi)

    def add_row(self, group: Group, cols, vals, lo: float, hi: float) -> None:
        """A group of one row."""
        self.add(group, [len(cols)], cols, vals, lo, hi)

    def matrix(self, n: int) -> sp.csr_matrix:
        """The rows as a CSR matrix with n columns (no (row, column) pair is repeated)."""
        indptr = np.zeros(sum(self.counts) + 1, np.int32)
        np.concatenate(self.lengths).cumsum(out=indptr[1:])
        out = sp.csr_matrix((np.concatenate(self.vals).astype(float, copy=False),
                             np.concatenate(self.cols).astype(np.int32), indptr),
                            shape=(len(indptr) - 1, n))
        out.sort_indices()  # a segment's rows end with z_s, then its u columns
        return out

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's lower and upper bound."""
        return _per_row(self.lo, self.counts), _per_row(self.hi, self.counts)


def _run_then_one(run: np.ndarray, length: np.ndarray, extra: np.ndarray):
    """Rows each holding a run of columns (the next ``length[r]`` of ``run``) and then one more
    column, ``extra[r]``: (entries per row, columns, True at the run entries)."""
    per_row = length + 1
    last = per_row.cumsum() - 1
    in_run = np.ones(int(per_row.sum()), bool)
    in_run[last] = False
    cols = np.empty(len(in_run), np.int64)
    cols[in_run] = run
    cols[last] = extra
    return per_row, cols, in_run


def _per_row(values: list, counts: list[int]) -> np.ndarray:
    """Group values (floats, or arrays of one value per row) spread over the groups' rows."""
    out = np.repeat([0.0 if isinstance(v, np.ndarray) else v for v in values], counts)
    at = 0
    for v, k in zip(values, counts):
        if isinstance(v, np.ndarray):
            out[at:at + k] = v
        at += k
    return out


def _creators(n: int) -> str:
    return f"{n} creator{'' if n == 1 else 's'}"


def own_envelope(p: Problem, pressure: np.ndarray, who: np.ndarray) -> np.ndarray:
    """min(c_k, min_i a_i + b_i O_k), the tangent envelope of creators ``who``' own-follower
    curves at their pressures O_k (``pressure[k]``, :attr:`Problem.own_value` of k's notes)."""
    b, a, counts = p.own_cuts
    first = np.cumsum(counts) - counts
    n = counts[who]
    take = ranges(first[who], n)
    at = np.repeat(pressure[who], n)
    env = np.minimum.reduceat(a[take] + b[take] * at, np.cumsum(n) - n) if take.size else np.zeros(0)
    return np.minimum(p.own_capacity[who], env)


def settle_saturation(m: Milp, p: Problem, x: np.ndarray) -> np.ndarray:
    """The same plan with each saturated value at its largest feasible level.

    A solver stopped early may leave u_k below its own-follower envelope and
    z_s below min(M_s, min_i a_i + b_i C_s); every objective rewards them, so
    raising them is always right.
    """
    if m.n_z == 0 and m.n_u == 0:
        return x
    x = np.array(x, float)
    value = np.bincount(m.xk, weights=p.value[m.xk, m.xw] * x[:m.n_x], minlength=p.n)  # per creator
    direct = value
    if m.n_u:
        u = own_envelope(p, np.bincount(m.xk, weights=p.own_value[m.xk, m.xw] * x[:m.n_x], minlength=p.n), m.uk)
        x[m.u0:] = u
        direct = value * (1 - p.own_share)
        direct = direct + np.bincount(m.uk, weights=u, minlength=p.n)
    pressure = np.bincount(p.segment, weights=direct, minlength=m.n_z)[:m.n_z]
    z = [min(float(p.capacity[s]), float(np.min(a + b * pressure[s]))) for s, (b, a) in enumerate(p.cuts)]
    x[m.n_x + m.n_y:m.u0] = z
    return x


def _interchangeable(p: Problem, named_tier: np.ndarray, named_cat: np.ndarray):
    """Creators the model cannot tell apart, as pairs (first, second) of neighbours in chains
    sorted by their key: the same named tier and category, segment, price, fee, cap, minimum
    notes, must-include flag, expected cost, weekly limits, note values (to 9 decimals) and own
    followers."""
    values = (p.value * 1e9).round().astype(np.int64)
    sums = np.sort(values.sum(axis=1))
    if not (sums[1:] == sums[:-1]).any():  # no two creators' note values agree
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # own followers: the share, the curve's scale and each week's pressure on it decide the own
    # rows (their tangents follow from these and the limits already in the key)
    own = [] if p.own_share is None else [(p.own_share * 1e9).round().astype(np.int64),
                                          (p.own_capacity * 1e6).round().astype(np.int64),
                                          (p.own_value * 1e9).round().astype(np.int64)]
    key = np.column_stack([named_tier, named_cat, p.segment, p.cost_cents, p.fee_cents, p.cap,
                           p.min_posts, p.must.astype(np.int64), (p.expected_cost * 100).round().astype(np.int64),
                           p.upper, values, *own, *([] if p.bought is None else [p.bought])])
    order = np.lexsort(key.T[::-1])
    ranked = key[order]
    same = (ranked[1:] == ranked[:-1]).all(axis=1)
    return order[:-1][same], order[1:][same]


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
    xk, xw = (p.upper > 0).nonzero()
    n_x = len(xk)
    S = len(p.segment_names) if p.saturating else 0
    uk = np.flatnonzero(p.owns)  # creators with an own-follower curve
    n = n_x + N + S + len(uk)
    y0 = n_x
    z0 = n_x + N
    u0 = z0 + S

    # objective (maximise)
    c = np.zeros(n)
    v = p.value[xk, xw]
    if not p.saturating:
        c[:n_x] = v * p.unit_value
    else:
        c[z0:u0] = p.unit_value
    if p.objective == "profit":
        c[:n_x] -= p.expected_cost[xk]
        c[y0:z0] -= p.fee
    lb = np.zeros(n)
    ub = np.concatenate([p.upper[xk, xw], np.ones(N), p.capacity[:S], p.own_capacity[uk] if len(uk) else []])
    lb[y0:z0] = p.must
    if p.bought is not None:  # notes already bought are kept
        lb[:n_x] = p.bought[xk, xw]
    integral = np.arange(n) < z0  # x and y; z and u are continuous

    R = _Rows()
    spend_x = p.cost[xk]
    # 1. budget: note prices + hiring fees
    spend_cols = np.arange(n_x + N)
    spend_vals = np.concatenate([spend_x, p.fee])
    R.add_row(Group("budget", Family.BUDGET), spend_cols, spend_vals, -INF, p.budget)
    # 1b. budgets of week ranges (note prices in those weeks)
    for i, wb in enumerate(opt.budget_by_weeks):
        in_range = np.zeros(W, bool)
        in_range[np.array(wb.weeks) - 1] = True
        sel = in_range[xw]
        weeks = ", ".join(map(str, wb.weeks))
        R.add_row(Group(f"budget of weeks {weeks}", Family.WEEK_BUDGET, key=str(i)),
                  sel.nonzero()[0], spend_x[sel], -INF, wb.max)
    # 5. the brand's cadence: sponsored notes a week
    if opt.max_posts_per_week is not None:
        R.add(Group(f"brand cadence: at most {opt.max_posts_per_week} sponsored notes a week",
                    Family.BRAND_CADENCE),
              np.bincount(xw, minlength=W), xw.argsort(kind="stable"), np.ones(n_x), -INF,
              opt.max_posts_per_week)
    # 2. category spend shares: L T <= S_c <= U T
    col_creator = np.concatenate([xk, np.arange(N)])  # the creator of each x and y column
    # the model tells creators apart by the categories and tiers the policy names, nothing else
    named_cat = np.zeros(N, np.int64)  # 1 + index of the creator's category among the named, or 0
    named_tier = np.zeros(N, np.int64)

    def share_rows(label: str, most: Family, least: Family, key: str, mine: np.ndarray, lo: float,
                   hi: float) -> None:
        """lo T <= S <= hi T, written as S - hi T <= 0 and lo T - S <= 0."""
        if hi >= 1 and lo <= 0:
            return
        on = mine[col_creator]  # on the columns of the category's (tier's) creators
        if hi < 1:
            R.add_row(Group(f"{label}: at most {hi:.0%} of spend", most, key),
                      spend_cols, spend_vals * (on - hi), -INF, 0.0)
        if lo > 0:
            R.add_row(Group(f"{label}: at least {lo:.0%} of spend", least, key),
                      spend_cols, spend_vals * (lo - on), -INF, 0.0)

    for i, (cat, b) in enumerate(opt.category_share.items()):
        mine = p.category == cat
        named_cat[mine] = i + 1
        share_rows(f"category {cat}", Family.CATEGORY_MAX, Family.CATEGORY_MIN, cat, mine, b.min, b.max)
    # 3. tier mix: hired creators and spend shares
    for i, (t, rule) in enumerate(opt.tiers.items()):
        mine = p.tier == t
        named_tier[mine] = i + 1
        members = mine.nonzero()[0]
        if rule.min_creators > 0:
            R.add_row(Group(f"tier {t}: at least {_creators(rule.min_creators)}", Family.TIER_MIN, t),
                      y0 + members, np.ones(len(members)), rule.min_creators, INF)
        if rule.max_creators is not None:
            R.add_row(Group(f"tier {t}: at most {_creators(rule.max_creators)}", Family.TIER_MAX, t),
                      y0 + members, np.ones(len(members)), -INF, rule.max_creators)
        share_rows(f"tier {t}", Family.TIER_SHARE_MAX, Family.TIER_SHARE_MIN, t, mine, rule.min_share,
                   rule.max_share)
    # 7. minimum notes if hired:  m_k y_k - sum_w x_kw <= 0   (row k: k's x columns, then y_k)
    x_of = np.bincount(xk, minlength=N)  # x columns of each creator (they are numbered creator by creator)
    lengths, cols, in_run = _run_then_one(np.arange(n_x), x_of, y0 + np.arange(N))
    vals = -np.ones(len(cols))
    vals[~in_run] = p.min_posts
    one = np.unique(p.min_posts)
    R.add(Group(f"at least {one[0]} note(s) from each hired creator" if len(one) == 1 else
                "the minimum notes of each hired creator", Family.MIN_POSTS), lengths, cols, vals, -INF, 0.0)
    # 4. the platform's cadence rule, in rolling 4-week windows; also links x to y.
    #    Window j covers weeks j .. j+3; one row per window and creator with a week in it,
    #    numbered window by window: k's x columns in those weeks, then -cap_k y_k.
    n_win = len(window_starts(W))
    allowed = np.concatenate([np.zeros((N, 1), np.int64), (p.upper > 0).cumsum(axis=1)], axis=1)
    ends = np.minimum(np.arange(n_win) + 4, W)
    in_win = allowed[:, ends] - allowed[:, :n_win]  # (N, windows): x columns of k in window j
    wj, wk = (in_win.T > 0).nonzero()
    first_x = x_of.cumsum() - x_of
    lengths, cols, in_run = _run_then_one(ranges(first_x[wk] + allowed[wk, wj], in_win[wk, wj]),
                                          in_win[wk, wj], y0 + wk)
    vals = np.ones(len(cols))
    vals[~in_run] = -p.cap[wk]
    R.add(Group(f"platform rule: at most {opt.sponsored_share:.0%} of a creator's monthly notes "
                "sponsored, in any 4 weeks", Family.CADENCE), lengths, cols, vals, -INF, 0.0)
    # 8. saturation of each creator's own followers: u_k - b_i sum_w o_kw x_kw <= a_i for each
    #    tangent i of creator k (o its notes' own pressure): k's x columns, then u_k
    if len(uk):
        b_own, a_own, counts = p.own_cuts
        r_k = np.repeat(np.arange(N), counts)  # the creator of each row
        u_of = np.full(N, -1, np.int64)
        u_of[uk] = u0 + np.arange(len(uk))
        lengths, cols, in_run = _run_then_one(ranges(first_x[r_k], x_of[r_k]), x_of[r_k], u_of[r_k])
        vals = np.ones(len(cols))
        vals[in_run] = -b_own.repeat(x_of[r_k]) * p.own_value[xk, xw][cols[in_run]]
        R.add(Group("saturation of each creator's own followers", Family.OWN_FOLLOWERS), lengths, cols, vals,
              -INF, a_own)
    # 9. saturation: z_s - b_i C_s <= a_i  for each tangent i of segment s (the request's cuts);
    #    C_s is the value of the segment's notes beyond their creators' own followers, plus what
    #    counts among those followers, u_k (they are people of the segment): each tangent row
    #    holds every x column of its segment, its u columns, then z_s
    if p.saturating:
        share = (1 - p.own_share) if len(uk) else np.ones(N)
        members = np.concatenate([np.arange(n_x), u0 + np.arange(len(uk))]).astype(np.int64)
        weight = np.concatenate([share[xk] * v, np.ones(len(uk))])
        seg_of = np.concatenate([p.segment[xk], p.segment[uk]]).astype(np.int64)
        slopes = np.concatenate([b for b, _ in p.cuts])
        intercepts = np.concatenate([a for _, a in p.cuts])
        r_seg = np.repeat(np.arange(S), [len(b) for b, _ in p.cuts])
        by_seg = seg_of.argsort(kind="stable")
        n_seg = np.bincount(seg_of, minlength=S)
        run = by_seg[ranges((n_seg.cumsum() - n_seg)[r_seg], n_seg[r_seg])]
        lengths, cols, in_run = _run_then_one(members[run], n_seg[r_seg], z0 + r_seg)
        vals = np.ones(len(cols))
        vals[in_run] = -slopes.repeat(n_seg[r_seg]) * weight[run]
        R.add(Group("saturation of each audience segment", Family.SATURATION), lengths, cols, vals, -INF,
              intercepts)
    # symmetry: interchangeable creators are hired in order
    first, second = _interchangeable(p, named_tier, named_cat)
    if len(first):
        pairs = np.empty((len(first), 2), np.int64)  # row: y_first - y_second >= 0
        pairs[:, 0], pairs[:, 1] = y0 + first, y0 + second
        signs = np.empty((len(first), 2))
        signs[:, 0], signs[:, 1] = 1.0, -1.0
        R.add(Group("interchangeable creators hired in order", Family.SYMMETRY),
              np.full(len(first), 2), pairs.ravel(), signs.ravel(), 0.0, INF)

    row_lo, row_hi = R.bounds()
    return Milp(c=c, lb=lb, ub=ub, integral=integral, A=R.matrix(n), row_lo=row_lo, row_hi=row_hi,
                row_group=np.arange(len(R.groups)).repeat(R.counts), groups=tuple(R.groups), xk=xk, xw=xw,
                n_y=N, n_z=S, uk=uk)
