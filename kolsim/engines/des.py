"""The discrete-event engine: the campaign's operations in time, on SimPy.

The Monte Carlo engine answers "how much"; this one answers "when, and what
slips".  It samples the same model (:mod:`kolsim.model`: the same post table,
delivery and viral draws, read thinning and buyers' step), but a note is
published when its workflow lets it, not on its planned day:

- **deal** (one process per creator): outreach starts ``outreach_days``
  before the creator's first planned note; the deal is signed after a
  contracting lead time, and the creator's fixed costs (gift, retainer or
  hiring fee) and the upfront share of every note's price are paid;
- **note** (one process per note): the brief goes out ``brief_days`` before
  the planned day (not before the deal); the creator drafts; the brand
  reviews in one or two rounds, each needing one of ``reviewers`` (a SimPy
  resource, first come first served), with a revision between rounds; the
  approved note is published on its planned day, or on the day after it is
  approved if that is later; the rest of the price is paid on delivery.
  A creator who does not deliver (the model's delivery draw: no-shows of
  gifted creators, paid notes that fall through) never posts;
- **reads**: a published note delivers its reads in batches (days 0, 1,
  2–3, 4–6, 7–13, 14–29, 30–59, … after publication: one event per batch,
  never one per reader), adding its expected reads, clicks, intents and interactions to its
  segment's days;
- **segment** (one process per audience segment): at the end of each day it
  draws the day's reads, clicks, interactions and purchase intents (Poisson
  thinning, :func:`kolsim.model.thin_reads`), sends each intent through a
  consideration delay, and turns the day's purchase decisions into new
  buyers and word-of-mouth buyers (:class:`kolsim.model.BuyersStep`); search
  ads, when budgeted, capture some of the day's searchers;
- **boost** (one process per published note, when feed ads are budgeted):
  ``boost_after_days`` after publication the note is judged by its reads so
  far and boosted with paid feed views if they reach a bar set before the
  campaign (:func:`_boost_bar`) and a boost is left.

With ``[operations] enabled = false`` and no ``[ads]``, every note is
published on its planned day and every intent decides on its day: the run
is the Monte Carlo engine's model, and the two agree in distribution (the
tests check it).

Reproducibility: replication i draws from three streams derived from the
i-th child of the run's seed sequence (deliveries and viral factors;
operations' durations; the audience's draws), so results are byte-identical
for any number of workers, and scenarios that share notes share their
deliveries and viral factors (common random numbers for ``compare``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import simpy
from scipy import stats

from ..attribution import CREDIT_METRICS, credit, credit_buyers, credit_counts, delayed, \
    no_campaign_buyers
from ..model import (STREAMS, PostTable, BuyersStep, accounting, build_post_table, delay_pmf, draw_effects,
                     draw_notes, first_reaches, split_interactions, thin_reads)
from ..results import STAGES, SimulationResult
from ..scenario import Ads, Operations, Scenario
from ..errors import InputError
from ._common import (check_memory, provenance, rel_half_width, require_posts, result_bytes_per_run,
                      run_in_rounds, run_settings, spawn)

__all__ = ["simulate_des", "DES_METRICS", "STAGES", "CHUNK", "BATCH_STARTS"]

#: Replications per task handed to a worker (results do not depend on it).
CHUNK = 50

#: Days after publication at which a note's next batch of reads starts.
BATCH_STARTS = (0, 1, 2, 4, 7, 14, 30, 60, 120, 240, 480, 960, 1920, 3840)

_WAIT, _CONTRACT, _SIGNED, _DRAFT, _QUEUED, _REVIEW, _REVISE, _APPROVED, _PUBLISHED, _NO_SHOW = range(len(STAGES))

#: Per-replication operational totals this engine adds to the model's.
DES_METRICS: tuple[str, ...] = (
    "posts_late", "publication_delay_days", "review_wait_days", "reviewer_utilisation",
    "review_queue_mean", "review_queue_max", "notes_in_flight", "decisions_in_flight",
    "spend_undelivered", "ad_views_feed", "ad_spend_feed", "ad_clicks_search", "ad_spend_search")

# rows of the per-read weights: what one read of a note brings in expectation
_READS, _INTENTS, _CLICKS, _INTERACTIONS, _COMMISSION, _LIKES, _COLLECTS = range(7)
_LAM_KEYS = ("reads", "intents", "clicks", "interactions")


@dataclass(frozen=True, eq=False)
class _Campaign:
    """A scenario compiled for the engine: the model's post table plus timing."""

    table: PostTable
    ops: Operations
    ads: Ads
    weights: np.ndarray          # (7, P): per read, 1, ctr*cvr, ctr, interactions, commission weight,
                                 # likes, collects
    creator_notes: tuple         # per creator: note indices, by planned day
    creator_names: tuple
    outreach: np.ndarray         # per creator: day outreach starts
    start: float                 # the clock's first time (<= 0)
    delay_pmf: np.ndarray | None  # P(consideration delay = d days), d = 0 .. horizon - 1
    feed_kernel: np.ndarray      # share of a boost's views on day tau after it starts
    segment_cvr: np.ndarray      # (S,) mean conversion rate per click of the segment's notes
    judged_share: float          # share of a note's reads by the day it is judged for a boost
    boost_bar: float             # reads so far a note needs to be boosted (_boost_bar)
    own_creators: tuple          # per segment: its creators whose notes reach their own followers
    own_capacity: tuple          # per segment: those creators' in-market own followers


