"""The scenario's value objects: one frozen dataclass per concept, each checking itself.

Every field's allowed values are declared beside it (:mod:`.checks`), and
``__post_init__`` applies them, so ``Campaign(budget=-5)``, a TOML file with
``budget = -5`` and ``dataclasses.replace(campaign, budget=-5)`` all raise the
same :class:`~kolsim.errors.ScenarioError`.  Rules that tie several values
together live with the object that holds them all: a wave's end after its
start in :class:`Wave`, a wave within the campaign's horizon in
:class:`Scenario`.  Nothing here touches files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from ..defaults import (CONVERSION_ELASTICITY, FOLLOWER_OVERLAP, IN_MARKET_SHARE, OFFSITE_DELAY_DAYS, OFFSITE_PER_ONSITE,
                        ORGANIC_P_PER_YEAR, REACH_ELASTICITY, REPEAT_PER_MONTH, SPONSORED_SHARE, TIER_DEFAULTS,
                        TIERS, UGC_INTENT_RATE, UGC_READS, UGC_SHARE)
from ..errors import ScenarioError
from ..rules import BANNED_CATEGORIES, DEAL_TYPES
from ..text import has_control, name_key, show
from .checks import Flag, Names, Number, Text, Weeks, did_you_mean, label, rule, validate

__all__ = ["SCHEMA_VERSION", "Response", "Uncertainty", "Funnel", "MAX_MONEY", "MAX_PEOPLE", "MAX_DAYS", "MAX_RUNS", "MAX_NOTES", "OBJECTIVES",
           "Campaign", "Tier", "Decay", "WordOfMouth", "Wave", "PlanItem", "Plan", "Simulation",
           "Operations", "Ads", "Vetting", "TierRule", "ShareBounds", "WeekBudget", "Optimize", "Scenario"]

#: The newest scenario schema this kolsim reads.
SCHEMA_VERSION = 1

#: Largest values accepted anywhere, to keep arithmetic exact and meaningful.
MAX_MONEY = 1e11  # RMB
MAX_PEOPLE = 2e9  # audience members, followers
MAX_DAYS = 3650
MAX_RUNS = 1_000_000  # replications; a run's memory is estimated before it starts (kolsim.model)
#: Most planned notes in one scenario (waves' creators x notes each, plus a plan's notes).
MAX_NOTES = 1_000_000

OBJECTIVES: tuple[str, ...] = ("conversions", "reach", "interactions", "profit")


def _relabel(error: ScenarioError, old: str, new: str) -> ScenarioError:
    """The same error with its place's table ``[old…`` read as ``[new…``."""
    where = error.where or ""
    if where.startswith(f"[{old}]") or where.startswith(f"[{old} "):
        where = f"[{new}" + where[len(old) + 1:]
    return ScenarioError(error.message, file=error.file, where=where)


def _check(obj: Any) -> None:
    validate(obj, obj.TABLE)


class _Checked:
    """A value object whose fields are checked, as their rules say, when it is made."""

    __slots__ = ()

    def __post_init__(self):
        _check(self)


def _banned_message(category: str) -> str:
    return (f"category {show(category)} may not be promoted by creators on RED (law, [S3]); "
            f"banned: {', '.join(sorted(BANNED_CATEGORIES))}")


# --------------------------------------------------------------------------- #
# The campaign and the model's parameters
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class Campaign:
    """What is promoted, for how much, for how long.

    ``budget`` is the RMB the brand means to spend (reported against spend);
    ``price`` (RMB per unit) and ``margin`` (share of price) turn conversions
    into revenue and profit when given.

    Examples
    --------
    >>> Campaign(name="launch", category=" Skincare", budget=50_000, horizon_days=60).category
    'skincare'
    >>> Campaign(name="launch", category="beauty", budget=-5, horizon_days=60)
    Traceback (most recent call last):
    ...
    kolsim.errors.ScenarioError: [campaign] budget: must be a number > 0 and <= 1e+11 (got -5)
    """

    TABLE: ClassVar[str] = "campaign"
    name: str = field(metadata=rule(Text()))
    category: str = field(metadata=rule(Text(name=True)))
    budget: float = field(metadata=rule(Number(lo=0, lo_open=True, hi=MAX_MONEY)))
    horizon_days: int = field(metadata=rule(Number(lo=1, hi=MAX_DAYS, integer=True)))
    price: float | None = field(default=None, metadata=rule(Number(lo=0, lo_open=True, hi=MAX_MONEY,
                                                                   optional=True)))
    margin: float | None = field(default=None, metadata=rule(Number(lo=0, hi=1, optional=True)))

    def __post_init__(self):
        _check(self)
        if self.category in BANNED_CATEGORIES:
            raise ScenarioError(_banned_message(self.category), where="[campaign] category")
        if self.margin is not None and self.price is None:
            raise ScenarioError("is given without [campaign] price; give both or neither",
                                where="[campaign] margin")


_RATE = rule(Number(lo=0, hi=1))


