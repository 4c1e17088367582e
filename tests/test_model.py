"""The model against closed forms and its own expectation (RELIABILITY T7, T9).

Tolerances are 4 standard errors of the Monte Carlo mean, plus, where a
continuous-time closed form is compared with the model's daily steps, the
discretisation error measured by the model's own deterministic recursion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kolsim
from kolsim.model import build_post_table, decay_kernel, mean_field
from kolsim.scenario import Decay

from .conftest import scenario_from_toml


#: Every stream beyond the click and imitation switched off (docs/model.md §8).
FUNNEL_OFF = {"organic_p_per_year": 0, "offsite_per_onsite": 0, "ugc_share": 0, "repeat_per_month": 0}


def funnel_table(**keys) -> str:
    """A [funnel] table: FUNNEL_OFF with ``keys`` changed."""
    return "\n[funnel]\n" + "".join(f"{k} = {v!r}\n" for k, v in {**FUNNEL_OFF, **keys}.items())


def constant_pressure_scenario(A: float, p: float, q_day: float, days: int, **funnel) -> str:
    """One note a day, all its reads on its day, every read clicks and buys:
    the segment gets exactly Poisson(p*A) purchase intents a day (and nothing beyond the
    click but imitation, unless ``funnel`` keys say so)."""
    return f"""
