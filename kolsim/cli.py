"""The ``kolsim`` command.  Thin: it parses arguments and calls the public API.

Exit codes: 0 success, 2 bad input (usage, validation, unreadable file),
3 infeasible or no solution, 1 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click
import numpy as np
import pandas as pd

import kolsim
from . import io, plots
from .defaults import TIER_DEFAULTS, TIERS
from .errors import InputError, KolsimError

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERNAL = 1


class _Group(click.Group):
    """Turns kolsim's errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except InputError as e:  # one line, whatever the file held
            click.echo(f"kolsim: error: {io._printable(str(e), None)}", err=True)
            ctx.exit(EXIT_INPUT)
        except KolsimError as e:
            click.echo(f"kolsim: error: {io._printable(str(e), None)}", err=True)
            ctx.exit(EXIT_INTERNAL)
        except BrokenPipeError:  # output piped into head and the like
            sys.stdout = open(os.devnull, "w")
            ctx.exit(EXIT_INTERNAL)
        except KeyboardInterrupt:
            click.echo("kolsim: interrupted; nothing was written", err=True)
            ctx.exit(130)
        except Exception as e:  # a bug: say so plainly
            if os.environ.get("KOLSIM_DEBUG"):
                traceback.print_exc()
            click.echo(f"kolsim: internal error: {type(e).__name__}: {e} "
                       "(please report it; set KOLSIM_DEBUG=1 to see the traceback)", err=True)
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kolsim.__version__, prog_name="kolsim")
def main():
    """Plan influencer (KOL/KOC) campaigns: simulate, compare, optimize."""


_runs = click.option("--runs", type=click.IntRange(min=2, max=10_000_000), default=None,
                     help="Replications (default: the scenario's [simulation] runs).")
_seed = click.option("--seed", type=click.IntRange(min=0), default=None,
                     help="Random seed (default: the scenario's [simulation] seed).")
_workers = click.option("--workers", type=click.IntRange(min=1, max=256), default=1,
                        show_default=True, help="Worker processes; results do not depend on it.")
# kolsim checks --out itself (io.check_output_dir), so that a bad one gets a one-line message
_engine = click.option("--engine", type=click.Choice(["montecarlo", "des"]), default="montecarlo",
                       show_default=True,
                       help="montecarlo: the model's outcomes; des: the campaign's operations in time "
                            "(SimPy), with an event log and operational figures.")
_out = click.option("--out", type=click.Path(), default=None,
                    help="Directory for CSV, JSON and PNG outputs (created if needed).")


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}"
    if a >= 0.1 or a == 0:
        return f"{v:.3f}"
    return f"{v:.4f}"


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as text columns: the first left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
            for r in rows]


def _table(summary: pd.DataFrame) -> str:
    rows = [("metric", "mean", "95% interval", "P10", "P50", "P90")]
    for metric, r in summary.iterrows():
        rows.append((metric, _fmt(r["mean"]), f"{_fmt(r['ci_low'])} – {_fmt(r['ci_high'])}",
                     _fmt(r["p10"]), _fmt(r["p50"]), _fmt(r["p90"])))
    lines = _aligned(rows)
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _check_out_file(out: str) -> Path:
    """The directory an ``--out FILE`` goes to, checked before any work is done."""
    parent = Path(out).parent
    try:
        return io.check_output_dir(parent if str(parent) else ".")
    except InputError as e:
        raise InputError(f"cannot write the file there: {e}", file=str(out)) from None


def _notices(*objs) -> None:
    for o in objs:
        for n in getattr(o, "notices", ()):
            click.echo(f"note: {n}", err=True)


def _scenario_notices(sc, engine: str = "montecarlo") -> None:
    """The scenario's own notices, its pool's, and what a planner should know."""
    _notices(sc, sc.plan.pool if sc.plan else None)
    if engine == "montecarlo" and sc.operations_given:
        click.echo(f"note: {sc.source or sc.name}: [operations] and [ads] are used by the "
                   "discrete-event engine only; the Monte Carlo engine publishes every note on its "
                   "planned day (run with --engine des to simulate them)", err=True)
    for n in kolsim.review(sc):
        click.echo(f"note: {sc.source or sc.name}: {n}", err=True)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=True))