def compile_campaign(scenario: Scenario) -> _Campaign:
    """The scenario's post table and everything the processes need, computed once."""
    table = build_post_table(scenario)
    ops = scenario.operations if scenario.operations.enabled else Operations(
        enabled=False, outreach_days=0, contract_days=0, brief_days=0, draft_days=0,
        review_days=0, second_round_share=0, revision_days=0, consideration_days=0)
    weights = np.stack([np.ones(table.n_posts), table.ctr * table.cvr, table.ctr,
                        table.interaction_rate, table.ctr * table.cvr * table.commission,
                        table.interaction_rate * table.like_share, table.interaction_rate * table.collect_share])
    names, notes = [], []
    order = np.argsort(table.day, kind="stable")
    index: dict[str, int] = {}
    for j in order:
        k = index.setdefault(table.creator[j], len(names))
        if k == len(names):
            names.append(table.creator[j])
            notes.append([])
        notes[k].append(int(j))
    outreach = np.array([table.day[n[0]] - ops.outreach_days for n in notes], float)
    h = table.horizon
    d = scenario.decay
    lf = math.log(2) / d.feed_half_life_days
    tau = np.arange(h, dtype=float)
    feed = (np.exp(-lf * tau) - np.exp(-lf * (tau + 1))) * (tau < d.feed_days)
    seg_cvr = np.zeros(len(table.segment_names))
    for s in range(len(seg_cvr)):
        mine = table.segment == s
        w = table.reads[mine] * table.ctr[mine]
        seg_cvr[s] = float((w * table.cvr[mine]).sum() / w.sum()) if w.sum() > 0 else 0.0
    judged = float(table.kernel[:scenario.ads.boost_after_days + 1].sum())
    with_own = np.unique(table.creator_index[table.own_share > 0])
    with_own = with_own[table.creator_capacity[with_own] > 0]  # in-market own followers to saturate
    own_creators = tuple(with_own[table.creator_segment[with_own] == s] for s in range(len(seg_cvr)))
    own_capacity = tuple(table.creator_capacity[k] for k in own_creators)
    return _Campaign(
        table=table, ops=ops, ads=scenario.ads, weights=weights,
        creator_notes=tuple(tuple(n) for n in notes), creator_names=tuple(names),
        outreach=outreach, start=min(0.0, float(outreach.min(initial=0.0))),
        delay_pmf=delay_pmf(ops.consideration_days, h) if ops.consideration_days > 0 else None, feed_kernel=feed / feed.sum(),
        segment_cvr=seg_cvr, judged_share=judged, boost_bar=_boost_bar(table, scenario.ads, judged),
        own_creators=own_creators, own_capacity=own_capacity)


def _boost_bar(table: PostTable, ads: Ads, s: float) -> float:
    """The bar for a feed boost, set before the campaign.

    A note is judged by its reads so far, R_j s with s = sum of kappa over
    the first ``boost_after_days`` + 1 days and R_j = D_j E_j L_j.  The bar b
    is the level that, in expectation, ``boost_notes`` of the planned notes
    that can be judged within the horizon reach (``s`` is given):

        sum_j P(delivered_j) P(E_j L_j s >= b) = boost_notes,

    with L_j lognormal of mean 1 (so P(E L s >= b) = 1 - Phi((ln(b / (E s)) +
    sigma^2 / 2) / sigma)).  It accounts for the viral factor, so a bar shared
    by many identical creators is not a tie that the first judged win.
    """
    ok = (table.day + ads.boost_after_days < table.horizon) & (table.reads > 0)
    if not ok.any() or s <= 0:
        return math.inf
    mean = table.reads[ok] * s
    sigma = table.sigma[ok]
    p = table.group_p[table.group[ok]]
    k = min(float(ads.boost_notes), float(p.sum()))

    def expected_above(log_b: float) -> float:
        with np.errstate(divide="ignore"):
            zed = np.where(sigma > 0, (log_b - np.log(mean) + sigma ** 2 / 2) / np.where(sigma > 0, sigma, 1),
                           np.where(np.log(mean) >= log_b, -np.inf, np.inf))
        return float((p * stats.norm.sf(zed)).sum())

    lo, hi = math.log(mean.min()) - 20.0, math.log(mean.max()) + 20.0  # above lo: ~all; above hi: ~none
    for _ in range(100):  # bisection on log b: expected_above falls as b rises
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if expected_above(mid) > k else (lo, mid)
    return math.exp(hi)