schema_version = 1
[campaign]
name = "bass"
category = "beauty"
budget = 1e6
horizon_days = {days}
[tiers.koc]
followers = {p * A}
reach = 1.0
reach_sigma = 0.0
ctr = 1.0
cvr = 1.0
p_post_paid = 1.0
follower_share = 0.0    # every read lands in the segment: no creator's own followers
[decay]
feed_share = 1.0
feed_half_life_days = 0.001
feed_days = 1
[audience.segments]
beauty = {A}
[response]
in_market_share = 1.0   # every reader is in the market: the segment is the Bass population
[uncertainty]           # the note-level model: no shared effects
creator_sigma = 0.0
campaign_sigma = 0.0
tier_sigma = 0.0
[word_of_mouth]
q_per_year = {q_day * 365}
[[waves]]
start_day = 0
end_day = {days - 1}
tiers = {{ koc = {days} }}
""" + funnel_table(**funnel)


def bass_fraction(t: np.ndarray, p: float, q: float) -> np.ndarray:
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


@pytest.mark.parametrize("q_day", [0.0, 0.02, 0.09])
def test_bass_closed_form_limit(q_day):
    """T7: constant pressure p and imitation q follow the Bass curve; q = 0 gives 1 - e^{-pt}.

    q = 0.09 a day is 86x the calibrated rate (0.38 a year).  The day step uses
    the exact hazard over the day (model.day_survival), so the model's daily
    expectation is the closed form at every whole day (up to the campaign's
    Poisson intents, E e^{-I/A} = e^{-pA(1 - e^{-1/A})}, a relative 5e-7 here):
    the issue asks for 0.5 percentage points; it holds to 1e-4.
    """
    A, p, days = 1_000_000, 0.01, 90
    s = scenario_from_toml(constant_pressure_scenario(A, p, q_day, days))
    r = kolsim.simulate(s, runs=512, rng=2026)
    conv = r.daily["conversions_campaign"] + r.daily["conversions_wom"]
    cum = np.cumsum(conv, axis=1).astype(float)
    mean = cum.mean(axis=0)
    se = cum.std(axis=0, ddof=1) / math.sqrt(cum.shape[0])
    t = np.arange(1, days + 1)
    closed = A * bass_fraction(t, p, q_day) if q_day else A * (1 - np.exp(-p * t))
    mf = np.cumsum(sum(mean_field(r.table)[k] for k in ("conversions_campaign", "conversions_wom")))
    discretisation = np.abs(mf - closed)
    assert np.all(discretisation <= 1e-4 * A), "daily steps stray from the closed-form curve"
    assert np.all(np.abs(mean - closed) <= 4 * se + discretisation)
    # and the Monte Carlo mean is the model's own expectation within 4 SE (+ the O(1/A)
    # nonlinearity of imitation, far below one buyer here)
    assert np.all(np.abs(mean - mf) <= 4 * se + 1e-4 * mf)


def test_saturation_is_exact_for_deterministic_pressure():
    """Occupancy: with no viral noise and q = 0, each day's Poisson(pA) intents land on
    random people and only a first reaches a buyer, so E[buyers] =
    A (1 - exp(-days pA (1 - e^{-1/A}))) exactly: the concave curve A (1 - exp(-C/A))
    of the pressure C = p A days, whatever its timing."""
    A, days = 20_000, 30
    text = constant_pressure_scenario(A, 0.05, 0.0, days)
    s = scenario_from_toml(text)
    r = kolsim.simulate(s, runs=1024, rng=5)
    total = r.totals["conversions"].astype(float)
    exact = A * -math.expm1(-days * 0.05 * A * -math.expm1(-1 / A))
    se = total.std(ddof=1) / math.sqrt(total.size)
    assert abs(total.mean() - exact) <= 4 * se
    C = 0.05 * A * days  # campaign pressure: expected intents
    assert abs(exact - A * -math.expm1(-C / A)) <= 1e-3 * exact
    assert total.mean() < 0.8 * C  # saturation: far fewer distinct buyers than intents


@pytest.mark.parametrize("name", ["perfume_launch", "micro_seeding", "skincare_pool_plan"])
def test_expected_reads_clicks_intents(name):
    """Reads, interactions and clicks are linear in the notes: their Monte Carlo
    means match the analytic expectation within 4 standard errors."""
    s = kolsim.load_scenario(f"scenarios/{name}.toml")
    r = kolsim.simulate(s, runs=2048, rng=11)
    mf = mean_field(r.table)
    for metric in ("reads", "interactions", "clicks"):
        x = r.totals[metric].astype(float)
        se = x.std(ddof=1) / math.sqrt(x.size)
        assert abs(x.mean() - mf[metric].sum()) <= 4 * se, metric


def test_delivery_of_gifted_creators_matches_the_case():
    """S2: of 20 seeded micro creators about 75 % post; delivery is per creator."""
    s = kolsim.load_scenario("scenarios/micro_seeding.toml")
    r = kolsim.simulate(s, runs=2048, rng=3)
    row = r.summary().loc["delivery_rate"]
    assert row["ci_low"] <= 0.75 <= row["ci_high"]
    delivered = r.totals["posts_delivered"]
    # per creator: 20 independent creators, so variance is 20 p (1-p)
    assert abs(delivered.var(ddof=1) - 20 * 0.75 * 0.25) < 4 * 20 * 0.75 * 0.25 * math.sqrt(2 / delivered.size)


def test_spend_rules():
    """Gifts are spent whatever happens; paid notes cost half up front, half on delivery."""
    gifted = kolsim.load_scenario("scenarios/micro_seeding.toml")
    r = kolsim.simulate(gifted, runs=256, rng=1)
    assert np.all(r.totals["spend"] == 20 * 1500)
    paid = kolsim.load_scenario("scenarios/perfume_launch.toml")
    r = kolsim.simulate(paid, runs=256, rng=1)
    t = r.table
    undelivered_cost = (t.cost * t.upfront).sum()
    full = t.cost.sum()
    assert np.all(r.totals["spend"] <= full + 1e-6)
    assert np.all(r.totals["spend"] >= undelivered_cost - 1e-6)
    assert np.any(r.totals["spend"] < full)  # some note was not delivered
    amb = kolsim.load_scenario("scenarios/fashion_ambassador.toml")
    r = kolsim.simulate(amb, runs=256, rng=1)
    assert np.all(r.totals["spend"] == 3 * 10_000 * 6)  # retainers over 6 months


def test_decay_kernel_shape():
    k = decay_kernel(Decay(), 365)
    assert k[0] > k[1] > k[7] > k[60] > 0
    # by day 30: all of the feed part and half of the search part (half-life 30 d)
    assert k[:30].sum() == pytest.approx(0.7 * (1 - 2 ** (-30 / 1.5)) + 0.3 * 0.5, rel=1e-12)
    assert abs(k.sum() - (1 - 0.3 * 2 ** (-365 / 30))) < 1e-5
    # a half-life of 1.5 days: after 1.5 days half of the feed part has arrived
    feed = decay_kernel(Decay(feed_share=1.0), 10)
    assert abs((feed[0] + 0.5 * feed[1]) - 0.5) < 0.05


# --------------------------------------------------------------------------- #
# T9: invariants over generated scenarios
# --------------------------------------------------------------------------- #
TIERS = ("koc", "micro", "mid", "top", "celebrity")
DEALS = ("paid", "gifted", "ambassador", "affiliate")


@st.composite
def scenarios(draw):
    horizon = draw(st.integers(5, 60))
    waves = []
    for i in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, horizon - 1))
        end = draw(st.integers(start, horizon - 1))
        tiers = {t: draw(st.integers(0, 4)) for t in draw(st.sets(st.sampled_from(TIERS), min_size=1))}
        if sum(tiers.values()) == 0:
            tiers[next(iter(tiers))] = 1
        tiers_txt = ", ".join(f"{k} = {v}" for k, v in tiers.items())
        waves.append(f"""
