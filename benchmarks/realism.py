"""The realism table of docs/model.md: each shipped scenario's outcome beside the sources' ranges.

Run it from the repository root::

    python benchmarks/realism.py            # the Markdown table, 4,000 runs a scenario
    python benchmarks/realism.py --runs 500 # quicker, noisier

It simulates every scenario in ``scenarios/`` that the Monte Carlo engine can
run on its own (waves or a plan), with the scenario's own seed, and prints
reads, interactions per read (i/r), likes per read, CPE, CPV, CPA, ROI, the
break-even multiple (spend over margin x revenue: how many times the modelled
sales a campaign would need to break even), the share of conversions beyond the
click (off-platform, buyers' notes, imitation), repeat orders per buyer and the
ROI at three times the CTR (the top of caveat 1's sweep), then the source ranges
they are held against.  The optimizer request (``optimize_skincare.toml``) is run through the
optimizer first and its plan simulated.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kolsim  # noqa: E402
from kolsim.scenario import Plan, PlanItem  # noqa: E402


#: The ranges the rows are held against (docs/model.md §4, calibration.md).
RANGES = {
    "i/r": ("2–6 %", "likes 1–5 % of reads [E10, E11], with collects and comments [A]", 0.02, 0.06),
    "likes/read": ("1–5 %", "[E10 1–3 %, E11 3–5 % healthy]", 0.01, 0.05),
    "CPE": ("¥5–20", "industry ≈ ¥10 [E21], a factor 2 either way [A]", 5.0, 20.0),
    "CPV": ("¥0.1–0.5", "¥0.2 [S4 #39], a factor 2 either way [A]", 0.1, 0.5),
}


def _ratio(num, den):
    den = float(np.mean(den))
    return float(np.mean(num)) / den if den > 0 else float("nan")


def row(name: str, scenario, runs: int) -> dict:
    r = kolsim.simulate(scenario, runs=runs, rng=scenario.simulation.seed)
    t = r.totals
    margin = scenario.campaign.margin
    beyond = t["conversions_offsite"] + t["conversions_ugc"] + t["conversions_wom"]
    out = {
        "scenario": name,
        "reads": float(t["reads"].mean()),
        "i/r": _ratio(t["interactions"], t["reads"]),
        "likes/read": _ratio(t["likes"], t["reads"]),
        "CPE": _ratio(t["spend"], t["interactions"]),
        "CPV": _ratio(t["spend"], t["reads"]),
        "CPA": _ratio(t["spend"], t["conversions"]),
        "ROI": _ratio(t["profit"], t["spend"]) if margin is not None else float("nan"),
        "break-even": _ratio(t["spend"], margin * t["revenue"]) if margin is not None else float("nan"),
        "beyond click": _ratio(beyond, t["conversions"]),
        "repeat/buyer": _ratio(t["repeat_orders"], t["conversions"]),
    }
    if margin is not None:  # the same runs at three times the CTR (common random numbers)
        t3 = kolsim.simulate(with_ctr(scenario, CTR_FACTOR), runs=runs, rng=scenario.simulation.seed).totals
        out[f"ROI, CTR×{CTR_FACTOR:g}"] = _ratio(t3["profit"], t3["spend"])
    else:
        out[f"ROI, CTR×{CTR_FACTOR:g}"] = float("nan")
    return out


#: The top of caveat 1's sweep (docs/model.md §16): CTR x CVR three times the defaults.
CTR_FACTOR = 3.0


def with_ctr(scenario, factor: float):
    """The scenario with every tier's CTR, and a plan pool's own ``ctr`` column, times ``factor``
    (capped at 1).  A pool's ``expected_conversions`` are the planner's numbers and stay."""
    s = scenario.with_({f"tiers.{t}.ctr": min(1.0, tier.ctr * factor) for t, tier in scenario.tiers.items()})
    pool = s.plan.pool if s.plan is not None else None
    if pool is not None and "ctr" in pool.frame:
        frame = pool.frame.assign(ctr=(pool.frame["ctr"] * factor).clip(upper=1.0))
        s = dataclasses.replace(s, plan=dataclasses.replace(s.plan, pool=kolsim.Pool.from_frame(frame)))
    return s


def scenarios():
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        s = kolsim.load_scenario(path)
        if s.waves or s.plan is not None:
            yield path.stem, s
        elif s.optimize is not None:
            pool = kolsim.load_pool(ROOT / "scenarios" / "pools" / "synthetic_300.csv")
            res = kolsim.optimize(s, pool, marginal=False)
            items = tuple(PlanItem(kol_id=str(r.kol_id), week=int(r.week), posts=int(r.posts))
                          for r in res.plan.itertuples())
            sizes = dict(zip(res.problem.segment_names, res.problem.segment_sizes))
            yield (f"{path.stem} (its optimal plan)",
                   dataclasses.replace(s, plan=Plan(pool=pool, items=items), segments=sizes))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4000)
    args = ap.parse_args(argv)
    rows = [row(name, s, args.runs) for name, s in scenarios()]
    fmt = {"reads": "{:,.0f}", "i/r": "{:.1%}", "likes/read": "{:.1%}", "CPE": "¥{:.1f}", "CPV": "¥{:.2f}",
           "CPA": "¥{:,.0f}", "ROI": "{:+.0%}", "break-even": "{:.1f}x", "beyond click": "{:.0%}",
           "repeat/buyer": "{:.2f}", f"ROI, CTR×{CTR_FACTOR:g}": "{:+.0%}"}
    cols = list(fmt)
    print("| scenario | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            text = "–" if v != v else fmt[c].format(v)
            lo_hi = RANGES.get(c)
            if lo_hi and v == v and not lo_hi[2] <= v <= lo_hi[3]:
                text += " *"
            cells.append(text)
        print(f"| {r['scenario']} | " + " | ".join(cells) + " |")
    print()
    print("| metric | source range | source |")
    print("|---|---|---|")
    for c, (text, src, _, _) in RANGES.items():
        print(f"| {c} | {text} | {src} |")
    print()
    print(f"(* outside the source range; {args.runs:,} Monte Carlo runs a scenario, each with its own seed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
