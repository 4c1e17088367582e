"""Bad input: the corpus in tests/corpus, schema versions, fuzzing and atomic outputs.

RELIABILITY.md T10 (each bad file -> exit 2 and one message naming file, field,
value and what is allowed; no traceback; nothing written), T11 (a failure
mid-write leaves earlier results intact), T12 (schema_version) and T13 (fuzz:
generated TOML and CSV text -> a parsed scenario or pool, or a kolsim.InputError, at a
bounded CPU cost).

Most corpus files are one small change to ``corpus/valid.toml``,
``corpus/plan_valid.toml`` or ``corpus/pool_valid.csv``, which are checked to
pass, so each case tests the one thing it changes.  Inputs too large or too
odd to commit (over 1 MB, a directory, a device, nowhere to write) are made in
the tests.
"""

from __future__ import annotations

import io as _io
import math
import os
import subprocess
import sys
import time
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import kolsim
import kolsim.io
from kolsim.cli import main
from kolsim.pool import Pool

CORPUS = Path(__file__).parent / "corpus"
ALLOWED_TIERS = "koc, micro, mid, top, celebrity"


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def corpus(name: str) -> str:
    path = CORPUS / name
    assert path.exists(), f"missing corpus file {name}"
    return str(path)


def run_cli(*args: str):
    """Run ``kolsim ARGS`` in-process; return the click Result."""
    return CliRunner().invoke(main, list(args))


def assert_rejected(result, *expected: str, out: Path | None = None) -> str:
    """Exit 2, one ``kolsim: error:`` line holding each expected substring, no traceback."""
    err, std = result.stderr, result.stdout
    assert result.exit_code == 2, f"exit {result.exit_code}; stderr: {err!r}; exc: {result.exception!r}"
    # the CLI handled it: no exception other than the exit escaped
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in err and "Traceback" not in std
    assert err.startswith("kolsim: error: "), err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    for piece in expected:
        assert piece in err, f"{piece!r} not in {err!r}"
    if out is not None:
        assert not out.exists() or not any(out.iterdir()), f"files written to {out}: {list(out.iterdir())}"
    return err


def assert_accepted(result) -> None:
    assert result.exit_code == 0, f"exit {result.exit_code}; stderr: {result.stderr!r}; exc: {result.exception!r}"
    assert "Traceback" not in result.stderr and "error" not in result.stderr


# --------------------------------------------------------------------------- #
# The corpus: (file, substrings the message must hold besides the file name)
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Bad:
    file: str
    expected: tuple[str, ...]
    names: tuple[str, ...] = ()  # files the message must name (default: the file itself)

    def __str__(self) -> str:
        return self.file


OPERATIONS_CASES = [
    Bad("operations_reviewers_zero.toml", ("[operations] reviewers:", "must be a whole number >= 1 and <= 10_000",
                                           "(got 0)")),
    Bad("operations_reviewers_fraction.toml", ("[operations] reviewers:", "must be a whole number >= 1",
                                               "(got 1.5)")),
    Bad("operations_days_negative.toml", ("[operations] review_days:", "must be a number >= 0 and <= 3650",
                                          "(got -1)")),
    Bad("operations_days_nan.toml", ("[operations] draft_days:", "must be a finite number >= 0", "(got nan)")),
    Bad("operations_share_above_one.toml", ("[operations] second_round_share:", "must be a number >= 0 and <= 1",
                                            "(got 1.5)")),
    Bad("operations_enabled_string.toml", ("[operations] enabled:", "must be true or false", "(got a string 'no')")),
    Bad("operations_unknown_key.toml", ("[operations] reviewer:", "unknown key 'reviewer' in [operations]",
                                        "Did you mean 'reviewers'?", "Allowed: enabled, outreach_days")),
    Bad("operations_not_table.toml", ("[operations]:", "must be a table (got an integer)")),
    Bad("ads_cpm_zero.toml", ("[ads] feed_cpm:", "must be a number >= 0.01", "RMB per 1,000 ad views", "(got 0)")),
    Bad("ads_budget_negative.toml", ("[ads] search_budget:", "must be a number >= 0", "(got -500)")),
    Bad("ads_boost_zero.toml", ("[ads] boost_notes:", "must be a whole number >= 1", "(got 0)")),
    Bad("ads_ctr_above_one.toml", ("[ads] search_ctr:", "must be a number >= 0 and <= 1", "(got 3)")),
    Bad("ads_wrong_table.toml", ("[ads] reviewers:", "unknown key 'reviewers' in [ads]",
                                 "It belongs in [operations]")),
]