@_runs
@_seed
@_workers
@_engine
@_out
def simulate(scenario, runs, seed, workers, engine, out):
    """Simulate SCENARIO and summarise the outcomes."""
    sc = kolsim.load_scenario(scenario)
    _scenario_notices(sc, engine)
    if out:
        io.check_output_dir(out)
    result = kolsim.simulate(sc, runs=runs, rng=seed, workers=workers, engine=engine)
    p = result.provenance
    click.echo(f"{sc.name}: {result.runs:,} replications ({_ENGINE_NAMES[engine]}), seed {p['seed']}, "
               f"{result.table.n_posts} planned notes, budget ¥{sc.campaign.budget:,.0f}")
    summary = result.summary()
    click.echo(_table(summary))
    ops = result.operations_frame()
    if ops is not None:
        click.echo("\nPublication by wave (over all replications)")
        click.echo(_ops_table(ops))
    if out:
        files = {
            "summary.csv": summary.reset_index(),
            "replications.csv": result.to_frame(),
            "daily.csv": result.daily_frame(),
            "summary.json": {"provenance": dict(p), "notices": list(sc.notices),
                             "summary": summary.to_dict(orient="index")},
            "distributions.png": plots.plot_distributions([result], [sc.name]),
            "cumulative_conversions.png": plots.plot_cumulative_conversions([result], [sc.name]),
        }
        if ops is not None:
            files["operations.csv"] = ops
            files["events.csv"] = result.events
            files["publication.png"] = plots.plot_publication([result], [sc.name])
        written = io.write_outputs(out, files)
        click.echo(f"wrote {', '.join(f.name for f in written)} to {out}")


_ENGINE_NAMES = {"montecarlo": "Monte Carlo", "des": "discrete-event"}


def _ops_table(ops: pd.DataFrame) -> str:
    rows = [("wave", "notes", "published", "no-show", "in flight", "planned day", "actual day",
             "delay (d)", "late")]
    pct = lambda v: "–" if pd.isna(v) else f"{v:.0%}"
    for _, r in ops.iterrows():
        rows.append((str(r["wave"]), str(r["notes"]), pct(r["published_share"]), pct(r["no_show_share"]),
                     pct(r["in_flight_share"]), _fmt(r["planned_day_mean"]), _fmt(r["actual_day_mean"]),
                     _fmt(r["delay_days_mean"]), pct(r["late_share"])))
    return "\n".join(_aligned(rows))


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path())
@_runs
@_seed
@_workers
@_engine
@_out
def compare(scenarios, runs, seed, workers, engine, out):
    """Compare SCENARIOS on common random numbers (paired replications)."""
    loaded = [kolsim.load_scenario(s) for s in scenarios]
    for s in loaded:
        _scenario_notices(s, engine)
    if out:
        io.check_output_dir(out)
    comp = kolsim.compare(loaded, runs=runs, rng=seed, workers=workers, engine=engine)
    first = comp.results[0].provenance
    click.echo(f"{len(loaded)} scenarios, {comp.results[0].runs:,} paired replications each "
               f"({_ENGINE_NAMES[engine]}), seed {first['seed']}")
    for label, r in zip(comp.labels, comp.results):
        click.echo(f"\n== {label}")
        click.echo(_table(r.summary()))
        ops = r.operations_frame()
        if ops is not None:
            click.echo(_ops_table(ops))
    diffs = comp.differences()
    if len(diffs):
        click.echo(f"\n== Paired differences against {comp.labels[0]} (mean, 95% interval)")
        for _, d in diffs.iterrows():
            click.echo(f"  {d['scenario']:<28} {d['metric']:<14} {_fmt(d['mean']):>14}  "
                       f"[{_fmt(d['ci_low'])} – {_fmt(d['ci_high'])}]")
    if out:
        files = {
            "comparison.csv": comp.summary(),
            "differences.csv": diffs,
            "replications.csv": comp.to_frame(),
            "summary.json": {
                "scenarios": [{"label": lab, "provenance": dict(r.provenance),
                               "summary": r.summary().to_dict(orient="index")}
                              for lab, r in zip(comp.labels, comp.results)],
                "differences": diffs.to_dict(orient="records")},
            "distributions.png": plots.plot_distributions(comp.results, comp.labels),
            "cumulative_conversions.png": plots.plot_cumulative_conversions(comp.results, comp.labels),
        }
        if engine == "des":
            files["operations.csv"] = pd.concat(
                [r.operations_frame().assign(scenario=lab) for lab, r in zip(comp.labels, comp.results)],
                ignore_index=True)
            files["publication.png"] = plots.plot_publication(comp.results, comp.labels)
        written = io.write_outputs(out, files)
        click.echo(f"\nwrote {', '.join(f.name for f in written)} to {out}")


