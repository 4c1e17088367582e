"""Frontier benchmark: 20 budgets of one request, warm-started upward, against one cold solve.

Run from the repository root::

    .venv/bin/python benchmarks/bench_frontier.py                 # N = 1,000, seeds 0-2 (~10 min)
    .venv/bin/python benchmarks/bench_frontier.py --n 300 --seeds 1   # quick

For each seed: the generated request of ``optimizer_instances.py`` (every rule active), a cold
solve at its own budget (the baseline, same run, same gap and time limit), then
``kolsim.frontier`` over 20 budgets from 50 % to 150 % of it (no simulation, ``runs=0``): the
frontier's seconds against the cold solve's, every point's status and gap, and that the
frontier never decreases. Target (issue 18): 20 points in < 5x one cold solve. Exit 2 if missed,
1 if a frontier decreases.
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--gap", type=float, default=0.001)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    print(f"kolsim {kolsim.__version__}, commit {_commit()}, {time.strftime('%Y-%m-%d')}; Python "
          f"{platform.python_version()}, numpy {version('numpy')}, highspy {version('highspy')}; {os.cpu_count()} cores")
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
    return 0 if max(ratios) < 5 else 2


if __name__ == "__main__":
    sys.exit(main())
