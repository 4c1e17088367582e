"""Calibration from a past campaign (issue 19, item 2).

- each estimator against data with a known answer (counts at their expectation, or drawn from the
  estimator's own model);
- bad exports: a missing column, every bad cell reported at once, exit 2 with nothing written;
- an export without the optional columns fits what it can and lists what it cannot;
- the overlay round-trips through ``kolsim simulate --calibration`` (and a key it may not set
  is an error naming the overlay);
- the coverage test: campaigns simulated with known parameters (``kolsim.past_export``), their
  exports calibrated, and each 95 % interval covers the truth in at least 90 % of 50 repeats.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.calibration import calibrate
from kolsim.cli import main
from kolsim.model import decay_kernel
from kolsim.scenario import Decay

from .conftest import scenario_from_toml

#: The truth of the coverage test: large audiences (saturation negligible), no own-follower
#: saturation, no buyers' notes; values moved away from the defaults.
TRUTH = """
schema_version = 1
[campaign]
name = "calibration truth"
category = "beauty"
budget = 100000
horizon_days = 90
[audience]
default_size = 500_000_000
[tiers.koc]
follower_share = 0
reach = 0.6
ctr = 0.03
[tiers.micro]
follower_share = 0
reach_sigma = 0.9
cvr = 0.035
interaction_rate = 0.05
[tiers.mid]
follower_share = 0
[uncertainty]
creator_sigma = 0.5
[funnel]
ugc_share = 0
offsite_per_onsite = 0.8
[word_of_mouth]
q_per_year = 3
[decay]
feed_share = 0.6
feed_half_life_days = 2.0
[[waves]]
name = "w1"
start_day = 0
end_day = 20
tiers = { koc = 40, micro = 30, mid = 10 }
posts_per_creator = 2
"""
#: The scenario the campaign is calibrated against: the same campaign at kolsim's defaults.
PLAN = "\n".join(line for line in TRUTH.splitlines()
                 if not line.startswith(("reach", "ctr", "cvr", "interaction_rate", "creator_sigma",
                                         "offsite_per_onsite", "q_per_year", "feed_share", "feed_half_life")))


def _value(scenario, key: str) -> float:
    obj = scenario
    for part in key.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return float(obj)


def _row(result, key: str) -> pd.Series:
    t = result.table
    return t[t["key"] == key].iloc[0]


# --------------------------------------------------------------------------- #
# Estimators with a known answer
# --------------------------------------------------------------------------- #
def _daily_frame(n_notes=60, horizon=60, tier="micro", followers=30_000, reads=None, kernel=None, rng=None,
                 kol_of=lambda j: f"k{j}"):
    """A note-by-day export: each note's reads spread over its days by ``kernel`` (at their
    expectation, rounded, when ``rng`` is None)."""
    rows = []
    start = pd.Timestamp("2026-01-01")
    for j in range(n_notes):
        d = j % 10
        span = horizon - d
        k = kernel[:span] / kernel[:span].sum()
        total = reads[j] if reads is not None else 100_000
        per_day = np.round(total * k).astype(int) if rng is None else rng.multinomial(int(total), k)
        for a in range(span):
            rows.append({"note_id": f"n{j}", "kol_id": kol_of(j), "tier": tier, "followers": followers,
                         "publish_date": (start + pd.Timedelta(days=d)).strftime("%Y-%m-%d"),
                         "date": (start + pd.Timedelta(days=d + a)).strftime("%Y-%m-%d"),
                         "reads": int(per_day[a])})
    return pd.DataFrame(rows)


def test_decay_recovers_the_kernel_from_reads_at_their_expectation():
    truth = Decay(feed_share=0.55, feed_half_life_days=2.5, search_half_life_days=20.0)
    frame = _daily_frame(kernel=decay_kernel(truth, 60))
    r = calibrate(frame)
    for key, value in (("feed_share", 0.55), ("feed_half_life_days", 2.5), ("search_half_life_days", 20.0)):
        row = _row(r, f"decay.{key}")
        assert row["estimate"] == pytest.approx(value, rel=2e-3), key
        assert row["low"] <= value <= row["high"]
        assert row["verdict"] != "data agrees"   # the defaults (0.7, 1.5, 30) are far off


def test_reads_random_effects_recover_reach_and_both_spreads():
    """Notes drawn from the estimator's own model: lognormal creator and note factors of mean 1."""
    g = np.random.default_rng(5)
    K, per = 400, 4
    s_c, sigma, reach = 0.5, 0.9, 0.42
    q = np.exp(s_c * g.standard_normal(K) - s_c ** 2 / 2)
    followers = g.integers(10_000, 100_000, K * per)
    lam = followers * reach * np.repeat(q, per) * np.exp(sigma * g.standard_normal(K * per) - sigma ** 2 / 2)
    frame = pd.DataFrame({"note_id": [f"n{j}" for j in range(K * per)], "kol_id": [f"k{j // per}" for j in range(K * per)],
                          "tier": "micro", "publish_date": "2026-01-01", "followers": followers,
                          "reads": g.poisson(lam)})
    r = calibrate(frame)
    for key, value, tol in (("tiers.micro.reach", reach, 0.08), ("tiers.micro.reach_sigma", sigma, 0.05),
                            ("uncertainty.creator_sigma", s_c, 0.15)):
        row = _row(r, key)
        assert row["low"] <= value <= row["high"], (key, row.to_dict())
        assert row["estimate"] == pytest.approx(value, rel=tol), key


