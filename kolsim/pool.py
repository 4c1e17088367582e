"""Candidate pools: one row per creator, validated, vetted, or generated.

A pool is columnar (a pandas DataFrame) so that pools of tens of thousands of
creators stay cheap.  Required columns are ``kol_id, tier, category,
followers, cost_per_post``; the optional ones in :data:`OPTIONAL_COLUMNS` fall
back to tier defaults when missing or blank.  Columns kolsim does not use are
kept as they are (and named in ``Pool.notices``), never dropped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .defaults import CATEGORIES, FRAUD_PREVALENCE, TIER_DEFAULTS, TIER_FOLLOWER_RANGE, TIERS, cost_curve
from .errors import PoolError
from .rules import BANNED_CATEGORIES, DEAL_TYPES, DEALS
from .scenario import MAX_MONEY, MAX_PEOPLE, Tier, Vetting
from .text import has_control, name_key, printable as _printable

__all__ = ["Pool", "VetReport", "FLAGS", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "TEXT_COLUMNS", "vet",
           "generate_pool"]

REQUIRED_COLUMNS: tuple[str, ...] = ("kol_id", "tier", "category", "followers", "cost_per_post")

#: Optional numeric columns: name -> (low, high, meaning).
OPTIONAL_COLUMNS: dict[str, tuple[float, float, str]] = {
    "engagement_rate": (0.0, 1.0, "interactions per follower per note"),
    "reads_per_note": (0.0, MAX_PEOPLE, "the planner's expected reads per note"),
    "expected_conversions": (0.0, MAX_PEOPLE, "the planner's expected conversions per note"),
    "monthly_posts": (0.0, 1000.0, "organic notes per month"),
    "fake_share": (0.0, 1.0, "share of fake followers"),
    "hiring_fee": (0.0, MAX_MONEY, "one-off fee in RMB if hired"),
    "interaction_rate": (0.0, 1.0, "interactions per read"),
    "ctr": (0.0, 1.0, "P(click | read)"),
    "cvr": (0.0, 1.0, "P(purchase | click)"),
    "post_probability": (0.0, 1.0, "P(the creator delivers a post)"),
    "max_daily_follower_gain": (0.0, MAX_PEOPLE, "largest one-day follower jump"),
    "wrong_gender_share": (0.0, 1.0, "audience share of the gender the category does not target"),
    "max_weekly_posts": (0.0, 10_000.0, "most notes in one week"),
    "likes_collects_total": (0.0, 1e13, "profile likes + collects"),
    "like_read_ratio": (0.0, 1.0, "likes per read on recent notes"),
    "relevance": (0.0, 1.0, "the audience's relevance to the product (overrides the category matrix)"),
    "follower_share": (0.0, 1.0, "share of a note's reads served to the creator's own followers"),
    "min_posts": (1.0, 1000.0, "notes the creator publishes at least if hired (a whole number; overrides "
                  "the tier's and [optimize] min_posts_if_hired)"),
}
#: Optional columns that hold whole numbers.
WHOLE_COLUMNS = frozenset({"min_posts"})


def _show(v) -> str:
    """``repr(v)`` for a message, cut short (a cell may hold a whole paragraph)."""
    try:
        text = repr(v)
    except (ValueError, RecursionError):  # an integer too long to print, and the like
        text = f"<{type(v).__name__}>"
    return _printable(text, 60)


@dataclass(frozen=True, eq=False)
class Pool:
    """A validated candidate pool.

    Build one with :meth:`from_frame` (or :func:`kolsim.load_pool` from a file),
    which checks every cell.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per creator; numeric optional columns hold NaN where blank;
        tiers, categories, segments and deal types in their normalised form
        (:func:`kolsim.text.name_key`).
    source : str or None
        The file it came from.
    notices : tuple of str
        Things worth telling the user (columns kept but unused, ...).
    places : tuple of str
        Where each row stands in its file ("line 14", "sheet row 14"), for messages.
    """

    frame: pd.DataFrame
    source: str | None = None
    notices: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    _index: Mapping[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        missing = [c for c in _COLUMNS if c not in self.frame.columns]
        if missing:
            raise PoolError(f"a pool's frame lacks column(s) {', '.join(missing)}; build pools with "
                            "Pool.from_frame, which checks and completes a raw table", file=self.source)
        if not self.places:
            object.__setattr__(self, "places", tuple(f"line {i + 2}" for i in range(len(self.frame))))
        if not self._index:
            object.__setattr__(self, "_index", {k: i for i, k in enumerate(self.frame["kol_id"])})

    def __len__(self) -> int:
        return len(self.frame)

    def __contains__(self, kol_id) -> bool:
        return kol_id in self._index

    def __repr__(self) -> str:
        counts = self.frame["tier"].value_counts()
        tiers = ", ".join(f"{t} {int(counts[t])}" for t in TIERS if t in counts)
        return f"Pool({len(self):,} creators: {tiers}{'; from ' + self.source if self.source else ''})"

    @property
    def ids(self) -> list[str]:
        return list(self.frame["kol_id"])

    def positions(self, kol_ids) -> list[int]:
        """Row positions of the given creators."""
        return [self._index[k] for k in kol_ids]

    def row(self, kol_id: str) -> pd.Series:
        return self.frame.iloc[self._index[kol_id]]

    def row_label(self, i: int) -> str:
        """Row ``i`` (0-based) for a message: ``row 14 (line 15) (kol_id=xhs_0931)``."""
        return _label(i, self.places[i] if i < len(self.places) else f"line {i + 2}",
                      self.frame["kol_id"].iat[i])

    def category_of(self, kol_id: str) -> str:
        return str(self.frame["category"].iat[self._index[kol_id]])

    def segments(self) -> np.ndarray:
        """Every creator's audience segment: its ``segment`` column, else its category."""
        seg = self.frame["segment"].to_numpy(object)
        cat = self.frame["category"].to_numpy(object)
        has = np.array([isinstance(v, str) and bool(v) for v in seg], dtype=bool)
        return np.where(has, seg, cat)

    def segment_of(self, kol_id: str) -> str:
        seg = self.frame["segment"].iat[self._index[kol_id]]
        return str(seg) if isinstance(seg, str) and seg else self.category_of(kol_id)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, source: str | None = None, *, places=None,
                   notices: tuple[str, ...] = ()) -> "Pool":
        """Validate a raw table (all cells as read) and return a pool.

        Every cell is checked, and every bad one reported: the error names the
        first, and carries the rest (``PoolError.lines()``).

        Parameters
        ----------
        df : pandas.DataFrame
            The table as read (cells as text, or as a workbook holds them).
        source : str, optional
            The file, for messages.
        places : sequence of str, optional
            Where each row stands in the file ("line 14"); by default the line
            of a CSV file with one header line.
        notices : tuple of str
            What the reader noticed about the file, kept with the pool.

        Raises
        ------
        PoolError
            Naming the row, the column, the value and what is allowed.
        """
        df = df.copy()
        header = [str(c).strip() for c in df.columns]
        dupes = [c for c in dict.fromkeys(header) if header.count(c) > 1]
        if dupes:
            at = [i + 1 for i, c in enumerate(header) if c == dupes[0]]
            raise PoolError(f"column {dupes[0]!r} appears more than once in the header (columns "
                            f"{', '.join(map(str, at[:-1]))} and {at[-1]}); each column needs a name of its own",
                            file=source)
        df.columns = header
        missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
        if missing:
            raise PoolError(
                f"missing required column(s) {', '.join(missing)}; a pool needs "
                f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(map(str, df.columns)) or 'none'})",
                file=source)
        if len(df) == 0:
            raise PoolError("the pool has no creators (no data rows under the header)", file=source)
        places = tuple(places) if places is not None else tuple(f"line {i + 2}" for i in range(len(df)))
        problems: list[tuple[int, str]] = []  # (row, what is wrong), reported row by row
        ids_raw = df["kol_id"].tolist()

        def where(i: int) -> int:
            return i

        out = pd.DataFrame(index=range(len(df)))
        # kol_id: non-empty text, unique even across Unicode normal forms.
        ids = []
        seen: dict[str, int] = {}
        for i, v in enumerate(ids_raw):
            s = "" if _blank(v) else str(v).strip()
            ids.append(s)
            if not s:
                problems.append((where(i), "kol_id is empty; every creator needs an id"))
                continue
            if has_control(s):
                problems.append((where(i), f"kol_id {_show(s)} holds a control character (a line break, "
                                           "tab, ...); ids may hold letters, digits, emoji and punctuation"))
                continue
            key = unicodedata.normalize("NFC", s)
            if key in seen:
                j = seen[key]
                twin = "" if ids[j] == s else " (the same name in a different Unicode form)"
                problems.append((where(i), f"duplicate kol_id {_show(s)}{twin}, first on row {j + 1} "
                                           f"({places[j]}); kol_id must be unique"))
                continue
            seen[key] = i
        out["kol_id"] = ids

        out["tier"] = _names(df, "tier", where, problems, choices=TIERS, required=True)
        out["category"] = _names(df, "category", where, problems, required=True)
        out["followers"] = _numeric(df, "followers", 1, MAX_PEOPLE, where, problems, required=True)
        out["cost_per_post"] = _numeric(df, "cost_per_post", 0, MAX_MONEY, where, problems, required=True)
        for col, (lo, hi, _) in OPTIONAL_COLUMNS.items():
            out[col] = _numeric(df, col, lo, hi, where, problems) if col in df.columns else np.nan
        out["segment"] = pd.Series(_names(df, "segment", where, problems), dtype=object)
        out["deal_type"] = pd.Series(_names(df, "deal_type", where, problems, choices=DEAL_TYPES), dtype=object)
        if problems:
            problems.sort(key=lambda p: p[0])  # stable: a row's problems in column order
            raise PoolError.of([(_label(i, places[i], ids_raw[i]), text) for i, text in problems], file=source)

        extra = [c for c in df.columns if c not in out.columns]
        for c in extra:
            out[c] = df[c].values
        notices = tuple(notices)
        if extra:
            notices += (f"{source or 'pool'}: columns kept but not used by the model: {', '.join(extra)}",)
        return cls(frame=out, source=source, notices=notices, places=places)


