"""Attribution (issue 19, item 3; docs/data.md "Attribution"): both engines split every
replication's totals among its notes exactly, a creator's credit is what removing it costs,
the discrete-event log names the note behind each conversion batch, and the paired no-campaign
run gives acceleration and expansion."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.attribution import CREDIT_METRICS, ORGANIC, UNTRACED, attribution_table, past_export
from kolsim.cli import main
from kolsim.model import build_post_table, draw_block

from .conftest import ROOT, scenario_from_toml

# every stream at once: off-platform buyers, buyers' notes, imitation, organic adoption, repeat
# orders, affiliate commission, gifted creators' fixed costs, small audiences that saturate, and
# creators whose own followers saturate (several notes each)
EVERYTHING = """
schema_version = 1
[campaign]
name = "everything"
category = "snacks"
budget = 400000
horizon_days = 60
price = 59
margin = 0.5
[audience.segments]
snacks = 60000
food = 40000
[word_of_mouth]
q_per_year = 20
[funnel]
organic_p_per_year = 1.5
offsite_per_onsite = 1.0
repeat_per_month = 0.3
ugc_share = 0.05
ugc_reads = 3000
[[waves]]
name = "seed"
deal = "gifted"
start_day = 0
end_day = 10
tiers = {koc = 8, micro = 3}
posts_per_creator = 3
gift_value = 150
[[waves]]
name = "push"
start_day = 8
end_day = 30
segment = "food"
category = "food"
tiers = {mid = 3, top = 1}
commission = 0.1
"""

ADS = """
[ads]
feed_budget = 20000
boost_notes = 2
search_budget = 8000
"""


def _check_sums(r) -> None:
    """Every credited metric's notes plus the rows of no note equal the replication's total."""
    for m in CREDIT_METRICS:
        whole = r.credit[m].sum(axis=1) + r.credit[f"{ORGANIC}:{m}"] + r.credit[f"{UNTRACED}:{m}"]
        if m in r.totals:
            ref = np.asarray(r.totals[m], float)
            assert np.allclose(whole, ref, rtol=1e-10, atol=1e-7), m
    split = sum(r.credit[k].sum(axis=1) + r.credit[f"{ORGANIC}:{k}"] + r.credit[f"{UNTRACED}:{k}"]
                for k in ("acceleration", "expansion"))
    assert np.allclose(split, r.totals["conversions"], rtol=1e-10, atol=1e-7)


def test_monte_carlo_credit_sums_to_the_totals_and_changes_nothing():
    s = scenario_from_toml(EVERYTHING)
    r = kolsim.simulate(s, runs=1100, rng=5, attribute=True)   # two blocks, the second cut short
    plain = kolsim.simulate(s, runs=1100, rng=5)
    for k in plain.totals:
        assert np.array_equal(r.totals[k], plain.totals[k]), k   # attribution draws after the totals
    _check_sums(r)
    t = r.table
    # every stream is there to split, and the own-follower and segment saturation bind
    for k in ("conversions_offsite", "conversions_ugc", "conversions_wom", "conversions_organic",
              "repeat_orders"):
        assert r.totals[k].mean() > 1, k
    assert r.credit[f"{ORGANIC}:conversions_wom"].mean() > 0
    # a note credits nothing before it is published, nothing when it is not delivered
    assert np.all(r.credit["reads"] >= 0) and np.all(r.credit["conversions"] >= -1e-9)
    assert np.all(r.credit["spend"] >= t.fixed_share - 1e-9)


def test_credit_does_not_depend_on_workers():
    s = scenario_from_toml(EVERYTHING)
    a = kolsim.simulate(s, runs=1500, rng=8, attribute=True, workers=1)
    b = kolsim.simulate(s, runs=1500, rng=8, attribute=True, workers=2)
    for k in a.credit:
        assert np.array_equal(a.credit[k], b.credit[k]), k


def test_discrete_event_credit_sums_and_the_log_names_each_note():
    s = scenario_from_toml(EVERYTHING + ADS)
    r = kolsim.simulate(s, runs=40, rng=9, engine="des", attribute=True)
    plain = kolsim.simulate(s, runs=40, rng=9, engine="des")
    for k in plain.totals:
        assert np.array_equal(r.totals[k], plain.totals[k]), k
    assert r.events.equals(plain.events)
    _check_sums(r)
    assert r.credit[f"{UNTRACED}:conversions"].sum() > 0      # search ads' buyers are no note's
    assert r.credit[f"{UNTRACED}:reads"].sum() > 0
    ev = r.events
    names = {"conversions": "campaign", "offsite_conversions": "offsite", "ugc_conversions": "ugc",
             "word_of_mouth": "wom"}
    for event, stream in names.items():
        e = ev[ev["event"] == event]
        assert len(e)
        by_note = e[e["note"] >= 0]
        # a note's entry names the note and its creator
        assert (by_note["creator"].to_numpy() == r.table.creator[by_note["note"].to_numpy()]).all()
        assert set(e.loc[e["note"] < 0, "creator"]) <= {ORGANIC, UNTRACED}
        # the entries of each day add up to the day's batch of the first replication
        per_day = e.groupby(e["time"].round().astype(int) - 1)["value"].sum()
        daily = r.daily[f"conversions_{stream}"][0]
        got = np.zeros(r.table.horizon)
        got[per_day.index.to_numpy()] = per_day.to_numpy()
        assert np.allclose(got, daily, atol=1e-6), event
    assert (ev["time"].diff().dropna() >= 0).all()           # still in time order


def _se(x) -> float:
    x = np.asarray(x, float)
    return x.std(ddof=1) / math.sqrt(x.size)


def test_the_engines_agree_on_credit():
    """With operations off and no ads the discrete-event engine is the model: its credit per wave
    matches the Monte Carlo engine's within 4 combined standard errors."""
    s = scenario_from_toml(EVERYTHING + "\n[operations]\nenabled = false\n")
    mc = kolsim.simulate(s, runs=2000, rng=21, attribute=True)
    des = kolsim.simulate(s, runs=300, rng=22, engine="des", attribute=True)
    a, b = attribution_table(mc, "wave").set_index("wave"), attribution_table(des, "wave").set_index("wave")
    for wave in ("seed", "push"):
        for m in ("reads", "conversions", "expansion", "spend", "unique_reach"):
            tol = 4 * math.hypot(a.loc[wave, f"{m}_se"], b.loc[wave, f"{m}_se"])
            assert abs(a.loc[wave, m] - b.loc[wave, m]) <= tol, (wave, m)


