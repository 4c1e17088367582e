"""Sweeps, global sensitivity and where the work runs (issue 17 items 1, 2 and 7)."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
from kolsim import plots, sensitivity
from kolsim.cli import main
from kolsim.sweep import parse_vary

SEEDING = "scenarios/micro_seeding.toml"
LAUNCH = "scenarios/perfume_launch.toml"


def _linear_seeding():
    """Micro seeding with nothing that bends conversions away from proportional to CVR: no word
    of mouth, no organic or buyers'-note buyers, every reader in the market, a huge segment."""
    s = kolsim.load_scenario(SEEDING)
    return s.with_({"word_of_mouth.enabled": False, "funnel.organic_p_per_year": 0.0, "funnel.ugc_share": 0.0,
                    "segments.dry_skin": 1e9, "response.in_market_share": 1.0})


def test_doubling_cvr_doubles_conversions():
    r = kolsim.sweep(_linear_seeding(), ["tiers.micro.cvr=0.01,0.02"], metrics="conversions", runs=2000, rng=3)
    a, b = r.metric("conversions").iloc[0], r.metric("conversions").iloc[1]
    # the points are positively correlated (common random numbers), so the independent-draws
    # standard error of b - 2a is an upper bound on the true one
    se = math.hypot(b["se"], 2 * a["se"])
    assert abs(b["mean"] - 2 * a["mean"]) <= 4 * se
    assert b["mean"] - a["mean"] > 10 * se  # and the effect is far from nothing


def test_grid_has_every_combination_and_tidy_rows():
    s = kolsim.load_scenario(LAUNCH)
    r = kolsim.sweep(s, ["tiers.micro.cvr=0.01:0.03:3", "word_of_mouth.q_per_year=0.1,1"],
                     metrics=["conversions", "cpa"], runs=64, rng=1)
    assert len(r.design) == 6
    assert sorted(map(tuple, r.design[["tiers.micro.cvr", "word_of_mouth.q_per_year"]].to_numpy())) == \
        sorted((c, q) for c in (0.01, 0.02, 0.03) for q in (0.1, 1.0))
    t = r.to_frame()
    assert len(t) == 12 and set(t["metric"]) == {"conversions", "cpa"}
    assert list(t.columns[-8:]) == ["n", "mean", "se", "ci_low", "ci_high", "p10", "p50", "p90"]
    assert (t["ci_low"] <= t["mean"]).all() and (t["mean"] <= t["ci_high"]).all()
    # each point is the scenario with those values, simulated on the scenario's seed
    direct = kolsim.simulate(s.with_({"tiers.micro.cvr": 0.02, "word_of_mouth.q_per_year": 1.0}), runs=64, rng=1,
                             target_half_width=0).summary().loc["conversions", "mean"]
    row = t[(t["tiers.micro.cvr"] == 0.02) & (t["word_of_mouth.q_per_year"] == 1.0) & (t["metric"] == "conversions")]
    assert float(row["mean"].iloc[0]) == direct


def test_one_at_a_time_starts_from_the_scenario():
    s = kolsim.load_scenario(LAUNCH)
    r = kolsim.sweep(s, ["tiers.micro.cvr=0.01,0.04", "waves.endorse.posts_per_creator=1,2"], method="oat",
                     metrics="conversions", runs=64, rng=2)
    d = r.design
    assert d["varied"].tolist() == ["(base)", "tiers.micro.cvr", "tiers.micro.cvr",
                                    "waves.endorse.posts_per_creator", "waves.endorse.posts_per_creator"]
    assert d.loc[0, "tiers.micro.cvr"] == s.tiers["micro"].cvr
    assert d.loc[3, "tiers.micro.cvr"] == s.tiers["micro"].cvr and d.loc[1, "waves.endorse.posts_per_creator"] == 1
    assert d["waves.endorse.posts_per_creator"].dtype.kind == "i"
    fig = plots.plot_tornado(r)
    assert "What moves" in fig.axes[0].get_title()


