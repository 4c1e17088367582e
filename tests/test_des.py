"""The discrete-event engine (issue 4; RELIABILITY T6, T7, T8).

- Agreement: with operations off, its per-replication totals and the Monte
  Carlo engine's have the same distribution on three shipped scenarios (means
  within 4 combined standard errors, two-sample KS not rejecting at 1 %).
- The Bass limit holds for it as for the Monte Carlo engine.
- Exactness: a fixed seed gives an event log that an independent replay of the
  workflow (single reviewer, first come first served) reproduces to the
  microsecond; the same seed gives the same log, any worker count the same
  bytes.
- Accounting: every note ends published, a no-show or in flight; nothing waits
  for an event that never fires; in-flight work and spend are reported.
- Operations and ads move outcomes the way a planner expects, and the shipped
  bottleneck scenario shows the slip in ``kolsim compare``.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

import kolsim
from kolsim.cli import main
from kolsim.engines import des
from kolsim.model import delay_pmf, draw_notes, mean_field

from .conftest import scenario_from_toml
from .test_model import bass_fraction, constant_pressure_scenario

OFF = "\n[operations]\nenabled = false\n"
AGREE_METRICS = ("reads", "clicks", "interactions", "conversions_campaign", "conversions_wom",
                 "conversions", "spend", "posts_delivered")


def shipped(name: str, extra: str = "") -> kolsim.Scenario:
    with open(f"scenarios/{name}.toml", encoding="utf-8") as f:
        return scenario_from_toml(f.read() + extra, name=f"{name}.toml")


# --------------------------------------------------------------------------- #
# Agreement with the Monte Carlo engine (T8)
# --------------------------------------------------------------------------- #
AFFILIATE = ('deal = "gifted"', 'deal = "affiliate"\ncommission = 0.15')


def _within_4se(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|mean difference| <= 4 combined standard errors, column by column."""
    se = np.hypot(a.std(axis=0, ddof=1) / math.sqrt(len(a)), b.std(axis=0, ddof=1) / math.sqrt(len(b)))
    return np.abs(a.mean(axis=0) - b.mean(axis=0)) <= 4 * se + 1e-9


@pytest.mark.parametrize("name, edit", [("perfume_launch", None), ("snack_viral", None),
                                        ("micro_seeding", None), ("micro_seeding", AFFILIATE)],
                         ids=["perfume_launch", "snack_viral", "micro_seeding", "micro_seeding_affiliate"])
def test_engines_agree_with_operations_off(name, edit):
    with open(f"scenarios/{name}.toml", encoding="utf-8") as f:
        text = f.read()
    if edit:
        text = text.replace(*edit)
    s = scenario_from_toml(text + OFF, name=f"{name}.toml")
    d = kolsim.simulate(s, runs=400, rng=101, engine="des")
    m = kolsim.simulate(s, runs=4096, rng=202)
    for k in AGREE_METRICS:
        a, b = d.totals[k].astype(float), m.totals[k].astype(float)
        assert _within_4se(a[:, None], b[:, None])[0], (k, a.mean(), b.mean())
        # KS at 1 % for the scenario as a whole: Bonferroni over its metrics
        assert stats.ks_2samp(a, b).pvalue > 0.01 / len(AGREE_METRICS), k
    # in time too: the mean cumulative reads and conversions, day by day
    for k in ("reads", "conversions_campaign", "conversions_wom"):
        ok = _within_4se(np.cumsum(d.daily[k], axis=1).astype(float), np.cumsum(m.daily[k], axis=1))
        assert ok.all(), (k, np.flatnonzero(~ok)[:5])
    # idealised: every delivered note on its planned day, nothing late or in flight
    assert d.totals["posts_late"].sum() == 0 and d.totals["notes_in_flight"].sum() == 0
    pub = d.note_days >= 0
    assert np.array_equal(d.note_days[pub], np.broadcast_to(d.table.day, d.note_days.shape)[pub])


@pytest.mark.parametrize("q_day", [0.0, 0.02])
def test_bass_limit_holds_for_the_des_engine(q_day):
    """T7 for this engine: constant pressure p and imitation q follow the Bass curve."""
    A, p, days = 1_000_000, 0.01, 90
    s = scenario_from_toml(constant_pressure_scenario(A, p, q_day, days) + OFF)
    r = kolsim.simulate(s, runs=256, rng=2026, engine="des")
    cum = np.cumsum(r.daily["conversions_campaign"] + r.daily["conversions_wom"], axis=1).astype(float)
    mean = cum.mean(axis=0)
    se = cum.std(axis=0, ddof=1) / math.sqrt(cum.shape[0])
    t = np.arange(1, days + 1)
    closed = A * bass_fraction(t, p, q_day) if q_day else A * (1 - np.exp(-p * t))
    mf = np.cumsum(sum(mean_field(r.table)[k] for k in ("conversions_campaign", "conversions_wom")))
    assert np.all(np.abs(mean - closed) <= 4 * se + np.abs(mf - closed))