#: The columns of a validated pool's frame, in order.
TEXT_COLUMNS: tuple[str, ...] = ("segment", "deal_type")
_COLUMNS = REQUIRED_COLUMNS + tuple(OPTIONAL_COLUMNS) + TEXT_COLUMNS


def _label(i: int, place: str, kol) -> str:
    label = f"row {i + 1} ({place})"
    if isinstance(kol, str) and kol.strip():
        return f"{label} (kol_id={_printable(kol.strip(), 60)})"
    return label


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _names(df: pd.DataFrame, col: str, where, problems: list, *, choices=None, required=False) -> list:
    """A text column of names (tiers, categories, segments, deal types), normalised; None where blank."""
    if col not in df.columns:
        return [None] * len(df)
    vals = []
    for i, v in enumerate(df[col]):
        s = None if _blank(v) else name_key(str(v))
        if s is None or not s:
            if required:
                problems.append((where(i), f"{col} is empty; it is required"))
            vals.append(None)
            continue
        if has_control(s):
            problems.append((where(i), f"{col} {_show(v)} holds a control character (a line break, tab, ...)"))
        elif choices is not None and s not in choices:
            problems.append((where(i), f"{col} {_show(v)} is not allowed; allowed: {', '.join(choices)}"))
        vals.append(s)
    return vals