def test_rates_are_their_ratios_and_cvr_is_widened_by_the_shared_spreads():
    frame = pd.DataFrame({"note_id": ["a", "b", "c", "d"], "kol_id": ["x", "x", "y", "z"], "tier": "mid",
                          "publish_date": "2026-02-01", "reads": [10_000, 20_000, 30_000, 40_000],
                          "likes": [300, 600, 900, 1200], "collects": [100, 200, 300, 400],
                          "comments": [20, 40, 60, 80], "clicks": [150, 300, 450, 600], "orders": [3, 6, 9, 12]})
    s = scenario_from_toml(PLAN)
    r = calibrate(frame, s)
    assert _row(r, "tiers.mid.interaction_rate")["estimate"] == pytest.approx(0.042)
    assert _row(r, "tiers.mid.like_share")["estimate"] == pytest.approx(300 / 420)
    assert _row(r, "tiers.mid.collect_share")["estimate"] == pytest.approx(100 / 420)
    assert _row(r, "tiers.mid.ctr")["estimate"] == pytest.approx(0.015)
    cvr = _row(r, "tiers.mid.cvr")
    realised = r.table[(r.table["key"] == "") & r.table["parameter"].str.startswith("mid: orders")].iloc[0]
    assert cvr["estimate"] == realised["estimate"] == pytest.approx(0.02)
    # the parameter's interval: log-quadrature with campaign_sigma and tier_sigma, centred at log r + v/2
    v = s.uncertainty.campaign_sigma ** 2 + s.uncertainty.tier_sigma ** 2
    se = math.log(realised["high"] / realised["estimate"]) / 1.959964
    wide = math.sqrt(se * se + v)
    assert cvr["low"] == pytest.approx(0.02 * math.exp(v / 2 - 1.959964 * wide), rel=1e-6)
    assert cvr["high"] == pytest.approx(0.02 * math.exp(v / 2 + 1.959964 * wide), rel=1e-6)
    # the count interval of 30 orders among 1,500 clicks: se of the log ratio sqrt(1/30 + 1/1500)
    assert se == pytest.approx(math.sqrt(1 / 30 + 1 / 1500), rel=1e-6)