# --------------------------------------------------------------------------- #
# One replication
# --------------------------------------------------------------------------- #
class _Run:
    """The state of one replication: its clock, its draws and what happened."""

    def __init__(self, c: _Campaign, seed: np.random.SeedSequence, log: list | None, attribute: bool = False):
        t = c.table
        self.c = c
        self.log = log
        self.attribute = attribute
        streams = [np.random.default_rng(np.random.SeedSequence(
            seed.entropy, spawn_key=tuple(seed.spawn_key) + (k,))) for k in range(3)]
        model_rng, ops_rng, self.rng = streams
        delivered, reads = draw_notes(t, model_rng, 1)
        quality, conversion = draw_effects(t, model_rng, 1)
        self.delivered, self.note_reads = delivered[0], reads[0] * (1.0 if quality is None else quality[0])
        self.conversion = None if conversion is None else conversion[0]  # the shared effects on buying
        # operations' durations, drawn in bulk (gamma, shape 2; a zero mean is no delay)
        o = c.ops
        P, K = t.n_posts, len(c.creator_notes)
        # always drawn, whatever the means, so every duration keeps its place in the stream
        g = lambda mean, size: ops_rng.standard_gamma(2.0, size) * (mean / 2.0)
        self.contract = g(o.contract_days, K)
        self.draft = g(o.draft_days, P)
        self.review = g(o.review_days, (P, 2))
        self.second = ops_rng.random(P) < o.second_round_share
        self.revision = g(o.revision_days, P)

        self.env = simpy.Environment(initial_time=c.start)
        self.reviewers = simpy.Resource(self.env, capacity=o.reviewers) if o.enabled else None
        S, H = len(t.segment_names), t.horizon
        self.lam = np.zeros((7, S, H))
        self.pending = np.zeros((S, H + 1), np.int64)          # purchase decisions by day (H: later)
        self.pending_off = np.zeros((S, H + 1), np.int64)      # off-platform decisions by day
        self.pending_comm = np.zeros((S, H + 1))               # their expected commission weight
        self.steps = [BuyersStep(t, (), segment=s) for s in range(S)]
        if attribute or log is not None:  # the paired no-campaign run draws on common random numbers
            for step in self.steps:
                step.rest_log = []
        K_own = len(t.creator_people)                          # each creator's own followers:
        self.own_on = np.zeros((K_own, H))                     # expected on-RED decisions by day
        self.own_seen = np.zeros(K_own)                        # expected decisions so far
        self.own_reads = np.zeros(K_own)                       # expected reads within the horizon
        self.ad_reads = np.zeros(S)                            # reads of the brand's notes by search ads
        # for attribution: each note's expected intents by day (all, and on its creator's own
        # followers), its expected reads, feed boosts; each creator's counted share by day;
        # search ads' intents and the commission paid, by segment and day
        self.note_lam = np.zeros((P, H))
        self.note_own = np.zeros((P, H))
        self.note_seen = np.zeros(P)
        self.boost_spend = np.zeros(P)
        self.kept = np.ones((K_own, H))
        self.ad_intents = np.zeros((S, H))
        self.comm_day = np.zeros((S, H))
        self.stage = np.zeros(P, np.int8)
        self.day = np.full(P, -1, np.int64)                    # actual publication day
        self.paid = np.zeros(P)                                # RMB paid per note so far
        self.out = {k: np.zeros((S, H), np.int64) for k in (
            "reads", "clicks", "interactions", "likes", "collects", "comments", *STREAMS, "organic")}
        self.commission = 0.0
        self.feed_left, self.search_left = c.ads.feed_budget, c.ads.search_budget
        self.boosts = 0
        self.views_feed = self.clicks_search = 0
        self.spend_feed = self.spend_search = 0.0
        # reviewers: busy time, queue-length integral, waits
        self.busy = 0.0
        self.queue = 0
        self.queue_area = 0.0
        self.queue_max = 0
        self.queue_t = None
        self.review_span = [math.inf, -math.inf]
        self.waits: list[float] = []
        self.reviewing: dict[int, float] = {}                 # note -> start of its review now under way
        self.queued: dict[int, float] = {}                    # note -> when its draft joined the queue
        self.procs: list = []                                  # every note's process

    def note(self, when: float, event: str, j: int | None, value: float, creator: str | None = None) -> None:
        if self.log is not None:
            who = creator if j is None else self.c.table.creator[j]
            self.log.append((round(when, 6), event, who or "", -1 if j is None else j, float(value)))

    def queue_change(self, delta: int) -> None:
        """Drafts waiting change by ``delta``; a level counts once it is held for a positive time."""
        now = self.env.now
        if self.queue_t is not None and now > self.queue_t:
            self.queue_area += self.queue * (now - self.queue_t)
            self.queue_max = max(self.queue_max, self.queue)
        self.queue_t = now
        self.queue += delta

    def run(self) -> dict:
        env, c, t = self.env, self.c, self.table
        for k in range(len(c.creator_notes)):
            env.process(_deal(env, self, k))
        for s in range(len(t.segment_names)):
            env.process(_segment(env, self, s))
        env.run(until=t.horizon)
        for s in range(len(t.segment_names)):  # the last day ends at the horizon, where the clock stops
            _audience_day(self, s, t.horizon - 1)
        return self.totals()

    @property
    def table(self) -> PostTable:
        return self.c.table

    def totals(self) -> dict:
        t, c = self.table, self.c
        o = self.out
        published = self.stage == _PUBLISHED
        in_flight = self.stage < _PUBLISHED
        reads_s = o["reads"].sum(axis=1)
        conv = {f"conversions_{k}": int(o[k].sum()) for k in STREAMS}
        conversions = sum(conv.values())
        finished = [step.finish(self.rng) for step in self.steps]  # the horizon's repeat orders, buyers' notes' reads
        repeats = int(sum(f[0] for f in finished))
        spend = self.paid.sum() + self.commission + self.spend_feed + self.spend_search
        # the search ads' clicks are reads of the brand's notes, observed as they are: in the expected
        # reads too, so they do not inflate the creators' share of the drawn reads
        money = accounting(t, reads_s, conversions, spend, repeats, self.own_reads,
                           self.lam[_READS].sum(axis=1) + self.ad_reads, by_segment=True)
        delay = (self.day - t.day)[published]
        H = t.horizon
        if self.reviewing or self.queue:  # review work still under way: the period runs to the horizon
            self.review_span[1] = H
            self.busy += sum(H - start for start in self.reviewing.values())
        if self.queue_t is not None:
            self.queue_change(0)  # close the queue-length integral at the horizon
        span = self.review_span[1] - self.review_span[0]
        has_reviews = self.reviewers is not None and span > 0
        waits = self.waits + [H - asked for asked in self.queued.values()]
        totals = {
            "reads": int(reads_s.sum()),
            "unique_reach": float(money["unique_reach"]),
            "interactions": int(o["interactions"].sum()),
            **{k: int(o[k].sum()) for k in ("likes", "collects", "comments")},
            "clicks": int(o["clicks"].sum()),
            **conv,
            "conversions": conversions,
            "conversions_organic": int(o["organic"].sum()),
            "repeat_orders": repeats,
            "reads_ugc": int(sum(f[1] for f in finished)),
            "posts_delivered": int(published.sum()),
            "spend": float(spend),
            "revenue": float(money["revenue"]),
            "profit": float(money["profit"]),
            "posts_late": int((delay > 0).sum()),
            "publication_delay_days": float(delay.mean()) if delay.size else 0.0,
            # drafts still waiting at the horizon count with their wait so far
            "review_wait_days": float(np.mean(waits)) if waits else 0.0,
            "reviewer_utilisation": float(self.busy / (c.ops.reviewers * span)) if has_reviews else 0.0,
            "review_queue_mean": float(self.queue_area / span) if has_reviews else 0.0,
            "review_queue_max": int(self.queue_max),
            "notes_in_flight": int(in_flight.sum()),
            "decisions_in_flight": int(self.pending[:, H:].sum()),
            "spend_undelivered": float(self.paid[~published].sum()),
            "ad_views_feed": int(self.views_feed),
            "ad_spend_feed": float(self.spend_feed),
            "ad_clicks_search": int(self.clicks_search),
            "ad_spend_search": float(self.spend_search),
        }
        daily = {"reads": o["reads"].sum(axis=0), **{f"conversions_{k}": o[k].sum(axis=0) for k in STREAMS}}
        if self.log is not None:
            for j in np.flatnonzero(in_flight):
                self.note(H, "in_flight_" + STAGES[self.stage[j]], int(j), float(self.paid[j]))
            pend = int(self.pending[:, H:].sum())
            if pend:
                self.note(H, "decisions_in_flight", None, pend)
        out = {"totals": totals, "daily": daily, "day": self.day.copy(), "stage": self.stage.copy()}
        if self.attribute or self.log is not None:  # drawn last: the totals do not depend on it
            cr = self.attribution(money["unique_reach_by_segment"], repeats)
            if self.attribute:
                out["credit"] = cr
        return out

    def _rest_log(self):
        """The segments' logs of their organic-or-imitation draws as (n, p, drawn), each (H, 1, S)."""
        logs = [step.rest_log for step in self.steps]
        if not all(logs):
            return None
        return tuple(np.array([[[float(lg[d][k]) for lg in logs]] for d in range(len(logs[0]))])
                     for k in range(3))

    def attribution(self, reach: np.ndarray, repeats: int) -> dict:
        """This replication's credit per note (:mod:`kolsim.attribution`), from each note's
        expected decisions by day as they happened (its actual publication day, its boosts,
        the counted share of its own-follower decisions, the consideration delay), and the
        conversion events of the log, one per note and day, each naming the note."""
        t, c = self.table, self.c
        eff = self.note_lam - self.note_own * (1.0 - self.kept[t.creator_index]) if t.n_posts else self.note_lam
        dec = eff if c.delay_pmf is None else delayed(eff, c.delay_pmf)
        off = delayed(eff, t.offsite_pmf * t.offsite_ratio) if t.offsite_ratio > 0 else None
        ads = self.ad_intents if c.delay_pmf is None else delayed(self.ad_intents, c.delay_pmf)
        got = np.stack([self.out[k].T[:, None, :] for k in (*STREAMS, "organic")]).astype(float)
        events = {"campaign": "conversions", "offsite": "offsite_conversions", "ugc": "ugc_conversions",
                  "wom": "word_of_mouth"}

        def trace(day: int, notes: dict, rows: dict) -> None:
            for k, event in events.items():
                for j in np.flatnonzero(notes[k][0] > 1e-12):
                    self.note(day + 1, event, int(j), float(notes[k][0, j]))
                for r, vals in rows.items():
                    v = float(np.sum(vals[k]))
                    if v > 1e-12:
                        self.note(day + 1, event, None, v, creator=r)

        buyers = credit_buyers(
            t, got, lambda d: dec[:, d][None], None if off is None else (lambda d: off[:, d][None]),
            commission=self.comm_day.T[:, None, :], other=lambda d: ads[:, d][None],
            trace=trace if self.log is not None else None)
        drawn = {k: self.out[k].sum(axis=1)[None].astype(float)
                 for k in ("reads", "interactions", "likes", "collects", "comments", "clicks")}
        counts = credit_counts(t, self.note_seen[None], drawn, np.asarray(reach, float)[None],
                               untraced=self.ad_reads[None])
        cr = credit(t, counts, buyers, repeats=np.array([float(repeats)]),
                    note_spend=(self.paid + self.boost_spend)[None], other_spend=np.array([self.spend_search]),
                    baseline=no_campaign_buyers(t, self.rng, 1, self._rest_log()),
                    organic_by_segment=self.out["organic"].sum(axis=1)[None].astype(float))
        return {k: v[0] for k, v in cr.items()}


