"""Risk-aware plans: sample average approximation over scenarios of the creators' outcomes.

The expected-value program maximises the mean.  A planner who "would rather be
sure of 400 than hope for 500" asks about the lower tail instead.  Here the
request's integer program gets S scenarios of the random effects the engines
draw (``docs/model.md`` §5):

- the campaign's demand effect G and each tier's effect T_t (conversions and
  profit only; they multiply the rate of purchase intents per read),
- each creator's content quality Q_k (it multiplies every note's reads),
- and the creator's notes' viral factors and delivery, as the mean of its
  n notes' factors (a lognormal with that mean's mean 1 and variance, the
  Fenton–Wilkinson match; a creator who delivers all its notes or none draws
  its delivery once).  n is given per creator (``kolsim.riskplan`` re-draws the
  same random numbers with the plan's own counts until they settle).

In scenario j creator k's notes press on its segment with a_jk times their
expected pressure B_k (the expected model's value of its notes beyond its own
followers, plus the saturated value among them), so the outcome

    Y_j = unit · sum_s F_s(sum_{k in s} a_jk B_k)  [- expected spend, for profit]

is the expected-value model with each creator's pressure scaled, through
the same tangents of the saturation curve F_s (per segment and scenario).
With every a_jk = 1 it is exactly the expected model.  On Y_1 … Y_S
(Rockafellar and Uryasev 2000; Luedtke and Ahmed 2008):

- CVaR_alpha(Y) = max_t  t - 1/(alpha S) sum_j (t - Y_j)^+  (a linear program's rows),
- the alpha-quantile: the largest t with Y_j >= t in all but floor(alpha S) scenarios
  (one binary per scenario, Y_j >= t - M_j (1 - w_j)),
- a probability: Y_j >= T in at least ceil(p S) scenarios (binaries, Y_j >= T w_j).

``docs/optimizer.md`` §21 states the programs and what they guarantee.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import InputError
from ..model import creator_table
from .backends import relative_gap, solve_highs
from .families import Family
from .formulation import Group, Milp, build_milp, settle_saturation
from .problem import Problem
from .verify import VerifiedPlan, plan_vector, verify

__all__ = ["MEASURES", "RiskSpec", "parse_risk", "draw_multipliers", "scenario_outcomes", "tail_measures",
           "solve_risk", "RiskSolve"]

#: The risk measures a request can ask about.
MEASURES = ("cvar", "quantile")


@dataclass(frozen=True)
class RiskSpec:
    """What a risk-aware request asks.

    mode "max": maximise ``measure`` at tail share ``alpha``;
    mode "floor": maximise the expected value subject to ``measure`` >= ``floor``;
    mode "probability": the least spend with P(outcome >= ``target``) >= ``probability``.
    """

    mode: str
    measure: str = "cvar"
    alpha: float = 0.1
    floor: float | None = None
    target: float | None = None
    probability: float | None = None

    def __post_init__(self):
        if self.mode not in ("max", "floor", "probability"):
            raise InputError(f"mode must be max, floor or probability (got {self.mode!r})", where="risk")
        if self.measure not in MEASURES:
            raise InputError(f"must be one of {', '.join(MEASURES)} (got {self.measure!r})", where="--risk")
        if isinstance(self.alpha, bool) or not (0 < float(self.alpha) < 1):
            raise InputError(f"the tail share must be above 0 and below 1 (got {self.alpha!r})", where="--risk")
        if self.mode == "floor" and not (self.floor is not None and math.isfinite(self.floor)):
            raise InputError(f"needs a finite floor (got {self.floor!r})", where="--risk")
        if self.mode == "probability":
            if self.target is None or not (math.isfinite(self.target) and self.target > 0):
                raise InputError(f"needs a target above 0 (got {self.target!r})", where="--target")
            if self.probability is None or not (0 < self.probability < 1):
                raise InputError(f"must be above 0 and below 1 (got {self.probability!r})",
                                 where="--target-probability")

    def words(self) -> str:
        """The request in a planner's words."""
        tail = f"P{self.alpha * 100:g}" if self.measure == "quantile" else f"CVaR {self.alpha:.0%}"
        if self.mode == "max":
            return f"maximise {tail}"
        if self.mode == "floor":
            return f"maximise the expected value with {tail} >= {self.floor:,.6g}"
        return f"the least spend with P(outcome >= {self.target:,.6g}) >= {self.probability:.0%}"