@dataclass(frozen=True, slots=True)
class Tier:
    """The calibrated parameters of one creator tier (see ``defaults.py``)."""

    TABLE: ClassVar[str] = "tiers"
    code: str = field(metadata=rule(Text(choices=TIERS, name=True)))
    follower_share: float = field(metadata=_RATE)
    followers: float = field(metadata=rule(Number(lo=1, hi=MAX_PEOPLE)))
    cost_per_post: float = field(metadata=rule(Number(lo=0, hi=MAX_MONEY)))
    reach: float = field(metadata=rule(Number(lo=0, hi=100)))
    reach_sigma: float = field(metadata=rule(Number(lo=0, hi=4)))
    interaction_rate: float = field(metadata=_RATE)
    like_share: float = field(metadata=_RATE)
    collect_share: float = field(metadata=_RATE)
    ctr: float = field(metadata=_RATE)
    cvr: float = field(metadata=_RATE)
    p_post_paid: float = field(metadata=_RATE)
    p_post_gifted: float = field(metadata=_RATE)
    # fake followers never read: a share of 1 would leave none
    fake_share: float = field(metadata=rule(Number(lo=0, hi=1, hi_open=True)))
    monthly_posts: float = field(metadata=rule(Number(lo=0, hi=1000)))
    engagement_sd: float = field(metadata=_RATE)

    def __post_init__(self):
        if isinstance(self.code, str) and name_key(self.code) not in TIERS:
            raise ScenarioError(f"unknown tier {show(self.code)}; allowed: {', '.join(TIERS)}."
                                f"{did_you_mean(self.code, TIERS)}", where=f"[tiers.{label(self.code)}]")
        at = f"tiers.{name_key(self.code)}" if isinstance(self.code, str) else "tiers"
        validate(self, at)
        Number(lo=0, hi=1 - self.like_share, note="likes and collects are shares of the interactions; "
               "comments are the rest").check(self.collect_share, f"[{at}] collect_share")

    @classmethod
    def default(cls, code: str) -> "Tier":
        """The tier with its calibrated defaults."""
        return cls(code=code, **TIER_DEFAULTS[code])

    @property
    def engagement_rate(self) -> float:
        """Typical interactions per follower per note: reach x i/r (calibration's ER)."""
        return self.reach * self.interaction_rate

    def expected_reads(self, followers, fake_share=None):
        """Expected reads of a note, before the viral factor.

        ``reach`` is reads per follower for a creator with the tier's typical
        fake share (as calibrated); a creator with fake share phi gets
        ``followers * (1 - phi) * reach / (1 - phi_tier)``, since fake
        followers never read.
        """
        phi = self.fake_share if fake_share is None else fake_share
        return followers * (1 - phi) * self.reach / (1 - self.fake_share)


@dataclass(frozen=True, slots=True)
class Decay(_Checked):
    """How a note's reads spread over the days after publication [A]."""

    TABLE: ClassVar[str] = "decay"
    feed_share: float = field(default=0.70, metadata=_RATE)
    feed_half_life_days: float = field(default=1.5, metadata=rule(Number(lo=0, lo_open=True, hi=MAX_DAYS)))
    feed_days: int = field(default=30, metadata=rule(Number(lo=1, hi=MAX_DAYS, integer=True)))
    search_half_life_days: float = field(default=30.0, metadata=rule(Number(lo=0, lo_open=True, hi=MAX_DAYS)))


@dataclass(frozen=True, slots=True)
class Response(_Checked):
    """How readers respond: the in-market ceiling, category fit and engagement (``docs/model.md`` §4).

    ``relevance`` maps an audience's category (a creator's category, or a
    segment's name) to its relevance to the product, overriding the default
    matrix (``kolsim.defaults.RELEVANCE``).
    """

    TABLE: ClassVar[str] = "response"
    in_market_share: float = field(default=IN_MARKET_SHARE, metadata=rule(Number(lo=0, lo_open=True, hi=1)))
    follower_overlap: float = field(default=FOLLOWER_OVERLAP, metadata=_RATE)
    reach_elasticity: float = field(default=REACH_ELASTICITY, metadata=rule(Number(lo=0, hi=3)))
    conversion_elasticity: float = field(default=CONVERSION_ELASTICITY, metadata=rule(Number(lo=0, hi=3)))
    relevance: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        _check(self)
        if not isinstance(self.relevance, Mapping):
            raise ScenarioError(f"must be a table of category = relevance, e.g. beauty = 0.8 "
                                f"(got {show(self.relevance)})", where="[response.relevance]")
        out: dict[str, float] = {}
        for cat, value in self.relevance.items():
            if not isinstance(cat, str):
                raise ScenarioError(f"needs category names as keys (got {show(cat)})", where="[response.relevance]")
            key = name_key(cat)
            where = f"[response.relevance] {label(str(cat))}"
            if key in out:
                raise ScenarioError(f"names category {key!r} twice", where=where)
            out[key] = Number(lo=0, lo_open=True, hi=1, note="the share of the audience in the product's market, "
                              "relative to the product's own category").check(value, where)
        object.__setattr__(self, "relevance", out)


