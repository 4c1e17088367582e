"""Discrete-event engine benchmark: kolsim's DES against a naive SimPy model and the Monte Carlo engine.

Run from the repository root::

    .venv/bin/python benchmarks/bench_des.py            # full run (about 2 minutes)
    .venv/bin/python benchmarks/bench_des.py --quick    # 200 replications (about 30 s)

What it measures, on ``scenarios/perfume_launch.toml`` (90 days, 32 notes, the
default ``[operations]``: 2 reviewers, review rounds, lead times, a
consideration delay):

* ``kolsim.simulate(s, engine="des", runs=1000)`` with 1 and with 2 worker
  processes: wall time (median of 3 repeats), seconds per replication, SimPy
  events per second; the results of the two must be byte-identical;
* the **naive SimPy model** of the same campaign, in the same run: kolsim's
  own workflow processes (deals, drafts, reviews, publication), but every note
  delivers its readers the straightforward way, one SimPy process per note per
  day (a reader batch), each drawing its own reads, clicks, interactions and
  purchase intents; the segment process then only turns the day's intents into
  buyers.  It has the same distribution (sums of independent Poisson
  thinnings), which the benchmark checks: its means must agree with kolsim's
  within 4 combined standard errors.  Its repeats alternate with kolsim's
  1-worker repeats, and the speed-up is the median of the back-to-back ratios;
* the Monte Carlo engine on the same scenario (operations do not apply to it:
  it answers "how much", not "when"), for scale.

Targets (issue 4): 1,000 replications of the launch scenario in < 20 s on 2
cores; byte-identical results for 1 and 2 workers.  Exit 1 if a correctness
check fails, 2 if a target is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kolsim  # noqa: E402
from kolsim.engines import des  # noqa: E402

SCENARIO = ROOT / "scenarios" / "perfume_launch.toml"
CHECKED = ("reads", "clicks", "interactions", "conversions_campaign", "conversions", "spend",
           "posts_delivered", "publication_delay_days")


# --------------------------------------------------------------------------- #
# The naive model: one process per note per reader batch (a day of its readers)
# --------------------------------------------------------------------------- #
def _naive_reads(env, run, j, day):
    """Start one process per day of the note's life; each draws its own readers."""
    for tau in range(run.table.horizon - day):
        env.process(_reader_batch(env, run, j, day + tau, tau))
    return
    yield  # a generator, like kolsim's _reads


def _reader_batch(env, run, j, t, tau):
    yield env.timeout(max(0.0, t - env.now))
    tb, rng = run.table, run.rng
    reads = int(rng.poisson(run.note_reads[j] * tb.kernel[tau]))
    p_int = tb.ctr[j] * tb.cvr[j]
    intents = int(rng.binomial(reads, p_int))
    clicks = intents + int(rng.binomial(reads - intents, (tb.ctr[j] - p_int) / (1 - p_int) if p_int < 1 else 0))
    inter = int(rng.binomial(reads, tb.interaction_rate[j]))
    s = tb.segment[j]
    run.naive_counts[:, s, t] += (reads, clicks, inter, intents)


def _naive_audience_day(run, s, day):
    """The segment's day from the readers' own draws: delay, buyers, word of mouth (kolsim's step)."""
    c, rng = run.c, run.rng
    reads, clicks, inter, intents = (int(v) for v in run.naive_counts[:, s, day])
    run.out["reads"][s, day] = reads
    run.out["clicks"][s, day] = clicks
    run.out["interactions"][s, day] = inter
    if c.delay_pmf is None:
        run.pending[s, day] += intents
    elif intents:
        split = rng.multinomial(intents, des._delay_probs(c.delay_pmf, run.table.horizon - day))
        run.pending[s, day:day + split.size] += split
    new_c, new_w = run.steps[s](int(run.pending[s, day]), rng)
    run.out["new_c"][s, day] = new_c
    run.out["new_w"][s, day] = new_w


class _NaiveRun(des._Run):
    def __init__(self, c, seed, log):
        super().__init__(c, seed, log)
        self.naive_counts = np.zeros((4, len(c.table.segment_names), c.table.horizon), np.int64)


def naive_simulate(scenario, runs: int, seed: int) -> dict[str, np.ndarray]:
    """The naive model, one worker: kolsim's workflow with the readers delivered naively."""
    c = des.compile_campaign(scenario)
    saved = des._reads, des._audience_day
    des._reads, des._audience_day = _naive_reads, _naive_audience_day
    try:
        seeds = np.random.SeedSequence(seed).spawn(runs)
        res = [_NaiveRun(c, s, None).run() for s in seeds]
    finally:
        des._reads, des._audience_day = saved
    return {k: np.array([r["totals"][k] for r in res]) for k in res[0]["totals"]}


# --------------------------------------------------------------------------- #
# Counting events (untimed)
# --------------------------------------------------------------------------- #
def events_per_replication(run_cls, scenario, runs: int = 30, naive: bool = False) -> float:
    """SimPy events processed per replication, counted on a few replications."""
    count = 0
    original = simpy.Environment.step

    def counting(self):
        nonlocal count
        count += 1
        return original(self)

    simpy.Environment.step = counting
    saved = des._reads, des._audience_day
    if naive:
        des._reads, des._audience_day = _naive_reads, _naive_audience_day
    try:
        c = des.compile_campaign(scenario)
        for s in np.random.SeedSequence(99).spawn(runs):
            run_cls(c, s, None).run()
    finally:
        simpy.Environment.step = original
        des._reads, des._audience_day = saved
    return count / runs


