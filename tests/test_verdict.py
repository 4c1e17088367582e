"""Compare's verdict: differences, % changes, P(better) on paired replications, a selectable
baseline and the forest plot (issue 17 item 4)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

import kolsim
from kolsim import plots
from kolsim.cli import main

LAUNCH = "scenarios/perfume_launch.toml"
SNACK = "scenarios/snack_viral.toml"


@pytest.fixture(scope="module")
def launch():
    return kolsim.load_scenario(LAUNCH)


def _row(v, scenario, metric):
    r = v[(v["scenario"] == scenario) & (v["metric"] == metric)]
    assert len(r) == 1
    return r.iloc[0]


def test_a_scenario_against_itself_is_no_difference(launch):
    c = kolsim.compare([launch, launch], runs=300, rng=1)
    v = c.verdict()
    assert (v["difference"] == 0).all() and (v["p_beats"] == 0.5).all()
    assert set(v["verdict"]) == {"no clear difference"}


def test_doubled_prices_double_cpa_exactly(launch):
    # the same notes at twice the price: every draw is the same, so spend and CPA double
    # replication by replication and the paired interval has no width
    tiers = {c: {"cost_per_post": 2 * t.cost_per_post} for c, t in launch.tiers.items()}
    dear = launch.with_({f"tiers.{c}.cost_per_post": v["cost_per_post"] for c, v in tiers.items()}
                        | {"campaign.name": "dear"})
    c = kolsim.compare([launch, dear], runs=400, rng=2)
    v = c.verdict()
    for m in ("spend", "cpa", "cpe", "cpv"):
        r = _row(v, "dear", m)
        assert r["pct_change"] == pytest.approx(1.0, abs=1e-9) and r["verdict"] == "worse"
        assert r["pct_ci_high"] - r["pct_ci_low"] == pytest.approx(0.0, abs=1e-6)
    assert _row(v, "dear", "spend")["p_beats"] == 0.0  # lower is better, and it is never lower
    r = _row(v, "dear", "conversions")
    assert r["difference"] == 0 and r["verdict"] == "no clear difference"


def test_verdict_figures_are_the_paired_statistics(launch):
    better = launch.with_({"tiers.micro.cvr": 0.05, "campaign.name": "better"})
    c = kolsim.compare([launch, better], runs=2000, rng=3)
    v = c.verdict()
    a, b = c.results[0].totals["conversions"].astype(float), c.results[1].totals["conversions"].astype(float)
    r = _row(v, "better", "conversions")
    d = b - a
    assert r["difference"] == pytest.approx(d.mean())
    half = r["ci_high"] - r["difference"]
    assert half == pytest.approx(1.9612 * d.std(ddof=1) / math.sqrt(d.size), rel=1e-3)
    assert r["pct_change"] == pytest.approx(b.mean() / a.mean() - 1)
    assert r["p_beats"] == pytest.approx(((b > a).sum() + 0.5 * (b == a).sum()) / a.size)
    assert r["verdict"] == "better" and r["pct_ci_low"] > 0
    # CPA: ratio of means, and its delta-method interval agrees with a bootstrap of the pairs
    sa, sb = c.results[0].totals["spend"], c.results[1].totals["spend"]
    cpa = _row(v, "better", "cpa")
    assert cpa["difference"] == pytest.approx(sb.mean() / b.mean() - sa.mean() / a.mean())
    rng = np.random.default_rng(0)
    idx = rng.integers(0, a.size, size=(400, a.size))
    boot = sb[idx].mean(1) / b[idx].mean(1) - sa[idx].mean(1) / a[idx].mean(1)
    se_delta = (cpa["ci_high"] - cpa["difference"]) / 1.9612
    # 400 resamples estimate an SE to about 1/sqrt(2 * 400) = 3.5 %; 4 of those
    assert boot.std(ddof=1) == pytest.approx(se_delta, rel=0.14)


def test_baseline_is_selectable(launch):
    snack = kolsim.load_scenario(SNACK)
    c = kolsim.compare([launch, snack], runs=200, rng=1)
    v1 = c.verdict(baseline=1)
    v2 = c.verdict(baseline="Snack viral challenge")
    v3 = c.verdict(baseline=SNACK)
    assert v1.equals(v2) and v1.equals(v3)
    assert set(v1["scenario"]) == {"Perfume launch"} and set(v1["versus"]) == {"Snack viral challenge"}
    back = c.verdict()
    r1, r0 = _row(v1, "Perfume launch", "conversions"), _row(back, "Snack viral challenge", "conversions")
    assert r1["difference"] == pytest.approx(-r0["difference"]) and r1["p_beats"] == pytest.approx(1 - r0["p_beats"])
    with pytest.raises(kolsim.InputError, match="none of the scenarios compared"):
        c.verdict(baseline="nope")
    fig = plots.plot_forest(c, baseline=1)
    assert "against Snack viral challenge" in fig.axes[0].get_title()


def test_cli_compare_verdict_and_baseline(tmp_path):
    out = tmp_path / "cmp"
    res = CliRunner().invoke(main, ["compare", LAUNCH, SNACK, "--runs", "100", "--baseline", "2", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "== Verdict against Snack viral challenge" in res.stdout
    assert {"verdict.csv", "forest.png"} <= {p.name for p in out.iterdir()}
    for bad, says in (("3", "is scenario number 3, but 2 were given"), ("nope", "none of the scenarios compared")):
        res = CliRunner().invoke(main, ["compare", LAUNCH, SNACK, "--runs", "10", "--baseline", bad])
        assert res.exit_code == 2 and says in res.stderr and "--baseline" in res.stderr, res.stderr
