"""The scenario: frozen dataclasses for every concept, validated on creation.

Nothing here touches files; :mod:`kolsim.io` reads TOML and CSV and hands the
parsed data to :func:`parse_scenario`.  Every check names the table, the key,
the value it got and what is allowed; the loader adds the file name.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from .defaults import BANNED_CATEGORIES, DEAL_TYPES, TIER_DEFAULTS, TIERS
from .errors import ScenarioError

__all__ = [
    "SCHEMA_VERSION",
    "Campaign",
    "Tier",
    "Decay",
    "WordOfMouth",
    "Wave",
    "PlanItem",
    "Plan",
    "Simulation",
    "Operations",
    "Ads",
    "Vetting",
    "Scenario",
    "parse_scenario",
]

#: The newest scenario schema this kolsim reads.
SCHEMA_VERSION = 1

#: Largest values accepted anywhere, to keep arithmetic exact and meaningful.
MAX_MONEY = 1e11  # RMB
MAX_PEOPLE = 2e9  # audience members, followers
MAX_DAYS = 3650
MAX_RUNS = 10_000_000


# --------------------------------------------------------------------------- #
# Dataclasses
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class Campaign:
    """What is promoted, for how much, for how long.

    ``budget`` is the RMB the brand means to spend (reported against spend);
    ``price`` (RMB per unit) and ``margin`` (share of price) turn conversions
    into revenue and profit when given.
    """

    name: str
    category: str
    budget: float
    horizon_days: int
    price: float | None = None
    margin: float | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    """The calibrated parameters of one creator tier (see ``defaults.py``)."""

    code: str
    followers: float
    cost_per_post: float
    reach: float
    reach_sigma: float
    interaction_rate: float
    ctr: float
    cvr: float
    p_post_paid: float
    p_post_gifted: float
    fake_share: float
    monthly_posts: float
    engagement_sd: float

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
class Decay:
    """How a note's reads spread over the days after publication [A]."""

    feed_share: float = 0.70
    feed_half_life_days: float = 1.5
    feed_days: int = 30
    search_half_life_days: float = 30.0


@dataclass(frozen=True, slots=True)
class WordOfMouth:
    """Imitation among readers: Bass q per year (per day is q / 365) [E30]."""

    enabled: bool = True
    q_per_year: float = 0.38

    @property
    def q_per_day(self) -> float:
        return self.q_per_year / 365.0 if self.enabled else 0.0


@dataclass(frozen=True, slots=True)
class Wave:
    """A seeding wave in the strategist's view: counts of creators per tier.

    Creators of a wave publish evenly spread over days ``start_day`` ..
    ``end_day`` (inclusive, day 0 is launch); each publishes
    ``posts_per_creator`` notes spread evenly over the same window.
    """

    name: str
    start_day: int
    end_day: int
    deal: str
    tiers: Mapping[str, int]
    posts_per_creator: int = 1
    segment: str | None = None
    category: str | None = None
    cost_per_post: float | None = None
    gift_value: float = 0.0
    retainer_per_month: float = 0.0
    commission: float = 0.0
    post_probability: float | None = None

    @property
    def creators(self) -> int:
        return sum(self.tiers.values())


@dataclass(frozen=True, slots=True)
class PlanItem:
    """In the planner's view: ``posts`` notes by creator ``kol_id`` in ``week`` (1-based)."""

    kol_id: str
    week: int
    posts: int


@dataclass(frozen=True, slots=True)
class Plan:
    """An explicit plan over a candidate pool."""

    pool: Any  # kolsim.pool.Pool (kept untyped here to avoid an import cycle)
    items: tuple[PlanItem, ...]


@dataclass(frozen=True, slots=True)
class Simulation:
    """Monte Carlo settings.

    ``runs`` replications (the most, when ``target_half_width`` is set: then
    the run stops at the first block of 1024 replications after which the 95 %
    interval of mean conversions is narrower than ``target_half_width`` times
    the mean).
    """

    runs: int = 2000
    seed: int = 0
    target_half_width: float | None = None


@dataclass(frozen=True, slots=True)
class Operations:
    """The campaign's operations, for the discrete-event engine (``docs/scenarios.md``).

    Durations are in days; each is drawn from a gamma distribution with shape
    2 and the given mean (a 0 mean is no delay).  Every default is an
    assumption [A]; ``enabled = false`` gives the idealised run (every note
    published on its planned day, purchases on the day of the click), which
    is the Monte Carlo engine's model.
    """

    enabled: bool = True
    outreach_days: float = 21.0
    contract_days: float = 5.0
    brief_days: float = 10.0
    draft_days: float = 4.0
    reviewers: int = 2
    review_days: float = 0.5
    second_round_share: float = 0.3
    revision_days: float = 2.0
    consideration_days: float = 2.0