def _numeric(df: pd.DataFrame, col: str, lo: float, hi: float, where, problems: list,
             required: bool = False) -> np.ndarray:
    values = np.full(len(df), np.nan)
    for i, v in enumerate(df[col]):
        if _blank(v):
            if required:
                problems.append((where(i), f"{col} is empty; it is required"))
            continue
        if isinstance(v, bool):
            x = None
        elif isinstance(v, (int, float, np.integer, np.floating)):
            try:
                x = float(v)
            except OverflowError:  # an int beyond float range
                x = float("inf")
        else:
            try:
                x = float(str(v).strip().replace("_", "x"))
            except (ValueError, OverflowError):
                x = None
        if x is None or not np.isfinite(x):
            problems.append((where(i), f"{col} must be a finite number from {lo:g} to {hi:g} (got {_show(v)})"))
        elif not lo <= x <= hi or (col == "followers" and x < 1):
            problems.append((where(i), f"{col} must be from {lo:g} to {hi:g} (got {_show(v)})"))
        elif col in WHOLE_COLUMNS and x != int(x):
            problems.append((where(i), f"{col} must be a whole number from {lo:g} to {hi:g} (got {_show(v)})"))
        else:
            values[i] = x
    return values


# --------------------------------------------------------------------------- #
# Vetting
# --------------------------------------------------------------------------- #
#: Vetting's flags, by code: what each means (the message of each says by how much).
FLAGS: dict[str, str] = {
    "banned_category": "the law bans promoting its category (not overridable)",
    "low_engagement": "engagement rate under the floor",
    "fake_followers": "too many fake followers",
    "follower_spike": "a one-day follower jump",
    "wrong_gender": "audience of the wrong gender for the category",
    "posting_burst": "a burst of notes in one week",
    "too_cheap": "price far under the tier's median",
    "few_likes": "profile likes and collects under the followers",
    "like_read_ratio": "likes per read outside the plausible range",
}


