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
from typing import TYPE_CHECKING, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .results import SimulationResult

if TYPE_CHECKING:
    from .sweep import SweepResult

__all__ = ["plot_distributions", "plot_cumulative_conversions", "plot_publication", "plot_sweep",
           "plot_tornado", "plot_sobol", "plot_morris", "plot_forest", "plot_plan", "plot_switches", "plot_frontier", "PALETTE"]

#: Okabe and Ito's colour-blind-safe palette (no red next to green), in the order series take it.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

#: Metrics counted in RMB, drawn with a ¥ sign.
_MONEY = ("spend", "revenue", "profit", "cpa", "cpe", "cpv")
#: Metrics that are shares, drawn as percentages.
_SHARES = ("delivery_rate", "p_over_budget", "p_profit")


def colour(i: int) -> str:
    """The i-th series' colour."""
    return PALETTE[i % len(PALETTE)]


def _number(x: float) -> str:
    """Thousands separated, with no more digits than the value needs (no offset, no 1e6)."""
    if not np.isfinite(x):
        return "–"
    ax = abs(x)
    if ax >= 100 or x == round(x):
        return f"{x:,.0f}"
    if ax >= 1:
        return f"{x:,.1f}"
    return f"{x:.3g}"


def _formatter(metric: str | None) -> FuncFormatter:
    """Tick labels for a metric: ¥ for money, % for shares, thousands separators for counts."""
    if metric is not None and (metric in _MONEY or metric.startswith("revenue")):
        return FuncFormatter(lambda x, _: ("−" if x < 0 else "") + "¥" + _number(abs(x)))
    if metric in _SHARES:
        return FuncFormatter(lambda x, _: f"{x:.0%}")
    if metric == "roi":
        return FuncFormatter(lambda x, _: f"{x:+.0%}")
    return FuncFormatter(lambda x, _: _number(x))


def _key_formatter(key: str) -> FuncFormatter:
    """Tick labels for a scenario key's values (¥ for budgets and prices)."""
    money = any(w in key for w in ("budget", "cost", "price", "fee", "value", "retainer"))
    return _formatter("spend" if money else None)

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
        medians = [np.median(v) for v in values]
        # scenarios of very different scales share log-spaced bins, so the smaller is not one bar
        log = len(values) > 1 and lo > 0 and max(medians) > 5 * min(medians)
        bins = np.geomspace(lo, hi, 40) if log and hi > lo else np.linspace(lo, hi if hi > lo else lo + 1, 40)
        for i, (v, label) in enumerate(zip(values, labels)):
            c = colour(i)
            # one scenario: filled bars; several: outlines, so none hides another
            if len(values) == 1:
                ax.hist(v, bins=bins, alpha=0.6, color=c, label=lab(label))
            else:
                ax.hist(v, bins=bins, histtype="step", lw=1.6, color=c, label=lab(label))
            ax.axvline(v.mean(), color=c, ls="--", lw=1.2)
        if log:
            ax.set_xscale("log")
            title += " (log scale)"
        ax.set_title(title)
        ax.set_ylabel("replications")
        ax.xaxis.set_major_formatter(_formatter(metric))
        ax.yaxis.set_major_formatter(_formatter(None))
        if not log:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # room for "1,500,000"-wide labels
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
        c = colour(i)
        ax.fill_between(d["day"], d["cumulative_conversions_p10"], d["cumulative_conversions_p90"],
                        color=c, alpha=0.2, lw=0)
        ax.plot(d["day"], d["cumulative_conversions_mean"], color=c, label=f"{lab(label)} (mean)")
    ax.yaxis.set_major_formatter(_formatter(None))
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
                ax.plot([lo, hi], [y, y], color=colour(i), lw=2, alpha=0.6)
                ax.plot(pub.mean(), y, "o", color=colour(i), label=lab(label) if wave == t.wave[0] else None)
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


