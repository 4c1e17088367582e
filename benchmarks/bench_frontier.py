"""Frontier and risk benchmark (issue 18): 20 budgets of one request against one cold solve, and
the SAA risk-aware solve against the same program handed to HiGHS as one model.

Run from the repository root::

    .venv/bin/python benchmarks/bench_frontier.py                 # both parts, N = 1,000, seeds 0-2
    .venv/bin/python benchmarks/bench_frontier.py --part frontier --n 300 --seeds 1   # quick
    .venv/bin/python benchmarks/bench_frontier.py --part saa --seeds 3               # ~7 min

Frontier: for each seed, the generated request of ``optimizer_instances.py`` (every rule
active), a cold solve at its own budget (the baseline, same run, same gap and time limit), then
``kolsim.frontier`` over 20 budgets from 50 % to 150 % of it (no simulation, ``runs=0``): the
frontier's seconds against the cold solve's, every point's status and gap, and that the
frontier never decreases. Target: 20 points in < 5x one cold solve.

SAA: for each seed, the same request, S = 200 scenarios (``draw_multipliers`` at the
expected-value plan's note counts), maximise CVaR at 10 %: kolsim's ``solve_risk`` (cutting
planes, the core of the relaxation's creators, the expected-value plan as start) against the
baseline in the same run: the whole program with a fixed grid of 12 tangents per scenario and
segment, no start, one HiGHS solve, at the same time limit (60 s). Reported: the gap to the
proven bound at the time limit (in the program's tangents, and of the plan's exact in-sample CVaR),
and the seconds. Target: within 1 % of the bound in <= 60 s.

Exit 2 if a target is missed, 1 if a frontier decreases.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

import kolsim  # noqa: E402
from optimizer_instances import instance  # noqa: E402


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def saa(args) -> bool:
    """The SAA part; True if the 1 % target is met on every seed."""
    from kolsim.optimize.backends import relative_gap, solve_highs
    from kolsim.optimize.formulation import build_milp
    from kolsim.optimize.risk import (RiskSpec, _build, _Cuts, _without_symmetry, draw_multipliers,
                                      scenario_outcomes, solve_risk, tail_measures)
    from kolsim.riskplan import _notes, _posts

    spec = RiskSpec("max", "cvar", 0.1)
    print(f"\nSAA: N = {args.n}, S = {args.scenarios}, maximise CVaR 10 %, gap 1 %, time limit "
          f"{args.saa_time:g} s")
    met = True
    for seed in range(args.seeds):
        s, pool = instance(args.n, seed)
        t = time.perf_counter()
        e = kolsim.optimize(s, pool, marginal=False, time_limit=args.time_limit)
        t_e = time.perf_counter() - t
        p = e.problem
        posts, _ = _posts(p, e.plan)
        a = draw_multipliers(s, pool, p, args.scenarios, np.random.default_rng(seed), notes=_notes(p, posts))
        t = time.perf_counter()
        rs = solve_risk(p, a, spec, time_limit=args.saa_time, gap=0.01, start=e.plan)
        t_k = time.perf_counter() - t
        ex_k = relative_gap(rs.in_sample.get("cvar"), rs.bound) if rs.plan is not None else None
        # the baseline: the same program as one model, a fixed tangent grid, no start
        t = time.perf_counter()
        core = _without_symmetry(build_milp(p))
        cuts = None
        if p.saturating:
            S, n_seg = a.shape[0], len(p.segment_names)
            cuts = _Cuts.at(p.capacity, np.zeros((S, n_seg)))
            for u in (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.5):
                cuts = cuts.add(np.arange(S * n_seg), np.tile(u * p.capacity, S))
        m, lay = _build(p, core, a, spec, cuts)
        raw = solve_highs(m, time_limit=args.saa_time, gap=0.01)
        t_b = time.perf_counter() - t
        if raw.x is not None:
            bp = np.zeros((p.n, p.weeks))
            bp[core.xk, core.xw] = np.round(raw.x[:core.n_x])
            exact_b = tail_measures(scenario_outcomes(p, bp, np.round(raw.x[core.n_x:core.n_x + p.n]), a), 0.1)["cvar"]
            b_gap, b_ex = relative_gap(raw.objective, raw.bound), relative_gap(exact_b, raw.bound)
            base = f"gap {b_gap:.2%} (exact {b_ex:.2%}), CVaR {exact_b:,.2f}"
        else:
            base = f"no plan ({raw.status})"
        ok = rs.gap is not None and rs.gap <= 0.01 + 1e-9 and t_k <= args.saa_time + 1.0
        met &= ok
        print(f"seed {seed}: expected-value solve {t_e:.1f} s ({e.status}); kolsim {t_k:.1f} s: {rs.status}, CVaR "
              f"{rs.in_sample.get('cvar', float('nan')):,.2f}, bound {rs.bound if rs.bound is not None else float('nan'):,.2f}, "
              f"gap {rs.gap if rs.gap is not None else float('nan'):.2%} (exact {ex_k if ex_k is not None else float('nan'):.2%}), "
              f"{rs.sizes.get('tangents')} tangents, {rs.sizes.get('cut_rounds')} cut rounds, start {rs.sizes.get('start')}; "
              f"plain model {t_b:.1f} s: {base}; target {'met' if ok else 'missed'}")
    print(f"SAA within 1 % of its bound in <= {args.saa_time:g} s on every seed: {'met' if met else 'missed'}")
    return met


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["frontier", "saa", "both"], default="both")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--gap", type=float, default=0.001)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--saa-time", type=float, default=60.0)
    args = ap.parse_args()
    print(f"kolsim {kolsim.__version__}, commit {_commit()}, {time.strftime('%Y-%m-%d')}; Python "
          f"{platform.python_version()}, numpy {version('numpy')}, highspy {version('highspy')}; {os.cpu_count()} cores")
    saa_met = saa(args) if args.part in ("saa", "both") else True
    if args.part == "saa":
        return 0 if saa_met else 2
    print(f"N = {args.n}, {args.points} budgets from 50 % to 150 % of the request's, gap {args.gap:.2%}, "
          f"time limit {args.time_limit:g} s a solve")
    ratios, bad = [], False
    for seed in range(args.seeds):
        s, pool = instance(args.n, seed)
        b0 = s.campaign.budget
        t = time.perf_counter()
        cold = kolsim.optimize(s, pool, marginal=False, gap=args.gap, time_limit=args.time_limit)
        t_cold = time.perf_counter() - t
        budgets = [float(round(v, -2)) for v in np.linspace(0.5 * b0, 1.5 * b0, args.points)]
        t = time.perf_counter()
        f = kolsim.frontier(s, pool, budgets, runs=0, gap=args.gap, time_limit=args.time_limit)
        t_front = time.perf_counter() - t
        tab = f.table()
        ok = tab["objective"].notna()
        mono = bool(tab.loc[ok, "objective"].is_monotonic_increasing)
        bad |= not mono
        statuses = tab["status"].value_counts().to_dict()
        ratio = t_front / t_cold
        ratios.append(ratio)
        print(f"seed {seed}: cold solve {t_cold:.2f} s ({cold.status}, gap {cold.gap:.4%}); frontier of "
              f"{args.points}: {t_front:.2f} s = {ratio:.2f}x the cold solve; statuses {statuses}; largest gap "
              f"{tab['gap'].max():.4%}; monotone {mono}; knee at "
              f"{'¥{:,.0f}'.format(f.budgets[f.knee]) if f.knee is not None else 'none'}")
    med = statistics.median(ratios)
    print(f"\nmedian {med:.2f}x one cold solve (target < 5x): {'met' if med < 5 else 'missed'}")
    if bad:
        print("ERROR: a frontier decreased")
        return 1
    return 0 if max(ratios) < 5 and saa_met else 2


if __name__ == "__main__":
    sys.exit(main())
