"""The scenario: frozen value objects for every concept, each checking itself.

- :mod:`.values`: the dataclasses (``Campaign``, ``Tier``, ``Wave``, ``Plan``,
  ``Optimize``, ``Scenario`` …), each validating its fields in ``__post_init__``;
- :mod:`.checks`: the rules of single values those fields declare;
- :mod:`.table`: reading one TOML table (unknown and missing keys);
- :mod:`.parse`: :func:`parse_scenario`, a TOML document to a ``Scenario``.

Nothing here touches files; :mod:`kolsim.io` reads TOML and CSV and hands the
parsed data to :func:`parse_scenario`.
"""

from .parse import parse_scenario
from .table import TABLE_KEYS
from .values import (MAX_DAYS, MAX_MONEY, MAX_NOTES, MAX_PEOPLE, MAX_RUNS, OBJECTIVES, SCHEMA_VERSION, Ads,
                     Campaign, Decay, Operations, Optimize, Plan, PlanItem, Response, Scenario, ShareBounds, Uncertainty, Funnel, Simulation,
                     Tier, TierRule, Vetting, Wave, WeekBudget, WordOfMouth)

#: Kept under its old name for the docs test and the fuzzer: the keys each table may hold.
_TABLE_KEYS = TABLE_KEYS

__all__ = ["SCHEMA_VERSION", "MAX_MONEY", "MAX_PEOPLE", "MAX_DAYS", "MAX_RUNS", "MAX_NOTES", "OBJECTIVES",
           "Campaign", "Tier", "Decay", "Response", "Uncertainty", "Funnel", "WordOfMouth", "Wave", "PlanItem", "Plan", "Simulation", "Operations",
           "Ads", "Vetting", "TierRule", "ShareBounds", "WeekBudget", "Optimize", "Scenario", "parse_scenario",
           "TABLE_KEYS"]