def _label_of(metric: str) -> str:
    from .results import RATIOS

    if metric in RATIOS:
        return f"{metric.upper()} ({RATIOS[metric][2]})"
    money = metric in _MONEY or metric.startswith("revenue")
    return metric.replace("_", " ") + (" (RMB)" if money else "")


def plot_sweep(result: "SweepResult", metric: str | None = None) -> Figure:
    """A grid sweep of one key: the mean (line) with its 95 % interval (dark band) and P10–P90
    (light band); of two keys: a heatmap of the mean, one cell per point."""
    metric = metric or result.metrics[0]
    rows = result.metric(metric)
    lab = _Labels()
    if result.method != "grid" or len(result.keys) not in (1, 2):
        raise ValueError("plot_sweep draws grid sweeps of one or two keys; use plot_tornado, plot_sobol or "
                         "plot_morris for the other designs")
    if len(result.keys) == 1:
        key = result.keys[0]
        rows = rows.sort_values(key)
        fig = lab.figure(figsize=(8, 5))
        ax = fig.subplots()
        x = rows[key].to_numpy(float)
        ax.fill_between(x, rows["p10"], rows["p90"], color=colour(0), alpha=0.15, lw=0, label="P10–P90 of one campaign")
        ax.fill_between(x, rows["ci_low"], rows["ci_high"], color=colour(0), alpha=0.4, lw=0,
                        label="95 % interval of the mean")
        ax.plot(x, rows["mean"], "o-", color=colour(0), label="mean")
        if key in result.base:
            ax.axvline(result.base[key], color="0.4", ls=":", lw=1.2, label="the scenario's value")
        ax.set_xlabel(lab(key))
        ax.set_ylabel(_label_of(metric))
        ax.xaxis.set_major_formatter(_key_formatter(key))
        ax.yaxis.set_major_formatter(_formatter(metric))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax.set_title(f"{_label_of(metric)} against {key} ({result.provenance.get('runs', 0):,} runs a point, "
                     "common random numbers)")
        return lab.finish(fig)
    kx, ky = result.keys
    table = rows.pivot(index=ky, columns=kx, values="mean")
    fig = lab.figure(figsize=(8, 6))
    ax = fig.subplots()
    im = ax.imshow(table.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [_key_formatter(kx)(v, None) for v in table.columns], rotation=45)
    ax.set_yticks(range(table.shape[0]), [_key_formatter(ky)(v, None) for v in table.index])
    for (i, j), v in np.ndenumerate(table.to_numpy(float)):
        if table.size <= 100:
            ax.text(j, i, _formatter(metric)(v, None), ha="center", va="center", fontsize=7,
                    color="white" if v < np.nanmean(table.to_numpy(float)) else "black")
    bar = fig.colorbar(im, ax=ax)
    bar.ax.yaxis.set_major_formatter(_formatter(metric))
    bar.set_label(f"mean {_label_of(metric)}")
    ax.set_xlabel(lab(kx))
    ax.set_ylabel(lab(ky))
    ax.set_title(f"Mean {_label_of(metric)} over {kx} and {ky}")
    return lab.finish(fig)