# --------------------------------------------------------------------------- #
# Exact event log
# --------------------------------------------------------------------------- #
SMALL = """
schema_version = 1
[campaign]
name = "small"
category = "beauty"
budget = 100_000
horizon_days = 30
[tiers.micro]
p_post_paid = 1.0
[audience.segments]
beauty = 1_000_000
[[waves]]
name = "w"
start_day = 4
end_day = 6
deal = "paid"
tiers = { micro = 3 }
posts_per_creator = 2
[operations]
reviewers = 1
outreach_days = 12
contract_days = 3
brief_days = 7
draft_days = 2
review_days = 1.5
second_round_share = 0.5
revision_days = 1
consideration_days = 0
"""


def replay(seed: int, table, ops) -> list[tuple]:
    """The workflow of SMALL worked out by hand from the engine's operations stream.

    One reviewer serving requests in the order they are made.  Stream layout:
    replication 0 of seed s uses SeedSequence(s, spawn_key=(0, k)), k = 1 for
    operations' durations, drawn as standard gamma(2) x mean/2: one contract
    time per creator (creators in the order of their first planned note), then
    per note a draft, two review times, a second-round uniform and a revision.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, 1)))
    planned = [int(d) for d in table.day]
    n = len(planned)
    creators = list(dict.fromkeys(table.creator[np.argsort(table.day, kind="stable")]))
    contract = rng.standard_gamma(2.0, len(creators)) * ops.contract_days / 2
    draft = rng.standard_gamma(2.0, n) * ops.draft_days / 2
    review = rng.standard_gamma(2.0, (n, 2)) * ops.review_days / 2
    second = rng.random(n) < ops.second_round_share
    revision = rng.standard_gamma(2.0, n) * ops.revision_days / 2
    log = []
    requests = []  # (time asked, note, round)
    for k, name in enumerate(creators):
        notes = [j for j in range(n) if table.creator[j] == name]
        signed = min(planned[j] for j in notes) - ops.outreach_days + contract[k]
        log.append((signed, "contract_signed", -1))
        for j in notes:
            brief = max(signed, planned[j] - ops.brief_days)
            log += [(signed, "payment_upfront", j), (brief, "brief_sent", j),
                    (brief + draft[j], "draft_submitted", j)]
            heapq.heappush(requests, (brief + draft[j], j, 0))
    free = -math.inf
    done = {}
    while requests:
        asked, j, r = heapq.heappop(requests)
        end = max(asked, free) + review[j, r]
        free = end
        log.append((end, "review_done", j))
        if r == 0 and second[j]:
            log.append((end + revision[j], "draft_submitted", j))
            heapq.heappush(requests, (end + revision[j], j, 1))
        else:
            done[j] = end
    for j, day in enumerate(planned):
        pub = max(day, math.ceil(done[j]))
        log += [(pub, "published", j), (pub, "payment_delivery", j)]
    return sorted((round(t, 6), e, j) for t, e, j in log)


def test_fixed_seed_gives_the_exact_event_log():
    s = scenario_from_toml(SMALL)
    r = kolsim.simulate(s, runs=2, rng=77, engine="des")
    kinds = {"contract_signed", "payment_upfront", "brief_sent", "draft_submitted", "review_done",
             "published", "payment_delivery"}
    ev = r.events[r.events["event"].isin(kinds)]
    got = sorted((round(t, 6), e, int(j)) for t, e, j in zip(ev["time"], ev["event"], ev["note"]))
    expected = replay(77, r.table, s.operations)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g[1:] == e[1:] and abs(g[0] - e[0]) <= 2e-6, (g, e)
    # and the log is the same every time, down to the values
    again = kolsim.simulate(s, runs=2, rng=77, engine="des")
    assert r.events.equals(again.events)
    assert not r.events.equals(kolsim.simulate(s, runs=2, rng=78, engine="des").events)


def test_results_do_not_depend_on_workers():
    s = shipped("micro_seeding")
    a = kolsim.simulate(s, runs=120, rng=5, engine="des", workers=1)
    b = kolsim.simulate(s, runs=120, rng=5, engine="des", workers=2)
    for k in a.totals:
        assert a.totals[k].tobytes() == b.totals[k].tobytes(), k
    for k in a.daily:
        assert a.daily[k].tobytes() == b.daily[k].tobytes(), k
    assert a.note_days.tobytes() == b.note_days.tobytes()
    assert a.events.equals(b.events)
    # more replications extend fewer
    c = kolsim.simulate(s, runs=60, rng=5, engine="des")
    assert (c.totals["conversions"] == a.totals["conversions"][:60]).all()


def test_stopping_rule_stops_at_a_chunk_boundary():
    s = shipped("micro_seeding")
    a = kolsim.simulate(s, runs=1000, rng=5, engine="des", target_half_width=0.08)
    assert a.runs % des.CHUNK == 0 and a.runs < 1000
    full = kolsim.simulate(s, runs=a.runs, rng=5, engine="des")
    assert (a.totals["conversions"] == full.totals["conversions"]).all()
    x = full.totals["conversions"].astype(float)
    assert 1.96 * x.std(ddof=1) / math.sqrt(x.size) / x.mean() <= 0.08
    shorter = x[:a.runs - des.CHUNK]  # and the rule did not already hold one chunk earlier
    assert 1.96 * shorter.std(ddof=1) / math.sqrt(shorter.size) / shorter.mean() > 0.08


def test_cli_outputs_are_byte_identical_across_workers(tmp_path):
    outs = []
    for w in ("1", "2"):
        out = tmp_path / f"w{w}"
        res = CliRunner().invoke(main, ["simulate", "scenarios/micro_seeding.toml", "--engine", "des",
                                        "--runs", "60", "--workers", w, "--out", str(out)])
        assert res.exit_code == 0, res.output
        outs.append(out)
    for name in ("replications.csv", "daily.csv", "events.csv", "operations.csv", "summary.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    head = (outs[0] / "events.csv").read_text().splitlines()[0]
    assert head == "time,event,creator,note,value"


# --------------------------------------------------------------------------- #
# Accounting: every note ends somewhere; nothing waits forever
# --------------------------------------------------------------------------- #
LATE = SMALL.replace("horizon_days = 30", "horizon_days = 12").replace(
    "start_day = 4\nend_day = 6", "start_day = 8\nend_day = 11").replace(
    "tiers = { micro = 3 }", "tiers = { micro = 6 }").replace("review_days = 1.5", "review_days = 3")


def test_work_in_flight_at_the_horizon_is_counted():
    s = scenario_from_toml(LATE)
    r = kolsim.simulate(s, runs=40, rng=3, engine="des")
    published = r.note_stages == des.STAGES.index("published")
    no_show = r.note_stages == des.STAGES.index("no_show")
    in_flight = r.note_stages < des.STAGES.index("published")
    assert np.all(published.sum(1) + no_show.sum(1) + in_flight.sum(1) == r.table.n_posts)
    assert np.array_equal(in_flight.sum(1), r.totals["notes_in_flight"])
    assert np.array_equal(published.sum(1), r.totals["posts_delivered"])
    assert r.totals["notes_in_flight"].mean() > 1  # the bottleneck pushes work past day 12
    # unpublished notes' upfront halves are spend on content never delivered
    upfront = (r.table.cost * r.table.upfront)[None, :]
    assert np.allclose(r.totals["spend_undelivered"], (upfront * ~published).sum(1))
    # the single reviewer is busy from the first draft to the horizon, never beyond full time
    assert np.all(r.totals["reviewer_utilisation"] <= 1 + 1e-9)
    assert r.totals["reviewer_utilisation"].mean() > 0.9
    first = r.events[r.events["event"].str.startswith("in_flight_")]
    assert len(first) == r.totals["notes_in_flight"][0]
    ops = r.operations_frame()
    assert ops["in_flight_share"].iloc[0] == pytest.approx(in_flight.mean())


def test_no_shows_are_the_model_delivery_draw_and_their_gifts_are_undelivered_spend():
    s = shipped("micro_seeding", "\n[operations]\nreviewers = 1\n")
    r = kolsim.simulate(s, runs=30, rng=13, engine="des")
    no_show = r.note_stages == des.STAGES.index("no_show")
    for i in range(r.runs):  # stream k = 0 of replication i: the model's draws
        rng = np.random.default_rng(np.random.SeedSequence(13, spawn_key=(i, 0)))
        delivered, _ = draw_notes(r.table, rng, 1)
        assert np.array_equal(no_show[i], ~delivered[0])
    assert no_show.sum() > 0
    gift = s.waves[0].gift_value  # one note per creator: the whole gift is the note's share
    in_flight = r.note_stages < des.STAGES.index("published")
    assert np.allclose(r.totals["spend_undelivered"], gift * (no_show | in_flight).sum(1))
    assert np.allclose(r.totals["spend"], gift * 20)  # every deal is signed within the 60 days


def test_no_process_waits_for_an_event_that_never_fires():
    """Run the clock past the horizon until nothing is scheduled: every note's process has ended."""
    s = scenario_from_toml(LATE)
    c = des.compile_campaign(s)
    for i in range(5):
        run = des._Run(c, np.random.SeedSequence(9, spawn_key=(i,)), None)
        run.run()
        run.env.run()  # to exhaustion
        assert len(run.procs) == c.table.n_posts
        assert not any(p.is_alive for p in run.procs)
        assert math.isfinite(run.env.now)


