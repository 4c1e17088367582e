"""Reading one TOML table: which keys it may hold, which it must, and what was misspelt.

A :class:`Table` hands the values it holds to a value object (:meth:`Table.build`),
which checks them; what is left for the table to say is structural: a key it
does not know (with "did you mean" or the table it belongs in), a required key
that is missing (blaming a misspelling of it when there is one), a table where
a value was expected.
"""

from __future__ import annotations

import difflib
from dataclasses import MISSING, fields
from typing import Any

from ..errors import ScenarioError
from ..text import kind, show
from .checks import did_you_mean
from .values import (Ads, Campaign, Decay, Operations, Optimize, Response, ShareBounds, Uncertainty, Funnel, Simulation, Tier, TierRule,
                     Vetting, Wave, WeekBudget, WordOfMouth, _relabel)

__all__ = ["Table", "TABLE_KEYS"]


def _keys(cls, skip=()) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.init and f.name not in skip)


#: The keys each table may hold (table "" is the top level).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "": ("schema_version", "campaign", "tiers", "audience", "response", "uncertainty", "funnel", "decay", "word_of_mouth",
         "waves", "plan", "simulation", "operations", "ads", "vetting", "optimize"),
    "optimize": _keys(Optimize),
    "optimize.tiers": _keys(TierRule),
    "optimize.category_share": _keys(ShareBounds),
    "optimize.budget_by_weeks": _keys(WeekBudget),
    "campaign": _keys(Campaign),
    "audience": ("segments", "default_size"),
    "decay": _keys(Decay),
    "response": _keys(Response),
    "uncertainty": _keys(Uncertainty),
    "funnel": _keys(Funnel),
    "word_of_mouth": _keys(WordOfMouth),
    "waves": _keys(Wave),
    "plan": ("pool", "schedule", "posts"),
    "plan.posts": ("kol_id", "week", "posts"),
    "simulation": _keys(Simulation),
    "operations": _keys(Operations),
    "ads": _keys(Ads),
    "vetting": _keys(Vetting),
    "tiers": _keys(Tier, skip=("code",)),
}


class Table:
    """One TOML table: its data, its label for messages (``waves #2``) and its schema
    (the key of :data:`TABLE_KEYS` that lists what it may hold)."""

    def __init__(self, data: Any, label: str, schema: str):
        if not isinstance(data, dict):
            raise ScenarioError(f"must be a table (got {kind(data)})", where=f"[{label}]")
        self.data = data
        self.label = label
        self.schema = schema
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"[{self.label}] {key}" if self.label else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.data.get(key, default)

    def table(self, key: str, schema: str | None = None) -> "Table | None":
        self.used.add(key)
        if key not in self.data:
            return None
        label = f"{self.label}.{key}" if self.label else key
        return Table(self.data[key], label, schema or key)

    def build(self, cls, **given):
        """``cls(**values)``: the table's values for ``cls``'s fields (those in ``given`` come
        from the caller), checked by ``cls`` and reported at this table's place.  A required
        field the table lacks is reported as missing; keys it holds that nobody reads are
        reported by :meth:`finish`."""
        values = dict(given)
        for f in fields(cls):
            if not f.init or f.name in values:
                continue
            if f.name in self.data:
                values[f.name] = self.raw(f.name)
            elif f.default is MISSING and f.default_factory is MISSING:
                raise self.missing(f.name)
        self.finish()
        try:
            return cls(**values)
        except ScenarioError as e:
            raise _relabel(e, cls.TABLE, self.label) from None

    def unknown(self, key: str) -> ScenarioError:
        known = TABLE_KEYS.get(self.schema, ())
        hint = did_you_mean(key, known)
        if not hint:
            homes = [t for t, keys in TABLE_KEYS.items() if key in keys and t != self.schema]
            if homes:
                hint = " It belongs in " + " or ".join(f"[{h}]" if h else "the top level" for h in homes) + "."
        place = f"in [{self.label}]" if self.label else "at the top level"
        return ScenarioError(f"unknown key {show(key)} {place}.{hint} Allowed: {', '.join(known)}",
                             where=self.where(key if len(key) <= 60 else key[:59] + "…"))

    def missing(self, key: str) -> ScenarioError:
        """A required key is absent: blame a misspelling of it when there is one."""
        known = set(TABLE_KEYS.get(self.schema, ()))
        strays = [k for k in self.data if isinstance(k, str) and k not in known]
        close = difflib.get_close_matches(key, strays, n=1, cutoff=0.6)
        return self.unknown(close[0]) if close else ScenarioError("is required", where=self.where(key))

    def finish(self) -> None:
        """Reject keys nobody read, suggesting the intended one."""
        for key in self.data:
            if key not in self.used:
                raise self.unknown(key)
