"""Optimizer benchmark: kolsim against a plain PuLP model of the same problem.

For each pool size N (generated requests with every constraint active, see
optimizer_instances.py) it measures, each in its own process (so peak memory
is clean and a stuck solver cannot take the run down):

- kolsim: model build time, time to the first verified plan (found, then checked by the
  verifier; its time includes the check), time to a proven 1 % and
  0.1 % gap (against a bound valid for the whole pool), final gap and
  objective, peak memory; the plan is verified;
- plain PuLP: the same problem written the way a competent planner would
  (pulp.lpSum over dictionaries of variables), its build time, and its solve
  by CBC and by HiGHS with a 1 % gap target and the same time limit; whatever
  plan they return is checked by kolsim's verifier.

Up to N = 1,000 the comparison to 1 % against CBC is repeated (5 runs of each side, both asked
for a 1 % gap) and the ratio of the medians reported.

Run:  .venv/bin/python benchmarks/bench_optimizer.py            (about 26 minutes)
      .venv/bin/python benchmarks/bench_optimizer.py --builds-only (the build comparison alone, 5 minutes)
      .venv/bin/python benchmarks/bench_optimizer.py --quick    (N = 100 and 1,000, short limits)
      .venv/bin/python benchmarks/bench_optimizer.py --seeds 5  (kolsim's targets on seeds 0-4)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _children import fmt, run_child  # noqa: E402

#: N -> (gap target, time limit for build + solve), from the issue's targets.
TARGETS = {100: (1e-4, 2.0), 1000: (1e-3, 10.0), 10000: (5e-3, 15.0), 50000: (1e-2, 120.0)}
#: Up to this N both sides reach 1 % within seconds, so the comparison to 1 % against CBC is the
#: ratio of medians of this many runs of each, both asked for a 1 % gap (a single run of kolsim's
#: 20-60 ms is at the mercy of a moment's machine noise).
REPEATED_UP_TO, REPEATS = 1000, 5
LEVELS = (0.01, 0.005, 0.001, 0.0001)


# --------------------------------------------------------------------------- #
# Single measurements (run in a child process)
# --------------------------------------------------------------------------- #
def run_kolsim(n: int, gap: float, limit: float, seed: int = 0) -> dict:
    from optimizer_instances import instance

    from kolsim.optimize import build_problem
    from kolsim.optimize.formulation import settle_saturation
    from kolsim.optimize.reduce import gap_times, solve_reduced
    from kolsim.optimize.verify import verify
    import highspy  # noqa: F401  (imported before timing, as pulp is for the plain model)

    scenario, pool = instance(n, seed)
    t0 = time.perf_counter()
    p = build_problem(scenario, pool)
    prep = time.perf_counter() - t0
    raw, m, build, sizes = solve_reduced(p, time_limit=limit, gap=gap)
    out = {"build_seconds": prep + build, "formulation_seconds": build, "prepare_seconds": prep,
           "status": raw.status, "sizes": sizes}
    if raw.x is not None:
        vp = verify(p, m, settle_saturation(m, p, raw.x), raw.objective)
        final_gap = (raw.bound - vp.model_value) / vp.model_value if raw.bound else None
        # times (after the build) at which the proven gap first reached each level
        at = gap_times(raw.trajectory, LEVELS, final_gap=final_gap, end=raw.solve_seconds)
        # the first plan found is verified too, and its time includes the verification's
        # (highspy 1.10 does not hand HiGHS's first incumbent over: then there is no figure)
        first = None
        if raw.first_x is not None:
            t1 = time.perf_counter()
            verify(p, m, settle_saturation(m, p, raw.first_x))
            first = raw.first_solution_seconds + (time.perf_counter() - t1)
        out.update(objective=vp.model_value, bound=raw.bound, gap=final_gap,
                   first_seconds=first, solve_seconds=raw.solve_seconds,
                   seconds_to={f"{k:g}": v for k, v in at.items()}, verified=True,
                   spend=vp.spend_cents / 100)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def plain_model(p):
    """The request as a planner writes it in PuLP: dictionaries of variables and lpSum."""
    import numpy as np
    import pulp

    o = p.settings
    prob = pulp.LpProblem("plain", pulp.LpMaximize)
    K = range(p.n)
    weeks = range(p.weeks)
    allowed = [(k, w) for k in K for w in weeks if p.upper[k, w] > 0]
    x = {(k, w): prob.add_variable(f"x_{k}_{w}", 0, int(p.upper[k, w]), cat="Integer") for k, w in allowed}
    y = {k: prob.add_variable(f"y_{k}", int(p.must[k]), 1, cat="Binary") for k in K}
    by_k = {k: [w for w in weeks if (k, w) in x] for k in K}
    spend = {k: pulp.lpSum(float(p.cost[k]) * x[k, w] for w in by_k[k]) + float(p.fee[k]) * y[k] for k in K}
    total = pulp.lpSum(spend.values())
    S = range(len(p.segment_names))
    z = {s: prob.add_variable(f"z_{s}", 0, float(p.segment_sizes[s])) for s in S}
    # each creator's own followers: u_k under its own tangents, nested in its segment's pressure
    owns = [k for k in K if p.own_share is not None and p.own_share[k] > 0]
    u = {k: prob.add_variable(f"u_{k}", 0, float(p.own_capacity[k])) for k in owns}
    beyond = {k: 1.0 - float(p.own_share[k]) if k in u else 1.0 for k in K}
    pressure = {s: pulp.lpSum(beyond[k] * float(p.value[k, w]) * x[k, w] for k, w in allowed if p.segment[k] == s)
                + pulp.lpSum(u[k] for k in owns if p.segment[k] == s) for s in S}
    prob += pulp.lpSum(z.values())
    prob += total <= p.budget, "budget"
    for i, wb in enumerate(o.budget_by_weeks):
        prob += pulp.lpSum(float(p.cost[k]) * x[k, w] for k, w in allowed if w + 1 in wb.weeks) <= wb.max, f"wb{i}"
    for w in weeks:
        prob += pulp.lpSum(x[k, w] for k in K if (k, w) in x) <= o.max_posts_per_week, f"brand_{w}"
    for cat, b in o.category_share.items():
        mine = pulp.lpSum(spend[k] for k in K if p.category[k] == cat)
        if b.max < 1:
            prob += mine <= b.max * total, f"catmax_{cat}"
        if b.min > 0:
            prob += mine >= b.min * total, f"catmin_{cat}"
    for t, r in o.tiers.items():
        members = [k for k in K if p.tier[k] == t]
        if r.min_creators:
            prob += pulp.lpSum(y[k] for k in members) >= r.min_creators, f"tmin_{t}"
        if r.max_creators is not None:
            prob += pulp.lpSum(y[k] for k in members) <= r.max_creators, f"tmax_{t}"
        mine = pulp.lpSum(spend[k] for k in members)
        if r.max_share < 1:
            prob += mine <= r.max_share * total, f"tsmax_{t}"
        if r.min_share > 0:
            prob += mine >= r.min_share * total, f"tsmin_{t}"
    for k in K:
        prob += pulp.lpSum(x[k, w] for w in by_k[k]) >= int(p.min_posts[k]) * y[k], f"min_{k}"
        for w in by_k[k]:
            prob += x[k, w] <= int(p.upper[k, w]) * y[k], f"link_{k}_{w}"
        for s0 in range(max(1, p.weeks - 3)):
            win = [w for w in by_k[k] if s0 <= w < s0 + 4]
            if win:
                prob += pulp.lpSum(x[k, w] for w in win) <= int(p.cap[k]), f"cad_{k}_{s0}"
    if owns:
        b_own, a_own, counts = p.own_cuts
        first = np.cumsum(counts) - counts
        for k in owns:
            own = pulp.lpSum(float(p.own_value[k, w]) * x[k, w] for w in by_k[k])
            for i in range(first[k], first[k] + counts[k]):
                prob += u[k] <= float(a_own[i]) + float(b_own[i]) * own, f"own_{k}_{i - first[k]}"
    for s, (slopes, intercepts) in zip(S, p.cuts):  # the request's tangents, as kolsim's model uses
        for i, (b, a) in enumerate(zip(slopes, intercepts)):
            prob += z[s] <= float(a) + float(b) * pressure[s], f"sat_{s}_{i}"
    return prob, x, y, z


def run_builds(n: int, reps: int) -> dict:
    """kolsim's formulation and the plain PuLP model built alternately in one process.

    The first build of each is reported on its own (a cold process pays first-call costs).
    The speed-up is the median of the ratios of builds made back to back after that, each side
    first in turn. Before every timed build the previous build's garbage is collected and the
    request is prepared afresh (``build_problem``, untimed), as it is right before the build in
    ``kolsim optimize`` and in a planner's script: a build is measured in the state it runs in.

    The same pairs are also timed right after a collection alone, from the request prepared once
    (``after_collection``), as this benchmark did before. A collection walks the whole heap and
    leaves the caches cold: that adds about 0.3 ms to kolsim's 0.6 ms build at N = 100 and
    nothing measurable to the plain model's 18-30 ms (benchmarks/RESULTS.md, seventh session).
    """
    import gc
    import statistics

    import pulp  # noqa: F401  (imported before timing, as in run_plain)
    from optimizer_instances import instance

    from kolsim.optimize import build_problem
    from kolsim.optimize.formulation import build_milp

    scenario, pool = instance(n)
    p = build_problem(scenario, pool)
    t0 = time.perf_counter()
    build_milp(p)
    cold_k = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain_model(p)
    cold_p = time.perf_counter() - t0
    sides = {"kolsim": build_milp, "plain": plain_model}
    prepared = {"kolsim": [], "plain": []}
    collected = {"kolsim": [], "plain": []}

    def timed(side: str, prepare: bool) -> float:
        gc.collect()  # what the previous build left is freed outside the timing
        q = build_problem(scenario, pool) if prepare else p
        t0 = time.perf_counter()
        sides[side](q)
        return time.perf_counter() - t0

    for i in range(reps):  # alternately, each side first in turn
        order = ("kolsim", "plain") if i % 2 == 0 else ("plain", "kolsim")
        for prepare, times in ((True, prepared), (False, collected)):
            for side in order:
                times[side].append(timed(side, prepare))

    def summary(times: dict) -> dict:
        ratios = [b / a for a, b in zip(times["kolsim"], times["plain"])]
        return {"kolsim": statistics.median(times["kolsim"]), "plain": statistics.median(times["plain"]),
                "ratio": statistics.median(ratios), "ratios": ratios, "reps": reps}

    return {"cold_kolsim": cold_k, "cold_plain": cold_p, **summary(prepared),
            "after_collection": summary(collected)}


def builds_in_processes(n: int, reps: int, processes: int) -> dict:
    """run_builds in several processes: a 1 ms build moves with where a process lands, so the
    pairs of all are pooled."""
    import statistics

    runs = [child("builds", n, reps, timeout=900) for _ in range(processes)]
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]

    def pooled(rs: list) -> dict:
        ratios = [x for r in rs for x in r["ratios"]]
        return {"kolsim": statistics.median(r["kolsim"] for r in rs), "plain": statistics.median(r["plain"] for r in rs),
                "ratio": statistics.median(ratios), "per_process": [round(r["ratio"], 1) for r in rs],
                "reps": len(ratios)}

    return {"cold_kolsim": statistics.median(r["cold_kolsim"] for r in ok),
            "cold_plain": statistics.median(r["cold_plain"] for r in ok), **pooled(ok),
            "after_collection": pooled([r["after_collection"] for r in ok])}


def run_plain(n: int, solver: str, limit: float, gap: float) -> dict:
    import numpy as np
    import pulp
    from optimizer_instances import instance

    from kolsim.optimize import build_problem
    from kolsim.optimize.formulation import build_milp, settle_saturation
    from kolsim.optimize.verify import VerificationError, verify

    scenario, pool = instance(n)
    p = build_problem(scenario, pool)
    m = build_milp(p)  # only to check the answer
    t0 = time.perf_counter()
    prob, x, y, z = plain_model(p)
    build = time.perf_counter() - t0
    out = {"build_seconds": build}
    if solver == "none":
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return out
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False).name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if solver == "cbc":
            s = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=gap, logPath=log)
        else:
            s = pulp.HiGHS(msg=False, timeLimit=limit, gapRel=gap)
    t0 = time.perf_counter()
    prob.solve(s)
    solve = time.perf_counter() - t0
    out.update(solve_seconds=solve, pulp_status=pulp.LpStatus[prob.status],
               solution_status=getattr(prob, "sol_status", None))
    bound = None
    if solver == "cbc":
        text = open(log, errors="replace").read()
        found = re.findall(r"Gap:\s+([-0-9.eE+]+)", text)
        out["cbc_gap"] = float(found[-1]) if found else None
        lb = re.findall(r"Lower bound:\s+([-0-9.eE+]+)", text)
        bound = -float(lb[-1]) if lb else None  # CBC minimises the negated objective
    else:
        info = prob.solverModel.getInfo()
        out["highs_gap"] = info.mip_gap if math.isfinite(info.mip_gap) else None
    # whatever values PuLP filled in, check them
    vec = np.zeros(m.n_cols)
    pos = {(int(k), int(w)): j for j, (k, w) in enumerate(zip(m.xk, m.xw))}
    ok_values = all(v.value() is not None for v in list(x.values()) + list(y.values()))
    plan = None
    if ok_values:
        for (k, w), v in x.items():
            vec[pos[k, w]] = v.value()
        for k, v in y.items():
            vec[m.n_x + k] = v.value()
        try:  # the saturated values at their envelopes (the objective rewards them all)
            vp = verify(p, m, settle_saturation(m, p, vec))
            plan = vp.model_value
        except VerificationError as e:
            out["verification"] = str(e)[:300]
    out["objective"] = plan
    # the solver's own statement of its gap (CBC's log, HiGHS's info); PuLP reports none
    out["gap"] = out.get("cbc_gap") if solver == "cbc" else out.get("highs_gap")
    finished = solve < limit * 0.99  # at the limit PuLP may still say "Optimal"
    reached = plan is not None and finished and out["pulp_status"] == "Optimal"
    out["seconds_to_1pct"] = solve if reached else None
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #
def to_one_percent(n: int, our_limit: float, limit: float, reps: int) -> dict:
    """Seconds to a proven 1 % from the prepared request, kolsim and plain PuLP + CBC, each asked
    for a 1 % gap, ``reps`` runs each, alternately; their medians and the ratio of the medians."""
    import statistics

    ours, cbc = [], []
    for _ in range(reps):
        o = child("kolsim", n, 0.01, our_limit, timeout=our_limit * 3 + 120)
        t = o.get("seconds_to", {}).get("0.01")
        ours.append(o["formulation_seconds"] + t if t is not None else math.inf)  # a failed run never got there
        c = child("cbc", n, limit, 0.01, timeout=limit * 2 + 300)
        t = c.get("seconds_to_1pct")
        cbc.append(c["build_seconds"] + t if t is not None else math.inf)
    k, p = statistics.median(ours), statistics.median(cbc)
    return {"kolsim": ours, "cbc": cbc, "kolsim_median": k, "cbc_median": p, "ratio": p / k, "reps": reps}


def child(*args, timeout: float) -> dict:
    return run_child(os.path.abspath(__file__), *args, timeout=timeout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000,50000")
    ap.add_argument("--baseline-limit", type=float, default=120.0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-baselines", action="store_true",
                    help="measure kolsim only (the baselines take most of the run)")
    ap.add_argument("--seeds", type=int, default=0,
                    help="kolsim only: each size's target on generated requests of seeds 0 .. SEEDS-1")
    ap.add_argument("--builds-only", action="store_true",
                    help="only the build comparison (kolsim's formulation against the plain PuLP model)")
    ap.add_argument("--one", nargs="+")
    args = ap.parse_args(argv)
    if args.one:
        kind, n = args.one[0], int(args.one[1])
        if kind == "kolsim":
            res = run_kolsim(n, float(args.one[2]), float(args.one[3]),
                             int(args.one[4]) if len(args.one) > 4 else 0)
        elif kind == "builds":
            res = run_builds(n, int(args.one[2]))
        else:
            res = run_plain(n, kind, float(args.one[2]), float(args.one[3]))
        print(json.dumps(res, default=float))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.seeds:
        return across_seeds(sizes, args.seeds)
    limit = args.baseline_limit
    if args.quick:
        sizes, limit = [100, 1000], 30.0
    builds = {} if args.skip_baselines else \
        {n: builds_in_processes(n, 9, REPEATS) if n <= REPEATED_UP_TO else child("builds", n, 9 if n <= 10_000 else 3,
                                                                              timeout=900) for n in sizes}
    if builds:
        print_builds(builds)
    if args.builds_only:
        return 0
    rows = []
    for n in sizes:
        gap, our_limit = TARGETS[n]
        # run to 0.1 % (or the target, if tighter) within the target's time, to report both
        ours = child("kolsim", n, min(gap, 1e-3), our_limit, timeout=our_limit * 3 + 120)
        skipped = {"error": "not run (--skip-baselines)"}
        build = skipped if args.skip_baselines else child("none", n, 0, 0, timeout=600)
        cbc = skipped if args.skip_baselines else child("cbc", n, limit, 0.01, timeout=limit * 2 + 300)
        highs = skipped if args.skip_baselines else child("highs", n, limit, 0.01, timeout=limit * 2 + 300)
        repeated = to_one_percent(n, our_limit, limit, REPEATS) \
            if n <= REPEATED_UP_TO and not args.skip_baselines else None
        rows.append((n, gap, our_limit, ours, build, cbc, highs, repeated))
        print(json.dumps({"n": n, "kolsim": ours, "plain_build": build, "cbc": cbc, "highs": highs,
                          "to_one_percent": repeated}, default=float), flush=True)

    print("\n| N | kolsim build s (prepare + formulate) | plain PuLP build s | build speed-up (in one process) | kolsim first verified plan s "
          "| kolsim to 1 % s | kolsim to 0.1 % s | kolsim gap at the end | objective | target (build + solve) | "
          "PuLP+CBC, 1 % target | PuLP+HiGHS, 1 % target | to 1 %: vs CBC | peak MB |")
    print("|" + "---|" * 14)
    failed = []
    for n, gap, our_limit, o, b, c, h, repeated in rows:
        def base(r):
            if "error" in r:
                return r["error"]
            if r.get("objective") is None:
                return f"no verified plan in {limit:.0f} s ({r.get('pulp_status')})"
            if r.get("seconds_to_1pct") is not None:
                return f"1 % in {r['seconds_to_1pct']:.1f} s, obj {r['objective']:.1f}"
            g = r.get("gap")
            return f"gap {g:.2%} at {limit:.0f} s, obj {r['objective']:.1f}" if g is not None else \
                f"obj {r['objective']:.1f}, gap unknown at {limit:.0f} s"
        to = o.get("seconds_to", {})
        build_s = o.get("build_seconds", math.nan)
        t1 = to.get("0.01")
        # both sides from the prepared request: kolsim's formulation + solve, the plain model's build + solve
        t1_total = o.get("formulation_seconds", math.nan) + t1 if t1 is not None else None
        ct = c.get("seconds_to_1pct")
        ct_total = ct + c.get("build_seconds", 0) if ct is not None else None
        # a ratio is a lower bound ("> ") when CBC never reached 1 %
        ratio = (ct_total if ct_total else limit + c.get("build_seconds", 0)) / t1_total if t1_total else None
        speed = f"{'' if ct_total else '> '}{ratio:.1f}x" if ratio else "–"
        if repeated:
            ratio = repeated["ratio"]
            speed = (f"{ratio:.1f}x (medians of {repeated['reps']}: {repeated['cbc_median']:.3f} s "
                     f"against {repeated['kolsim_median']:.3f} s; this run alone {speed})")
        if ratio is not None and ratio < 10 and (ct_total or repeated):  # else CBC never got to 1 %
            failed.append(f"N={n} to 1 % against CBC ({ratio:.1f}x < 10x)")
        bspeed = builds.get(n, {}).get("ratio", math.nan)
        if bspeed < 20:
            failed.append(f"N={n} build ({bspeed:.1f}x < 20x)")
        hit = to.get(f"{gap:g}")
        target_ok = hit is not None and build_s + hit <= our_limit
        target = (f"gap ≤ {gap:.2%} in ≤ {our_limit:.0f} s: "
                  + (f"met ({build_s + hit:.1f} s)" if target_ok else "missed"
                     + (f" ({build_s + hit:.1f} s)" if hit is not None else "")))
        if not target_ok:
            failed.append(f"N={n} size target")
        print(f"| {n:,} | {fmt(build_s)} ({fmt(o.get('prepare_seconds'))} + {fmt(o.get('formulation_seconds'))}) "
              f"| {fmt(b.get('build_seconds'))} | {bspeed:.1f}x | "
              f"{fmt(o.get('first_seconds'))} | {fmt(t1)} | {fmt(to.get('0.001'))} | "
              f"{fmt(o.get('gap'), '.3%')} | {fmt(o.get('objective'), '.1f')} | {target} | {base(c)} | {base(h)} | "
              f"{speed} | {fmt(o.get('peak_mb'), '.0f')} |")
    print("\ntargets missed: " + (", ".join(failed) if failed else "none"))
    print("times after 'kolsim to' are after the build; targets count build + solve")
    return 0


def print_builds(builds: dict) -> None:
    print("\nModel build: kolsim's formulation against the plain PuLP model, built alternately in one "
          "process, each build right after the request is prepared (medians of builds made back to back; "
          "the first, cold build of each apart; up to "
          f"N = {REPEATED_UP_TO:,} the pairs of {REPEATS} processes pooled). The last column: the same "
          "pairs right after a garbage collection alone, which leaves the caches cold")
    print("| N | kolsim cold s | plain cold s | kolsim median s | plain median s | speed-up (median ratio) | "
          "target ≥ 20× | after a collection alone |")
    print("|---|---|---|---|---|---|---|---|")

    def ratio(b: dict) -> str:
        return (f"{b['ratio']:.1f}× ({b['reps']} pairs"
                + (f"; by process {', '.join(f'{r}×' for r in b['per_process'])}" if "per_process" in b else "")
                + ")")

    for n, b in builds.items():
        if "error" in b:
            print(f"| {n:,} | error: {b['error']} | | | | | | |")
            continue
        c = b["after_collection"]
        print(f"| {n:,} | {b['cold_kolsim']:.4f} | {b['cold_plain']:.4f} | {b['kolsim']:.4f} | {b['plain']:.4f} "
              f"| {ratio(b)} | {'met' if b['ratio'] >= 20 else 'missed'} "
              f"| {ratio(c)}: {c['kolsim']:.4f} s against {c['plain']:.4f} s |", flush=True)


def across_seeds(sizes: list[int], seeds: int) -> int:
    """Each size's target on requests generated with seeds 0 .. seeds-1 (kolsim only)."""
    print("| N | seed | status | gap at the end | build + solve to the target gap | target |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        gap, limit = TARGETS[n]
        for seed in range(seeds):
            o = child("kolsim", n, gap, limit, seed, timeout=limit * 3 + 300)
            if "error" in o:
                print(f"| {n:,} | {seed} | error: {o['error']} | | | |", flush=True)
                continue
            hit = o.get("seconds_to", {}).get(f"{gap:g}")
            total = o["build_seconds"] + hit if hit is not None else None
            if o["status"] == "infeasible":
                verdict = "the request is infeasible (reported as such)"
            elif total is not None and total <= limit:
                verdict = f"met (gap ≤ {gap:.2%} in ≤ {limit:.0f} s)"
            else:
                verdict = f"**missed** (gap ≤ {gap:.2%} in ≤ {limit:.0f} s)"
            print(f"| {n:,} | {seed} | {o['status']} | {fmt(o.get('gap'), '.3%')} | "
                  f"{fmt(total, '.1f')} | {verdict} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