# --------------------------------------------------------------------------- #
# Operations and ads
# --------------------------------------------------------------------------- #
def test_review_bottleneck_slips_the_wave_and_costs_conversions():
    base = kolsim.load_scenario("scenarios/perfume_launch.toml")
    slow = kolsim.load_scenario("scenarios/perfume_launch_bottleneck.toml")
    comp = kolsim.compare([base, slow], runs=300, rng=4, engine="des")
    d = comp.differences().set_index("metric")
    assert d.loc["conversions", "ci_high"] < 0  # fewer buyers within the horizon
    ops0, ops1 = (r.operations_frame().set_index("wave") for r in comp.results)
    assert ops1.loc["review", "delay_days_mean"] > ops0.loc["review", "delay_days_mean"] + 7
    assert ops1.loc["review", "late_share"] > 0.8
    slow_r = comp.results[1]
    assert slow_r.totals["reviewer_utilisation"].mean() > 0.9
    assert slow_r.totals["review_queue_max"].mean() > 5


def test_consideration_delay_moves_purchases_later():
    quick = shipped("micro_seeding", "\n[operations]\nconsideration_days = 0\n")
    slow = shipped("micro_seeding", "\n[operations]\nconsideration_days = 10\n")
    a = kolsim.simulate(quick, runs=200, rng=8, engine="des")
    b = kolsim.simulate(slow, runs=200, rng=8, engine="des")
    day = np.arange(a.table.horizon)
    mean_day = lambda r: (r.daily["conversions_campaign"] * day).sum() / r.daily["conversions_campaign"].sum()
    assert mean_day(b) > mean_day(a) + 5
    assert a.totals["decisions_in_flight"].sum() == 0 < b.totals["decisions_in_flight"].sum()