@dataclass(frozen=True)
class VetReport:
    """The outcome of vetting: who is kept, who is excluded and why.

    ``excluded`` has columns kol_id, tier, reasons (in words) and codes (the
    :data:`FLAGS` that fired, ``;``-separated).
    """

    kept: tuple[str, ...]
    excluded: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.excluded.copy()


def vet(pool: Pool, tiers: Mapping[str, Tier] | None = None, rules: Vetting | None = None) -> VetReport:
    """Apply the red flags of the sources to a pool [S2 #42, E10–E12].

    A creator is excluded when any rule fires; every reason is kept.  Rules
    whose column is blank for a creator do not fire for that creator.
    ``tiers`` (the calibrated ones when not given) supply each tier's typical
    engagement and price.

    Examples
    --------
    >>> import pandas as pd
    >>> from kolsim.scenario import parse_scenario
    >>> df = pd.DataFrame({"kol_id": ["a", "b"], "tier": ["top", "micro"],
    ...                    "category": ["beauty", "tobacco"], "followers": [2_000_000, 30000],
    ...                    "cost_per_post": [90000, 3000], "engagement_rate": [0.002, 0.05]})
    >>> from kolsim.defaults import TIER_DEFAULTS
    >>> from kolsim.scenario import Tier
    >>> tiers = {c: Tier(code=c, **TIER_DEFAULTS[c]) for c in TIER_DEFAULTS}
    >>> report = vet(Pool.from_frame(df), tiers)
    >>> list(report.excluded["reasons"])
    ['engagement rate 0.20% is under 0.25%', 'category tobacco is banned']
    """
    rules = rules or Vetting()
    tiers = tiers or {c: Tier.default(c) for c in TIERS}
    f = pool.frame
    tier_arr = f["tier"].to_numpy(object)
    ids = f["kol_id"].to_numpy(object)
    reasons: list[list[tuple[str, str]]] = [[] for _ in range(len(f))]

    def flag(code, mask, text_of):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            reasons[i].append((code, text_of(i)))

    cats = f["category"].to_numpy(object)
    flag("banned_category", np.isin(cats, list(BANNED_CATEGORIES)), lambda i: f"category {cats[i]} is banned")
    if rules.enabled:
        # [S2]'s 2 % line, but never above a share of the tier's typical ER:
        # with the calibrated tier means (top 0.5 %) a flat 2 % would exclude
        # most large creators (docs/model.md, vetting)
        er = f["engagement_rate"].to_numpy(float)
        tier_er = _per_tier(tier_arr, {t: tiers[t].engagement_rate for t in tiers})
        floor = np.minimum(rules.min_engagement_rate, rules.engagement_floor_share * tier_er)
        flag("low_engagement", er < floor, lambda i: f"engagement rate {er[i]:.2%} is under {floor[i]:.2%}")
        fake = f["fake_share"].to_numpy(float)
        flag("fake_followers", fake >= rules.max_fake_share,
             lambda i: f"fake followers {fake[i]:.0%} is at or over {rules.max_fake_share:.0%}")
        jump = f["max_daily_follower_gain"].to_numpy(float)
        fol = f["followers"].to_numpy(float)
        # a spike is 10K in a day [S2] that is also a real share of the account
        flag("follower_spike", (jump >= rules.max_daily_follower_gain) & (jump >= rules.min_follower_jump_share * fol),
             lambda i: f"gained {jump[i]:,.0f} followers in one day (limit {rules.max_daily_follower_gain:,.0f})")
        wrong = f["wrong_gender_share"].to_numpy(float)
        flag("wrong_gender", wrong > rules.max_wrong_gender_share,
             lambda i: f"{wrong[i]:.0%} of the audience is the wrong gender for the category")
        burst = f["max_weekly_posts"].to_numpy(float)
        flag("posting_burst", burst >= rules.max_weekly_posts,
             lambda i: f"posted {burst[i]:.0f} notes in one week (burst limit {rules.max_weekly_posts:.0f})")
        median = _per_tier(tier_arr, {t: tiers[t].cost_per_post for t in tiers})
        price = f["cost_per_post"].to_numpy(float)
        deal = f["deal_type"].fillna("paid").to_numpy(object)
        priced = np.isin(deal, [d.name for d in DEALS.values() if d.priced])
        cheap = (price < rules.min_price_share_of_tier * median) & priced
        flag("too_cheap", cheap, lambda i: f"price ¥{price[i]:,.0f} is under {rules.min_price_share_of_tier:.0%} "
                              f"of the {tier_arr[i]} median ¥{median[i]:,.0f}")
        likes = f["likes_collects_total"].to_numpy(float)
        flag("few_likes", likes < rules.min_likes_per_follower * fol,
             lambda i: f"profile likes+collects {likes[i]:,.0f} are under "
                       f"{rules.min_likes_per_follower:g}x followers")
        lr = f["like_read_ratio"].to_numpy(float)
        flag("like_read_ratio", (lr < rules.min_like_read_ratio) | (lr > rules.max_like_read_ratio),
             lambda i: f"likes per read {lr[i]:.1%} is outside "
                       f"{rules.min_like_read_ratio:.0%}–{rules.max_like_read_ratio:.0%}")
    bad = [i for i, r in enumerate(reasons) if r]
    excluded = pd.DataFrame({
        "kol_id": ids[bad].tolist() if bad else [],
        "tier": tier_arr[bad].tolist() if bad else [],
        "reasons": ["; ".join(text for _, text in reasons[i]) for i in bad],
        "codes": [";".join(code for code, _ in reasons[i]) for i in bad],
    })
    kept = tuple(ids[i] for i in range(len(f)) if not reasons[i])
    return VetReport(kept=kept, excluded=excluded)