_SPREAD = rule(Number(lo=0, hi=3, note="sigma of a lognormal effect of mean 1"))


@dataclass(frozen=True, slots=True)
class Uncertainty(_Checked):
    """Random effects shared by notes, drawn per replication (``docs/model.md`` §5); 0 turns one off."""

    TABLE: ClassVar[str] = "uncertainty"
    creator_sigma: float = field(default=0.4, metadata=_SPREAD)
    campaign_sigma: float = field(default=0.25, metadata=_SPREAD)
    tier_sigma: float = field(default=0.3, metadata=_SPREAD)


@dataclass(frozen=True, slots=True)
class WordOfMouth(_Checked):
    """Imitation among readers: Bass q per year (per day is q / 365) [E30]."""

    TABLE: ClassVar[str] = "word_of_mouth"
    enabled: bool = field(default=True, metadata=rule(Flag()))
    q_per_year: float = field(default=0.38, metadata=rule(Number(lo=0, hi=365)))

    @property
    def q_per_day(self) -> float:
        return self.q_per_year / 365.0 if self.enabled else 0.0


@dataclass(frozen=True, slots=True)
class Funnel(_Checked):
    """Purchases beyond the click: organic adoption, off-platform buyers, repeat orders and
    buyers' own notes (``docs/model.md`` §7, "Beyond the click").

    ``repeat_per_month`` of None takes the product category's default
    (:data:`kolsim.defaults.REPEAT_PER_MONTH`, 0 for a category not listed).
    """

    TABLE: ClassVar[str] = "funnel"
    organic_p_per_year: float = field(default=ORGANIC_P_PER_YEAR, metadata=rule(Number(
        lo=0, hi=365, note="Bass innovation p per year; per day it is p / 365")))
    offsite_per_onsite: float = field(default=OFFSITE_PER_ONSITE, metadata=rule(Number(
        lo=0, hi=100, note="off-platform purchase intents per purchase intent on RED")))
    offsite_delay_days: float = field(default=OFFSITE_DELAY_DAYS, metadata=rule(Number(
        lo=0, hi=MAX_DAYS, note="mean days from the read to the purchase elsewhere")))
    repeat_per_month: float | None = field(default=None, metadata=rule(Number(
        lo=0, hi=30, optional=True, note="repeat orders per buyer per 30 days")))
    ugc_share: float = field(default=UGC_SHARE, metadata=rule(Number(
        lo=0, hi=1, note="the share of new buyers who publish a note of their own")))
    ugc_reads: float = field(default=UGC_READS, metadata=rule(Number(
        lo=0, hi=1e9, note="expected lifetime reads of a buyer's note")))
    ugc_intent_rate: float = field(default=UGC_INTENT_RATE, metadata=rule(Number(
        lo=0, hi=1, note="P(a read of a buyer's note persuades an in-market reader)")))

    def repeat_rate(self, category: str) -> float:
        """Repeat orders per buyer per month for a product of ``category``."""
        if self.repeat_per_month is not None:
            return self.repeat_per_month
        return REPEAT_PER_MONTH.get(category, 0.0)


# --------------------------------------------------------------------------- #
# What is planned: waves of typical creators, or a plan over a pool
# --------------------------------------------------------------------------- #
def _tier_counts(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"must be a table of creators per tier, e.g. tiers = {{ mid = 12 }} "
                            f"(got {show(value)})", where=where)
    counts: dict[str, int] = {}
    for code, n in value.items():
        key = name_key(code) if isinstance(code, str) else code
        if key not in TIERS:
            raise ScenarioError(f"unknown tier {show(code)}; allowed: {', '.join(TIERS)}."
                                f"{did_you_mean(code, TIERS)}", where=where)
        n = Number(lo=0, hi=100_000, integer=True).check(n, where=f"{where}.{key}")
        if n:
            counts[key] = counts.get(key, 0) + n
    if not counts:
        raise ScenarioError("has no creators: give at least one tier a count > 0", where=where)
    return counts