def _wait_until(env: simpy.Environment, when: float):
    return env.timeout(max(0.0, when - env.now))


def _deal(env: simpy.Environment, run: _Run, k: int):
    """A creator's deal: outreach, contract (fixed costs and upfront payments), then their notes."""
    c, t = run.c, run.table
    notes = c.creator_notes[k]
    yield _wait_until(env, c.outreach[k])
    for j in notes:
        run.stage[j] = _CONTRACT
    if run.contract[k] > 0:
        yield env.timeout(run.contract[k])
    run.note(env.now, "contract_signed", None, len(notes), creator=c.creator_names[k])
    fixed = float(t.fixed_share[list(notes)].sum())
    if fixed > 0:  # gift, retainer or hiring fee, on signing
        run.note(env.now, "payment_fixed", None, fixed, creator=c.creator_names[k])
    for j in notes:
        run.stage[j] = _SIGNED
        run.paid[j] += t.fixed_share[j]
        upfront = t.cost[j] * t.upfront[j]
        if upfront > 0:
            run.paid[j] += upfront
            run.note(env.now, "payment_upfront", j, upfront)
        run.procs.append(env.process(_note(env, run, j)))


def _note(env: simpy.Environment, run: _Run, j: int):
    """One note: brief, draft, review rounds, publication (or a no-show)."""
    c, t, o = run.c, run.table, run.c.ops
    planned = int(t.day[j])
    if not run.delivered[j]:  # the model's delivery draw: this creator never posts it
        yield _wait_until(env, planned)
        run.stage[j] = _NO_SHOW
        run.note(env.now, "no_show", j, planned)
        return
    yield _wait_until(env, planned - o.brief_days)
    run.stage[j] = _DRAFT
    run.note(env.now, "brief_sent", j, planned)
    if run.draft[j] > 0:
        yield env.timeout(run.draft[j])
    if run.reviewers is not None:
        for r in range(2 if run.second[j] else 1):
            if r:
                run.stage[j] = _REVISE
                if run.revision[j] > 0:
                    yield env.timeout(run.revision[j])
            run.stage[j] = _QUEUED
            run.note(env.now, "draft_submitted", j, r + 1)
            asked = env.now
            run.review_span[0] = min(run.review_span[0], asked)
            with run.reviewers.request() as req:
                waiting = not req.triggered  # no reviewer free: the draft joins the queue
                if waiting:
                    run.queue_change(+1)
                    run.queued[j] = asked
                yield req
                if waiting:
                    run.queue_change(-1)
                    del run.queued[j]
                run.waits.append(env.now - asked)
                run.stage[j] = _REVIEW
                run.reviewing[j] = env.now
                yield env.timeout(run.review[j, r])
                del run.reviewing[j]
                run.busy += run.review[j, r]
            run.review_span[1] = max(run.review_span[1], env.now)
            run.note(env.now, "review_done", j, r + 1)
    run.stage[j] = _APPROVED
    day = max(planned, math.ceil(env.now - 1e-9))
    yield _wait_until(env, day)
    if day >= t.horizon:  # approved too late to publish within the horizon: in flight
        return
    run.stage[j] = _PUBLISHED
    run.day[j] = day
    run.note(env.now, "published", j, day - planned)
    rest = t.cost[j] * (1 - t.upfront[j])
    if rest > 0:
        run.paid[j] += rest
        run.note(env.now, "payment_delivery", j, rest)
    env.process(_reads(env, run, j, day))
    if c.ads.feed_budget > 0:
        env.process(_boost(env, run, j, day))