def plot_tornado(result: "SweepResult", metric: str | None = None) -> Figure:
    """One-at-a-time sweep: for each key, the mean at its lowest and highest value against the
    scenario's (the bars), widest first; the whiskers are the 95 % intervals of those means."""
    if result.method != "oat":
        raise ValueError("plot_tornado draws one-at-a-time sweeps (method 'oat')")
    metric = metric or result.metrics[0]
    rows = result.metric(metric)
    base = float(rows.loc[rows["varied"] == "(base)", "mean"].iloc[0])
    bars = []
    for key in result.keys:
        r = rows[rows["varied"] == key].sort_values(key)
        lo, hi = r.iloc[0], r.iloc[-1]
        bars.append((key, lo, hi, max(abs(lo["mean"] - base), abs(hi["mean"] - base))))
    bars.sort(key=lambda b: b[3])
    lab = _Labels()
    fig = lab.figure(figsize=(9, 1.5 + 0.6 * len(bars)))
    ax = fig.subplots()
    for y, (key, lo, hi, _) in enumerate(bars):
        for end, c, name in ((lo, colour(0), "lowest value"), (hi, colour(1), "highest value")):
            ax.barh(y, end["mean"] - base, left=base, color=c, alpha=0.85, height=0.6,
                    label=name if y == len(bars) - 1 else None)
            ax.errorbar(end["mean"], y, xerr=[[end["mean"] - end["ci_low"]], [end["ci_high"] - end["mean"]]],
                        color="0.2", capsize=3, lw=1)
            ax.annotate(_key_formatter(key)(end[key], None), (end["mean"], y), xytext=(4 if end["mean"] >= base else -4, 8),
                        textcoords="offset points", fontsize=7, ha="left" if end["mean"] >= base else "right")
    ax.axvline(base, color="0.3", lw=1)
    ax.set_yticks(range(len(bars)), [lab(b[0]) for b in bars])
    ax.xaxis.set_major_formatter(_formatter(metric))
    ax.set_xlabel(f"mean {_label_of(metric)} (the line: the scenario as it is, {_formatter(metric)(base, None)})")
    ax.set_title(f"What moves {_label_of(metric)}: each key alone from its lowest to its highest value")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return lab.finish(fig)


def plot_sobol(result: "SweepResult", metric: str | None = None) -> Figure:
    """Sobol indices: first-order (the share of the outcome's variance a key explains alone) and
    total-order (alone and with others), with their 95 % bootstrap intervals."""
    if result.method != "sobol" or result.indices is None:
        raise ValueError("plot_sobol draws Sobol sweeps (method 'sobol')")
    metric = metric or result.metrics[0]
    ind = result.indices[result.indices["metric"] == metric].sort_values("ST")
    lab = _Labels()
    fig = lab.figure(figsize=(9, 1.8 + 0.6 * len(ind)))
    ax = fig.subplots()
    y = np.arange(len(ind))
    ax.barh(y + 0.2, ind["S1"], xerr=ind["S1_conf"], height=0.38, color=colour(0), capsize=3, label="first order S1")
    ax.barh(y - 0.2, ind["ST"], xerr=ind["ST_conf"], height=0.38, color=colour(1), capsize=3, label="total order ST")
    ax.set_yticks(y, [lab(f) for f in ind["factor"]])
    ax.axvline(0, color="0.3", lw=1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:.0%}"))
    noise = float(ind["noise_share"].iloc[0]) if len(ind) else 0.0
    ax.set_xlabel(f"share of the variance of mean {_label_of(metric)} (Monte Carlo noise: {noise:.1%} of it)")
    ax.set_title(f"Sobol indices of {_label_of(metric)}, with 95 % bootstrap intervals")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return lab.finish(fig)


