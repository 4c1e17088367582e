"""A shareable report: one self-contained HTML page for saved runs of simulate, compare,
optimize and sweep.

:func:`render` turns :class:`~kolsim.results.SavedRun` objects (read by
:func:`kolsim.load_results`) into the text of one page: for each run the
question it answers, the verdict, the tables, the plots (embedded as PNG data,
so the page needs no network and no other file) and the provenance.  It writes
nothing; the command writes the page through :mod:`kolsim.io`.
"""

from __future__ import annotations

import base64
import html
import math
from typing import Any, Mapping, Sequence

import pandas as pd

from ._version import __version__
from .results import SavedRun

__all__ = ["render"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 2px solid #0072B2; }
h3 { margin-top: 1.4em; } .question { font-size: 1.15em; color: #0072B2; }
.verdict { background: #f3f7fb; border-left: 4px solid #0072B2; padding: 0.6em 1em; margin: 1em 0; }
.verdict li { margin: 0.2em 0; } .better { color: #006d4f; font-weight: 600; } .worse { color: #a34700; font-weight: 600; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef2f6; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; border: 1px solid #ddd; }
.prov { font-size: 0.82em; color: #555; } .prov td { text-align: left; } .note { color: #555; font-size: 0.9em; }
nav ul { columns: 2; }
"""

#: Columns shown as money (¥) in tables.
_MONEY = ("spend", "revenue", "profit", "cost", "budget", "cpa", "cpe", "cpv", "price")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(v: Any, money: bool = False) -> str:
    if isinstance(v, bool) or v is None:
        return "–" if v is None else str(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v):
            return "–"
        sign = "−" if v < 0 else ""
        a = abs(v)
        body = f"{a:,.0f}" if a >= 100 or float(a).is_integer() else f"{a:,.2f}" if a >= 1 else f"{a:.3g}"
        return f"{sign}{'¥' if money else ''}{body}"
    return str(v)


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.1%}"


def _table(df: pd.DataFrame, max_rows: int = 60, money_rows: bool = False, pct_cols: Sequence[str] = ()) -> str:
    """A DataFrame as an HTML table, numbers formatted, every cell escaped."""
    if df is None or not len(df):
        return "<p class='note'>(no rows)</p>"
    shown = df.head(max_rows)
    head = "".join(f"<th>{_e(c)}</th>" for c in shown.columns)
    rows = []
    for _, r in shown.iterrows():
        money_row = money_rows and any(str(r.iloc[0]).startswith(m) for m in _MONEY)
        cells = []
        for c in shown.columns:
            v = r[c]
            if c in pct_cols:
                cells.append(f"<td>{_pct(v)}</td>")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                money = money_row or any(str(c).startswith(m) for m in _MONEY)
                cells.append(f"<td>{_num(v, money and c not in ('n',))}</td>")
            else:
                cells.append(f"<td>{_e(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>First {max_rows} of {len(df):,} rows; the CSV file has them all.</p>" if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _images(run: SavedRun, names: Sequence[str] | None = None) -> str:
    out = []
    for name in names if names is not None else sorted(run.images):
        data = run.images.get(name)
        if data:
            b64 = base64.b64encode(data).decode("ascii")
            out.append(f"<img src='data:image/png;base64,{b64}' alt='{_e(name)}' title='{_e(name)}'>")
    return "".join(out)


def _provenance(run: SavedRun, prov: Mapping[str, Any]) -> str:
    rows = [("folder", run.path), ("written by", f"kolsim {run.kolsim_version}"), ("files", ", ".join(run.files))]
    rows += [(k, v if not isinstance(v, (list, dict)) else ", ".join(map(str, v)) if isinstance(v, list) else str(v))
             for k, v in prov.items()]
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<h3>Provenance</h3><table class='prov'>{body}</table>"


def _summary_rows(summary: pd.DataFrame, keep: Sequence[str]) -> pd.DataFrame:
    s = summary.set_index("metric") if "metric" in summary else summary
    return s.loc[[m for m in keep if m in s.index]].reset_index()


_HEADLINE = ("conversions", "reads", "unique_reach", "interactions", "spend", "revenue", "profit",
             "cpa", "cpe", "cpv", "roi", "p_profit", "delivery_rate")


def _simulate(run: SavedRun) -> tuple[str, str, str]:
    s = run.tables.get("summary")
    prov = run.provenance
    name = prov.get("scenario") or run.path
    question = f"What does the campaign in {name} deliver, and how much could one run of it vary?"
    items = []
    if s is not None:
        t = s.set_index("metric")
        if "conversions" in t.index:
            c = t.loc["conversions"]
            items.append(f"Conversions: mean {_num(c['mean'])} (95 % interval {_num(c['ci_low'])} – {_num(c['ci_high'])}); "
                         f"one campaign lands between {_num(c['p10'])} and {_num(c['p90'])} eight times in ten.")
        if "cpa" in t.index:
            items.append(f"Cost per conversion: {_num(t.loc['cpa', 'mean'], True)}.")
        if "roi" in t.index:
            items.append(f"ROI: {_pct(t.loc['roi', 'mean'])}; chance of a profit "
                         f"{t.loc['p_profit', 'mean']:.0%}." if "p_profit" in t.index else f"ROI: {_pct(t.loc['roi', 'mean'])}.")
    verdict = "".join(f"<li>{_e(i)}</li>" for i in items)
    body = "<h3>Summary</h3>" + _table(_summary_rows(s, _HEADLINE) if s is not None else None,
                                        money_rows=True)
    return question, verdict, body + _images(run)


def _compare(run: SavedRun) -> tuple[str, str, str]:
    summ = run.summary or {}
    labels = [sc.get("label") for sc in summ.get("scenarios", [])]
    base = summ.get("baseline", labels[0] if labels else "the first")
    question = f"Which of {', '.join(map(str, labels))} does better, judged against {base}?"
    v = run.tables.get("verdict")
    items = []
    if v is not None and len(v):
        for scen in dict.fromkeys(v["scenario"]):
            parts = []
            for m in ("conversions", "cpa", "profit", "roi"):
                r = v[(v["scenario"] == scen) & (v["metric"] == m)]
                if not len(r) or "verdict" not in r:
                    continue
                r = r.iloc[0]
                change = _pct(r["pct_change"]) if not pd.isna(r.get("pct_change")) else _num(r.get("difference"))
                cls = "better" if r["verdict"] == "better" else "worse" if r["verdict"] == "worse" else ""
                pb = "–" if pd.isna(r.get("p_beats")) else f"{r['p_beats']:.0%}"
                parts.append(f"{_e(m)} {_e(change)} (P(better) {pb}: <span class='{cls}'>{_e(r['verdict'])}</span>)")
            items.append(f"<li><b>{_e(scen)}</b>: " + "; ".join(parts) + "</li>")
    body = ""
    if v is not None:
        cols = [c for c in ("scenario", "metric", "better_when", "mean_baseline", "mean", "pct_change", "pct_ci_low",
                            "pct_ci_high", "difference", "p_beats", "verdict") if c in v]
        body += "<h3>Verdict, metric by metric</h3>" + _table(v[cols], pct_cols=("pct_change", "pct_ci_low", "pct_ci_high"))
    comp = run.tables.get("comparison")
    if comp is not None:
        keep = comp[comp["metric"].isin(_HEADLINE)][["scenario", "metric", "mean", "ci_low", "ci_high", "p10", "p90"]]
        body += "<h3>Each scenario</h3>" + _table(keep, max_rows=200)
    order = [n for n in ("forest.png", "distributions.png", "cumulative_conversions.png", "publication.png") if n in run.images]
    return question, "".join(items), body + _images(run, order)


def _risk(run: SavedRun) -> tuple[str, str, str]:
    s = run.summary or {}
    rk = s.get("risk") or {}
    question = f"Which plan does best in the lower tail: {rk.get('request')} ({s.get('scenarios')} scenarios)?"
    items = [f"Status: {s.get('status')}" + (f", within {s['gap']:.2%} of the best on these scenarios"
                                             if s.get("gap") is not None else "")]
    if s.get("spend") is not None:
        items.append(f"Spend {_num(s['spend'], True)}; expected {s.get('objective_kind')} {_num(s.get('expected'))}.")
    c = (s.get("comparison") or {}).get(rk.get("measure"))
    if c and c.get("se") is not None:
        items.append(f"Out of sample the risk plan's {rk.get('measure')} differs from the expected-value plan's by "
                     f"{_num(c['difference'])} ± {_num(2 * c['se'])} (2 SE).")
    if s.get("explanation"):
        items.append(str(s["explanation"]))
    body = ""
    m = run.tables.get("risk")
    if m is not None and len(m):
        body += "<h3>The plans' measures in and out of sample</h3>" + _table(m)
    plan = run.tables.get("plan")
    if plan is not None and len(plan):
        body += "<h3>The plan</h3>" + _table(plan, max_rows=100)
    return question, "".join(f"<li>{_e(i)}</li>" for i in items), body + _images(run)


def _optimize(run: SavedRun) -> tuple[str, str, str]:
    s = run.summary or {}
    if "risk" in s:
        return _risk(run)
    prov = s.get("provenance", {})
    question = (f"Which creators, and how many notes a week, should {prov.get('scenario') or 'this request'} buy "
                f"to maximise expected {s.get('objective_kind', 'outcome')}?")
    items = [f"Status: {s.get('status')}" + (f", proven within {s['gap']:.3%} of the best possible" if s.get("gap") is not None else "")]
    if s.get("objective") is not None:
        items.append(f"Expected {s.get('objective_kind')}: {_num(s['objective'])}; spend {_num(s.get('spend'), True)} of "
                     f"{_num(s.get('budget'), True)}; {s.get('creators')} creators, {s.get('notes')} notes.")
    sim = s.get("simulated") or {}
    if sim:
        items.append(f"Simulated ({sim.get('runs'):,} runs): {_num(sim.get('simulated_mean'))} against the optimizer's "
                     f"{_num(sim.get('optimizer_expectation'))} ({_pct(sim.get('relative_difference'))}).")
    if s.get("explanation"):
        items.append(str(s["explanation"]))
    for b in s.get("binding") or []:
        items.append(f"Binding: {b}")
    body = ""
    base = run.tables.get("baselines")
    if base is not None and len(base):
        for _, b in base.iterrows():
            if b.get("fits") == "fits" and not pd.isna(b.get("advantage_pct")):
                items.append(f"Beats the {b['baseline']} by {b['advantage_pct']:+.1%} "
                             f"(95 % interval {b['advantage_pct_low']:+.1%} to {b['advantage_pct_high']:+.1%}; "
                             f"P(better) {b['p_better']:.0%}).")
        cols = [c for c in ("baseline", "creators", "spend", "expected", "simulated_mean", "advantage", "advantage_pct",
                            "advantage_pct_low", "advantage_pct_high", "p_better", "fits") if c in base]
        body += "<h3>Against simpler plans</h3>" + _table(base[cols], pct_cols=("advantage_pct", "advantage_pct_low",
                                                                               "advantage_pct_high"))
    plan = run.tables.get("plan")
    if plan is not None and len(plan):
        for col in ("tier", "category"):
            g = plan.groupby(col).agg(creators=("kol_id", "nunique"), notes=("posts", "sum"), cost=("cost", "sum")).reset_index()
            body += f"<h3>Spend by {col}</h3>" + _table(g)
        body += "<h3>The plan</h3>" + _table(plan, max_rows=100)
    return question, "".join(f"<li>{_e(i)}</li>" for i in items), body + _images(run)


def _decisions(run: SavedRun, keys: list[str]) -> tuple[str, str, str]:
    prov = (run.summary or {}).get("provenance", {})
    d, sw = run.tables.get("decisions"), run.tables.get("switches")
    question = (f"How far can {', '.join(keys)} move before the best plan should change, and what does keeping "
                "today's plan cost if it does?")
    items = [f"The base plan (at the scenario's own values) is worth {_num(prov.get('base_objective'))} "
             f"expected {prov.get('objective')} ({prov.get('base_status')})."]
    if sw is not None:
        items.append(f"The chosen portfolio switches {len(sw)} time(s) over the {prov.get('points')} points."
                     if len(sw) else "The chosen portfolio is the same at every point.")
    if d is not None and len(d) and d["regret"].notna().any():
        worst = d.loc[d["regret"].idxmax()]
        at = ", ".join(f"{k} = {_num(worst[k])}" for k in keys)
        items.append(f"The largest regret of keeping the base plan: {_num(worst['regret'])} "
                     f"({worst['regret_share']:.1%} of that point's optimum), at {at}.")
    if d is not None and d["base_plan_value"].isna().any():
        items.append(f"At {int(d['base_plan_value'].isna().sum())} point(s) the base plan breaks the request's rules.")
    body = ""
    if d is not None:
        body += "<h3>The optimum at each point</h3>" + _table(d.drop(columns=[c for c in ("base_plan",) if c in d]))
    if sw is not None and len(sw):
        body += "<h3>Switch points</h3>" + _table(sw)
    return question, "".join(f"<li>{_e(x)}</li>" for x in items), body + _images(run)


def _sweep(run: SavedRun) -> tuple[str, str, str]:
    s = run.summary or {}
    prov = s.get("provenance", {})
    keys = [v.split("=", 1)[0] for v in prov.get("vary", [])]
    if "decisions" in run.tables:
        return _decisions(run, keys)
    t = run.tables.get("sweep")
    metric = str(t["metric"].iloc[0]) if t is not None and len(t) else "the outcome"
    question = f"How does {metric} move with {', '.join(keys)} ({prov.get('method')} design, {prov.get('points')} points)?"
    items = []
    if t is not None and len(t):
        m = t[t["metric"] == metric]
        lo, hi = m.loc[m["mean"].idxmin()], m.loc[m["mean"].idxmax()]
        at = lambda r: ", ".join(f"{k} = {_num(r[k])}" for k in keys if k in r)
        items.append(f"Mean {metric} ranges from {_num(lo['mean'])} ({at(lo)}) to {_num(hi['mean'])} ({at(hi)}).")
    ind = run.tables.get("indices")
    if ind is not None and len(ind):
        i = ind[ind["metric"] == metric]
        if "ST" in i and len(i):
            top = i.loc[i["ST"].idxmax()]
            items.append(f"Most influential: {top['factor']} (total Sobol index {top['ST']:.2f} ± {top['ST_conf']:.2f}); "
                         f"Monte Carlo noise is {float(i['noise_share'].iloc[0]):.1%} of the variance.")
        elif "mu_star" in i and len(i):
            top = i.loc[i["mu_star"].idxmax()]
            items.append(f"Most influential: {top['factor']} (Morris μ* {_num(top['mu_star'])}).")
    body = ""
    if ind is not None:
        body += "<h3>Sensitivity indices</h3>" + _table(ind)
    if t is not None:
        body += f"<h3>{_e(metric)} at each point</h3>" + _table(t[t["metric"] == metric], max_rows=80)
    return question, "".join(f"<li>{_e(x)}</li>" for x in items), body + _images(run)


_KINDS = {"simulate": _simulate, "compare": _compare, "optimize": _optimize, "sweep": _sweep}


def render(runs: Sequence[SavedRun], title: str = "kolsim report") -> str:
    """The report's HTML: one section per run (question, verdict, tables, plots, provenance).

    Raises
    ------
    ValueError
        A run of a kind the report does not know.
    """
    sections, nav = [], []
    for k, run in enumerate(runs):
        if run.kind not in _KINDS:
            raise ValueError(f"{run.path}: a {run.kind!r} folder; the report takes {', '.join(_KINDS)} outputs")
        question, verdict, body = _KINDS[run.kind](run)
        prov = run.provenance if run.kind != "optimize" else (run.summary or {}).get("provenance", {})
        anchor = f"run{k + 1}"
        nav.append(f"<li><a href='#{anchor}'>{_e(run.kind)}: {_e(run.path)}</a></li>")
        sections.append(f"<section id='{anchor}'><h2>{k + 1}. {_e(run.kind.capitalize())}: {_e(run.path)}</h2>"
                        f"<p class='question'>{_e(question)}</p>"
                        f"<div class='verdict'><b>What it says</b><ul>{verdict}</ul></div>"
                        f"{body}{_provenance(run, prov)}</section>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class='note'>Made by kolsim {_e(__version__)} from {len(runs)} saved run(s). "
            "Every figure is embedded: the page needs no network and no other file. P10–P90 is the spread of one "
            "campaign; a 95 % interval is how precisely the simulation knows a mean.</p>"
            f"<nav><ul>{''.join(nav)}</ul></nav>{''.join(sections)}</body></html>\n")