def parse_risk(text: str) -> RiskSpec:
    """``cvar:0.1`` (maximise CVaR at 10 %), ``quantile:0.1`` (maximise P10), or either with
    ``>=FLOOR`` (maximise the expected value subject to it), as ``--risk`` takes them.

    >>> parse_risk("cvar:0.1").mode, parse_risk("quantile:0.2>=400").floor
    ('max', 400.0)
    """
    raw = str(text).strip()
    head, ge, floor = raw.partition(">=")
    measure, colon, alpha = head.strip().partition(":")
    measure = measure.strip().lower()
    if measure not in MEASURES:
        raise InputError(f"must be MEASURE:ALPHA or MEASURE:ALPHA>=FLOOR with MEASURE one of "
                         f"{', '.join(MEASURES)}, e.g. cvar:0.1 or quantile:0.1>=400 (got {raw!r})", where="--risk")
    try:
        a = float(alpha) if colon else 0.1
    except ValueError:
        raise InputError(f"needs a tail share after {measure}: such as 0.1 (got {alpha!r})", where="--risk") from None
    f = None
    if ge:
        try:
            f = float(floor.replace("_", "").replace(",", ""))
        except ValueError:
            raise InputError(f"needs a number after >= (got {floor!r})", where="--risk") from None
    return RiskSpec(mode="floor" if ge else "max", measure=measure, alpha=a, floor=f)


# --------------------------------------------------------------------------- #
# scenarios
# --------------------------------------------------------------------------- #
def _lognormal(z: np.ndarray, sigma) -> np.ndarray:
    """exp(sigma z - sigma^2 / 2): mean 1."""
    sigma = np.asarray(sigma, float)
    return np.exp(sigma * z - 0.5 * sigma * sigma)


def draw_multipliers(scenario, pool, p: Problem, size: int, rng: np.random.Generator,
                     notes: np.ndarray | None = None) -> np.ndarray:
    """The scenarios' multipliers a_jk of each creator's expected pressure, shape (size, N).

    ``notes``: per creator, the number of notes whose viral factors are averaged (default each
    creator's minimum notes if hired).  Each has mean 1.  Drawn in a fixed order (campaign,
    tiers, creators, notes, delivery) whatever ``notes`` is, so a seed gives the same random
    numbers on every machine and for every note count.
    """
    n = p.n
    frame = pool.frame
    pos = pd.Index(frame["kol_id"].astype(str)).get_indexer(p.ids.astype(str))
    par = creator_table(frame, scenario.tiers, pool, scenario=scenario)
    p_post = np.clip(par["p_post"][pos].astype(float), 1e-12, 1.0)
    per_creator = par["per_creator_delivery"][pos].astype(bool)
    reach_sigma = np.array([scenario.tiers[t].reach_sigma for t in p.tier], float)
    tiers = sorted(set(map(str, p.tier)))
    t_index = np.array([tiers.index(str(t)) for t in p.tier], np.int64)
    u = scenario.uncertainty
    g = rng.standard_normal((size, 1))
    t = rng.standard_normal((size, len(tiers)))
    q = rng.standard_normal((size, n))
    ln = rng.standard_normal((size, n))
    d = rng.random((size, n))
    a = _lognormal(q, u.creator_sigma)
    if p.objective in ("conversions", "profit"):
        a *= _lognormal(g, u.campaign_sigma) * _lognormal(t, u.tier_sigma)[:, t_index]
    # the mean of the creator's n notes' factors D_i L_i / p (note by note delivery) or L_i (all or
    # none, drawn below): mean 1, variance v / n
    v = np.where(per_creator, np.expm1(reach_sigma ** 2), np.exp(reach_sigma ** 2) / p_post - 1.0)
    count = np.maximum(p.min_posts if notes is None else np.asarray(notes, float), 1)
    s2 = np.log1p(v / count)
    a *= _lognormal(ln, np.sqrt(s2))
    a *= np.where(per_creator, (d < p_post) / p_post, 1.0)
    return a


def _pressures(p: Problem, posts: np.ndarray, exact: bool) -> np.ndarray:
    """B_k: each creator's expected pressure on its segment (own followers saturated)."""
    pressure = (p.value * posts).sum(axis=1)
    if not p.saturating:
        return pressure
    owns = np.flatnonzero(p.owns)
    if not owns.size:
        return pressure
    from .formulation import own_envelope

    own = (p.own_value * posts).sum(axis=1)
    extra = np.zeros(p.n)
    m = p.own_capacity[owns]
    extra[owns] = m * -np.expm1(-own[owns] / m) if exact else own_envelope(p, own, owns)
    return pressure * (1 - p.own_share) + extra


