"""The ``kolsim`` command.  Thin: it parses arguments and calls the public API.

Exit codes: 0 success, 2 bad input (usage, validation, unreadable file, a file
that cannot be written), 3 infeasible or no solution, 1 internal error (a bug),
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).  Every error is one line
on stderr; stdout holds only the report, so it can be piped.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

import click
import numpy as np
import pandas as pd

import kolsim
from . import _signals, io, plots
from .defaults import TIERS
from .errors import InputError, KolsimError
from .scenario import MAX_RUNS
from .text import printable

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERNAL = 1

#: The library's argument names, as the CLI's flags (an error about ``solver`` is about ``--solver``).
_FLAGS = {"backend": "--backend", "solver": "--solver", "time_limit": "--time-limit", "gap": "--gap",
          "runs": "--runs", "out": "--out", "size": "--size", "seed": "--seed", "workers": "--workers",
          "scheduler": "--scheduler", "baseline": "--baseline"}


def _echo(text: str = "", err: bool = False) -> None:
    """A report line or lines: whatever a user's files held is printed escaped, on its own lines."""
    click.echo("\n".join(printable(line, None) for line in str(text).split("\n")), err=err)


def _error_line(e: InputError) -> str:
    if e.where in _FLAGS:
        e = InputError(e.message, file=e.file, where=_FLAGS[e.where], more=e.more)
    return f"kolsim: error: {printable(str(e), None)}"


class _Group(click.Group):
    """Turns every error into one line and an exit code, never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the command; usage errors, interrupts and SIGTERM end in one line and their exit code."""
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _signals.raise_terminated)
        try:
            code = super().main(args, "kolsim", complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as e:
            hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
            _echo(f"kolsim: error: {' '.join(e.format_message().split())}{hint}", err=True)
            code = EXIT_INPUT
        except click.exceptions.Abort:  # Ctrl-C while click itself was working
            _echo("kolsim: interrupted; nothing was written", err=True)
            code = 130
        except click.exceptions.Exit as e:
            code = e.exit_code
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        sys.exit(code or 0)

    def invoke(self, ctx):
        ctx.obj = {"written": []}
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except InputError as e:  # one line, whatever the file held
            _echo(_error_line(e), err=True)
            ctx.exit(EXIT_INPUT)
        except KolsimError as e:
            _echo(f"kolsim: error: {printable(str(e), None)}", err=True)
            ctx.exit(EXIT_INTERNAL)
        except BrokenPipeError:  # output piped into head and the like
            sys.stdout = open(os.devnull, "w")
            ctx.exit(EXIT_INTERNAL)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated)
            written = list(ctx.obj["written"]) + [w for w in getattr(e, "written", []) if w not in ctx.obj["written"]]
            what = "terminated" if isinstance(e, _signals.Terminated) else "interrupted"
            done = f"after writing {', '.join(written)}" if written else "nothing was written"
            _echo(f"kolsim: {what}; {done}", err=True)
            ctx.exit(_signals.EXIT_CODES[type(e) if isinstance(e, _signals.Terminated) else KeyboardInterrupt])
        except Exception as e:  # a bug: say so plainly
            if os.environ.get("KOLSIM_DEBUG"):
                traceback.print_exc()
            _echo(f"kolsim: internal error: {type(e).__name__}: {e} "
                  "(please report it; set KOLSIM_DEBUG=1 to see the traceback)", err=True)
            ctx.exit(EXIT_INTERNAL)


class _Finite(click.ParamType):
    """A finite number (``nan`` and ``inf`` are refused) above ``low`` (at ``low`` too unless
    ``low_open``) and below ``below``."""

    name = "number"

    def __init__(self, low: float, *, low_open: bool = False, below: float | None = None):
        self.low, self.low_open, self.below = low, low_open, below

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            x = math.nan
        ok = math.isfinite(x) and (x > self.low if self.low_open else x >= self.low) and \
            (self.below is None or x < self.below)
        if not ok:
            allowed = f"{'>' if self.low_open else '>='} {self.low:g}" + \
                (f" and < {self.below:g}" if self.below is not None else "")
            self.fail(f"{value!r} is not a finite number {allowed}", param, ctx)
        return x


def _written(path) -> None:
    click.get_current_context().obj["written"].append(str(path))


def _write_outputs(out, files, kind: str) -> list[Path]:
    written = io.write_outputs(out, files, kind=kind)
    _written(out)
    return written


def _write_file(out, content) -> None:
    io.write_file(out, content)
    _written(out)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kolsim.__version__, prog_name="kolsim")
def main():
    """Plan influencer (KOL/KOC) campaigns: simulate, compare, optimize."""


_runs = click.option("--runs", type=click.IntRange(min=2, max=MAX_RUNS), default=None,
                     help="Replications (default: the scenario's [simulation] runs).")
_seed = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None,
                     help="Random seed, 0 to 2^63 - 1 (default: the scenario's [simulation] seed).")
_workers = click.option("--workers", type=click.IntRange(min=1, max=256), default=1,
                        show_default=True, help="Worker processes; results do not depend on it.")
_engine = click.option("--engine", type=click.Choice(["montecarlo", "des"]), default="montecarlo",
                       show_default=True,
                       help="montecarlo: the model's outcomes; des: the campaign's operations in time "
                            "(SimPy), with an event log and operational figures.")
_profile = click.option("--profile", default=None, metavar="NAME",
                        help="The candidates are a marketplace export of this built-in layout (pugongying, "
                             "qiangua, common; docs/data.md).")
_columns = click.option("--columns", "columns_map", type=click.Path(), default=None, metavar="MAP.toml",
                        help="The candidates are a marketplace export read with this mapping file (column "
                             "names, units, tier and category names; docs/data.md).")


def _every_problem(read):
    """``read()``, with every problem of a bad export printed (not only the first), exit 2."""
    try:
        return read()
    except InputError as e:
        for line in e.lines():
            _echo(f"kolsim: error: {printable(line, None)}", err=True)
        raise click.exceptions.Exit(EXIT_INPUT) from None


def _load_candidates(path, sc, profile, columns_map):
    """The candidate pool: a pool file, or an export read with a profile or a mapping file."""
    if profile is None and columns_map is None:
        return kolsim.load_pool(path, tiers=sc.tiers if sc is not None else None)
    pool, report = _every_problem(lambda: kolsim.load_export(path, profile=profile, columns=columns_map,
                                                             tiers=sc.tiers if sc is not None else None))
    _echo(f"note: {report.lines()[0]}; {len(report.conversions)} conversion(s), {len(pool):,} creators "
          "(kolsim pool import lists them)", err=True)
    return pool


# kolsim checks --out itself (io.check_output_dir), so that a bad one gets a one-line message
_out = click.option("--out", type=click.Path(), default=None,
                    help="Directory for CSV, JSON and PNG outputs: a new or empty one, or an earlier "
                         "run's, which is replaced as a whole.")


def _fmt(v: float) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{int(v):,}"
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


def _notices(*objs) -> None:
    for o in objs:
        for n in getattr(o, "notices", ()):
            _echo(f"note: {n}", err=True)


def _scenario_notices(sc, engine: str = "montecarlo") -> None:
    """The scenario's own notices, its pool's, and what a planner should know."""
    _notices(sc, sc.plan.pool if sc.plan else None)
    if engine == "montecarlo" and sc.operations_given:
        _echo(f"note: {sc.source or sc.name}: [operations] and [ads] are used by the "
              "discrete-event engine only; the Monte Carlo engine publishes every note on its "
              "planned day (run with --engine des to simulate them)", err=True)
    for n in kolsim.review(sc):
        _echo(f"note: {sc.source or sc.name}: {n}", err=True)