def _add(run: _Run, j: int, lo: int, per_day: np.ndarray, own: bool = True) -> None:
    """Add a note's expected reads on days lo, lo+1, … (and what they bring) to its segment, and
    their share on its creator's own followers to theirs (``own=False``: ad views, all in the feed)."""
    hi = lo + per_day.size
    w = run.c.weights[:, j]
    if run.conversion is not None:  # intents and commission carry the replication's effects
        w = w.copy()
        w[[1, 4]] *= run.conversion[j]
    t = run.table
    run.lam[:, t.segment[j], lo:hi] += w[:, None] * per_day
    run.note_lam[j, lo:hi] += w[_INTENTS] * per_day
    run.note_seen[j] += per_day.sum()
    s_own = t.own_share[j]
    if own and s_own > 0:
        k = t.creator_index[j]
        run.own_on[k, lo:hi] += (s_own * w[_INTENTS]) * per_day
        run.note_own[j, lo:hi] += (s_own * w[_INTENTS]) * per_day
        run.own_reads[k] += s_own * per_day.sum()


def _reads(env: simpy.Environment, run: _Run, j: int, day: int):
    """A published note's reads, delivered in batches of days."""
    H = run.table.horizon
    R = run.note_reads[j]
    kernel = run.table.kernel
    for a, b in zip(BATCH_STARTS, BATCH_STARTS[1:]):
        if day + a >= H:
            return
        if env.now < day + a:
            yield _wait_until(env, day + a)
        hi = min(day + b, H)
        per_day = R * kernel[a:a + hi - day - a]
        _add(run, j, day + a, per_day)
        run.note(env.now, "reads", j, per_day.sum())