# --------------------------------------------------------------------------- #
def timed(fn, repeats: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def check_same(label: str, a: dict, b: dict) -> list[str]:
    bad = []
    print(f"\ncorrectness: {label} ({b['reads'].size} replications) vs kolsim des ({a['reads'].size})")
    print(f"  {'metric':<24}{'kolsim des':>14}{label:>14}{'z':>8}")
    for k in CHECKED:
        x, y = a[k].astype(float), b[k].astype(float)
        se = math.hypot(x.std(ddof=1) / math.sqrt(x.size), y.std(ddof=1) / math.sqrt(y.size))
        z = (y.mean() - x.mean()) / se if se > 0 else 0.0
        flag = "" if abs(z) <= 4 else "  <-- differs"
        if flag:
            bad.append(k)
        print(f"  {k:<24}{x.mean():>14,.2f}{y.mean():>14,.2f}{z:>8.2f}{flag}")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 replications, 1 repeat")
    args = ap.parse_args(argv)
    runs, naive_runs, repeats = (200, 40, 1) if args.quick else (1000, 100, 3)
    s = kolsim.load_scenario(SCENARIO)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    print(f"kolsim {kolsim.__version__} (git {git}), simpy {simpy.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs")
    print(f"scenario {SCENARIO.relative_to(ROOT)}: {len(s.waves)} waves, "
          f"{des.compile_campaign(s).table.n_posts} notes, {s.campaign.horizon_days} days", flush=True)

    kolsim.simulate(s, runs=20, rng=1, engine="des")  # warm-up (imports, caches)
    # kolsim and the naive model alternate, so each ratio compares runs made back to back
    t1, tn, ratios = [], [], []
    for rep in range(repeats):
        print(f"repeat {rep + 1}: kolsim des, {runs} replications, 1 worker; naive, {naive_runs} ...",
              flush=True)
        t, r1 = timed(lambda: kolsim.simulate(s, runs=runs, rng=1, engine="des", workers=1), 1)
        u, naive = timed(lambda: naive_simulate(s, naive_runs, seed=7), 1)
        t1 += t
        tn += u
        ratios.append((u[0] / naive_runs) / (t[0] / runs))
    print(f"kolsim des, {runs} replications, 2 workers ...", flush=True)
    t2, r2 = timed(lambda: kolsim.simulate(s, runs=runs, rng=1, engine="des", workers=2), repeats)
    identical = (all(r1.totals[k].tobytes() == r2.totals[k].tobytes() for k in r1.totals)
                 and all(r1.daily[k].tobytes() == r2.daily[k].tobytes() for k in r1.daily)
                 and r1.note_days.tobytes() == r2.note_days.tobytes() and r1.events.equals(r2.events))
    print(f"Monte Carlo engine, {runs} replications, 1 worker ...", flush=True)
    tm, _ = timed(lambda: kolsim.simulate(s, runs=runs, rng=1, engine="montecarlo"), repeats)
    ev = events_per_replication(des._Run, s)
    ev_naive = events_per_replication(_NaiveRun, s, naive=True)

    m1, m2, mn, mm = (statistics.median(t) for t in (t1, t2, tn, tm))
    per1, per2, pern, perm = m1 / runs, m2 / runs, mn / naive_runs, mm / runs
    print()
    print(f"{'measurement':<40}{'median s':>10}{'s/rep':>11}{'events/rep':>12}{'events/s':>12}")
    rows = [(f"kolsim des, 1 worker ({runs} reps)", m1, per1, ev),
            (f"kolsim des, 2 workers ({runs} reps)", m2, per2, ev),
            (f"naive SimPy, 1 worker ({naive_runs} reps)", mn, pern, ev_naive),
            (f"Monte Carlo engine, 1 worker ({runs} reps)", mm, perm, None)]
    for name, m, per, e in rows:
        evs = f"{e:>12,.0f}{e / per:>12,.0f}" if e else f"{'–':>12}{'–':>12}"
        print(f"{name:<40}{m:>10.3f}{per:>11.5f}{evs}")
    print(f"\nspeed-up over the naive SimPy model (s/rep, 1 worker, median of the back-to-back "
          f"ratios {', '.join(f'{x:.1f}' for x in ratios)}): {statistics.median(ratios):.1f}x")
    print(f"Monte Carlo is {per1 / perm:.0f}x faster per replication than kolsim des (1 worker)")
    print("kolsim des times (s), 1 worker:  " + ", ".join(f"{x:.2f}" for x in t1))
    print("kolsim des times (s), 2 workers: " + ", ".join(f"{x:.2f}" for x in t2))
    print("naive times (s):                 " + ", ".join(f"{x:.2f}" for x in tn))
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")

    bad = check_same("naive", r1.totals, naive)
    target_runs = 1000
    per_1000_2w = per2 * target_runs
    print()
    print(f"target: {target_runs} replications in < 20 s on 2 cores: {per_1000_2w:.1f} s "
          f"{'PASS' if per_1000_2w < 20 else 'MISSED'}")
    print(f"target: byte-identical results for 1 and 2 workers: {'PASS' if identical else 'FAILED'}")
    if bad:
        print(f"\nFAIL: the naive model disagrees with kolsim des on {', '.join(bad)}", file=sys.stderr)
        return 1
    if not identical:
        return 1
    return 0 if per_1000_2w < 20 else 2


if __name__ == "__main__":
    sys.exit(main())