_quiet = click.option("--quiet", is_flag=True, help="No progress bar (there is none when stderr is not a terminal).")
_scheduler = click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                          help="Run on this Dask distributed scheduler instead of local processes; "
                               "the results are the same.")


def _renders(rp, run) -> bool:
    try:
        rp.render([run])
        return True
    except (KeyError, AttributeError, TypeError, ValueError, IndexError):
        return False


def _one_backend(workers: int, scheduler) -> None:
    if scheduler is not None and workers != 1:
        raise InputError("--workers and --scheduler cannot both be given (the cluster's workers are used)",
                         where="--workers")


class _Progress:
    """A progress bar on stderr when it is a terminal and --quiet is not given; called as
    ``bar(done, total)``."""

    def __init__(self, what: str, quiet: bool):
        self.what, self.bar = what, None
        self.on = not quiet and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.on:
            return
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=self.what, unit="", leave=False, file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


_calibration = click.option("--calibration", type=click.Path(), default=None, metavar="OVERLAY.toml",
                            help="Merge this calibration overlay (kolsim calibrate --out) onto the scenario first: "
                                 "its fitted values replace the file's.")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=True))
@_runs
@_seed
@_workers
@_scheduler
@_engine
@click.option("--attribution", "attribute", is_flag=True,
              help="Credit each creator and wave with its reads, buyers (and the word of mouth they started), "
                   "spend and the expansion/acceleration split; with --out, attribution.csv and attribution.png.")
@_calibration
@_quiet
@_out
def simulate(scenario, runs, seed, workers, scheduler, engine, attribute, calibration, quiet, out):
    """Simulate SCENARIO and summarise the outcomes."""
    sc = kolsim.load_scenario(scenario, calibration=calibration)
    _scenario_notices(sc, engine)
    _one_backend(workers, scheduler)
    if out is not None:
        io.check_output_dir(out)
    with _Progress("replications", quiet) as bar:
        result = kolsim.simulate(sc, runs=runs, rng=seed, workers=workers, engine=engine, progress=bar,
                                 scheduler=scheduler, attribute=attribute)
    p = result.provenance
    _echo(f"{sc.name}: {result.runs:,} replications ({_ENGINE_NAMES[engine]}), seed {p['seed']}, "
          f"{result.table.n_posts} planned notes, budget ¥{sc.campaign.budget:,.0f}")
    summary = result.summary()
    _echo(_table(summary))
    ops = result.operations_frame()
    if ops is not None:
        _echo("\nPublication by wave (over all replications)")
        _echo(_ops_table(ops))
    credit = kolsim.attribution_frame(result) if attribute else None
    if credit is not None:
        _echo("\n" + _attribution_report(credit))
    if out is not None:
        files = {
            "summary.csv": summary.reset_index(),
            "replications.csv": result.to_frame(),
            "daily.csv": result.daily_frame(),
            "summary.json": {"provenance": dict(p), "notices": list(sc.notices),
                             "summary": summary.to_dict(orient="index")},
            "distributions.png": plots.plot_distributions([result], [sc.name]),
            "cumulative_conversions.png": plots.plot_cumulative_conversions([result], [sc.name]),
        }
        if credit is not None:
            files["attribution.csv"] = credit
            files["attribution.png"] = plots.plot_attribution(result)
        if ops is not None:
            files["operations.csv"] = ops
            files["events.csv"] = result.events
            files["publication.png"] = plots.plot_publication([result], [sc.name])
        written = _write_outputs(out, files, "simulate")
        _echo(f"wrote {', '.join(f.name for f in written)} to {out}")


_ENGINE_NAMES = {"montecarlo": "Monte Carlo", "des": "discrete-event"}


def _attribution_report(credit: pd.DataFrame, top: int = 10) -> str:
    """The waves and the creators who earned the most conversions, with their intervals."""
    def rows(frame: pd.DataFrame) -> list[tuple[str, ...]]:
        return [(str(r["name"]), str(r["tier"]) if isinstance(r["tier"], str) else "", f"{int(r['notes'])}",
                 f"{_fmt(r['reads'])}", f"{r['conversions']:,.1f} ± {1.96 * r['conversions_se']:,.1f}",
                 f"{100 * r['share_of_conversions']:.1f} %", f"{_fmt(r['expansion'])}",
                 f"¥{r['spend']:,.0f}") for _, r in frame.iterrows()]
    head = [("", "tier", "notes", "reads", "conversions (95 %)", "share", "expansion", "spend")]
    waves = credit[credit["level"] == "wave"]
    creators = credit[credit["level"] == "creator"].sort_values("conversions", ascending=False)
    other = credit[credit["level"] == "other"]
    lines = ["Attribution by wave (mean per replication)", *_aligned(head + rows(waves)),
             f"\nTop {min(top, len(creators))} of {len(creators)} creators by conversions",
             *_aligned(head + rows(creators.head(top)) + rows(other))]
    return "\n".join(lines)


def _ops_table(ops: pd.DataFrame) -> str:
    rows = [("wave", "notes", "published", "no-show", "in flight", "planned day", "actual day",
             "delay (d)", "late")]
    pct = lambda v: "–" if pd.isna(v) else f"{v:.0%}"
    for _, r in ops.iterrows():
        rows.append((str(r["wave"]), str(r["notes"]), pct(r["published_share"]), pct(r["no_show_share"]),
                     pct(r["in_flight_share"]), _fmt(r["planned_day_mean"]), _fmt(r["actual_day_mean"]),
                     _fmt(r["delay_days_mean"]), pct(r["late_share"])))
    return "\n".join(_aligned(rows))


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def _pct(v) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.1%}"


def _verdict_lines(verdict: pd.DataFrame) -> list[str]:
    rows = [("scenario", "metric", "baseline", "scenario", "change", "95% interval", "P(better)", "verdict")]
    for _, d in verdict.iterrows():
        if "mean" not in d or pd.isna(d.get("mean")):
            rows.append((str(d["scenario"]), d["metric"], "–", "–", "–", "–", "–", str(d["verdict"])))
            continue
        pct = not pd.isna(d["pct_change"])
        rows.append((str(d["scenario"]), d["metric"], _fmt(d["mean_baseline"]), _fmt(d["mean"]),
                     _pct(d["pct_change"]) if pct else _fmt(d["difference"]),
                     f"{_pct(d['pct_ci_low'])} – {_pct(d['pct_ci_high'])}" if pct
                     else f"{_fmt(d['ci_low'])} – {_fmt(d['ci_high'])}",
                     "–" if pd.isna(d["p_beats"]) else f"{d['p_beats']:.0%}", str(d["verdict"])))
    return _aligned(rows)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path())
@_runs
@_seed
@_workers
@_scheduler
@_engine
@click.option("--baseline", default=None,
              help="The scenario the others are judged against: its file, its name, or its position "
                   "(1 = the first, the default).")
