"""Monte Carlo benchmark: the vectorised engine against a per-replication Python loop.

Run from the repository root::

    .venv/bin/python benchmarks/bench_montecarlo.py                    # full run (~30 s)
    .venv/bin/python benchmarks/bench_montecarlo.py --quick            # smaller run (~15 s)
    .venv/bin/python benchmarks/bench_montecarlo.py --scalar-variant   # + a slower baseline, for information

What it measures, on ``scenarios/perfume_launch.toml`` (90 days, 32 notes):

* ``kolsim.simulate(s, runs=10_000, rng=1, workers=1)``: wall time (one untimed
  warm-up, then the median of 5 repeats) and replications per second;
* the *baseline*, :func:`baseline_simulate` below: the same model
  (``kolsim.model.draw_block``) written as a straightforward loop over
  replications, one Generator per replication, and inside it loops over
  groups, notes, days and segments with numpy scalars and small arrays:
  replications per second on 200 replications, median of 3 (each repeat uses
  fresh seeds, so all 600 replications feed the correctness check);
* the ratio of the two medians;
* peak resident memory (``ru_maxrss``) of a fresh process running
  ``kolsim.simulate(s, runs=100_000)`` (scenario seed, one worker);
* for information, ``workers=2`` throughput at 10,000 replications.

Single-core runs: BLAS/OpenMP threads are limited to 1 through the environment
(set below, before numpy is imported) and, where the OS allows it, the process
is pinned to one CPU for the single-core timings (both the engine and the
baseline), then unpinned for the ``workers=2`` run.

Correctness: the baseline's mean of each checked total (reads and conversions
among them) must agree with ``kolsim.simulate``'s within 4 combined standard
errors; the two use different random streams, so the comparison is
statistical.  With 600 baseline replications the check detects a difference
in mean reads or conversions of roughly 6-8 % or more.  The script exits 1 if
that check fails and 2 if a performance target is missed:

    10,000 replications < 2 s (one core);  speed-up >= 50x;  peak RSS < 1024 MB at 100,000.
"""

from __future__ import annotations

import os

# one thread for BLAS/OpenMP: must be set before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import kolsim  # noqa: E402
from kolsim.model import PostTable, build_post_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "perfume_launch.toml"

TARGET_SECONDS_10K = 2.0
TARGET_RATIO = 50.0
TARGET_PEAK_MB = 1024.0
Z_LIMIT = 4.0
#: Totals whose means must agree (reads and conversions are required by the
#: acceptance point; the others catch a wrong step elsewhere in the model).
CHECKED = ("reads", "interactions", "likes", "clicks", "conversions_campaign", "conversions_offsite",
           "conversions_ugc", "conversions_wom", "conversions", "conversions_organic", "repeat_orders",
           "posts_delivered", "spend", "unique_reach")


# --------------------------------------------------------------------------- #
# The baseline: the same model, one replication at a time
# --------------------------------------------------------------------------- #
def _share(num: float, den: float) -> float:
    """num / den clipped to [0, 1]; 0 when den is 0 (as kolsim.model._ratio)."""
    if den <= 0:
        return 0.0
    return min(max(num / den, 0.0), 1.0)