@dataclass
class _Cuts:
    """Tangents z_js <= intercept + slope P_js of the saturation curves, found so far, each for one
    scenario j and segment s (``js`` = j * segments + s)."""

    capacity: np.ndarray  # (segments,)
    js: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray

    @classmethod
    def at(cls, capacity: np.ndarray, P: np.ndarray) -> "_Cuts":
        """The tangents through the origin (slope 1) and at pressures P (S, segments)."""
        S, n_seg = P.shape
        js = np.arange(S * n_seg)
        c = cls(capacity, js, np.ones(len(js)), np.zeros(len(js)))
        return c.add(js, P.ravel())

    def add(self, js: np.ndarray, points: np.ndarray) -> "_Cuts":
        cap = self.capacity[js % len(self.capacity)]
        u = np.maximum(points, 0.0) / cap
        b = np.exp(-u)
        return _Cuts(self.capacity, np.concatenate([self.js, js]), np.concatenate([self.slope, b]),
                     np.concatenate([self.intercept, cap * (-np.expm1(-u) - b * u)]))

    def envelope(self, P: np.ndarray) -> np.ndarray:
        """min(capacity, min over the tangents) at pressures P (S, segments)."""
        flat = P.ravel()
        out = np.tile(self.capacity, P.shape[0]).astype(float)
        np.minimum.at(out, self.js, self.intercept + self.slope * flat[self.js])
        return out.reshape(P.shape)

    def refine(self, P: np.ndarray, z: np.ndarray | None, tol: float) -> tuple["_Cuts", int]:
        """Tangents at the pressures where the program's z (default: the envelope) is more than
        ``tol`` above the exact curve; returns (cuts, how many were added)."""
        cap = self.capacity[None, :]
        exact = cap * -np.expm1(-np.maximum(P, 0.0) / cap)
        model = self.envelope(P) if z is None else np.minimum(z, self.envelope(P))
        bad = np.flatnonzero((model - exact).ravel() > tol * np.maximum(exact.ravel(), 1e-9) + 1e-9)
        return (self.add(bad, P.ravel()[bad]) if bad.size else self), int(bad.size)


def _by_segment(p: Problem, w: np.ndarray) -> np.ndarray:
    """Rows of per-creator values (S, N) summed by segment: (S, segments)."""
    out = np.zeros((w.shape[0], len(p.segment_names)))
    for s in range(out.shape[1]):
        out[:, s] = w[:, p.segment == s].sum(axis=1)
    return out


def scenario_outcomes(p: Problem, posts: np.ndarray, hired: np.ndarray, a: np.ndarray, *,
                      cuts: _Cuts | None = None) -> np.ndarray:
    """The plan's outcome in each scenario, Y_1 … Y_S (exact curves; with ``cuts``, the program's
    tangents instead)."""
    B = _pressures(p, posts, exact=cuts is None)
    weighted = a * B[None, :]
    if p.saturating:
        P = _by_segment(p, weighted)
        cap = p.capacity[None, :]
        z = cap * -np.expm1(-P / cap) if cuts is None else cuts.envelope(P)
        y = p.unit_value * z.sum(axis=1)
    else:
        y = p.unit_value * weighted.sum(axis=1)
    if p.objective == "profit":
        y = y - float((p.expected_cost * posts.sum(axis=1)).sum() + (p.fee * hired).sum())
    return y


def tail_measures(y: np.ndarray, alpha: float, target: float | None = None) -> dict:
    """Mean, the alpha-quantile (the value all but floor(alpha n) outcomes reach), CVaR_alpha
    (the mean of the worst alpha share, the boundary outcome weighted by its fraction), and
    P(Y >= target), with standard errors where they are simple."""
    y = np.sort(np.asarray(y, float))
    n = y.size
    k = alpha * n
    whole = int(math.floor(k + 1e-9))
    quantile = float(y[min(whole, n - 1)])
    cvar = float((y[:whole].sum() + (k - whole) * y[min(whole, n - 1)]) / k)
    out = {"mean": float(y.mean()), "mean_se": float(y.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
           "quantile": quantile, "cvar": cvar, "n": int(n)}
    if target is not None:
        share = float((y >= target - 1e-9 * max(1.0, abs(target))).mean())
        out["probability"] = share
        out["probability_se"] = math.sqrt(share * (1 - share) / n)
    return out


# --------------------------------------------------------------------------- #
# the program
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class _Layout:
    n0: int       # columns of the request's program
    B: int        # first B_k column
    P: int        # first P_js column (saturating), scenario-major
    Z: int        # first z_js column
    E: int        # the expected-spend column (profit), or -1
    Y: int        # first Y_j column
    t: int        # the t column
    s: int        # first s_j (cvar) or w_j (quantile, probability) column
    n: int        # all columns
    S: int        # scenarios
    n_seg: int


class _Coo:
    def __init__(self):
        self.r, self.c, self.v, self.lo, self.hi = [], [], [], [], []
        self.n = 0

    def rows(self, count, r, c, v, lo, hi):
        self.r.append(np.asarray(r, np.int64) + self.n)
        self.c.append(np.asarray(c, np.int64))
        self.v.append(np.asarray(v, float))
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (count,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (count,)))
        self.n += count


