"""Plots of results.  They read result objects only and never run a model.

Each function returns a matplotlib ``Figure``; ``docs/plots.md`` explains how
to read each one.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # files, not windows
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .results import SimulationResult  # noqa: E402

__all__ = ["plot_distributions", "plot_cumulative_conversions"]

_PANELS = (("conversions", "Conversions (campaign + word of mouth)"),
           ("reads", "Reads (views)"),
           ("spend", "Spend (RMB)"),
           ("unique_reach", "Unique readers"))


def plot_distributions(results: Sequence[SimulationResult], labels: Sequence[str]) -> Figure:
    """Histograms of per-replication outcomes, one colour per scenario.

    Dashed lines mark each scenario's mean.
    """
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    for ax, (metric, title) in zip(axes.flat, _PANELS):
        values = [np.asarray(r.totals[metric], float) for r in results]
        lo = min(v.min() for v in values)
        hi = max(np.quantile(v, 0.995) for v in values)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
        for i, (v, label) in enumerate(zip(values, labels)):
            colour = f"C{i}"
            ax.hist(v, bins=bins, alpha=0.45, color=colour, label=label)
            ax.axvline(v.mean(), color=colour, ls="--", lw=1.2)
        ax.set_title(title)
        ax.set_ylabel("replications")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Outcome distributions over replications (dashed: mean; top 0.5 % not shown)")
    return fig


def plot_cumulative_conversions(results: Sequence[SimulationResult], labels: Sequence[str]) -> Figure:
    """Cumulative conversions by day: the mean line and the P10–P90 band."""
    fig, ax = plt.subplots(figsize=(9, 5), constrained_layout=True)
    for i, (r, label) in enumerate(zip(results, labels)):
        d = r.daily_frame()
        colour = f"C{i}"
        ax.fill_between(d["day"], d["cumulative_conversions_p10"], d["cumulative_conversions_p90"],
                        color=colour, alpha=0.2, lw=0)
        ax.plot(d["day"], d["cumulative_conversions_mean"], color=colour, label=f"{label} (mean)")
    ax.set_xlabel("day since launch")
    ax.set_ylabel("cumulative conversions")
    ax.set_title("Cumulative conversions: mean and P10–P90 band")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