SCENARIO_CASES = [
    Bad("malformed.toml", ("line 5, column 20", "not valid TOML", "string is not closed",
                           'the line reads: name = "Corpus base)')),
    Bad("duplicate_key.toml", ("line 8", "key budget is given twice", "only once",
                               "the line reads: budget = 60_000")),
    Bad("duplicate_table.toml", ("line 26", "table [campaign] is declared twice", "merge")),
    Bad("budget_negative.toml", ("[campaign] budget:", "must be a number > 0 and <= 1e+11", "(got -5000)")),
    Bad("budget_zero.toml", ("[campaign] budget:", "must be a number > 0 and <= 1e+11", "(got 0)")),
    Bad("budget_huge.toml", ("[campaign] budget:", "<= 1e+11", "(got 1e+308)")),
    Bad("budget_string.toml", ("[campaign] budget:", "must be a number > 0", "(got a string '10000')")),
    Bad("followers_10k.toml", ("[tiers.micro] followers:", "must be a number >= 1 and <= 2e+09",
                               "(got a string '10k')")),
    Bad("unknown_tier.toml", ("[tiers.nano]", "unknown tier 'nano'", f"allowed: {ALLOWED_TIERS}")),
    Bad("unknown_tier_in_wave.toml", ("[waves #1] tiers:", "unknown tier 'mikro'", f"allowed: {ALLOWED_TIERS}",
                                      "Did you mean 'micro'?")),
    Bad("rate_nan.toml", ("[tiers.micro] ctr:", "must be a finite number >= 0 and <= 1", "(got nan)")),
    Bad("rate_inf.toml", ("[tiers.micro] ctr:", "must be a finite number >= 0 and <= 1", "(got inf)")),
    Bad("rate_above_one.toml", ("[tiers.micro] ctr:", "must be a number >= 0 and <= 1", "(got 1.5)")),
    Bad("rate_negative.toml", ("[tiers.micro] ctr:", "must be a number >= 0 and <= 1", "(got -0.02)")),
    Bad("end_before_start.toml", ("[waves #1] end_day:", "must be a whole number >= 10 (from start_day = 10)",
                                  "(got 3)")),
    Bad("wave_after_horizon.toml", ("[waves #1] end_day:", "<= 29", "horizon_days = 30", "(got 45)")),
    Bad("margin_without_price.toml", ("[campaign] margin:", "without [campaign] price",
                                      "give both or neither")),
    Bad("unknown_key.toml", ("[campaign] budjet:", "unknown key 'budjet' in [campaign]",
                             "Did you mean 'budget'?", "Allowed: name, category, budget")),
    Bad("control_char_key.toml", ("[campaign] bud\\nget:", "unknown key 'bud\\nget'", "Did you mean 'budget'?")),
    Bad("wrong_table.toml", ("[campaign] runs:", "unknown key 'runs' in [campaign]",
                             "It belongs in [simulation]")),
    Bad("missing_campaign.toml", ("missing required table [campaign]", "name, category, budget, horizon_days")),
    Bad("schema_future.toml", ("schema_version:", "is 99", "reads schema_version 1 at most", "upgrade kolsim")),
    Bad("runs_zero.toml", ("[simulation] runs:", "must be a whole number >= 2 and <= 1_000_000", "(got 0)")),
    Bad("runs_negative.toml", ("[simulation] runs:", "must be a whole number >= 2", "(got -3)")),
    Bad("runs_one.toml", ("[simulation] runs:", "must be a whole number >= 2", "(got 1)")),
    Bad("fake_share_one.toml", ("[tiers.micro] fake_share:", "must be a number >= 0 and < 1", "(got 1.0)")),
    Bad("follower_share_above_one.toml", ("[tiers.micro] follower_share:", "must be a number >= 0 and <= 1",
                                          "(got 1.2)")),
    Bad("follower_overlap_above_one.toml", ("[response] follower_overlap:", "must be a number >= 0 and <= 1",
                                            "(got 1.5)")),
    Bad("affiliate_without_price.toml", ("[waves #1] commission:", "is 0.15", "[campaign] has no price")),
    Bad("runs_fraction.toml", ("[simulation] runs:", "must be a whole number >= 2", "(got 2.5)")),
    Bad("horizon_zero.toml", ("[campaign] horizon_days:", "must be a whole number >= 1 and <= 3650", "(got 0)")),
    Bad("seed_negative.toml", ("[simulation] seed:", "must be a whole number >= 0 and <= 9_223_372_036_854_775_807",
                               "(got -1)")),
    Bad("banned_tobacco.toml", ("[campaign] category:", "'tobacco' may not be promoted",
                                "banned: alcohol, banned_cosmetic_surgery_drugs, tobacco")),
    Bad("banned_alcohol.toml", ("[campaign] category:", "'alcohol' may not be promoted", "banned: alcohol")),
    Bad("empty.toml", ("the scenario file is empty",)),
    Bad("utf16.toml", ("UTF-16", "save it as UTF-8")),
    Bad("binary.toml", ("not a text file", "binary data")),
    # a scenario whose plan draws on a pool: the message names the pool, its row, and the scenario
    Bad("plan_pool_non_numeric.toml", ("row 2 (line 3) (kol_id=xhs_a2)", "followers must be a finite number",
                                       "from 1 to 2e+09", "(got '4.5k')", "[plan] pool"),
        names=("pool_non_numeric.csv", "plan_pool_non_numeric.toml")),
    Bad("plan_pool_empty.toml", ("the pool has no creators", "[plan] pool"),
        names=("pool_empty.csv", "plan_pool_empty.toml")),
    Bad("plan_pool_missing.toml", ("candidate pool not found", "[plan] pool", "relative to the scenario file"),
        names=("no_such_pool.csv", "plan_pool_missing.toml")),
    Bad("plan_pool_nul.toml", ("candidate pool", "pool\\x00valid.csv", "[plan] pool"),
        names=("plan_pool_nul.toml",)),
    Bad("plan_unknown_kol.toml", ("[plan.posts] kol_id:", "not in the pool", "'xhs_zz'"),
        names=("plan_unknown_kol.toml", "pool_valid.csv")),
    Bad("plan_week_after_horizon.toml", ("[plan.posts #1] week:", "must be a whole number >= 1 and <= 5",
                                         "horizon_days = 30 spans 5 week(s)", "(got 9)")),
    # the discrete-event engine's keys
    *OPERATIONS_CASES,
]