def plot_morris(result: "SweepResult", metric: str | None = None) -> Figure:
    """Morris screening: mu* (how much a key moves the outcome) against sigma (how much that
    effect depends on the other keys, or bends); keys far right matter, keys high up interact."""
    if result.method != "morris" or result.indices is None:
        raise ValueError("plot_morris draws Morris sweeps (method 'morris')")
    metric = metric or result.metrics[0]
    ind = result.indices[result.indices["metric"] == metric]
    lab = _Labels()
    fig = lab.figure(figsize=(8, 6))
    ax = fig.subplots()
    for i, (_, r) in enumerate(ind.iterrows()):
        ax.errorbar(r["mu_star"], r["sigma"], xerr=r["mu_star_conf"], fmt="o", color=colour(i), capsize=3,
                    label=lab(r["factor"]))
    top = max(float(ind["mu_star"].max()), float(ind["sigma"].max()), 1e-12)
    ax.plot([0, top], [0, top], color="0.6", ls=":", lw=1, label="sigma = mu*")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(_formatter(metric))
    ax.yaxis.set_major_formatter(_formatter(metric))
    ax.set_xlabel(f"mu* ({_label_of(metric)} per full range of the key)")
    ax.set_ylabel("sigma (spread of the effects)")
    ax.set_title(f"Morris screening of {_label_of(metric)} (bars: 95 % bootstrap interval of mu*)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return lab.finish(fig)


def plot_forest(comparison, baseline=None, metrics: Sequence[str] | None = None) -> Figure:
    """Each scenario against the baseline: the % change of each metric (dot) with its 95 %
    interval (bar), on paired replications; the right margin gives P(better) and the verdict."""
    v = comparison.verdict(baseline)
    if metrics is not None:
        v = v[v["metric"].isin(metrics)]
    v = v[v["pct_change"].notna()] if "pct_change" in v else v.iloc[0:0]
    if not len(v):
        raise ValueError("nothing to draw: no metric has a % change (a baseline at or below 0 has none)")
    lab = _Labels()
    order = list(dict.fromkeys(v["metric"]))
    names = list(dict.fromkeys(v["scenario"]))
    fig = lab.figure(figsize=(10, 1.6 + 0.45 * len(order) * len(names)))
    ax = fig.subplots()
    ticks, labels = [], []
    y = 0.0
    for m in order:
        for j, name in enumerate(names):
            row = v[(v["metric"] == m) & (v["scenario"] == name)]
            if not len(row):
                continue
            r = row.iloc[0]
            c = colour(j)
            ax.errorbar(r["pct_change"], y, xerr=[[r["pct_change"] - r["pct_ci_low"]], [r["pct_ci_high"] - r["pct_change"]]],
                        fmt="o", color=c, capsize=3, label=lab(name) if m == order[0] else None)
            pb = "–" if np.isnan(r["p_beats"]) else f"{r['p_beats']:.0%}"
            ax.annotate(f"P(better) {pb}: {r['verdict']}", (1.01, y), xycoords=("axes fraction", "data"),
                        fontsize=7, va="center")
            y += 1
        ticks.append(y - (len(names) + 1) / 2)
        better = "lower" if r["better_when"] == "lower" else "higher"
        labels.append(f"{_label_of(m)}\n({better} is better)")
        y += 0.6
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:+.0%}"))
    ax.set_xlabel(f"change against {lab(v['versus'].iloc[0])} (dot: mean; bar: 95 % interval, paired replications)")
    ax.set_title(f"Each scenario against {lab(v['versus'].iloc[0])}")
    if len(names) > 1:
        fig.legend(fontsize=8, loc="outside lower center", ncol=min(3, len(names)), frameon=False)
    ax.grid(alpha=0.3, axis="x")
    return lab.finish(fig)


def plot_plan(plan) -> Figure:
    """An optimizer's plan (``OptimizationResult.to_frame()``): spend by tier and by category
    (bars, with the creators and notes written beside them) and notes by week, stacked by tier."""
    lab = _Labels()
    fig = lab.figure(figsize=(11, 4.5))
    a1, a2, a3 = fig.subplots(1, 3)
    tiers = list(dict.fromkeys(t for t in ("koc", "micro", "mid", "top", "celebrity") if t in set(plan["tier"]))) + \
        sorted(set(plan["tier"]) - {"koc", "micro", "mid", "top", "celebrity"})
    for ax, col, title in ((a1, "tier", "Spend by tier"), (a2, "category", "Spend by category")):
        g = plan.groupby(col).agg(cost=("cost", "sum"), creators=("kol_id", "nunique"), notes=("posts", "sum"))
        g = g.reindex(tiers) if col == "tier" else g.sort_values("cost")
        y = np.arange(len(g))
        ax.barh(y, g["cost"], color=[colour(i) for i in range(len(g))] if col == "tier" else colour(0))
        ax.set_yticks(y, [lab(str(k)) for k in g.index])
        for yi, (_, r) in zip(y, g.iterrows()):
            notes = int(r["notes"])
            ax.annotate(f"{int(r['creators'])} cr., {notes} note{'' if notes == 1 else 's'}", (r["cost"], yi), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7)
        ax.xaxis.set_major_formatter(_formatter("spend"))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
        ax.margins(x=0.35)
        ax.set_title(title)
        ax.grid(alpha=0.3, axis="x")
    weeks = sorted(set(plan["week"]))
    bottom = np.zeros(len(weeks))
    for i, t in enumerate(tiers):
        n = plan[plan["tier"] == t].groupby("week")["posts"].sum().reindex(weeks, fill_value=0).to_numpy(float)
        a3.bar(weeks, n, bottom=bottom, color=colour(i), label=lab(t))
        bottom += n
    a3.set_xticks(weeks)
    a3.set_xlabel("week")
    a3.set_ylabel("notes")
    a3.yaxis.set_major_formatter(_formatter(None))
    a3.set_title("Notes by week")
    a3.legend(fontsize=7)
    fig.suptitle(f"The plan: {plan['kol_id'].nunique():,} creators, {int(plan['posts'].sum()):,} notes, "
                 f"¥{plan['cost'].sum():,.0f}")
    return lab.finish(fig)