def test_bass_recovers_p_q_and_offsite_from_orders_at_their_expectation():
    """Orders no note tracked at their expectation under the fit's model, for a known M."""
    s = scenario_from_toml(PLAN.replace("default_size = 500_000_000", "default_size = 50_000_000"))
    M = 0.002 * 50_000_000
    p, q, rho, H = 0.05 / 365, 2.0 / 365, 0.7, 120
    frame = _daily_frame(n_notes=20, horizon=H, kernel=decay_kernel(Decay(), H), tier="micro")
    frame["orders"] = 0
    first = frame.groupby("note_id").head(1).index
    frame.loc[first, "orders"] = 40      # tracked orders on the publication days
    tracked = np.zeros(H)
    for d, n in frame.groupby("date")["orders"].sum().items():
        tracked[(pd.Timestamp(d) - pd.Timestamp("2026-01-01")).days] = n
    # the day's purchase decisions on RED: the tracked orders per read times the day's reads
    day = (pd.to_datetime(frame["date"]) - pd.Timestamp("2026-01-01")).dt.days.to_numpy()
    reads = np.bincount(day, weights=frame["reads"].to_numpy(float), minlength=H)
    pmf = kolsim.model.delay_pmf(s.funnel.offsite_delay_days, H)
    off = rho * np.convolve(reads * tracked.sum() / reads.sum(), pmf)[:H]
    u = np.zeros(H)
    N = 0.0
    for t in range(H):
        h = p + q * N / M
        u[t] = round(off[t] + (M - N) * -math.expm1(-h))
        N += u[t] + tracked[t]
    other = pd.DataFrame({"note_id": "", "kol_id": "", "date": [(pd.Timestamp("2026-01-01") + pd.Timedelta(days=t))
                                                                .strftime("%Y-%m-%d") for t in range(H)],
                          "orders": np.round(u).astype(int)})
    r = calibrate(pd.concat([frame, other], ignore_index=True), s)
    assert _row(r, "funnel.organic_p_per_year")["estimate"] == pytest.approx(0.05, rel=0.05)
    assert _row(r, "word_of_mouth.q_per_year")["estimate"] == pytest.approx(2.0, rel=0.05)
    assert _row(r, "funnel.offsite_per_onsite")["estimate"] == pytest.approx(0.7, rel=0.1)
    for key, value in (("funnel.organic_p_per_year", 0.05), ("word_of_mouth.q_per_year", 2.0),
                       ("funnel.offsite_per_onsite", 0.7)):
        row = _row(r, key)
        assert row["low"] <= value <= row["high"], key
    # without a scenario, p needs the in-market people and is not fitted; q still is
    r0 = calibrate(pd.concat([frame, other], ignore_index=True))
    assert "funnel.organic_p_per_year" in dict(r0.not_fitted)
    assert _row(r0, "word_of_mouth.q_per_year")["estimate"] == pytest.approx(2.0, rel=0.1)


# --------------------------------------------------------------------------- #
# Bad exports, missing columns
# --------------------------------------------------------------------------- #
GOOD = ("note_id,kol_id,tier,publish_date,reads,clicks\n"
        "n1,k1,micro,2026-01-02,12000,240\n"
        "n2,k2,koc,2026-01-03,1500,40\n"
        "n3,k2,koc,2026-01-05,1800,45\n")


def test_a_missing_required_column_is_named(tmp_path):
    p = tmp_path / "past.csv"
    p.write_text(GOOD.replace("publish_date", "published"), encoding="utf-8")
    with pytest.raises(kolsim.InputError, match=r"missing column\(s\) publish_date") as e:
        kolsim.read_past(p)
    assert e.value.file == str(p)


def test_every_bad_cell_is_reported_at_once(tmp_path):
    p = tmp_path / "past.csv"
    p.write_text(GOOD + "n4,k3,giant,2026-02-30,12a,-3\n" "n5,k2,micro,2026-01-06,100,1\n", encoding="utf-8")
    with pytest.raises(kolsim.InputError) as e:
        kolsim.read_past(p)
    lines = e.value.lines()
    text = "\n".join(lines)
    assert len(lines) == 5, text
    for where in ("line 5, column tier", "line 5, column publish_date", "line 5, column reads",
                  "line 5, column clicks", "line 6, column tier"):
        assert where in text, where
    assert "'giant' is not a tier" in text and "'12a'" in text and "a creator has one tier" in text


def test_cli_bad_export_exits_2_and_writes_nothing(tmp_path):
    p = tmp_path / "past.csv"
    p.write_text(GOOD + "n4,k3,micro,2026-01-09,,x\n", encoding="utf-8")
    out, report = tmp_path / "overlay.toml", tmp_path / "report"
    res = CliRunner().invoke(main, ["calibrate", str(p), "--out", str(out), "--report", str(report)])
    assert res.exit_code == 2, res.output
    assert "line 5, column reads" in res.output and "line 5, column clicks" in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and not report.exists()