@dataclass(frozen=True, slots=True)
class Ads:
    """Paid amplification (the KOL + feed + search model [S4 #28]), discrete-event engine only.

    Feed ads boost the best notes: ``feed_budget`` is split into
    ``boost_notes`` equal boosts, bought at ``feed_cpm`` RMB per 1,000 ad
    views [E18].  Search ads capture readers who then search: each read
    leads to ``searches_per_read`` searches [A], an ad is clicked with
    probability ``search_ctr`` [E18, E19] at ``search_cpc`` RMB a click
    [E18], until ``search_budget`` is spent.
    """

    feed_budget: float = 0.0
    feed_cpm: float = 30.0
    boost_notes: int = 3
    boost_after_days: int = 3
    search_budget: float = 0.0
    search_cpc: float = 4.0
    searches_per_read: float = 0.02
    search_ctr: float = 0.03


@dataclass(frozen=True, slots=True)
class Vetting:
    """Red-flag thresholds for candidate pools [S2 #42, E10–E12]."""

    enabled: bool = True
    min_engagement_rate: float = 0.02
    engagement_floor_share: float = 0.5
    max_fake_share: float = 0.30
    max_daily_follower_gain: float = 10_000
    min_follower_jump_share: float = 0.05
    max_wrong_gender_share: float = 0.80
    max_weekly_posts: float = 50
    min_price_share_of_tier: float = 0.05
    min_likes_per_follower: float = 1.0
    min_like_read_ratio: float = 0.01
    max_like_read_ratio: float = 0.10


@dataclass(frozen=True, slots=True)
class TierRule:
    """Tier mix for the optimizer: hired creators and spend share of one tier,
    and the weeks (1-based) in which it may post (its seeding wave)."""

    min_creators: int = 0
    max_creators: int | None = None
    min_share: float = 0.0
    max_share: float = 1.0
    weeks: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ShareBounds:
    """Bounds on one category's share of total spend."""

    min: float = 0.0
    max: float = 1.0


@dataclass(frozen=True, slots=True)
class WeekBudget:
    """At most ``max`` RMB of note prices in the given weeks (a wave's budget)."""

    weeks: tuple[int, ...]
    max: float


OBJECTIVES: tuple[str, ...] = ("conversions", "reach", "interactions", "profit")


@dataclass(frozen=True, slots=True)
class Optimize:
    """The planner's policy for ``kolsim optimize`` (``docs/optimizer.md``)."""

    weeks: int
    objective: str = "conversions"
    saturation: bool = True
    saturation_tolerance: float = 0.001
    max_posts_per_week: int | None = None
    sponsored_share: float = 0.20
    min_posts_if_hired: int = 1
    must_include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    time_limit: float = 60.0
    gap: float = 1e-4
    category_share: Mapping[str, ShareBounds] = field(default_factory=dict)
    tiers: Mapping[str, TierRule] = field(default_factory=dict)
    budget_by_weeks: tuple[WeekBudget, ...] = ()
    banned_categories: tuple[str, ...] = ()  # the brand's own, besides the legal ones (always banned)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole, validated scenario."""

    campaign: Campaign
    tiers: Mapping[str, Tier]
    segments: Mapping[str, float]
    decay: Decay = field(default_factory=Decay)
    word_of_mouth: WordOfMouth = field(default_factory=WordOfMouth)
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

    @property
    def name(self) -> str:
        return self.campaign.name


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #
_TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "": ("schema_version", "campaign", "tiers", "audience", "decay", "word_of_mouth",
         "waves", "plan", "simulation", "operations", "ads", "vetting", "optimize"),
    "optimize": ("weeks", "objective", "saturation", "saturation_tolerance", "max_posts_per_week",
                 "sponsored_share", "min_posts_if_hired", "must_include", "exclude", "time_limit",
                 "gap", "category_share", "tiers", "budget_by_weeks", "banned_categories"),
    "optimize.tiers": ("min_creators", "max_creators", "min_share", "max_share", "weeks"),
    "optimize.category_share": ("min", "max"),
    "optimize.budget_by_weeks": ("weeks", "max"),
    "campaign": ("name", "category", "budget", "horizon_days", "price", "margin"),
    "audience": ("segments", "default_size"),
    "decay": tuple(f.name for f in fields(Decay)),
    "word_of_mouth": tuple(f.name for f in fields(WordOfMouth)),
    "waves": ("name", "start_day", "end_day", "deal", "tiers", "posts_per_creator",
              "segment", "category", "cost_per_post", "gift_value",
              "retainer_per_month", "commission", "post_probability"),
    "plan": ("pool", "schedule", "posts"),
    "plan.posts": ("kol_id", "week", "posts"),
    "simulation": tuple(f.name for f in fields(Simulation)),
    "operations": tuple(f.name for f in fields(Operations)),
    "ads": tuple(f.name for f in fields(Ads)),
    "vetting": tuple(f.name for f in fields(Vetting)),
    "tiers": tuple(k for k in TIER_DEFAULTS["koc"]),
}