def test_ads_spend_their_budgets_and_add_buyers():
    ads = "\n[ads]\nfeed_budget = 30_000\nboost_notes = 3\nsearch_budget = 20_000\n"
    base = shipped("perfume_launch")
    boosted = shipped("perfume_launch", ads)
    a = kolsim.simulate(base, runs=200, rng=12, engine="des")
    b = kolsim.simulate(boosted, runs=200, rng=12, engine="des")
    t = b.totals
    boosts = np.round(t["ad_spend_feed"] / 10_000, 9)  # boosts of ¥10,000 each, at most three
    assert np.all((boosts == np.round(boosts)) & (boosts <= 3)) and boosts.mean() > 1
    assert np.allclose(t["ad_views_feed"], t["ad_spend_feed"] / 30 * 1000)
    assert np.all(t["ad_spend_search"] <= 20_000)
    assert np.allclose(t["ad_spend_search"], 4.0 * t["ad_clicks_search"])
    assert t["ad_clicks_search"].mean() > 0
    diff = (t["conversions"] - a.totals["conversions"]).astype(float)
    assert diff.mean() - 4 * diff.std(ddof=1) / math.sqrt(diff.size) > 0
    # the same notes, deliveries and viral draws: spend differs by the ads only
    notes = b.totals["spend"] - t["ad_spend_feed"] - t["ad_spend_search"]
    assert np.allclose(notes, a.totals["spend"])


def test_feed_boosts_go_to_notes_that_beat_the_bar_not_to_the_first_judged():
    s = shipped("perfume_launch", "\n[ads]\nfeed_budget = 30_000\nboost_notes = 3\n")
    c = des.compile_campaign(s)
    first_k = 0
    for i in range(30):
        run = des._Run(c, np.random.SeedSequence(21, spawn_key=(i,)), [])
        run.run()
        boosted = [int(j) for _, e, _, j, _ in run.log if e == "feed_boost"]
        judged = sorted((run.day[j] + 3, j) for j in np.flatnonzero(run.day >= 0))
        so_far = run.note_reads * c.table.kernel[:4].sum()
        assert all(so_far[j] >= c.boost_bar for j in boosted)
        # on each judging day, the notes that beat the bar get the boosts left (ties within a day in
        # event order)
        left = 3
        for day in sorted({d for d, _ in judged}):
            beat = {j for d, j in judged if d == day and so_far[j] >= c.boost_bar}
            got = beat & set(boosted)
            assert len(got) == min(left, len(beat))
            left -= len(got)
        first_k += boosted == [j for _, j in judged[:len(boosted)]]
    assert first_k < 30  # not simply the first notes judged


