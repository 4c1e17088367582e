"""Regression tests for what adversarial use found (issue 14): each failure, and the behaviour
that replaces it.

Exit codes as documented: 2 bad input (and a file that cannot be written), 3 infeasible or no
solution, 1 internal error (a bug), 130 Ctrl-C, 143 SIGTERM.  Interrupts are raised at a chosen
point of the run from inside it (a patched step sends the signal), so no test waits on the clock.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kolsim
import kolsim.io
from kolsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "corpus"
VALID = (CORPUS / "valid.toml").read_text(encoding="utf-8")
POOL = (CORPUS / "pool_valid.csv").read_text(encoding="utf-8")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_error(result, *pieces: str, code: int = 2) -> str:
    """Exit ``code`` and one ``kolsim: error:`` line holding every piece, nothing on stdout's report side."""
    err = result.stderr
    assert result.exit_code == code, (result.exit_code, err, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kolsim: error: "), err
    for p in pieces:
        assert p in err, (p, err)
    return err


def scenario_file(tmp_path: Path, text: str, name: str = "s.toml") -> str:
    (tmp_path / "pool_valid.csv").write_text(POOL, encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- #
# Banned categories however they are typed
# --------------------------------------------------------------------------- #
SPELLINGS = [" alcohol ", "alcohol\u00a0", "ＡＬＣＯＨＯＬ", "ｔｏｂａｃｃｏ", "Tobacco", "alco\u200bhol", "\u3000tobacco"]


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_banned_category_is_banned_however_it_is_typed(name, tmp_path):
    # the campaign's category
    text = VALID.replace('category = "beauty"', f'category = "{name}"')
    one_error(run("validate", scenario_file(tmp_path, text)), "[campaign] category:", "may not be promoted")
    # a wave's category
    text = VALID.replace('deal = "paid"', f'deal = "paid"\ncategory = "{name}"')
    one_error(run("validate", scenario_file(tmp_path, text)), "[waves #1] category:", "may not be promoted")
    # a share of spend asked for it
    text = VALID + f'\n[optimize]\nweeks = 2\n[optimize.category_share."{name}"]\nmin = 0.1\n'
    one_error(run("validate", scenario_file(tmp_path, text)), "may not be promoted by creators (law")
    # a pool's creator in it: vetted out of the optimizer, refused in a plan
    pool = kolsim.Pool.from_frame(pd.DataFrame([
        {"kol_id": "x", "tier": "micro", "category": name, "followers": 30_000, "cost_per_post": 3000},
        {"kol_id": "y", "tier": "micro", "category": "beauty", "followers": 30_000, "cost_per_post": 3000}]))
    assert pool.frame["category"].iloc[0] in kolsim.rules.BANNED_CATEGORIES
    report = kolsim.vet(pool)
    assert list(report.excluded["kol_id"]) == ["x"] and report.excluded["codes"].iloc[0] == "banned_category"
    with pytest.raises(kolsim.ScenarioError, match="banned categories"):
        kolsim.parse_scenario({"campaign": {"name": "t", "category": "beauty", "budget": 1e4, "horizon_days": 14},
                               "audience": {"default_size": 1e6}, "plan": {"posts": [{"kol_id": "x", "week": 1}]}},
                              pool=pool)


def test_names_are_compared_in_one_form_everywhere(tmp_path):
    """Segments, the scenario's own banned categories and tiers meet the pool's in one form."""
    pool = kolsim.Pool.from_frame(pd.DataFrame([
        {"kol_id": "a", "tier": " MICRO", "category": "Ｂｅａｕｔｙ", "followers": 30_000, "cost_per_post": 3000,
         "segment": "Skin Care\u00a0"},
        {"kol_id": "b", "tier": "micro", "category": "food ", "followers": 30_000, "cost_per_post": 3000}]))
    assert list(pool.frame["tier"]) == ["micro", "micro"]
    assert list(pool.frame["category"]) == ["beauty", "food"] and pool.frame["segment"].iloc[0] == "skin care"
    s = kolsim.parse_scenario({
        "campaign": {"name": "t", "category": " Beauty", "budget": 1e5, "horizon_days": 28},
        "audience": {"segments": {"SKIN CARE": 1e6}, "default_size": 1e6},
        "vetting": {"enabled": False},
        "optimize": {"weeks": 2, "banned_categories": ["ＦＯＯＤ"]}})
    assert s.campaign.category == "beauty" and s.segments["skin care"] == 1e6
    r = kolsim.optimize(s, pool, marginal=False)
    assert set(r.plan["kol_id"]) == {"a"}
    assert dict(zip(r.problem.excluded["kol_id"], r.problem.excluded["codes"])) == {"b": "brand_banned"}


# --------------------------------------------------------------------------- #
# Operating-system errors while writing: exit 2 with the path and the reason
# --------------------------------------------------------------------------- #
def _disk_full(monkeypatch, after: int = 1):
    """Every file write after the first ``after`` raises ENOSPC, as a full disk does."""
    real = kolsim.io._write_new
    calls = []

    def write(path, data):
        calls.append(path)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data)
    monkeypatch.setattr(kolsim.io, "_write_new", write)
    return calls


COMMANDS = {
    "simulate": lambda out: ["simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", out],
    "compare": lambda out: ["compare", str(CORPUS / "valid.toml"), str(CORPUS / "valid.toml"), "--runs", "2",
                            "--out", out],
    "optimize": lambda out: ["optimize", "scenarios/optimize_skincare.toml", "--candidates",
                             "scenarios/pools/synthetic_300.csv", "--simulate", "0", "--out", out],
    "optimize --export": lambda out: ["optimize", "scenarios/optimize_skincare.toml", "--candidates",
                                      "scenarios/pools/synthetic_300.csv", "--simulate", "0",
                                      "--export", out + ".lp"],
    "pool generate": lambda out: ["pool", "generate", "--size", "20", "--out", out + ".csv"],
    "pool vet": lambda out: ["pool", "vet", str(CORPUS / "pool_valid.csv"), "--out", out + ".csv"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_full_disk_is_bad_input_with_the_path_and_the_reason(command, tmp_path, monkeypatch):
    out = str(tmp_path / "out")
    args = COMMANDS[command](out)
    assert run(*args).exit_code == 0  # an earlier complete run
    target = Path(args[-1])
    before = {p.name: p.read_bytes() for p in target.iterdir()} if target.is_dir() else target.read_bytes()
    _disk_full(monkeypatch, after=0)
    err = one_error(run(*args), str(target), "No space left on device")
    assert "internal error" not in err
    after = {p.name: p.read_bytes() for p in target.iterdir()} if target.is_dir() else target.read_bytes()
    assert after == before  # the earlier results are intact
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # nothing left behind


def test_a_permission_error_mid_folder_is_bad_input_too(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    monkeypatch.setattr(kolsim.io.os, "rename", refuse)
    out = tmp_path / "out"
    one_error(run(*COMMANDS["simulate"](str(out))), str(out), "Permission denied")
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- #
# Size: runs and notes beyond what fits are refused up front
# --------------------------------------------------------------------------- #
def test_runs_beyond_the_maximum_are_refused(tmp_path):
    text = VALID.replace("runs = 100", "runs = 10_000_000")
    one_error(run("validate", scenario_file(tmp_path, text)), "[simulation] runs:", "<= 1_000_000",
              "(got 10000000)")
    one_error(run("simulate", str(CORPUS / "valid.toml"), "--runs", "10000000"), "--runs")


def test_a_run_that_would_not_fit_in_memory_is_refused_with_the_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr(kolsim.engines._common, "available_memory", lambda: 50e6)
    for engine in ("montecarlo", "des"):
        out = tmp_path / engine
        err = one_error(run("simulate", str(CORPUS / "valid.toml"), "--runs", "100000", "--engine", engine,
                            "--out", str(out)), "--runs:", "needs about", "GB of memory", "is available")
        assert "0.1 GB is available" in err or "0.0 GB is available" in err
        assert not out.exists()
    with pytest.raises(kolsim.InputError, match="needs about"):
        kolsim.simulate(kolsim.load_scenario(str(CORPUS / "valid.toml")), runs=100_000)


def test_a_scenario_with_half_a_billion_notes_is_refused_at_once(tmp_path):
    """validate died after 20 s compiling 100,000 creators per tier x 1,000 notes each."""
    text = VALID.replace("tiers = { micro = 5 }", "posts_per_creator = 1000\n"
                         "tiers = { koc = 100_000, micro = 100_000, mid = 100_000, top = 100_000, celebrity = 100_000 }")
    err = one_error(run("validate", scenario_file(tmp_path, text)), "plans 500,000,000 notes",
                    "at most 1,000,000")
    assert "[[waves]]" in err


# --------------------------------------------------------------------------- #
# Interrupts: one line, exit 130 / 143, nothing new written, earlier results intact
# --------------------------------------------------------------------------- #
DRIVER = textwrap.dedent('''
    import os, signal, sys
    import kolsim.engines._common as common
    import highspy
    how, where = sys.argv[1], sys.argv[2]
    sig = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}[how]

    def fire():
        if how == "INT":
            os.killpg(0, sig)  # as a terminal's Ctrl-C: the whole job, workers too
        else:
            os.kill(os.getpid(), sig)  # as `kill PID`: the parent only

    if where == "rounds":  # after the first result of the worker pool comes back
        real = common.run_in_rounds
        def rounds(fn, tasks, *, consume, **kw):
            fired = []
            def first(i, res):
                if not fired:
                    fired.append(1)
                    fire()
                return consume(i, res)
            return real(fn, tasks, consume=first, **kw)
        common.run_in_rounds = rounds
        import kolsim.engines.montecarlo as mc, kolsim.engines.des as des
        mc.run_in_rounds = des.run_in_rounds = rounds
    elif where == "solve":  # in the middle of a HiGHS search
        real_run = highspy.Highs.run
        def run(self):
            if self.getLp().num_col_ > 1000:
                fire()
            return real_run(self)
        highspy.Highs.run = run
    from kolsim.cli import main
    main(sys.argv[3:])
''')


def _interrupted(tmp_path, how: str, where: str, *args: str):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(driver), how, where, *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, start_new_session=True)
    return proc


@pytest.mark.parametrize("how,code,word", [("INT", 130, "interrupted"), ("TERM", 143, "terminated")])
@pytest.mark.parametrize("engine", ["montecarlo", "des"])
def test_an_interrupt_with_workers_prints_one_line(how, code, word, engine, tmp_path):
    out = tmp_path / "out"
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = _interrupted(tmp_path, how, "rounds", "simulate", "scenarios/perfume_launch.toml", "--engine", engine,
                        "--runs", "20000" if engine == "montecarlo" else "400", "--workers", "2", "--out", str(out))
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == f"kolsim: {word}; nothing was written\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("how,code,word", [("INT", 130, "interrupted"), ("TERM", 143, "terminated")])
def test_an_interrupt_during_a_solve_stops_it_and_writes_nothing(how, code, word, tmp_path):
    big = tmp_path / "pool.csv"
    assert run("pool", "generate", "--size", "3000", "--seed", "3", "--out", str(big)).exit_code == 0
    proc = _interrupted(tmp_path, how, "solve", "optimize", "scenarios/optimize_skincare.toml", "--candidates",
                        str(big), "--simulate", "0", "--gap", "0", "--time-limit", "600",
                        "--export", str(tmp_path / "model.lp"), "--out", str(tmp_path / "o"))
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == f"kolsim: {word}; nothing was written\n" and proc.stdout == ""
    assert not (tmp_path / "model.lp").exists() and not (tmp_path / "o").exists()


def test_an_interrupt_in_the_library_is_a_keyboard_interrupt(monkeypatch):
    """In a notebook, Ctrl-C during a solve stops HiGHS and raises KeyboardInterrupt (no result)."""
    import highspy

    real = highspy.Highs.run

    def run_then_interrupted(self):
        os.kill(os.getpid(), signal.SIGINT)
        return real(self)
    monkeypatch.setattr(highspy.Highs, "run", run_then_interrupted)
    s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    with pytest.raises(KeyboardInterrupt):
        kolsim.optimize(s, kolsim.load_pool("scenarios/pools/synthetic_300.csv"), marginal=False)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


# --------------------------------------------------------------------------- #
# An output folder is always one run's complete output
# --------------------------------------------------------------------------- #
def test_a_reused_folder_holds_only_the_last_runs_files(tmp_path):
    out = tmp_path / "out"
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--engine", "des", "--out", str(out)).exit_code == 0
    assert (out / "events.csv").exists()
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", str(out)).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "simulate" and sorted(manifest["files"] + ["manifest.json"]) == \
        sorted(p.name for p in out.iterdir())
    assert not (out / "events.csv").exists()


def test_a_folder_of_other_files_is_not_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    one_error(run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", str(out)), str(out),
              "holds files that are not a kolsim run's output (notes.txt)")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    here = run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", ".")
    one_error(here, "is the current directory")


def test_a_run_killed_mid_write_leaves_the_earlier_output_and_is_swept_later(tmp_path):
    """SIGKILL while the files are written: the earlier output is untouched (the new one was being
    written beside it), and the next run removes what the killed one left."""
    out = tmp_path / "out"
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killer = tmp_path / "killer.py"
    killer.write_text(textwrap.dedent('''
        import os, signal, sys
        import kolsim.io as io
        real = io._write_new
        calls = []
        def write(path, data):
            calls.append(path)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(path, data)
        io._write_new = write
        from kolsim.cli import main
        main(sys.argv[1:])
    '''), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(killer), "simulate", str(CORPUS / "valid.toml"), "--runs", "3",
                           "--seed", "9", "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no .tmp file in --out
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.kolsim-")]
    assert len(left) == 1  # the killed run's half-written folder, beside --out
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "3", "--out", str(out)).exit_code == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_have_the_permissions_the_umask_gives(umask, mode, tmp_path):
    old = os.umask(umask)
    try:
        out = tmp_path / "out"
        for _ in range(2):  # a rerun keeps them so
            assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", str(out)).exit_code == 0
            assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {mode}
            assert out.stat().st_mode & 0o777 == mode | ((mode & 0o444) >> 2)  # directories get x where r
        assert run("pool", "generate", "--size", "5", "--out", str(tmp_path / "p.csv")).exit_code == 0
        assert (tmp_path / "p.csv").stat().st_mode & 0o777 == mode
    finally:
        os.umask(old)


# --------------------------------------------------------------------------- #
# Arguments and usage
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("args,pieces", [
    (["optimize", "scenarios/optimize_skincare.toml", "--candidates", "scenarios/pools/synthetic_300.csv",
      "--time-limit", "nan"], ["--time-limit", "'nan' is not a finite number > 0"]),
    (["optimize", "scenarios/optimize_skincare.toml", "--candidates", "scenarios/pools/synthetic_300.csv",
      "--time-limit", "inf"], ["'inf' is not a finite number"]),
    (["optimize", "scenarios/optimize_skincare.toml", "--candidates", "scenarios/pools/synthetic_300.csv",
      "--gap", "nan"], ["--gap"]),
    (["optimize", "scenarios/optimize_skincare.toml", "--candidates", "scenarios/pools/synthetic_300.csv",
      "--backend", "pulp", "--solver", ""], ["--solver: must name a solver"]),
    (["simulate", "scenarios/micro_seeding.toml", "--out", ""], ["--out", "empty"]),
    (["pool", "generate", "--size", "5", "--out", ""], ["empty"]),
    (["simulate", "scenarios/micro_seeding.toml", "--seed", str(2**70)], ["--seed", "9223372036854775807"]),
    (["simulate"], ["Missing argument 'SCENARIO'", "kolsim simulate --help"]),
    (["simulat", "x.toml"], ["No such command 'simulat'"]),
    (["simulate", "scenarios/micro_seeding.toml", "--sed", "1"], ["No such option", "--sed"]),
    (["simulate", "scenarios/micro_seeding.toml", "--runs", "abc"], ["--runs", "'abc' is not a valid integer"]),
], ids=lambda v: " ".join(v)[:40] if isinstance(v, list) and v and v[0] != "--" else None)
def test_bad_arguments_are_one_line(args, pieces):
    res = run(*args)
    err = one_error(res, *pieces)
    assert "Usage:" not in err and "Try " not in err and res.stdout == ""


def test_the_largest_seed_is_the_same_on_the_command_line_and_in_a_file(tmp_path):
    text = VALID.replace("seed = 1", f"seed = {2**63 - 1}")
    assert run("simulate", scenario_file(tmp_path, text), "--runs", "2").exit_code == 0
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--seed", str(2**63 - 1)).exit_code == 0
    one_error(run("simulate", scenario_file(tmp_path, VALID.replace("seed = 1", f"seed = {2**63}"))),
              "[simulation] seed:")


# --------------------------------------------------------------------------- #
# Tables: what a CSV or workbook holds is read as it is, or refused with its place
# --------------------------------------------------------------------------- #
def test_a_duplicated_header_is_refused_not_renamed(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("kol_id,tier,category,followers,cost_per_post,followers\nx,micro,beauty,30000,3000,5\n")
    one_error(run("validate", str(path)), "column 'followers' appears more than once", "columns 4 and 6")


def test_short_and_cut_rows_are_refused_with_their_lines(tmp_path):
    path = tmp_path / "p.csv"
    rows = POOL.strip().split("\n")  # a header and three creators
    path.write_text("\n".join(rows[:2] + [rows[2][:12], rows[3], rows[1][:9]]) + "\n")
    res = run("validate", str(path))
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    assert len(lines) == 2 and "line 3: has 3 cells but the header has 7 columns (a row cut short?)" in lines[0]
    assert "line 5:" in lines[1]


def test_every_truncation_of_a_pool_is_refused_or_said(tmp_path):
    """A pool cut short anywhere (a failed copy, a full disk) is refused, or, when the cut falls in
    its last cell, validated with a note that its last row may be incomplete: never silently."""
    data = POOL.encode()
    header_end = data.index(b"\n") + 1
    cuts = sorted(set(np.linspace(header_end + 5, len(data) - 2, 20).astype(int).tolist()))
    for cut in cuts:
        path = tmp_path / "cut.csv"
        path.write_bytes(data[:cut])
        res = run("validate", str(path))
        assert res.exit_code == 2 or "may be incomplete" in res.stderr, (cut, res.stderr)


def test_a_workbook_formula_without_a_value_is_named(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["kol_id", "tier", "category", "followers", "cost_per_post"])
    ws.append(["x", "micro", "beauty", 30000, 3000])
    ws.append(["y", "micro", "beauty", "=D2*2", 3000])  # openpyxl saves no computed value
    path = tmp_path / "p.xlsx"
    wb.save(path)
    one_error(run("validate", str(path)), "cell D3 holds the formula =D2*2 but no computed value")


def test_a_csv_named_xlsx_is_said_to_be_one(tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_text(POOL)
    one_error(run("validate", str(path)), "is not an Excel workbook", "a CSV file renamed .xlsx?")


def test_a_schedule_header_with_spaces_is_read(tmp_path):
    (tmp_path / "pool_valid.csv").write_text(POOL)
    (tmp_path / "plan.csv").write_text("kol_id, week, posts\nxhs_a1, 1, 2\n")
    text = (CORPUS / "plan_valid.toml").read_text().split("[[plan.posts]]")[0].replace(
        'pool = "pool_valid.csv"', 'pool = "pool_valid.csv"\nschedule = "plan.csv"') + "\n[simulation]\nruns = 2\n"
    path = tmp_path / "s.toml"
    path.write_text(text)
    s = kolsim.load_scenario(path)
    assert [(it.kol_id, it.week, it.posts) for it in s.plan.items] == [("xhs_a1", 1, 2)]


def test_validate_checks_every_file_and_every_bad_cell(tmp_path):
    bad = tmp_path / "bad.csv"
    rows = POOL.strip().split("\n")
    rows[1] = rows[1].replace("30000", "30k")
    rows[2] = rows[2].replace("koc", "nano")
    rows[3] = rows[3].replace("0.015", "1.5")
    bad.write_text("\n".join(rows) + "\n")
    res = run("validate", str(bad), str(CORPUS / "valid.toml"), str(CORPUS / "rate_nan.toml"))
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("kolsim: error:")]
    assert len(errors) == 4  # three bad cells of the pool and the bad scenario
    assert "row 1 (line 2)" in errors[0] and "(got '30k')" in errors[0]
    assert "tier 'nano'" in errors[1] and "ctr must be from 0 to 1" in errors[2]
    assert "valid.toml: ok" in res.stdout and "2 of 3 files have problems" in res.stderr
    # every other command names the first and counts the rest
    one_error(run("pool", "vet", str(bad)), "(got '30k')", "and 2 more problems in this file")


def test_validate_rejects_a_pool_every_other_command_rejects(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("kol_id,tier,category,followers,cost_per_post,expected_conversions\n"
                    "ok,micro,beauty,30000,3000,5\nodd,micro,beauty,30000,3000,5000\n")
    err = one_error(run("validate", str(path)), "row 2 (line 3) (kol_id=odd)", "expected_conversions 5000",
                    "exceeds the note's expected clicks")
    assert "kol_id=odd" in err
    one_error(run("pool", "vet", str(path)), "row 2 (line 3)")


# --------------------------------------------------------------------------- #
# Messages that said something else than what was wrong
# --------------------------------------------------------------------------- #
def test_a_value_just_past_a_bound_is_shown_as_it_was_given(tmp_path):
    text = VALID.replace("margin = 0.5", "margin = 1.000001")
    one_error(run("validate", scenario_file(tmp_path, text)), "[campaign] margin:", "<= 1", "(got 1.000001)")


def test_a_number_longer_than_python_reads_names_its_key_and_line(tmp_path):
    text = VALID.replace("budget = 50_000", "budget = " + "9" * 5000)
    one_error(run("validate", scenario_file(tmp_path, text)), "line 7:", "budget holds a number of 5,000 digits")


def test_ids_that_differ_by_spaces_are_duplicates_not_unicode_twins(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('kol_id,tier,category,followers,cost_per_post\nxhs_1,micro,beauty,30000,3000\n'
                    '" xhs_1 ",micro,beauty,30000,3000\n')
    err = one_error(run("validate", str(path)), "duplicate kol_id 'xhs_1', first on row 1")
    assert "Unicode" not in err


def test_no_candidate_left_says_why_in_the_rules_words():
    pool = kolsim.Pool.from_frame(pd.DataFrame(
        [{"kol_id": f"c{i}", "tier": "micro", "category": "beauty", "followers": 30_000, "cost_per_post": 3000,
          "monthly_posts": 4} for i in range(3)]))
    s = kolsim.parse_scenario({"campaign": {"name": "t", "category": "beauty", "budget": 1e5, "horizon_days": 28},
                               "audience": {"default_size": 1e6}, "optimize": {"weeks": 2}})
    with pytest.raises(kolsim.InputError) as e:
        kolsim.optimize(s, pool, marginal=False)
    assert "all 3 creators of the pool are excluded (3 because the platform's rule allows it no sponsored note)" \
        in str(e.value)
    assert "vet" not in str(e.value).split("excluded (")[1].split(")")[0]
    with pytest.raises(kolsim.ScenarioError, match=r"\[optimize\] sponsored_share: must be a number > 0"):
        kolsim.parse_scenario({"campaign": {"name": "t", "category": "beauty", "budget": 1e5, "horizon_days": 28},
                               "audience": {"default_size": 1e6}, "optimize": {"weeks": 2, "sponsored_share": 0}})


def test_two_waves_with_one_name_are_refused(tmp_path):
    text = VALID + '\n[[waves]]\nname = "seed"\nstart_day = 7\ntiers = { koc = 3 }\n'
    one_error(run("validate", scenario_file(tmp_path, text)), "[waves #2] name:", "also the name of wave #1")


@pytest.mark.parametrize("where,line", [("name", 'name = "Launch\\u001b[31m red"'),
                                        ("wave", 'name = "seed\\tx"')])
def test_control_characters_in_names_are_refused(where, line, tmp_path):
    if where == "name":
        text = VALID.replace('name = "Corpus base"', line)
    else:
        text = VALID.replace('name = "seed"', line)
    err = one_error(run("validate", scenario_file(tmp_path, text)), "must be one line of text")
    assert "\x1b" not in err and "\t" not in err


def test_control_characters_in_paths_are_printed_escaped(tmp_path):
    out = tmp_path / "a\x1b[31mb"
    res = run("simulate", str(CORPUS / "valid.toml"), "--runs", "2", "--out", str(out))
    assert res.exit_code == 0 and "\x1b" not in res.stdout and "\\x1b" in res.stdout


def test_stdout_and_stderr_stay_clean(tmp_path):
    """No HiGHS banner on stdout (it is for piping), no matplotlib warning for labels no font has:
    what a user sees, under Python's default warning filters."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    proc = subprocess.run([sys.executable, "-m", "kolsim.cli", "optimize", "scenarios/optimize_skincare.toml",
                           "--candidates", "scenarios/pools/synthetic_300.csv", "--simulate", "0"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Skincare launch, optimized:") and "HiGHS under MIT" not in proc.stdout
    assert "Running HiGHS" not in proc.stdout + proc.stderr
    text = VALID.replace('name = "Corpus base"', 'name = "花花 🌸 launch"').replace('name = "seed"', 'name = "第一波"')
    path = scenario_file(tmp_path, text)
    for engine in ("montecarlo", "des"):
        proc = subprocess.run([sys.executable, "-m", "kolsim.cli", "simulate", path, "--runs", "20", "--engine",
                               engine, "--out", str(tmp_path / engine)], capture_output=True, text=True,
                              timeout=300, cwd=ROOT, env=env)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# --------------------------------------------------------------------------- #
# A notebook user's expectations
# --------------------------------------------------------------------------- #
def test_results_have_short_reprs_and_html():
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    r = kolsim.simulate(s, runs=200, rng=1)
    c = kolsim.compare([s, s], runs=100)
    o = kolsim.optimize(kolsim.load_scenario("scenarios/optimize_skincare.toml"),
                        kolsim.load_pool("scenarios/pools/synthetic_300.csv"), marginal=False)
    for obj in (s, r, r.table, c, o, o.problem, o.pool):
        assert len(repr(obj)) < 200, repr(obj)
    for obj in (r, c, o):
        html = obj._repr_html_()
        assert html.startswith("<p><b>") and "<table" in html


def test_an_output_folder_reads_back(tmp_path):
    out = tmp_path / "run"
    assert run("simulate", str(CORPUS / "valid.toml"), "--runs", "50", "--seed", "4", "--out", str(out)).exit_code == 0
    saved = kolsim.load_results(out)
    assert saved.kind == "simulate" and saved.provenance["seed"] == 4
    assert set(saved.tables) == {"summary", "replications", "daily"} and len(saved.tables["replications"]) == 50
    with pytest.raises(kolsim.InputError, match="not a kolsim output folder"):
        kolsim.load_results(tmp_path)
    (out / "daily.csv").unlink()
    with pytest.raises(kolsim.InputError, match="incomplete: daily.csv is missing"):
        kolsim.load_results(out)


def test_library_errors_name_arguments_not_flags():
    s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    for kwargs, text in (({"backend": "cplex"}, "backend: must be one of highs, pulp"),
                         ({"solver": "GUROBI"}, "solver: 'GUROBI' is for the pulp backend"),
                         ({"time_limit": float("nan")}, "time_limit: must be a number of seconds > 0")):
        with pytest.raises(kolsim.InputError) as e:
            kolsim.optimize(s, pool, marginal=False, **kwargs)
        assert str(e.value).startswith(text) and "--" not in str(e.value)
    with pytest.raises(kolsim.InputError, match="^runs: must be a whole number from 2"):
        kolsim.simulate(kolsim.load_scenario("scenarios/micro_seeding.toml"), runs=1)
    with pytest.raises(kolsim.PoolError, match="^size: must be at least 1"):
        kolsim.generate_pool(0, np.random.default_rng(0))


def test_importing_kolsim_chooses_no_matplotlib_backend():
    code = ("import sys, kolsim, kolsim.plots, kolsim.cli; "
            "print('matplotlib.pyplot' in sys.modules, 'matplotlib.backends.backend_agg' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_plot_publication_of_a_monte_carlo_result_says_what_it_needs():
    r = kolsim.simulate(kolsim.load_scenario("scenarios/micro_seeding.toml"), runs=20, rng=1)
    with pytest.raises(ValueError, match="needs results of the discrete-event engine"):
        kolsim.plots.plot_publication([r], ["micro"])


def test_value_objects_check_themselves():
    s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    with pytest.raises(kolsim.ScenarioError, match=r"\[campaign\] budget: must be a number > 0"):
        kolsim.scenario.Campaign(name="x", category="beauty", budget=-5, horizon_days=30)
    from dataclasses import replace

    with pytest.raises(kolsim.ScenarioError, match=r"\[tiers.micro\] ctr: must be a number >= 0 and <= 1"):
        replace(s.tiers["micro"], ctr=3.0)
    with pytest.raises(kolsim.ScenarioError, match=r"\[waves #1\] end_day: .* <= 89"):
        replace(s, waves=(replace(s.waves[0], end_day=200),))
    with pytest.raises(kolsim.ScenarioError, match=r"\[tiers.micro\] cvr"):
        s.with_({"tiers.micro.cvr": 3.0})
    assert s.with_({"campaign.budget": 80_000}).campaign.budget == 80_000.0
    assert s.with_({"waves.0.posts_per_creator": 2}).waves[0].posts_per_creator == 2
    with pytest.raises(kolsim.ScenarioError, match="has no 'budjet'.*Did you mean 'budget'"):
        s.with_({"campaign.budjet": 1})
