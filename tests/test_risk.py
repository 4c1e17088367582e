"""Risk-aware plans (sample average approximation): the programs against enumeration of every
plan on small pools, the scenarios' model against the expected one, the chance constraint out
of sample, and the planner-facing API (``docs/optimizer.md`` §21–22)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kolsim.optimize import build_problem, optimize
from kolsim.optimize.risk import (RiskSpec, draw_multipliers, parse_risk, scenario_outcomes, solve_risk,
                                  tail_measures)
from kolsim.optimize.verify import plan_value
from kolsim.errors import InputError
from kolsim.riskplan import _posts, optimize_risk, risk_tradeoff
from .test_optimize import creator, feasible_plans, make

POOLS = {
    "mixed": [creator(0, "micro", cost=3000, followers=30_000, monthly=20),
              creator(1, "koc", cost=500, followers=3_000, monthly=20),
              creator(2, "mid", cost=12_000, followers=220_000, monthly=10),
              creator(3, "koc", "food", cost=450, followers=4_000, monthly=20),
              creator(4, "micro", "food", cost=2800, followers=28_000, monthly=10)],
    "one segment": [creator(0, "micro", cost=3000, followers=30_000, monthly=20),
                    creator(1, "micro", cost=2600, followers=24_000, monthly=20),
                    creator(2, "koc", cost=600, followers=5_000, monthly=20),
                    creator(3, "mid", cost=9_000, followers=150_000, monthly=10)],
}


def request(name, saturation, objective="conversions", budget=16_000, seed=3, S=40):
    rows = POOLS[name]
    scenario, pool = make(rows, budget=budget, weeks=2, saturation=saturation, objective=objective)
    p = build_problem(scenario, pool)
    a = draw_multipliers(scenario, pool, p, S, np.random.default_rng(seed))
    return scenario, pool, p, a, {r["kol_id"]: r for r in rows}


def enumerate_plans(p, rows, a):
    """Every feasible plan with its spend, expected value and exact scenario outcomes."""
    out = []
    for posts, hired in feasible_plans(p, rows):
        value, _ = plan_value(p, posts, hired)
        y = scenario_outcomes(p, posts.astype(float), hired.astype(float), a)
        spend = int((p.cost_cents * posts.sum(axis=1) + p.fee_cents * hired).sum())
        out.append((posts, value, y, spend))
    return out


def exact(p, a, vp, alpha, target=None):
    return tail_measures(scenario_outcomes(p, vp.posts, vp.hired, a), alpha, target)


@pytest.mark.parametrize("saturation", [True, False])
@pytest.mark.parametrize("objective", ["conversions", "profit"])
def test_unit_multipliers_give_the_expected_model(saturation, objective):
    scenario, pool, p, _, _ = request("mixed", saturation, objective, budget=60_000)
    r = optimize(scenario, pool, marginal=False)
    posts, hired = _posts(p, r.plan)
    y = scenario_outcomes(p, posts, hired, np.ones((3, p.n)))
    assert np.allclose(y, plan_value(p, posts, hired)[0], rtol=1e-12, atol=1e-9)


def test_multipliers_have_mean_one_and_the_documented_spread():
    _, _, p, a, _ = request("mixed", True, S=20_000)
    se = a.std(axis=0) / math.sqrt(a.shape[0])
    assert np.all(np.abs(a.mean(axis=0) - 1) < 4 * se)
    # creators share the campaign's demand effect: their multipliers are positively correlated
    c = np.corrcoef(np.log(a).T)
    assert np.all(c[np.triu_indices(p.n, 1)] > 0)


def test_tail_measures_by_their_definitions():
    y = np.arange(1.0, 11.0)  # 1 … 10
    m = tail_measures(y, 0.2, target=4)
    assert m["quantile"] == 3.0          # all but floor(0.2 * 10) = 2 scenarios reach 3
    assert m["cvar"] == pytest.approx(1.5)   # the worst 20 %: (1 + 2) / 2
    assert m["probability"] == pytest.approx(0.7)
    assert m["mean"] == pytest.approx(5.5)


SPECS = ["cvar", "quantile", "floor cvar", "floor quantile", "probability"]


@pytest.mark.parametrize("pool_name", list(POOLS))
@pytest.mark.parametrize("saturation", [True, False])
@pytest.mark.parametrize("kind", SPECS)
def test_risk_programs_equal_enumeration(pool_name, saturation, kind):
    """Every request's answer against the best of every feasible plan on the exact curves.
    The program sees the saturation curves through tangents within the request's relative
    tolerance (docs/optimizer.md §21), so with saturation the plan may trail the best by that."""
    scenario, pool, p, a, rows = request(pool_name, saturation)
    tol = p.settings.saturation_tolerance if saturation else 0.0
    slack = lambda v: abs(v) * (tol + 1e-6) + 1e-6  # noqa: E731
    alpha = 0.1
    plans = enumerate_plans(p, rows, a)
    assert len(plans) > 20
    measure = "quantile" if "quantile" in kind else "cvar"
    tm = [tail_measures(y, alpha) for _, _, y, _ in plans]
    best_tail = max(t[measure] for t in tm)
    if kind in ("cvar", "quantile"):
        rs = solve_risk(p, a, RiskSpec("max", measure, alpha), time_limit=60, gap=1e-7)
        got = exact(p, a, rs.plan, alpha)[measure]
        assert got <= best_tail + 1e-9
        assert got >= best_tail - slack(best_tail)
        assert rs.bound >= best_tail - 1e-6 * max(1, abs(best_tail))
        assert rs.status == "optimal"
    elif kind.startswith("floor"):
        r = optimize(scenario, pool, marginal=False)
        posts, hired = _posts(p, r.plan)
        low = tail_measures(scenario_outcomes(p, posts, hired, a), alpha)[measure]
        floor = low + 0.5 * (best_tail - low)
        ok = [v for (_, v, _, _), t in zip(plans, tm) if t[measure] >= floor]
        rs = solve_risk(p, a, RiskSpec("floor", measure, alpha, floor=floor), time_limit=60, gap=1e-7,
                        start=r.plan)
        assert rs.status == "optimal"
        assert exact(p, a, rs.plan, alpha)[measure] >= floor - 1e-7 * abs(floor)  # on the exact curves
        assert rs.plan.value >= max(ok) - slack(max(ok))
    else:
        # the middle of what the plans reach in 80 % of the scenarios: some plans do, cheaper ones not
        target = float(np.median([tail_measures(y, 0.2)["quantile"] for _, _, y, _ in plans]))
        need = math.ceil(0.8 * a.shape[0])
        ok = [s for _, _, y, s in plans if (y >= target).sum() >= need]
        assert ok, "the test's target must be reachable"
        # the problem at the largest budget, as optimize_risk builds it
        big = build_problem(scenario, pool, budget=1e7)
        rs = solve_risk(big, a, RiskSpec("probability", target=target, probability=0.8), time_limit=60, gap=1e-7)
        assert rs.status == "optimal"
        assert rs.plan.spend_cents <= min(ok)
        y = scenario_outcomes(big, rs.plan.posts, rs.plan.hired, a)
        assert (y >= target).sum() >= need  # on the exact curves
        if not saturation:
            assert rs.plan.spend_cents == min(ok)


def test_parse_risk_reads_the_documented_forms():
    assert parse_risk("cvar:0.1") == RiskSpec("max", "cvar", 0.1)
    assert parse_risk(" Quantile:0.2 >= 1,500 ") == RiskSpec("floor", "quantile", 0.2, floor=1500.0)
    assert parse_risk("cvar") == RiskSpec("max", "cvar", 0.1)


@pytest.mark.parametrize("text, says", [
    ("var:0.1", "MEASURE:ALPHA"), ("cvar:ten", "tail share"), ("cvar:1.5", "above 0 and below 1"),
    ("cvar:0", "above 0 and below 1"), ("cvar:0.1>=lots", "number after >="), ("cvar:0.1>=nan", "finite floor"),
])
def test_bad_risk_requests_say_what_is_allowed(text, says):
    with pytest.raises(InputError, match=says) as e:
        parse_risk(text)
    assert "--risk" in str(e.value)


def test_bad_probability_requests_say_what_is_allowed():
    with pytest.raises(InputError, match="above 0 and below 1"):
        RiskSpec("probability", target=10, probability=1.0)
    with pytest.raises(InputError, match="target above 0"):
        RiskSpec("probability", target=-1, probability=0.5)


def test_a_chance_constrained_plan_meets_its_probability_out_of_sample():
    """The in-sample share is at least p by construction; on 20,000 fresh scenarios of the same
    model the plan's probability stays within the in-sample standard error sqrt(p(1-p)/S) of p
    (plus 4 of the fresh estimate's own)."""
    scenario, pool, p, _, rows = request("one segment", True)
    S, prob = 100, 0.8
    target = 0.6 * optimize(scenario, pool, marginal=False).objective
    r = optimize_risk(scenario, pool, target=target, probability=prob, scenarios=S, runs=0,
                      rng=11, time_limit=30, gap=0.05, check_scenarios=20_000)
    assert r.has_plan
    m = r.measures.set_index("sample")
    assert m.loc["in_sample", "probability"] >= prob
    out, out_se = m.loc["out_of_sample", "probability"], m.loc["out_of_sample", "probability_se"]
    assert out >= prob - math.sqrt(prob * (1 - prob) / S) - 4 * out_se


def test_a_floor_no_plan_reaches_is_explained_with_the_best_reachable():
    scenario, pool, p, _, _ = request("mixed", True)
    r = optimize_risk(scenario, pool, "cvar:0.1>=1e6", scenarios=40, runs=0, rng=1, time_limit=30,
                      check_scenarios=0)
    assert r.status == "infeasible" and not r.has_plan
    assert "no plan within the request's rules has CVaR 10% >= 1e+06" in r.explanation
    assert "the highest CVaR 10% any plan within the budget reaches is about" in r.explanation


def test_the_same_seed_gives_the_same_answer():
    scenario, pool, *_ = request("mixed", True)
    kw = dict(scenarios=40, runs=50, rng=5, time_limit=30, check_scenarios=2000)
    one, two = optimize_risk(scenario, pool, "cvar:0.2", **kw), optimize_risk(scenario, pool, "cvar:0.2", **kw)
    assert one.plan.equals(two.plan)
    assert one.measures.equals(two.measures)


def test_the_tradeoff_trades_mean_for_tail_in_sample():
    """Along the curve each plan maximises the mean with the tail at a higher floor: the
    in-sample mean never rises and the tail never falls (within the program's tolerance)."""
    scenario, pool, p, _, _ = request("mixed", True, budget=30_000)
    t = risk_tradeoff(scenario, pool, points=4, scenarios=40, runs=0, rng=2, time_limit=30, gap=1e-6,
                      check_scenarios=1000)
    tab = t.table
    tol = p.settings.saturation_tolerance
    assert list(tab["kind"]) == ["expected", "floor", "floor", "max"]
    assert np.all(np.diff(tab["in_sample_cvar"]) >= -tol * tab["in_sample_cvar"].abs().max() - 1e-9)
    means = tab["in_sample_mean"].to_numpy()
    assert np.all(np.diff(means[1:]) <= tol * np.abs(means).max() + 1e-9)
    assert set(t.plans["point"]) == {1, 2, 3, 4}
    assert {"out_of_sample_mean", "out_of_sample_cvar"} <= set(tab.columns)


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory):
    """The shipped pool's first 40 creators: a request that solves in a few seconds."""
    import pandas as pd

    path = tmp_path_factory.mktemp("pool") / "pool.csv"
    pd.read_csv("scenarios/pools/synthetic_300.csv").head(40).to_csv(path, index=False)
    return str(path)