def _without(text: str, kol: str) -> str:
    """The pool plan scenario's text without one creator's notes, its pool named in full."""
    blocks = re.split(r"(?=\[\[plan\.posts\]\])", text)
    return "".join(b for b in blocks if f'"{kol}"' not in b)


@pytest.mark.parametrize("kol", ["xhs_0127", "xhs_0006", "xhs_0054"])
def test_a_creator_removed_loses_what_attribution_gave_it(kol, tmp_path):
    src = ROOT / "scenarios" / "skincare_pool_plan.toml"
    text = src.read_text(encoding="utf-8").replace(
        'pool = "pools/', f'pool = "{(ROOT / "scenarios" / "pools").as_posix()}/')
    full = scenario_from_toml(text, tmp_path, "full.toml")
    less = scenario_from_toml(_without(text, kol), tmp_path, "less.toml")
    n = 4000
    r = kolsim.simulate(full, runs=n, rng=31, attribute=True)
    r2 = kolsim.simulate(less, runs=n, rng=32)
    given = attribution_table(r, "creator").set_index("creator")
    for m in ("conversions", "reads", "spend"):
        lost = r.totals[m].mean() - r2.totals[m].mean()
        se = math.hypot(_se(r.totals[m]), _se(r2.totals[m]))
        assert abs(lost - given.loc[kol, m]) <= 4 * se, (m, lost, given.loc[kol, m], se)


