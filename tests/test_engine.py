"""The Monte Carlo engine: reproducibility (RELIABILITY T6), stopping rule, compare."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import kolsim
from kolsim.cli import main
from kolsim.engines.montecarlo import BLOCK


@pytest.fixture(scope="module")
def launch():
    return kolsim.load_scenario("scenarios/perfume_launch.toml")


def _same(a, b):
    for k in a.totals:
        assert np.array_equal(a.totals[k], b.totals[k]), k
    for k in a.daily:
        assert np.array_equal(a.daily[k], b.daily[k]), k


def test_workers_and_chunks_do_not_change_results(launch):
    one = kolsim.simulate(launch, runs=3 * BLOCK + 17, rng=99)
    two = kolsim.simulate(launch, runs=3 * BLOCK + 17, rng=99, workers=2)
    chunked = kolsim.simulate(launch, runs=3 * BLOCK + 17, rng=99, workers=2, blocks_per_task=7)
    _same(one, two)
    _same(one, chunked)


def test_more_runs_extend_fewer(launch):
    """200 runs reproduce the first 100 (and 600 the first 200, across blocks)."""
    a = kolsim.simulate(launch, runs=100, rng=5)
    b = kolsim.simulate(launch, runs=200, rng=5)
    c = kolsim.simulate(launch, runs=600, rng=5)
    for k in a.totals:
        assert np.array_equal(a.totals[k], b.totals[k][:100])
        assert np.array_equal(b.totals[k], c.totals[k][:200])


def test_seeds_and_generators(launch):
    a = kolsim.simulate(launch, runs=50, rng=np.random.SeedSequence(5))
    b = kolsim.simulate(launch, runs=50, rng=5)
    _same(a, b)
    # a Generator is drawn from (SPEC 7): the same state gives the same run, a used one another,
    # and the seed it gave is recorded, so the run can be repeated from it
    c = kolsim.simulate(launch, runs=50, rng=np.random.default_rng(5))
    _same(c, kolsim.simulate(launch, runs=50, rng=np.random.default_rng(5)))
    used = np.random.default_rng(5)
    used.random()
    d = kolsim.simulate(launch, runs=50, rng=used)
    assert not np.array_equal(c.totals["reads"], d.totals["reads"])
    _same(d, kolsim.simulate(launch, runs=50, rng=d.provenance["seed"]))
    g = np.random.default_rng(5)
    first, second = kolsim.simulate(launch, runs=50, rng=g), kolsim.simulate(launch, runs=50, rng=g)
    assert not np.array_equal(first.totals["reads"], second.totals["reads"])  # g moved on
    e = kolsim.simulate(launch, runs=50, rng=6)
    assert not np.array_equal(a.totals["reads"], e.totals["reads"])
    default = kolsim.simulate(launch, runs=50)
    explicit = kolsim.simulate(launch, runs=50, rng=launch.simulation.seed)
    _same(default, explicit)


def test_cli_outputs_are_byte_identical_across_workers(tmp_path):
    runner = CliRunner()
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        res = runner.invoke(main, ["simulate", "scenarios/micro_seeding.toml", "--runs", "600",
                                   "--seed", "3", "--workers", str(workers), "--out", str(out)])
        assert res.exit_code == 0, res.output
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir())
    assert {"summary.csv", "replications.csv", "daily.csv", "summary.json",
            "distributions.png", "cumulative_conversions.png"} <= set(names)
    for n in names:
        assert (outs[0] / n).read_bytes() == (outs[1] / n).read_bytes(), n
    prov = json.loads((outs[0] / "summary.json").read_text())["provenance"]
    assert prov["seed"] == 3 and prov["runs"] == 600
    assert prov["kolsim_version"] == kolsim.__version__
    assert len(prov["scenario_hash"]) == 16


def test_stopping_rule_stops_at_a_block_boundary_whatever_the_workers(launch):
    target = 0.01
    a = kolsim.simulate(launch, runs=20_000, rng=8, target_half_width=target)
    b = kolsim.simulate(launch, runs=20_000, rng=8, target_half_width=target, workers=2)
    _same(a, b)
    n = a.runs
    assert n % BLOCK == 0 and n < 20_000
    x = a.totals["conversions"].astype(float)
    half = 1.96 * x.std(ddof=1) / math.sqrt(n) / x.mean()
    assert half <= target
    y = x[: n - BLOCK]  # one block fewer did not meet the rule
    assert 1.96 * y.std(ddof=1) / math.sqrt(y.size) / y.mean() > target


def test_scenario_hash_ignores_formatting_but_not_content(tmp_path):
    text = open("scenarios/micro_seeding.toml", encoding="utf-8").read()
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text("# a comment\n" + text.replace(" = ", "="), encoding="utf-8")
    (tmp_path / "c.toml").write_text(text.replace("budget = 30_000", "budget = 31_000"),
                                     encoding="utf-8")
    h = [kolsim.simulate(kolsim.load_scenario(tmp_path / f"{n}.toml"), runs=2).provenance["scenario_hash"]
         for n in "abc"]
    assert h[0] == h[1] != h[2]


def test_compare_uses_common_random_numbers(launch):
    cheaper = kolsim.load_scenario("scenarios/perfume_launch.toml")
    c = kolsim.compare([launch, cheaper], runs=300, rng=4)
    d = c.differences().set_index("metric")
    assert d.loc["conversions", "mean"] == 0 and d.loc["conversions", "se"] == 0
    snack = kolsim.load_scenario("scenarios/snack_viral.toml")
    c = kolsim.compare([launch, snack], runs=512, rng=4)
    assert list(c.labels) == ["Perfume launch", "Snack viral challenge"]
    assert set(c.summary()["scenario"]) == set(c.labels)
    assert len(c.to_frame()) == 2 * 512
    # paired differences are computed replication by replication
    diff = c.results[1].totals["reads"].astype(float) - c.results[0].totals["reads"]
    row = c.differences().set_index("metric").loc["reads"]
    assert row["mean"] == pytest.approx(diff.mean())


def test_summary_intervals_cover_reported_means(launch):
    r = kolsim.simulate(launch, runs=1000, rng=2)
    s = r.summary()
    assert {"reads", "conversions", "cpa", "cpv", "cpe", "roi", "delivery_rate", "p_profit",
            "p_over_budget"} <= set(s.index)
    cpa = r.totals["spend"].mean() / r.totals["conversions"].mean()
    assert s.loc["cpa", "mean"] == pytest.approx(cpa)
    assert (s["ci_low"] <= s["mean"]).all() and (s["mean"] <= s["ci_high"]).all()
    assert 0 <= s.loc["delivery_rate", "ci_low"] <= s.loc["delivery_rate", "ci_high"] <= 1
    # no price, no revenue: the metrics are left out rather than shown as zero
    no_price = kolsim.parse_scenario({
        "campaign": {"name": "x", "category": "beauty", "budget": 10_000, "horizon_days": 10},
        "audience": {"segments": {"beauty": 1_000_000}},
        "waves": [{"start_day": 0, "tiers": {"micro": 2}}]})
    s2 = kolsim.simulate(no_price, runs=10, rng=1).summary()
    assert "profit" not in s2.index and "roi" not in s2.index and "p_profit" not in s2.index
