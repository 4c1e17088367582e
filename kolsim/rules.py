"""The rules of the law, the platform and the contract, each in one place.

Everything that more than one part of kolsim applies lives here: the
categories the law bans, the platform's cadence rule (which share of a
creator's notes may be sponsored, counted in any 28 days), how a week's notes
are spread over its days (the simulator publishes on those days, the
optimizer values notes on them and the verifier checks the cadence rule on
them), and the deal types with what each implies for payment and delivery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .defaults import SPONSORED_SHARE, UPFRONT_SHARE
from .text import name_key

__all__ = ["BANNED_CATEGORIES", "is_banned", "CADENCE_WINDOW_DAYS", "WINDOW_WEEKS", "cadence_cap",
           "max_in_window", "spread_days", "week_days", "WEEK_DAY", "Deal", "DEALS", "DEAL_TYPES", "SPONSORED_SHARE"]

#: Categories that may not be promoted by creators [S3 #17], in normalised form.
BANNED_CATEGORIES: frozenset[str] = frozenset({"tobacco", "alcohol", "banned_cosmetic_surgery_drugs"})


def is_banned(category: str) -> bool:
    """Whether the law bans promoting ``category`` through creators, however it is typed.

    Examples
    --------
    >>> is_banned(" Alcohol\\u00a0"), is_banned("ｔｏｂａｃｃｏ"), is_banned("beauty")
    (True, True, False)
    """
    return name_key(category) in BANNED_CATEGORIES


#: The platform counts sponsored notes in any window of this many days [S3 #13].
CADENCE_WINDOW_DAYS = 28
#: The same window in whole weeks, as the optimizer plans.
WINDOW_WEEKS = CADENCE_WINDOW_DAYS // 7


def cadence_cap(monthly_posts, share: float = SPONSORED_SHARE):
    """Sponsored notes a creator may publish in any 28 days: floor(share x monthly posts) [S3 #13].

    Works on numbers and arrays alike.

    Examples
    --------
    >>> int(cadence_cap(12)), cadence_cap(np.array([4.0, 5.0, 14.0])).tolist()
    (2, [0, 1, 2])
    """
    cap = np.floor(share * np.asarray(monthly_posts, float) + 1e-9).astype(np.int64)
    return cap if cap.ndim else int(cap)


def max_in_window(days, window: int = CADENCE_WINDOW_DAYS) -> int:
    """The most notes on any ``window`` consecutive days.

    Examples
    --------
    >>> max_in_window([0, 7, 14, 21, 28, 35])
    4
    """
    d = np.sort(np.asarray(days))
    if d.size == 0:
        return 0
    # for each note, how many notes fall in [day, day + window)
    return int((np.searchsorted(d, d + window, side="left") - np.arange(d.size)).max())


def spread_days(start: int, width: int, count: int) -> np.ndarray:
    """Days of ``count`` notes spread evenly over ``width`` days from ``start``.

    Examples
    --------
    >>> spread_days(7, 7, 3).tolist()
    [7, 9, 11]
    """
    return start + (np.arange(count) * width) // count


#: The day of its week on which a plan's notes are published (0-based: the week's middle day).
WEEK_DAY = 3


def week_days(week: int, posts: int, horizon: int) -> np.ndarray:
    """Days of ``posts`` notes in ``week`` (1-based), within a horizon of ``horizon`` days.

    A plan is a weekly schedule: all of a week's notes are published on its
    middle day (:data:`WEEK_DAY`, or the last day of a week the horizon cuts
    short), so the optimizer values each note on the very day the engines
    publish it, and any 28 days hold the notes of exactly four weeks (the
    platform's rule on weeks is the rule on days).

    Examples
    --------
    >>> week_days(1, 1, 90).tolist(), week_days(2, 3, 90).tolist(), week_days(2, 1, 9).tolist()
    ([3], [10, 10, 10], [8])
    """
    start = 7 * (week - 1)
    return np.full(posts, start + min(WEEK_DAY, horizon - start - 1), dtype=np.int64)


@dataclass(frozen=True)
class Deal:
    """What a deal type means for payment and delivery [S2 #29, #31, #35]."""

    name: str
    upfront: float      # share of a note's price paid at contract, whether or not it is delivered
    per_creator: bool   # delivery is decided once per creator (all of its notes or none)
    paid_delivery: bool  # delivered with the tier's p_post_paid (else its p_post_gifted)
    priced: bool        # a note has a market price: the tier's cost_per_post by default, and
    #                     vetting's too-cheap flag applies


#: The deal types, by name.
DEALS: dict[str, Deal] = {
    "paid": Deal("paid", UPFRONT_SHARE, per_creator=False, paid_delivery=True, priced=True),
    "gifted": Deal("gifted", 1.0, per_creator=True, paid_delivery=False, priced=False),  # gifts ship first
    "ambassador": Deal("ambassador", UPFRONT_SHARE, per_creator=False, paid_delivery=True, priced=False),
    "affiliate": Deal("affiliate", 0.0, per_creator=True, paid_delivery=False, priced=False),  # paid per sale
}
DEAL_TYPES: tuple[str, ...] = tuple(DEALS)
