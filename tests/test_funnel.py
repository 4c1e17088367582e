"""The funnel beyond the click (docs/model.md §8): organic adoption, off-platform purchases,
repeat orders, buyers' own notes, and interactions split into likes, collects and comments.

Each stream is checked against a closed form or an exact expectation of the model, within 4
standard errors of the Monte Carlo mean (plus, where a continuous-time curve is compared with
daily steps, the discretisation error of the model's own deterministic recursion), and both
engines against each other.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

import kolsim
from kolsim.defaults import REPEAT_PER_MONTH
from kolsim.model import STREAMS, build_post_table, decay_kernel, delay_pmf, mean_field
from kolsim.errors import ScenarioError

from .conftest import scenario_from_toml
from .test_model import bass_fraction, constant_pressure_scenario

def _mean_se(x):
    x = np.asarray(x, float)
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


@pytest.mark.parametrize("q_day", [0.0, 0.05])
def test_organic_adoption_follows_the_bass_curve_with_the_campaign(q_day):
    """Organic adoption adds p to the campaign's hazard: buyers of every stream together follow
    the Bass curve F(t) with P = campaign + organic, at every whole day (the day step is exact),
    and organic buyers are reported apart, outside conversions and revenue."""
    A, pc, days = 200_000, 0.004, 60
    po = 0.01  # per day
    text = constant_pressure_scenario(A, pc, q_day, days, organic_p_per_year=po * 365)
    s = scenario_from_toml(text)
    r = kolsim.simulate(s, runs=400, rng=41)
    daily = sum(r.daily[f"conversions_{k}"] for k in STREAMS)
    mf = mean_field(r.table)
    t = np.arange(1, days + 1)
    P = pc + po
    closed = A * (bass_fraction(t, P, q_day) if q_day else -np.expm1(-P * t))
    mf_cum = np.cumsum(sum(mf[f"conversions_{k}"] for k in (*STREAMS, "organic")))
    assert np.all(np.abs(mf_cum - closed) <= 2e-4 * A)  # the issue asks for 0.5 percentage points
    total = r.totals["conversions"] + r.totals["conversions_organic"]
    mean, se = _mean_se(total)
    assert abs(mean - closed[-1]) <= 4 * se + abs(mf_cum[-1] - closed[-1])
    # without imitation: within a day the campaign's decisions land first and organic adoption
    # takes the rest, so a day's first adoptions are organic with probability
    # e^{-a} (1 - e^{-p}) / (1 - e^{-(a+p)}) (p / (a + p) to first order), a = pc
    if q_day == 0:
        m_org, se_org = _mean_se(r.totals["conversions_organic"])
        share = math.exp(-pc) * -math.expm1(-po) / -math.expm1(-P)
        assert abs(m_org - closed[-1] * share) <= 4 * se_org + 1e-4 * m_org  # + O(1/M) of Poisson a
    assert np.all(r.totals["revenue"] == 0)  # no price: nothing is sold for money


def test_off_platform_purchases_are_the_ratio_of_on_platform_intents_delayed():
    """Off-platform decisions are ratio x the on-platform intents, each after a gamma(2) delay of
    the configured mean: with no saturation (a huge market) and no delay their buyers are ratio
    x the campaign's; with a delay, those whose decision falls after the horizon are lost,
    exactly as the delay's distribution says."""
    A, pc, days = 10_000_000, 1e-6, 20   # 10 intents a day on 10M people: occupancy ~ 1
    base = lambda **k: constant_pressure_scenario(A, pc, 0.0, days, **k)
    s0 = scenario_from_toml(base(offsite_per_onsite=2.5, offsite_delay_days=0))
    r0 = kolsim.simulate(s0, runs=2000, rng=5).totals
    on, se_on = _mean_se(r0["conversions_campaign"])
    off, se_off = _mean_se(r0["conversions_offsite"])
    expected_on = pc * A * days
    assert abs(on - expected_on) <= 4 * se_on + 1e-4 * expected_on
    assert abs(off - 2.5 * expected_on) <= 4 * se_off + 1e-4 * off
    # a mean delay of 5 days: a decision on day t + d counts only when t + d < horizon
    s5 = scenario_from_toml(base(offsite_per_onsite=2.5, offsite_delay_days=5))
    r5 = kolsim.simulate(s5, runs=2000, rng=5).totals
    pmf = delay_pmf(5.0, days)
    inside = sum(pmf[: days - t].sum() for t in range(days))   # one day's intents: seen share
    off5, se5 = _mean_se(r5["conversions_offsite"])
    assert abs(off5 - 2.5 * pc * A * inside) <= 4 * se5 + 1e-4 * off5
    assert off5 < off  # a delay loses the decisions that fall after the horizon
    # off-platform buyers bring revenue but pay no affiliate commission, and no clicks
    mid = scenario_from_toml(base(offsite_per_onsite=2.5))
    assert np.all(kolsim.simulate(mid, runs=50, rng=1).totals["clicks"]
                  == kolsim.simulate(scenario_from_toml(base()), runs=50, rng=1).totals["clicks"])