@dataclass(frozen=True, slots=True)
class Wave:
    """A seeding wave in the strategist's view: counts of creators per tier.

    Creators of a wave publish evenly spread over days ``start_day`` ..
    ``end_day`` (inclusive, day 0 is launch); each publishes
    ``posts_per_creator`` notes spread evenly over the same window.
    """

    TABLE: ClassVar[str] = "waves"
    name: str = field(metadata=rule(Text()))
    start_day: int = field(metadata=rule(Number(lo=0, hi=MAX_DAYS - 1, integer=True)))
    end_day: int = field(metadata=rule(Number(lo=0, hi=MAX_DAYS - 1, integer=True)))
    deal: str = field(default="paid", metadata=rule(Text(choices=DEAL_TYPES, name=True)))
    tiers: Mapping[str, int] = field(default_factory=dict)
    posts_per_creator: int = field(default=1, metadata=rule(Number(lo=1, hi=1000, integer=True)))
    segment: str | None = field(default=None, metadata=rule(Text(name=True, optional=True)))
    category: str | None = field(default=None, metadata=rule(Text(name=True, optional=True)))
    cost_per_post: float | None = field(default=None, metadata=rule(Number(lo=0, hi=MAX_MONEY, optional=True)))
    gift_value: float = field(default=0.0, metadata=rule(Number(lo=0, hi=MAX_MONEY)))
    retainer_per_month: float = field(default=0.0, metadata=rule(Number(lo=0, hi=MAX_MONEY)))
    commission: float = field(default=0.0, metadata=_RATE)
    post_probability: float | None = field(default=None, metadata=rule(Number(lo=0, hi=1, optional=True)))

    def __post_init__(self):
        _check(self)
        object.__setattr__(self, "tiers", _tier_counts(self.tiers, "[waves] tiers"))
        if self.end_day < self.start_day:
            Number(lo=self.start_day, integer=True,
                   note=f"from start_day = {self.start_day}").check(self.end_day, "[waves] end_day")
        if self.category is not None and self.category in BANNED_CATEGORIES:
            raise ScenarioError(_banned_message(self.category), where="[waves] category")

    @property
    def creators(self) -> int:
        return sum(self.tiers.values())

    @property
    def notes(self) -> int:
        return self.creators * self.posts_per_creator