def plot_switches(result: "SweepResult") -> Figure:
    """Decision sensitivity (``sweep(..., candidates=pool)``): for each key, the optimum at each
    value (line) against the value of keeping the plan chosen at the scenario's own values (dashed;
    the gap between them is the regret), the creators in and out of the plan against that base plan
    (bars below), and dotted lines where the chosen portfolio changes (switch points)."""
    d = result.decisions
    if d is None:
        raise ValueError("plot_switches draws decision sweeps (sweep(..., candidates=pool))")
    if result.method == "grid" and len(result.keys) != 1:
        raise ValueError("plot_switches draws a grid of one key or a one-at-a-time sweep")
    keys = result.keys
    lab = _Labels()
    fig = lab.figure(figsize=(8, 3.2 * len(keys) + 1))
    axes = fig.subplots(2 * len(keys), 1, height_ratios=[3, 1.3] * len(keys), squeeze=False)[:, 0]
    for n, key in enumerate(keys):
        rows = d if result.method == "grid" else d[(d["varied"] == key) | (d["varied"] == "(base)")]
        rows = rows.sort_values(key)
        x = rows[key].to_numpy(float)
        top, bottom = axes[2 * n], axes[2 * n + 1]
        bottom.sharex(top)
        top.plot(x, rows["objective"].astype(float), "o-", color=colour(0), label="the optimum at each value")
        top.plot(x, rows["base_plan_value"], "s--", color=colour(1), label="keeping the base plan")
        ok = rows["base_plan_value"].notna().to_numpy()
        top.fill_between(x, rows["base_plan_value"].where(ok), rows["objective"].where(ok), color=colour(1), alpha=0.15,
                         lw=0, label="regret")
        added, removed = rows["added"].astype(float).fillna(0), rows["removed"].astype(float).fillna(0)
        bottom.bar(x, added, width=_bar_width(x), color=colour(2), label="creators in")
        bottom.bar(x, -removed, width=_bar_width(x), color=colour(5), label="creators out")
        bottom.axhline(0, color="0.3", lw=0.8)
        for _, sw in result.switches.iterrows():
            a, b = d.loc[sw["from_point"], key], d.loc[sw["to_point"], key]
            ends = d.loc[[sw["from_point"], sw["to_point"]], "varied"] if result.method == "oat" else None
            same_line = result.method == "grid" or (set(ends) <= {key, "(base)"} and key in set(ends))
            if a != b and same_line:
                for ax in (top, bottom):
                    ax.axvline((a + b) / 2, color="0.5", ls=":", lw=1)
        if key in result.base:
            top.axvline(result.base[key], color="0.3", lw=1)
        top.set_ylabel(f"expected {result.provenance.get('objective', 'objective')}")
        top.yaxis.set_major_formatter(_formatter(None))
        bottom.set_ylabel("vs base plan")
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
        for ax in (top, bottom):
            ax.xaxis.set_major_formatter(_key_formatter(key))
            ax.grid(alpha=0.3)
        bottom.set_xlabel(lab(key))
        top.set_title(f"The best plan as {key} changes (dotted: the portfolio switches; solid: the scenario's value)",
                      fontsize=9)
        if n == 0:
            top.legend(fontsize=7)
            bottom.legend(fontsize=7, loc="lower right")
    fig.suptitle("Decision sensitivity: how wrong can this assumption be before the plan should change?")
    return lab.finish(fig)