@_quiet
@_out
def compare(scenarios, runs, seed, workers, scheduler, engine, baseline, quiet, out):
    """Compare SCENARIOS on common random numbers (paired replications), with a verdict."""
    if len(scenarios) < 2:
        raise InputError(f"needs at least two scenarios to compare (got {len(scenarios)}); to simulate one, run "
                         "`kolsim simulate`", where="compare")
    loaded = [kolsim.load_scenario(s) for s in scenarios]
    for s in loaded:
        _scenario_notices(s, engine)
    _one_backend(workers, scheduler)
    if out is not None:
        io.check_output_dir(out)
    base = baseline
    if baseline is not None and baseline.isdigit():
        if not 1 <= int(baseline) <= len(loaded):
            raise InputError(f"is scenario number {baseline}, but {len(loaded)} were given (1 to {len(loaded)})",
                             where="--baseline")
        base = int(baseline) - 1
    elif baseline is not None and any(_same_file(baseline, s) for s in scenarios):
        base = next(i for i, s in enumerate(scenarios) if _same_file(baseline, s))
    elif baseline is not None:  # a label: checked before anything runs
        from .analysis import scenario_labels

        labels = scenario_labels(loaded)
        if baseline not in labels:
            raise InputError(f"{baseline!r} is none of the scenarios compared; give a label "
                             f"({', '.join(map(repr, labels))}), a scenario file or a number from 1 to {len(loaded)}",
                             where="--baseline")
        base = labels.index(baseline)
    with _Progress("scenarios", quiet) as bar:
        comp = kolsim.compare(loaded, runs=runs, rng=seed, workers=workers, engine=engine, progress=bar,
                              scheduler=scheduler)
    first = comp.results[0].provenance
    _echo(f"{len(loaded)} scenarios, {comp.results[0].runs:,} paired replications each "
          f"({_ENGINE_NAMES[engine]}), seed {first['seed']}")
    for label, r in zip(comp.labels, comp.results):
        _echo(f"\n== {label}")
        _echo(_table(r.summary()))
        ops = r.operations_frame()
        if ops is not None:
            _echo(_ops_table(ops))
    diffs = comp.differences(base)
    verdict = comp.verdict(base) if len(loaded) > 1 else pd.DataFrame()
    if len(verdict):
        _echo(f"\n== Verdict against {comp.labels[comp.baseline_index(base)]} (paired replications; "
              "change: % of the baseline's mean, or the difference where its mean is <= 0)")
        _echo("\n".join(_verdict_lines(verdict)))
    if out is not None:
        files = {
            "comparison.csv": comp.summary(),
            "differences.csv": diffs,
            "verdict.csv": verdict,
            "replications.csv": comp.to_frame(),
            "summary.json": {
                "scenarios": [{"label": lab, "provenance": dict(r.provenance),
                               "summary": r.summary().to_dict(orient="index")}
                              for lab, r in zip(comp.labels, comp.results)],
                "baseline": comp.labels[comp.baseline_index(base)],
                "differences": diffs.to_dict(orient="records"),
                "verdict": verdict.to_dict(orient="records")},
            "distributions.png": plots.plot_distributions(comp.results, comp.labels),
            "cumulative_conversions.png": plots.plot_cumulative_conversions(comp.results, comp.labels),
        }
        if len(verdict) and verdict["pct_change"].notna().any():
            files["forest.png"] = plots.plot_forest(comp, base)
        if engine == "des":
            files["operations.csv"] = pd.concat(
                [r.operations_frame().assign(scenario=lab) for lab, r in zip(comp.labels, comp.results)],
                ignore_index=True)
            files["publication.png"] = plots.plot_publication(comp.results, comp.labels)
        written = _write_outputs(out, files, "compare")
        _echo(f"\nwrote {', '.join(f.name for f in written)} to {out}")


@main.command()
@click.argument("scenario", type=click.Path())
@click.option("--candidates", "candidates", type=click.Path(), required=True,
              help="Candidate pool (CSV or .xlsx), one row per creator.")
@click.option("--objective", type=click.Choice(["conversions", "reach", "interactions", "profit"]),
              default=None, help="What to maximise (default: the scenario's [optimize] objective).")
@click.option("--time-limit", type=_Finite(0.0, low_open=True), default=None, help="Seconds, > 0 (default: the scenario's, 60).")
@click.option("--gap", type=_Finite(0.0, below=1.0), default=None,
              help="Relative gap at which a plan counts as optimal, from 0 to below 1 (default 0.0001).")
@click.option("--backend", type=click.Choice(["highs", "pulp"]), default="highs", show_default=True)
@click.option("--solver", default=None, help="With --backend pulp: any solver PuLP knows (CBC by default).")
@click.option("--export", type=click.Path(dir_okay=False), default=None,
              help="Also write the model as .lp or .mps.")
@click.option("--simulate", "sim_runs", type=click.IntRange(min=0, max=MAX_RUNS), default=2000, show_default=True,
              help="Monte Carlo replications to check the plan's expected value (0: skip; else >= 2).")
@click.option("--start", "start", type=click.Path(), default=None,
              help="A plan to start the search from (kol_id, week, posts; e.g. an earlier plan.csv); "
                   "used only if it meets every rule of this request.")
@click.option("--no-baselines", is_flag=True,
              help="Do not build and simulate the greedy, tier-template and random plans beside the optimum.")
@click.option("--extra-budget", type=_Finite(0.0), default=None,
              help="With --start: the plan is bought; the best additions for this many RMB more (its notes kept).")
@click.option("--drop", multiple=True, metavar="KOL_ID",
              help="With --start: these creators drop out; the rest of the plan is kept and the scenario's "
                   "budget re-spent on replacements. Repeatable.")
@click.option("--target", default=None, metavar="METRIC=VALUE",
              help="The smallest budget whose optimal plan reaches VALUE expected METRIC (conversions, reach, "
                   "interactions or profit), e.g. conversions=500; the scenario's budget is not used.")
@click.option("--target-probability", "target_probability", type=_Finite(0.0, low_open=True, below=1.0),
              default=None, metavar="P",
              help="With --target: the least spend whose plan reaches the target with probability at least P "
                   "(0 < P < 1), over --scenarios Monte Carlo scenarios, checked out of sample.")
@click.option("--risk", default=None, metavar="MEASURE:ALPHA[>=FLOOR]",
              help="A risk-aware plan: cvar:0.1 maximises the mean of the worst 10 % of outcomes, quantile:0.1 "
                   "the P10; with >=FLOOR (cvar:0.1>=400) the expected value is maximised with the measure at "
                   "least FLOOR.")
@click.option("--scenarios", "n_scenarios", type=click.IntRange(min=10, max=100_000), default=200,
              show_default=True, help="With --risk, --target-probability or --tradeoff: the in-sample scenarios S.")
@click.option("--tradeoff", type=click.IntRange(min=2, max=50), default=None, metavar="N",
              help="N plans from the best mean to the best tail (--risk's measure and share, default cvar:0.1): "
                   "tradeoff.csv, plans.csv and tradeoff.png.")
@_profile
@_columns
@_calibration
@click.option("--out", type=click.Path(), default=None,
              help="Directory for plan.csv, summary.json and excluded.csv: a new or empty one, or an earlier "
                   "run's, which is replaced as a whole.")
