"""Audience exposure (docs/model.md §3): a note's reads land first on its creator's own
followers, then on the segment through the discovery feed.

Each check is against a closed form: the Poisson occupancy of a creator's own followers
(distinct readers P (1 - e^{-O/P}), distinct buyers m (1 - e^{-L/m})), the nesting of those
followers in the segment, the diminishing return of piling notes on one creator, and the
optimizer's expected own-follower curve against the engines' mean.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import kolsim
from kolsim.model import build_post_table, mean_field

from .conftest import scenario_from_toml
from .test_model import funnel_table
from .test_optimize import creator, make


def _mean_se(x):
    x = np.asarray(x, float)
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


def _one_creator_plan(tmp_path, notes: int, *, follower_share: float = 1.0, overlap: float = 0.0,
                      segment: float = 1e9, pool_extra: str = "", creators: int = 1) -> kolsim.Scenario:
    """``creators`` KOC creators of 10,000 real followers, each with 4,000 reads a note that
    all land on the day of the note, every read a purchase decision (CTR = CVR = 1, every
    segment member in the market); ``notes`` notes in week 1 spread over the creators as
    evenly as they go; no imitation, no stream beyond the click, no shared effects."""
    ids = [f"c{i}" for i in range(creators)]
    rows = "".join(f"{i},koc,beauty,10000,100,0,4000,1,1,1,{follower_share}{pool_extra}\n" for i in ids)
    header = "kol_id,tier,category,followers,cost_per_post,fake_share,reads_per_note,ctr,cvr," \
             "post_probability,follower_share\n"
    (tmp_path / "pool.csv").write_text(header + rows, encoding="utf-8")
    each = [notes // creators + (1 if i < notes % creators else 0) for i in range(creators)]
    posts = "".join(f'[[plan.posts]]\nkol_id = "{i}"\nweek = 1\nposts = {n}\n' for i, n in zip(ids, each) if n)
    return scenario_from_toml(f"""
