"""Incremental planning: bought notes kept, additions for more budget, replacements when creators
drop out (issue 18 item 3)."""

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
from kolsim.replan import drop_creators, extend_plan

from .test_optimize import creator, make, patterns

SKINCARE = "scenarios/optimize_skincare.toml"
POOL = "scenarios/pools/synthetic_300.csv"


@pytest.fixture(scope="module")
def bought():
    s = kolsim.load_scenario(SKINCARE)
    pool = kolsim.load_pool(POOL)
    return s, pool, kolsim.optimize(s, pool, marginal=False).plan


def _notes(plan):
    return plan.groupby(["kol_id", "week"])["posts"].sum()


def test_extra_budget_keeps_every_bought_note(bought):
    s, pool, plan = bought
    rp = extend_plan(s, pool, plan, 50_000)
    r = rp.result
    assert r.has_plan
    after = _notes(r.plan)
    for key, n in _notes(plan).items():
        assert after.get(key, 0) >= n
    assert r.spend <= rp.before_spend + 50_000 + 0.005
    assert rp.gain > 0 and (rp.changes["change"] == "added").all()


def test_a_drop_out_keeps_every_unaffected_note(bought):
    s, pool, plan = bought
    gone = list(plan["kol_id"].unique()[:2])
    rp = drop_creators(s, pool, plan, gone)
    r = rp.result
    assert r.has_plan and not set(gone) & set(r.plan["kol_id"])
    after = _notes(r.plan)
    for (kol, week), n in _notes(plan).items():
        if kol not in gone:
            assert after.get((kol, week), 0) >= n
    assert r.spend <= s.campaign.budget + 0.005
    assert set(rp.changes.loc[rp.changes["change"] == "dropped", "kol_id"]) == set(gone)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bought_notes_agree_with_enumeration(seed):
    rng = np.random.default_rng(seed)
    rows = [creator(i, tier=str(rng.choice(["koc", "micro"])), followers=int(rng.integers(3_000, 60_000)),
                    cost=float(rng.integers(300, 3_000)), monthly=10) for i in range(4)]
    s, pool = make(rows, budget=float(rng.integers(3_000, 8_000)), weeks=2, saturation=bool(seed % 2))
    buy = pd.DataFrame({"kol_id": [rows[0]["kol_id"]], "week": [1], "posts": [1]})
    r = kolsim.optimize(s, pool, bought=buy, marginal=False, gap=1e-9)
    p = build_problem(s, pool, bought=buy)
    by_id = {row["kol_id"]: row for row in rows}
    best = None
    for combo in itertools.product(*[patterns(p, k, by_id[p.ids[k]]) for k in range(p.n)]):
        posts = np.array(combo)
        if np.any(posts < p.bought):
            continue
        hired = (posts.sum(axis=1) > 0).astype(int)
        if int((p.cost_cents * posts.sum(axis=1) + p.fee_cents * hired).sum()) > p.budget_cents:
            continue
        v, _ = plan_value(p, posts, hired)
        best = v if best is None or v > best else best
    if best is None:
        assert not r.has_plan
    else:
        assert r.has_plan and r.objective == pytest.approx(best, rel=1e-6 + p.approximation_error)
        assert _notes(r.plan).get((rows[0]["kol_id"], 1), 0) >= 1


def test_cli_replans_and_bad_requests(tmp_path, bought):
    s, pool, plan = bought
    start = tmp_path / "plan.csv"
    plan.to_csv(start, index=False)
    out = tmp_path / "re"
    res = CliRunner().invoke(main, ["optimize", SKINCARE, "--candidates", POOL, "--start", str(start),
                                    "--extra-budget", "20000", "--simulate", "0", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "bought note(s) kept" in res.stdout and (out / "changes.csv").exists()
    for args, says in ((["--drop", "nope"], "'nope' is not in the plan"),
                       (["--extra-budget", "-5"], "--extra-budget"),
                       (["--drop", plan["kol_id"].iloc[0], "--extra-budget", "5"], "separate questions")):
        res = CliRunner().invoke(main, ["optimize", SKINCARE, "--candidates", POOL, "--start", str(start), *args])
        assert res.exit_code == 2 and says in res.stderr, (args, res.stderr)
    res = CliRunner().invoke(main, ["optimize", SKINCARE, "--candidates", POOL, "--drop", "x"])
    assert res.exit_code == 2 and "needs --start" in res.stderr