def _without_symmetry(m: Milp) -> Milp:
    """The program without its hiring-order rows: in scenarios no two creators are alike."""
    sym = [g for g, grp in enumerate(m.groups) if grp.family is Family.SYMMETRY]
    keep = ~np.isin(m.row_group, sym)
    if keep.all():
        return m
    groups = [g for i, g in enumerate(m.groups) if i not in sym]
    renumber = np.cumsum([i not in sym for i in range(len(m.groups))]) - 1
    return replace(m, A=m.A[keep], row_lo=m.row_lo[keep], row_hi=m.row_hi[keep],
                   row_group=renumber[m.row_group[keep]], groups=tuple(groups))


def _build(p: Problem, core: Milp, a: np.ndarray, spec: RiskSpec, cuts: _Cuts | None,
           t_cap: float = math.inf, surrogate: bool = False) -> tuple[Milp, _Layout]:
    """The risk program's columns and rows appended to the request's ``core`` (``t_cap``: a
    proven upper bound on the quantile, the big-M's size; ``surrogate``: a probability's
    conservative CVaR form, CVaR_{1-p}(Y) >= target, without binaries)."""
    S, N = a.shape
    n_seg = len(p.segment_names) if p.saturating else 0
    n0 = core.n_cols
    B = n0
    P = B + N
    Z = P + S * n_seg
    E = Z + S * n_seg if p.objective == "profit" else -1
    Y = (E + 1) if E >= 0 else Z + S * n_seg
    t = Y + S
    s0 = t + 1
    n = s0 + S
    lay = _Layout(n0, B, P, Z, E, Y, t, s0, n, S, n_seg)
    R = _Coo()
    inf = math.inf
    # B_k - share_k sum_w v_kw x_kw - u_k = 0
    share = (1 - p.own_share) if (p.saturating and core.n_u) else np.ones(N)
    xv = p.value[core.xk, core.xw] * share[core.xk]
    r = np.concatenate([core.xk, np.arange(N)] + ([core.uk] if core.n_u else []))
    c = np.concatenate([np.arange(core.n_x), B + np.arange(N)] + ([core.u0 + np.arange(core.n_u)] if core.n_u else []))
    v = np.concatenate([-xv, np.ones(N)] + ([-np.ones(core.n_u)] if core.n_u else []))
    R.rows(N, r, c, v, 0.0, 0.0)
    jj, kk = np.meshgrid(np.arange(S), np.arange(N), indexing="ij")
    if p.saturating:
        # P_js - sum_{k in s} a_jk B_k = 0
        row = jj * n_seg + p.segment[kk]
        R.rows(S * n_seg, np.concatenate([row.ravel(), np.arange(S * n_seg)]),
               np.concatenate([(B + kk).ravel(), P + np.arange(S * n_seg)]),
               np.concatenate([-a.ravel(), np.ones(S * n_seg)]), 0.0, 0.0)
        # z_js - b_i P_js <= a_i: the tangents found so far (cuts.js: the (scenario, segment) of each)
        rr = np.arange(len(cuts.js))
        R.rows(len(rr), np.concatenate([rr, rr]), np.concatenate([Z + cuts.js, P + cuts.js]),
               np.concatenate([np.ones(len(rr)), -cuts.slope]), -inf, cuts.intercept)
    if E >= 0:  # E - sum expected_cost x - sum fee y = 0
        R.rows(1, np.zeros(core.n_x + N + 1, np.int64),
               np.concatenate([np.arange(core.n_x), core.n_x + np.arange(N), [E]]),
               np.concatenate([-p.expected_cost[core.xk], -p.fee, [1.0]]), 0.0, 0.0)
    # Y_j - unit sum_s z_js (+ E) = 0, or Y_j - unit sum_k a_jk B_k (+ E) = 0
    if p.saturating:
        r, c, v = (np.repeat(np.arange(S), n_seg), Z + np.arange(S * n_seg), np.full(S * n_seg, -p.unit_value))
    else:
        r, c, v = jj.ravel(), (B + kk).ravel(), -p.unit_value * a.ravel()
    extra_r, extra_c, extra_v = [np.arange(S)], [Y + np.arange(S)], [np.ones(S)]
    if E >= 0:
        extra_r.append(np.arange(S))
        extra_c.append(np.full(S, E))
        extra_v.append(np.ones(S))
    R.rows(S, np.concatenate([r] + extra_r), np.concatenate([c] + extra_c), np.concatenate([v] + extra_v), 0.0, 0.0)

    lb = np.concatenate([core.lb, np.zeros(n - n0)])
    ub = np.concatenate([core.ub, np.full(n - n0, inf)])
    integral = np.concatenate([core.integral, np.zeros(n - n0, bool)])
    if p.saturating:
        ub[Z:Z + S * n_seg] = np.tile(p.capacity, S)
    # bounds of Y: 0 (or, for profit, minus the budget) up to what any plan could reach
    y_lo = -p.budget if p.objective == "profit" else 0.0
    most_B = (p.value * p.upper).sum(axis=1)
    y_hi = (p.unit_value * p.capacity.sum()) if p.saturating else float((p.unit_value * a * most_B).sum(axis=1).max(initial=0.0))
    lb[Y:Y + S] = y_lo
    ub[Y:Y + S] = max(y_hi, 0.0)
    if E >= 0:
        ub[E] = p.budget
    lb[t], ub[t] = -inf, inf
    c = np.concatenate([core.c, np.zeros(n - n0)])
    if surrogate or (spec.measure == "cvar" and spec.mode != "probability"):
        # s_j - t + Y_j >= 0, s_j >= 0
        R.rows(S, np.tile(np.arange(S), 3), np.concatenate([s0 + np.arange(S), np.full(S, t), Y + np.arange(S)]),
               np.concatenate([np.ones(S), -np.ones(S), np.ones(S)]), 0.0, inf)
        lb[t], ub[t] = y_lo, max(y_hi, 0.0)
        # the surrogate's target is raised by the tangents' tolerance, so that its plan (a start)
        # meets the target on the exact curves too
        alpha, floor = ((1.0 - spec.probability, spec.target * (1 + p.settings.saturation_tolerance) + 1e-9)
                        if surrogate else (spec.alpha, spec.floor))
        weight = 1.0 / (alpha * S)
        if spec.mode == "max":
            c[:n0] = 0.0
            c[t], c[s0:s0 + S] = 1.0, -weight
        else:  # t - weight sum s_j >= floor
            R.rows(1, np.zeros(S + 1, np.int64), np.concatenate([[t], s0 + np.arange(S)]),
                   np.concatenate([[1.0], np.full(S, -weight)]), floor, inf)
    else:
        # Y_j - t - M w_j >= -M  (w_j = 1: Y_j >= t), with M = t_hi - y_lo; at least `need` w_j = 1
        if spec.mode == "probability":
            t_lo = t_hi = spec.target
            need = int(math.ceil(spec.probability * S - 1e-9))
        else:
            need = S - int(math.floor(spec.alpha * S + 1e-9))
            t_lo, t_hi = (spec.floor, spec.floor) if spec.mode == "floor" else (y_lo, min(max(y_hi, 0.0), t_cap))
        lb[t], ub[t] = t_lo, t_hi
        big = t_hi - y_lo
        R.rows(S, np.tile(np.arange(S), 3), np.concatenate([Y + np.arange(S), np.full(S, t), s0 + np.arange(S)]),
               np.concatenate([np.ones(S), -np.ones(S), np.full(S, -big)]), -big, inf)
        R.rows(1, np.zeros(S, np.int64), s0 + np.arange(S), np.ones(S), need, inf)
        ub[s0:s0 + S] = 1.0
        integral[s0:s0 + S] = True
        if spec.mode == "max":
            c[:n0] = 0.0
            c[t] = 1.0
    if spec.mode == "probability":  # the least spend: maximise minus the spend
        c[:] = 0.0
        c[:core.n_x] = -p.cost[core.xk]
        c[core.n_x:core.n_x + N] = -p.fee
    new = sp.csr_matrix((np.concatenate(R.v), (np.concatenate(R.r), np.concatenate(R.c))), shape=(R.n, n))
    A = sp.vstack([sp.hstack([core.A, sp.csr_matrix((core.A.shape[0], n - n0))]), new], format="csr")
    A.sort_indices()
    groups = core.groups + (Group(f"risk: {spec.words()}", Family.RISK),)
    m = Milp(c=c, lb=lb, ub=ub, integral=integral, A=A,
             row_lo=np.concatenate([core.row_lo, np.concatenate(R.lo)]),
             row_hi=np.concatenate([core.row_hi, np.concatenate(R.hi)]),
             row_group=np.concatenate([core.row_group, np.full(R.n, len(core.groups))]),
             groups=groups, xk=core.xk, xw=core.xw, n_y=core.n_y, n_z=core.n_z, uk=core.uk)
    return m, lay