def test_cli_risk_writes_one_complete_run(tmp_path, small_pool):
    import json

    import pandas as pd
    from click.testing import CliRunner

    from kolsim.cli import main

    out = tmp_path / "risk"
    r = CliRunner().invoke(main, ["optimize", "scenarios/optimize_skincare.toml", "--candidates", small_pool,
                                  "--risk", "cvar:0.2", "--scenarios", "40", "--simulate", "100",
                                  "--time-limit", "10", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "maximise CVaR 20% over 40 scenarios" in r.output and "out of sample, the risk plan's CVaR" in r.output
    m = pd.read_csv(out / "risk.csv")
    assert set(zip(m["plan"], m["sample"])) == {(p, s) for p in ("risk", "expected")
                                                for s in ("in_sample", "out_of_sample", "simulated")}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["risk"]["measure"] == "cvar" and summary["comparison"]["cvar"]["se"] > 0
    assert {"plan.csv", "risk.csv", "summary.json", "excluded.csv", "plan.png"} <= {f.name for f in out.iterdir()}


def test_cli_tradeoff_and_chance_constraint(tmp_path, small_pool):
    import pandas as pd
    from click.testing import CliRunner

    from kolsim.cli import main

    run = CliRunner()
    t = run.invoke(main, ["optimize", "scenarios/optimize_skincare.toml", "--candidates", small_pool,
                          "--tradeoff", "3", "--scenarios", "30", "--simulate", "0", "--time-limit", "5",
                          "--out", str(tmp_path / "t")])
    assert t.exit_code == 0, t.output
    tab = pd.read_csv(tmp_path / "t" / "tradeoff.csv")
    assert list(tab["kind"]) == ["expected", "floor", "max"] and (tmp_path / "t" / "tradeoff.png").stat().st_size
    c = run.invoke(main, ["optimize", "scenarios/optimize_skincare.toml", "--candidates", small_pool,
                          "--target", "conversions=20", "--target-probability", "0.7", "--scenarios", "40",
                          "--simulate", "0", "--time-limit", "10"])
    assert c.exit_code == 0, c.output
    assert "the least spend with P(outcome >= 20) >= 70%" in c.output and "P(>=20)" in c.output


@pytest.mark.parametrize("args, code, says", [
    (["--risk", "var:0.1"], 2, "--risk"),
    (["--target-probability", "0.8"], 2, "needs --target METRIC=VALUE"),
    (["--target-probability", "1.5", "--target", "conversions=10"], 2, "--target-probability"),
    (["--risk", "cvar:0.1", "--target", "conversions=10"], 2, "needs --target-probability"),
    (["--risk", "cvar:0.1", "--backend", "pulp"], 2, "--backend"),
    (["--tradeoff", "3", "--risk", "cvar:0.1>=5"], 2, "the curve sets its own floors"),
    (["--risk", "cvar:0.1>=1e7", "--time-limit", "5"], 3, "no plan within the request's rules has CVaR 10%"),
])
def test_cli_bad_risk_requests(small_pool, args, code, says):
    from click.testing import CliRunner

    from kolsim.cli import main

    r = CliRunner().invoke(main, ["optimize", "scenarios/optimize_skincare.toml", "--candidates", small_pool,
                                  "--scenarios", "20", "--simulate", "0", *args])
    assert r.exit_code == code, r.output
    assert says in r.output + (r.stderr or "")
    assert "Traceback" not in r.output + (r.stderr or "")


def test_a_tradeoff_point_without_a_plan_is_reported_and_drawn():
    """A floor whose solve found no plan in its time stays a row, said so in the report and
    skipped by the plot (not a crash, not silently dropped)."""
    import pandas as pd

    from kolsim import plots
    from kolsim.cli import _tradeoff_report
    from kolsim.riskplan import TradeoffResult

    table = pd.DataFrame([
        {"point": 1, "kind": "expected", "floor": None, "status": "optimal", "gap": 0.0, "spend": 100.0,
         "creators": 3, "notes": 4, "in_sample_mean": 5.0, "in_sample_quantile": 1.0, "in_sample_cvar": 1.0},
        {"point": 2, "kind": "floor", "floor": 3.0, "status": "no_solution", "gap": None}])
    t = TradeoffResult(table=table, plans=pd.DataFrame(), measure="cvar", alpha=0.1)
    text = _tradeoff_report(type("S", (), {"name": "x"})(), t)
    assert "2 floor    floor 3.000: no plan (no_solution)" in text
    assert plots.plot_tradeoff(t) is not None