def optimize(scenario, candidates, objective, time_limit, gap, backend, solver, export, sim_runs, start, target,
             extra_budget, drop, no_baselines, target_probability, risk, n_scenarios, tradeoff, profile, columns_map,
             calibration, out):
    """Choose creators and their weekly notes from a candidate pool by integer programming."""
    sc = kolsim.load_scenario(scenario, calibration=calibration)
    _notices(sc)
    pool = _load_candidates(candidates, sc, profile, columns_map)
    _notices(pool)
    if (extra_budget is not None or drop) and target is not None:
        raise InputError("cannot be combined with --extra-budget or --drop", where="--target")
    if target_probability is not None and target is None:
        raise InputError("needs --target METRIC=VALUE, the outcome to reach", where="--target-probability")
    if risk is not None or target_probability is not None or tradeoff is not None:
        _optimize_risk(sc, pool, risk, target, target_probability, n_scenarios, tradeoff, objective, time_limit,
                       gap, dict(backend=None if backend == "highs" else backend, solver=solver, export=export,
                                 start=start, extra_budget=extra_budget, drop=drop or None), sim_runs, out)
        return
    if target is not None:
        _optimize_target(sc, pool, target, objective, time_limit, gap, backend, export, start, sim_runs, out)
        return
    if extra_budget is not None or drop:
        _replan(sc, pool, start, extra_budget, drop, objective, time_limit, gap, backend, solver, export, sim_runs, out)
        return
    if sim_runs == 1:
        raise InputError("must be 0 (no check) or at least 2 (got 1)", where="--simulate")
    if export is not None:
        if not str(export).lower().endswith((".lp", ".mps")):
            raise InputError("must end in .lp or .mps", where="--export")
        io.check_output_file(export)
    start_plan = io.load_start_plan(start) if start is not None else None
    if out is not None:
        io.check_output_dir(out)
    r = kolsim.optimize(sc, pool, objective=objective, time_limit=time_limit, gap=gap, backend=backend,
                        solver=solver, start=start_plan)
    base = None
    if sim_runs:
        r = kolsim.check_plan(r, runs=sim_runs)
        if r.has_plan and len(r.plan) and not no_baselines:
            base = kolsim.baselines(r, runs=sim_runs)
    summary = r.summary()
    for n in r.problem.notices:
        _echo(f"note: {n}", err=True)
    _echo(_optimize_report(sc, r))
    if base is not None:
        _echo(_baselines_report(base, r))
        summary["baselines"] = base.to_dict(orient="records")
    if export is not None:
        _write_file(export, r.model("mps" if str(export).lower().endswith(".mps") else "lp"))
    if out is not None:
        files = {"plan.csv": r.to_frame(), "summary.json": summary, "excluded.csv": r.problem.excluded}
        if base is not None:
            files["baselines.csv"] = base
        if len(r.plan):
            files["plan.png"] = plots.plot_plan(r.to_frame())
        written = _write_outputs(out, files, "optimize")
        _echo(f"wrote {', '.join(f.name for f in written)} to {out}")
    if not r.has_plan:
        raise click.exceptions.Exit(EXIT_INFEASIBLE)