def _start(p: Problem, core: Milp, m: Milp, lay: _Layout, a: np.ndarray, spec: RiskSpec, cuts, x0: np.ndarray):
    """A full start vector from a plan's columns of the request's program, or None if it breaks a row."""
    x = np.zeros(m.n_cols)
    x[:lay.n0] = x0
    posts = np.zeros((p.n, p.weeks))
    posts[core.xk, core.xw] = x0[:core.n_x]
    hired = x0[core.n_x:core.n_x + core.n_y]
    B = _pressures(p, posts, exact=False)
    x[lay.B:lay.B + p.n] = B
    if p.saturating:
        P = _by_segment(p, a * B[None, :])
        z = cuts.envelope(P)
        x[lay.P:lay.P + lay.S * lay.n_seg] = P.ravel()
        x[lay.Z:lay.Z + lay.S * lay.n_seg] = z.ravel()
    if lay.E >= 0:
        x[lay.E] = float(p.expected_cost[core.xk] @ x0[:core.n_x] + p.fee @ hired)
    y = scenario_outcomes(p, posts, hired, a, cuts=cuts if p.saturating else None)
    x[lay.Y:lay.Y + lay.S] = y
    S = lay.S
    if spec.measure == "cvar" and spec.mode != "probability":
        tm = tail_measures(y, spec.alpha)
        x[lay.t] = tm["quantile"]
        x[lay.s:lay.s + S] = np.maximum(0.0, x[lay.t] - y)
    else:
        tv = spec.target if spec.mode == "probability" else spec.floor if spec.mode == "floor" else \
            tail_measures(y, spec.alpha)["quantile"]
        x[lay.t] = tv
        x[lay.s:lay.s + S] = y >= tv - 1e-9 * max(1.0, abs(tv))
    act = m.A @ x
    ok = np.all(act <= m.row_hi + 1e-6) and np.all(act >= m.row_lo - 1e-6) and np.all(x >= m.lb - 1e-9) \
        and np.all(x <= m.ub + 1e-9)
    return x if ok else None