def _per_tier(tier_codes: np.ndarray, values: Mapping[str, float]) -> np.ndarray:
    """values[tier] for each creator, vectorised over the tier codes."""
    out = np.empty(len(tier_codes))
    for t, v in values.items():
        out[tier_codes == t] = v
    return out


# --------------------------------------------------------------------------- #
# Synthetic pools
# --------------------------------------------------------------------------- #
#: Share of each tier in a synthetic pool (a long tail, as marketplaces list) [A; E5].
POOL_TIER_MIX: dict[str, float] = {"koc": 0.40, "micro": 0.35, "mid": 0.16, "top": 0.08,
                                   "celebrity": 0.01}


def generate_pool(size: int, rng: np.random.Generator, *,
                  categories: tuple[str, ...] = CATEGORIES,
                  tiers: Mapping[str, Tier] | None = None) -> Pool:
    """A synthetic candidate pool calibrated to ``calibration.md``.

    Followers are log-uniform within the tier's range; engagement is gamma
    distributed around the tier mean with the tier's spread across creators;
    prices follow ``cost_curve`` with a lognormal spread (sigma 0.4) and an
    engagement premium ``(ER / tier ER) ** 0.5``; a tier-dependent share of
    creators has 30–60 % fake followers (and lower engagement); about 3 % show a
    follower jump and 2 % a posting burst, so vetting has work to do.

    Parameters
    ----------
    size : int
        Number of creators (at least 1).
    rng : numpy.random.Generator
        The only source of randomness.
    """
    if size < 1:
        raise PoolError(f"must be at least 1 (got {size})", where="size")
    tiers = tiers or {c: Tier(code=c, **TIER_DEFAULTS[c]) for c in TIERS}
    codes = np.array(TIERS)
    probs = np.array([POOL_TIER_MIX[c] for c in TIERS])
    tier = codes[rng.choice(len(codes), size=size, p=probs)]
    lo = np.array([TIER_FOLLOWER_RANGE[t][0] for t in tier], float)
    hi = np.array([TIER_FOLLOWER_RANGE[t][1] for t in tier], float)
    followers = np.floor(np.exp(rng.uniform(np.log(lo), np.log(hi)))).astype(np.int64)

    mean_er = np.array([tiers[t].engagement_rate for t in tier])
    sd_er = np.array([tiers[t].engagement_sd for t in tier])
    shape = (mean_er / sd_er) ** 2
    er = rng.gamma(shape, mean_er / shape)
    # a share of each tier is fraudulent (30-60 % fake); the rest sit under 30 %
    # with a mean chosen so that the tier's overall mean fake share is kept
    prevalence = np.array([FRAUD_PREVALENCE[t] for t in tier])
    fraud = rng.random(size) < prevalence
    tier_fake = np.array([tiers[t].fake_share for t in tier])
    honest_mean = np.clip((tier_fake - prevalence * 0.45) / (1 - prevalence), 0.01, 0.29)
    fake = np.where(fraud, rng.uniform(0.30, 0.60, size),
                    0.30 * rng.beta(2, 2 * (0.30 / honest_mean - 1)))
    er = np.where(fraud, er * (1 - fake), er)
    price = cost_curve(followers) * np.exp(rng.normal(-0.08, 0.4, size)) * np.sqrt(er / mean_er)
    price = np.round(price, -1).clip(50)
    monthly = np.maximum(1, rng.poisson([tiers[t].monthly_posts for t in tier]))
    jump = np.where(rng.random(size) < 0.03, rng.integers(10_000, 50_000, size),
                    np.round(followers * rng.uniform(0.0, 0.01, size)))
    burst = np.where(rng.random(size) < 0.02, rng.integers(50, 80, size),
                     np.ceil(monthly / 4 * rng.uniform(1, 2, size)))
    category = np.array(categories)[rng.integers(0, len(categories), size)]
    width = len(str(size))
    df = pd.DataFrame({
        "kol_id": [f"xhs_{i + 1:0{max(4, width)}d}" for i in range(size)],
        "tier": tier,
        "category": category,
        "followers": followers,
        "cost_per_post": price,
        "engagement_rate": np.round(er, 4),
        "monthly_posts": monthly,
        "fake_share": np.round(fake, 3),
        "max_daily_follower_gain": jump.astype(np.int64),
        "max_weekly_posts": burst.astype(np.int64),
    })
    return Pool.from_frame(df, source=None)