def _parse_target(target, objective) -> tuple[str, float]:
    metric, eq, value = str(target).partition("=")
    metric = metric.strip()
    if metric not in ("conversions", "reach", "interactions", "profit") or not eq:
        raise InputError(f"must be METRIC=VALUE with METRIC one of conversions, reach, interactions, profit "
                         f"(got {target!r})", where="--target")
    try:
        goal = float(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise InputError(f"needs a number after {metric}= (got {value!r})", where="--target") from None
    if not (math.isfinite(goal) and goal > 0):
        raise InputError(f"needs a number above 0 after {metric}= (got {value!r})", where="--target")
    if objective is not None and objective != metric:
        raise InputError(f"is about {metric}, but --objective is {objective}; give one of them", where="--target")
    return metric, goal


def _optimize_target(sc, pool, target, objective, time_limit, gap, backend, export, start, sim_runs, out) -> None:
    metric, goal = _parse_target(target, objective)
    for flag, v in (("--backend", None if backend == "highs" else backend), ("--export", export), ("--start", start)):
        if v is not None:
            raise InputError("is not used with --target (the target is met by HiGHS re-solves at many budgets)",
                             where=flag)
    if sim_runs == 1:
        raise InputError("must be 0 (no check) or at least 2 (got 1)", where="--simulate")
    if out is not None:
        io.check_output_dir(out)
    with _Progress("solves", False) as bar:
        t = kolsim.min_budget(sc, pool, goal, objective=metric, time_limit=time_limit, progress=bar,
                              **({"gap": gap} if gap is not None else {}))
    _echo(f"{sc.name}: the smallest budget whose optimal plan reaches {goal:,.6g} expected {metric} "
          f"({len(t.solves)} solves)")
    if not t.reachable:
        _echo(f"not reachable: {t.explanation}")
        if out is not None:
            _write_outputs(out, {"solves.csv": t.solves, "summary.json": {
                "target": {"metric": metric, "value": goal, "reachable": False, "explanation": t.explanation}}},
                "optimize")
        raise click.exceptions.Exit(EXIT_INFEASIBLE)
    r = t.plan
    if sim_runs:
        r = kolsim.check_plan(r, runs=sim_runs)
    proof = (f"no plan spending ¥{t.proof_budget:,.2f} or less reaches it" +
             (f" (the proven bound there is {t.proof_bound:,.2f})" if t.proof_bound is not None else
              " (nothing fits that budget)" if t.proof_budget > 0 else "")) if t.proven else \
        "minimality not proven: at some budget the target lay within the solver's gap"
    _echo(f"budget: ¥{t.budget:,.2f}; {proof}")
    _echo(_optimize_report(r.scenario, r))
    if out is not None:
        summary = r.summary()
        summary["target"] = {"metric": metric, "value": goal, "budget": t.budget, "proof_budget": t.proof_budget,
                             "proof_bound": t.proof_bound, "proven": t.proven}
        files = {"plan.csv": r.to_frame(), "summary.json": summary, "excluded.csv": r.problem.excluded,
                 "solves.csv": t.solves}
        if len(r.plan):
            files["plan.png"] = plots.plot_plan(r.to_frame())
        written = _write_outputs(out, files, "optimize")
        _echo(f"wrote {', '.join(f.name for f in written)} to {out}")


def _optimize_risk(sc, pool, risk, target, probability, n_scenarios, tradeoff, objective, time_limit, gap, unused,
                   sim_runs, out) -> None:
    """--risk, --target-probability, --tradeoff: the risk-aware programs (docs/optimizer.md §21-22)."""
    from .optimize.risk import parse_risk

    flags = {"--backend": "backend", "--solver": "solver", "--export": "export", "--start": "start",
             "--extra-budget": "extra_budget", "--drop": "drop"}
    for flag, key in flags.items():
        if unused[key] is not None:
            raise InputError("is not used with --risk, --target-probability or --tradeoff (HiGHS solves the "
                             "scenario programs from the expected-value optimum)", where=flag)
    if target is not None and probability is None:
        raise InputError("with --risk or --tradeoff needs --target-probability P; alone it asks for the smallest "
                         "budget reaching the target in expectation", where="--target")
    if probability is not None and (risk is not None or tradeoff is not None):
        raise InputError("is its own question: give it without --risk and --tradeoff", where="--target-probability")
    if sim_runs == 1:
        raise InputError("must be 0 (no check) or at least 2 (got 1)", where="--simulate")
    spec = parse_risk(risk) if risk is not None else None
    if tradeoff is not None and spec is not None and spec.mode != "max":
        raise InputError("with --tradeoff gives the measure and share only (such as cvar:0.1): the curve sets "
                         "its own floors", where="--risk")
    metric, goal = _parse_target(target, objective) if target is not None else (objective, None)
    if out is not None:
        io.check_output_dir(out)
    if tradeoff is not None:
        with _Progress("plans", False) as bar:
            t = kolsim.risk_tradeoff(sc, pool, measure=spec.measure if spec else "cvar",
                                     alpha=spec.alpha if spec else 0.1, points=tradeoff, scenarios=n_scenarios,
                                     runs=sim_runs, objective=objective, time_limit=time_limit, gap=gap,
                                     progress=bar)
        _echo(_tradeoff_report(sc, t))
        if out is not None:
            files = {"tradeoff.csv": t.table, "plans.csv": t.plans,
                     "tradeoff.xlsx": _excel({"tradeoff": t.table, "plans": t.plans}),
                     "summary.json": {"tradeoff": {"measure": t.measure, "alpha": t.alpha,
                                                   "points": t.table.to_dict(orient="records")},
                                      "provenance": t.provenance},
                     "tradeoff.png": plots.plot_tradeoff(t)}
            written = _write_outputs(out, files, "tradeoff")
            _echo(f"wrote {', '.join(f.name for f in written)} to {out}")
        return
    r = kolsim.optimize_risk(sc, pool, spec, target=goal, probability=probability, scenarios=n_scenarios,
                             runs=sim_runs, objective=metric, time_limit=time_limit, gap=gap)
    _echo(_risk_report(sc, r))
    if out is not None:
        files = {"plan.csv": r.plan, "risk.csv": r.measures, "summary.json": r.summary(),
                 "excluded.csv": r.problem.excluded}
        if len(r.plan):
            files["plan.png"] = plots.plot_plan(r.plan)
        written = _write_outputs(out, files, "optimize")
        _echo(f"wrote {', '.join(f.name for f in written)} to {out}")
    if not r.has_plan:
        raise click.exceptions.Exit(EXIT_INFEASIBLE)


def _risk_report(sc, r) -> str:
    s = r.spec
    lines = [f"{sc.name}: {s.words()} over {r.scenarios:,} scenarios of {r.problem.objective}",
             f"status: {r.status}"]
    if not r.has_plan:
        lines.append(r.explanation)
        return "\n".join(lines)
    what = "spend" if s.mode == "probability" else "expected value" if s.mode == "floor" else s.measure
    obj = f"¥{-r.objective:,.0f}" if s.mode == "probability" else _fmt(r.objective)
    lines.append(f"{what}: {obj}; bound {('¥' + format(-r.bound, ',.0f')) if s.mode == 'probability' else _fmt(r.bound)}; "
                 f"gap {r.gap:.2%} (about the {r.scenarios:,} scenarios)" if r.gap is not None else f"{what}: {obj}")
    lines.append(f"spend ¥{r.spend:,.0f}; expected {_fmt(r.expected)} {r.problem.objective}; "
                 f"{r.plan['kol_id'].nunique()} creators, {int(r.plan['posts'].sum())} notes")
    share = f"{s.alpha:.0%}"
    lines.append(f"{'plan':<9} {'sample':<14} {'n':>7} {'mean':>10} {'P' + format(s.alpha * 100, 'g'):>10} "
                 f"{'CVaR ' + share:>10}" + (f" {'P(>=' + format(s.target or s.floor, ',.6g') + ')':>12}"
                                             if r.measures['probability'].notna().any() else ""))
    for _, m in r.measures.iterrows():
        line = (f"{m['plan']:<9} {m['sample']:<14} {int(m['n']):>7,} {_fmt(m['mean']):>10} {_fmt(m['quantile']):>10} "
                f"{_fmt(m['cvar']):>10}")
        if pd.notna(m["probability"]):
            line += f" {m['probability']:>12.1%}"
        lines.append(line)
    c = r.comparison.get(s.measure)
    if c and c["se"] is not None:
        d, se = c["difference"], c["se"]
        name = "CVaR" if s.measure == "cvar" else f"P{s.alpha * 100:g}"
        verdict = "better" if d - 2 * se > 0 else "worse" if d + 2 * se < 0 else "no different (within 2 SE)"
        lines.append(f"out of sample, the risk plan's {name} is {_fmt(d)} ± {_fmt(2 * se)} against the expected-value "
                     f"plan's: {verdict}; its mean {_fmt(r.comparison['mean']['difference'])}")
    return "\n".join(lines)


def _tradeoff_report(sc, t) -> str:
    name = "CVaR" if t.measure == "cvar" else f"P{t.alpha * 100:g}"
    lines = [f"{sc.name}: the mean against {name} at {t.alpha:.0%}, {len(t.table)} plans "
             f"(in sample / out of sample{' / simulated' if 'simulated_mean' in t.table else ''})"]
    for _, r in t.table.iterrows():
        if pd.isna(r.get("spend")):
            lines.append(f"{int(r['point']):>2} {r['kind']:<8} floor {_fmt(r['floor'])}: no plan ({r['status']})")
            continue
        cells = [f"{int(r['point']):>2} {r['kind']:<8} ¥{r['spend']:>11,.0f} {int(r['creators']):>3} creators"]
        for sample in ("in_sample", "out_of_sample", "simulated"):
            if f"{sample}_mean" in r and pd.notna(r[f"{sample}_mean"]):
                cells.append(f"{_fmt(r[f'{sample}_mean'])} / {_fmt(r[f'{sample}_{t.measure}'])}")
        lines.append("  ".join(cells) + f"  ({r['status']})")
    return "\n".join(lines)


def _replan(sc, pool, start, extra_budget, drop, objective, time_limit, gap, backend, solver, export, sim_runs, out):
    from .replan import drop_creators, extend_plan

    if start is None:
        raise InputError("needs --start PLAN.csv, the plan already bought", where="--extra-budget" if extra_budget
                         is not None else "--drop")
    if extra_budget is not None and drop:
        raise InputError("and --drop are separate questions: give one", where="--extra-budget")
    if export is not None:
        raise InputError("is not used with --extra-budget or --drop", where="--export")
    if sim_runs == 1:
        raise InputError("must be 0 (no check) or at least 2 (got 1)", where="--simulate")
    plan = io.load_start_plan(start)
    if out is not None:
        io.check_output_dir(out)
    solve = dict(objective=objective, time_limit=time_limit, gap=gap, backend=backend, solver=solver)
    rp = extend_plan(sc, pool, plan, extra_budget, **solve) if extra_budget is not None else \
        drop_creators(sc, pool, plan, list(drop), **solve)
    r = rp.result
    if sim_runs and r.has_plan and len(r.plan):
        r = kolsim.check_plan(r, runs=sim_runs)
    what = f"¥{extra_budget:,.0f} more on a bought plan" if extra_budget is not None else \
        f"{', '.join(drop)} dropped out"
    _echo(f"{sc.name}: re-plan, {what}: {rp.kept_notes} bought note(s) kept")
    _echo(_optimize_report(r.scenario, r))
    if r.has_plan:
        before = "–" if rp.before_value is None else _fmt(rp.before_value)
        _echo(f"against the plan as it was: {before} -> {_fmt(r.objective)} expected {r.problem.objective} "
              f"(gain {_fmt(rp.gain) if rp.gain is not None else '–'}); spend ¥{rp.before_spend:,.0f} -> "
              f"¥{r.spend:,.0f} ({'+' if rp.extra_cost >= 0 else '−'}¥{abs(rp.extra_cost):,.0f})")
        for _, c in rp.changes.iterrows():
            _echo(f"  {c['change']:<8} {c['kol_id']} week {c['week']}: {c['posts_before']} -> {c['posts_after']} note(s)")
    if out is not None:
        summary = r.summary()
        summary["replan"] = {"kind": "extra_budget" if extra_budget is not None else "drop",
                             "extra_budget": extra_budget, "drop": list(drop), "kept_notes": rp.kept_notes,
                             "before_value": rp.before_value, "before_spend": rp.before_spend, "gain": rp.gain,
                             "extra_cost": rp.extra_cost}
        files = {"plan.csv": r.to_frame(), "changes.csv": rp.changes, "summary.json": summary,
                 "excluded.csv": r.problem.excluded}
        if len(r.plan):
            files["plan.png"] = plots.plot_plan(r.to_frame())
        written = _write_outputs(out, files, "optimize")
        _echo(f"wrote {', '.join(f.name for f in written)} to {out}")
    if not r.has_plan:
        raise click.exceptions.Exit(EXIT_INFEASIBLE)


def _baselines_report(base: pd.DataFrame, r) -> str:
    lines = [f"against simpler plans (simulated on the same {r.simulated['runs']:,} replications; the optimum's "
             f"advantage, 95% interval, P(the optimum does better)):"]
    for _, b in base.iterrows():
        if b["fits"] != "fits":
            lines.append(f"  {b['baseline']}: breaks a rule ({b['fits']}); expected {_fmt(b['expected'])}")
            continue
        pct = "" if pd.isna(b["advantage_pct"]) else \
            f" ({b['advantage_pct']:+.1%} [{b['advantage_pct_low']:+.1%}, {b['advantage_pct_high']:+.1%}])"
        lines.append(f"  {b['baseline']}: {_fmt(b['simulated_mean'])} simulated, ¥{b['spend']:,.0f}, "
                     f"{int(b['creators'])} creators; the optimum {_fmt(b['advantage'])} more{pct}, "
                     f"P(better) {b['p_better']:.0%}")
    return "\n".join(lines)


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
                     f"(difference {sm['relative_difference']:+.2%}); word of mouth and buyers' notes add "
                     f"{_fmt(sm['word_of_mouth_conversions'])} conversions, repeat orders "
                     f"{_fmt(sm['repeat_orders'])}")
    return "\n".join(lines)