def test_repeat_orders_are_the_rate_times_buyer_days():
    """Each buyer the campaign is credited with orders again at r per day from the day after
    buying: E[repeat orders] = r x sum over days of E[buyers at the start of the day], an exact
    identity checked against the run's own daily buyers; revenue counts every order."""
    A, pc, days = 50_000, 0.002, 40
    text = constant_pressure_scenario(A, pc, 0.0, days, repeat_per_month=0.6)
    text = text.replace('horizon_days = ', 'price = 100\nmargin = 0.5\nhorizon_days = ', 1)
    s = scenario_from_toml(text)
    r = kolsim.simulate(s, runs=1000, rng=9)
    rate = 0.6 / 30
    buyers = sum(r.daily[f"conversions_{k}"] for k in STREAMS)
    start_of_day = np.cumsum(buyers, axis=1) - buyers          # buyers before each day
    m, se = _mean_se(r.totals["repeat_orders"])
    assert abs(m - rate * start_of_day.sum(axis=1).mean()) <= 4 * se
    tot = r.totals
    assert np.allclose(tot["revenue"], 100 * (tot["conversions"] + tot["repeat_orders"]))
    assert np.allclose(tot["profit"], 0.5 * tot["revenue"] - tot["spend"])
    # a category's default applies when the scenario gives none: food reorders, travel does not
    beauty = s.with_({"funnel.repeat_per_month": None})  # the scenario's product is beauty
    assert build_post_table(beauty).repeat_per_day == pytest.approx(REPEAT_PER_MONTH["beauty"] / 30)
    assert beauty.funnel.repeat_rate("food") == REPEAT_PER_MONTH["food"] > 0
    assert beauty.funnel.repeat_rate("travel") == 0.0


def test_buyers_notes_bring_reads_and_buyers_as_their_expectation_says():
    """Each new buyer publishes a note the next day with probability u; it has rho expected reads
    along the decay kernel, each persuading an in-market reader with probability i_u.  So
    E[reads of buyers' notes] = u rho sum_t E[new buyers on day t] K(H - t - 2), K the kernel's
    cumulative share (an exact identity, checked against the run's daily buyers), and their buyers
    at most i_u times those reads."""
    A, pc, days = 100_000, 0.002, 30
    text = constant_pressure_scenario(A, pc, 0.0, days, ugc_share=0.4, ugc_reads=500,
                   ugc_intent_rate=0.01)
    s = scenario_from_toml(text)
    r = kolsim.simulate(s, runs=1000, rng=12)
    K = np.cumsum(decay_kernel(s.decay, days))
    new = sum(r.daily[f"conversions_{k}"] for k in STREAMS)
    weight = np.array([K[days - t - 2] if t + 1 < days else 0.0 for t in range(days)])
    m, se = _mean_se(r.totals["reads_ugc"])
    assert abs(m - 0.4 * 500 * (new * weight).sum(axis=1).mean()) <= 4 * se
    g, se_g = _mean_se(r.totals["conversions_ugc"])
    assert 0 < g <= 0.01 * m + 4 * se_g
    # the mean field agrees with the simulation (the feedback is weak: mean of a product ~ product)
    mf = mean_field(r.table)
    assert abs(m - mf["reads_ugc"].sum()) <= 4 * se + 1e-3 * m


