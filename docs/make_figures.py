"""Draw the example figures docs/plots.md shows, into docs/img/ (about a minute).

Run from the repository root::

    .venv/bin/python docs/make_figures.py

Every figure is made by the same function the commands use, on the shipped scenarios, with
fixed seeds, so rerunning it redraws the same pictures.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kolsim  # noqa: E402
from kolsim import io, plots  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    launch = kolsim.load_scenario(ROOT / "scenarios" / "perfume_launch.toml")
    snack = kolsim.load_scenario(ROOT / "scenarios" / "snack_viral.toml")
    seeding = kolsim.load_scenario(ROOT / "scenarios" / "micro_seeding.toml")
    skincare = kolsim.load_scenario(ROOT / "scenarios" / "optimize_skincare.toml")
    pool = kolsim.load_pool(ROOT / "scenarios" / "pools" / "synthetic_300.csv")
    r = kolsim.simulate(launch, runs=2000, rng=1)
    c = kolsim.compare([launch, snack], runs=2000, rng=1)
    figures = {
        "distributions.png": plots.plot_distributions(c.results, c.labels),
        "cumulative_conversions.png": plots.plot_cumulative_conversions([r], [launch.name]),
        "forest.png": plots.plot_forest(c),
        "sweep_line.png": plots.plot_sweep(kolsim.sweep(launch, ["tiers.micro.cvr=0.01:0.04:7"], metrics="profit",
                                                        runs=2048, rng=1)),
        "sweep_heatmap.png": plots.plot_sweep(kolsim.sweep(
            launch, ["tiers.micro.cvr=0.01:0.04:4", "word_of_mouth.q_per_year=0.1:1:4:log"], metrics="conversions",
            runs=1024, rng=1)),
        "tornado.png": plots.plot_tornado(kolsim.sweep(
            launch, ["tiers.micro.cvr=0.01,0.04", "word_of_mouth.q_per_year=0.1,1", "tiers.top.reach=0.5,2",
                     "response.in_market_share=0.001,0.004"], method="oat", metrics="conversions", runs=1024, rng=1)),
        "sobol.png": plots.plot_sobol(kolsim.sweep(
            seeding, ["tiers.micro.cvr=0.01:0.04", "tiers.micro.reach=0.2:0.4", "word_of_mouth.q_per_year=0.1:1:log"],
            method="sobol", samples=64, metrics="conversions", runs=1024, rng=1, workers=2)),
        "morris.png": plots.plot_morris(kolsim.sweep(
            seeding, ["tiers.micro.cvr=0.01:0.04", "tiers.micro.reach=0.2:0.4", "word_of_mouth.q_per_year=0.1:1:log"],
            method="morris", samples=10, metrics="conversions", runs=1024, rng=1, workers=2)),
        "switches.png": plots.plot_switches(kolsim.sweep(skincare, ["tiers.micro.cvr=0.005:0.045:5"], candidates=pool)),
        "plan.png": plots.plot_plan(kolsim.optimize(skincare, pool, marginal=False).to_frame()),
    }
    OUT.mkdir(exist_ok=True)
    for name, fig in figures.items():
        io.write_file(OUT / name, fig)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
