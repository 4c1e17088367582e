"""What a planner should know about a scenario before buying: flags, not errors.

A plan that breaks the platform's cadence rule or includes creators that vetting
would exclude can still be simulated (and the result is worth seeing), so these
are reported as notices rather than refused.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .defaults import SPONSORED_SHARE
from .model import build_post_table
from .pool import vet
from .rules import CADENCE_WINDOW_DAYS, cadence_cap, max_in_window
from .scenario import Scenario

__all__ = ["review"]


def review(scenario: Scenario, *, sponsored_share: float = SPONSORED_SHARE) -> tuple[str, ...]:
    """Notices about a scenario: planned creators that vetting flags, and
    creators whose sponsored notes break the platform's rolling 4-week cap of
    ``floor(sponsored_share x monthly posts)`` [S3 #13].

    Examples
    --------
    >>> import kolsim
    >>> kolsim.review(kolsim.load_scenario("scenarios/perfume_launch.toml"))
    ()
    """
    notes: list[str] = []
    plan = scenario.plan
    if plan is not None:
        report = vet(plan.pool, scenario.tiers, scenario.vetting)
        planned = {it.kol_id for it in plan.items}
        flagged = report.excluded[report.excluded["kol_id"].isin(planned)]
        for _, r in flagged.iterrows():
            notes.append(f"planned creator {r['kol_id']} ({r['tier']}) fails vetting: {r['reasons']}")

    table = build_post_table(scenario)
    days_of: dict[str, list[int]] = defaultdict(list)
    for creator, day in zip(table.creator, table.day):
        days_of[creator].append(int(day))
    worst: dict[tuple[str, str], tuple[int, int, float]] = {}
    for creator, days in days_of.items():
        wave, tier = _wave_and_tier(scenario, creator)
        monthly = _monthly_posts(scenario, creator, tier)
        cap = cadence_cap(monthly, sponsored_share)
        most = max_in_window(days)
        key = (wave, creator if wave == "plan" else tier)
        if most > cap and most > worst.get(key, (0, 0, 0))[0]:
            worst[key] = (most, cap, monthly)
    for (wave, who), (most, cap, monthly) in sorted(worst.items()):
        subject = f"creator {who} posts" if wave == "plan" else f"wave {wave!r}: {who} creators post"
        notes.append(f"{subject} up to {most} sponsored notes in {CADENCE_WINDOW_DAYS} days; the platform allows "
                     f"floor({sponsored_share:g} x {monthly:g} monthly notes) = {cap} [S3]")
    return tuple(notes)


def _wave_and_tier(scenario: Scenario, creator: str) -> tuple[str, str]:
    if scenario.plan is not None and creator in scenario.plan.pool:
        return "plan", str(scenario.plan.pool.row(creator)["tier"])
    wave, rest = creator.rsplit("/", 1)
    return wave, rest.split("#")[0]


def _monthly_posts(scenario: Scenario, creator: str, tier: str) -> float:
    if scenario.plan is not None and creator in scenario.plan.pool:
        v = scenario.plan.pool.row(creator).get("monthly_posts")
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return scenario.tiers[tier].monthly_posts
