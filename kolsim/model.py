"""The campaign model: one implementation, its expectation and its random draws.

A scenario is compiled once into a :class:`PostTable`: one entry per planned
note (day, audience segment, expected reads, rates, cost) and one per
*delivery group* (the unit that decides to publish: a single paid note, or a
gifted creator who posts all of their notes or none).  Both engines and the
optimizer consume the same table and the same functions below; ``docs/model.md``
states every equation with its unit and source.

Per note j (creator k, published on day d_j)::

    delivered   D_j ~ Bernoulli(delta_g)             (one draw per delivery group g)
    viral tail  L_j ~ Lognormal(-sigma^2/2, sigma)    (mean 1)
    reads       R_j = D_j * E_j * L_j,  E_j = F_k (1 - phi_k) reach_t / (1 - phi_t)
                (t the creator's tier; or the pool's reads_per_note)
    day t       reads land as R_j * kappa(t - d_j)   (two-part feed + search decay)

Per day t and audience segment s (size A_s), given the notes' pressure, each
read independently clicks (ctr) and a click turns into a purchase intent
(cvr), so by Poisson thinning::

    intents      ~ Poisson(sum_j R_j kappa ctr_j cvr_j)
    reads        = intents + Poisson(sum_j R_j kappa (1 - ctr_j cvr_j))   (drawn per horizon)
    clicks, interactions: thinned from the same reads (totals, see draw_block)
    new buyers   ~ Binomial(intents, 1 - N/A)           (only non-buyers become new buyers)
    word of mouth~ Binomial(A - N', 1 - exp(-q N / A))  (Bass imitation)

so 0 <= campaign conversions <= clicks <= reads holds draw by draw (word-of-mouth
buyers never clicked, so total conversions may exceed clicks), and in expectation
the buyers follow the saturation curve A (1 - exp(-C/A)) (q = 0) and the Bass
curve (constant pressure), as the tests check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .defaults import TIERS, relevance_of
from .errors import PoolError
from .rules import DEALS, spread_days, week_days
from .scenario import Response, Scenario

__all__ = ["PostTable", "build_post_table", "decay_kernel", "delay_pmf", "offsite_pressure", "draw_block",
           "accounting", "draw_notes", "draw_effects", "thin_reads", "split_interactions", "BuyersStep",
           "mean_field", "relevance", "capacity", "day_survival", "decision_share", "offsite_kernel",
           "follower_losses", "own_reads", "STREAMS", "TOTAL_METRICS",
           "DAILY_METRICS"]

#: The buyers' streams a run credits to the campaign (their sum is ``conversions``), in the
#: order :class:`BuyersStep` returns them: clicked and bought on RED, bought elsewhere after a
#: read, persuaded by a buyer's own note, and imitation (Bass q).
STREAMS: tuple[str, ...] = ("campaign", "offsite", "ugc", "wom")
#: Per-replication totals every engine reports.
TOTAL_METRICS: tuple[str, ...] = (
    "reads", "unique_reach", "interactions", "likes", "collects", "comments", "clicks",
    *(f"conversions_{s}" for s in STREAMS), "conversions", "conversions_organic", "repeat_orders",
    "reads_ugc", "posts_delivered", "spend", "revenue", "profit")
#: Daily series every engine reports (replications x days).
DAILY_METRICS: tuple[str, ...] = ("reads", *(f"conversions_{s}" for s in STREAMS))


@dataclass(frozen=True, eq=False)
class PostTable:
    """A scenario compiled to arrays: P notes, G delivery groups, S segments.

    Attributes
    ----------
    day : int array (P,)
        Planned publication day (0 = launch).
    segment : int array (P,)
        Index into ``segment_names``.
    reads : float array (P,)
        Expected reads of a delivered note before the viral factor, E_j.
    sigma : float array (P,)
        Sigma of the note's lognormal viral factor.
    interaction_rate, ctr, cvr : float arrays (P,)
        Interactions per read, P(click | read), P(purchase | click).
    like_share, collect_share : float arrays (P,)
        Shares of a note's interactions that are likes and collects (comments are the rest).
    commission : float array (P,)
        Affiliate commission as a share of revenue.
    cost : float array (P,)
        Price of the note in RMB.
    upfront : float array (P,)
        Share of ``cost`` paid whether or not the note is delivered.
    group : int array (P,)
        Delivery group of each note.
    group_p : float array (G,)
        P(the group delivers).
    fixed_cost : float
        RMB spent whatever happens: gifts, retainers, hiring fees.
    fixed_share : float array (P,)
        Each note's share of its creator's gift, retainer or hiring fee (the
        creator's fixed cost split evenly over its notes; they sum to
        ``fixed_cost``), for the discrete-event engine's accounting.
    creator, tier, wave : str arrays (P,)
        Labels for reports and the event log.
    segment_names : tuple of str; segment_sizes : float array (S,)
        People in each segment (unique reach is counted against them).
    segment_capacity : float array (S,)
        In-market people of each segment, M_s = in_market_share x relevance_s x A_s:
        the most buyers the segment can give, and the scale on which reads saturate.
    relevance : float array (P,)
        Each note's audience relevance to the product (already in ``cvr``).
    creator_index, tier_index : int arrays (P,)
        Each note's creator (0 … K−1) and tier (0 … 4), for the shared effects.
    own_share : float array (P,)
        Share of the note's reads served to its creator's own followers, theta_t (1 - omega):
        the follow feed's share of its reads less the followers it shares with the niche.
    creator_segment : int array (K,)
        Each creator's segment.
    creator_people, creator_capacity : float arrays (K,)
        Each creator's own followers, F_k (1 - phi_k) (1 - omega), and the in-market people
        among them, m_k = in_market_share x relevance_k x own followers: the scale on which
        the purchase decisions its notes raise among its own followers saturate
        (:func:`follower_losses`).
    creator_sigma, campaign_sigma, tier_sigma : float
        Spreads of the random effects (``[uncertainty]``, :func:`draw_effects`).
    horizon : int
        Days simulated.
    q_per_day, p_per_day : float
        Bass imitation and organic adoption (innovation) rates per day.
    offsite_ratio : float
        Off-platform purchase intents per on-platform intent.
    offsite_pmf : float array
        P(an off-platform intent decides d days after the day of its read), d = 0, 1, …
    offsite_kernel : float array (horizon,)
        Off-platform decisions on day tau after publishing per unit of the note's lifetime
        intents: offsite_ratio x (kappa * offsite_pmf)(tau).
    repeat_per_day : float
        Repeat orders per buyer per day.
    ugc_share, ugc_reads, ugc_rate : float
        Share of new buyers who publish a note, its expected reads, and P(a
        read of it persuades an in-market reader).
    price, margin : float or None
    kernel : float array (horizon,)
        kappa(tau): share of a note's lifetime reads on day tau after publishing.
    """

    day: np.ndarray
    segment: np.ndarray
    reads: np.ndarray
    sigma: np.ndarray
    interaction_rate: np.ndarray
    like_share: np.ndarray
    collect_share: np.ndarray
    ctr: np.ndarray
    cvr: np.ndarray
    commission: np.ndarray
    cost: np.ndarray
    upfront: np.ndarray
    group: np.ndarray
    group_p: np.ndarray
    fixed_cost: float
    fixed_share: np.ndarray
    creator: np.ndarray
    tier: np.ndarray
    wave: np.ndarray
    segment_names: tuple[str, ...]
    segment_sizes: np.ndarray
    segment_capacity: np.ndarray
    relevance: np.ndarray
    creator_index: np.ndarray
    tier_index: np.ndarray
    own_share: np.ndarray
    creator_segment: np.ndarray
    creator_people: np.ndarray
    creator_capacity: np.ndarray
    creator_sigma: float
    campaign_sigma: float
    tier_sigma: float
    horizon: int
    q_per_day: float
    p_per_day: float
    offsite_ratio: float
    offsite_pmf: np.ndarray
    offsite_kernel: np.ndarray
    repeat_per_day: float
    ugc_share: float
    ugc_reads: float
    ugc_rate: float
    price: float | None
    margin: float | None
    kernel: np.ndarray

    @property
    def n_posts(self) -> int:
        return len(self.day)

    def __repr__(self) -> str:
        return (f"PostTable({self.n_posts:,} notes in {len(self.group_p):,} delivery groups over "
                f"{self.horizon} days, {len(self.segment_names)} segment(s))")

    def pressure(self) -> np.ndarray:
        """Note-by-day matrix kappa(t - d_j), shape (P, horizon)."""
        lag = np.arange(self.horizon)[None, :] - self.day[:, None]
        out = np.zeros((self.n_posts, self.horizon))
        ok = lag >= 0
        out[ok] = self.kernel[lag[ok]]
        return out


def decay_kernel(scenario_decay, horizon: int) -> np.ndarray:
    """kappa(tau), the share of a note's lifetime reads on day tau = 0, 1, ….

    Two exponential parts [A; E24–E29]: the feed (share w_f, half-life h_f,
    cut off after ``feed_days``) and search (share 1 - w_f, half-life h_s)::

        kappa(tau) = w_f (e^{-l_f tau} - e^{-l_f (tau+1)}) [tau < feed_days]
                   + (1 - w_f) (e^{-l_s tau} - e^{-l_s (tau+1)}),   l = ln 2 / h

    Reads after the horizon are not counted.

    Examples
    --------
    >>> from kolsim.scenario import Decay
    >>> k = decay_kernel(Decay(), 100_000)
    >>> round(float(k.sum()), 6)   # all reads arrive eventually (feed cut-off ~1e-6)
    0.999999
    """
    d = scenario_decay
    tau = np.arange(horizon, dtype=float)
    lf = math.log(2) / d.feed_half_life_days
    ls = math.log(2) / d.search_half_life_days
    feed = d.feed_share * (np.exp(-lf * tau) - np.exp(-lf * (tau + 1))) * (tau < d.feed_days)
    search = (1 - d.feed_share) * (np.exp(-ls * tau) - np.exp(-ls * (tau + 1)))
    return feed + search


def delay_pmf(mean: float, horizon: int, tail: float = 1e-12) -> np.ndarray:
    """P(a decision falls d whole days after the day its read arose), d = 0, 1, ….

    The read arises at a uniform moment U of its day and the decision follows
    after a gamma(2, mean/2) delay D; it counts on the day U + D falls in, so
    P(d) = integral over u of [F(d + 1 - u) - F(d - u)] du, and the mean of d
    is ``mean`` (E floor(x + U) = x).  A mean of 0 is the same day (``[1.0]``).
    The array stops at the horizon, or once less than ``tail`` of the mass is
    left (those decisions fall after any horizon that matters).

    Examples
    --------
    >>> p = delay_pmf(3.0, 365)
    >>> round(float(p.sum()), 9), round(float((np.arange(p.size) * p).sum()), 6)
    (1.0, 3.0)
    """
    if mean <= 0:
        return np.ones(1)
    u = (np.arange(400) + 0.5) / 400  # midpoints: the integral over u to about 1e-6
    y = np.maximum(np.arange(horizon + 1)[:, None] - u[None, :], 0.0) / (mean / 2.0)
    cdf = (-np.expm1(-y) - y * np.exp(-y)).mean(axis=1)  # the gamma(2) CDF, 1 - e^{-y} (1 + y)
    pmf = np.diff(cdf)
    left = 1.0 - np.cumsum(pmf)
    stop = int(np.argmax(left < tail)) + 1 if (left < tail).any() else pmf.size
    return pmf[:stop]


def offsite_pressure(table: "PostTable", intents: np.ndarray) -> np.ndarray | None:
    """Expected off-platform purchase decisions per day from expected on-platform intents.

    ``intents`` has days on axis 1 (replications x days x segments); each
    day's intents bring ``offsite_ratio`` times as many off-platform intents,
    which decide after the delay :attr:`PostTable.offsite_pmf`:
    out[t] = ratio x sum_d intents[t - d] pmf[d].  Decisions after the horizon
    are not counted.  None when the ratio is 0.
    """
    if table.offsite_ratio <= 0:
        return None
    return _delayed(intents, table.offsite_pmf * table.offsite_ratio)


def _delayed(x: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """out[:, t] = sum_d x[:, t - d] pmf[d] along axis 1 (the days), as one matrix product with
    the banded matrix T[u, t] = pmf[t - u] (up to 400 days)."""
    h = x.shape[1]
    if h > 400:  # long horizons: the matrix would be mostly zeros; shift and add instead
        out = np.zeros_like(x, dtype=float)
        for d in range(min(pmf.size, h)):
            out[:, d:] += pmf[d] * x[:, :h - d]
        return out
    lag = np.arange(h)[None, :] - np.arange(h)[:, None]
    T = np.where((lag >= 0) & (lag < pmf.size), pmf[np.clip(lag, 0, pmf.size - 1)], 0.0)
    return np.moveaxis(np.moveaxis(np.asarray(x, float), 1, -1) @ T, -1, 1)


def offsite_kernel(kernel: np.ndarray, pmf: np.ndarray, ratio: float) -> np.ndarray:
    """Off-platform decisions on day tau after publishing, per unit of a note's lifetime intents:
    ratio x sum_d kernel[tau - d] pmf[d] (zeros when the ratio is 0)."""
    if ratio <= 0:
        return np.zeros_like(kernel)
    return _delayed(kernel[None, :], pmf * ratio)[0]


def decision_share(scenario: Scenario, days) -> np.ndarray:
    """Expected purchase decisions within the horizon, per unit of a note's lifetime intents, for a
    note published on each of ``days``.

    On RED they are its reads' share in the horizon; off it
    :func:`offsite_kernel`'s share; each decision on day t is weighted by
    e^{-p t}, the chance that its in-market reader has not bought by organic
    adoption before (first order in p).  The optimizer values a note with it:
    its campaign and off-platform buyers.
    """
    h = scenario.campaign.horizon_days
    fun = scenario.funnel
    kappa = decay_kernel(scenario.decay, h)
    per_day = kappa + offsite_kernel(kappa, delay_pmf(fun.offsite_delay_days, h), fun.offsite_per_onsite)
    survive = np.exp(-(fun.organic_p_per_year / 365.0) * np.arange(h))
    return np.array([float((per_day[: h - d] * survive[d:]).sum()) if 0 <= d < h else 0.0
                     for d in np.asarray(days, np.int64).reshape(-1)])


def build_post_table(scenario: Scenario) -> PostTable:
    """Compile a scenario's waves and plan into a :class:`PostTable`.

    Raises
    ------
    PoolError
        When a pool row's own numbers contradict each other (e.g. expected
        conversions above expected clicks).
    """
    h = scenario.campaign.horizon_days
    seg_index = {name: i for i, name in enumerate(scenario.segments)}
    cols: dict[str, list] = {k: [] for k in (
        "day", "segment", "reads", "sigma", "interaction_rate", "like_share", "collect_share", "ctr", "cvr",
        "commission",
        "cost", "upfront", "group", "creator", "tier", "wave", "fixed_share", "relevance", "own_share")}
    group_p: list[float] = []
    fixed = 0.0
    audiences: dict[str, tuple[int, float, float]] = {}  # creator -> (segment, own people, in-market)

    def add(days, *, seg, reads, tier, ir, ctr, cvr, rel, comm, cost, upfront, per_creator_delivery,
            p, creator, wave, fixed_cost, real_followers, follower_share):
        own, people, m = own_audience(scenario.response, real_followers, follower_share, rel)
        audiences[creator] = (seg, people, m)
        start = len(group_p)
        if per_creator_delivery:
            group_p.append(p)
            groups = [start] * len(days)
        else:
            group_p.extend([p] * len(days))
            groups = list(range(start, start + len(days)))
        n = len(days)
        cols["day"].extend(int(d) for d in days)
        cols["group"].extend(groups)
        for key, val in (("segment", seg), ("reads", reads), ("sigma", tier.reach_sigma),
                         ("interaction_rate", ir), ("like_share", tier.like_share),
                         ("collect_share", tier.collect_share), ("ctr", ctr), ("cvr", cvr), ("relevance", rel),
                         ("commission", comm), ("cost", cost), ("upfront", upfront),
                         ("creator", creator), ("tier", tier.code), ("wave", wave),
                         ("fixed_share", fixed_cost / n), ("own_share", own)):
            cols[key].extend([val] * n)

    product = scenario.campaign.category
    for w in scenario.waves:
        seg = seg_index[w.segment or w.category or scenario.campaign.category]
        rel = relevance(scenario, w.category or product)
        width = w.end_day - w.start_day + 1
        months = math.ceil(width / 30)
        deal = DEALS[w.deal]
        n_creators = w.creators
        # every note of the wave, interleaved by creator, spread over the window
        all_days = spread_days(w.start_day, width, n_creators * w.posts_per_creator)
        c = 0
        for code, count in w.tiers.items():
            tier = scenario.tiers[code]
            default_cost = tier.cost_per_post if deal.priced else 0.0
            cost = default_cost if w.cost_per_post is None else w.cost_per_post
            if w.post_probability is not None:
                p = w.post_probability
            else:
                p = tier.p_post_paid if deal.paid_delivery else tier.p_post_gifted
            for _ in range(count):
                days = all_days[c::n_creators]
                add(days, seg=seg, reads=tier.expected_reads(tier.followers),
                    tier=tier, ir=tier.interaction_rate, ctr=tier.ctr, cvr=min(1.0, tier.cvr * rel), rel=rel,
                    comm=w.commission, cost=cost, upfront=deal.upfront,
                    per_creator_delivery=deal.per_creator, p=p,
                    creator=f"{w.name}/{code}#{c + 1}", wave=w.name,
                    fixed_cost=w.gift_value + w.retainer_per_month * months,
                    real_followers=tier.followers * (1 - tier.fake_share), follower_share=tier.follower_share)
                fixed += w.gift_value + w.retainer_per_month * months
                c += 1

    if scenario.plan is not None:
        pool = scenario.plan.pool
        by_creator: dict[str, list] = {}
        for it in scenario.plan.items:
            by_creator.setdefault(it.kol_id, []).append(it)
        rows = pool.positions(by_creator)
        frame = pool.frame.iloc[rows]
        par = creator_table(frame, scenario.tiers, pool, rows, scenario=scenario)
        for i, (kol, items) in enumerate(by_creator.items()):
            tier = scenario.tiers[frame["tier"].iat[i]]
            days = []
            for it in sorted(items, key=lambda it: it.week):
                days.extend(week_days(it.week, it.posts, h))
            add(days, seg=seg_index[pool.segment_of(kol)], reads=par["reads"][i], tier=tier,
                ir=par["interaction_rate"][i], ctr=par["ctr"][i], cvr=par["cvr"][i],
                rel=par["relevance"][i], comm=0.0,
                cost=par["cost_per_post"][i], upfront=par["upfront"][i],
                per_creator_delivery=bool(par["per_creator_delivery"][i]), p=par["p_post"][i],
                creator=kol, wave="plan", fixed_cost=float(par["hiring_fee"][i]),
                real_followers=float(par["real_followers"][i]), follower_share=float(par["follower_share"][i]))
            fixed += par["hiring_fee"][i]

    f = lambda k, t=float: np.asarray(cols[k], dtype=t)
    fun = scenario.funnel
    sizes = np.asarray(list(scenario.segments.values()), float)
    names, creator_index = np.unique(f("creator", object), return_inverse=True) if cols["creator"] else \
        (np.zeros(0, object), np.zeros(0, np.int64))
    own = np.array([audiences[k] for k in names], float).reshape(-1, 3)
    kernel = decay_kernel(scenario.decay, h)
    offsite_pmf = delay_pmf(fun.offsite_delay_days, h)
    return PostTable(
        day=f("day", np.int64), segment=f("segment", np.int64), reads=f("reads"),
        sigma=f("sigma"), interaction_rate=f("interaction_rate"), like_share=f("like_share"),
        collect_share=f("collect_share"), ctr=f("ctr"), cvr=f("cvr"),
        commission=f("commission"), cost=f("cost"), upfront=f("upfront"),
        group=f("group", np.int64), group_p=np.asarray(group_p, float), fixed_cost=fixed,
        fixed_share=f("fixed_share"),
        creator=f("creator", object), tier=f("tier", object), wave=f("wave", object),
        segment_names=tuple(scenario.segments), segment_sizes=sizes,
        segment_capacity=capacity(scenario, tuple(scenario.segments), sizes), relevance=f("relevance"),
        creator_index=np.asarray(creator_index, np.int64).reshape(-1), own_share=f("own_share"),
        creator_segment=own[:, 0].astype(np.int64), creator_people=own[:, 1], creator_capacity=own[:, 2],
        tier_index=np.array([TIERS.index(t) for t in cols["tier"]], np.int64),
        creator_sigma=scenario.uncertainty.creator_sigma, campaign_sigma=scenario.uncertainty.campaign_sigma,
        tier_sigma=scenario.uncertainty.tier_sigma,
        horizon=h, q_per_day=scenario.word_of_mouth.q_per_day, p_per_day=fun.organic_p_per_year / 365.0,
        offsite_ratio=fun.offsite_per_onsite, offsite_pmf=offsite_pmf,
        offsite_kernel=offsite_kernel(kernel, offsite_pmf, fun.offsite_per_onsite),
        repeat_per_day=fun.repeat_rate(scenario.campaign.category) / 30.0, ugc_share=fun.ugc_share,
        ugc_reads=fun.ugc_reads, ugc_rate=fun.ugc_intent_rate,
        price=scenario.campaign.price, margin=scenario.campaign.margin,
        kernel=kernel)


def relevance(scenario: Scenario, category: str) -> float:
    """Relevance of an audience of ``category`` to the scenario's product (1 when unknown).

    ``[response.relevance]`` wins, then the default matrix
    (:data:`kolsim.defaults.RELEVANCE`); a pair outside both counts as 1
    (``docs/model.md`` §4).
    """
    r = relevance_of(scenario.campaign.category, category, scenario.response.relevance)
    return 1.0 if r is None else r


def own_audience(response, real_followers, follower_share, relevance):
    """A creator's own audience (docs/model.md §3), the one rule the engines and the optimizer use:
    ``(share, people, in_market)`` with people P = real followers x (1 - omega), in-market
    m = in_market_share x relevance x P (not rounded), and the share of its reads on them,
    theta (1 - omega), 0 when it has no own followers.  Arrays or plain numbers."""
    omega = response.follower_overlap
    people = np.asarray(real_followers, float) * (1 - omega)
    in_market = response.in_market_share * np.asarray(relevance, float) * people
    share = np.where(people > 0, np.asarray(follower_share, float) * (1 - omega), 0.0)
    if share.ndim == 0:
        return float(share), float(people), float(in_market)
    return share, people, in_market


def first_reaches(seen, lam, m):
    """Of ``lam`` decisions landing at random on ``m`` people after ``seen`` did, how many reach
    someone for the first time: m e^{-seen/m} (1 - e^{-lam/m}) (Poisson occupancy; m > 0)."""
    return m * np.exp(-seen / m) * -np.expm1(-lam / m)


def capacity(scenario: Scenario, names, sizes) -> np.ndarray:
    """In-market people of each segment: round(in_market_share x relevance x A_s), at least 1."""
    share = scenario.response.in_market_share
    rel = np.array([relevance(scenario, n) for n in names], float)
    return np.maximum(1.0, np.round(share * rel * np.asarray(sizes, float)))


def creator_table(frame, tiers, pool=None, rows=None, *, scenario: Scenario | None = None) -> dict[str, np.ndarray]:
    """Per-note model parameters of every creator in a pool frame, with tier fallbacks.

    Vectorised over rows (pools of 50,000 creators are compiled at once).  The
    planner's own numbers win: ``reads_per_note`` replaces the modelled reads;
    ``engagement_rate`` (interactions per follower) sets the interactions per
    read; ``expected_conversions`` sets the conversion rate per click so that
    reads x ctr x cvr equals it.

    Otherwise a note's reads are F (1 - phi_k) reach_t / (1 - phi_t) x e^beta_r
    and its rate per click cvr_t x rel_k x e^beta_c (at most 1), with e the
    creator's engagement relative to its tier (its engagement_rate over
    reach_t x i/r_t, or its interaction_rate over i/r_t; 1 without either) and
    rel_k its audience's relevance to the product (its ``relevance`` column,
    else :func:`relevance` of its category).  ``scenario`` supplies the
    product, the relevance overrides and the elasticities (without it, the
    defaults and a relevance of 1: enough to check a pool's rows).

    ``pool`` (the :class:`~kolsim.pool.Pool` the frame comes from) and ``rows``
    (the frame's row positions in it, when the frame is a part of it) name the
    rows in messages.

    Returns arrays (one entry per row): reads, interaction_rate, ctr, cvr,
    relevance, engagement (e), real_followers (F (1 - phi_k)), follower_share
    (its ``follower_share`` column, else the tier's), p_post, hiring_fee, cost_per_post,
    monthly_posts, upfront (share of the price paid whatever happens),
    per_creator_delivery (bool), deal.

    Raises
    ------
    PoolError
        Naming every row whose own numbers contradict each other.
    """
    tier_codes = frame["tier"].to_numpy(object)
    masks = {t: tier_codes == t for t in tiers}
    problems: list[tuple[int, str]] = []  # (row of the frame, what is wrong)
    positions = np.arange(len(frame)) if rows is None else np.asarray(rows)
    resp = scenario.response if scenario is not None else Response()

    def where(i: int) -> str:
        return pool.row_label(int(positions[i])) if pool is not None else f"kol_id={ids[i]}"

    def tier_attr(name):
        out = np.empty(len(tier_codes))
        for t, mask in masks.items():
            out[mask] = getattr(tiers[t], name)
        return out

    def col(name, fallback):
        if name not in frame.columns:
            return np.broadcast_to(np.asarray(fallback, float), (len(frame),)).copy()
        v = frame[name].to_numpy(float)
        return np.where(np.isnan(v), fallback, v)

    followers = frame["followers"].to_numpy(float)
    phi_t = tier_attr("fake_share")
    ir_t = tier_attr("interaction_rate")
    reach_t = tier_attr("reach")
    fake = col("fake_share", phi_t)
    er = col("engagement_rate", np.nan)
    ir_given = col("interaction_rate", np.nan)
    # engagement relative to the tier: ER over the tier's reach x i/r, or i/r over the tier's
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(~np.isnan(er), er / (reach_t * ir_t),
                     np.where(~np.isnan(ir_given), ir_given / ir_t, 1.0))
    e = np.where(np.isfinite(e), e, 1.0)
    reads = col("reads_per_note", followers * (1 - fake) * reach_t / (1 - phi_t) * e ** resp.reach_elasticity)
    ir = np.where(np.isnan(ir_given), ir_t, ir_given)
    use_er = ~np.isnan(er) & np.isnan(ir_given)
    with np.errstate(divide="ignore", invalid="ignore"):
        ir_er = np.where(reads > 0, er * followers / reads, 0.0)
    ir = np.where(use_er, ir_er, ir)
    ids = frame["kol_id"].to_numpy(object)
    for i in np.flatnonzero(use_er & (ir > 1)):
        problems.append((i, f"engagement_rate {er[i]:g} with {followers[i]:,.0f} followers implies "
                                   f"{ir[i]:.2f} interactions per read (expected reads {reads[i]:,.0f}); "
                                   "give reads_per_note or interaction_rate too"))
    ctr = col("ctr", tier_attr("ctr"))
    cats = frame["category"].to_numpy(object)
    rel_of = {c: relevance(scenario, c) if scenario is not None else 1.0 for c in set(cats)}
    rel = col("relevance", np.array([rel_of[c] for c in cats], float))
    cvr = np.minimum(1.0, col("cvr", tier_attr("cvr")) * rel * e ** resp.conversion_elasticity)
    conv = col("expected_conversions", np.nan)
    clicks = reads * ctr
    given = ~np.isnan(conv)
    for i in np.flatnonzero(given & (conv > clicks)):
        problems.append((i, f"expected_conversions {conv[i]:g} exceeds the note's expected clicks "
                                   f"{clicks[i]:,.1f} (reads {reads[i]:,.0f} x ctr {ctr[i]:g}); give "
                                   "reads_per_note or ctr consistent with it"))
    if problems:
        problems.sort(key=lambda p: p[0])  # by row
        raise PoolError.of([(where(i), text) for i, text in problems], file=getattr(pool, "source", None))
    with np.errstate(divide="ignore", invalid="ignore"):
        cvr = np.where(given, np.where(clicks > 0, conv / clicks, 0.0), cvr)
    deal = frame["deal_type"].fillna("paid").to_numpy(object)
    paid_like = np.isin(deal, [d.name for d in DEALS.values() if d.paid_delivery])
    p_default = np.where(paid_like, tier_attr("p_post_paid"), tier_attr("p_post_gifted"))
    return dict(
        reads=reads, interaction_rate=ir, ctr=ctr, cvr=cvr, relevance=rel, engagement=e, deal=deal,
        real_followers=followers * (1 - fake), follower_share=col("follower_share", tier_attr("follower_share")),
        p_post=col("post_probability", p_default), hiring_fee=col("hiring_fee", 0.0),
        cost_per_post=frame["cost_per_post"].to_numpy(float),
        monthly_posts=col("monthly_posts", tier_attr("monthly_posts")),
        upfront=np.select([deal == d.name for d in DEALS.values()], [d.upfront for d in DEALS.values()]),
        per_creator_delivery=np.isin(deal, [d.name for d in DEALS.values() if d.per_creator]),
    )


# --------------------------------------------------------------------------- #
# Random draws
# --------------------------------------------------------------------------- #
def draw_notes(table: PostTable, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Delivery and realised reads of every note, for ``size`` replications.

    Returns ``(delivered, reads)`` of shape (size, P): the note's lifetime
    reads R_j = D_j E_j L_j.
    """
    u = rng.random((size, len(table.group_p)))
    delivered = (u < table.group_p)[:, table.group]
    z = rng.standard_normal((size, table.n_posts))
    viral = np.exp(table.sigma * z - 0.5 * table.sigma ** 2)
    return delivered, delivered * table.reads * viral


def draw_effects(table: PostTable, rng: np.random.Generator, size: int):
    """Random effects shared by notes, for ``size`` replications (``docs/model.md`` §5).

    Returns ``(quality, conversion)``, each (size, P) or None when its spreads
    are 0 (nothing is drawn then, so zero spreads give the note-level model):

    - quality Q_k ~ Lognormal(-s_c^2/2, s_c), one per creator and replication,
      multiplies the reads of all of the creator's notes (content quality);
    - conversion G x T_t, a campaign demand effect G (one per replication)
      times the uncertainty T_t of the tier's click and purchase rates (one per
      tier and replication), each lognormal with mean 1, multiplies every
      note's rate of purchase intents per read; a note's ctr x cvr x G T_t is
      kept at most its ctr (a click is needed to buy).
    """
    quality = conversion = None
    n_creators = int(table.creator_index.max(initial=-1)) + 1
    if table.creator_sigma > 0 and n_creators:
        z = rng.standard_normal((size, n_creators))
        sc = table.creator_sigma
        quality = np.exp(sc * z - 0.5 * sc * sc)[:, table.creator_index]
    sg, st = table.campaign_sigma, table.tier_sigma
    if sg > 0 or st > 0:
        g = rng.standard_normal((size, 1))
        t = rng.standard_normal((size, int(table.tier_index.max(initial=-1)) + 1))
        log_m = (sg * g - 0.5 * sg * sg) + (st * t - 0.5 * st * st)[:, table.tier_index]
        most = np.full(table.n_posts, np.inf)  # a note's rate per click may not pass 1
        with np.errstate(over="ignore"):
            np.divide(1.0, table.cvr, out=most, where=table.cvr > 0)
        conversion = np.minimum(np.exp(log_m), most)
    return quality, conversion


def expected_daily(table: PostTable, note_reads: np.ndarray,
                   names: tuple[str, ...] = ("reads", "interactions", "clicks", "intents",
                                             "commission"), conversion=None) -> dict[str, np.ndarray]:
    """Expected reads, interactions, clicks, intents and commission weight per day and segment.

    ``note_reads`` has shape (B, P); each output has shape (B, horizon, S).
    ``names`` picks which of them to compute; ``conversion`` (B, P), the
    replications' shared conversion effects (:func:`draw_effects`), scales
    the intents and the commission.
    """
    if conversion is not None:
        buy = tuple(n for n in names if n in ("intents", "commission"))
        rest = tuple(n for n in names if n not in buy)
        out = expected_daily(table, note_reads, rest) if rest else {}
        out.update(expected_daily(table, note_reads * conversion, buy) if buy else {})
        return {n: out[n] for n in names}
    b = note_reads.shape[0]
    h, s = table.horizon, len(table.segment_names)
    weight_of = {"reads": lambda: np.ones(table.n_posts),
                 "interactions": lambda: table.interaction_rate,
                 "clicks": lambda: table.ctr,
                 "intents": lambda: table.ctr * table.cvr,
                 "commission": lambda: table.ctr * table.cvr * table.commission}
    weights = np.stack([weight_of[n]() for n in names])
    m_count = len(names)
    out = np.zeros((m_count, b, h, s))
    kappa = table.pressure()
    for k in range(s):
        idx = np.flatnonzero(table.segment == k)
        if idx.size == 0:
            continue
        # (B, P_k) @ (P_k, M*H): every weighted pressure in one product
        m = (weights[:, idx, None] * kappa[None, idx, :]).transpose(1, 0, 2).reshape(idx.size, m_count * h)
        out[:, :, :, k] = (note_reads[:, idx] @ m).reshape(b, m_count, h).transpose(1, 0, 2)
    return dict(zip(names, out))


def expected_totals(table: PostTable, note_reads: np.ndarray, conversion=None) -> dict[str, np.ndarray]:
    """Expected reads, interactions (likes and collects among them), clicks and intents over the
    horizon, shape (B, S) (``conversion`` as in :func:`expected_daily`)."""
    seen = table.kernel.cumsum()[table.horizon - 1 - table.day]  # share of each note's reads in the horizon
    onehot = np.zeros((table.n_posts, len(table.segment_names)))
    onehot[np.arange(table.n_posts), table.segment] = 1.0
    out = {}
    for name, w in (("reads", 1.0), ("interactions", table.interaction_rate),
                    ("likes", table.interaction_rate * table.like_share),
                    ("collects", table.interaction_rate * table.collect_share), ("clicks", table.ctr),
                    ("intents", table.ctr * table.cvr)):
        r = note_reads * conversion if name == "intents" and conversion is not None else note_reads
        out[name] = r @ (onehot * (seen * w)[:, None])
    return out


def follower_losses(table: PostTable, note_intents: np.ndarray, kept: bool = False):
    """The purchase decisions lost because a creator's own followers saturate, per day and segment.

    ``note_intents`` (B, P) holds each note's lifetime on-RED intents (reads x
    ctr x cvr x the replication's effects).  Creator k's notes raise, among
    its own followers, decisions at the rates o_k(t) = sum_j s_j x_j kappa(t - d_j)
    on RED and f_k(t) = sum_j s_j x_j kappa_off(t - d_j) off it (s_j the
    note's own share, kappa_off the :attr:`PostTable.offsite_kernel`).  Each
    lands on one of the creator's m_k in-market followers at random, and only
    the first to reach a follower counts (Poisson occupancy, the effective
    frequency of ``docs/model.md`` §3): with L_k(t) the decisions up to and
    including day t, day t's decisions reach
    m_k (e^{-L_k(t-1)/m_k} - e^{-L_k(t)/m_k}) followers not reached before, so
    a share rho_k(t) of them count, and over the horizon
    m_k (1 - e^{-L_k/m_k}).  Those that count then enter the segment's day
    like any other decision (they may meet a buyer of another creator there).

    Returns ``(lost_on, lost_off)``, each (B, horizon, S): o_k (1 - rho_k) and
    f_k (1 - rho_k) summed over the segment's creators; None when no note
    reaches its creator's own followers.  With ``kept=True`` a third array
    (B, K) follows: the share of each creator's own-follower decisions over the
    horizon that count, sum_t rho_k(t) lam_k(t) / sum_t lam_k(t) (1 where
    nothing lands), which attribution uses (:mod:`kolsim.attribution`).
    """
    own = table.own_share
    if not np.any(own > 0):
        return None
    b, h, n_seg = note_intents.shape[0], table.horizon, len(table.segment_names)
    lost_on = np.zeros((b, h, n_seg))
    lost_off = np.zeros((b, h, n_seg))
    share_kept = np.ones((b, len(table.creator_people))) if kept else None
    lag = np.arange(h)[None, :] - table.day[:, None]
    ok = lag >= 0
    k_on = np.where(ok, table.kernel[np.clip(lag, 0, h - 1)], 0.0)
    k_off = np.where(ok, table.offsite_kernel[np.clip(lag, 0, h - 1)], 0.0) if table.offsite_ratio > 0 else None
    x = note_intents * own
    for k in np.unique(table.creator_index[own > 0]):
        m = table.creator_capacity[k]
        if m <= 0:  # no in-market own followers (relevance 0): its decisions, if any, go to the segment
            continue
        idx = np.flatnonzero(table.creator_index == k)
        o = x[:, idx] @ k_on[idx]                                   # (B, H)
        f = x[:, idx] @ k_off[idx] if k_off is not None else 0.0
        lam = o + f
        counted = first_reaches(np.cumsum(lam, axis=1) - lam, lam, m)  # new followers reached on day t
        if kept:
            share_kept[:, k] = _ratio(counted.sum(axis=1), lam.sum(axis=1)) + (lam.sum(axis=1) <= 0)
        # lost = 1 - counted / lam (0 where nothing lands); lam >= counted always
        lost = np.divide(counted, lam, out=np.ones_like(lam), where=lam > 0)
        np.subtract(1.0, lost, out=lost)
        s = table.creator_segment[k]
        lost_on[:, :, s] += o * lost
        if k_off is not None:
            lost_off[:, :, s] += f * lost
    return (lost_on, lost_off, share_kept) if kept else (lost_on, lost_off)


def own_reads(table: PostTable, note_reads: np.ndarray) -> np.ndarray:
    """Expected reads within the horizon on each creator's own followers, shape (B, K)."""
    seen = table.kernel.cumsum()[table.horizon - 1 - table.day]
    k = len(table.creator_people)
    onehot = np.zeros((table.n_posts, k))
    onehot[np.arange(table.n_posts), table.creator_index] = table.own_share * seen
    return note_reads @ onehot


def _ratio(num, den):
    """num / den clipped to [0, 1], and 0 where den <= 0 (arrays or plain numbers)."""
    if not isinstance(num, np.ndarray):
        return min(max(num / den, 0.0), 1.0) if den > 0 else 0.0
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return np.clip(out, 0.0, 1.0)


def thin_reads(intents: np.ndarray, lam: Mapping[str, np.ndarray],
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads, clicks and interactions around drawn purchase intents, by Poisson thinning.

    ``lam`` holds the expected ``reads``, ``intents``, ``clicks`` and
    ``interactions`` of the same period (any shape, matching ``intents``, which
    were drawn as Poisson(lam["intents"])).  The other reads are
    Poisson(lam_reads - lam_intents); clicks are the intents plus
    Binomial(other reads, pbar) with pbar = (lam_clicks - lam_intents) /
    (lam_reads - lam_intents); interactions are Binomial(reads,
    lam_interactions / lam_reads).  Each total so has the distribution of
    read-by-read thinning, and intents <= clicks <= reads draw by draw.  The
    Monte Carlo engine calls it once per horizon, the discrete-event engine
    once per day: sums of independent Poisson draws are Poisson, so both give
    the same distribution.
    """
    other = rng.poisson(np.maximum(lam["reads"] - lam["intents"], 0.0))
    reads = intents + other
    clicks = intents + rng.binomial(
        other, _ratio(lam["clicks"] - lam["intents"], lam["reads"] - lam["intents"]))
    interactions = rng.binomial(reads, _ratio(lam["interactions"], lam["reads"]))
    return reads, clicks, interactions


def split_interactions(interactions, lam: Mapping[str, np.ndarray], rng: np.random.Generator):
    """Likes, collects and comments among drawn interactions: a multinomial split with the period's
    expected shares (lam_likes / lam_interactions, lam_collects / lam_interactions), drawn as two
    binomials, so likes + collects + comments = interactions draw by draw."""
    likes = rng.binomial(interactions, _ratio(lam["likes"], lam["interactions"]))
    rest = lam["interactions"] - lam["likes"]
    collects = rng.binomial(interactions - likes, _ratio(lam["collects"], rest))
    return likes, collects, interactions - likes - collects


def _occupancy(x):
    """(1 - e^{-x}) / x, and 1 at x = 0: the share of x/M persuasions per person that find a new person."""
    if not isinstance(x, np.ndarray):  # one segment's day (the discrete-event engine): plain floats
        return -math.expm1(-x) / x if x > 0 else 1.0
    if x.size and x.max() < 1e-3:  # the usual day: the series, exact to a^3/24 < 5e-11
        return 1.0 - x * (0.5 - x / 6.0)
    out = np.ones_like(x, dtype=float)
    np.divide(-np.expm1(-x), x, out=out, where=x > 0)
    return out


def day_survival(a, q: float, f0, p: float = 0.0):
    """P(an in-market non-buyer adopts by imitation or organically during one day), exactly.

    With campaign hazard ``a`` per non-buyer (constant over the day), organic
    adoption ``p`` and Bass imitation ``q`` per day and a share ``f0`` of
    buyers at the start of the day, the share of buyers follows
    df/ds = (a + p + q f)(1 - f), whose solution gives the day's survival
    S = u0 / u1 with u = 1 / (1 - f) and u1 = q/k + (u0 - q/k) e^k,
    k = a + p + q.  The campaign alone leaves e^{-a}; the rest, S e^{a}, is the
    survival of organic adoption and imitation, so their probability is
    1 - S e^{a} (in log form, which cannot overflow).  With a constant pressure
    the daily steps so follow the closed-form Bass curve
    F(t) = (1 - e^{-(P+q)t}) / (1 + (q/P) e^{-(P+q)t}), P = a + p, at every whole day.
    """
    if not isinstance(a, np.ndarray) and not isinstance(f0, np.ndarray):  # plain numbers
        if q <= 0:
            return -math.expm1(-p)
        f0 = min(float(f0), 1.0 - 1e-15)
        u0 = 1.0 / (1.0 - f0)
        k = a + p + q
        log_rest = math.log(u0) - p - q - math.log(u0 - (q / k) * -math.expm1(-k))
        return -math.expm1(min(log_rest, 0.0))
    if q <= 0:
        return np.full(np.broadcast(np.asarray(a), np.asarray(f0)).shape, -math.expm1(-p))
    a = np.asarray(a, float)
    f0 = np.minimum(np.asarray(f0, float), 1.0 - 1e-15)
    k = a + p + q
    u0 = 1.0 / (1.0 - f0)
    log_rest = np.log(u0) - p - q - np.log(u0 - (q / k) * -np.expm1(-k))
    return -np.expm1(np.minimum(log_rest, 0.0))


def organic_share(a, q: float, f0, p: float):
    """The share of the day's organic-or-imitation adopters who adopt organically.

    Their hazards are p and q f(s); the split uses f at mid-day from the same
    Riccati solution as :func:`day_survival` (u(1/2) = q/k + (u0 - q/k) e^{k/2}),
    p / (p + q f(1/2)), exact to second order in the day's hazard k = a + p + q
    (the total is exact).  1 without imitation, 0 without organic adoption.
    """
    if p <= 0:
        return 0.0 * a
    if q <= 0:
        return 1.0 + 0.0 * a
    k = a + p + q
    u0 = 1.0 / (1.0 - np.minimum(f0, 1.0 - 1e-15))
    e = np.exp(-0.5 * k)  # 1 / u(1/2) = e^{-k/2} / (q/k e^{-k/2} + u0 - q/k), without overflow
    f_half = 1.0 - e / ((q / k) * e + u0 - q / k)
    return p / (p + q * f_half)


class _Expectation:
    """Stands in for a Generator in :class:`BuyersStep`: each draw is replaced by its mean."""

    @staticmethod
    def binomial(n, p):
        return n * p

    @staticmethod
    def poisson(lam):
        return lam


def _least(x, y):
    return np.minimum(x, y) if isinstance(x, np.ndarray) or isinstance(y, np.ndarray) else min(x, y)


class BuyersStep:
    """One day of the buyers' dynamics in every segment, for both engines and the expectation.

    Called once per day with the day's purchase decisions on RED ``on`` and
    off it ``off`` (integers of shape ``shape``: replications x segments for
    the Monte Carlo engine; ``()``, one segment as plain numbers, for the
    discrete-event engine), it draws, with M the segment's in-market people
    (:attr:`PostTable.segment_capacity`) and N its buyers at the start of the
    day (every stream, organic ones included)::

        buyers' notes  persuaded readers u ~ Poisson(rho_t i_u)
        a share        pi = (1 - N/M) (1 - e^{-I/M}) M / I,  I = on + off + u
        campaign       c ~ Binomial(on, pi)
        off-platform   o ~ Binomial(off, pi)
        user notes     g ~ Binomial(u, pi)
        rest           ~ Binomial(M - N - c - o - g, day_survival(I/M, q, N/M, p))
                       split into organic (organic_share) and imitation w

    and returns ``(c, o, g, w, organic)``; :meth:`finish` then gives the
    horizon's repeat orders, Poisson(r_rep x the campaign's buyers summed over
    the days' starts), and the reads of buyers' notes.
    Each decision lands on one of the M at random and only the first to reach
    a person makes a buyer (Poisson occupancy), so the streams never give a
    segment more buyers than in-market people.  Of the day's new buyers
    Binomial(new, ugc_share) publish a note the next day, whose
    ``ugc_reads`` follow the decay kernel: rho_t is the sum of those reads
    falling on day t.  With ``expectation=True`` every draw is its mean
    (:func:`mean_field`).
    """

    def __init__(self, table: PostTable, shape: tuple[int, ...], segment: int | None = None,
                 expectation: bool = False):
        t = table
        cap = t.segment_capacity if segment is None else t.segment_capacity[segment]
        self.q, self.p, self.repeat = t.q_per_day, t.p_per_day, t.repeat_per_day
        self.expect = expectation
        self.day = 0
        if shape == ():
            self.M, self.inv_m = (float(cap) if expectation else int(cap)), 1.0 / float(cap)
            zero = lambda: 0.0 if expectation else 0
        else:
            self.M = np.asarray(cap, float) if expectation else np.asarray(cap).astype(np.int64)
            self.inv_m = 1.0 / np.asarray(cap, float)
            zero = lambda: np.zeros(shape, dtype=float if expectation else np.int64)
        self.zero = zero
        # common random numbers for attribution's paired run: each day's draw of organic-or-imitation
        # adopters is logged as (n, p, draw), and a paired step may draw it through ``rest_from``
        self.rest_log: list | None = None
        self.rest_from = None
        self.buyers, self.credited = zero(), zero()
        self.buyer_days, self.persuaded = zero(), zero()  # sums over the days so far
        self.ugc = None
        if t.ugc_share > 0 and t.ugc_reads > 0:
            self.ugc = np.zeros((t.horizon + 1,) + tuple(shape))  # expected reads of buyers' notes by day
            self.ugc_kernel = t.ugc_reads * t.kernel
            self.ugc_share, self.ugc_rate = t.ugc_share, t.ugc_rate
            self.horizon = t.horizon

    def __call__(self, on, off, rng: np.random.Generator):
        rng = _Expectation if self.expect else rng
        t, self.day = self.day, self.day + 1
        persuaded = self.zero()
        if self.ugc is not None:  # the day's persuaded readers of buyers' notes: Poisson(rho_t i_u)
            lam = self.ugc[t] if self.ugc.ndim > 1 else float(self.ugc[t])
            if self.expect or np.any(lam > 0):
                persuaded = rng.poisson(lam * self.ugc_rate)
        share = self.buyers * self.inv_m            # N / M at the start of the day
        a = (on + off + persuaded) * self.inv_m     # the day's decisions per in-market person
        p_new = (1.0 - share) * _occupancy(a)       # both factors in [0, 1]
        left = self.M - self.buyers
        if self.expect or not isinstance(on, np.ndarray):
            drawn = [rng.binomial(x, p_new) for x in (on, off, persuaded)]
        else:  # the three streams in one call (one draw per element, in the same order)
            drawn = rng.binomial(np.stack(np.broadcast_arrays(on, off, persuaded)), p_new)
        got = []
        for x in drawn:
            c = _least(x, left)
            left = left - c
            got.append(c)
        c, o, g = got
        w = organic = self.zero()
        if self.q > 0 or self.p > 0:
            prob = day_survival(a, self.q, share, self.p)
            rest = rng.binomial(left, prob) if self.rest_from is None else self.rest_from(t, left, prob)
            if self.rest_log is not None:
                self.rest_log.append((left, prob, rest))
            organic = rng.binomial(rest, organic_share(a, self.q, share, self.p)) if self.q > 0 else rest
            w = rest - organic
        self.buyer_days = self.buyer_days + self.credited  # the credited buyers who may reorder today
        self.persuaded = self.persuaded + persuaded
        new = c + o + g + w + organic
        self.buyers = self.buyers + new
        self.credited = self.credited + (new - organic)
        if self.ugc is not None and t + 1 < self.horizon:
            notes = rng.binomial(new, self.ugc_share)
            if self.expect or np.any(notes):
                k = self.ugc_kernel[: self.horizon - t - 1]
                self.ugc[t + 1:self.horizon] += k.reshape(k.shape + (1,) * (self.ugc.ndim - 1)) * notes
        return c, o, g, w, organic

    def finish(self, rng: np.random.Generator):
        """After the last day: ``(repeat orders, reads of buyers' notes)`` over the horizon.

        Repeat orders are Poisson(r_rep x the credited buyers summed over the
        days' starts), the sum of the days' independent Poisson orders; the
        reads of buyers' notes are the persuaded ones plus Poisson(the other
        expected reads), the thinning's other part, both exact in
        distribution for the totals (no daily series of them is reported).
        """
        rng = _Expectation if self.expect else rng
        repeats = rng.poisson(self.repeat * self.buyer_days) if self.repeat > 0 else self.zero()
        reads = self.zero()
        if self.ugc is not None:
            rest = self.ugc[: self.horizon].sum(axis=0) * (1.0 - self.ugc_rate)
            reads = self.persuaded + rng.poisson(rest if rest.ndim else float(rest))
        return repeats, reads


def draw_block(table: PostTable, rng: np.random.Generator, size: int, keep: bool = False) -> dict[str, np.ndarray]:
    """Simulate ``size`` replications of the whole campaign, day by day.

    Reads split by Poisson thinning: each read independently becomes a
    purchase intent with probability ctr x cvr, so a segment's intents on day t
    are Poisson(lambda_intents(t)) and its other reads over the horizon are
    Poisson(sum_t lambda_reads - lambda_intents), independently.  Intents are
    drawn day by day (they drive the buyers); clicks and interactions, reported
    as totals, are thinned once per segment: clicks = intents +
    Binomial(other reads, pbar), pbar = sum(lambda_clicks - lambda_intents) /
    sum(lambda_reads - lambda_intents), which is Poisson(sum lambda_clicks -
    lambda_intents) exactly, and interactions = Binomial(reads, sum
    lambda_interactions / sum lambda_reads), split into likes, collects and
    comments (:func:`split_interactions`).  Every reported total thus has the
    distribution of read-by-read thinning, and 0 <= intents <= clicks <= reads
    holds draw by draw.  Off-platform decisions on day t are
    Poisson(:func:`offsite_pressure`), drawn apart from the reads (a Poisson
    stream displaced by independent delays is Poisson).  The daily reads
    series is each replication's expected reads per day given its notes'
    delivery and viral factors (the same mean as a draw, with less noise).

    Returns per-replication totals (:data:`TOTAL_METRICS`, shape (size,)) and
    daily series (``daily_<name>`` for :data:`DAILY_METRICS`, shape
    (size, horizon)).  With ``keep=True`` the draws behind them are returned
    too, under ``"parts"``, for attribution (:mod:`kolsim.attribution`); they
    draw nothing more, so the totals are the same either way.
    """
    delivered, note_reads = draw_notes(table, rng, size)
    quality, conversion = draw_effects(table, rng, size)
    if quality is not None:
        note_reads = note_reads * quality
    affiliates = bool(np.any(table.commission > 0))
    exp = expected_daily(table, note_reads, ("reads", "intents", "commission") if affiliates
                         else ("reads", "intents"), conversion)
    lam_i = exp["intents"]
    lam_off = offsite_pressure(table, lam_i)
    x = (note_reads if conversion is None else note_reads * conversion) * (table.ctr * table.cvr)
    lost = follower_losses(table, x, kept=keep)
    total = expected_totals(table, note_reads, conversion)   # (B, S) over the horizon
    if lost is not None:  # decisions that meet a follower the creator has already persuaded
        full = lam_i
        lam_i = np.maximum(lam_i - lost[0], 0.0)
        lam_off = None if lam_off is None else np.maximum(lam_off - lost[1], 0.0)
        total["intents"] = np.maximum(total["intents"] - lost[0].sum(axis=1), 0.0)
        if affiliates:
            exp["commission"] = exp["commission"] * _ratio(lam_i, full)
    intents = rng.poisson(lam_i)                  # (B, H, S): they drive the buyers day by day
    off = rng.poisson(lam_off) if lam_off is not None else np.zeros_like(intents)
    seg_reads, clicks, interactions = thin_reads(intents.sum(axis=1), total, rng)
    likes, collects, comments = split_interactions(interactions, total, rng)

    # buyers, day by day (day-major arrays keep each day's slice contiguous)
    step = BuyersStep(table, (size, len(table.segment_sizes)))
    if keep:
        step.rest_log = []
    on_by_day = np.ascontiguousarray(intents.transpose(1, 0, 2))  # (H, B, S)
    off_by_day = np.ascontiguousarray(off.transpose(1, 0, 2))
    got = np.zeros((5,) + on_by_day.shape, np.int64)  # the step's five outputs, by day
    for t in range(table.horizon):
        for k, v in enumerate(step(on_by_day[t], off_by_day[t], rng)):
            got[k, t] = v
    repeats, ugc_reads = (np.asarray(v).sum(axis=1) for v in step.finish(rng))
    streams = dict(zip(STREAMS, got[:4]))

    note_spend = table.cost * (table.upfront + (1 - table.upfront) * delivered)
    spend = table.fixed_cost + note_spend.sum(axis=1)
    commission = None
    if affiliates:  # commission is paid on the buyers who clicked the note's link
        price = table.price or 0.0
        share_aff = _ratio(exp["commission"], lam_i).transpose(1, 0, 2)
        commission = price * (streams["campaign"] * share_aff)   # (H, B, S)
        spend = spend + commission.sum(axis=(0, 2))
    conv = {f"conversions_{k}": v.sum(axis=(0, 2)) for k, v in streams.items()}
    conversions = sum(conv.values())
    money = accounting(table, seg_reads, conversions, spend, repeats, own_reads(table, note_reads),
                       total["reads"], by_segment=keep)
    out = {
        "reads": seg_reads.sum(axis=1),
        "interactions": interactions.sum(axis=1),
        "likes": likes.sum(axis=1), "collects": collects.sum(axis=1), "comments": comments.sum(axis=1),
        "clicks": clicks.sum(axis=1),
        **conv,
        "conversions": conversions,
        "conversions_organic": got[4].sum(axis=(0, 2)),
        "repeat_orders": repeats,
        "reads_ugc": ugc_reads,
        "posts_delivered": delivered.sum(axis=1),
        "spend": spend,
        **{k: money[k] for k in ("unique_reach", "revenue", "profit")},
        "daily_reads": exp["reads"].sum(axis=2),
        **{f"daily_conversions_{k}": v.sum(axis=2).T for k, v in streams.items()},
    }
    if keep:
        out["parts"] = {
            "delivered": delivered, "note_reads": note_reads, "intent_reads": x,
            "kept": None if lost is None else lost[2], "expected": total,
            "drawn": {"reads": seg_reads, "interactions": interactions, "likes": likes, "collects": collects,
                      "comments": comments, "clicks": clicks},
            "reach": money["unique_reach_by_segment"], "got": got, "note_spend": note_spend,
            "commission": commission, "repeats": repeats,
            "rest": tuple(np.stack(v) for v in zip(*step.rest_log)) if step.rest_log else None}
    return out


def accounting(table: PostTable, seg_reads, conversions, spend, repeats=0, own=None, expected=None,
               by_segment: bool = False) -> dict:
    """Unique reach, revenue and profit from a run's reads per segment, conversions, repeat
    orders and spend.

    The one place where both engines turn their draws into readers and money
    (arrays over replications, or plain numbers for one): distinct readers of
    an audience of A people reached by R reads are A (1 - e^{-R/A}) (Poisson
    occupancy).  A creator's own followers are people of its segment: of the
    segment's drawn reads R_s, the share on creator k's own followers is its
    expected own reads (``own``, (B, K) or (K,); :func:`own_reads`) over the
    segment's expected reads (``expected``, (B, S) or (S,)), so its drawn own
    reads are R_own = R_s own_k / expected_s (an unbiased split: no reads are
    clipped); they reach F (1 - e^{-R_own/F}) of its F own followers, and
    those readers count in the segment's R beside its other reads (so a
    segment never has more readers than people); revenue is price x (conversions + repeat orders)
    (organic buyers, who buy without the campaign, are not counted), profit
    revenue x margin - spend (a margin of 1 when none is given; profit is then
    only reported with both).  ``by_segment=True`` adds ``unique_reach_by_segment``, the distinct
    readers of each segment (their sum is ``unique_reach``).
    """
    A = table.segment_sizes
    reads = np.asarray(seg_reads, float)
    if own is not None and len(table.creator_people):
        people = table.creator_people
        P = np.where(people > 0, people, 1.0)
        in_seg = table.creator_segment[:, None] == np.arange(len(A))[None, :]
        # each creator's drawn own reads: its expected share of its segment's drawn reads
        drawn = np.ones_like(reads)
        if expected is not None:
            e = np.asarray(expected, float)
            drawn = np.divide(reads, e, out=np.zeros_like(reads), where=e > 0)
        own = np.asarray(own, float) * drawn[..., table.creator_segment]
        # the segment's other reads, and each creator's distinct own readers, who are in it too
        readers = np.where(people > 0, P * -np.expm1(-own / P), 0.0)
        reads = np.maximum(reads - own @ in_seg, 0.0) + readers @ in_seg
    distinct = A * -np.expm1(-reads / A)
    reach = distinct.sum(axis=-1)
    revenue = (table.price or 0.0) * (conversions + repeats)
    margin = table.margin if table.margin is not None else 1.0
    out = {"unique_reach": reach, "revenue": revenue, "profit": revenue * margin - spend}
    if by_segment:
        out["unique_reach_by_segment"] = distinct
    return out


# --------------------------------------------------------------------------- #
# Expectation
# --------------------------------------------------------------------------- #
def mean_field(table: PostTable) -> dict[str, np.ndarray]:
    """The model's deterministic expectation, day by day (no randomness).

    Reads, interactions and clicks are exact expectations (linear in the
    notes); intents and off-platform decisions are too when no creator's own
    followers saturate, else their own-follower curve is applied to the mean
    reads (exact without viral spread and with certain delivery); buyers follow
    :class:`BuyersStep` with every draw replaced by its mean: exact for q = 0
    and no buyers' notes (the buyers are then M (1 - e^{-sum decisions / M})
    whatever the timing, and the repeat orders r_rep times the buyers summed
    over days) and, with a constant pressure, the closed-form Bass curve at
    every whole day; otherwise a mean-field approximation (the mean of the
    draws differs from it by the variance of the decisions over M).  Returns
    daily arrays of shape (horizon,) summed over segments, and ``buyers`` per
    segment at the end.
    """
    mean_reads = (table.reads * table.group_p[table.group])[None, :]
    exp = {k: v[0] for k, v in expected_daily(table, mean_reads).items()}
    off = offsite_pressure(table, exp["intents"][None])
    off = np.zeros_like(exp["intents"]) if off is None else off[0]
    lost = follower_losses(table, mean_reads * (table.ctr * table.cvr))
    if lost is not None:
        exp["intents"] = np.maximum(exp["intents"] - lost[0][0], 0.0)
        off = np.maximum(off - lost[1][0], 0.0)
    S = len(table.segment_capacity)
    step = BuyersStep(table, (S,), expectation=True)
    got = np.zeros((5, table.horizon, S))
    for t in range(table.horizon):
        got[:, t] = step(exp["intents"][t], off[t], None)
    repeats, ugc_reads = step.finish(None)
    out = {k: exp[k].sum(axis=1) for k in ("reads", "interactions", "clicks", "intents")}
    out["offsite_intents"] = off.sum(axis=1)
    for k, name in enumerate((*STREAMS, "organic")):
        out[f"conversions_{name}"] = got[k].sum(axis=1)
    out["repeat_orders"] = np.asarray(repeats, float)      # per segment, over the horizon
    out["reads_ugc"] = np.asarray(ugc_reads, float)        # per segment, over the horizon
    out["buyers"] = step.buyers
    return out