[[waves]]
start_day = {start}
end_day = {end}
deal = "{draw(st.sampled_from(DEALS))}"
tiers = {{ {tiers_txt} }}
posts_per_creator = {draw(st.integers(1, 3))}
segment = "{draw(st.sampled_from(['a', 'b']))}"
commission = {draw(st.floats(0, 0.3))}
gift_value = {draw(st.integers(0, 500))}
""")
    overrides = []
    for t in draw(st.sets(st.sampled_from(TIERS))):
        overrides.append(f"""
[tiers.{t}]
ctr = {draw(st.floats(0, 1))}
cvr = {draw(st.floats(0, 1))}
reach = {draw(st.floats(0, 3))}
reach_sigma = {draw(st.floats(0, 2))}
interaction_rate = {draw(st.floats(0, 1))}
""")
    return f"""
schema_version = 1
[campaign]
name = "generated"
category = "beauty"
budget = 100000
horizon_days = {horizon}
price = {draw(st.floats(1, 1000))}
margin = {draw(st.floats(0, 1))}
[audience.segments]
a = {draw(st.integers(1, 10_000_000))}
b = {draw(st.integers(1, 500))}
[word_of_mouth]
q_per_year = {draw(st.floats(0, 365))}
{''.join(overrides)}
{''.join(waves)}
"""


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=scenarios(), seed=st.integers(0, 2**32))
def test_invariants_hold_on_generated_scenarios(text, seed):
    """T9: 0 <= conversions <= clicks <= reads; buyers never exceed the audience;
    spend within its bounds; no NaN or Inf; every metric has n, mean, se and interval."""
    s = scenario_from_toml(text)
    r = kolsim.simulate(s, runs=20, rng=seed)
    tot = r.totals
    for k, v in tot.items():
        assert np.all(np.isfinite(v)), k
    assert np.all(tot["conversions_campaign"] >= 0)
    assert np.all(tot["conversions_campaign"] <= tot["clicks"])
    assert np.all(tot["clicks"] <= tot["reads"])
    assert np.all(tot["interactions"] <= tot["reads"])
    assert np.all(tot["conversions_wom"] >= 0)
    assert np.all(tot["conversions"] <= r.table.segment_sizes.sum())
    assert np.all(tot["unique_reach"] <= np.minimum(tot["reads"], r.table.segment_sizes.sum()) + 1e-6)
    daily = r.daily["conversions_campaign"] <= np.inf
    assert daily.all()
    t = r.table
    lo = t.fixed_cost + (t.cost * t.upfront).sum()
    hi = t.fixed_cost + t.cost.sum() + (t.price or 0) * tot["conversions_campaign"]
    assert np.all(tot["spend"] >= lo - 1e-6) and np.all(tot["spend"] <= hi + 1e-6)
    summary = r.summary()
    for col in ("n", "mean", "se", "ci_low", "ci_high"):
        assert np.all(np.isfinite(summary[col].astype(float))), col
    assert np.all(summary["ci_low"] <= summary["mean"] + 1e-9)
    assert np.all(summary["mean"] <= summary["ci_high"] + 1e-9)


def test_mean_field_matches_expected_reads_exactly():
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    t = build_post_table(s)
    mf = mean_field(t)
    expected = sum(t.reads[j] * t.group_p[t.group[j]] * t.kernel[: t.horizon - t.day[j]].sum()
                   for j in range(t.n_posts))
    assert mf["reads"].sum() == pytest.approx(expected, rel=1e-12)