def test_wave_keys_by_name_and_number_and_documented_paths():
    s = kolsim.load_scenario(LAUNCH)
    by_name = kolsim.sweep(s, ["waves.endorse.posts_per_creator=2"], metrics="reads", runs=16, rng=1)
    by_number = kolsim.sweep(s, ["waves.1.posts_per_creator=2"], metrics="reads", runs=16, rng=1)
    assert by_name.table["mean"].tolist() == by_number.table["mean"].tolist()
    seg = kolsim.sweep(s, ["audience.segments.beauty=1000000,5000000"], metrics="conversions", runs=200, rng=1)
    m = seg.metric("conversions")["mean"]
    assert m.iloc[0] < m.iloc[1]  # a smaller audience saturates sooner


def test_ishigami_sobol_indices_within_their_intervals():
    # Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: S1 = .3139, .4424, 0; ST = .5576, .4424, .2437
    factors = [sensitivity.Factor(f"x{i}", -math.pi, math.pi) for i in range(3)]
    x = sensitivity.sobol_design(factors, 1024, seed=1)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    ind = sensitivity.sobol_indices(factors, y, seed=1)
    s1, st = np.array([0.3139, 0.4424, 0.0]), np.array([0.5576, 0.4424, 0.2437])
    assert (np.abs(ind["S1"] - s1) <= ind["S1_conf"]).all()
    assert (np.abs(ind["ST"] - st) <= ind["ST_conf"]).all()


def test_morris_of_a_linear_function_is_exact():
    factors = [sensitivity.Factor("a", 0.0, 2.0), sensitivity.Factor("b", 10.0, 20.0),
               sensitivity.Factor("c", 1.0, 100.0, log=True)]
    x = sensitivity.morris_design(factors, 8, seed=4)
    y = 3 * x[:, 0] - 0.5 * x[:, 1] + 0 * x[:, 2]
    ind = sensitivity.morris_indices(factors, x, y, seed=4)
    # an effect per full range of the factor: 3 * 2 and 0.5 * 10, the same on every trajectory
    assert ind["mu_star"].to_numpy() == pytest.approx([6.0, 5.0, 0.0], abs=1e-9)
    assert ind["sigma"].to_numpy() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_sobol_sweep_reports_indices_and_noise():
    s = kolsim.load_scenario(SEEDING)
    r = kolsim.sweep(s, ["tiers.micro.cvr=0.01:0.04", "tiers.micro.reach=0.2:0.4"], method="sobol", samples=8,
                     metrics="conversions", runs=200, rng=1)
    assert len(r.design) == 8 * (2 + 2)
    ind = r.indices
    assert list(ind["factor"]) == ["tiers.micro.cvr", "tiers.micro.reach"]
    assert ((ind["noise_share"] >= 0) & (ind["noise_share"] < 1)).all()
    assert ind["ST"].sum() > 0.5  # the two keys explain most of what moves conversions
    r2 = kolsim.sweep(s, ["tiers.micro.cvr=0.01:0.04", "tiers.micro.reach=0.2:0.4"], method="morris", samples=4,
                      metrics="conversions", runs=100, rng=1)
    assert len(r2.design) == 4 * 3 and (r2.indices["mu_star"] > 0).all()


def _csv(r) -> bytes:
    return r.to_frame().to_csv(index=False).encode()


def test_same_bytes_for_one_and_two_workers_and_on_dask():
    s = kolsim.load_scenario(LAUNCH)
    args = dict(vary=["tiers.micro.cvr=0.01:0.03:3"], metrics=["conversions", "profit"], runs=300, rng=9)
    one = kolsim.sweep(s, **args)
    two = kolsim.sweep(s, **args, workers=2)
    assert _csv(one) == _csv(two)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        on_dask = kolsim.sweep(s, **args, scheduler=client)
        sim_dask = kolsim.simulate(s, runs=3000, rng=4, scheduler=client)
        sim_address = kolsim.simulate(s, runs=1100, rng=4, scheduler=cluster.scheduler_address)
    assert _csv(one) == _csv(on_dask)
    local = kolsim.simulate(s, runs=3000, rng=4)
    for k, v in local.totals.items():
        assert np.array_equal(v, sim_dask.totals[k]), k
        assert np.array_equal(v[:1100], sim_address.totals[k][:1100]), k