@dataclass(frozen=True, eq=False)
class RiskSolve:
    """A risk-aware program's answer: the verified plan, the measure in sample, the bound."""

    status: str                # optimal, feasible, infeasible, no_solution
    spec: RiskSpec
    plan: VerifiedPlan | None  # the verified plan (its value: the expected model's, exact curves)
    objective: float | None    # the program's objective at the plan, in its model (tangents): -spend for a probability
    bound: float | None
    gap: float | None
    in_sample: dict = field(default_factory=dict)  # tail_measures of the S scenarios (exact curves)
    seconds: float = 0.0
    solver: str = ""
    sizes: dict = field(default_factory=dict)
    message: str = ""


def _pressure_of(p: Problem, core: Milp, lay: _Layout, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P_js of a column vector (S, segments), from its B_k."""
    return _by_segment(p, a * x[lay.B:lay.B + p.n][None, :])


def _misses(p: Problem, core: Milp, a: np.ndarray, spec: RiskSpec, x: np.ndarray) -> bool:
    """Whether the plan in columns ``x`` misses the request's floor or probability on the
    exact curves (always False for a maximisation)."""
    if spec.mode == "max":
        return False
    posts = np.zeros((p.n, p.weeks))
    posts[core.xk, core.xw] = np.round(x[:core.n_x])
    y = scenario_outcomes(p, posts, np.round(x[core.n_x:core.n_x + p.n]), a)
    if spec.mode == "probability":
        return int((y >= spec.target).sum()) < math.ceil(spec.probability * len(y) - 1e-9)
    return tail_measures(y, spec.alpha)[spec.measure] < spec.floor


def solve_risk(p: Problem, a: np.ndarray, spec: RiskSpec, *, time_limit: float, gap: float,
               start=None) -> RiskSolve:
    """Solve the sample average program of ``spec`` over the scenarios ``a`` (S, N).

    The saturation curves of the S x segments (scenario, segment) pairs are outer-approximated
    by tangents added where they are needed (Kelley's cutting planes): first on the linear
    relaxation, then at each plan found, until every plan's curve value is within the request's
    ``saturation_tolerance`` of the exact one or the time is up.  Fewer tangents only overstate
    the curve, so every bound stays valid; the plan's measures are reported on the exact curves.

    ``start``: a plan (kol_id, week, posts), such as the expected-value optimum, to start from
    when it meets every row (the floor, the probability) of this program.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    tol = p.settings.saturation_tolerance
    core = _without_symmetry(build_milp(p))
    x0 = None
    if start is not None and len(start):
        x0, _ = plan_vector(p, core, start)
    S = a.shape[0]
    cuts = None
    if p.saturating:
        if x0 is not None:
            posts = np.zeros((p.n, p.weeks))
            posts[core.xk, core.xw] = x0[:core.n_x]
            P0 = _by_segment(p, a * _pressures(p, posts, exact=False)[None, :])
        else:
            P0 = np.tile(p.capacity, (S, 1))
        cuts = _Cuts.at(p.capacity, P0)
    rounds = 0
    bounds: list[float] = []  # every bound proven on the way (each valid: tangents only overstate)
    t_cap = math.inf
    if spec.mode == "max" and spec.measure == "quantile":
        # Markov: (t - y_lo)(1 - alpha) <= mean(Y) - y_lo for Y >= y_lo, with mean(Y) at most the
        # relaxation's largest mean (CVaR at share 1); fewer tangents only raise it, so it is valid
        mean_m, lay = _build(p, core, a, RiskSpec("max", "cvar", 1.0 - 1e-12), cuts)
        mean_lp = solve_highs(mean_m, time_limit=max(1.0, 0.1 * time_limit), gap=gap, relax=True,
                              limits={"presolve": "on"})
        if mean_lp.x is not None and mean_lp.status == "optimal":
            y_lo = mean_m.lb[lay.Y]
            t_cap = y_lo + (float(mean_lp.objective) - y_lo) / (1.0 - spec.alpha) * (1 + 1e-6) + 1e-6
    m, lay = _build(p, core, a, spec, cuts, t_cap)
    lp = None
    last = math.inf
    for _ in range(20):  # tangents where the relaxation wants them, while its value moves
        left = deadline - time.perf_counter()
        if left <= 1.0:
            break
        lp = solve_highs(m, time_limit=left, gap=gap, relax=True, limits={"presolve": "on"})
        if lp.x is not None and lp.status == "optimal":
            bounds.append(float(lp.objective))  # fewer tangents only overstate: a valid bound
        if lp.x is None or not p.saturating:
            break
        cuts, added = cuts.refine(_pressure_of(p, core, lay, a, lp.x),
                                  lp.x[lay.Z:lay.Z + S * lay.n_seg].reshape(S, -1), tol)
        rounds += 1
        settled = abs(last - lp.objective) <= 5e-4 * max(1.0, abs(lp.objective))
        last = lp.objective
        if added:
            m, lay = _build(p, core, a, spec, cuts, t_cap)
        if not added or settled:
            break
    x_start = _start(p, core, m, lay, a, spec, cuts, x0) if x0 is not None else None
    sizes = {"scenarios": int(S), "start": "used" if x_start is not None else "none" if start is None else
             "not used: it breaks a risk row"}
    if spec.mode == "probability" and x_start is None and deadline - time.perf_counter() > 2.0:
        # CVaR_{1-p}(Y) >= target implies Y >= target in at least a share p of the scenarios
        # (Nemirovski and Shapiro 2006): its least-spend plan, a program without binaries, is a start
        sm, slay = _build(p, core, a, spec, cuts, surrogate=True)
        sur = solve_highs(sm, time_limit=0.3 * (deadline - time.perf_counter()), gap=gap)
        if sur.x is not None:
            x_start = _start(p, core, m, lay, a, spec, cuts, sur.x[:lay.n0])
            if x_start is not None:
                sizes["start"] = "from the CVaR surrogate"
    if lp is not None and lp.x is not None:
        # a plan from the creators the relaxation hires (and the start's): the program on them alone
        y = lp.x[core.n_x:core.n_x + p.n]
        keep = (y > 1e-6) | p.must
        if x0 is not None:
            keep |= x0[core.n_x:core.n_x + p.n] > 0.5
        left = deadline - time.perf_counter()
        if keep.sum() < p.n and left > 2.0:
            ub = m.ub.copy()
            ub[:core.n_x][~keep[core.xk]] = 0.0
            ub[core.n_x:core.n_x + p.n][~keep] = 0.0
            sub = solve_highs(replace(m, ub=ub), time_limit=0.4 * left, gap=gap, start=x_start)
            if sub.x is not None and (x_start is None or m.c @ sub.x > m.c @ x_start):
                x_start = sub.x
                sizes["start"] = f"from the relaxation's {int(keep.sum())} creators"
    raw = None
    kept = None  # the best plan (objective, columns) that meets a floor or probability exactly
    if x_start is not None and not _misses(p, core, a, spec, x_start):
        kept = (float(m.c[:lay.n0] @ x_start[:lay.n0]), x_start[:lay.n0])
    while True:
        left = max(0.5, deadline - time.perf_counter())
        raw = solve_highs(m, time_limit=left, gap=gap, start=x_start)
        if raw.bound is not None and math.isfinite(raw.bound):
            bounds.append(float(raw.bound))
        if raw.x is not None and not _misses(p, core, a, spec, raw.x) and \
                (kept is None or m.c[:lay.n0] @ raw.x[:lay.n0] >= kept[0]):
            kept = (float(m.c[:lay.n0] @ raw.x[:lay.n0]), raw.x[:lay.n0])
        # a re-solve needs time to prove anything: with little left, the plan stands as it is
        if raw.x is None or not p.saturating or deadline - time.perf_counter() < max(2.0, 0.05 * time_limit):
            break
        P_now, z_now = _pressure_of(p, core, lay, a, raw.x), raw.x[lay.Z:lay.Z + S * lay.n_seg].reshape(S, -1)
        # a floor or a probability must hold on the exact curves: where the plan misses it only
        # through the tangents' overstatement, tangents at the plan itself (tolerance 0)
        cuts, added = cuts.refine(P_now, z_now, 0.0 if _misses(p, core, a, spec, raw.x) else tol)
        rounds += 1
        if not added:
            break
        x_prev = raw.x[:lay.n0]
        m, lay = _build(p, core, a, spec, cuts, t_cap)
        x_start = _start(p, core, m, lay, a, spec, cuts, x_prev)
    sizes.update({"columns": m.n_cols, "rows": int(m.A.shape[0]), "nonzeros": int(m.A.nnz),
                  "tangents": int(len(cuts.js)) if cuts is not None else 0, "cut_rounds": rounds})
    seconds = time.perf_counter() - t0
    last_ok = raw.x is not None and not _misses(p, core, a, spec, raw.x)
    if raw.x is not None and not last_ok and kept is None:
        return RiskSolve(status="no_solution", spec=spec, plan=None, objective=None, bound=raw.bound, gap=None,
                         seconds=seconds, solver=raw.solver, sizes=sizes,
                         message="the plans found meet the request only through the tangents of the "
                                 "saturation curves, not on the exact curves; more time refines them")
    if raw.x is None and kept is None:
        return RiskSolve(status=raw.status, spec=spec, plan=None, objective=None, bound=raw.bound, gap=None,
                         seconds=seconds, solver=raw.solver, sizes=sizes, message=raw.message)
    # the last solve's plan, or the best plan an earlier one (or the start) gave
    x = settle_saturation(core, p, raw.x[:lay.n0] if last_ok else kept[1])
    vp = verify(p, core, x)
    y = scenario_outcomes(p, vp.posts, vp.hired, a)
    measures = tail_measures(y, spec.alpha, spec.target if spec.mode == "probability" else
                             spec.floor if spec.measure == "quantile" else None)
    if spec.mode == "probability":
        objective = -vp.spend_cents / 100
    elif spec.mode == "floor":
        objective = vp.model_value
    else:  # in the program's model (its tangents), as the bound is; in_sample has the exact curves
        objective = tail_measures(scenario_outcomes(p, vp.posts, vp.hired, a, cuts=cuts), spec.alpha)[spec.measure]
    bound = min(bounds) + 0.0 if bounds else None
    g = relative_gap(objective, bound)
    status = "optimal" if last_ok and raw.status == "optimal" and g is not None and g <= gap + 1e-9 \
        else "feasible"
    return RiskSolve(status=status, spec=spec, plan=vp, objective=objective, bound=bound, gap=g,
                     in_sample=measures, seconds=seconds, solver=raw.solver, sizes=sizes, message=raw.message)