POOL_CASES = [
    Bad("pool_missing_column.csv", ("missing required column(s) followers",
                                    "a pool needs kol_id, tier, category, followers, cost_per_post",
                                    "found: kol_id, tier, category, cost_per_post")),
    Bad("pool_non_numeric.csv", ("row 2 (line 3) (kol_id=xhs_a2)", "followers must be a finite number",
                                 "from 1 to 2e+09", "(got '4.5k')")),
    Bad("pool_empty.csv", ("the pool has no creators", "no data rows under the header")),
    Bad("pool_duplicate_kol_id.csv", ("row 4 (line 5) (kol_id=xhs_a2)", "duplicate kol_id 'xhs_a2'",
                                      "first on row 2", "must be unique")),
    Bad("pool_nfc_nfd_twins.csv", ("row 5 (line 6)", "duplicate kol_id", "chloe\u0301_paris",
                                   "different Unicode form", "first on row 4")),
    Bad("pool_followers_huge.csv", ("row 4 (line 5) (kol_id=xhs_big)", "followers must be from 1 to 2e+09",
                                    "(got '1" + "0" * 30 + "')")),
    Bad("pool_rate_nan.csv", ("row 3 (line 4) (kol_id=xhs_a3)", "ctr must be a finite number from 0 to 1",
                              "(got 'nan')")),
    Bad("pool_follower_share_negative.csv", ("row 2 (line 3) (kol_id=xhs_a2)", "follower_share must be from 0 to 1",
                                             "(got '-0.2')")),
    Bad("pool_min_posts_fraction.csv", ("row 2 (line 3) (kol_id=xhs_a2)", "min_posts must be a whole number from 1 "
                                        "to 1000", "(got '1.5')")),
    Bad("pool_min_posts_zero.csv", ("row 1 (line 2) (kol_id=xhs_a1)", "min_posts must be from 1 to 1000", "(got '0')")),
    Bad("pool_rate_above_one.csv", ("row 3 (line 4) (kol_id=xhs_a3)", "ctr must be from 0 to 1", "(got '1.5')")),
    Bad("pool_unknown_tier.csv", ("row 3 (line 4) (kol_id=xhs_a3)", "tier 'nano' is not allowed",
                                  f"allowed: {ALLOWED_TIERS}")),
    Bad("pool_kol_id_newline.csv", ("row 2 (line 3) (kol_id=xhs\\nb2)", "kol_id 'xhs\\nb2'",
                                    "control character")),
    Bad("pool_ragged_row.csv", ("line 2:", "has 8 cells but the header has 7 columns", "double quotes")),
    Bad("pool_ragged_row_later.csv", ("line 4", "has 8 cells but the header has 7 columns")),
    Bad("pool_old_excel.xls", ("old-style .xls workbooks are not read", "save the sheet as .xlsx or CSV")),
]