def _excel(sheets: dict[str, pd.DataFrame]) -> bytes:
    import io as _io

    buf = _io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


def _sweep_plots(r) -> dict:
    from . import plots as pl

    files = {}
    for m in r.metrics[:1] + tuple(m for m in ("profit", "cpa") if m in r.metrics and m != r.metrics[0]):
        if r.method == "grid" and len(r.keys) <= 2:
            files[f"sweep_{m}.png"] = pl.plot_sweep(r, m)
        elif r.method == "oat":
            files[f"tornado_{m}.png"] = pl.plot_tornado(r, m)
        elif r.method == "sobol" and r.indices is not None and m in set(r.indices["metric"]):
            files[f"sobol_{m}.png"] = pl.plot_sobol(r, m)
        elif r.method == "morris" and r.indices is not None and m in set(r.indices["metric"]):
            files[f"morris_{m}.png"] = pl.plot_morris(r, m)
    return files


def _decision_report(sc, r, out) -> None:
    p, d = r.provenance, r.decisions
    _echo(f"{sc.name}: {r.method} sweep of {', '.join(r.keys)}, re-optimised at {p['points']:,} points "
          f"(objective {p['objective']}; the base plan: {_fmt(p['base_objective'])}, {p['base_status']})")
    rows = [tuple(r.keys) + ("status", "optimum", "creators", "in", "out", "switched", "base plan", "regret")]
    for _, t in d.head(60).iterrows():
        regret = "–" if pd.isna(t["regret"]) else f"{_fmt(t['regret'])} ({t['regret_share']:.1%})"
        rows.append(tuple(_fmt(t[k]) for k in r.keys) + (
            t["status"], _fmt(t["objective"]) if not pd.isna(t["objective"]) else "–",
            _fmt(t["creators"]) if not pd.isna(t["creators"]) else "–",
            _fmt(t["added"]) if not pd.isna(t["added"]) else "–", _fmt(t["removed"]) if not pd.isna(t["removed"]) else "–",
            "yes" if t["changed"] else "", _fmt(t["base_plan_value"]) if not pd.isna(t["base_plan_value"]) else
            "does not fit", regret))
    _echo("\n".join(_aligned(rows)))
    if len(r.switches):
        _echo(f"\n== The portfolio switches ({len(r.switches)})")
        for _, sw in r.switches.iterrows():
            moved = ", ".join(f"{k} {_fmt(sw[f'{k}_from'])} -> {_fmt(sw[f'{k}_to'])}" for k in r.keys
                              if sw[f"{k}_from"] != sw[f"{k}_to"])
            _echo(f"  {moved}: in {sw['creators_in'] or '–'}; out {sw['creators_out'] or '–'}")
    else:
        _echo("\nThe chosen portfolio is the same at every point.")
    if out is not None:
        files = {"decisions.csv": d, "switches.csv": r.switches, "base_plan.csv": r.base_plan, "design.csv": r.design,
                 "sweep.xlsx": _excel({"decisions": d, "switches": r.switches, "base_plan": r.base_plan}),
                 "summary.json": {"provenance": dict(p), "base": r.base, "notices": list(sc.notices)}}
        if r.method == "oat" or len(r.keys) == 1:
            files["switches.png"] = plots.plot_switches(r)
        written = _write_outputs(out, files, "sweep")
        _echo(f"\nwrote {', '.join(f.name for f in written)} to {out}")


@main.command()
@click.argument("scenario", type=click.Path())
@click.option("--vary", "vary", multiple=True, required=True, metavar="KEY=LO:HI:N",
              help="A key and its values: KEY=LO:HI:N (N points), KEY=LO:HI:N:log, KEY=a,b,c, or for "
                   "sobol and morris KEY=LO:HI[:log]. Repeat for several keys.")
@click.option("--method", type=click.Choice(["grid", "oat", "sobol", "morris"]), default="grid", show_default=True,
              help="grid: every combination; oat: one key at a time (tornado); sobol, morris: SALib's "
                   "global sensitivity designs over the ranges.")
@click.option("--metric", "metrics", multiple=True,
              help="A row of the summary to report (repeatable; default: conversions, reads, unique_reach, "
                   "interactions, spend, cpa, and revenue, profit, roi when priced).")
@click.option("--samples", type=click.IntRange(min=2, max=1_000_000), default=None,
              help="sobol: base samples, a power of 2 (default 64); morris: trajectories (default 10).")
@_runs
@_seed
@click.option("--workers", type=click.IntRange(min=1, max=256), default=1, show_default=True,
              help="Worker processes; results do not depend on it.")
@_scheduler
@_engine
@click.option("--optimize", "reoptimize", is_flag=True,
              help="Decision sensitivity: re-optimise the [optimize] request at each point (with --candidates) "
                   "and report switch points, plan distance and the regret of keeping the base plan.")
@click.option("--candidates", type=click.Path(), default=None, help="With --optimize: the candidate pool.")
@click.option("--objective", type=click.Choice(["conversions", "reach", "interactions", "profit"]), default=None,
              help="With --optimize: the objective (default: the scenario's).")
@click.option("--time-limit", type=_Finite(0.0, low_open=True), default=None,
              help="With --optimize: seconds per re-solve (default: the scenario's).")