def test_boost_bar_is_reached_by_boost_notes_notes_in_expectation():
    """The bar: E[#notes whose reads so far reach it] = boost_notes; notes too late to judge do not count."""
    ads = "\n[ads]\nfeed_budget = 30_000\nboost_notes = 3\n"
    s = shipped("perfume_launch", ads)
    c = des.compile_campaign(s)
    counts = []
    for i in range(400):  # only the model's draws matter here: delivery and viral factors
        rng = np.random.default_rng(np.random.SeedSequence(31, spawn_key=(i, 0)))
        _, reads = draw_notes(c.table, rng, 1)
        counts.append(int((reads[0] * c.table.kernel[:4].sum() >= c.boost_bar).sum()))
    counts = np.array(counts, float)
    assert abs(counts.mean() - 3) <= 4 * counts.std(ddof=1) / math.sqrt(counts.size)
    # a wave published too late to be judged leaves the bar where it was
    late = shipped("perfume_launch", ads + '\n[[waves]]\nname = "late"\nstart_day = 88\nend_day = 89\n'
                   'deal = "paid"\ntiers = { top = 4 }\n')
    assert des.compile_campaign(late).boost_bar == pytest.approx(c.boost_bar, rel=1e-9)


def test_invariants_hold_with_heavy_search_ads():
    ads = "\n[ads]\nsearch_budget = 1e9\nsearches_per_read = 100\nsearch_ctr = 1\nsearch_cpc = 0.01\n"
    t = kolsim.simulate(shipped("micro_seeding", ads), runs=30, rng=2, engine="des").totals
    assert np.all(t["conversions_campaign"] <= t["clicks"]) and np.all(t["clicks"] <= t["reads"])
    for k, v in t.items():
        assert np.all(np.isfinite(v)), k


def test_durations_keep_their_place_in_the_stream_when_a_mean_is_zero():
    """Common random numbers: switching one delay off leaves every other duration as it was."""
    a = des.compile_campaign(shipped("perfume_launch"))
    b = des.compile_campaign(shipped("perfume_launch", "\n[operations]\ndraft_days = 0\n"))
    ra, rb = (des._Run(c, np.random.SeedSequence(3, spawn_key=(0,)), None) for c in (a, b))
    assert np.array_equal(ra.review, rb.review) and np.array_equal(ra.contract, rb.contract)
    assert np.all(rb.draft == 0) and np.all(ra.draft > 0)


@pytest.mark.parametrize("ops", ["reviewers = 10000", "reviewers = 1\nreview_days = 0\ndraft_days = 0"])
def test_no_queue_when_nobody_waits(ops):
    r = kolsim.simulate(shipped("perfume_launch", f"\n[operations]\n{ops}\n"), runs=20, rng=1, engine="des")
    assert np.all(r.totals["review_queue_max"] == 0) and np.all(r.totals["review_wait_days"] == 0)


@pytest.mark.parametrize("mean", [0.5, 2.0, 10.0])
def test_consideration_and_offsite_delays_have_the_configured_mean(mean):
    pmf = delay_pmf(mean, 400)
    assert abs(pmf.sum() - 1) < 1e-9
    assert abs((np.arange(pmf.size) * pmf).sum() - mean) < 1e-3


def test_monte_carlo_says_it_ignores_operations(tmp_path):
    res = CliRunner().invoke(main, ["simulate", "scenarios/perfume_launch_bottleneck.toml", "--runs", "100"])
    assert res.exit_code == 0
    assert "[operations] and [ads] are used by the discrete-event engine only" in res.stderr


def test_cli_des_writes_the_operational_outputs(tmp_path):
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["simulate", "scenarios/perfume_launch_bottleneck.toml", "--engine",
                                    "des", "--runs", "50", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Publication by wave" in res.stdout and "review" in res.stdout
    for name in ("events.csv", "operations.csv", "publication.png", "summary.json", "daily.csv"):
        assert (out / name).stat().st_size > 0, name
    ops = (out / "operations.csv").read_text().splitlines()
    assert ops[0].startswith("wave,notes,published_share,no_show_share,in_flight_share,planned_day_mean")