def _names(case: Bad) -> list[str]:
    return [str(CORPUS / n) for n in (case.names or (case.file,))]


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=str)
def test_bad_scenario_validate(case):
    assert_rejected(run_cli("validate", corpus(case.file)), *_names(case), *case.expected)


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=str)
def test_bad_scenario_simulate_writes_nothing(case, tmp_path):
    out = tmp_path / "out"
    result = run_cli("simulate", corpus(case.file), "--runs", "2", "--out", str(out))
    assert_rejected(result, *_names(case), *case.expected, out=out)
    assert result.stdout == ""


@pytest.mark.parametrize("case", OPERATIONS_CASES, ids=str)
def test_bad_operations_simulate_des_writes_nothing(case, tmp_path):
    out = tmp_path / "out"
    result = run_cli("simulate", corpus(case.file), "--engine", "des", "--runs", "2", "--out", str(out))
    assert_rejected(result, *_names(case), *case.expected, out=out)
    assert result.stdout == ""


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("command", [("validate",), ("pool", "vet")], ids=" ".join)
def test_bad_pool(case, command, tmp_path):
    out = tmp_path / "vet" / "excluded.csv"
    args = [*command, corpus(case.file)] + (["--out", str(out)] if command[0] == "pool" else [])
    assert_rejected(run_cli(*args), *_names(case), *case.expected, out=out.parent)


def test_every_corpus_file_is_used():
    """A file added to the corpus without a test would prove nothing."""
    used = {c.file for c in SCENARIO_CASES + POOL_CASES} | {n for c in SCENARIO_CASES for n in c.names}
    used |= set(ACCEPTED_SCENARIOS) | set(ACCEPTED_POOLS)
    on_disk = {p.name for p in CORPUS.iterdir()}
    assert on_disk - used == set()
    assert {n for n in used if n != "no_such_pool.csv"} - on_disk == set()


# --------------------------------------------------------------------------- #
# Files that must be accepted
# --------------------------------------------------------------------------- #
ACCEPTED_SCENARIOS = ["valid.toml", "bom.toml", "schema_missing.toml", "plan_valid.toml", "plan_unicode.toml"]
ACCEPTED_POOLS = ["pool_valid.csv", "pool_unicode.csv"]


@pytest.mark.parametrize("name", ACCEPTED_SCENARIOS)
def test_accepted_scenario(name):
    assert_accepted(run_cli("validate", corpus(name)))
    result = run_cli("simulate", corpus(name), "--runs", "2")
    assert_accepted(result)
    assert "2 replications" in result.stdout


@pytest.mark.parametrize("name", ACCEPTED_POOLS)
def test_accepted_pool(name):
    result = run_cli("validate", corpus(name))
    assert_accepted(result)
    assert "ok, a pool of" in result.stdout
    assert_accepted(run_cli("pool", "vet", corpus(name)))


def test_bom_is_harmless():
    assert (CORPUS / "bom.toml").read_bytes().startswith(b"\xef\xbb\xbf")
    assert kolsim.load_scenario(corpus("bom.toml")).campaign.budget == 50_000


def test_unicode_ids_are_kept_exactly(tmp_path):
    emoji, rtl = "🌸花花_beauty", "\u05e0\u05d5\u05e2\u05d4_\u05d9\u05d5\u05e4\u05d9"
    pool = kolsim.load_pool(corpus("pool_unicode.csv"))
    assert emoji in pool.ids and rtl in pool.ids and "\u0645\u0631\u064a\u0645_123" in pool.ids
    sc = kolsim.load_scenario(corpus("plan_unicode.toml"))
    assert [it.kol_id for it in sc.plan.items] == [emoji, rtl]
    # and end to end, with files written
    out = tmp_path / "out"
    assert_accepted(run_cli("simulate", corpus("plan_unicode.toml"), "--runs", "2", "--out", str(out)))
    assert (out / "summary.json").exists()