def test_interactions_split_into_likes_collects_and_comments():
    """Likes, collects and comments add up to interactions in every replication, and their means
    are the tiers' shares of the expected interactions (within 4 SE)."""
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    r = kolsim.simulate(s, runs=2000, rng=4)
    tot = r.totals
    assert np.all(tot["likes"] + tot["collects"] + tot["comments"] == tot["interactions"])
    t = r.table
    seen = np.cumsum(t.kernel)[t.horizon - 1 - t.day]
    w = t.reads * t.group_p[t.group] * seen * t.interaction_rate
    for name, share in (("likes", t.like_share), ("collects", t.collect_share),
                        ("comments", 1 - t.like_share - t.collect_share)):
        # the ratio of means: the shares are fixed, so E[likes] / E[interactions] is exact
        expected = (w * share).sum() / w.sum()
        m, se = _mean_se(tot[name] - expected * tot["interactions"])
        assert abs(m) <= 4 * se, name


@pytest.mark.parametrize("name", ["perfume_launch", "skincare_pool_plan"])
def test_engines_agree_on_every_stream(name):
    """Both engines draw the same funnel: with operations off, the means of every stream agree
    within 4 combined standard errors."""
    s = kolsim.load_scenario(f"scenarios/{name}.toml").with_({"operations.enabled": False})
    mc = kolsim.simulate(s, runs=3000, rng=21).totals
    des = kolsim.simulate(s, runs=400, rng=22, engine="des").totals
    for k in ("likes", "collects", "comments", *(f"conversions_{x}" for x in STREAMS), "conversions_organic",
              "repeat_orders", "reads_ugc", "revenue"):
        a, b = np.asarray(mc[k], float), np.asarray(des[k], float)
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) <= 4 * se + 1e-9, k


def test_turning_the_funnel_off_gives_campaign_and_imitation_only():
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    off = s.with_({"funnel.organic_p_per_year": 0.0, "funnel.offsite_per_onsite": 0.0, "funnel.ugc_share": 0.0,
                   "funnel.repeat_per_month": 0.0})
    tot = kolsim.simulate(off, runs=200, rng=3).totals
    for k in ("conversions_offsite", "conversions_ugc", "conversions_organic", "repeat_orders", "reads_ugc"):
        assert np.all(tot[k] == 0), k
    assert np.all(tot["conversions"] == tot["conversions_campaign"] + tot["conversions_wom"])
    on = kolsim.simulate(s, runs=200, rng=3).totals
    assert on["conversions"].mean() > 1.5 * tot["conversions"].mean()  # off-platform buyers double the campaign's


@pytest.mark.parametrize("key,value,words", [
    ("organic_p_per_year", -0.1, ">= 0"), ("offsite_per_onsite", "many", "number"),
    ("offsite_delay_days", -1, ">= 0"), ("repeat_per_month", 31, "<= 30"), ("ugc_share", 1.5, "<= 1"),
    ("ugc_reads", -5, ">= 0"), ("ugc_intent_rate", 2, "<= 1"), ("ugc_sharee", 0.1, "unknown key"),
])
def test_bad_funnel_values_name_the_key(key, value, words):
    text = open("scenarios/perfume_launch.toml", encoding="utf-8").read()
    text += f"\n[funnel]\n{key} = {value!r}\n".replace("'", '"')
    with pytest.raises(ScenarioError) as e:
        kolsim.parse_scenario(tomllib.loads(text))
    assert "[funnel]" in str(e.value) and key in str(e.value) and words in str(e.value)