@click.option("--gap", type=_Finite(0.0, below=1.0), default=None, help="With --optimize: the relative gap.")
@_profile
@_columns
@_quiet
@_out
def sweep(scenario, vary, method, metrics, samples, runs, seed, workers, scheduler, engine, reoptimize, candidates,
          objective, time_limit, gap, profile, columns_map, quiet, out):
    """Simulate SCENARIO at many values of its keys, on common random numbers (or, with
    --optimize, re-optimise its plan at each)."""
    sc = kolsim.load_scenario(scenario)
    _scenario_notices(sc, engine)
    _one_backend(workers, scheduler)
    if reoptimize != (candidates is not None):
        raise InputError("--optimize and --candidates go together (the pool to re-optimise over)",
                         where="--optimize" if candidates is not None else "--candidates")
    if not reoptimize:
        for flag, v in (("--objective", objective), ("--time-limit", time_limit), ("--gap", gap)):
            if v is not None:
                raise InputError("is for --optimize (re-solves at each point)", where=flag)
    if candidates is None and (profile is not None or columns_map is not None):
        raise InputError("is for --candidates (the export to read)", where="--profile" if profile else "--columns")
    pool = _load_candidates(candidates, sc, profile, columns_map) if candidates is not None else None
    if pool is not None:
        _notices(pool)
    if out is not None:
        io.check_output_dir(out)
    with _Progress("points", quiet) as bar:
        r = kolsim.sweep(sc, list(vary), method=method, metrics=list(metrics) or None, runs=runs, samples=samples,
                         rng=seed, engine=engine, workers=workers, scheduler=scheduler, progress=bar,
                         candidates=pool, objective=objective, time_limit=time_limit, gap=gap)
    if r.decisions is not None:
        _decision_report(sc, r, out)
        return
    p = r.provenance
    _echo(f"{sc.name}: {method} sweep of {', '.join(r.keys)}: {p['points']:,} points × {p['runs']:,} "
          f"replications ({_ENGINE_NAMES[engine]}), seed {p['seed']}, common random numbers")
    main_metric = r.metrics[0]
    rows = [tuple(r.keys) + ("mean", "95% interval", "P10", "P90")]
    for _, t in r.metric(main_metric).head(40).iterrows():
        rows.append(tuple(_fmt(t[k]) for k in r.keys) + (_fmt(t["mean"]), f"{_fmt(t['ci_low'])} – {_fmt(t['ci_high'])}",
                                                         _fmt(t["p10"]), _fmt(t["p90"])))
    _echo(f"\n== {main_metric} by point" + (" (first 40)" if len(r.design) > 40 else ""))
    _echo("\n".join(_aligned(rows)))
    if r.indices is not None:
        ind = r.indices[r.indices["metric"] == main_metric]
        if r.method == "sobol":
            rows = [("key", "S1", "± (95%)", "ST", "± (95%)")]
            rows += [(t["factor"], f"{t['S1']:.3f}", f"{t['S1_conf']:.3f}", f"{t['ST']:.3f}", f"{t['ST_conf']:.3f}")
                     for _, t in ind.iterrows()]
        else:
            rows = [("key", "mu*", "± (95%)", "sigma")]
            rows += [(t["factor"], _fmt(t["mu_star"]), _fmt(t["mu_star_conf"]), _fmt(t["sigma"]))
                     for _, t in ind.iterrows()]
        _echo(f"\n== {r.method} indices of {main_metric}")
        _echo("\n".join(_aligned(rows)))
        if len(ind):
            noise = float(ind["noise_share"].iloc[0])
            if not math.isfinite(noise):
                _echo(f"{main_metric} does not change over these ranges: the keys do not move it (no index "
                      "means anything)")
            else:
                _echo(f"Monte Carlo noise is {noise:.1%} of the variance across points"
                      + (" (more --runs would sharpen the indices)" if noise > 0.05 else ""))
    if out is not None:
        sheets = {"sweep": r.to_frame(), "design": r.design}
        if r.indices is not None:
            sheets["indices"] = r.indices
        files = {"sweep.csv": r.to_frame(), "design.csv": r.design}
        if r.indices is not None:
            files["indices.csv"] = r.indices
        files["sweep.xlsx"] = _excel(sheets)
        files["summary.json"] = {"provenance": dict(p), "base": r.base, "notices": list(sc.notices),
                                 "indices": r.indices.to_dict(orient="records") if r.indices is not None else None}
        files.update(_sweep_plots(r))
        written = _write_outputs(out, files, "sweep")
        _echo(f"\nwrote {', '.join(f.name for f in written)} to {out}")


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@click.option("--title", default="kolsim report", show_default=True, help="The page's title.")
def report(results, out, title):
    """One self-contained HTML page for RESULT folders of simulate, compare, optimize and sweep."""
    from . import report as rp

    if not str(out).lower().endswith((".html", ".htm")):
        raise InputError("must end in .html or .htm", where="--out")
    io.check_output_file(out)
    runs = [kolsim.load_results(r) for r in results]
    for run in runs:
        if run.kind not in ("simulate", "compare", "optimize", "sweep"):
            raise InputError(f"is a {run.kind!r} folder; the report takes the output folders of simulate, compare, "
                             "optimize and sweep", file=run.path)
    try:
        page = rp.render(runs, title=title)
    except (KeyError, AttributeError, TypeError, ValueError, IndexError) as e:
        bad = next((r.path for r in runs if not _renders(rp, r)), results[0])
        raise InputError(f"is damaged or not as kolsim wrote it; its tables or summary.json lack what the report "
                         f"reads ({type(e).__name__}: {e})", file=str(bad)) from None
    _write_file(out, page)
    _echo(f"wrote {out}: {len(runs)} run(s), {sum(len(r.images) for r in runs)} plot(s) embedded")


@main.command()
@click.argument("scenario", type=click.Path())
@click.option("--candidates", type=click.Path(), required=True, help="Candidate pool (CSV or .xlsx).")
@click.option("--budgets", required=True, metavar="LO:HI:N",
              help="Budgets in RMB: LO:HI:N (N budgets from LO to HI) or a list a,b,c; increasing.")
@click.option("--runs", type=click.IntRange(min=0, max=MAX_RUNS), default=2000, show_default=True,
              help="Replications simulating each plan, on common random numbers (0: none).")