def baseline_setup(table: PostTable) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per segment: its notes' indices and their pressure kappa(t - d_j) by day, (H, P_s).

    Computed once per scenario (it does not depend on the draws).
    """
    kappa = table.pressure()  # (P, H): share of note j's lifetime reads landing on day t
    out = []
    for s in range(len(table.segment_names)):
        idx = np.flatnonzero(table.segment == s)
        out.append((idx, np.ascontiguousarray(kappa[idx].T)))
    return out


def baseline_replication(table: PostTable, segments, rng: np.random.Generator,
                         note_sums: bool = False) -> dict[str, float]:
    """One replication of kolsim.model.draw_block's model, written as plain loops.

    ``segments`` is :func:`baseline_setup`'s output for ``table``.  A day's
    expected reads (and rate-weighted reads) of a segment are a dot product of
    small arrays over the segment's notes; with ``note_sums`` they are summed
    in a Python loop over the notes instead (the slower, fully scalar variant,
    reported only with ``--scalar-variant``).
    """
    P = table.n_posts
    S = len(table.segment_names)
    H = table.horizon
    M = [int(m) for m in table.segment_capacity]  # in-market people: the buyers' ceiling
    q = table.q_per_day
    price = table.price or 0.0
    margin = table.margin if table.margin is not None else 1.0

    # 1. does each delivery group publish?
    group_ok = [rng.random() < p for p in table.group_p]

    # 2. each note's lifetime reads R_j = D_j E_j L_j, with a mean-one lognormal viral factor
    delivered = np.zeros(P, dtype=bool)
    note_reads = np.zeros(P)
    for j in range(P):
        sigma = table.sigma[j]
        viral = math.exp(sigma * rng.standard_normal() - 0.5 * sigma * sigma)
        delivered[j] = group_ok[table.group[j]]
        note_reads[j] = table.reads[j] * viral if delivered[j] else 0.0

    # 2b. the shared effects: content quality per creator, demand x tier on the purchase rate
    conv = np.ones(P)
    sc, sg, st = table.creator_sigma, table.campaign_sigma, table.tier_sigma
    if sc > 0:
        quality = [math.exp(sc * rng.standard_normal() - 0.5 * sc * sc)
                   for _ in range(int(table.creator_index.max()) + 1)]
        for j in range(P):
            note_reads[j] *= quality[table.creator_index[j]]
    if sg > 0 or st > 0:
        g = sg * rng.standard_normal() - 0.5 * sg * sg
        tiers = [st * rng.standard_normal() - 0.5 * st * st for _ in range(int(table.tier_index.max()) + 1)]
        for j in range(P):
            cap = 1.0 / table.cvr[j] if table.cvr[j] > 0 else math.inf
            conv[j] = min(math.exp(g + tiers[table.tier_index[j]]), cap)

    # per segment: the notes' reads weighted by each rate (small arrays, length P_s)
    seg = []
    for idx, kappa_t in segments:
        r = note_reads[idx]
        seg.append(dict(
            kappa_t=kappa_t,  # (H, P_s)
            reads=r,
            interactions=r * table.interaction_rate[idx],
            likes=r * table.interaction_rate[idx] * table.like_share[idx],
            clicks=r * table.ctr[idx],
            intents=r * table.ctr[idx] * table.cvr[idx] * conv[idx],
            commission=r * table.ctr[idx] * table.cvr[idx] * conv[idx] * table.commission[idx],
        ))

    # 2c. each creator's own followers (docs/model.md §3): its notes' decisions among them, by day
    own_k = []  # per creator with own followers: (segment, in-market own followers m, people, notes)
    for k in range(len(table.creator_people)):
        idx = [j for j in range(P) if table.creator_index[j] == k and table.own_share[j] > 0]
        if idx and table.creator_capacity[k] > 0:
            own_k.append((int(table.creator_segment[k]), float(table.creator_capacity[k]),
                          float(table.creator_people[k]), idx))
    own_seen = [0.0] * len(own_k)

    # 3. day by day: purchase intents (Poisson thinning of reads), then buyers
    buyers = [0] * S
    credited = [0] * S      # buyers the campaign is credited with (not the organic ones)
    tot = dict(reads=0, interactions=0, likes=0, clicks=0, conversions_campaign=0, conversions_offsite=0,
               conversions_ugc=0, conversions_wom=0, conversions_organic=0, repeat_orders=0)
    seg_reads = [0] * S
    seg_other = [0] * S
    seg_intents = [0] * S
    seg_exp = [dict(reads=0.0, interactions=0.0, likes=0.0, clicks=0.0, intents=0.0) for _ in range(S)]
    p_org = table.p_per_day
    offsite = [[0.0] * H for _ in range(S)]   # expected off-platform decisions by day
    ugc = [[0.0] * H for _ in range(S)]       # expected reads of buyers' notes by day
    pmf = table.offsite_pmf * table.offsite_ratio
    commission_paid = 0.0
    for t in range(H):
        for s in range(S):
            if note_sums:
                e_reads = e_inter = e_likes = e_click = e_intent = e_comm = 0.0
                for j in segments[s][0]:
                    lag = t - table.day[j]
                    if lag < 0:
                        continue
                    x = note_reads[j] * table.kernel[lag]
                    e_reads += x
                    e_inter += x * table.interaction_rate[j]
                    e_likes += x * table.interaction_rate[j] * table.like_share[j]
                    e_click += x * table.ctr[j]
                    e_intent += x * table.ctr[j] * table.cvr[j] * conv[j]
                    e_comm += x * table.ctr[j] * table.cvr[j] * conv[j] * table.commission[j]
            else:
                w = seg[s]
                k = w["kappa_t"][t]
                e_reads = float(w["reads"] @ k)
                e_inter = float(w["interactions"] @ k)
                e_likes = float(w["likes"] @ k)
                e_click = float(w["clicks"] @ k)
                e_intent = float(w["intents"] @ k)
                e_comm = float(w["commission"] @ k)

            for d in range(min(pmf.size, H - t)):  # this day's reads bring off-platform decisions later
                offsite[s][t + d] += e_intent * pmf[d]
            off_mean = offsite[s][t]
            e_full = e_intent
            # decisions that meet an own follower its creator has already reached do not count
            for i, (s_k, m, _, idx) in enumerate(own_k):
                if s_k != s:
                    continue
                o = f = 0.0
                for j in idx:
                    lag = t - table.day[j]
                    if lag < 0:
                        continue
                    x = note_reads[j] * table.ctr[j] * table.cvr[j] * conv[j] * table.own_share[j]
                    o += x * table.kernel[lag]
                    f += x * table.offsite_kernel[lag]
                lam = o + f
                if lam > 0:
                    counted = m * math.exp(-own_seen[i] / m) * -math.expm1(-lam / m)
                    lost = 1.0 - counted / lam
                    e_intent = max(e_intent - o * lost, 0.0)
                    off_mean = max(off_mean - f * lost, 0.0)
                own_seen[i] += lam
            if e_full > 0:  # an affiliate's commission is paid on the decisions that count
                e_comm *= e_intent / e_full
            intents = int(rng.poisson(e_intent))
            off = int(rng.poisson(off_mean)) if pmf.size and table.offsite_ratio > 0 else 0
            ex = seg_exp[s]
            ex["reads"] += e_reads
            ex["interactions"] += e_inter
            ex["likes"] += e_likes
            ex["clicks"] += e_click
            ex["intents"] += e_intent

            ugc_int = 0
            if table.ugc_share > 0 and table.ugc_reads > 0:
                ugc_reads = int(rng.poisson(ugc[s][t]))
                ugc_int = int(rng.binomial(ugc_reads, table.ugc_rate))
            start = buyers[s]
            # decisions land on random in-market people; only a first reaches a new buyer
            f0 = start / M[s]
            a = (intents + off + ugc_int) / M[s]
            occupancy = -math.expm1(-a) / a if a > 0 else 1.0
            p_new = (1.0 - f0) * occupancy
            left = M[s] - start
            got = []
            for x in (intents, off, ugc_int):
                c = min(int(rng.binomial(x, p_new)), left)
                left -= c
                got.append(c)
            new_c, new_o, new_g = got
            new_w = organic = 0
            if q > 0 or p_org > 0:  # organic adoption and Bass imitation, exact over the day
                u0 = 1.0 / (1.0 - min(f0, 1.0 - 1e-15))
                k_ = a + p_org + q
                if q > 0:
                    log_rest = math.log(u0) - p_org - q - math.log(u0 - (q / k_) * -math.expm1(-k_))
                    rest = int(rng.binomial(left, -math.expm1(min(log_rest, 0.0))))
                    e = math.exp(-0.5 * k_)
                    f_half = 1.0 - e / ((q / k_) * e + u0 - q / k_)
                    organic = int(rng.binomial(rest, p_org / (p_org + q * f_half))) if p_org > 0 else 0
                else:
                    rest = organic = int(rng.binomial(left, -math.expm1(-p_org)))
                new_w = rest - organic
            repeats = int(rng.poisson(table.repeat_per_day * credited[s])) if table.repeat_per_day > 0 else 0
            new = new_c + new_o + new_g + new_w + organic
            buyers[s] = start + new
            credited[s] += new - organic
            if table.ugc_share > 0 and table.ugc_reads > 0 and t + 1 < H:
                notes = int(rng.binomial(new, table.ugc_share))
                for tau in range(H - t - 1):
                    ugc[s][t + 1 + tau] += notes * table.ugc_reads * table.kernel[tau]

            commission_paid += price * new_c * _share(e_comm, e_intent)
            seg_intents[s] += intents
            for key, v in (("conversions_campaign", new_c), ("conversions_offsite", new_o), ("conversions_ugc", new_g),
                           ("conversions_wom", new_w), ("conversions_organic", organic), ("repeat_orders", repeats)):
                tot[key] += v

    # other reads, clicks and interactions over the horizon, thinned from the segment's reads
    for s in range(S):
        ex = seg_exp[s]
        seg_other[s] = int(rng.poisson(max(ex["reads"] - ex["intents"], 0.0)))
        seg_reads[s] = seg_intents[s] + seg_other[s]
        tot["reads"] += seg_reads[s]
        tot["clicks"] += seg_intents[s] + int(rng.binomial(
            seg_other[s], _share(ex["clicks"] - ex["intents"], ex["reads"] - ex["intents"])))
        inter = int(rng.binomial(seg_reads[s], _share(ex["interactions"], ex["reads"])))
        tot["interactions"] += inter
        tot["likes"] += int(rng.binomial(inter, _share(ex["likes"], ex["interactions"])))

    spend = table.fixed_cost + commission_paid
    for j in range(P):
        u = table.upfront[j]
        spend += table.cost[j] * (u + (1 - u) * delivered[j])
    conversions = (tot["conversions_campaign"] + tot["conversions_offsite"] + tot["conversions_ugc"]
                   + tot["conversions_wom"])
    revenue = price * (conversions + tot["repeat_orders"])
    # distinct readers: each creator's own readers (its share of the segment's drawn reads) nest in it
    x = [float(r) for r in seg_reads]
    for s_k, _, people, idx in own_k:
        expected_own = sum(note_reads[j] * table.own_share[j] * table.kernel[:H - table.day[j]].sum() for j in idx)
        r_own = seg_reads[s_k] * expected_own / seg_exp[s_k]["reads"] if seg_exp[s_k]["reads"] > 0 else 0.0
        x[s_k] += -r_own + people * -math.expm1(-r_own / people)
    reach = sum(a * -math.expm1(-max(x[s], 0.0) / a) for s, a in enumerate(table.segment_sizes))
    return dict(tot, conversions=conversions, posts_delivered=int(delivered.sum()),
                unique_reach=reach, spend=spend, revenue=revenue,
                profit=revenue * margin - spend)


def baseline_simulate(scenario, runs: int, seed: int, note_sums: bool = False) -> dict[str, np.ndarray]:
    """``runs`` replications with the baseline, one Generator per replication."""
    table = build_post_table(scenario)
    segments = baseline_setup(table)
    out: dict[str, list] = {}
    for child in np.random.SeedSequence(seed).spawn(runs):
        rng = np.random.default_rng(child)
        for k, v in baseline_replication(table, segments, rng, note_sums).items():
            out.setdefault(k, []).append(v)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


# --------------------------------------------------------------------------- #
# Measurement helpers
# --------------------------------------------------------------------------- #
@contextmanager
def one_cpu():
    """Pin this process to a single CPU (Linux), restoring the mask afterwards."""
    if not hasattr(os, "sched_getaffinity"):
        yield None
        return
    old = os.sched_getaffinity(0)
    cpu = max(old)
    try:
        os.sched_setaffinity(0, {cpu})
        yield cpu
    finally:
        os.sched_setaffinity(0, old)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def mean_se(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


MEMORY_CHILD = r"""
import json, resource, sys, time
import kolsim
s = kolsim.load_scenario(sys.argv[1])
after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
r = kolsim.simulate(s, runs=int(sys.argv[2]))
elapsed = time.perf_counter() - t0
print(json.dumps({"runs": r.runs, "seconds": elapsed, "after_import_kb": after_import,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def peak_memory(runs: int) -> dict:
    """Peak RSS of a fresh interpreter that loads the scenario and simulates ``runs``."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(SCENARIO), str(runs)],
                          capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"memory subprocess failed with exit code {proc.returncode}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["rusage_children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    info["rusage_children_before_kb"] = before
    return info


def machine() -> dict:
    def git(*a):
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT,
                                  timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001 - informational only
            return "?"
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "kolsim": kolsim.__version__,
        "git": git("rev-parse", "--short", "HEAD"),
        "kolsim_dirty": bool(git("status", "--porcelain", "--", "kolsim")),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


# --------------------------------------------------------------------------- #
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smaller run: 3 engine repeats, 3 x 50 baseline replications, "
                         "peak memory at 20,000 replications (memory target not checked)")
    ap.add_argument("--scalar-variant", action="store_true",
                    help="also time (for information) a slower baseline variant that sums each "
                         "day's expected reads in a Python loop over the notes")
    args = ap.parse_args(argv)

    runs = 10_000
    repeats = 3 if args.quick else 5
    base_runs, base_repeats = (50, 3) if args.quick else (200, 3)
    mem_runs = 20_000 if args.quick else 100_000
    w2_repeats = 3

    info = machine()
    load = f", load average {info['loadavg'][0]:.2f}" if info["loadavg"] else ""
    print(f"kolsim {info['kolsim']} (git {info['git']}"
          f"{', kolsim/ modified' if info['kolsim_dirty'] else ''}), python {info['python']}, "
          f"numpy {info['numpy']}, nproc {info['nproc']}, {info['cpu']}{load}")
    print(f"scenario {SCENARIO.relative_to(ROOT)}{'  (--quick)' if args.quick else ''}", flush=True)

    s = kolsim.load_scenario(SCENARIO)
    table = build_post_table(s)
    print(f"  {table.n_posts} notes, {len(table.group_p)} delivery groups, "
          f"{len(table.segment_names)} segment(s), {table.horizon} days", flush=True)

    # 1. peak memory first, in a fresh process (before this process grows or forks workers)
    print(f"peak memory: simulate(runs={mem_runs:,}) in a subprocess ...", flush=True)
    mem = peak_memory(mem_runs)
    peak_mb = mem["peak_kb"] / 1024

    # 2. single-core timings, engine and baseline interleaved so they share conditions
    vec_times, base_times, var_times = [], [], []
    base_draws: list[dict[str, np.ndarray]] = []
    var_draws: list[dict[str, np.ndarray]] = []
    with one_cpu() as cpu:
        print(f"single-core timings (pinned to CPU {cpu}) ...", flush=True)
        kolsim.simulate(s, runs=runs, rng=1, workers=1)  # warm-up, untimed
        baseline_simulate(s, 5, 999)                      # warm-up, untimed
        vec_res = None
        for i in range(max(repeats, base_repeats)):
            line = f"  repeat {i + 1}:"
            if i < repeats:
                dt, vec_res = timed(kolsim.simulate, s, runs=runs, rng=1, workers=1)
                vec_times.append(dt)
                line += f" engine {dt:.3f} s"
            if i < base_repeats:
                dt, draws = timed(baseline_simulate, s, base_runs, 1_000 + i)
                base_times.append(dt)
                base_draws.append(draws)
                line += f", baseline {dt:.3f} s"
                if args.scalar_variant:
                    dt, draws = timed(baseline_simulate, s, base_runs, 2_000 + i, note_sums=True)
                    var_times.append(dt)
                    var_draws.append(draws)
                    line += f", scalar variant {dt:.3f} s"
            print(line, flush=True)

    # 3. two workers, for information
    print("workers=2 ...", flush=True)
    kolsim.simulate(s, runs=runs, rng=1, workers=2)  # warm-up
    w2_times = [timed(kolsim.simulate, s, runs=runs, rng=1, workers=2)[0] for _ in range(w2_repeats)]

    # correctness: same model, different streams -> means within Z_LIMIT combined SEs
    bad = check_same_model("baseline", base_draws, vec_res)
    if args.scalar_variant:
        bad += check_same_model("scalar variant", var_draws, vec_res)

    t_vec = statistics.median(vec_times)
    t_base = statistics.median(base_times)
    t_w2 = statistics.median(w2_times)
    rps_vec = runs / t_vec
    rps_base = base_runs / t_base
    rps_w2 = runs / t_w2
    ratio = rps_vec / rps_base

    rows = [
        ("simulate, 1 core, 10,000 reps", f"{t_vec:.3f} s", f"{rps_vec:,.0f}",
         f"< {TARGET_SECONDS_10K:g} s", t_vec < TARGET_SECONDS_10K),
        (f"baseline loop, 1 core, {base_runs} reps", f"{t_base:.3f} s", f"{rps_base:,.0f}", "", None),
        ("speed-up (reps/s ratio)", "", f"{ratio:,.1f}x", f">= {TARGET_RATIO:g}x", ratio >= TARGET_RATIO),
        (f"peak RSS, {mem_runs:,} reps", f"{peak_mb:,.0f} MB", "",
         f"< {TARGET_PEAK_MB:g} MB", "skip" if args.quick else peak_mb < TARGET_PEAK_MB),
        ("simulate, workers=2, 10,000 reps", f"{t_w2:.3f} s", f"{rps_w2:,.0f}", "(info)", None),
    ]
    if args.scalar_variant:
        t_var = statistics.median(var_times)
        rows.insert(3, (f"scalar-variant loop, {base_runs} reps", f"{t_var:.3f} s",
                        f"{base_runs / t_var:,.0f}", "(info)", None))
        rows.insert(4, ("speed-up vs scalar variant", "", f"{rps_vec * t_var / base_runs:,.1f}x",
                        "(info)", None))
    print()
    print(f"{'measurement':<36}{'median':>11}{'reps/s':>11}  {'target':<12}result")
    for name, t, r, target, ok in rows:
        res = {None: "", True: "PASS", False: "MISS", "skip": "not checked (--quick)"}[ok]
        print(f"{name:<36}{t:>11}{r:>11}  {target:<12}{res}")
    print()
    print("engine times (s):    " + ", ".join(f"{x:.3f}" for x in vec_times))
    print("baseline times (s):  " + ", ".join(f"{x:.3f}" for x in base_times))
    if var_times:
        print("scalar variant (s):  " + ", ".join(f"{x:.3f}" for x in var_times))
    print("workers=2 times (s): " + ", ".join(f"{x:.3f}" for x in w2_times))
    print(f"memory subprocess: {mem['runs']:,} reps in {mem['seconds']:.2f} s; RSS after imports "
          f"{mem['after_import_kb'] / 1024:,.0f} MB, peak {peak_mb:,.0f} MB "
          f"(RUSAGE_CHILDREN max {mem['rusage_children_kb'] / 1024:,.0f} MB)")
    if hasattr(os, "getloadavg"):
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes share the cores)")

    if bad:
        print(f"\nFAIL: the baseline disagrees with kolsim.simulate on {', '.join(bad)}: "
              "the two no longer implement the same model", file=sys.stderr)
        return 1
    missed = [name for name, *_, ok in rows if ok is False]
    if missed:
        print(f"\nMISSED TARGET(S): {'; '.join(missed)}", file=sys.stderr)
        return 2
    print("\nall checked targets met")
    return 0


def check_same_model(label: str, draws: list[dict[str, np.ndarray]], vec_res) -> list[str]:
    """Print and check that a baseline's means agree with the engine's; return failures."""
    base = {k: np.concatenate([d[k] for d in draws]) for k in draws[0]}
    print()
    print(f"correctness: {label} ({base['reads'].size} replications) vs simulate "
          f"({vec_res.runs:,}), |z| <= {Z_LIMIT:g}")
    print(f"  {'metric':<22}{'simulate':>14}{label:>16}{'z':>8}")
    bad = []
    for k in CHECKED:
        mv, sv = mean_se(vec_res.totals[k])
        mb, sb = mean_se(base[k])
        se = math.hypot(sv, sb)
        z = (mb - mv) / se if se > 0 else (0.0 if mb == mv else math.inf)
        flag = "" if abs(z) <= Z_LIMIT else "  <-- FAIL"
        if flag:
            bad.append(f"{k} ({label})")
        print(f"  {k:<22}{mv:>14,.1f}{mb:>16,.1f}{z:>8.2f}{flag}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