def test_nfc_nfd_twins_really_differ():
    """The twins file holds two byte-different spellings of one name (else the test proves nothing)."""
    ids = pd.read_csv(corpus("pool_nfc_nfd_twins.csv"), dtype=str)["kol_id"].tolist()
    twins = [i for i in ids if i.startswith("chlo")]
    assert len(twins) == 2 and twins[0] != twins[1]
    assert unicodedata.normalize("NFC", twins[0]) == unicodedata.normalize("NFC", twins[1])


# --------------------------------------------------------------------------- #
# Bad inputs made on the fly: too large, not a file, nowhere to write
# --------------------------------------------------------------------------- #
def test_scenario_over_1mb(tmp_path):
    big = tmp_path / "big.toml"
    pad = "# padding " + "x" * 90 + "\n"
    big.write_text((CORPUS / "valid.toml").read_text() + pad * 12_000, encoding="utf-8")
    assert big.stat().st_size > 1_000_000
    out = tmp_path / "out"
    assert_rejected(run_cli("validate", str(big)), str(big), "is 1.2 MB", "may be at most 1 MB")
    assert_rejected(run_cli("simulate", str(big), "--out", str(out)), str(big), "at most 1 MB", out=out)


@pytest.mark.parametrize("args", [("validate",), ("simulate",), ("pool", "vet")], ids=" ".join)
def test_missing_path(args, tmp_path):
    path = tmp_path / ("nope.csv" if args[0] == "pool" else "nope.toml")
    what = "candidate pool" if args[0] == "pool" else "scenario file"
    assert_rejected(run_cli(*args, str(path)), str(path), f"{what} not found")


@pytest.mark.parametrize("args", [("validate",), ("simulate",), ("pool", "vet")], ids=" ".join)
def test_directory_as_input(args, tmp_path):
    path = tmp_path / ("pool.csv" if args[0] == "pool" else "scenario.toml")
    path.mkdir()
    what = "candidate pool" if args[0] == "pool" else "scenario file"
    assert_rejected(run_cli(*args, str(path)), str(path), "is a directory", f"expected a {what}")


@pytest.mark.skipif(not os.path.exists("/dev/zero") or sys.platform == "win32", reason="needs /dev/zero")
def test_device_as_pool(tmp_path):
    """A pool path naming a device must not be read (reading /dev/zero would never end).

    Run in a process with 2 GB of address space and a time limit, so that a
    regression fails this test instead of exhausting the machine.
    """
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    sc = tmp_path / "s.toml"
    sc.write_text((CORPUS / "plan_valid.toml").read_text().replace("pool_valid.csv", "/dev/zero"))
    proc = subprocess.run([sys.executable, "-m", "kolsim.cli", "validate", str(sc)], capture_output=True,
                          text=True, timeout=60, preexec_fn=limit)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("kolsim: error: /dev/zero: ")
    assert "is not a regular file" in proc.stderr and str(sc) in proc.stderr


