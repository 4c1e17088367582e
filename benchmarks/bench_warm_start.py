"""Warm starts: the ¥1,000 re-solve started from the plan just found, against a cold re-solve.

For generated requests (optimizer_instances.py) of N creators, it solves the request, then solves it
again with ¥1,000 more budget twice in the same process: cold, and started from the first plan
(``optimize(..., start=plan)``, as ``kolsim.optimize`` does for its marginal value). It reports the
time to a proven 1 % and the gap at the end of each re-solve, with the same time limit.

Run:  .venv/bin/python benchmarks/bench_warm_start.py            (N = 1,000, seeds 0-2; about 2 minutes)
      .venv/bin/python benchmarks/bench_warm_start.py --n 100 --limit 2
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    from optimizer_instances import instance

    from kolsim.optimize import optimize

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--limit", type=float, default=10.0)
    ap.add_argument("--gap", type=float, default=1e-3)
    args = ap.parse_args(argv)
    print("| N | seed | re-solve | start | to a proven 1 % s | gap at the end | objective |")
    print("|---|---|---|---|---|---|---|")
    for seed in range(args.seeds):
        scenario, pool = instance(args.n, seed)
        first = optimize(scenario, pool, marginal=False, time_limit=args.limit, gap=args.gap)
        more = replace(scenario, campaign=replace(scenario.campaign, budget=scenario.campaign.budget + 1000))
        for label, start in (("cold", None), ("warm", first.plan)):
            r = optimize(more, pool, marginal=False, time_limit=args.limit, gap=args.gap, start=start)
            t1 = r.gap_seconds.get(0.01)
            print(f"| {args.n:,} | {seed} | {label} | {r.model_size.get('start', '–')} | "
                  f"{'–' if t1 is None else f'{t1:.2f}'} | "
                  f"{'–' if r.gap is None else f'{r.gap:.3%}'} | "
                  f"{'–' if r.objective is None else f'{r.objective:.1f}'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