def test_parse_vary_grammar():
    assert parse_vary("tiers.micro.cvr=0.01:0.04:4").grid() == (0.01, 0.02, 0.03, 0.04)
    assert parse_vary("k=1:100:3:log").grid() == (1.0, 10.0, 100.0)
    v = parse_vary("campaign.budget=1e5:2e5")
    assert (v.low, v.high, v.points) == (1e5, 2e5, None)
    assert parse_vary(" k = 1, 2 ,3").values == (1.0, 2.0, 3.0)


@pytest.mark.parametrize("args, says", [
    (["--vary", "tiers.micro.cvr"], "must be KEY=LO:HI:N"),
    (["--vary", "tiers.micro.cvr=0.04:0.01:3"], "needs LO < HI"),
    (["--vary", "tiers.micro.cvr=a:b:3"], "'a' is not a number"),
    (["--vary", "tiers.micro.cvr=0.01:0.04:1"], "N must be a whole number of points from 2"),
    (["--vary", "tiers.micro.cvr=0:1:3:log"], "a log scale needs LO > 0"),
    (["--vary", "tiers.micro.cvr=0.01,0.01"], "lists a value twice"),
    (["--vary", "tiers.micro.cvr=0.01:0.04"], "needs N points"),
    (["--vary", "tiers.micro.cvrr=0.1,0.2"], "Did you mean 'cvr'"),
    (["--vary", "tiers.mega.cvr=0.1,0.2"], "'tiers.mega' is not in the scenario"),
    (["--vary", "campaign.category=1,2"], "is not a numeric key"),
    (["--vary", "tiers.micro.cvr=0.5,3"], "--vary at tiers.micro.cvr=3: [tiers.micro] cvr: must be a number"),
    (["--vary", "waves.endorse.posts_per_creator=1:2:3"], "is a whole number, so every value must be whole"),
    (["--vary", "waves.nosuch.posts_per_creator=1,2"], "the scenario has no wave 'nosuch'"),
    (["--vary", "tiers.micro.cvr=0.01,0.02", "--vary", "tiers.MICRO.cvr=0.03,0.04"], "varies the same key"),
    (["--method", "sobol", "--vary", "tiers.micro.cvr=0.01:0.04:3"], "sobol samples a range"),
    (["--method", "sobol", "--vary", "waves.endorse.posts_per_creator=1:3"], "is a whole number; vary it with"),
    (["--method", "sobol", "--samples", "6", "--vary", "tiers.micro.cvr=0.01:0.04"], "must be a power of 2"),
    (["--samples", "8", "--vary", "tiers.micro.cvr=0.01,0.02"], "--samples: sets the size"),
    (["--metric", "conversion", "--vary", "tiers.micro.cvr=0.01,0.02"], "Did you mean 'conversions'"),
    (["--scheduler", "localhost", "--vary", "tiers.micro.cvr=0.01,0.02"], "must be a Dask scheduler's address"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2", "--vary", "tiers.micro.cvr=0.01,0.02"],
     "cannot both be given"),
])
def test_bad_sweeps_exit_2_with_one_line_and_write_nothing(tmp_path, args, says):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sweep", LAUNCH, "--runs", "8", "--out", str(out)] + args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len([x for x in lines if x.startswith("kolsim: error")]) == 1 and says in lines[-1], res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_unreachable_scheduler_is_exit_2(tmp_path):
    res = CliRunner().invoke(main, ["sweep", LAUNCH, "--runs", "8", "--vary", "tiers.micro.cvr=0.01,0.02",
                                    "--scheduler", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and "cannot reach the Dask scheduler" in res.stderr, res.stderr


def test_cli_sweep_writes_its_tables_and_plots(tmp_path):
    out = tmp_path / "sw"
    res = CliRunner().invoke(main, ["sweep", LAUNCH, "--vary", "tiers.micro.cvr=0.01:0.03:3", "--runs", "50",
                                    "--seed", "2", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.stderr
    assert "grid sweep of tiers.micro.cvr: 3 points" in res.stdout
    names = {p.name for p in out.iterdir()}
    assert {"sweep.csv", "design.csv", "sweep.xlsx", "summary.json", "sweep_conversions.png"} <= names
    t = pd.read_csv(out / "sweep.csv")
    assert t["point"].nunique() == 3 and "conversions" in set(t["metric"])
    x = pd.read_excel(out / "sweep.xlsx", sheet_name=None)
    assert set(x) == {"sweep", "design"} and len(x["sweep"]) == len(t)
    again = tmp_path / "again"
    CliRunner().invoke(main, ["sweep", LAUNCH, "--vary", "tiers.micro.cvr=0.01:0.03:3", "--runs", "50",
                              "--seed", "2", "--out", str(again), "--workers", "2"])
    assert (out / "sweep.csv").read_bytes() == (again / "sweep.csv").read_bytes()


def test_axis_labels_use_yuan_and_thousands_without_offsets():
    from kolsim.plots import _formatter

    assert _formatter("spend")(1_234_567, None) == "¥1,234,567"
    assert _formatter("profit")(-50_000, None) == "−¥50,000"
    assert _formatter("conversions")(12_500, None) == "12,500"
    assert _formatter("p_profit")(0.25, None) == "25%"
    s = kolsim.load_scenario(LAUNCH)
    r = kolsim.sweep(s, ["campaign.budget=1000000,2000000"], metrics="spend", runs=16, rng=1)
    fig = plots.plot_sweep(r)
    ax = fig.axes[0]
    fig.savefig(io.BytesIO(), format="png")  # draws the ticks
    assert ax.yaxis.get_offset_text().get_text() == "" and ax.xaxis.get_offset_text().get_text() == ""


def test_a_ratio_undefined_at_a_point_is_empty_there_not_a_crash():
    s = kolsim.load_scenario(SEEDING)
    r = kolsim.sweep(s, ["tiers.micro.p_post_gifted=0,0.5"], metrics=["cpv", "conversions"], runs=64, rng=1)
    cpv = r.metric("cpv")
    assert np.isnan(cpv["mean"].iloc[0]) and cpv["n"].iloc[0] == 0 and cpv["mean"].iloc[1] > 0


def test_keys_that_change_nothing_are_refused():
    s = kolsim.load_scenario(LAUNCH)
    for key, says in (("simulation.runs=100,200", "does not change the campaign"),
                      ("optimize.weeks=1,2", "no [optimize]") if s.optimize is not None else
                      ("schema_version=1,2", "does not change the campaign"),
                      ("tiers.micro=1,2", "is a table; name one of its keys"),
                      ("waves.endorse.post_probability=0.5,0.9", "is not set in the scenario")):
        with pytest.raises(kolsim.InputError, match=re.escape(says)):
            kolsim.sweep(s, [key], runs=16)


def test_values_are_swept_in_increasing_order_and_recorded_exactly():
    s = kolsim.load_scenario(LAUNCH)
    r = kolsim.sweep(s, "tiers.micro.cvr=0.045,0.005,0.0123456789", metrics="conversions", runs=16, rng=1)
    assert r.design["tiers.micro.cvr"].tolist() == [0.005, 0.0123456789, 0.045]
    assert r.provenance["vary"] == ["tiers.micro.cvr=0.045,0.005,0.0123456789"]