@dataclass(frozen=True, slots=True)
class PlanItem:
    """In the planner's view: ``posts`` notes by creator ``kol_id`` in ``week`` (1-based)."""

    TABLE: ClassVar[str] = "plan"
    kol_id: str
    week: int = field(metadata=rule(Number(lo=1, hi=MAX_DAYS // 7 + 1, integer=True)))
    posts: int = field(default=1, metadata=rule(Number(lo=1, hi=100, integer=True)))

    def __post_init__(self):
        kol = self.kol_id
        if (isinstance(kol, bool) or not isinstance(kol, (str, int))
                or (isinstance(kol, int) and abs(kol) >= 10**100) or not str(kol).strip()
                or has_control(str(kol))):
            raise ScenarioError(f"must be a creator id from the pool (got {show(kol)})", where="[plan] kol_id")
        object.__setattr__(self, "kol_id", str(kol).strip())
        _check(self)


@dataclass(frozen=True, slots=True)
class Plan:
    """An explicit plan over a candidate pool: which creators post how many notes in which week."""

    TABLE: ClassVar[str] = "plan"
    pool: Any  # kolsim.pool.Pool (untyped here: the pool module builds on this one)
    items: tuple[PlanItem, ...]

    def __post_init__(self):
        items = tuple(self.items)
        object.__setattr__(self, "items", items)
        if not items:
            raise ScenarioError("has no posts: add [[plan.posts]] entries or a schedule file", where="[plan]")
        pool = self.pool
        known = set(pool.ids)
        missing = sorted({it.kol_id for it in items} - known)
        if missing:
            import difflib

            shown = ", ".join(show(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
            close = (difflib.get_close_matches(missing[0], list(known), n=1, cutoff=0.8)
                     if len(known) <= 100_000 else [])
            hint = f" Did you mean {show(close[0])}?" if close else ""
            named = f" {pool.source}" if getattr(pool, "source", None) else ""
            raise ScenarioError(f"names creators that are not in the pool{named}: {shown}.{hint}",
                                where="[plan] kol_id")
        seen: set[tuple[str, int]] = set()
        for it in items:
            if (it.kol_id, it.week) in seen:
                raise ScenarioError(f"lists creator {show(it.kol_id)} in week {it.week} twice; "
                                    "give one entry with the total posts", where="[plan]")
            seen.add((it.kol_id, it.week))
        banned = sorted({pool.category_of(it.kol_id) for it in items} & BANNED_CATEGORIES)
        if banned:
            raise ScenarioError(f"includes creators in banned categories {banned} (law, [S3])", where="[plan]")

    @property
    def notes(self) -> int:
        return sum(it.posts for it in self.items)


# --------------------------------------------------------------------------- #
# How to run it
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class Simulation(_Checked):
    """Monte Carlo settings.

    ``runs`` replications (the most, when ``target_half_width`` is set: then
    the run stops at the first block of 1024 replications after which the 95 %
    interval of mean conversions is narrower than ``target_half_width`` times
    the mean).
    """

    TABLE: ClassVar[str] = "simulation"
    # a standard error needs two replications
    runs: int = field(default=2000, metadata=rule(Number(lo=2, hi=MAX_RUNS, integer=True)))
    seed: int = field(default=0, metadata=rule(Number(lo=0, hi=2**63 - 1, integer=True)))
    target_half_width: float | None = field(default=None, metadata=rule(
        Number(lo=0, hi=1, lo_open=True, hi_open=True, optional=True)))


_DAYS = rule(Number(lo=0, hi=MAX_DAYS))


@dataclass(frozen=True, slots=True)
class Operations(_Checked):
    """The campaign's operations, for the discrete-event engine (``docs/scenarios.md``).

    Durations are in days; each is drawn from a gamma distribution with shape
    2 and the given mean (a 0 mean is no delay).  Every default is an
    assumption [A]; ``enabled = false`` gives the idealised run (every note
    published on its planned day, purchases on the day of the click), which
    is the Monte Carlo engine's model.
    """

    TABLE: ClassVar[str] = "operations"
    enabled: bool = field(default=True, metadata=rule(Flag()))
    outreach_days: float = field(default=21.0, metadata=_DAYS)
    contract_days: float = field(default=5.0, metadata=_DAYS)
    brief_days: float = field(default=10.0, metadata=_DAYS)
    draft_days: float = field(default=4.0, metadata=_DAYS)
    reviewers: int = field(default=2, metadata=rule(Number(lo=1, hi=10_000, integer=True)))
    review_days: float = field(default=0.5, metadata=_DAYS)
    second_round_share: float = field(default=0.3, metadata=_RATE)
    revision_days: float = field(default=2.0, metadata=_DAYS)
    consideration_days: float = field(default=2.0, metadata=_DAYS)


_MONEY = rule(Number(lo=0, hi=MAX_MONEY))


@dataclass(frozen=True, slots=True)
class Ads(_Checked):
    """Paid amplification (the KOL + feed + search model [S4 #28]), discrete-event engine only.

    Feed ads boost the best notes: ``feed_budget`` is split into
    ``boost_notes`` equal boosts, bought at ``feed_cpm`` RMB per 1,000 ad
    views [E18].  Search ads capture readers who then search: each read
    leads to ``searches_per_read`` searches [A], an ad is clicked with
    probability ``search_ctr`` [E18, E19] at ``search_cpc`` RMB a click
    [E18], until ``search_budget`` is spent.
    """

    TABLE: ClassVar[str] = "ads"
    feed_budget: float = field(default=0.0, metadata=_MONEY)
    feed_cpm: float = field(default=30.0, metadata=rule(Number(lo=0.01, hi=MAX_MONEY, note="RMB per 1,000 ad views")))
    boost_notes: int = field(default=3, metadata=rule(Number(lo=1, hi=1_000_000, integer=True)))
    boost_after_days: int = field(default=3, metadata=rule(Number(lo=0, hi=MAX_DAYS, integer=True)))
    search_budget: float = field(default=0.0, metadata=_MONEY)
    search_cpc: float = field(default=4.0, metadata=rule(Number(lo=0.01, hi=MAX_MONEY, note="RMB per click")))
    searches_per_read: float = field(default=0.02, metadata=rule(Number(lo=0, hi=100)))
    search_ctr: float = field(default=0.03, metadata=_RATE)


_COUNT = rule(Number(lo=0, hi=MAX_PEOPLE))


@dataclass(frozen=True, slots=True)
class Vetting(_Checked):
    """Red-flag thresholds for candidate pools [S2 #42, E10–E12]."""

    TABLE: ClassVar[str] = "vetting"
    min_engagement_rate: float = field(default=0.02, metadata=_RATE)
    engagement_floor_share: float = field(default=0.5, metadata=_RATE)
    max_fake_share: float = field(default=0.30, metadata=_RATE)
    max_daily_follower_gain: float = field(default=10_000, metadata=_COUNT)
    min_follower_jump_share: float = field(default=0.05, metadata=_RATE)
    max_wrong_gender_share: float = field(default=0.80, metadata=_RATE)
    max_weekly_posts: float = field(default=50, metadata=_COUNT)
    min_price_share_of_tier: float = field(default=0.05, metadata=_RATE)
    min_likes_per_follower: float = field(default=1.0, metadata=_COUNT)
    min_like_read_ratio: float = field(default=0.01, metadata=_RATE)
    max_like_read_ratio: float = field(default=0.10, metadata=_RATE)
    enabled: bool = field(default=True, metadata=rule(Flag()))


# --------------------------------------------------------------------------- #
# The planner's policy for the optimizer
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class TierRule:
    """Tier mix for the optimizer: hired creators and spend share of one tier,
    the weeks (1-based) in which it may post (its seeding wave) and the least
    notes of each hired creator of the tier."""

    TABLE: ClassVar[str] = "optimize.tiers"
    min_creators: int = field(default=0, metadata=rule(Number(lo=0, hi=1_000_000, integer=True)))
    max_creators: int | None = field(default=None, metadata=rule(Number(lo=0, hi=1_000_000, integer=True,
                                                                        optional=True)))
    min_share: float = field(default=0.0, metadata=_RATE)
    max_share: float = field(default=1.0, metadata=_RATE)
    weeks: tuple[int, ...] | None = field(default=None, metadata=rule(Weeks(optional=True)))
    # notes each hired creator of the tier publishes at least (None: [optimize] min_posts_if_hired)
    min_posts: int | None = field(default=None, metadata=rule(Number(lo=1, hi=1000, integer=True, optional=True)))

    def __post_init__(self):
        _check(self)
        if self.max_creators is not None:
            Number(lo=self.min_creators, hi=1_000_000, integer=True).check(
                self.max_creators, "[optimize.tiers] max_creators")
        Number(lo=self.min_share, hi=1).check(self.max_share, "[optimize.tiers] max_share")


@dataclass(frozen=True, slots=True)
class ShareBounds:
    """Bounds on one category's share of total spend."""

    TABLE: ClassVar[str] = "optimize.category_share"
    min: float = field(default=0.0, metadata=_RATE)
    max: float = field(default=1.0, metadata=_RATE)

    def __post_init__(self):
        _check(self)
        Number(lo=self.min, hi=1).check(self.max, "[optimize.category_share] max")


@dataclass(frozen=True, slots=True)
class WeekBudget(_Checked):
    """At most ``max`` RMB of note prices in the given weeks (a wave's budget)."""

    TABLE: ClassVar[str] = "optimize.budget_by_weeks"
    weeks: tuple[int, ...] = field(metadata=rule(Weeks()))
    max: float = field(metadata=_MONEY)


def _mapping_of(cls, value: Any, where: str, key_rule) -> dict:
    """A table of value objects (from objects, or from tables of their fields), keyed by ``key_rule``."""
    if not isinstance(value, Mapping):
        raise ScenarioError(f"must be a table (got {show(value)})", where=where)
    out = {}
    for k, v in value.items():
        key = key_rule(k)
        sub = f"{cls.TABLE}.{label(str(k))}"
        try:
            out[key] = v if isinstance(v, cls) else cls(**v) if isinstance(v, Mapping) else None
        except ScenarioError as e:
            raise _relabel(e, cls.TABLE, sub) from None
        except TypeError as e:
            raise ScenarioError(f"is not a valid {cls.__name__} ({e})", where=f"[{sub}]") from None
        if out[key] is None:
            raise ScenarioError(f"must be a table (got {show(v)})", where=f"[{sub}]")
    return out


@dataclass(frozen=True, slots=True)
class Optimize:
    """The planner's policy for ``kolsim optimize`` (``docs/optimizer.md``)."""

    TABLE: ClassVar[str] = "optimize"
    weeks: int = field(metadata=rule(Number(lo=1, hi=MAX_DAYS // 7, integer=True)))
    objective: str = field(default="conversions", metadata=rule(Text(choices=OBJECTIVES, name=True)))
    saturation: bool = field(default=True, metadata=rule(Flag()))
    saturation_tolerance: float = field(default=0.001, metadata=rule(Number(lo=1e-6, hi=0.1)))
    max_posts_per_week: int | None = field(default=None, metadata=rule(Number(lo=0, hi=1_000_000, integer=True,
                                                                              optional=True)))
    # a share of 0 would allow no sponsored note at all
    sponsored_share: float = field(default=SPONSORED_SHARE, metadata=rule(Number(lo=0, lo_open=True, hi=1)))
    min_posts_if_hired: int = field(default=1, metadata=rule(Number(lo=1, hi=1000, integer=True)))
    must_include: tuple[str, ...] = field(default=(), metadata=rule(Names("creator ids")))
    exclude: tuple[str, ...] = field(default=(), metadata=rule(Names("creator ids")))
    time_limit: float = field(default=60.0, metadata=rule(Number(lo=0, lo_open=True, hi=86_400)))
    gap: float = field(default=1e-4, metadata=rule(Number(lo=0, hi=1, hi_open=True)))
    category_share: Mapping[str, ShareBounds] = field(default_factory=dict)
    tiers: Mapping[str, TierRule] = field(default_factory=dict)
    budget_by_weeks: tuple[WeekBudget, ...] = ()
    # the brand's own, besides the legal ones (always banned)
    banned_categories: tuple[str, ...] = field(default=(), metadata=rule(Names("category names", name=True)))

    def __post_init__(self):
        _check(self)

        def tier_key(code):
            key = name_key(code) if isinstance(code, str) else code
            if key not in TIERS:
                raise ScenarioError(f"unknown tier {show(code)}; allowed: {', '.join(TIERS)}."
                                    f"{did_you_mean(code, TIERS)}", where=f"[optimize.tiers.{label(str(code))}]")
            return key

        def category_key(name):
            return Text(name=True).check(name, "[optimize.category_share]")

        cats = _mapping_of(ShareBounds, self.category_share, "[optimize] category_share", category_key)
        rules = _mapping_of(TierRule, self.tiers, "[optimize] tiers", tier_key)
        object.__setattr__(self, "category_share", cats)
        object.__setattr__(self, "tiers", rules)
        for cat, b in cats.items():
            where = f"[optimize.category_share.{label(cat)}] min"
            if b.min > 0 and cat in BANNED_CATEGORIES:
                raise ScenarioError(f"asks for spend on {cat!r}, which may not be promoted by creators "
                                    "(law, [S3])", where=where)
            if b.min > 0 and cat in self.banned_categories:
                raise ScenarioError(f"asks for spend on {cat!r}, which [optimize] banned_categories bans",
                                    where=where)
        for code, r in rules.items():
            if r.weeks is not None:
                Weeks(hi=self.weeks).check(list(r.weeks), f"[optimize.tiers.{code}] weeks")
        wbs = tuple(self.budget_by_weeks)
        for i, wb in enumerate(wbs):
            if not isinstance(wb, WeekBudget):
                raise ScenarioError(f"must be budgets of week ranges (got {show(wb)})",
                                    where="[optimize] budget_by_weeks")
            Weeks(hi=self.weeks).check(list(wb.weeks), f"[optimize.budget_by_weeks #{i + 1}] weeks")
        object.__setattr__(self, "budget_by_weeks", wbs)
        both = sorted(set(self.must_include) & set(self.exclude))
        if both:
            raise ScenarioError(f"lists {both[0]!r} in both must_include and exclude", where="[optimize]")
        low = sum(b.min for b in cats.values())
        if low > 1 + 1e-12:
            raise ScenarioError(f"minimum shares add up to {low:.0%}, more than all of the spend",
                                where="[optimize.category_share]")


# --------------------------------------------------------------------------- #
# The whole
# --------------------------------------------------------------------------- #
def _segments(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"must be a table of segment sizes (got {show(value)})", where="[audience] segments")
    out: dict[str, float] = {}
    for name, size in value.items():
        key = Text(name=True).check(name, "[audience.segments]")
        if key in out:
            raise ScenarioError(f"names segment {key!r} twice (as written: {show(name)})",
                                where="[audience.segments]")
        out[key] = Number(lo=1, hi=MAX_PEOPLE).check(size, f"[audience.segments] {label(str(name))}")
    return out


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole, validated scenario.

    Build one from a file with :func:`kolsim.load_scenario`; change one with
    :meth:`with_` (or ``dataclasses.replace``), which checks the result again.
    """

    TABLE: ClassVar[str] = ""
    campaign: Campaign
    tiers: Mapping[str, Tier] = field(default_factory=lambda: {c: Tier.default(c) for c in TIERS})
    segments: Mapping[str, float] = field(default_factory=dict)
    decay: Decay = field(default_factory=Decay)
    word_of_mouth: WordOfMouth = field(default_factory=WordOfMouth)
    response: Response = field(default_factory=Response)
    uncertainty: Uncertainty = field(default_factory=Uncertainty)
    funnel: Funnel = field(default_factory=Funnel)
    waves: tuple[Wave, ...] = ()
    plan: Plan | None = None
    simulation: Simulation = field(default_factory=Simulation)
    operations: Operations = field(default_factory=Operations)
    ads: Ads = field(default_factory=Ads)
    operations_given: bool = False
    vetting: Vetting = field(default_factory=Vetting)
    optimize: Optimize | None = None
    default_segment_size: float | None = None
    schema_version: int = SCHEMA_VERSION
    source: str | None = None
    notices: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "default_segment_size", Number(lo=1, hi=MAX_PEOPLE, optional=True).check(
            self.default_segment_size, "[audience] default_size"))
        for name, cls in (("campaign", Campaign), ("decay", Decay), ("word_of_mouth", WordOfMouth),
                          ("response", Response), ("uncertainty", Uncertainty), ("funnel", Funnel),
                          ("simulation", Simulation), ("operations", Operations), ("ads", Ads),
                          ("vetting", Vetting)):
            if not isinstance(getattr(self, name), cls):
                raise ScenarioError(f"must be a {cls.__name__} (got {show(getattr(self, name))})", where=name)
        tiers = dict(self.tiers)
        if set(tiers) != set(TIERS) or not all(isinstance(t, Tier) and t.code == c for c, t in tiers.items()):
            raise ScenarioError(f"must hold a Tier for each of {', '.join(TIERS)}", where="tiers")
        object.__setattr__(self, "tiers", {c: tiers[c] for c in TIERS})
        object.__setattr__(self, "waves", tuple(self.waves))
        h = self.campaign.horizon_days
        names: dict[str, int] = {}
        for i, w in enumerate(self.waves):
            at = f"[waves #{i + 1}]"
            last = f"day 0 is launch, day {h - 1} the last of horizon_days = {h}"
            Number(lo=0, hi=h - 1, integer=True, note=last).check(w.start_day, f"{at} start_day")
            Number(lo=w.start_day, hi=h - 1, integer=True,
                   note=f"from start_day = {w.start_day} to day {h - 1}, the last of horizon_days = {h}"
                   ).check(w.end_day, f"{at} end_day")
            if w.name in names:
                raise ScenarioError(f"{show(w.name)} is also the name of wave #{names[w.name] + 1}; "
                                    "each wave needs a name of its own (reports are by wave)", where=f"{at} name")
            names[w.name] = i
            if w.commission > 0 and self.campaign.price is None:
                raise ScenarioError(f"is {w.commission:g}, a share of revenue, but [campaign] has no price; "
                                    "give [campaign] price so commissions can be paid", where=f"{at} commission")
        if self.plan is not None:
            if not isinstance(self.plan, Plan):
                raise ScenarioError(f"must be a Plan (got {show(self.plan)})", where="plan")
            weeks = (h + 6) // 7
            for i, it in enumerate(self.plan.items):
                Number(lo=1, hi=weeks, integer=True, note=f"horizon_days = {h} spans {weeks} week(s)").check(
                    it.week, f"[plan #{i + 1}] week")
        if self.optimize is not None:
            self._check_optimize()
        if not self.waves and self.plan is None and self.optimize is None:
            raise ScenarioError("has no posts: add at least one [[waves]] table or a [plan] "
                                "(or an [optimize] table, to choose them)")
        notes = sum(w.notes for w in self.waves) + (self.plan.notes if self.plan is not None else 0)
        if notes > MAX_NOTES:
            raise ScenarioError(f"plans {notes:,} notes; kolsim simulates at most {MAX_NOTES:,} in one "
                                "scenario (split the campaign, or model fewer, larger creators)",
                                where="[[waves]]" if self.waves else "[plan]")
        self._fill_segments()

    def _check_optimize(self) -> None:
        o, camp = self.optimize, self.campaign
        if not isinstance(o, Optimize):
            raise ScenarioError(f"must be an Optimize (got {show(o)})", where="optimize")
        # whole weeks only: the platform's rule is enforced in 4-week windows, which
        # is exact for whole weeks but not for a last week cut short by the horizon
        max_weeks = camp.horizon_days // 7
        if max_weeks < 1:
            raise ScenarioError(f"horizon_days = {camp.horizon_days} holds no whole week; the optimizer "
                                "plans whole weeks (horizon_days >= 7)", where="[optimize]")
        Number(lo=1, hi=max_weeks, integer=True).check(o.weeks, "[optimize] weeks")
        if o.objective == "profit" and (camp.price is None or camp.margin is None):
            raise ScenarioError("is 'profit', which needs [campaign] price and margin", where="[optimize] objective")

    def _fill_segments(self) -> None:
        """Every segment a note lands in has a size: its own, or ``default_segment_size``."""
        sizes = _segments(self.segments)
        used = {w.segment or w.category or self.campaign.category for w in self.waves}
        if self.plan is not None:
            used |= {self.plan.pool.segment_of(it.kol_id) for it in self.plan.items}
        for seg in sorted(used - set(sizes)):
            if self.default_segment_size is None:
                raise ScenarioError(
                    f"segment {show(seg)} receives posts but has no size; add it to [audience.segments] "
                    f"(people in the segment) or set [audience] default_size", where="[audience] segments")
            sizes[seg] = self.default_segment_size
        object.__setattr__(self, "segments", sizes)

    @property
    def name(self) -> str:
        return self.campaign.name

    def with_(self, changes: Mapping[str, Any] | None = None, **fields_) -> "Scenario":
        """A copy with some values changed, checked like a scenario read from a file.

        Keys are attribute paths: ``campaign``, ``campaign.budget``,
        ``tiers.micro.cvr``, ``word_of_mouth.q_per_year``,
        ``waves.0.posts_per_creator``, ``optimize.tiers.mid.min_creators``.

        Examples
        --------
        >>> import kolsim
        >>> s = kolsim.load_scenario("scenarios/perfume_launch.toml")
        >>> s.with_({"campaign.budget": 80_000, "tiers.micro.cvr": 0.03}).campaign.budget
        80000.0
        >>> s.with_({"tiers.micro.cvr": 3.0})
        Traceback (most recent call last):
        ...
        kolsim.errors.ScenarioError: [tiers.micro] cvr: must be a number >= 0 and <= 1 (got 3.0)
        """
        out: Any = self
        for path, value in {**(changes or {}), **fields_}.items():
            out = _set_path(out, str(path).split("."), value, str(path))
        return out

    def __repr__(self) -> str:
        what = []
        if self.waves:
            what.append(f"{len(self.waves)} wave(s)")
        if self.plan is not None:
            what.append(f"a plan of {self.plan.notes} note(s)")
        if self.optimize is not None:
            what.append("an [optimize] request")
        return (f"Scenario({self.name!r}: {self.campaign.category}, budget ¥{self.campaign.budget:,.0f}, "
                f"{self.campaign.horizon_days} days; {', '.join(what)})")


def _set_path(obj: Any, parts: list[str], value: Any, path: str) -> Any:
    """``obj`` with the value at ``parts`` replaced (dataclasses are rebuilt, so they check it)."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = [f.name for f in dataclasses.fields(obj)]
        if head not in names:
            raise ScenarioError(f"has no {head!r}; it holds {', '.join(names)}.{did_you_mean(head, names)}",
                                where=f"with_ {path}")
        return dataclasses.replace(obj, **{head: _set_path(getattr(obj, head), rest, value, path)})
    if isinstance(obj, Mapping):
        key = head if head in obj else name_key(head)
        if key not in obj and rest:
            raise ScenarioError(f"has no {head!r}; it holds {', '.join(map(str, obj))}", where=f"with_ {path}")
        return {**obj, key: _set_path(obj.get(key), rest, value, path)}
    if isinstance(obj, tuple) and head.isdigit() and int(head) < len(obj):
        i = int(head)
        return obj[:i] + (_set_path(obj[i], rest, value, path),) + obj[i + 1:]
    raise ScenarioError(f"cannot be changed: {head!r} is not part of {type(obj).__name__}", where=f"with_ {path}")

