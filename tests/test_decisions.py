"""Decision sensitivity: sweep --optimize re-optimises at each point (issue 17 item 3)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.cli import main
from kolsim.optimize.pipeline import evaluate_plan

GAP = 1e-7


@pytest.fixture(scope="module")
def request_and_pool():
    s = kolsim.load_scenario("scenarios/optimize_skincare.toml").with_(
        {"optimize.exclude": (), "campaign.budget": 100_000})
    return s, kolsim.generate_pool(40, np.random.default_rng(3))


def _ids(plan):
    return frozenset(map(str, plan["kol_id"]))


def test_switch_points_match_exhaustive_cold_solves(request_and_pool):
    s, pool = request_and_pool
    r = kolsim.sweep(s, ["tiers.micro.cvr=0.005:0.045:5"], candidates=pool, gap=GAP)
    d = r.decisions
    cold = [kolsim.optimize(s.with_({"tiers.micro.cvr": v}), pool, marginal=False, gap=GAP)
            for v in d["tiers.micro.cvr"]]
    base = kolsim.optimize(s, pool, marginal=False, gap=GAP)
    for (_, row), c in zip(d.iterrows(), cold):
        assert row["objective"] == pytest.approx(c.objective, rel=1e-6)
        # keeping the base plan: its value under the point's assumptions, and it never beats the optimum
        value, why = evaluate_plan(s.with_({"tiers.micro.cvr": row["tiers.micro.cvr"]}), pool, base.plan)
        assert why == "fits" and row["base_plan_value"] == pytest.approx(value)
        assert row["regret"] >= -1e-6 * c.objective
        assert row["added"] == len(_ids(c.plan) - _ids(base.plan)) and row["removed"] == len(_ids(base.plan) - _ids(c.plan))
    expected = [i for i in range(1, len(cold)) if _ids(cold[i].plan) != _ids(cold[i - 1].plan)]
    assert list(r.switches["to_point"]) == expected and list(r.switches["from_point"]) == [i - 1 for i in expected]
    assert d["changed"].tolist() == [i in expected for i in range(len(cold))]
    at_base = d[d["tiers.micro.cvr"] == s.tiers["micro"].cvr]
    assert (at_base["regret"].abs() <= 1e-6 * at_base["objective"]).all()
    assert len(expected) >= 1  # the request is chosen so that the plan does change
    from kolsim import plots

    assert "Decision sensitivity" in plots.plot_switches(r)._suptitle.get_text()


def test_a_plan_that_breaks_the_point_has_no_regret(request_and_pool):
    s, pool = request_and_pool
    r = kolsim.sweep(s, ["campaign.budget=60000,80000,100000"], candidates=pool, gap=GAP)
    d = r.decisions
    assert d["status"].tolist() == ["infeasible", "optimal", "optimal"]
    small = d.iloc[1]  # the base plan spends more than ¥80,000: it does not fit, so it has no value there
    assert np.isnan(small["base_plan_value"]) and small["base_plan"].startswith("budget: spend")
    assert np.isnan(small["regret"]) and d.iloc[2]["regret"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("args, says", [
    (["--optimize"], "--optimize and --candidates go together"),
    (["--candidates", "scenarios/pools/synthetic_300.csv"], "--optimize and --candidates go together"),
    (["--time-limit", "5"], "--time-limit: is for --optimize"),
    (["--optimize", "--candidates", "scenarios/pools/synthetic_300.csv", "--method", "sobol"], "sobol is for simulated"),
    (["--optimize", "--candidates", "scenarios/pools/synthetic_300.csv", "--workers", "2"], "re-solves run in order"),
])
def test_bad_decision_sweeps_exit_2(args, says):
    vary = ["--vary", "tiers.micro.cvr=0.01:0.03" if "sobol" in args else "tiers.micro.cvr=0.01,0.03"]
    res = CliRunner().invoke(main, ["sweep", "scenarios/optimize_skincare.toml", *vary, *args])
    assert res.exit_code == 2 and says in res.stderr, res.stderr


def test_decision_sweep_needs_an_optimize_table():
    res = CliRunner().invoke(main, ["sweep", "scenarios/perfume_launch.toml", "--vary", "tiers.micro.cvr=0.01,0.03",
                                    "--optimize", "--candidates", "scenarios/pools/synthetic_300.csv"])
    assert res.exit_code == 2 and "has no [optimize] table" in res.stderr, res.stderr


def test_cli_decision_sweep_writes_its_files(tmp_path):
    out = tmp_path / "dec"
    res = CliRunner().invoke(main, ["sweep", "scenarios/optimize_skincare.toml", "--optimize", "--candidates",
                                    "scenarios/pools/synthetic_300.csv", "--vary", "tiers.micro.cvr=0.015,0.025,0.035",
                                    "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "re-optimised at 3 points" in res.stdout
    assert {"decisions.csv", "switches.csv", "base_plan.csv", "switches.png"} <= {p.name for p in out.iterdir()}
    page = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["report", str(out), "--out", str(page)])
    assert res.exit_code == 0 and "before the best plan should change" in page.read_text(encoding="utf-8")


def test_infeasible_points_are_gaps_in_the_plot(tmp_path):
    out = tmp_path / "d"
    res = CliRunner().invoke(main, ["sweep", "scenarios/optimize_skincare.toml", "--optimize", "--candidates",
                                    "scenarios/pools/synthetic_300.csv", "--time-limit", "5",
                                    "--vary", "campaign.budget=500,150000", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert (out / "switches.png").exists()
