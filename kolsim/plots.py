"""Plots of results.  They read result objects only and never run a model.

Each function returns a matplotlib ``Figure``, made without pyplot, so
importing kolsim never chooses a backend and a notebook's own stays as it is
(a figure displays in Jupyter as it is, and ``fig.savefig`` writes it).
``docs/plots.md`` explains how to read each one.

Labels come from the user (scenario and wave names, often Chinese): they are
drawn with the first installed font that has their characters (a CJK font
when there is one); characters no installed font has are shown as ``?`` and
the figure says so, instead of matplotlib warning on stderr.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from .results import SimulationResult

__all__ = ["plot_distributions", "plot_cumulative_conversions", "plot_publication"]

_PANELS = (("conversions", "Conversions (campaign + word of mouth)"),
           ("reads", "Reads (views)"),
           ("spend", "Spend (RMB)"),
           ("unique_reach", "Unique readers"))

#: Fonts with CJK characters, tried after matplotlib's default when installed.
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
              "WenQuanYi Micro Hei", "Droid Sans Fallback", "SimHei", "Microsoft YaHei", "PingFang SC",
              "Heiti SC", "Arial Unicode MS")


@lru_cache(maxsize=1)
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """The font families labels are drawn with (matplotlib's default, then installed CJK fonts)
    and every character one of them can draw."""
    from matplotlib import font_manager, ft2font, rcParams

    default = rcParams["font.sans-serif"][0] if rcParams["font.family"] == ["sans-serif"] else rcParams["font.family"][0]
    installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    families = [default] + [name for name in _CJK_FONTS if name in installed]
    chars: set[int] = set()
    for name in families:
        path = installed.get(name) or font_manager.findfont(name, fallback_to_default=True)
        try:
            chars |= set(ft2font.FT2Font(path).get_charmap())
        except (OSError, RuntimeError):
            continue
    return tuple(families), frozenset(chars)


class _Labels:
    """Labels as they can be drawn, noting whether any character had to be replaced."""

    def __init__(self):
        self.families, self.chars = _fonts()
        self.replaced = False

    def __call__(self, text: str) -> str:
        out = "".join(c if ord(c) in self.chars or c.isspace() else "?" for c in str(text))
        self.replaced |= out != str(text)
        return out

    def figure(self, **kw) -> Figure:
        fig = Figure(**kw)
        fig.set_layout_engine("constrained")
        return fig

    def finish(self, fig: Figure) -> Figure:
        for text in fig.findobj(lambda o: hasattr(o, "set_fontfamily")):
            text.set_fontfamily(list(self.families))
        if self.replaced:  # under the figure's title, where the layout makes room for it
            note = ("? marks characters of the labels that no installed font can draw "
                    "(install a CJK font, such as Noto Sans CJK, to see them)")
            title = fig.get_suptitle()
            fig.suptitle(f"{title}\n{note}" if title else note, fontsize=9 if title else 7,
                         color="black" if title else "0.4")
        return fig


def plot_distributions(results: Sequence[SimulationResult], labels: Sequence[str]) -> Figure:
    """Histograms of per-replication outcomes, one colour per scenario.

    Dashed lines mark each scenario's mean.
    """
    lab = _Labels()
    fig = lab.figure(figsize=(10, 7))
    axes = fig.subplots(2, 2)
    for ax, (metric, title) in zip(axes.flat, _PANELS):
        values = [np.asarray(r.totals[metric], float) for r in results]
        lo = min(v.min() for v in values)
        hi = max(np.quantile(v, 0.995) for v in values)
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
        for i, (v, label) in enumerate(zip(values, labels)):
            colour = f"C{i}"
            ax.hist(v, bins=bins, alpha=0.45, color=colour, label=lab(label))
            ax.axvline(v.mean(), color=colour, ls="--", lw=1.2)
        ax.set_title(title)
        ax.set_ylabel("replications")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Outcome distributions over replications (dashed: mean; top 0.5 % not shown)")
    return lab.finish(fig)


def plot_cumulative_conversions(results: Sequence[SimulationResult], labels: Sequence[str]) -> Figure:
    """Cumulative conversions by day: the mean line and the P10–P90 band."""
    lab = _Labels()
    fig = lab.figure(figsize=(9, 5))
    ax = fig.subplots()
    for i, (r, label) in enumerate(zip(results, labels)):
        d = r.daily_frame()
        colour = f"C{i}"
        ax.fill_between(d["day"], d["cumulative_conversions_p10"], d["cumulative_conversions_p90"],
                        color=colour, alpha=0.2, lw=0)
        ax.plot(d["day"], d["cumulative_conversions_mean"], color=colour, label=f"{lab(label)} (mean)")
    ax.set_xlabel("day since launch")
    ax.set_ylabel("cumulative conversions")
    ax.set_title("Cumulative conversions: mean and P10–P90 band")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return lab.finish(fig)


def plot_publication(results: Sequence[SimulationResult], labels: Sequence[str]) -> Figure:
    """Discrete-event runs: planned against actual publication day, per wave.

    For each wave, a grey tick marks the mean planned day and a coloured dot
    the mean actual day of the published notes, with a bar from the 10th to
    the 90th percentile of actual days; the text gives the share published.

    Raises
    ------
    ValueError
        For a result of the Monte Carlo engine, which publishes every note on
        its planned day and records no publication days.
    """
    for i, r in enumerate(results):
        if r.note_days is None:
            raise ValueError(f"plot_publication needs results of the discrete-event engine "
                             f"(simulate(..., engine='des')); result {i + 1} ({labels[i]!r}) is from the "
                             f"{r.engine} engine, which publishes every note on its planned day")
    lab = _Labels()
    fig = lab.figure(figsize=(9, 1.2 + 0.9 * max(len(r.operations_frame()) for r in results)))
    ax = fig.subplots()
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
                ax.plot(pub.mean(), y, "o", color=f"C{i}", label=lab(label) if wave == t.wave[0] else None)
                ax.annotate(f"{pub.size / days.size:.0%} published", (hi, y), xytext=(6, -3),
                            textcoords="offset points", fontsize=8)
    ax.set_yticks(range(len(rows)), [lab(w) for w in rows])
    ax.invert_yaxis()
    ax.set_xlabel("day since launch")
    ax.set_title("Publication by wave: planned (grey tick) and actual (dot: mean; bar: P10–P90)")
    ax.margins(x=0.15)  # room for the "published" labels
    fig.legend(fontsize=8, loc="outside lower center", ncol=min(3, len(results)), frameon=False)
    ax.grid(alpha=0.3, axis="x")
    return lab.finish(fig)