def test_missing_optional_columns_fit_what_they_can(tmp_path):
    p = tmp_path / "past.csv"
    p.write_text("note_id,kol_id,tier,publish_date,reads,followers\n" + "\n".join(
        f"n{j},k{j // 2},micro,2026-01-{1 + j % 9:02d},{10_000 + 997 * j},30000" for j in range(20)) + "\n",
        encoding="utf-8")
    r = kolsim.calibrate(kolsim.read_past(p))
    assert set(r.table["key"]) >= {"tiers.micro.reach", "tiers.micro.reach_sigma"}
    why = dict(r.not_fitted)
    assert "clicks" in why["tiers.micro.ctr"] and "orders" in why["tiers.micro.cvr"]
    assert "date" in why["decay.feed_share"]
    assert "word_of_mouth.q_per_year" in why and "tiers.micro.interaction_rate" in why


# --------------------------------------------------------------------------- #
# The overlay
# --------------------------------------------------------------------------- #
def test_the_overlay_round_trips_through_simulate(tmp_path):
    truth = scenario_from_toml(TRUTH)
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(PLAN, encoding="utf-8")
    past = tmp_path / "past.csv"
    kolsim.past_export(truth, rng=2).to_csv(past, index=False)
    overlay, report = tmp_path / "overlay.toml", tmp_path / "report"
    res = CliRunner().invoke(main, ["calibrate", str(past), "--scenario", str(plan_file), "--out", str(overlay),
                                    "--report", str(report)])
    assert res.exit_code == 0, res.output
    assert "tiers.koc.reach" in res.output
    data = tomllib.loads(overlay.read_text(encoding="utf-8"))
    assert data["calibration"]["source"] == str(past) and len(data["calibration"]["sha256"]) == 64
    assert data["calibration"]["intervals"]["tiers.micro.ctr"][0] < data["tiers"]["micro"]["ctr"]
    assert {"report.md", "calibration.csv", "intervals.png", "reads_by_age.png", "orders_by_day.png"} <= \
        {f.name for f in report.iterdir()}
    calibrated = kolsim.load_scenario(plan_file, calibration=overlay)
    assert calibrated.tiers["micro"].ctr == data["tiers"]["micro"]["ctr"]
    assert calibrated.word_of_mouth.q_per_year == data["word_of_mouth"]["q_per_year"]
    assert any("calibration overlay" in n for n in calibrated.notices)
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["simulate", str(plan_file), "--calibration", str(overlay), "--runs", "50",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "calibration overlay" in res.output
    # an overlay key the scenario does not know, or a table it may not set: exit 2 naming the overlay
    for bad, where in (("[tiers.micro]\nrech = 0.3\n", "[tiers.micro] rech"), ("[campaign]\nbudget = 5\n", "[campaign]"),
                       ("[decay]\nfeed_share = 2\n", "[decay] feed_share")):
        f = tmp_path / "bad.toml"
        f.write_text(bad, encoding="utf-8")
        res = CliRunner().invoke(main, ["simulate", str(plan_file), "--calibration", str(f), "--runs", "10"])
        assert res.exit_code == 2, res.output
        assert f"{f}: {where}" in res.output, res.output


# --------------------------------------------------------------------------- #
# Coverage
# --------------------------------------------------------------------------- #
def test_intervals_cover_the_truth_in_90_percent_of_50_campaigns():
    """50 campaigns simulated from TRUTH (seeds 0 … 49), each calibrated against PLAN (the same
    campaign at the defaults): every fitted value's 95 % interval covers its true value in at
    least 45 of them."""
    truth, plan = scenario_from_toml(TRUTH), scenario_from_toml(PLAN)
    hits: dict[str, list[bool]] = {}
    for seed in range(50):
        r = calibrate(kolsim.past_export(truth, rng=seed), plan)
        for _, row in r.table[r.table["key"] != ""].iterrows():
            v = _value(truth, row["key"])
            hits.setdefault(row["key"], []).append(bool(row["low"] <= v <= row["high"]))
    expected = {f"tiers.{t}.{k}" for t in ("koc", "micro", "mid") for k in
                ("reach", "reach_sigma", "interaction_rate", "like_share", "collect_share", "ctr", "cvr")}
    expected |= {"decay.feed_share", "decay.feed_half_life_days", "decay.search_half_life_days",
                 "uncertainty.creator_sigma", "funnel.offsite_per_onsite", "funnel.organic_p_per_year",
                 "word_of_mouth.q_per_year"}
    assert set(hits) == expected
    coverage = {k: np.mean(v) for k, v in hits.items()}
    assert all(len(v) == 50 for v in hits.values())
    low = {k: c for k, c in coverage.items() if c < 0.9}
    assert not low, f"coverage below 90 %: {low}"
