"""From a parsed TOML document to a :class:`~.values.Scenario`.

The parsers walk the document table by table and hand each table's values to
its value object, which checks them (:mod:`.values`); what is decided here is
only what the file's layout means: which tables exist, their defaults that
depend on other tables (a wave's end day, the optimizer's weeks), and where a
message points (``[waves #2] end_day``, ``[plan.posts #3] week``).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..defaults import TIER_DEFAULTS, TIERS
from ..errors import ScenarioError
from ..text import name_key, show
from .checks import did_you_mean, label
from .table import TABLE_KEYS, Table
from .values import (SCHEMA_VERSION, Ads, Campaign, Decay, Operations, Optimize, Plan, PlanItem, Response, Scenario, Uncertainty, Funnel,
                     ShareBounds, Simulation, Tier, TierRule, Vetting, Wave, WeekBudget, WordOfMouth,
                     _relabel)

__all__ = ["parse_scenario"]


def _tier_code(code: Any, where: str) -> str:
    key = name_key(code) if isinstance(code, str) else code
    if key not in TIERS:
        raise ScenarioError(f"unknown tier {show(code)}; allowed: {', '.join(TIERS)}.{did_you_mean(code, TIERS)}",
                            where=where)
    return key


def _parse_tiers(t: Table | None) -> dict[str, Tier]:
    tiers = {code: Tier.default(code) for code in TIERS}
    if t is None:
        return tiers
    for code in t.data:
        key = _tier_code(code, f"[tiers.{label(str(code))}]")
        sub = t.table(code, "tiers")
        assert sub is not None
        tiers[key] = sub.build(Tier, code=key, **{k: v for k, v in TIER_DEFAULTS[key].items() if not sub.has(k)})
    t.finish()
    return tiers


def _parse_audience(t: Table | None) -> tuple[Any, Any]:
    if t is None:
        return {}, None
    default = t.raw("default_size")
    sub = t.table("segments", "audience.segments")
    segments = sub.data if sub is not None else {}
    t.finish()
    return segments, default


def _parse_response(t: Table | None) -> Response:
    if t is None:
        return Response()
    sub = t.table("relevance", "response.relevance")
    given = {"relevance": sub.data} if sub is not None else {}
    if sub is not None:
        sub.used.update(sub.data)
    return t.build(Response, **given)


def _parse_wave(t: Table, index: int) -> Wave:
    if not t.has("tiers"):
        raise ScenarioError("is required: creators per tier, e.g. tiers = { mid = 12 }", where=t.where("tiers"))
    start = t.raw("start_day")
    given = {"name": f"wave {index + 1}"} if not t.has("name") else {}
    if not t.has("end_day") and t.has("start_day"):
        given["end_day"] = start
    return t.build(Wave, **given)


def _parse_plan(pt: Table, pool: Any, schedule: list[Mapping[str, Any]] | None) -> tuple[Plan, str]:
    pt.raw("pool")
    posts_raw = pt.raw("posts")
    pt.raw("schedule")
    if pool is None:
        raise ScenarioError("is required: the candidate pool file the plan draws on", where="[plan] pool")
    if posts_raw is not None and schedule is not None:
        raise ScenarioError("give the plan either as [[plan.posts]] or as a schedule file, not both", where="[plan]")
    if posts_raw is not None and not isinstance(posts_raw, list):
        raise ScenarioError("must be an array of tables: write each entry as [[plan.posts]]", where="[plan] posts")
    rows = posts_raw if posts_raw is not None else (schedule or [])
    where = "plan.posts" if posts_raw is not None else "plan schedule"
    items = tuple(Table(row, f"{where} #{i + 1}", "plan.posts").build(PlanItem) for i, row in enumerate(rows))
    pt.finish()
    try:
        return Plan(pool=pool, items=items), where
    except ScenarioError as e:
        raise _relabel(e, "plan", where) from None


def _parse_optimize(t: Table, campaign: Campaign) -> Optimize:
    cats: dict[Any, ShareBounds] = {}
    ct = t.table("category_share", "optimize.category_share_table")
    if ct is not None:
        for cat in ct.data:
            sub = ct.table(cat, "optimize.category_share")
            assert sub is not None
            cats[cat] = sub.build(ShareBounds)
        ct.used.update(ct.data)
    rules: dict[Any, TierRule] = {}
    tt = t.table("tiers", "optimize.tiers_table")
    if tt is not None:
        for code in tt.data:
            key = _tier_code(code, f"[optimize.tiers.{label(str(code))}]")
            sub = tt.table(code, "optimize.tiers")
            assert sub is not None
            rules[key] = sub.build(TierRule)
        tt.used.update(tt.data)
    wb_raw = t.raw("budget_by_weeks", [])
    if not isinstance(wb_raw, list):
        raise ScenarioError("must be an array of tables: write each as [[optimize.budget_by_weeks]]",
                            where="[optimize] budget_by_weeks")
    wbs = tuple(Table(row, f"optimize.budget_by_weeks #{i + 1}", "optimize.budget_by_weeks").build(WeekBudget)
                for i, row in enumerate(wb_raw))
    given: dict[str, Any] = {"category_share": cats, "tiers": rules, "budget_by_weeks": wbs}
    if not t.has("weeks"):
        given["weeks"] = max(1, min(8, campaign.horizon_days // 7))
    return t.build(Optimize, **given)


def _build(t: Table | None, cls):
    return t.build(cls) if t is not None else cls()


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
    top = Table(dict(data), "", "")
    version = top.raw("schema_version")
    if version is None:
        notices.append(f"{source + ': ' if source else ''}no schema_version given; "
                       "reading the file as schema_version = 1")
        version = 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ScenarioError(f"must be a whole number >= 1 (got {show(version)})", where="schema_version")
    if version > SCHEMA_VERSION:
        raise ScenarioError(
            f"is {show(version)}, but this kolsim reads schema_version {SCHEMA_VERSION} at most; "
            "upgrade kolsim to read this file", where="schema_version")

    # unknown top-level keys first: a misspelt table would otherwise surface as
    # a confusing error about what it should have held
    top.used.update(TABLE_KEYS[""])
    top.finish()

    ct = top.table("campaign")
    if ct is None:
        raise ScenarioError("missing required table [campaign] (name, category, budget, horizon_days)")
    campaign = ct.build(Campaign)
    tiers = _parse_tiers(top.table("tiers"))
    segments, default_size = _parse_audience(top.table("audience"))
    decay = _build(top.table("decay"), Decay)
    wom = _build(top.table("word_of_mouth"), WordOfMouth)
    response = _parse_response(top.table("response"))
    uncertainty = _build(top.table("uncertainty"), Uncertainty)
    funnel = _build(top.table("funnel"), Funnel)

    waves_raw = top.raw("waves", [])
    if not isinstance(waves_raw, list):
        raise ScenarioError("must be an array of tables: write each wave as [[waves]]", where="waves")
    waves = tuple(_parse_wave(Table(w, f"waves #{i + 1}", "waves"), i) for i, w in enumerate(waves_raw))

    plan, plan_label = None, "plan"
    pt = top.table("plan")
    if pt is not None:
        plan, plan_label = _parse_plan(pt, pool, schedule)

    ot = top.table("optimize")
    optimize = _parse_optimize(ot, campaign) if ot is not None else None
    sim = _build(top.table("simulation"), Simulation)
    ops_t, ads_t = top.table("operations"), top.table("ads")
    ops, ads = _build(ops_t, Operations), _build(ads_t, Ads)
    vet = _build(top.table("vetting"), Vetting)
    try:
        return Scenario(
            campaign=campaign, tiers=tiers, segments=segments, decay=decay, word_of_mouth=wom, response=response, uncertainty=uncertainty, funnel=funnel,
            waves=waves, plan=plan, simulation=sim, operations=ops, ads=ads,
            operations_given=ops_t is not None or ads_t is not None, vetting=vet, optimize=optimize,
            default_segment_size=default_size, schema_version=version,
            source=source, notices=tuple(notices))
    except ScenarioError as e:
        raise _relabel(e, "plan", plan_label) from None