def _printable(text: str, limit: int | None = 80) -> str:
    """``text`` on one line, control characters escaped, cut to ``limit`` characters."""
    out = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
    return out if limit is None or len(out) <= limit else out[:limit - 1] + "…"


def _show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message: safe for huge integers, cut to ``limit`` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        try:
            return f"{float(value):g}"
        except OverflowError:  # beyond float range; str() may refuse it too
            return f"{'-' if value < 0 else ''}about 10^{int(math.log10(abs(value)))}"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer too long to print, arrays nested too deep
        text = f"<{_kind(value)}>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _bound(x: float) -> str:
    """A bound for a message: whole numbers in full, others as ``%g``."""
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e16):
        return f"{int(x):_}" if abs(x) >= 10_000 else str(int(x))
    return f"{x:g}"


def _kind(value: Any) -> str:
    return {bool: "a boolean", str: "a string", int: "an integer", float: "a number",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


class _Table:
    """Reads one TOML table, checking each key, and reports leftovers."""

    def __init__(self, data: Any, label: str, schema: str):
        if not isinstance(data, dict):
            raise ScenarioError(f"must be a table (got {_kind(data)})", where=f"[{label}]")
        self.data = data
        self.label = label
        self.schema = schema
        self.used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"[{self.label}] {key}" if self.label else key

    def _fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(message, where=self._where(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.data.get(key, default)

    def number(self, key: str, default: Any = ..., *, lo: float | None = None,
               hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
               integer: bool = False, note: str | None = None) -> Any:
        """A number within [lo, hi] (open ends on request); ``...`` means required.

        ``note`` says where the bounds come from, for the message.
        """
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self._missing(key)
            return default
        value = self.data[key]
        fmt = _bound if integer else (lambda x: f"{x:g}")
        lo_txt = f"{'>' if lo_open else '>='} {fmt(lo)}" if lo is not None else ""
        hi_txt = f"{'<' if hi_open else '<='} {fmt(hi)}" if hi is not None else ""
        allowed = " and ".join(t for t in (lo_txt, hi_txt) if t)
        what = "a whole number" if integer else "a number"
        expect = f"{what} {allowed}".strip() + (f" ({note})" if note else "")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, f"must be {expect} (got {_kind(value)} {_show(value)})")
        if integer and not isinstance(value, int):
            raise self._fail(key, f"must be {expect} (got {_show(value)})")
        if isinstance(value, float) and not math.isfinite(value):
            raise self._fail(key, f"must be a finite number {allowed} (got {_show(value)})")
        bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
        bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
        if bad_lo or bad_hi:
            shown = f"{value:g}" if isinstance(value, float) else _show(value)
            raise self._fail(key, f"must be {expect} (got {shown})")
        return value

    def rate(self, key: str, default: Any = ...) -> Any:
        return self.number(key, default, lo=0, hi=1)

    def string(self, key: str, default: Any = ..., *, choices: tuple[str, ...] | None = None) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise self._missing(key)
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self._fail(key, f"must be a string (got {_kind(value)} {_show(value)})")
        if not value.strip():
            raise self._fail(key, "must not be empty")
        if choices is not None and value not in choices:
            hint = _did_you_mean(value, choices)
            raise self._fail(key, f"must be one of {', '.join(choices)} (got {_show(value)}){hint}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        self.used.add(key)
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false (got {_kind(value)} {_show(value)})")
        return value

    def table(self, key: str, schema: str | None = None) -> "_Table | None":
        self.used.add(key)
        if key not in self.data:
            return None
        label = f"{self.label}.{key}" if self.label else key
        return _Table(self.data[key], label, schema or key)

    def _unknown(self, key: str) -> ScenarioError:
        known = _TABLE_KEYS.get(self.schema, ())
        hint = _did_you_mean(key, known)
        if not hint:
            homes = [t for t, keys in _TABLE_KEYS.items() if key in keys and t != self.schema]
            if homes:
                hint = " It belongs in " + " or ".join(f"[{h}]" if h else "the top level" for h in homes) + "."
        place = f"in [{self.label}]" if self.label else "at the top level"
        allowed = ", ".join(known)
        return ScenarioError(f"unknown key {_show(key)} {place}.{hint} Allowed: {allowed}",
                             where=self._where(key if len(key) <= 60 else key[:59] + "…"))

    def _missing(self, key: str) -> ScenarioError:
        """A required key is absent: blame a misspelling of it when there is one."""
        known = set(_TABLE_KEYS.get(self.schema, ()))
        strays = [k for k in self.data if isinstance(k, str) and k not in known]
        close = difflib.get_close_matches(key, strays, n=1, cutoff=0.6)
        return self._unknown(close[0]) if close else self._fail(key, "is required")

    def finish(self) -> None:
        """Reject keys nobody read, suggesting the intended one."""
        for key in self.data:
            if key not in self.used:
                raise self._unknown(key)


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _parse_campaign(t: _Table) -> Campaign:
    category = t.string("category").strip().lower()
    if category in BANNED_CATEGORIES:
        raise ScenarioError(
            f"category {_show(category)} may not be promoted by creators on RED (law, [S3]); "
            f"banned: {', '.join(sorted(BANNED_CATEGORIES))}", where="[campaign] category")
    camp = Campaign(
        name=t.string("name"),
        category=category,
        budget=t.number("budget", lo=0, hi=MAX_MONEY, lo_open=True),
        horizon_days=t.number("horizon_days", lo=1, hi=MAX_DAYS, integer=True),
        price=t.number("price", None, lo=0, hi=MAX_MONEY, lo_open=True),
        margin=t.number("margin", None, lo=0, hi=1),
    )
    if camp.margin is not None and camp.price is None:
        raise ScenarioError("is given without [campaign] price; give both or neither",
                            where="[campaign] margin")
    t.finish()
    return camp


_TIER_BOUNDS: dict[str, dict[str, Any]] = {
    "followers": dict(lo=1, hi=MAX_PEOPLE),
    "cost_per_post": dict(lo=0, hi=MAX_MONEY),
    "reach": dict(lo=0, hi=100),
    "reach_sigma": dict(lo=0, hi=4),
    "monthly_posts": dict(lo=0, hi=1000),
    "fake_share": dict(lo=0, hi=1, hi_open=True),  # fake followers never read: 1 would leave none
}


def _check_tier(code: Any, where: str) -> None:
    if code not in TIERS:
        hint = _did_you_mean(code, TIERS)
        raise ScenarioError(f"unknown tier {_show(code)}; allowed: {', '.join(TIERS)}.{hint}", where=where)


def _parse_tiers(t: _Table | None) -> dict[str, Tier]:
    overrides: dict[str, dict[str, float]] = {}
    if t is not None:
        for code in t.data:
            _check_tier(code, f"[tiers.{code}]")
            sub = t.table(code, "tiers")
            assert sub is not None
            values = {}
            for key in TIER_DEFAULTS[code]:
                bounds = _TIER_BOUNDS.get(key, dict(lo=0, hi=1))
                if sub.has(key):
                    values[key] = float(sub.number(key, **bounds))
            sub.finish()
            overrides[code] = values
        t.finish()
    return {code: Tier(code=code, **{**TIER_DEFAULTS[code], **overrides.get(code, {})})
            for code in TIERS}


def _parse_segments(t: _Table | None) -> tuple[dict[str, float], float | None]:
    if t is None:
        return {}, None
    default = t.number("default_size", None, lo=1, hi=MAX_PEOPLE)
    segs: dict[str, float] = {}
    sub = t.table("segments", "audience.segments")
    if sub is not None:
        for name in sub.data:
            segs[str(name)] = float(sub.number(name, lo=1, hi=MAX_PEOPLE))
    t.finish()
    return segs, (float(default) if default is not None else None)


def _parse_wave(t: _Table, index: int, horizon: int) -> Wave:
    name = t.string("name", f"wave {index + 1}")
    last = f"day 0 is launch, day {horizon - 1} the last of horizon_days = {horizon}"
    start = t.number("start_day", lo=0, hi=horizon - 1, integer=True, note=last)
    end = t.number("end_day", start, lo=start, hi=horizon - 1, integer=True,
                   note=f"from start_day = {start} to day {horizon - 1}, the last of horizon_days = {horizon}")
    deal = t.string("deal", "paid", choices=DEAL_TYPES)
    tt = t.table("tiers", "wave.tiers")
    if tt is None:
        raise ScenarioError("is required: creators per tier, e.g. tiers = { mid = 12 }",
                            where=f"[[waves]] #{index + 1} tiers")
    counts: dict[str, int] = {}
    for code in tt.data:
        _check_tier(code, f"[[waves]] #{index + 1} tiers")
        n = tt.number(code, lo=0, hi=100_000, integer=True)
        if n:
            counts[code] = n
    if not counts:
        raise ScenarioError("has no creators: give at least one tier a count > 0",
                            where=f"[[waves]] #{index + 1} tiers")
    wave = Wave(
        name=name, start_day=start, end_day=end, deal=deal, tiers=counts,
        posts_per_creator=t.number("posts_per_creator", 1, lo=1, hi=1000, integer=True),
        segment=t.string("segment", None),
        category=t.string("category", None),
        cost_per_post=t.number("cost_per_post", None, lo=0, hi=MAX_MONEY),
        gift_value=float(t.number("gift_value", 0.0, lo=0, hi=MAX_MONEY)),
        retainer_per_month=float(t.number("retainer_per_month", 0.0, lo=0, hi=MAX_MONEY)),
        commission=float(t.rate("commission", 0.0)),
        post_probability=t.rate("post_probability", None),
    )
    if wave.category is not None and wave.category.lower() in BANNED_CATEGORIES:
        raise ScenarioError(f"category {_show(wave.category)} may not be promoted by creators (law, [S3])",
                            where=f"[[waves]] #{index + 1} category")
    t.finish()
    return wave


def _parse_plan_items(rows: list[Any], label: str, horizon: int) -> tuple[PlanItem, ...]:
    items = []
    weeks = (horizon + 6) // 7
    for i, row in enumerate(rows):
        t = _Table(row, f"{label} #{i + 1}", "plan.posts")
        kol = t.raw("kol_id")
        if (isinstance(kol, bool) or not isinstance(kol, (str, int))
                or (isinstance(kol, int) and abs(kol) >= 10**100) or not str(kol).strip()):
            raise ScenarioError(f"must be a creator id from the pool (got {_show(kol)})",
                                where=f"[{label}] #{i + 1} kol_id")
        items.append(PlanItem(
            kol_id=str(kol).strip(),
            week=t.number("week", lo=1, hi=weeks, integer=True,
                          note=f"horizon_days = {horizon} spans {weeks} week(s)"),
            posts=t.number("posts", 1, lo=1, hi=100, integer=True),
        ))
        t.finish()
    return tuple(items)


def _weeks_list(t: _Table, key: str, n_weeks: int, default=None) -> tuple[int, ...] | None:
    t.used.add(key)
    if key not in t.data:
        return default
    v = t.data[key]
    if (not isinstance(v, list) or not v
            or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= n_weeks for w in v)):
        raise ScenarioError(f"must be a non-empty array of week numbers from 1 to {n_weeks} "
                            f"(got {_show(v)})", where=t._where(key))
    return tuple(sorted(set(v)))


def _names(t: _Table, key: str, what: str) -> list[str]:
    """An array of non-empty strings, stripped."""
    t.used.add(key)
    v = t.data.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise ScenarioError(f"must be an array of {what} (got {_show(v)})", where=t._where(key))
    return [x.strip() for x in v]


def _id_list(t: _Table, key: str) -> tuple[str, ...]:
    return tuple(_names(t, key, "creator ids"))


def _category_list(t: _Table, key: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x.lower() for x in _names(t, key, "category names")))


def _parse_optimize(t: _Table, campaign: Campaign) -> Optimize:
    # whole weeks only: the platform's rule is enforced in 4-week windows, which
    # is exact for whole weeks but not for a last week cut short by the horizon
    max_weeks = campaign.horizon_days // 7
    if max_weeks < 1:
        raise ScenarioError(f"horizon_days = {campaign.horizon_days} holds no whole week; the optimizer "
                            "plans whole weeks (horizon_days >= 7)", where="[optimize]")
    weeks = t.number("weeks", min(8, max_weeks), lo=1, hi=max_weeks, integer=True)
    objective = t.string("objective", "conversions", choices=OBJECTIVES)
    if objective == "profit" and (campaign.price is None or campaign.margin is None):
        raise ScenarioError("is 'profit', which needs [campaign] price and margin",
                            where="[optimize] objective")
    banned = _category_list(t, "banned_categories")
    cats: dict[str, ShareBounds] = {}
    ct = t.table("category_share", "optimize.category_share_table")
    if ct is not None:
        for cat in ct.data:
            sub = ct.table(cat, "optimize.category_share")
            assert sub is not None
            lo = sub.rate("min", 0.0)
            hi = sub.number("max", 1.0, lo=lo, hi=1)
            sub.finish()
            name = str(cat).strip().lower()
            if name in BANNED_CATEGORIES and lo > 0:
                raise ScenarioError(f"asks for spend on {name!r}, which may not be promoted by creators "
                                    "(law, [S3])", where=f"[optimize.category_share.{cat}] min")
            if name in banned and lo > 0:
                raise ScenarioError(f"asks for spend on {name!r}, which [optimize] banned_categories bans",
                                    where=f"[optimize.category_share.{cat}] min")
            cats[name] = ShareBounds(min=float(lo), max=float(hi))
    rules: dict[str, TierRule] = {}
    tt = t.table("tiers", "optimize.tiers_table")
    if tt is not None:
        for code in tt.data:
            _check_tier(code, f"[optimize.tiers.{code}]")
            sub = tt.table(code, "optimize.tiers")
            assert sub is not None
            lo = sub.number("min_creators", 0, lo=0, hi=1_000_000, integer=True)
            hi = sub.number("max_creators", None, lo=lo, hi=1_000_000, integer=True)
            smin = sub.rate("min_share", 0.0)
            smax = sub.number("max_share", 1.0, lo=smin, hi=1)
            rules[code] = TierRule(min_creators=lo, max_creators=hi, min_share=float(smin),
                                   max_share=float(smax), weeks=_weeks_list(sub, "weeks", weeks))
            sub.finish()
    wb_raw = t.raw("budget_by_weeks", [])
    if not isinstance(wb_raw, list):
        raise ScenarioError("must be an array of tables: write each as [[optimize.budget_by_weeks]]",
                            where="[optimize] budget_by_weeks")
    wbs = []
    for i, row in enumerate(wb_raw):
        sub = _Table(row, f"optimize.budget_by_weeks #{i + 1}", "optimize.budget_by_weeks")
        wks = _weeks_list(sub, "weeks", weeks)
        if wks is None:
            raise ScenarioError("is required", where=f"[optimize.budget_by_weeks #{i + 1}] weeks")
        wbs.append(WeekBudget(weeks=wks, max=float(sub.number("max", lo=0, hi=MAX_MONEY))))
        sub.finish()
    opt = Optimize(
        weeks=weeks, objective=objective,
        saturation=t.boolean("saturation", True),
        saturation_tolerance=float(t.number("saturation_tolerance", 0.001, lo=1e-6, hi=0.1)),
        max_posts_per_week=t.number("max_posts_per_week", None, lo=0, hi=1_000_000, integer=True),
        sponsored_share=float(t.number("sponsored_share", 0.20, lo=0, hi=1)),
        min_posts_if_hired=t.number("min_posts_if_hired", 1, lo=1, hi=1000, integer=True),
        must_include=_id_list(t, "must_include"), exclude=_id_list(t, "exclude"),
        time_limit=float(t.number("time_limit", 60.0, lo=0, hi=86_400, lo_open=True)),
        gap=float(t.number("gap", 1e-4, lo=0, hi=1, hi_open=True)),
        category_share=cats, tiers=rules, budget_by_weeks=tuple(wbs), banned_categories=banned)
    both = sorted(set(opt.must_include) & set(opt.exclude))
    if both:
        raise ScenarioError(f"lists {both[0]!r} in both must_include and exclude", where="[optimize]")
    low = sum(b.min for b in cats.values())
    if low > 1 + 1e-12:
        raise ScenarioError(f"minimum shares add up to {low:.0%}, more than all of the spend",
                            where="[optimize.category_share]")
    t.finish()
    return opt


def _parse_operations(t: _Table) -> Operations:
    d = Operations()
    days = lambda key: float(t.number(key, getattr(d, key), lo=0, hi=MAX_DAYS))
    ops = Operations(
        enabled=t.boolean("enabled", d.enabled),
        outreach_days=days("outreach_days"),
        contract_days=days("contract_days"),
        brief_days=days("brief_days"),
        draft_days=days("draft_days"),
        reviewers=t.number("reviewers", d.reviewers, lo=1, hi=10_000, integer=True),
        review_days=days("review_days"),
        second_round_share=float(t.rate("second_round_share", d.second_round_share)),
        revision_days=days("revision_days"),
        consideration_days=days("consideration_days"),
    )
    t.finish()
    return ops


def _parse_ads(t: _Table) -> Ads:
    d = Ads()
    ads = Ads(
        feed_budget=float(t.number("feed_budget", d.feed_budget, lo=0, hi=MAX_MONEY)),
        feed_cpm=float(t.number("feed_cpm", d.feed_cpm, lo=0.01, hi=MAX_MONEY,
                                note="RMB per 1,000 ad views")),
        boost_notes=t.number("boost_notes", d.boost_notes, lo=1, hi=1_000_000, integer=True),
        boost_after_days=t.number("boost_after_days", d.boost_after_days, lo=0, hi=MAX_DAYS,
                                  integer=True),
        search_budget=float(t.number("search_budget", d.search_budget, lo=0, hi=MAX_MONEY)),
        search_cpc=float(t.number("search_cpc", d.search_cpc, lo=0.01, hi=MAX_MONEY,
                                  note="RMB per click")),
        searches_per_read=float(t.number("searches_per_read", d.searches_per_read, lo=0, hi=100)),
        search_ctr=float(t.rate("search_ctr", d.search_ctr)),
    )
    t.finish()
    return ads


def parse_scenario(data: Mapping[str, Any], *, pool: Any = None,
                   schedule: list[Mapping[str, Any]] | None = None,
                   source: str | None = None) -> Scenario:
    """Build a :class:`Scenario` from parsed TOML data.

    Parameters
    ----------
    data : mapping
        The TOML document as a dict.
    pool : kolsim.pool.Pool, optional
        The candidate pool named by ``[plan] pool``, already loaded.
    schedule : list of mappings, optional
        Rows of the plan file named by ``[plan] schedule``, already read.
    source : str, optional
        The file name, for messages and provenance.

    Raises
    ------
    ScenarioError
        With ``where`` set to the table and key at fault.
    """
    notices: list[str] = []
    top = _Table(dict(data), "", "")
    version = top.raw("schema_version")
    if version is None:
        notices.append(f"{source + ': ' if source else ''}no schema_version given; "
                       "reading the file as schema_version = 1")
        version = 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ScenarioError(f"must be a whole number >= 1 (got {_show(version)})", where="schema_version")
    if version > SCHEMA_VERSION:
        raise ScenarioError(
            f"is {_show(version)}, but this kolsim reads schema_version {SCHEMA_VERSION} at most; "
            "upgrade kolsim to read this file", where="schema_version")

    # unknown top-level keys first: a misspelt table would otherwise surface as
    # a confusing error about what it should have held
    top.used.update(_TABLE_KEYS[""])
    top.finish()

    ct = top.table("campaign")
    if ct is None:
        raise ScenarioError("missing required table [campaign] (name, category, budget, horizon_days)")
    campaign = _parse_campaign(ct)
    tiers = _parse_tiers(top.table("tiers"))
    segments, default_size = _parse_segments(top.table("audience"))

    dt = top.table("decay")
    decay = Decay()
    if dt is not None:
        decay = Decay(
            feed_share=dt.rate("feed_share", decay.feed_share),
            feed_half_life_days=dt.number("feed_half_life_days", decay.feed_half_life_days,
                                          lo=0, hi=MAX_DAYS, lo_open=True),
            feed_days=dt.number("feed_days", decay.feed_days, lo=1, hi=MAX_DAYS, integer=True),
            search_half_life_days=dt.number("search_half_life_days", decay.search_half_life_days,
                                            lo=0, hi=MAX_DAYS, lo_open=True),
        )
        dt.finish()

    wt = top.table("word_of_mouth")
    wom = WordOfMouth()
    if wt is not None:
        wom = WordOfMouth(enabled=wt.boolean("enabled", True),
                          q_per_year=wt.number("q_per_year", wom.q_per_year, lo=0, hi=365))
        wt.finish()

    waves_raw = top.raw("waves", [])
    if not isinstance(waves_raw, list):
        raise ScenarioError("must be an array of tables: write each wave as [[waves]]", where="waves")
    waves = tuple(_parse_wave(_Table(w, f"waves #{i + 1}", "waves"), i, campaign.horizon_days)
                  for i, w in enumerate(waves_raw))

    plan = None
    pt = top.table("plan")
    if pt is not None:
        pt.raw("pool")
        posts_raw = pt.raw("posts")
        pt.raw("schedule")
        if pool is None:
            raise ScenarioError("is required: the candidate pool file the plan draws on",
                                where="[plan] pool")
        if posts_raw is not None and schedule is not None:
            raise ScenarioError("give the plan either as [[plan.posts]] or as a schedule file, not both",
                                where="[plan]")
        if posts_raw is not None and not isinstance(posts_raw, list):
            raise ScenarioError("must be an array of tables: write each entry as [[plan.posts]]",
                                where="[plan] posts")
        rows = posts_raw if posts_raw is not None else (schedule or [])
        label = "plan.posts" if posts_raw is not None else "plan schedule"
        items = _parse_plan_items(rows, label, campaign.horizon_days)
        if not items:
            raise ScenarioError("has no posts: add [[plan.posts]] entries or a schedule file",
                                where="[plan]")
        missing = sorted({it.kol_id for it in items} - set(pool.ids))
        if missing:
            shown = ", ".join(_show(m) for m in missing[:5]) + (" …" if len(missing) > 5 else "")
            close = (difflib.get_close_matches(missing[0], pool.ids, n=1, cutoff=0.8)
                     if len(pool.ids) <= 100_000 else [])
            hint = f" Did you mean {_show(close[0])}?" if close else ""
            named = f" {pool.source}" if getattr(pool, "source", None) else ""
            raise ScenarioError(f"names creators that are not in the pool{named}: {shown}.{hint}",
                                where=f"[{label}] kol_id")
        seen: set[tuple[str, int]] = set()
        for it in items:
            if (it.kol_id, it.week) in seen:
                raise ScenarioError(f"lists creator {_show(it.kol_id)} in week {it.week} twice; "
                                    "give one entry with the total posts", where=f"[{label}]")
            seen.add((it.kol_id, it.week))
        banned = sorted({pool.category_of(it.kol_id) for it in items} & BANNED_CATEGORIES)
        if banned:
            raise ScenarioError(f"includes creators in banned categories {banned} (law, [S3])",
                                where=f"[{label}]")
        plan = Plan(pool=pool, items=items)
        pt.finish()

    ot = top.table("optimize")
    optimize = _parse_optimize(ot, campaign) if ot is not None else None

    if not waves and plan is None and optimize is None:
        raise ScenarioError("has no posts: add at least one [[waves]] table or a [plan] "
                            "(or an [optimize] table, to choose them)")
    for i, w in enumerate(waves):
        if w.commission > 0 and campaign.price is None:
            raise ScenarioError(f"is {w.commission:g}, a share of revenue, but [campaign] has no price; "
                                "give [campaign] price so commissions can be paid",
                                where=f"[[waves]] #{i + 1} commission")

    st = top.table("simulation")
    sim = Simulation()
    if st is not None:
        sim = Simulation(
            # a standard error needs two replications
            runs=st.number("runs", sim.runs, lo=2, hi=MAX_RUNS, integer=True),
            seed=st.number("seed", sim.seed, lo=0, hi=2**63 - 1, integer=True),
            target_half_width=st.number("target_half_width", None, lo=0, hi=1, lo_open=True,
                                        hi_open=True),
        )
        st.finish()

    ops_t = top.table("operations")
    ops = _parse_operations(ops_t) if ops_t is not None else Operations()
    ads_t = top.table("ads")
    ads = _parse_ads(ads_t) if ads_t is not None else Ads()

    vt = top.table("vetting")
    vet = Vetting()
    if vt is not None:
        vals: dict[str, Any] = {"enabled": vt.boolean("enabled", True)}
        for f in fields(Vetting):
            if f.name == "enabled":
                continue
            hi = 1.0 if "share" in f.name or "rate" in f.name or "ratio" in f.name else MAX_PEOPLE
            vals[f.name] = float(vt.number(f.name, getattr(vet, f.name), lo=0, hi=hi))
        vet = Vetting(**vals)
        vt.finish()

    # Every segment a post lands in needs a size.
    used = {w.segment or w.category or campaign.category for w in waves}
    if plan is not None:
        used |= {plan.pool.segment_of(it.kol_id) for it in plan.items}
    sizes = dict(segments)
    for seg in sorted(used - set(segments)):
        if default_size is None:
            raise ScenarioError(
                f"segment {_show(seg)} receives posts but has no size; add it to [audience.segments] "
                f"(people in the segment) or set [audience] default_size", where="[audience] segments")
        sizes[seg] = default_size

    top.finish()
    return Scenario(
        campaign=campaign, tiers=tiers, segments=sizes, decay=decay, word_of_mouth=wom,
        waves=waves, plan=plan, simulation=sim, operations=ops, ads=ads,
        operations_given=ops_t is not None or ads_t is not None, vetting=vet, optimize=optimize,
        default_segment_size=default_size, schema_version=version,
        source=source, notices=tuple(notices))