def _bar_width(x: np.ndarray) -> float:
    steps = np.diff(np.unique(x))
    return 0.6 * float(steps.min()) if steps.size else 0.6


def plot_frontier(result) -> Figure:
    """The budget frontier (:func:`kolsim.frontier`): the optimal plan's expected outcome at each
    budget (line), its simulated mean and P10–P90 (band, common random numbers), the knee marked;
    below, what each ¥1,000 buys between neighbouring budgets."""
    t = result.table()
    lab = _Labels()
    fig = lab.figure(figsize=(9, 6.5))
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 1.4], sharex=True)
    ok = t["objective"].notna()
    x = t["budget"].to_numpy(float)
    if t["simulated_mean"].notna().any():
        top.fill_between(x, t["simulated_p10"], t["simulated_p90"], color=colour(0), alpha=0.15, lw=0,
                         label="simulated P10–P90 (one campaign)")
        top.plot(x, t["simulated_mean"], "s", color=colour(0), ms=4, label="simulated mean")
    top.plot(x[ok], t.loc[ok, "objective"], "o-", color=colour(1), label="optimizer's expectation")
    if result.knee is not None:
        k = result.knee
        top.annotate(f"knee: ¥{x[k]:,.0f}", (x[k], t.loc[k, "objective"]), xytext=(10, -25), textcoords="offset points",
                     arrowprops={"arrowstyle": "->", "color": "0.3"}, fontsize=9)
    top.set_ylabel(f"expected {result.objective}")
    top.yaxis.set_major_formatter(_formatter(None))
    top.legend(fontsize=8, loc="lower right")
    top.grid(alpha=0.3)
    top.set_title(f"What each budget buys: the optimal plan's expected {result.objective}")
    m = t["marginal_per_1000"]
    mid = (x[1:] + x[:-1]) / 2
    bottom.bar(mid, m.iloc[1:], width=0.6 * float(np.diff(x).min()) if len(x) > 1 else 1.0, color=colour(2))
    bottom.set_ylabel("per ¥1,000 more")
    bottom.yaxis.set_major_formatter(_formatter(None))
    bottom.xaxis.set_major_formatter(_formatter("spend"))
    bottom.set_xlabel("budget")
    bottom.grid(alpha=0.3)
    return lab.finish(fig)


def plot_tradeoff(result) -> Figure:
    """The mean against the lower tail (:func:`kolsim.risk_tradeoff`): each plan of the curve as
    a point, numbered from the expected-value optimum (1) to the plan with the best tail, in
    sample (the S scenarios it was chosen on), out of sample (fresh scenarios of the same model)
    and simulated (the Monte Carlo engine); left the quantile at the curve's share (P10 at 10 %),
    right its CVaR.  Up and to the right is better; a curve that is flat out of sample says the
    tail the program bought was the in-sample scenarios' noise."""
    t = result.table
    lab = _Labels()
    fig = lab.figure(figsize=(10, 4.6))
    axes = fig.subplots(1, 2)
    share = f"{result.alpha * 100:g}"
    samples = [(s, name, i) for i, (s, name) in enumerate((("in_sample", "in sample"),
                                                           ("out_of_sample", "out of sample"),
                                                           ("simulated", "simulated (engine)")))
               if f"{s}_mean" in t and t[f"{s}_mean"].notna().any()]
    for ax, key, title in ((axes[0], "quantile", f"P{share}"), (axes[1], "cvar", f"CVaR {share} %")):
        for s, name, i in samples:
            x, y = t[f"{s}_mean"].to_numpy(float), t[f"{s}_{key}"].to_numpy(float)
            ax.plot(x, y, "o-", color=colour(i), ms=5, label=name)
            for k, (xi, yi) in enumerate(zip(x, y)):
                ax.annotate(str(int(t["point"].iloc[k])), (xi, yi), xytext=(4, 3), textcoords="offset points",
                            fontsize=7, color=colour(i))
        ax.set_xlabel("mean")
        ax.set_ylabel(title)
        ax.xaxis.set_major_formatter(_formatter(None))
        ax.yaxis.set_major_formatter(_formatter(None))
        ax.grid(alpha=0.3)
        ax.set_title(f"mean against {title}")
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle("What a safer plan costs in expectation (1: the expected-value optimum)")
    return lab.finish(fig)