@main.command()
@click.argument("scenario", type=click.Path())
@click.option("--candidates", "candidates", type=click.Path(), required=True,
              help="Candidate pool (CSV or .xlsx), one row per creator.")
@click.option("--objective", type=click.Choice(["conversions", "reach", "interactions", "profit"]),
              default=None, help="What to maximise (default: the scenario's [optimize] objective).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds (default: the scenario's, 60).")
@click.option("--gap", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
              help="Relative gap at which a plan counts as optimal (default 0.0001).")
@click.option("--backend", type=click.Choice(["highs", "pulp"]), default="highs", show_default=True)
@click.option("--solver", default=None, help="With --backend pulp: any solver PuLP knows (CBC by default).")
@click.option("--export", type=click.Path(dir_okay=False), default=None,
              help="Also write the model as .lp or .mps.")
@click.option("--simulate", "sim_runs", type=click.IntRange(min=0), default=2000, show_default=True,
              help="Monte Carlo replications to check the plan's expected value (0: skip; else >= 2).")
@click.option("--start", "start", type=click.Path(), default=None,
              help="A plan to start the search from (kol_id, week, posts; e.g. an earlier plan.csv); "
                   "used only if it meets every rule of this request.")
@click.option("--out", type=click.Path(), default=None,
              help="Directory for plan.csv, summary.json and excluded.csv (created if needed).")
def optimize(scenario, candidates, objective, time_limit, gap, backend, solver, export, sim_runs, start, out):
    """Choose creators and their weekly notes from a candidate pool by integer programming."""
    sc = kolsim.load_scenario(scenario)
    _notices(sc)
    pool = kolsim.load_pool(candidates)
    _notices(pool)
    if sim_runs == 1:
        raise InputError("--simulate must be 0 (no check) or at least 2 (got 1)")
    if export and not str(export).lower().endswith((".lp", ".mps")):
        raise InputError("must end in .lp or .mps", where="--export")
    if export:
        _check_out_file(export)
    start_plan = io.load_start_plan(start) if start else None
    if out:
        io.check_output_dir(out)
    r = kolsim.optimize(sc, pool, objective=objective, time_limit=time_limit, gap=gap, backend=backend,
                        solver=solver, export=export, simulate_runs=sim_runs, start=start_plan)
    summary = r.summary()
    for n in r.problem.notices:
        click.echo(f"note: {n}", err=True)
    click.echo(_optimize_report(sc, r))
    if out:
        files = {"plan.csv": r.to_frame(), "summary.json": summary,
                 "excluded.csv": r.problem.excluded}
        written = io.write_outputs(out, files)
        click.echo(f"wrote {', '.join(f.name for f in written)} to {out}")
    if r.status in ("infeasible", "no_solution"):
        raise click.exceptions.Exit(EXIT_INFEASIBLE)


def _n(count, word: str) -> str:
    count = int(count)
    return f"{count} {word}{'' if count == 1 else 's'}"