@pytest.mark.parametrize("text, expected", [
    ("x = " + "[" * 5000, "nested too deeply"),
    ("a" + ".a" * 8_000 + " = 1", "more than 32 dotted parts"),  # quadratic memory in tomllib
    ("schema_version = " + "9" * 5000, "schema_version holds a number of 5,000 digits"),
], ids=["deep-array", "dotted-key-bomb", "5000-digit-int"])
def test_pathological_toml(text, expected, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(text)
    start = time.process_time()
    assert_rejected(run_cli("validate", str(path)), str(path), expected)
    assert time.process_time() - start < CPU_BOUND


def test_huge_integer_value(tmp_path):
    """A TOML integer beyond float range must be reported, not crash the formatting."""
    path = tmp_path / "s.toml"
    path.write_text((CORPUS / "valid.toml").read_text().replace("budget = 50_000", "budget = 0x" + "f" * 400))
    digits = int(400 * math.log10(16))
    assert_rejected(run_cli("validate", str(path)), "[campaign] budget:", "<= 1e+11", f"(got about 10^{digits})")
    # where a file path is expected, too
    path.write_text((CORPUS / "plan_valid.toml").read_text().replace('"pool_valid.csv"', "0x" + "f" * 4000))
    assert_rejected(run_cli("validate", str(path)), "[plan] pool:", "must be a file path",
                    f"(got about 10^{int(4000 * math.log10(16))})")
    # an array nested too deep to print is reported too, not a crash
    data = tomllib.loads((CORPUS / "valid.toml").read_text())
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    data["campaign"]["budget"] = deep
    with pytest.raises(kolsim.ScenarioError, match=r"must be a number .*\(got an array <an array>\)"):
        kolsim.parse_scenario(data)


def test_out_is_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    result = run_cli("simulate", corpus("valid.toml"), "--runs", "2", "--out", str(afile))
    assert_rejected(result, str(afile), "exists and is not a directory")
    assert afile.read_text() == "keep me"


def test_out_under_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    out = afile / "out"
    result = run_cli("simulate", corpus("valid.toml"), "--runs", "2", "--out", str(out))
    assert_rejected(result, str(out), f"{afile} is a file, not a directory")
    result = run_cli("pool", "vet", corpus("pool_valid.csv"), "--out", str(out / "x.csv"))
    assert_rejected(result, str(out / "x.csv"), "cannot write the file there", f"{afile} is a file")
    assert afile.read_text() == "keep me"


def test_out_under_read_only_dir(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):  # root ignores the mode: make the writes fail as they would
            real_open = os.open

            def refuse(path, *a, **k):
                if str(path).startswith(str(ro)):
                    raise PermissionError(13, "Permission denied")
                return real_open(path, *a, **k)
            monkeypatch.setattr(kolsim.io.os, "open", refuse)
            monkeypatch.setattr(kolsim.io.os, "mkdir", refuse)
        out = ro / "out"
        result = run_cli("simulate", corpus("valid.toml"), "--runs", "2", "--out", str(out))
        assert_rejected(result, str(out), "cannot write to the output directory", "Permission denied", out=out)
        result = run_cli("pool", "vet", corpus("pool_valid.csv"), "--out", str(ro / "x.csv"))
        assert_rejected(result, str(ro / "x.csv"), "Permission denied")
        assert not (ro / "x.csv").exists()
    finally:
        ro.chmod(0o755)


# --------------------------------------------------------------------------- #
# Through a real process: nothing but the one line reaches a terminal
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("args, expected", [
    (["validate", "malformed.toml"], "not valid TOML"),
    (["simulate", "rate_nan.toml", "--runs", "2"], "[tiers.micro] ctr"),
    (["pool", "vet", "pool_non_numeric.csv"], "(got '4.5k')"),
    (["validate", "binary.toml"], "not a text file"),
], ids=["malformed", "simulate-nan", "pool-vet", "binary"])
def test_real_process(args, expected, tmp_path):
    args = [corpus(a) if a.endswith((".toml", ".csv")) else a for a in args]
    out = tmp_path / "out"
    if args[0] == "simulate":
        args += ["--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "KOLSIM_DEBUG"}
    proc = subprocess.run([sys.executable, "-m", "kolsim.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kolsim: error: "), proc.stderr
    assert expected in lines[0]
    assert [a for a in args if a.endswith((".toml", ".csv"))][0] in lines[0]
    assert not out.exists() or not any(out.iterdir())


# --------------------------------------------------------------------------- #
# T12: schema_version
# --------------------------------------------------------------------------- #
def test_missing_schema_version_is_v1_with_a_notice():
    sc = kolsim.load_scenario(corpus("schema_missing.toml"))
    assert sc.schema_version == 1
    assert any("no schema_version" in n for n in sc.notices)
    result = run_cli("validate", corpus("schema_missing.toml"))
    assert_accepted(result)
    assert result.stderr.startswith("note: ")
    assert corpus("schema_missing.toml") in result.stderr and "schema_version = 1" in result.stderr
    # and a file that gives it has no such notice
    assert run_cli("validate", corpus("valid.toml")).stderr == ""


@pytest.mark.parametrize("value, expected", [
    ("2", "upgrade kolsim"), ("99", "upgrade kolsim"), ("0", "(got 0)"), ("-1", "(got -1)"),
    ("1.0", "(got 1.0)"), ('"1"', "(got '1')"), ("true", "(got True)"),
])
def test_schema_version_values(value, expected):
    data = tomllib.loads((CORPUS / "valid.toml").read_text().replace("schema_version = 1",
                                                                     f"schema_version = {value}"))
    with pytest.raises(kolsim.ScenarioError) as info:
        kolsim.parse_scenario(data)
    assert info.value.where == "schema_version"
    assert expected in str(info.value)


# --------------------------------------------------------------------------- #
# T13: fuzz
# --------------------------------------------------------------------------- #
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: CPU seconds an input may cost at most (T13: a parser that blows up on some input, quadratic or
#: worse, costs far more). CPU time, not wall-clock: it does not grow when the machine is loaded.
CPU_BOUND = 10.0

TRICKY_VALUES = [
    "nan", "inf", "-inf", "0", "-1", "-3", "2.5", "1e308", "1e400", "0x" + "f" * 40, "99999999999999999999",
    "9" * 400, "-0x" + "f" * 300, "9" * 5000,  # beyond float range; beyond int() of 4300 digits
    "[" * 2000 + "]" * 2000,  # nested deeper than tomllib's recursion
    '"10k"', '"10000"', '""', '" "', "true", "[]", "[1, 2]", "{}", "{ micro = -1 }", "{ nano = 3 }",
    "1979-05-27", "07:32:00", '"tobacco"', '"🌸"', '"\u05e0\u05d5\u05e2\u05d4"', "'''x'''", '"a\\u0000b"',
    '"pool_valid.csv"', '"no_such.csv"', '"../pool_valid.csv"', "1_000", "+5", "-0.0",
]
KNOWN_KEYS = sorted({k for keys in kolsim.scenario._TABLE_KEYS.values() for k in keys})
BASE_TEXTS = [(CORPUS / n).read_text(encoding="utf-8") for n in ("valid.toml", "plan_valid.toml")] + [
    (Path(__file__).parent.parent / "scenarios" / "perfume_launch.toml").read_text(encoding="utf-8")]


@st.composite
def mutated_toml(draw) -> bytes:
    lines = draw(st.sampled_from(BASE_TEXTS)).split("\n")
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines)))
        op = draw(st.sampled_from(["delete", "value", "value", "value", "key", "text", "dup", "header"]))
        if op == "delete" and i < len(lines):
            del lines[i]
        elif op == "value" and i < len(lines) and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            value = (draw(st.sampled_from(TRICKY_VALUES)) if draw(st.integers(0, 3))
                     else draw(st.text(max_size=12)))
            lines[i] = f"{key}= {value}"
        elif op == "key":
            key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=10)))
            key = key if key.isidentifier() else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.insert(i, f"{key} = {draw(st.sampled_from(TRICKY_VALUES))}")
        elif op == "text":
            lines.insert(i, draw(st.text(max_size=30)))
        elif op == "dup" and i < len(lines):
            lines.insert(i, lines[i])
        elif op == "header":
            lines.insert(i, draw(st.sampled_from(["[campaign]", "[simulation]", "[[waves]]", "[tiers.micro]",
                                                  "[tiers.nano]", "[plan]", "[[plan.posts]]", "[vetting]",
                                                  "[audience]", "[decay]", "[word_of_mouth]", "[x]"])))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # random bytes somewhere
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
    return data


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "pool_valid.csv").write_bytes((CORPUS / "pool_valid.csv").read_bytes())
    return d