def plot_attribution(result: SimulationResult, top: int = 20) -> Figure:
    """Who earned the conversions (a run simulated with ``attribute=True``).

    Left: the creators with the most credited conversions (at most ``top``),
    each bar split into the streams (clicked and bought on RED, off-platform,
    persuaded by buyers' notes, word of mouth), with the 95 % interval of the
    creator's mean conversions.  Right: each wave's conversions split into
    expansion (buyers the campaign added within the horizon) and acceleration
    (buyers who would have bought anyway within the horizon, sooner).
    """
    from .attribution import ORGANIC, UNTRACED, attribution_table

    lab = _Labels()
    creators = attribution_table(result, "creator").sort_values("conversions", ascending=False)
    creators = creators[~creators["creator"].isin([ORGANIC, UNTRACED])].head(top).iloc[::-1]
    waves = attribution_table(result, "wave")
    fig = lab.figure(figsize=(12, 1.8 + 0.32 * max(len(creators), len(waves))))
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))
    y = np.arange(len(creators))
    base = np.zeros(len(creators))
    names = {"campaign": "clicked and bought on RED", "offsite": "bought elsewhere after a read",
             "ugc": "persuaded by buyers' notes", "wom": "word of mouth"}
    for i, (k, label) in enumerate(names.items()):
        v = creators[f"conversions_{k}"].to_numpy()
        if np.any(v > 0):
            left.barh(y, v, left=base, color=colour(i), label=label)
            base += v
    left.errorbar(creators["conversions"], y, xerr=1.96 * creators["conversions_se"].fillna(0), fmt="none",
                  ecolor="black", lw=1, capsize=2)
    left.set_yticks(y, [lab(f"{c} ({t})") for c, t in zip(creators["creator"], creators["tier"])], fontsize=8)
    left.set_xlabel("conversions credited (mean per replication)")
    left.set_title(f"Conversions by creator (top {len(creators)}; bars: 95 % interval)")
    left.legend(fontsize=8, loc="lower right")
    left.grid(axis="x", alpha=0.3)
    yw = np.arange(len(waves))[::-1]
    right.barh(yw, waves["expansion"], color=colour(0), label="expansion (new buyers)")
    right.barh(yw, waves["acceleration"], left=np.maximum(waves["expansion"], 0), color=colour(4),
               label="acceleration (bought sooner)")
    right.set_yticks(yw, [lab(w) for w in waves["wave"]], fontsize=8)
    right.set_xlabel("conversions (mean per replication)")
    right.set_title("Expansion and acceleration by wave")
    right.legend(fontsize=8, loc="lower right")
    right.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Attribution: {result.scenario.name} ({result.runs:,} replications)")
    return lab.finish(fig)