def _boost(env: simpy.Environment, run: _Run, j: int, day: int):
    """Feed ads: judge a note by its reads so far; boost it if it beats the bar and a boost is left."""
    c, t = run.c, run.table
    ads = c.ads
    judge = day + ads.boost_after_days
    if judge >= t.horizon:
        return
    yield _wait_until(env, judge)
    so_far = run.note_reads[j] * c.judged_share
    per_boost = ads.feed_budget / ads.boost_notes
    if run.boosts >= ads.boost_notes or so_far < c.boost_bar or so_far <= 0 or run.feed_left < 1e-9:
        return
    spend = min(per_boost, run.feed_left)
    run.feed_left -= spend
    run.boosts += 1
    views = spend / ads.feed_cpm * 1000.0
    run.spend_feed += spend
    run.boost_spend[j] += spend
    run.views_feed += views
    _add(run, j, judge, views * c.feed_kernel[:t.horizon - judge], own=False)
    run.note(env.now, "feed_boost", j, spend)


def _segment(env: simpy.Environment, run: _Run, s: int):
    """An audience segment: at the end of each day, that day's draws."""
    for day in range(run.table.horizon - 1):
        yield _wait_until(env, day + 1)
        _audience_day(run, s, day)


def _audience_day(run: _Run, s: int, day: int) -> None:
    """Reads, clicks and intents of one day in segment s; purchase decisions; word of mouth."""
    c, rng = run.c, run.rng
    t = run.table
    lam = run.lam[:, s, day].tolist()
    comm = lam[_COMMISSION] / lam[_INTENTS] if lam[_INTENTS] > 0 else 0.0
    ks = c.own_creators[s]
    own_on, counted = 0.0, None
    if ks.size:  # decisions among creators' own followers count once per follower (model.follower_losses)
        o = run.own_on[ks, day]
        f = np.zeros(ks.size)
        if t.offsite_ratio > 0:
            pmf = t.offsite_pmf[:day + 1] * t.offsite_ratio
            f = run.own_on[ks, day + 1 - pmf.size:day + 1] @ pmf[::-1]
        lam_k = o + f
        m = c.own_capacity[s]
        seen = run.own_seen[ks]
        new_k = first_reaches(seen, lam_k, m)
        counted = np.where(lam_k > 0, new_k / np.maximum(lam_k, 1e-300), 1.0)
        run.kept[ks, day] = counted
        run.own_seen[ks] = seen + lam_k
        own_on = float(o.sum())
        lam[_INTENTS] = max(lam[_INTENTS] - own_on + float(o @ counted), 0.0)
    intents = int(rng.poisson(lam[_INTENTS]))
    reads, clicks, inter = thin_reads(intents, dict(zip(_LAM_KEYS, lam[:4])), rng)
    likes, collects, comments = split_interactions(
        inter, {"interactions": lam[_INTERACTIONS], "likes": lam[_LIKES], "collects": lam[_COLLECTS]}, rng)
    if t.offsite_ratio > 0:  # off-platform intents, each after its own delay
        rest = run.lam[_INTENTS, s, day] - own_on  # those of the feed and the shared followers
        n_off = int(rng.poisson(rest * t.offsite_ratio)) if rest > 0 else 0
        if n_off:
            split = rng.multinomial(n_off, _delay_probs(t.offsite_pmf, t.horizon - day))
            run.pending_off[s, day:day + split.size] += split
        if counted is not None:  # own followers' decisions of the day, thinned: a Poisson stream
            # displaced by independent delays is Poisson, with the delayed mean f
            off_own = float(f @ counted)
            if off_own > 0:
                run.pending_off[s, day] += int(rng.poisson(off_own))
    if run.search_left >= c.ads.search_cpc and reads > 0:  # search ads capture searchers
        ads = c.ads
        searches = rng.poisson(ads.searches_per_read * reads)
        ad_clicks = min(int(rng.binomial(searches, ads.search_ctr)), int(run.search_left // ads.search_cpc))
        if ad_clicks:
            cost = ad_clicks * ads.search_cpc
            run.search_left -= cost
            run.spend_search += cost
            run.clicks_search += ad_clicks
            clicks += ad_clicks
            reads += ad_clicks  # the click opens the brand's note: a read
            run.ad_reads[s] += ad_clicks
            ad_intents = int(rng.binomial(ad_clicks, c.segment_cvr[s]))
            run.ad_intents[s, day] = ad_intents
            if intents + ad_intents > 0:
                comm = comm * intents / (intents + ad_intents)  # search ads pay no commission
            intents += ad_intents
            run.note(day + 1, "search_ad_clicks", None, ad_clicks, creator=run.table.segment_names[s])
    run.out["reads"][s, day] = reads
    run.out["clicks"][s, day] = clicks
    run.out["interactions"][s, day] = inter
    run.out["likes"][s, day], run.out["collects"][s, day], run.out["comments"][s, day] = likes, collects, comments
    # each intent decides after a consideration delay
    if c.delay_pmf is None:
        run.pending[s, day] += intents
        run.pending_comm[s, day] += comm * intents
    elif intents:
        # delays that end within the horizon, and one bin (at the horizon) for the rest
        split = rng.multinomial(intents, _delay_probs(c.delay_pmf, run.table.horizon - day))
        run.pending[s, day:day + split.size] += split
        run.pending_comm[s, day:day + split.size] += comm * split
    decide = run.pending[s, day]
    new_c, new_o, new_g, new_w, organic = run.steps[s](int(decide), int(run.pending_off[s, day]), rng)
    if decide:
        paid = (c.table.price or 0.0) * new_c * (run.pending_comm[s, day] / decide)
        run.commission += paid
        run.comm_day[s, day] = paid
    for k, v in zip((*STREAMS, "organic"), (new_c, new_o, new_g, new_w, organic)):
        run.out[k][s, day] = v


def _delay_probs(pmf: np.ndarray, days_left: int) -> np.ndarray:
    """Delays 0 .. days_left - 1 within the horizon, and one bin for everything later."""
    inside = np.zeros(days_left)
    n = min(days_left, pmf.size)
    inside[:n] = pmf[:n]
    return np.append(inside, max(0.0, 1.0 - inside.sum()))


# --------------------------------------------------------------------------- #
# Many replications
# --------------------------------------------------------------------------- #
def _run_chunk(c: _Campaign, seeds: list, log_first: bool, attribute: bool = False) -> list[dict]:
    out = []
    for i, seed in enumerate(seeds):
        log = [] if (log_first and i == 0) else None
        res = _Run(c, seed, log, attribute).run()
        res["events"] = log
        out.append(res)
    return out


def simulate_des(scenario: Scenario, *, runs: int | None = None, rng=None, workers: int = 1,
                 target_half_width: float | None = None,
                 progress: Callable[[int, int], None] | None = None, scheduler=None,
                 attribute: bool = False) -> SimulationResult:
    """Simulate a scenario with the discrete-event engine.

    Parameters are those of :func:`kolsim.simulate`.  With a stopping rule
    (``target_half_width``), the run stops at the first multiple of
    :data:`CHUNK` replications after which the rule holds.

    Returns
    -------
    SimulationResult
        With the model's totals and daily series, the operational totals of
        :data:`DES_METRICS`, each note's publication day per replication
        (``note_days``, -1 when unpublished), its stage at the horizon
        (``note_stages``, indices into :data:`STAGES`) and the event log of
        the first replication (``events``).

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/micro_seeding.toml")
    >>> r = kolsim.simulate(s, runs=20, rng=3, engine="des")
    >>> r.engine, r.runs, sorted(set(r.events["event"]))[:3]
    ('des', 20, ['brief_sent', 'contract_signed', 'conversions'])
    """
    runs, target, ss = run_settings(scenario, runs, rng, target_half_width)
    if workers < 1:
        raise InputError("must be at least 1", where="workers")
    c = compile_campaign(scenario)
    require_posts(c.table, scenario)
    t = c.table
    S, H = len(t.segment_names), t.horizon
    check_memory(t, runs, workers, per_process=8.0 * (CHUNK * (15 * S * H + 6 * t.n_posts) + 10 * S * H),
                 per_run=result_bytes_per_run(t, extra_totals=len(DES_METRICS),
                                              per_note=9.0 + (8.0 * len(CREDIT_METRICS) if attribute else 0.0)),
                 what=f"chunks of {CHUNK} replications of {t.n_posts:,} notes")
    seeds = spawn(ss, runs)
    chunks = [list(range(i, min(i + CHUNK, runs))) for i in range(0, runs, CHUNK)]
    tasks = [(c, [seeds[i] for i in ch], ch[0] == 0, attribute) for ch in chunks]
    results: list[dict] = []
    stop = len(chunks)

    def consume(k: int, res: list[dict]) -> bool:
        nonlocal stop
        results.extend(res)
        if target and rel_half_width(np.array([r["totals"]["conversions"] for r in results], float)) <= target:
            stop = k + 1
            return True
        return False

    run_in_rounds(_run_chunk, tasks, workers=workers, per_round=workers if target else len(chunks),
                  consume=consume, scheduler=scheduler, progress=None if progress is None else lambda done: progress(len(results), runs))
    results = results[:stop * CHUNK]
    n = len(results)
    totals = {k: np.array([r["totals"][k] for r in results]) for k in results[0]["totals"]}
    daily = {k: np.stack([r["daily"][k] for r in results]) for k in results[0]["daily"]}
    prov = provenance(scenario, ss, runs=n, requested=runs, target=target, engine="des",
                      settings={"operations": "on" if c.ops.enabled else "off (idealised)",
                                "chunk_size": CHUNK},
                      versions={"simpy_version": getattr(simpy, "__version__", "")})
    events = pd.DataFrame(results[0]["events"], columns=["time", "event", "creator", "note", "value"])
    events = events.sort_values("time", kind="stable", ignore_index=True)  # conversions are logged last
    credit_arrays = None
    if attribute:
        credit_arrays = {k: np.stack([r["credit"][k] for r in results]) for k in results[0]["credit"]}
    return SimulationResult(scenario=scenario, table=c.table, totals=totals, daily=daily, engine="des",
                            provenance=prov, note_days=np.stack([r["day"] for r in results]),
                            note_stages=np.stack([r["stage"] for r in results]), events=events,
                            credit=credit_arrays)