def _check_scenario(sc) -> None:
    """What a parsed scenario promises, so that accepting garbage fails the test."""
    assert isinstance(sc, kolsim.Scenario)
    assert 0 < sc.campaign.budget <= 1e11 and 1 <= sc.campaign.horizon_days <= 3650
    assert sc.waves or sc.plan is not None
    assert sc.simulation.runs >= 1 and sc.simulation.seed >= 0
    for w in sc.waves:
        assert 0 <= w.start_day <= w.end_day < sc.campaign.horizon_days


@FUZZ
@given(data=mutated_toml())
def test_fuzz_scenario_file(data, fuzz_dir):
    path = fuzz_dir / "fuzz.toml"
    path.write_bytes(data)
    _loads_or_says_why(kolsim.io.load_scenario, _check_scenario, path)


@pytest.fixture(scope="module")
def fuzz_pool():
    return kolsim.load_pool(corpus("pool_valid.csv"))


@FUZZ
@given(text=st.one_of(mutated_toml().map(lambda b: b.decode("utf-8", "replace")), st.text(max_size=200)))
def test_fuzz_parse_scenario(text, fuzz_pool):
    start = time.process_time()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    except (ValueError, RecursionError):  # 4300-digit integers, arrays nested too deep: load_scenario says so
        return
    try:
        _check_scenario(kolsim.parse_scenario(data, pool=fuzz_pool))
        event("accepted")
    except kolsim.InputError as e:
        assert str(e).strip()
        event("rejected")
    assert time.process_time() - start < CPU_BOUND


POOL_HEADER = (CORPUS / "pool_valid.csv").read_text(encoding="utf-8").split("\n")[0].split(",")
TRICKY_CELLS = ["", " ", "nan", "NaN", "inf", "-1", "0", "1e30", "1e400", "10k", "4.5k", "1_000", "0x10",
                "true", "None", "NULL", "N/A", "🌸", "\u05d0", "chloe\u0301", "chlo\u00e9", '"a,b"', '"a\nb"',
                "micro", "MICRO", "nano", "tobacco", "paid", "gifted", "xhs_a1", "  xhs_a1  ", "0.5", "1.5"]