def _optimize_report(sc, r) -> str:
    p = r.problem
    lines = [f"{sc.name}: {r.candidates:,} candidates ({len(p.excluded):,} excluded before solving), "
             f"objective {p.objective}, {r.backend} ({r.solver})",
             f"status: {r.status}"]
    if r.objective is None:
        lines.append(r.explanation)
        return "\n".join(lines)
    unit = {"conversions": "expected conversions (campaign)",
            "reach": "expected unique readers" if p.saturating else "expected reads",
            "interactions": "expected interactions", "profit": "expected profit (RMB)"}[p.objective]
    lines.append(f"objective: {_fmt(r.objective)} {unit}; bound {_fmt(r.bound) if r.bound is not None else '–'}; "
                 f"gap {r.gap:.4%}" if r.gap is not None else f"objective: {_fmt(r.objective)} {unit}")
    lines.append(f"saturation approximation error: at most {r.approximation_error:.3%}")
    if "start" in r.model_size:
        lines.append(f"start plan: {r.model_size['start']}")
    lines.append(f"spend: ¥{r.spend:,.0f} of ¥{p.budget:,.0f}; build {r.build_seconds:.3f} s, "
                 f"solve {r.solve_seconds:.2f} s")
    plan = r.plan
    if not len(plan):
        lines.append("picks: none; no creator adds to the objective within the rules, so the best "
                     "plan spends nothing")
    else:
        for col, title in (("tier", "by tier"), ("category", "by category"), ("week", "by week")):
            g = plan.groupby(col).agg(creators=("kol_id", "nunique"), notes=("posts", "sum"),
                                      cost=("cost", "sum"))
            lines.append(f"{title}: " + "; ".join(f"{k}: {_n(v.creators, 'creator')}, {_n(v.notes, 'note')}, "
                                                   f"¥{v.cost:,.0f}" for k, v in g.iterrows()))
    if r.binding:
        lines.append("binding: " + "; ".join(r.binding))
    if r.marginal_budget:
        mb = r.marginal_budget
        lines.append(f"¥{mb['extra_budget']:,.0f} more budget would add {_fmt(mb['gain'])} "
                     f"({mb['status']})")
    if r.simulated:
        sm = r.simulated
        lines.append(f"simulated ({sm['runs']:,} runs): {_fmt(sm['simulated_mean'])} ± "
                     f"{_fmt(1.96 * sm['standard_error'])} vs the optimizer's {_fmt(sm['optimizer_expectation'])} "
                     f"(difference {sm['relative_difference']:+.2%}); word of mouth adds "
                     f"{_fmt(sm['word_of_mouth_conversions'])} conversions")
    return "\n".join(lines)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate(files):
    """Check scenario files (.toml) and candidate pools (.csv, .xlsx)."""
    for f in files:
        if str(f).lower().endswith((".csv", ".xlsx", ".xlsm", ".xls")):
            pool = kolsim.load_pool(f)
            _notices(pool)
            click.echo(f"{f}: ok, a pool of {len(pool):,} creators")
        else:
            sc = kolsim.load_scenario(f)
            _scenario_notices(sc)
            n_waves = len(sc.waves)
            planned = len(sc.plan.items) if sc.plan else 0
            click.echo(f"{f}: ok, {sc.name!r}: {n_waves} wave(s), {planned} plan entries")


@main.group()
def pool():
    """Candidate pools: generate synthetic ones, vet real ones."""


@pool.command("generate")
@click.option("--size", type=click.IntRange(min=1, max=1_000_000), required=True,
              help="Number of creators.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="CSV file to write.")
def pool_generate(size, seed, out):
    """Write a synthetic candidate pool calibrated to the defaults."""
    parent = _check_out_file(out)
    p = kolsim.generate_pool(size, np.random.default_rng(seed))
    io.write_outputs(parent, {Path(out).name: p.frame})
    counts = p.frame["tier"].value_counts().reindex(TIERS, fill_value=0)
    click.echo(f"wrote {size:,} creators to {out} (" +
               ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")


@pool.command("vet")
@click.argument("pool_file", type=click.Path())
@click.option("--scenario", type=click.Path(), default=None,
              help="Take tier prices and vetting thresholds from this scenario.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="CSV file listing the excluded creators and why.")
def pool_vet(pool_file, scenario, out):
    """List the creators that vetting excludes, each with its reasons."""
    p = kolsim.load_pool(pool_file)
    _notices(p)
    if out:
        _check_out_file(out)
    if scenario:
        sc = kolsim.load_scenario(scenario)
        tiers, rules = sc.tiers, sc.vetting
    else:
        from .scenario import Tier
        tiers = {c: Tier(code=c, **TIER_DEFAULTS[c]) for c in TIERS}
        rules = None
    report = kolsim.vet(p, tiers, rules)
    click.echo(f"{pool_file}: {len(report.kept):,} kept, {len(report.excluded):,} excluded")
    for _, r in report.excluded.iterrows():
        click.echo(f"  {r['kol_id']} ({r['tier']}): {r['reasons']}")
    if out:
        io.write_outputs(_check_out_file(out), {Path(out).name: report.to_frame()})


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