@_seed
@click.option("--objective", type=click.Choice(["conversions", "reach", "interactions", "profit"]), default=None)
@click.option("--time-limit", type=_Finite(0.0, low_open=True), default=None, help="Seconds per solve.")
@click.option("--gap", type=_Finite(0.0, below=1.0), default=None)
@_profile
@_columns
@_quiet
@_out
def frontier(scenario, candidates, budgets, runs, seed, objective, time_limit, gap, profile, columns_map, quiet, out):
    """The optimal plan at each budget: what more or less money buys."""
    from .frontier import parse_budgets

    sc = kolsim.load_scenario(scenario)
    _notices(sc)
    pool = _load_candidates(candidates, sc, profile, columns_map)
    _notices(pool)
    if runs == 1:
        raise InputError("must be 0 (no simulation) or at least 2 (got 1)", where="--runs")
    values = parse_budgets(budgets)
    if out is not None:
        io.check_output_dir(out)
    with _Progress("budgets", quiet) as bar:
        f = kolsim.frontier(sc, pool, values, runs=runs, rng=seed, objective=objective, time_limit=time_limit,
                            gap=gap, progress=bar)
    t = f.table()
    _echo(f"{sc.name}: the optimal plan at {len(values)} budgets (objective {f.objective}), each started from the "
          f"plan below it" + (f"; plans simulated {runs:,} times on common random numbers" if runs else ""))
    rows = [("budget", "status", "gap", "expected", "simulated (P10–P90)", "spend", "creators", "per ¥1,000")]
    for _, r in t.iterrows():
        sim = "–" if pd.isna(r["simulated_mean"]) else \
            f"{_fmt(r['simulated_mean'])} ({_fmt(r['simulated_p10'])}–{_fmt(r['simulated_p90'])})"
        rows.append((f"¥{r['budget']:,.0f}" + (" (knee)" if r["knee"] else ""), r["status"],
                     "–" if pd.isna(r["gap"]) else f"{r['gap']:.3%}",
                     "–" if pd.isna(r["objective"]) else _fmt(r["objective"]), sim,
                     "–" if pd.isna(r["spend"]) else f"¥{r['spend']:,.0f}",
                     "–" if pd.isna(r["creators"]) else str(int(r["creators"])),
                     "–" if pd.isna(r["marginal_per_1000"]) else _fmt(r["marginal_per_1000"])))
    _echo("\n".join(_aligned(rows)))
    if out is not None:
        plans = pd.concat([r.to_frame().assign(budget=b) for b, r in zip(f.budgets, f.plans)], ignore_index=True)
        files = {"frontier.csv": t, "plans.csv": plans,
                 "frontier.xlsx": _excel({"frontier": t, "plans": plans}),
                 "summary.json": {"provenance": f.provenance, "knee": f.budgets[f.knee] if f.knee is not None else None,
                                  "frontier": t.to_dict(orient="records")}}
        if t["objective"].notna().sum() >= 2:
            files["frontier.png"] = plots.plot_frontier(f)
        written = _write_outputs(out, files, "frontier")
        _echo(f"wrote {', '.join(p.name for p in written)} to {out}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
def validate(files):
    """Check scenario files (.toml) and candidate pools (.csv, .xlsx): every file, every bad cell."""
    failed = 0
    for f in files:
        try:
            if str(f).lower().endswith((".csv", ".xlsx", ".xlsm", ".xls")):
                pool = kolsim.load_pool(f)
                _notices(pool)
                _echo(f"{f}: ok, a pool of {len(pool):,} creators")
            else:
                sc = kolsim.load_scenario(f)
                _scenario_notices(sc)
                n_waves = len(sc.waves)
                planned = len(sc.plan.items) if sc.plan else 0
                _echo(f"{f}: ok, {sc.name!r}: {n_waves} wave(s), {planned} plan entries")
        except InputError as e:
            failed += 1
            for line in e.lines():
                _echo(f"kolsim: error: {printable(line, None)}", err=True)
    if failed:
        if len(files) > 1:
            _echo(f"kolsim: {failed} of {len(files)} files have problems", err=True)
        raise click.exceptions.Exit(EXIT_INPUT)


@main.command()
@click.argument("past", type=click.Path())
@click.option("--pool", "pool_file", type=click.Path(), default=None,
              help="The candidate pool the creators come from (followers, fake shares, engagement, own numbers).")
@click.option("--scenario", type=click.Path(), default=None,
              help="The scenario the campaign ran under: the defaults compared with, the in-market people Bass p "
                   "needs, the spreads that widen CVR's interval (default: kolsim's defaults).")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The calibration overlay to write (TOML), for simulate/optimize --calibration.")
@click.option("--report", "report_dir", type=click.Path(), default=None,
              help="Directory for the fit report: report.md, calibration.csv and plots.")
def calibrate(past, pool_file, scenario, out, report_dir):
    """Fit the model's parameters to PAST, a past campaign's per-note export (CSV or .xlsx)."""
    io.check_output_file(out)
    if report_dir is not None:
        io.check_output_dir(report_dir)
    sc = kolsim.load_scenario(scenario) if scenario is not None else None
    if sc is not None:
        _notices(sc)
    pl = kolsim.load_pool(pool_file, tiers=sc.tiers if sc is not None else None) if pool_file is not None else None
    if pl is not None:
        _notices(pl)
    data = _every_problem(lambda: kolsim.read_past(past))
    _notices(data)
    result = kolsim.calibrate(data, sc, pl)
    text = _calibration_report(result)
    _echo(text)
    files = None
    if report_dir is not None:
        files = {"report.md": result.report(), "calibration.csv": result.table,
                 "intervals.png": plots.plot_calibration_intervals(result)}
        if "reads_by_age" in result.curves:
            files["reads_by_age.png"] = plots.plot_calibration_reads(result)
        if "orders_by_day" in result.curves:
            files["orders_by_day.png"] = plots.plot_calibration_orders(result)
    _write_file(out, result.overlay_toml())
    _echo(f"wrote the overlay {out} ({int((result.table['key'] != '').sum())} values)")
    if files is not None:
        written = _write_outputs(report_dir, files, "calibrate")
        _echo(f"wrote {', '.join(f.name for f in written)} to {report_dir}")


def _calibration_report(result) -> str:
    """The fit as a text table, then what could not be fitted."""
    p = result.provenance
    rows = [("parameter", "key", "default", "estimate", "95% interval", "n", "verdict")]
    for _, r in result.table.iterrows():
        rows.append((r["parameter"], r["key"] or "–", _fmt(r["default"]), _fmt(r["estimate"]),
                     f"{_fmt(r['low'])} – {_fmt(r['high'])}", f"{int(r['n']):,}", r["verdict"]))
    lines = [f"{p.get('source') or 'past campaign'}: {p['notes']:,} notes by {p['creators']:,} creators, "
             f"{p['period']}; against {p.get('scenario') or 'kolsim defaults'}"]
    lines += _aligned(rows)
    if result.not_fitted:
        lines.append("\nNot fitted:")
        lines += [f"  {k}: {why}" for k, why in result.not_fitted]
    return "\n".join(lines)


@main.group()
def pool():
    """Candidate pools: generate synthetic ones, import marketplace exports, vet real ones."""


@pool.command("generate")
@click.option("--size", type=click.IntRange(min=1, max=1_000_000), required=True,
              help="Number of creators.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="CSV file to write.")
def pool_generate(size, seed, out):
    """Write a synthetic candidate pool calibrated to the defaults."""
    io.check_output_file(out)
    p = kolsim.generate_pool(size, np.random.default_rng(seed))
    _write_file(out, p.frame)
    counts = p.frame["tier"].value_counts().reindex(TIERS, fill_value=0)
    _echo(f"wrote {size:,} creators to {out} (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")


@pool.command("import")
@click.argument("export", type=click.Path())
@_profile
@_columns
@click.option("--price", type=click.Choice(["image", "video"]), default=None,
              help="Which quoted price becomes cost_per_post when the export gives both (default: the "
                   "profile's or mapping's, image).")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The pool CSV to write.")
def pool_import(export, profile, columns_map, price, out):
    """Read a marketplace export (CSV or .xlsx, Chinese or English headers) into a pool file."""
    io.check_output_file(out)
    p, report = _every_problem(lambda: kolsim.load_export(export, profile=profile, columns=columns_map, price=price))
    for line in report.lines():
        _echo(line)
    _notices(p)
    _write_file(out, p.frame)
    counts = p.frame["tier"].value_counts().reindex(TIERS, fill_value=0)
    _echo(f"wrote {len(p):,} creators to {out} (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")")


@pool.command("vet")
@click.argument("pool_file", type=click.Path())
@click.option("--scenario", type=click.Path(), default=None,
              help="Take tier prices and vetting thresholds from this scenario.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="CSV file listing the excluded creators and why.")
def pool_vet(pool_file, scenario, out):
    """List the creators that vetting excludes, each with its reasons."""
    sc = kolsim.load_scenario(scenario) if scenario is not None else None
    p = kolsim.load_pool(pool_file, tiers=sc.tiers if sc is not None else None)
    _notices(p)
    if out is not None:
        io.check_output_file(out)
    report = kolsim.vet(p, sc.tiers if sc is not None else None, sc.vetting if sc is not None else None)
    _echo(f"{pool_file}: {len(report.kept):,} kept, {len(report.excluded):,} excluded")
    for _, r in report.excluded.iterrows():
        _echo(f"  {r['kol_id']} ({r['tier']}): {r['reasons']}")
    if out is not None:
        _write_file(out, report.to_frame())


if __name__ == "__main__":  # pragma: no cover
    main()