def test_acceleration_is_the_organic_buyers_the_campaign_took():
    """Without imitation the buyers who would have bought anyway are M (1 - e^{-pH}) exactly in
    expectation; the campaign's acceleration is those less the organic buyers left to it."""
    s = scenario_from_toml(EVERYTHING.replace("q_per_year = 20", "q_per_year = 0")
                           .replace("ugc_share = 0.05", "ugc_share = 0"))
    r = kolsim.simulate(s, runs=3000, rng=41, attribute=True)
    t = r.table
    p = t.p_per_day
    n0 = float((t.segment_capacity * -math.expm1(-p * t.horizon)).sum())
    acc = r.credit["acceleration"].sum(axis=1) + r.credit[f"{ORGANIC}:acceleration"] \
        + r.credit[f"{UNTRACED}:acceleration"]
    organic = r.totals["conversions_organic"].astype(float)
    # acceleration = N0 - organic per replication, so mean(acc) - (n0 - mean(organic)) is the
    # error of mean(N0), whose variance is at most n0 / runs (a binomial count of mean n0)
    se = math.sqrt(n0 / r.runs)
    assert abs(acc.mean() - (n0 - organic.mean())) <= 4 * se
    assert acc.mean() > 5 * _se(acc)                           # the campaign does take some
    # common random numbers: the paired run moves with the campaign's, so the split's noise is far
    # below that of two independent runs (sd(organic)^2 + var N0, var N0 ~ n0)
    assert acc.std(ddof=1) < 0.8 * math.sqrt(organic.var(ddof=1) + n0)  # measured: 0.67
    # without organic adoption nobody would have bought: everything is expansion
    s0 = scenario_from_toml(EVERYTHING.replace("organic_p_per_year = 1.5", "organic_p_per_year = 0")
                            .replace("q_per_year = 20", "q_per_year = 0"))
    r0 = kolsim.simulate(s0, runs=200, rng=3, attribute=True)
    assert np.allclose(r0.credit["acceleration"], 0, atol=1e-9)


def test_past_export_is_one_replication_of_the_model():
    s = kolsim.load_scenario(ROOT / "scenarios" / "skincare_pool_plan.toml")
    table = build_post_table(s)
    out = draw_block(table, np.random.default_rng(6), 1)
    e = past_export(s, rng=6)
    notes = e[e["note_id"] != ""]
    assert int(notes["reads"].sum()) == int(out["reads"][0])
    assert int(notes["clicks"].sum()) == int(out["clicks"][0])
    assert int(notes["interactions"].sum()) == int(out["interactions"][0])
    assert (notes["interactions"] == notes["likes"] + notes["collects"] + notes["comments"]).all()
    assert int(notes["orders"].sum()) == int(out["conversions_campaign"][0])
    assert int(e["orders"].sum()) == int(out["conversions"][0] + out["conversions_organic"][0])
    # a note's rows run from its publication day to the horizon, its spend on the first
    first = notes.groupby("note_id").first()
    assert (first["publish_date"] == first["date"]).all()
    # the export lists delivered notes; what the others cost (their upfront share) is not in it
    undelivered = set(range(table.n_posts)) - {int(n[1:]) - 1 for n in notes["note_id"]}
    lost = sum(table.cost[j] * table.upfront[j] + table.fixed_share[j] for j in undelivered)
    assert np.isclose(notes["spend"].sum() + lost, out["spend"][0])
    assert set(notes["kol_id"]) <= {it.kol_id for it in s.plan.items}


def test_cli_writes_attribution(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["simulate", str(ROOT / "scenarios" / "perfume_launch.toml"), "--runs", "300",
                                    "--attribution", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Attribution by wave" in res.output
    table = pd.read_csv(out / "attribution.csv")
    assert {"level", "name", "tier", "wave", "notes", "conversions", "conversions_se", "expansion",
            "acceleration", "spend"} <= set(table.columns)
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    waves = table[table["level"] != "creator"]
    assert math.isclose(waves["conversions"].sum(), summary.loc["conversions", "mean"], rel_tol=1e-9)
    creators = table[table["level"] != "wave"]
    assert math.isclose(creators["spend"].sum(), summary.loc["spend", "mean"], rel_tol=1e-9)
    assert (out / "attribution.png").stat().st_size > 10_000
