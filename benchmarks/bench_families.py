"""The optimizer on three request families it was not tuned to, beside the plain whole model.

For each family of optimizer_families.py, seed and pool size N, three runs of the same request
at the same time limit, each in its own process (clean peak memory; a stuck solver cannot take
the run down), every time counted from the request compiled (``build_problem``), so model
building is included:

- ``kolsim``: ``solve_reduced`` (what ``kolsim optimize`` runs on HiGHS), asked for 0.01 %;
- ``highs``: the same formulation, whole (``build_milp``), solved by HiGHS from nothing, asked
  for 0.01 %: the plain whole model;
- ``cbc`` (N <= --cbc-up-to): the same formulation through PuLP, solved by CBC from the quick
  plan, bounded by the LP relaxation (what ``kolsim optimize --backend pulp`` runs; PuLP
  reports no path, so a gap level counts at the quick plan if it meets it against the LP bound,
  else at CBC's end if it ended within it).

Reported per run: time to the first verified plan (kolsim and highs), to a proven 1 % and 0.1 %,
the final gap, the objective; kolsim's plan and final bound are verified against the plain
model's (its plan within the plain bound, its bound above the plain plan). The summary gives
per (family, N) the ratio of the plain model's time to kolsim's for each level (a run the plain
model never brought to the level counts as the time limit, a lower bound on its ratio), and the
performance profile: the share of runs that reached each gap within each time, drawn to
``--plot``.

Run:  .venv/bin/python benchmarks/bench_families.py                  (about 25 minutes)
      .venv/bin/python benchmarks/bench_families.py --sizes 100 --seeds 2   (a quick look)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _children import fmt, run_child  # noqa: E402

LEVELS = (0.01, 0.001)
GAP = 1e-4
#: N -> time limit (s) for each run.
LIMITS = {100: 10.0, 1000: 20.0, 10000: 60.0, 50000: 60.0}


def one(side: str, family: str, n: int, seed: int, limit: float) -> dict:
    """One run, in this (child) process."""
    from optimizer_families import FAMILIES

    from kolsim.optimize import build_problem
    from kolsim.optimize.backends import relative_gap, solve_highs
    from kolsim.optimize.quick import solve_pulp_started
    from kolsim.optimize.formulation import build_milp
    from kolsim.optimize.reduce import solve_reduced
    from kolsim.optimize.verify import verify

    p = build_problem(*FAMILIES[family](n, seed))
    t0 = time.perf_counter()
    if side == "kolsim":
        raw, m, build, _ = solve_reduced(p, time_limit=limit, gap=GAP)
        offset = build  # raw's times count from the model built
    else:
        m = build_milp(p)
        build = time.perf_counter() - t0
        solve = solve_highs if side == "highs" else solve_pulp_started
        raw = solve(m, time_limit=max(0.1, limit - build), gap=GAP)
        offset = build
    total = time.perf_counter() - t0
    out = {"side": side, "family": family, "n": n, "seed": seed, "candidates": p.n, "limit": limit,
           "seconds": total, "objective": raw.objective, "bound": raw.bound,
           "gap": relative_gap(raw.objective, raw.bound), "status": raw.status,
           "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if raw.x is not None:
        verify(p, m, raw.x, claimed_objective=raw.objective)  # raises if the plan breaks a rule
    first = raw.first_solution_seconds
    out["first"] = None if first is None else offset + first
    # the quick plan's quality: the first plan on the path, against the best plan of the run
    if raw.first_x is not None:
        out["first_objective"] = float(m.c @ raw.first_x)
    else:
        out["first_objective"] = raw.trajectory[0][1] if raw.trajectory else None
    levels = {}
    for level in LEVELS:
        t = raw.gap_seconds.get(level)
        if t is not None:
            levels[str(level)] = offset + t
        elif out["gap"] is not None and out["gap"] <= level + 1e-12:
            levels[str(level)] = total
    out["to"] = levels
    return out


def child(*args, timeout: float) -> dict:
    return run_child(os.path.abspath(__file__), *args, timeout=timeout)


def versions() -> dict:
    from importlib.metadata import version
    out = {"python": platform.python_version(), "machine": f"{platform.machine()} {os.cpu_count()} cores"}
    for name in ("highspy", "pulp", "numpy", "scipy"):
        out[name] = version(name)
    return out


def profile(runs: list[dict], plot: str | None) -> dict:
    """Share of (family, N, seed) runs of each side that reached each level within each time."""
    grid = [0.1 * 10 ** (i / 8) for i in range(0, 25)]  # 0.1 s ... 100 s
    # a request proven infeasible has no gap to reach: it is left out (and said so)
    proven = {(r["family"], r["n"], r["seed"]) for r in runs if r["status"] == "infeasible"}
    runs = [r for r in runs if (r["family"], r["n"], r["seed"]) not in proven]
    sides = sorted({r["side"] for r in runs})
    out = {}
    for level in LEVELS:
        for side in sides:
            mine = [r for r in runs if r["side"] == side]
            times = [r["to"].get(str(level), math.inf) for r in mine]
            out[(side, level)] = [sum(t <= g for t in times) / len(times) for g in grid]
    if plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, len(LEVELS), figsize=(10, 4), sharey=True)
        for ax, level in zip(axes, LEVELS):
            for side in sides:
                label = side if side != "cbc" else "cbc (small pools only)"
                ax.step(grid, out[(side, level)], where="post", label=label)
            ax.set_xscale("log")
            ax.set_xlabel("seconds (build and solve)")
            ax.set_title(f"proven within {level:.1%}")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("share of runs")
        axes[0].legend()
        n_runs = len([r for r in runs if r["side"] == "kolsim"])
        fig.suptitle(f"Performance profile: {n_runs} feasible requests of three families "
                     "(benchmarks/bench_families.py)")
        fig.tight_layout()
        fig.savefig(plot, dpi=110)
    return {"grid": grid, "left_out_infeasible": sorted(proven), **{f"{s} {lv}": v for (s, lv), v in out.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=5, metavar=("SIDE", "FAMILY", "N", "SEED", "LIMIT"), help=argparse.SUPPRESS)
    ap.add_argument("--families", nargs="+", default=["generated", "linear", "fees"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[100, 1000])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0 .. SEEDS-1")
    ap.add_argument("--cbc-up-to", type=int, default=100, help="largest N also solved by PuLP + CBC")
    ap.add_argument("--kolsim-only", action="store_true",
                    help="run kolsim alone (the plain model at N = 50,000 does not finish in 300 s)")
    ap.add_argument("--json", default=None, help="write every run to this file")
    ap.add_argument("--plot", default=None, help="draw the performance profile to this PNG")
    ap.add_argument("--replot", nargs="+", default=None, metavar="JSON",
                    help="draw --plot from the runs of these --json files (several runs merged), solving nothing")
    a = ap.parse_args(argv)
    if a.replot:
        runs = [r for path in a.replot for r in json.load(open(path, encoding="utf-8"))["runs"]]
        prof = profile(runs, a.plot)
        for level in LEVELS:
            for side in ("kolsim", "highs", "cbc"):
                shares = prof.get(f"{side} {level}")
                if shares:
                    at = {g: v for g, v in zip(prof["grid"], shares)}
                    print(f"{side:6s} proven {level:.1%}: " + ", ".join(
                        f"{v:.0%} by {g:.1f} s" for g, v in at.items() if g in (prof["grid"][8], prof["grid"][16], prof["grid"][24])))
        return 0
    if a.one:
        side, family, n, seed, limit = a.one
        print(json.dumps(one(side, family, int(n), int(seed), float(limit))))
        return 0
    print(json.dumps(versions()))
    runs = []
    for family in a.families:
        for n in a.sizes:
            limit = LIMITS.get(n, 60.0)
            sides = ["kolsim"] if a.kolsim_only else ["kolsim", "highs"] + (["cbc"] if n <= a.cbc_up_to else [])
            for seed in range(a.seeds):
                for side in sides:
                    r = child(side, family, n, seed, limit, timeout=3 * limit + 120)
                    if "error" in r:
                        print(f"{family} N={n} seed {seed} {side}: {r['error']}", flush=True)
                        continue
                    runs.append(r)
                    print(f"{family:9s} N={n:>6,} seed {seed} {side:6s} first {fmt(r['first'])} s, "
                          f"1 % {fmt(r['to'].get('0.01'))} s, 0.1 % {fmt(r['to'].get('0.001'))} s, "
                          f"gap {fmt(r['gap'], '.3%')}, objective {fmt(r['objective'], '.3f')}, "
                          f"{r['peak_mb']:.0f} MB", flush=True)
    print("\nratio of the plain HiGHS model's time to kolsim's (median, min over seeds; "
          "'>' where the plain model did not reach the level: its time limit counted)")
    for family in a.families:
        for n in a.sizes:
            k = {r["seed"]: r for r in runs if (r["family"], r["n"], r["side"]) == (family, n, "kolsim")}
            h = {r["seed"]: r for r in runs if (r["family"], r["n"], r["side"]) == (family, n, "highs")}
            parts = []
            for level in LEVELS:
                ratios, censored = [], False
                for s in sorted(set(k) & set(h)):
                    tk, th = k[s]["to"].get(str(level)), h[s]["to"].get(str(level))
                    if tk is None and th is None:
                        continue
                    if tk is None:
                        ratios.append(0.0)
                        continue
                    if th is None:
                        th, censored = h[s]["limit"], True
                    ratios.append(th / max(tk, 1e-3))
                if ratios:
                    parts.append(f"{level:.1%}: median {'>' if censored else ''}{statistics.median(ratios):.2f}x, "
                                 f"min {min(ratios):.2f}x ({len(ratios)} runs)")
                else:
                    parts.append(f"{level:.1%}: neither reached it")
            ends = [(k[s]["gap"], h[s]["gap"]) for s in sorted(set(k) & set(h))]
            # worse: above the gap asked and above the plain model's (no plan at all counts as worse)
            worse = sum(1 for gk, gh in ends if gk is None and gh is not None
                        or gk is not None and gk > max(GAP, gh if gh is not None else math.inf) + 1e-9)
            dz = [k[s]["objective"] / h[s]["objective"] - 1 for s in sorted(set(k) & set(h))
                  if k[s]["objective"] and h[s]["objective"]]
            print(f"{family:9s} N={n:>6,}: " + "; ".join(parts)
                  + f"; final gap worse than plain in {worse}/{len(ends)}"
                  + (f"; plan vs plain {min(dz):+.4%} .. {max(dz):+.4%}" if dz else ""))
    print("\nthe first verified plan (kolsim's quick plan; HiGHS's and CBC's first incumbent), below the best "
          "plan any side found for the request: median, worst over seeds; and its time")
    for family in a.families:
        for n in a.sizes:
            mine = [r for r in runs if (r["family"], r["n"]) == (family, n)]
            best = {}
            for r in mine:
                if r["objective"] is not None:
                    best[r["seed"]] = max(best.get(r["seed"], -math.inf), r["objective"])
            parts = []
            for side in ("kolsim", "highs", "cbc"):
                rs = [r for r in mine if r["side"] == side and r.get("first_objective") is not None
                      and r["seed"] in best]
                if not rs:
                    continue
                short = [1 - r["first_objective"] / best[r["seed"]] for r in rs]
                t = [r["first"] for r in rs]
                parts.append(f"{side} {statistics.median(short):.3%}, {max(short):.3%} "
                             f"at {statistics.median(t):.2f} s")
            print(f"{family:9s} N={n:>6,}: " + "; ".join(parts))
    prof = profile(runs, a.plot)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"versions": versions(), "runs": runs, "profile": prof}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
