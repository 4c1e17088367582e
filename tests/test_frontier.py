"""The budget frontier and the smallest budget for a target (issue 18 items 1 and 2)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.cli import main
from kolsim.optimize import build_problem
from kolsim.optimize.verify import plan_value

from .test_optimize import creator, make, patterns

SKINCARE = "scenarios/optimize_skincare.toml"
POOL = "scenarios/pools/synthetic_300.csv"


@pytest.fixture(scope="module")
def skincare():
    s = kolsim.load_scenario(SKINCARE).with_({"optimize.exclude": ()})
    return s, kolsim.generate_pool(40, np.random.default_rng(3))


def test_frontier_is_monotone_and_each_point_is_the_cold_optimum(skincare):
    s, pool = skincare
    budgets = [80_000, 100_000, 120_000, 140_000]
    f = kolsim.frontier(s, pool, budgets, runs=300, rng=2, gap=1e-6)
    t = f.table()
    ok = t["objective"].notna()
    assert ok.sum() >= 3
    assert t.loc[ok, "objective"].is_monotonic_increasing
    for b, r in zip(budgets, f.plans):
        cold = kolsim.optimize(s.with_({"campaign.budget": b}), pool, marginal=False, gap=1e-6)
        assert r.status == cold.status
        if cold.has_plan:
            assert r.objective == pytest.approx(cold.objective, rel=2e-6)
            assert r.spend <= b
    # the marginal value is the slope between neighbours, and the tier mix adds up
    rows = t[ok].reset_index(drop=True)
    for i in range(1, len(rows)):
        slope = (rows.objective[i] - rows.objective[i - 1]) / (rows.budget[i] - rows.budget[i - 1]) * 1000
        assert rows.marginal_per_1000[i] == pytest.approx(slope)
    tiers = [c for c in t.columns if c.endswith("_spend")]
    assert (t.loc[ok, tiers].sum(axis=1) - t.loc[ok, "spend"]).abs().max() < 0.01
    # every plan is simulated on the same random numbers, and its mean is near its expectation
    sims = t.loc[ok]
    assert (sims["simulated_p10"] <= sims["simulated_mean"]).all() and (sims["simulated_mean"] <= sims["simulated_p90"]).all()


def _min_spend_by_enumeration(scenario, pool, rows, target):
    """The smallest spend over every plan meeting the rules (budget aside) with value >= target."""
    p = build_problem(scenario, pool, budget=1e9)
    pats = [patterns(p, k, rows[p.ids[k]]) for k in range(p.n)]
    best = None
    for combo in itertools.product(*pats):
        posts = np.array(combo)
        hired = (posts.sum(axis=1) > 0).astype(int)
        if p.settings.max_posts_per_week is not None and np.any(posts.sum(axis=0) > p.settings.max_posts_per_week):
            continue
        ok = all(int(hired[p.tier == t].sum()) >= r.min_creators and
                 (r.max_creators is None or hired[p.tier == t].sum() <= r.max_creators) for t, r in p.settings.tiers.items())
        if not ok:
            continue
        value, _ = plan_value(p, posts, hired)
        if value >= target:
            cents = int((p.cost_cents * posts.sum(axis=1) + p.fee_cents * hired).sum())
            best = cents if best is None else min(best, cents)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_min_budget_is_exact_by_enumeration(seed):
    rng = np.random.default_rng(seed)
    rows = [creator(i, tier=str(rng.choice(["koc", "micro", "mid"])), category=str(rng.choice(["beauty", "food"])),
                    followers=int(rng.integers(3_000, 200_000)), cost=float(rng.integers(300, 9_000)), monthly=10)
            for i in range(5)]
    s, pool = make(rows, budget=1_000, weeks=1, saturation=False)
    by_id = {r["kol_id"]: r for r in rows}
    top = kolsim.optimize(s.with_({"campaign.budget": 1e7}), pool, marginal=False, gap=1e-9).objective
    for share in (0.3, 0.7):
        target = share * top
        want = _min_spend_by_enumeration(s, pool, by_id, target)
        t = kolsim.min_budget(s, pool, target, gap=1e-9, tolerance=0.005)
        assert t.reachable and round(t.budget * 100) == want
        # budgets are compared in whole cents: no plan within ¥885.99, one at ¥886.00
        assert t.proven and round(t.proof_budget * 100) == want - 1
        assert t.plan.objective >= target


def test_an_unreachable_target_says_what_the_pool_can_reach(skincare):
    s, pool = skincare
    t = kolsim.min_budget(s, pool, 1e7)
    assert not t.reachable and "the most the pool can reach" in t.explanation


def test_cli_frontier_and_target(tmp_path):
    out = tmp_path / "fr"
    res = CliRunner().invoke(main, ["frontier", SKINCARE, "--candidates", POOL, "--budgets", "100000:200000:3",
                                    "--runs", "200", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert {"frontier.csv", "plans.csv", "frontier.png", "frontier.xlsx"} <= {p.name for p in out.iterdir()}
    t = pd.read_csv(out / "frontier.csv")
    assert t["objective"].is_monotonic_increasing and len(t) == 3
    for bad, says in (("200000:100000:3", "needs LO < HI"), ("1e5,9e4", "budgets must increase"),
                      ("0:1e5:3", "every budget must be above 0"), ("a,b", "must be LO:HI:N")):
        res = CliRunner().invoke(main, ["frontier", SKINCARE, "--candidates", POOL, "--budgets", bad])
        assert res.exit_code == 2 and says in res.stderr, (bad, res.stderr)
    res = CliRunner().invoke(main, ["optimize", SKINCARE, "--candidates", POOL, "--target", "conversions=1e9",
                                    "--simulate", "0"])
    assert res.exit_code == 3 and "not reachable" in res.stdout, res.output
    for bad, says in (("conversion=5", "METRIC one of"), ("conversions=-1", "above 0"), ("conversions=x", "needs a number")):
        res = CliRunner().invoke(main, ["optimize", SKINCARE, "--candidates", POOL, "--target", bad])
        assert res.exit_code == 2 and says in res.stderr, (bad, res.stderr)