schema_version = 1
[campaign]
name = "own"
category = "beauty"
budget = 1e6
horizon_days = 21
[tiers.koc]
reach_sigma = 0.0
[decay]
feed_share = 1.0
feed_half_life_days = 0.001
feed_days = 1
[audience.segments]
beauty = {segment}
[response]
in_market_share = 1.0
follower_overlap = {overlap}
[uncertainty]
creator_sigma = 0.0
campaign_sigma = 0.0
tier_sigma = 0.0
[word_of_mouth]
enabled = false
[vetting]
enabled = false
[plan]
pool = "pool.csv"
{posts}""" + funnel_table(), tmp_path)


@pytest.mark.parametrize("engine", ["montecarlo", "des"])
def test_a_creators_repeated_notes_reach_the_same_followers(tmp_path, engine):
    """Five notes of 4,000 reads on a creator's 10,000 own followers: O = 20,000 reads give
    P (1 - e^{-O/P}) = 8,647 distinct readers and, every read a decision, as many distinct
    buyers (m = P in-market own followers), not 20,000.  The segment of 1e9 adds its own
    occupancy, A (1 - e^{-x/A}), a relative 4e-6 here; both engines within 4 SE."""
    s = _one_creator_plan(tmp_path, 5)
    t = build_post_table(s)
    P = 10_000.0
    assert t.creator_people.tolist() == [P] and t.creator_capacity.tolist() == [P]
    O = 5 * 4000
    own = P * -math.expm1(-O / P)
    A = 1e9
    nested = A * -math.expm1(-own / A)  # the own followers are people of the segment
    mf = mean_field(t)
    assert mf["conversions_campaign"].sum() == pytest.approx(nested, rel=1e-9)
    r = kolsim.simulate(s, runs=400, rng=7, engine=engine)
    for metric in ("conversions_campaign", "unique_reach"):
        mean, se = _mean_se(r.totals[metric])
        assert abs(mean - nested) <= 4 * se + 1e-6 * nested, (metric, mean, nested, se)
    assert r.totals["reads"].mean() == pytest.approx(O, rel=0.02)  # the reads themselves are not cut


def test_overlap_and_follower_share_move_reads_between_the_creator_and_the_segment(tmp_path):
    """follower_share 0 sends every read to the segment (no own curve: 20,000 buyers up to the
    segment's occupancy); follower_overlap 1 puts every own follower in the segment, the same;
    an overlap of 0.15 leaves 8,500 own followers, so the own curve bends sooner."""
    A = 1e9
    flat = A * -math.expm1(-20_000 / A)
    for kw in ({"follower_share": 0.0}, {"overlap": 1.0}):
        t = build_post_table(_one_creator_plan(tmp_path, 5, **kw))
        assert mean_field(t)["conversions_campaign"].sum() == pytest.approx(flat, rel=1e-9), kw
    for engine in ("montecarlo", "des"):  # no own followers left: reach is the segment's alone
        reach = kolsim.simulate(_one_creator_plan(tmp_path, 5, overlap=1.0), runs=50, rng=1,
                                engine=engine).totals["unique_reach"]
        assert np.isfinite(reach).all() and reach.mean() == pytest.approx(flat, rel=0.01), engine
    t = build_post_table(_one_creator_plan(tmp_path, 5, overlap=0.15))
    assert t.creator_people.tolist() == [8_500.0]
    # own reads 0.85 x 20,000 on 8,500 people; the overlapping 15 % go to the segment as they are
    own = 8_500 * -math.expm1(-0.85 * 20_000 / 8_500) + 0.15 * 20_000
    assert mean_field(t)["conversions_campaign"].sum() == pytest.approx(A * -math.expm1(-own / A), rel=1e-9)


def test_spreading_notes_over_creators_beats_piling_them_on_one(tmp_path):
    """Six notes by one creator against one note by each of six like it: the same reads, but the
    single creator's followers see its notes again and again, so it reaches and converts fewer
    people, by the occupancy the closed form gives (mean field), and the engines see it too."""
    piled = _one_creator_plan(tmp_path, 6)
    spread = _one_creator_plan(tmp_path, 6, creators=6)
    P, A = 10_000.0, 1e9
    want_piled = A * -math.expm1(-P * -math.expm1(-24_000 / P) / A)
    want_spread = A * -math.expm1(-6 * P * -math.expm1(-4_000 / P) / A)
    assert mean_field(build_post_table(piled))["conversions_campaign"].sum() == pytest.approx(want_piled, rel=1e-9)
    assert mean_field(build_post_table(spread))["conversions_campaign"].sum() == pytest.approx(want_spread, rel=1e-9)
    a = kolsim.simulate(piled, runs=200, rng=3).totals
    b = kolsim.simulate(spread, runs=200, rng=3).totals
    for metric in ("unique_reach", "conversions"):
        (ma, sa), (mb, sb) = _mean_se(a[metric]), _mean_se(b[metric])
        assert mb - ma > 4 * math.hypot(sa, sb), metric
    assert want_spread / want_piled > 1.9  # 19,780 against 9,093


def test_at_the_defaults_a_second_note_on_the_same_followers_is_worth_less():
    """With the shipped defaults (micro creators, 40 % of reads on own followers, 15 % overlap)
    four notes by one creator reach and convert fewer people than one note by each of four (the
    loss is a few per cent: most of a micro note's reads come from the discovery feed)."""
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    rows = [creator(i, followers=30_000, cost=3000, monthly=30) for i in range(4)]
    pool = kolsim.Pool.from_frame(pd.DataFrame(rows))
    from dataclasses import replace

    from kolsim.scenario.values import Plan, PlanItem
    one = replace(s, waves=(), plan=Plan(pool=pool, items=(PlanItem("c00", 1, 4),)))
    four = replace(s, waves=(), plan=Plan(pool=pool, items=tuple(PlanItem(f"c{i:02d}", 1, 1) for i in range(4))))
    f1, f4 = (mean_field(build_post_table(x)) for x in (one, four))
    assert f1["reads"].sum() == pytest.approx(f4["reads"].sum())
    assert f1["conversions_campaign"].sum() < f4["conversions_campaign"].sum()
    # simulated on common random numbers: the paired difference in distinct readers
    a = kolsim.simulate(one, runs=2000, rng=4).totals
    b = kolsim.simulate(four, runs=2000, rng=4).totals
    d = (b["unique_reach"] - a["unique_reach"]).astype(float)
    mean, se = _mean_se(d)
    assert mean > 4 * se and mean > 0.03 * b["unique_reach"].mean()


def test_the_optimizers_own_follower_curve_is_the_engines_mean():
    """One creator, its notes' reads mostly on its own followers, a strong viral spread and
    notes delivered one by one with P = 0.8: the optimizer's own-follower curve (the expectation
    over viral factors and delivery, docs/optimizer.md §3) against 20,000 simulated runs of its
    plan.  The curve bends hard here (8 notes bring 4.9 times the own audience's in-market people
    in decisions): the curve of the mean pressure, m (1 - e^{-f V/m}), would be 1.6 % too high,
    5 standard errors, and the test sees that too."""
    rows = [creator(0, tier="micro", followers=30_000, cost=1000, monthly=50, fake_share=0.0,
                    post_probability=0.8, follower_share=0.9, ctr=0.05, cvr=0.05)]
    scenario, pool = make(rows, budget=8000, weeks=1, segments={"beauty": 5e8},
                          optimize_extra={"sponsored_share": 0.2})
    scenario = scenario.with_({"response.in_market_share": 0.002, "uncertainty.creator_sigma": 0.0,
                               "uncertainty.campaign_sigma": 0.0, "uncertainty.tier_sigma": 0.0,
                               "word_of_mouth.enabled": False, **{f"funnel.{k}": 0 for k in
                                                                 ("organic_p_per_year", "ugc_share",
                                                                  "repeat_per_month")}})
    r = kolsim.optimize(scenario, pool, marginal=False)
    assert r.plan["posts"].sum() == 8
    p = r.problem
    m = 0.002 * 30_000 * 0.85  # in-market own followers
    assert p.own_capacity[0] == pytest.approx(m)
    V, f = 8 * p.value[0, 0], p.own_share[0]
    assert f * V > 4 * m
    checked = kolsim.check_plan(r, runs=20_000, rng=11).simulated
    se = checked["standard_error"]
    assert abs(checked["simulated_mean"] - r.objective) <= 4 * se + r.approximation_error * r.objective, checked
    naive = (1 - f) * V + m * -math.expm1(-f * V / m)  # the segment of 1e6 in-market people is linear here
    assert naive - checked["simulated_mean"] > 4 * se
