"""The planner's rules as named families: one list, read by every part of the optimizer.

The formulation writes each family's rows (or bounds) under its name, the
verifier names the family a plan breaks, the diagnosis relaxes families one
line at a time, the large-pool method prices the families that tie creators
together (``coupling``), and an exported model's rows carry the family's code
and the category or tier it is about, so that the file reads like policy.
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = ["Family", "row_name"]


class Family(Enum):
    """A family of the planner's rules: (code, words, unit, coupling, has rows).

    ``coupling`` families tie creators together (a budget, a share, a count);
    the others hold creator by creator (the platform's rule, the minimum notes)
    or are bounds on single columns (a tier's weeks, a must-include).
    """

    BUDGET = ("budget", "budget", "RMB", True, True)
    WEEK_BUDGET = ("week_budget", "budget of weeks", "RMB", True, True)
    BRAND_CADENCE = ("brand_cadence", "brand cadence", "notes", True, True)
    CATEGORY_MAX = ("category_max", "category share (most)", "RMB", True, True)
    CATEGORY_MIN = ("category_min", "category share (least)", "RMB", True, True)
    TIER_MIN = ("tier_min", "tier count (least)", "creators", True, True)
    TIER_MAX = ("tier_max", "tier count (most)", "creators", True, True)
    TIER_SHARE_MAX = ("tier_share_max", "tier share (most)", "RMB", True, True)
    TIER_SHARE_MIN = ("tier_share_min", "tier share (least)", "RMB", True, True)
    MIN_POSTS = ("min_posts", "minimum notes", "notes", False, True)
    CADENCE = ("cadence", "platform rule", "notes", False, True)
    SATURATION = ("saturation", "saturation", "", True, True)
    OWN_FOLLOWERS = ("own_followers", "saturation of own followers", "", False, True)
    SYMMETRY = ("symmetry", "symmetry", "", False, True)
    RISK = ("risk", "risk over scenarios", "", False, True)  # the risk-aware rows (optimize/risk.py)
    TIER_WEEKS = ("tier_weeks", "tier weeks", "", False, False)
    MUST_INCLUDE = ("must_include", "must include", "", False, False)

    def __init__(self, code: str, words: str, unit: str, coupling: bool, rows: bool):
        self.code = code
        self.words = words
        self.unit = unit
        self.coupling = coupling
        self.rows = rows

    @classmethod
    def of(cls, code: str) -> "Family":
        """The family with this code."""
        for f in cls:
            if f.code == code:
                return f
        raise KeyError(code)


def row_name(family: Family, key: str, row: int) -> str:
    """An exported model's name for row ``row`` of ``family`` about ``key`` (a category or
    tier; ASCII letters, digits and ``_`` only, as every LP reader takes)."""
    safe = re.sub(r"\W", "_", key, flags=re.ASCII).strip("_")
    return f"{family.code}_{safe}_{row}" if safe else f"{family.code}_{row}"
