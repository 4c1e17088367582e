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

__all__ = ["plot_distributions", "plot_cumulative_conversions", "plot_publication"]

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


def plot_publication(results: Sequence[SimulationResult], labels: Sequence[str]) -> Figure:
    """Discrete-event runs: planned against actual publication day, per wave.

    For each wave, a grey tick marks the mean planned day and a coloured dot
    the mean actual day of the published notes, with a bar from the 10th to
    the 90th percentile of actual days; the text gives the share published.
    """
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.9 * max(len(r.operations_frame()) for r in results)),
                           constrained_layout=True)
    rows: list[str] = []
    for i, (r, label) in enumerate(zip(results, labels)):
        t = r.table
        offset = (i - (len(results) - 1) / 2) * 0.25
        for wave in dict.fromkeys(t.wave):
            if wave not in rows:
                rows.append(wave)
            y = rows.index(wave) + offset
            cols = np.flatnonzero(t.wave == wave)
            days = r.note_days[:, cols]
            pub = days[days >= 0]
            ax.plot([t.day[cols].mean()] * 2, [y - 0.1, y + 0.1], color="0.4", lw=2)
            if pub.size:
                lo, hi = np.quantile(pub, [0.1, 0.9])
                ax.plot([lo, hi], [y, y], color=f"C{i}", lw=2, alpha=0.6)
                ax.plot(pub.mean(), y, "o", color=f"C{i}", label=label if wave == t.wave[0] else None)
                ax.annotate(f"{pub.size / days.size:.0%} published", (hi, y), xytext=(6, -3),
                            textcoords="offset points", fontsize=8)
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("day since launch")
    ax.set_title("Publication by wave: planned (grey tick) and actual (dot: mean; bar: P10–P90)")
    ax.margins(x=0.15)  # room for the "published" labels
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.3 / len(rows)),
              ncol=min(3, len(results)), frameon=False)
    ax.grid(alpha=0.3, axis="x")
    return fig
