"""Sweep benchmark: one worker against two local workers against a two-worker Dask cluster,
and the cost of a Sobol study.

Run from the repository root::

    .venv/bin/python benchmarks/bench_sweep.py            # full run (several minutes)
    .venv/bin/python benchmarks/bench_sweep.py --quick    # 16 points, 500 runs, N = 64

What it measures, on ``scenarios/perfume_launch.toml``:

* a grid of 64 points (``tiers.micro.cvr`` × ``word_of_mouth.q_per_year``, 8 × 8) with 2,000
  replications a point: ``kolsim.sweep`` with ``workers=1`` (the baseline, in the same run),
  ``workers=2``, and on a ``distributed.LocalCluster`` of 2 single-threaded worker processes on
  127.0.0.1 (cluster start-up not counted); each the median of 3 repeats; the ratios
  one worker / two workers and Dask / local two workers;
* that the three give the same table, byte for byte (the script exits 1 if not);
* a Sobol study of 6 keys, N = 512 base samples (512 × 8 = 4,096 points) at 200 replications a
  point on 2 local workers: seconds, and the indices' Monte Carlo noise share.

Targets (exit 2 if missed): two workers >= 1.7x one worker; Dask within 15 % of the local pool.
BLAS threads are limited to 1 (set before numpy is imported) so that a worker is a core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kolsim  # noqa: E402

SCENARIO = ROOT / "scenarios" / "perfume_launch.toml"
SOBOL_KEYS = ["tiers.micro.cvr=0.01:0.04", "tiers.mid.cvr=0.01:0.04", "tiers.top.reach=0.5:2",
              "word_of_mouth.q_per_year=0.1:1:log", "response.in_market_share=0.001:0.01:log",
              "uncertainty.creator_sigma=0:0.8"]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n, runs, sobol_n, sobol_runs = (4, 500, 64, 100) if args.quick else (8, 2000, 512, 200)
    print(f"kolsim {kolsim.__version__}, commit {_commit()}, {time.strftime('%Y-%m-%d')}; Python "
          f"{platform.python_version()}, numpy {version('numpy')}, SALib {version('SALib')}, distributed "
          f"{version('distributed')}; {os.cpu_count()} cores")
    s = kolsim.load_scenario(SCENARIO)
    vary = [f"tiers.micro.cvr=0.01:0.04:{n}", f"word_of_mouth.q_per_year=0.1:1:{n}:log"]

    def grid(**kw):
        return kolsim.sweep(s, vary, runs=runs, rng=1, **kw).to_frame().to_csv(index=False)

    grid()  # warm-up: imports, caches
    t1, all1, csv1 = _timed(lambda: grid(workers=1), args.repeats)
    t2, all2, csv2 = _timed(lambda: grid(workers=2), args.repeats)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        grid(scheduler=client)  # warm-up of the workers' imports
        td, alld, csvd = _timed(lambda: grid(scheduler=client), args.repeats)
    same = csv1 == csv2 == csvd
    print(f"\ngrid {n * n} points x {runs:,} replications (median of {args.repeats}):")
    print(f"  1 worker      {t1:7.2f} s   ({', '.join(f'{x:.2f}' for x in all1)})")
    print(f"  2 workers     {t2:7.2f} s   ({', '.join(f'{x:.2f}' for x in all2)})   {t1 / t2:.2f}x one worker")
    print(f"  Dask, 2       {td:7.2f} s   ({', '.join(f'{x:.2f}' for x in alld)})   {td / t2:.2f}x the local pool")
    print(f"  same table, byte for byte: {same}")

    t = time.perf_counter()
    r = kolsim.sweep(s, SOBOL_KEYS, method="sobol", samples=sobol_n, metrics="conversions", runs=sobol_runs,
                     rng=1, workers=2)
    ts = time.perf_counter() - t
    ind = r.indices
    print(f"\nSobol, 6 keys, N = {sobol_n} ({len(r.design):,} points x {sobol_runs} replications, 2 workers): "
          f"{ts:.1f} s; noise share {float(ind['noise_share'].iloc[0]):.3f}")
    print(ind[["factor", "S1", "S1_conf", "ST", "ST_conf"]].round(3).to_string(index=False))

    missed = []
    if t1 / t2 < 1.7:
        missed.append(f"2 workers {t1 / t2:.2f}x < 1.7x")
    if td > 1.15 * t2:
        missed.append(f"Dask {td / t2:.2f}x the local pool > 1.15")
    print("\ntargets " + ("missed: " + "; ".join(missed) if missed else "met: 2 workers >= 1.7x; Dask within 15 %"))
    if not same:
        print("ERROR: the tables differ between backends")
        return 1
    return 2 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