# --------------------------------------------------------------------------- #
# Calibration (kolsim calibrate --report)
# --------------------------------------------------------------------------- #
def plot_calibration_reads(result) -> Figure:
    """A past campaign's reads by day since publication, per tier, against the fit.

    Dots: the reads observed on each day after publication, summed over the tier's notes; line:
    what the fitted decay kernel gives the same notes (each note's reads spread over the days it
    was seen); dashed: the scenario's (or the default) kernel.  Log scale.
    """
    lab = _Labels()
    curves = result.curves["reads_by_age"]
    tiers = list(curves)
    cols = min(len(tiers), 3)
    rows = (len(tiers) + cols - 1) // cols
    fig = lab.figure(figsize=(4.2 * cols, 3.4 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for i, (ax, t) in enumerate(zip(axes, tiers)):
        d = curves[t]
        d = d[d["observed"] > 0] if (d["observed"] > 0).any() else d
        ax.plot(d["age"], d["observed"], "o", ms=3, color=colour(0), label="observed")
        ax.plot(d["age"], d["fitted"], color=colour(1), label="fitted kernel")
        ax.plot(d["age"], d["default"], "--", color=colour(2), label="default kernel")
        ax.set_yscale("log")
        ax.set_title(f"{t}")
        ax.set_xlabel("days since publication")
        ax.set_ylabel("reads (all the tier's notes)")
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8)
    for ax in axes[len(tiers):]:
        ax.set_visible(False)
    fig.suptitle("Reads by day since publication: observed and fitted")
    return lab.finish(fig)


def plot_calibration_orders(result) -> Figure:
    """A past campaign's daily orders that no note tracked, against the fitted Bass model.

    Dots: the observed orders; stacked areas: the fit's off-platform buyers (scaled from the
    tracked orders' reads), organic adopters (Bass p) and imitators (Bass q); the grey line is the
    tracked orders, for reference.
    """
    lab = _Labels()
    d = result.curves["orders_by_day"]
    fig = lab.figure(figsize=(9, 4.5))
    ax = fig.subplots()
    ax.stackplot(d["day"], d["offsite"], d["organic"], d["imitation"], colors=[colour(4), colour(2), colour(1)],
                 alpha=0.6, labels=["off-platform (fitted)", "organic, Bass p (fitted)", "imitation, Bass q (fitted)"])
    ax.plot(d["day"], d["observed"], "o", ms=3, color="black", label="observed, no note tracked")
    ax.plot(d["day"], d["tracked"], color="0.5", lw=1, label="tracked to a note")
    ax.set_xlabel("day of the campaign (0 = the export's first date)")
    ax.set_ylabel("orders per day")
    ax.yaxis.set_major_formatter(_formatter(None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title("Orders no note tracked: observed and the fitted model")
    return lab.finish(fig)


def plot_calibration_intervals(result) -> Figure:
    """Each fitted value's 95 % interval against the scenario's default, as a ratio to it.

    A dot is the estimate over the default, the bar its interval; the line at 1 is the default.
    A bar that crosses the line: the data agree with the default; one wholly to the right: the
    data say higher; to the left: lower.  Log scale.
    """
    lab = _Labels()
    t = result.table
    t = t[t["default"] > 0].iloc[::-1]
    fig = lab.figure(figsize=(9, 1.6 + 0.28 * max(len(t), 1)))
    ax = fig.subplots()
    y = np.arange(len(t))
    est = (t["estimate"] / t["default"]).to_numpy(float)
    lo = np.maximum((t["low"] / t["default"]).to_numpy(float), 0.02)
    hi = (t["high"] / t["default"]).to_numpy(float)
    agree = (t["verdict"] == "data agrees").to_numpy()
    for mask, c, label in ((agree, colour(0), "data agree with the default"), (~agree, colour(5), "data differ")):
        if mask.any():
            ax.errorbar(np.maximum(est[mask], 0.02), y[mask],
                        xerr=[np.maximum(est[mask], 0.02) - lo[mask], hi[mask] - np.maximum(est[mask], 0.02)],
                        fmt="o", color=c, ms=4, capsize=2, label=label)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(y, [lab(f"{p}" + (f"  [{k}]" if k else "")) for p, k in zip(t["parameter"], t["key"])], fontsize=7)
    ax.set_xlabel("estimate / default (95 % interval)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Fitted values against the defaults")
    return lab.finish(fig)