@st.composite
def mutated_csv(draw) -> str:
    rows = [r.split(",") for r in (CORPUS / "pool_valid.csv").read_text(encoding="utf-8").strip().split("\n")]
    header = draw(st.permutations(POOL_HEADER))  # any column order
    order = [POOL_HEADER.index(h) for h in header]
    rows = [[r[j] for j in order] for r in rows]
    for _ in range(draw(st.integers(0, 5))):
        i = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["cell", "cell", "delete_row", "dup_row", "drop_col", "extra", "col"]))
        if op == "cell":
            j = draw(st.integers(0, len(rows[i]) - 1))
            rows[i][j] = draw(st.one_of(st.sampled_from(TRICKY_CELLS), st.text(max_size=8)))
        elif op == "delete_row" and len(rows) > 1:
            del rows[i]
        elif op == "dup_row":
            rows.insert(i, list(rows[i]))
        elif op == "drop_col" and len(rows[i]) > 1:
            del rows[i][draw(st.integers(0, len(rows[i]) - 1))]
        elif op == "extra":
            rows[i].append(draw(st.sampled_from(TRICKY_CELLS)))
        elif op == "col":
            name = draw(st.one_of(st.sampled_from(POOL_HEADER + ["segment", "deal_type", "x"]), st.text(max_size=6)))
            rows[0].append(name)
            for r in rows[1:]:
                r.append(draw(st.sampled_from(TRICKY_CELLS)))
    return "\n".join(",".join(r) for r in rows) + draw(st.sampled_from(["", "\n", "\r\n", "\n\n"]))


def _check_pool(pool) -> None:
    assert isinstance(pool, Pool) and len(pool) >= 1
    f = pool.frame
    assert f["followers"].between(1, 2e9).all() and f["cost_per_post"].between(0, 1e11).all()
    assert set(f["tier"]) <= set(ALLOWED_TIERS.split(", "))
    keys = [unicodedata.normalize("NFC", k) for k in f["kol_id"]]
    assert len(set(keys)) == len(keys) and all(k.strip() for k in keys)
    assert not any(unicodedata.category(c) == "Cc" for k in keys for c in k)  # ids print on one line


@FUZZ
@given(text=st.one_of(mutated_csv(), st.text(max_size=200)))
def test_fuzz_pool_file(text, fuzz_dir):
    path = fuzz_dir / "fuzz.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _loads_or_says_why(kolsim.io.load_pool, _check_pool, path)


def _loads_or_says_why(load, check, path):
    """T13: a file gives a sane object or one kolsim InputError, at a bounded cost."""
    start = time.process_time()
    try:
        check(load(path))
        event("accepted")
    except kolsim.InputError as e:
        assert str(e).strip()
        event("rejected")
    assert time.process_time() - start < CPU_BOUND


@FUZZ
@given(text=mutated_csv(), as_text=st.booleans())
def test_fuzz_pool_from_frame(text, as_text):
    """Pool.from_frame on what pandas makes of the text: all strings, or its own guessed types."""
    start = time.process_time()
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str if as_text else None,
                         keep_default_na=not as_text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return
    try:
        _check_pool(Pool.from_frame(df, source="fuzz.csv"))
        event("accepted")
    except kolsim.InputError as e:
        assert str(e).strip()
        event("rejected")
    assert time.process_time() - start < CPU_BOUND


# --------------------------------------------------------------------------- #
# T11: atomic outputs
# --------------------------------------------------------------------------- #
def test_failed_write_keeps_earlier_results(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert_accepted(run_cli("simulate", corpus("valid.toml"), "--runs", "2", "--out", str(out)))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) >= 3

    real = kolsim.io._to_bytes
    calls = []

    def fail_on_third(content):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(content)

    monkeypatch.setattr(kolsim.io, "_to_bytes", fail_on_third)
    # another seed, so that a file that was overwritten would differ
    result = run_cli("simulate", corpus("valid.toml"), "--runs", "3", "--seed", "7", "--out", str(out))
    assert len(calls) == 3
    assert result.exit_code == 1 and "internal error" in result.stderr and "disk on fire" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}  # hidden temp files included
    assert after.keys() == before.keys(), f"stray files: {set(after) - set(before)}"
    assert after == before
