"""Every shipped scenario validates and simulates; the CLI's main jobs work end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.cli import main

from .conftest import SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates_and_simulates(path):
    s = kolsim.load_scenario(path)
    assert s.notices == ()  # shipped files are complete: no fallbacks taken
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 0 and "ok" in res.output
    if not s.waves and s.plan is None:  # a planner's request: optimize it, then simulate the plan
        pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
        opt = kolsim.check_plan(kolsim.optimize(s, pool, marginal=False), runs=512, rng=1)
        assert opt.status == "optimal" and opt.spend <= s.campaign.budget
        assert abs(opt.simulated["z"]) < 4  # the plan's expectation agrees with its simulation
        with pytest.raises(kolsim.InputError, match="has no posts to simulate"):
            kolsim.simulate(s, runs=2)
        return
    assert kolsim.review(s) == ()  # and their plans pass vetting and the cadence rule
    r = kolsim.simulate(s, runs=256, rng=1)
    summary = r.summary()
    assert np.isfinite(summary[["n", "mean", "se", "ci_low", "ci_high"]].to_numpy(float)).all()
    assert summary.loc["conversions", "mean"] > 0
    assert summary.loc["reads", "mean"] > 0


def test_perfume_launch_follows_the_seeding_wave_template():
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    counts = [w.tiers for w in s.waves]
    assert counts[0] == {"top": 2}
    assert 10 <= counts[1]["mid"] <= 15
    assert 15 <= sum(counts[2].values()) <= 20
    assert s.waves[0].start_day < s.waves[1].start_day < s.waves[2].start_day


def test_cases_from_the_sources_are_encoded_as_stated():
    seeding = kolsim.load_scenario("scenarios/micro_seeding.toml")
    assert seeding.campaign.budget == 30_000
    assert seeding.waves[0].tiers == {"micro": 20} and seeding.waves[0].deal == "gifted"
    assert seeding.tiers["micro"].p_post_gifted == 0.75
    amb = kolsim.load_scenario("scenarios/fashion_ambassador.toml")
    w = amb.waves[0]
    assert w.tiers == {"mid": 3} and w.retainer_per_month == 10_000 and w.deal == "ambassador"
    assert w.posts_per_creator >= 4 * 6 and w.end_day - w.start_day + 1 == 180
    snack = kolsim.load_scenario("scenarios/snack_viral.toml")
    assert snack.waves[0].tiers == {"top": 1} and snack.tiers["top"].followers == 3_000_000
    assert sum(sum(w.tiers.values()) for w in snack.waves[1:]) == 50


def test_plan_over_pool_places_posts_in_their_weeks():
    s = kolsim.load_scenario("scenarios/skincare_pool_plan.toml")
    r = kolsim.simulate(s, runs=2, rng=1)
    t = r.table
    weeks = {it.kol_id: it.week for it in s.plan.items}
    for creator, day in zip(t.creator, t.day):
        assert 7 * (weeks[creator] - 1) <= day < 7 * weeks[creator]
    assert t.n_posts == sum(it.posts for it in s.plan.items)
    fee = s.plan.pool.row("xhs_0071")["cost_per_post"]
    assert fee in set(t.cost)


def test_simulate_cli_writes_tables_and_plots(tmp_path):
    out = tmp_path / "res"
    res = CliRunner().invoke(main, ["simulate", "scenarios/perfume_launch.toml", "--runs", "300",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "conversions" in res.output and "95% interval" in res.output
    reps = pd.read_csv(out / "replications.csv")
    assert len(reps) == 300 and {"reads", "conversions", "spend"} <= set(reps.columns)
    daily = pd.read_csv(out / "daily.csv")
    assert len(daily) == 90
    assert (daily["cumulative_conversions_p10"] <= daily["cumulative_conversions_p90"]).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["conversions"]["mean"] == pytest.approx(reps["conversions"].mean())
    for png in ("distributions.png", "cumulative_conversions.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_compare_cli(tmp_path):
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", "scenarios/perfume_launch.toml",
                                    "scenarios/snack_viral.toml", "--runs", "256", "--seed", "1",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "== Verdict against Perfume launch" in res.output
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["metric"]) >= {"conversions", "reads", "spend"}
    assert (out / "cumulative_conversions.png").exists()


def test_pool_generate_and_vet(tmp_path):
    runner = CliRunner()
    pool = tmp_path / "pool.csv"
    res = runner.invoke(main, ["pool", "generate", "--size", "400", "--seed", "9", "--out", str(pool)])
    assert res.exit_code == 0, res.output
    again = tmp_path / "again.csv"
    runner.invoke(main, ["pool", "generate", "--size", "400", "--seed", "9", "--out", str(again)])
    assert pool.read_bytes() == again.read_bytes()
    p = kolsim.load_pool(pool)
    f = p.frame
    assert len(f) == 400 and set(f["tier"]) <= set(kolsim.defaults.TIERS)
    excluded = tmp_path / "excluded.csv"
    res = runner.invoke(main, ["pool", "vet", str(pool), "--out", str(excluded)])
    assert res.exit_code == 0, res.output
    ex = pd.read_csv(excluded)
    assert 0 < len(ex) < 200 and ex["reasons"].str.len().min() > 0


def test_synthetic_pool_is_calibrated():
    """Follower ranges, the price curve and engagement follow calibration.md."""
    pool = kolsim.generate_pool(20_000, np.random.default_rng(0)).frame
    for tier, (lo, hi) in kolsim.defaults.TIER_FOLLOWER_RANGE.items():
        f = pool.loc[pool["tier"] == tier, "followers"]
        assert f.between(lo, hi).all(), tier
    ratio = pool["cost_per_post"] / kolsim.defaults.cost_curve(pool["followers"])
    assert 0.8 < np.exp(np.log(ratio).median()) < 1.2
    micro = pool[pool["tier"] == "micro"]
    assert 0.011 < micro["engagement_rate"].mean() < 0.018  # tier ER 0.35 x 4.2 % = 1.47 %
    fraud = (pool.groupby("tier")["fake_share"].apply(lambda s: (s >= 0.3).mean()))
    assert abs(fraud["top"] - 0.30) < 0.05 and abs(fraud["koc"] - 0.10) < 0.03


def test_vetting_explains_every_exclusion():
    df = pd.DataFrame({
        "kol_id": ["ok", "low_er", "fake", "jump", "cheap", "burst", "likes", "tobacco"],
        "tier": ["micro"] * 8, "category": ["beauty"] * 7 + ["tobacco"],
        "followers": [30_000] * 8, "cost_per_post": [3000] * 4 + [100] + [3000] * 3,
        "engagement_rate": [0.04, 0.005, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04],
        "fake_share": [0.1, 0.1, 0.45, 0.1, 0.1, 0.1, 0.1, 0.1],
        "max_daily_follower_gain": [100, 100, 100, 12_000, 100, 100, 100, 100],
        "max_weekly_posts": [3, 3, 3, 3, 3, 60, 3, 3],
        "likes_collects_total": [90_000] * 6 + [10_000, 90_000],
    })
    tiers = kolsim.load_scenario("scenarios/perfume_launch.toml").tiers
    rep = kolsim.vet(kolsim.Pool.from_frame(df), tiers)
    assert rep.kept == ("ok",)
    reasons = dict(zip(rep.excluded["kol_id"], rep.excluded["reasons"]))
    assert "engagement rate 0.50%" in reasons["low_er"]
    assert "fake followers 45%" in reasons["fake"]
    assert "12,000 followers in one day" in reasons["jump"]
    assert "price ¥100" in reasons["cheap"]
    assert "60 notes in one week" in reasons["burst"]
    assert "likes+collects 10,000" in reasons["likes"]
    assert "tobacco is banned" in reasons["tobacco"]
    # a celebrity's ordinary day of 40K new followers is not a spike (under 5 % of 20M)
    celeb = df.iloc[[0]].assign(kol_id="star", tier="celebrity", followers=20_000_000,
                                cost_per_post=1_500_000, engagement_rate=0.008,
                                max_daily_follower_gain=40_000, likes_collects_total=9e7)
    assert kolsim.vet(kolsim.Pool.from_frame(celeb), tiers).kept == ("star",)


def test_excel_pool_reads_like_its_csv(tmp_path):
    """A marketplace export saved as .xlsx gives the same pool as the CSV."""
    csv = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    raw = pd.read_csv("scenarios/pools/synthetic_300.csv")
    raw["notes"] = "from a marketplace export"  # an extra column is kept, not dropped
    xlsx = tmp_path / "pool.xlsx"
    raw.to_excel(xlsx, index=False)
    pool = kolsim.load_pool(xlsx)
    cols = list(csv.frame.columns)
    pd.testing.assert_frame_equal(pool.frame[cols], csv.frame[cols], check_dtype=False)
    assert list(pool.frame["notes"].unique()) == ["from a marketplace export"]
    assert any("notes" in n for n in pool.notices)


def test_review_flags_vetting_failures_and_cadence_breaches(tmp_path):
    """Planned creators that fail vetting, and notes above the platform's 20 % rule, are named."""
    text = open("scenarios/skincare_pool_plan.toml", encoding="utf-8").read()
    # xhs_0018 fails the engagement floor; xhs_0242 posts 4 notes a month (cap 0);
    # three notes in one month by a mid creator with a cap of 3 is fine, four is not
    text = text.replace('pool = "pools/synthetic_300.csv"',
                        f'pool = "{(Path("scenarios/pools/synthetic_300.csv")).resolve()}"')
    text += """
[[plan.posts]]
kol_id = "xhs_0018"
week = 6
posts = 1

[[plan.posts]]
kol_id = "xhs_0242"
week = 6
posts = 1
"""
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    notes = kolsim.review(kolsim.load_scenario(tmp_path / "s.toml"))
    assert any(n.startswith("planned creator xhs_0018 (koc) fails vetting: engagement rate") for n in notes)
    assert any("creator xhs_0242 posts up to 1 sponsored notes in 28 days" in n and "= 0 [S3]" in n
               for n in notes)
    assert len(notes) == 2
    waves = kolsim.parse_scenario({
        "campaign": {"name": "x", "category": "beauty", "budget": 1e5, "horizon_days": 60},
        "audience": {"segments": {"beauty": 1e6}},
        "waves": [{"start_day": 0, "end_day": 27, "tiers": {"mid": 2}, "posts_per_creator": 4}]})
    (note,) = kolsim.review(waves)
    assert note == ("wave 'wave 1': mid creators post up to 4 sponsored notes in 28 days; "
                    "the platform allows floor(0.2 x 15 monthly notes) = 3 [S3]")
