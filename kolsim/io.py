"""Files in, results out: the only module that reads or writes a user's files.

Reading checks what can go wrong with a file before its content is parsed
(missing, a directory, too large, not UTF-8 text, a workbook that is not one)
and names the file in every message; a table's cells are read as text with
their line (or sheet row) kept, so every message can say where.

Writing is atomic and whole:

- a run's output **folder** is written as a sibling temporary folder and then
  renamed into place, so ``--out DIR`` always holds one run's complete output
  (never a mix of an old run's files and a new one's, never a half-written
  file); a folder is replaced only if it is empty or a kolsim output folder
  (it holds a ``manifest.json`` kolsim wrote);
- a single output **file** (a pool, an exclusion list, a model export) is
  written beside its target and renamed over it;
- the renames run with Ctrl-C and SIGTERM held back (:mod:`kolsim._signals`),
  so an interrupt cannot leave a folder half-swapped;
- files get the permissions the user's umask gives (0644 under the usual
  umask), as any other program's;
- an operating-system error (a full disk, no permission, a read-only file
  system) is an :class:`~kolsim.errors.InputError` naming the path and the
  reason, and leaves nothing behind.

Scratch files that a solver or PuLP's model writer needs live in private
temporary directories of their own and are never a user's output.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import math
import os
import re
import secrets
import shutil
import tomllib
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import _signals
from ._version import __version__
from .errors import InputError, PoolError, ScenarioError
from .defaults import TIERS
from .pool import Pool
from .scenario import Scenario, Tier, parse_scenario
from .text import printable as _printable, show as _show

__all__ = ["load_scenario", "load_pool", "load_schedule", "load_start_plan", "load_results", "write_outputs",
           "write_file", "check_output_dir", "check_output_file", "MANIFEST"]

MAX_SCENARIO_BYTES = 1_000_000
MAX_POOL_BYTES = 200_000_000
#: Most parts in one dotted TOML key (``a.b.c``): tomllib's cost grows with the square of it.
MAX_KEY_DEPTH = 32
#: Python reads integers of at most this many digits (sys.get_int_max_str_digits's default).
MAX_DIGITS = 4300
#: The file in every output folder that says kolsim wrote it, and what it holds.
MANIFEST = "manifest.json"


# --------------------------------------------------------------------------- #
# Reading files
# --------------------------------------------------------------------------- #
def _read_bytes(path: str | os.PathLike, what: str, limit: int, error=InputError) -> bytes:
    p = Path(path)
    try:
        if not p.exists():
            raise error(f"{what} not found", file=str(path))
        if p.is_dir():
            raise error(f"is a directory; expected a {what}", file=str(path))
        if not p.is_file():  # a FIFO or a device such as /dev/zero: reading could block or never end
            raise error(f"is not a regular file; expected a {what}", file=str(path))
        size = p.stat().st_size
        if size > limit:
            raise error(f"is {size / 1e6:.1f} MB; a {what} may be at most {limit / 1e6:g} MB",
                        file=str(path))
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:  # it grew while we looked
            raise error(f"is over {limit / 1e6:g} MB; a {what} may be at most {limit / 1e6:g} MB",
                        file=str(path))
    except OSError as e:
        raise error(f"cannot read the {what}: {e.strerror or e}", file=str(path)) from None
    except ValueError as e:  # a NUL byte in the path, and the like
        if isinstance(e, InputError):
            raise
        raise error(f"is not a usable file name: {e}", file=_printable(str(path))) from None
    if not data.strip():
        raise error(f"the {what} is empty", file=str(path))
    return data


def _decode(data: bytes, path: str, what: str, error=InputError) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise error(f"the {what} is UTF-16 text; save it as UTF-8", file=path)
    if b"\x00" in data:
        raise error(f"the {what} is not a text file (it holds binary data)", file=path)
    try:
        return data.decode("utf-8-sig")  # a leading byte-order mark is harmless
    except UnicodeDecodeError as e:
        raise error(f"the {what} is not UTF-8 text (bad byte at offset {e.start}); save it as UTF-8",
                    file=path) from None


class _Cells:
    """A table as read: its header, its rows of cells, where each row stands, what was noticed."""

    def __init__(self, header: list[str], rows: list[list[Any]], places: list[str], notices: list[str]):
        self.header, self.rows, self.places, self.notices = header, rows, places, notices

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=range(len(self.header)), dtype=object)
        df.columns = self.header  # duplicated names stay duplicated, for the pool to report
        return df


def _csv_cells(text: str, path: str, what: str, error=InputError) -> _Cells:
    """Every record of a CSV text with its line; rows with too few or too many cells are errors
    (all of them), blank lines are skipped and a header without a name for a column of values is
    an error."""
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        line = reader.line_num
        if "field larger than field limit" in str(e):
            raise error(f"a cell holds more than {csv.field_size_limit():,} characters (not a pool of creators)",
                        file=path, where=f"line {line}") from None
        if "unexpected end of data" in str(e) or "EOF" in str(e):
            raise error("a double quote opens a value that is never closed (not a valid CSV table)",
                        file=path, where=f"line {start}") from None
        raise error(f"not a valid CSV table: {e}", file=path, where=f"line {line}") from None
    records = [(line, row) for line, row in records if any(c.strip() for c in row)]
    if not records:
        raise error(f"the {what} is empty", file=path)
    (_, header), body = records[0], records[1:]
    header = [c.strip() for c in header]
    width = len(header)
    problems = [(f"line {line}", f"has {len(row)} cells but the header has {width} columns"
                 + (" (a comma inside a value needs double quotes around the value)" if len(row) > width else
                    " (a row cut short?)"))
                for line, row in body if len(row) != width]
    if problems:
        raise error.of(problems, file=path)
    unnamed = [j for j, name in enumerate(header) if not name]
    for j in unnamed:
        if any(row[j].strip() for _, row in body):
            raise error(f"column {j + 1} has values but no name in the header", file=path, where="line 1")
    keep = [j for j in range(width) if j not in unnamed]  # unnamed columns that hold nothing
    notices = []
    if body and not text.endswith(("\n", "\r")):
        notices.append(f"{path}: the file does not end with a line break; if it was cut short, its last "
                       f"row (line {body[-1][0]}) may be incomplete")
    return _Cells([header[j] for j in keep], [[row[j] for j in keep] for _, row in body],
                  [f"line {line}" for line, _ in body], notices)


def _xlsx_cells(data: bytes, path: str, error=PoolError) -> _Cells:
    """The first sheet of a workbook, cells as the workbook holds them (numbers, text, dates)."""
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise error("is an old-style .xls workbook, which kolsim does not read; save the sheet as .xlsx or CSV",
                    file=path)
    if data[:4] != b"PK\x03\x04":
        looks = "text (a CSV file renamed .xlsx?)" if _is_text(data) else "neither"
        raise error(f"is not an Excel workbook: an .xlsx file is a zip archive, and this is {looks}; "
                    "name a CSV file .csv", file=path)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(_io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        sheets = wb.sheetnames
        wb.close()
    except Exception as e:  # openpyxl raises many types for a bad workbook
        raise error(f"cannot read the Excel workbook: {_printable(str(e), 200)}", file=path) from None
    notices = []
    if len(sheets) > 1:
        notices.append(f"{path}: read the first sheet, {sheets[0]!r}, of {len(sheets)} "
                       f"(the others: {', '.join(map(repr, sheets[1:]))})")
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(not _blank_cell(c) for c in r)]
    if not numbered:
        raise error("the candidate pool is empty", file=path)
    if _has_formulas(data):
        _uncomputed_formulas(data, numbered, path, error)
    (_, header), body = numbered[0], numbered[1:]
    width = max(len(r) for _, r in numbered)
    header = [("" if c is None else str(c)).strip() for c in header] + [""] * (width - len(header))
    body = [(n, list(r) + [None] * (width - len(r))) for n, r in body]
    keep = []
    for j, name in enumerate(header):
        if name:
            keep.append(j)
        elif any(not _blank_cell(r[j]) for _, r in body):
            raise error(f"column {_column_letter(j)} has values but no name in the header",
                        file=path, where="sheet row 1")
    return _Cells([header[j] for j in keep], [[r[j] for j in keep] for _, r in body],
                  [f"sheet row {n}" for n, _ in body], notices)


def _blank_cell(c) -> bool:
    return c is None or (isinstance(c, str) and not c.strip())


def _is_text(data: bytes) -> bool:
    try:
        data[:4096].decode("utf-8")
        return b"\x00" not in data[:4096]
    except UnicodeDecodeError:
        return False


def _column_letter(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _has_formulas(data: bytes) -> bool:
    """Whether the first sheet's XML holds a formula (cheap: no second parse when it does not)."""
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as z:
            sheets = sorted(n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
            return bool(sheets) and b"<f" in z.read(sheets[0])
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _uncomputed_formulas(data: bytes, numbered, path: str, error) -> None:
    """A formula cell whose workbook holds no computed value (written by a program that does not
    compute formulas) would read as blank: name every such cell instead."""
    import openpyxl

    wb = openpyxl.load_workbook(_io.BytesIO(data), read_only=True, data_only=False)
    formulas = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    cells = []
    for n, row in numbered:
        raw = formulas[n - 1] if n - 1 < len(formulas) else []
        for j, value in enumerate(row):
            f = raw[j] if j < len(raw) else None
            if value is None and isinstance(f, str) and f.startswith("="):
                cells.append((f"sheet row {n}", f"cell {_column_letter(j)}{n} holds the formula "
                              f"{_printable(f, 40)} but no computed value; open the workbook in a "
                              "spreadsheet program and save it, or paste the values"))
    if cells:
        raise error.of(cells, file=path)


def load_pool(path: str | os.PathLike, *, tiers: Mapping[str, Tier] | None = None) -> Pool:
    """Read a candidate pool from CSV or Excel (.xlsx) and validate it.

    Cells are read as text and converted by kolsim, so "10k", "nan" or an
    empty required cell is reported with its row rather than guessed at;
    every bad cell is reported (``PoolError.lines()``), not only the first.
    A row whose own numbers contradict each other under the tiers' defaults
    (``tiers``, the calibrated ones when not given), such as expected
    conversions above the note's expected clicks, is reported too.
    """
    from .model import creator_table

    pool = _read_pool(path)
    creator_table(pool.frame, tiers or {c: Tier.default(c) for c in TIERS}, pool)
    return pool


def load_column_map(path: str | os.PathLike):
    """A mapping file (TOML, ``docs/data.md``) for :func:`load_export`."""
    from .exports import parse_column_map

    path = str(path)
    text = _decode(_read_bytes(path, "column mapping", MAX_POOL_BYTES, PoolError), path, "column mapping", PoolError)
    return parse_column_map(_parse_toml(text, path), source=path)


def load_export(path: str | os.PathLike, *, profile: str | None = None, columns=None,
                price: str | None = None, tiers: Mapping[str, Tier] | None = None):
    """A marketplace export (CSV or .xlsx) as a pool: ``(Pool, ImportReport)``.

    ``profile``: a built-in layout (``kolsim.exports.PROFILES``; default: the common Chinese and
    English header names); ``columns``: a mapping file's path or a ``ColumnMap`` instead;
    ``price``: ``image`` or ``video``, which quoted price becomes ``cost_per_post``. Every value
    that cannot be read is reported at once (``PoolError.lines()``); the report lists every
    conversion made. ``docs/data.md``.
    """
    from dataclasses import replace as _replace

    from .exports import PROFILES, ColumnMap, convert
    from .model import creator_table

    if profile is not None and columns is not None:
        raise PoolError("give a profile or a mapping file, not both", where="--profile")
    if columns is not None:
        cmap = columns if isinstance(columns, ColumnMap) else load_column_map(columns)
    else:
        name = profile or "common"
        if name not in PROFILES:
            raise PoolError(f"unknown profile {name!r}; built in: {', '.join(PROFILES)}", where="--profile")
        cmap = PROFILES[name]
    if price is not None:
        if price not in ("image", "video"):
            raise PoolError(f"must be image or video (got {price!r})", where="--price")
        cmap = _replace(cmap, price=price)
    path = str(path)
    data = _read_bytes(path, "marketplace export", MAX_POOL_BYTES, PoolError)
    if path.lower().endswith((".xlsx", ".xlsm")):
        cells = _xlsx_cells(data, path)
    else:
        what = "marketplace export"
        cells = _csv_cells(_decode(data, path, what, PoolError), path, what, PoolError)
    frame, report = convert(cells.frame(), cmap, cells.places, path)
    pool = Pool.from_frame(frame, source=path, places=cells.places, notices=tuple(cells.notices))
    creator_table(pool.frame, tiers or {c: Tier.default(c) for c in TIERS}, pool)
    return pool, report


def _read_pool(path) -> Pool:
    """A pool, every cell checked (its rows' own numbers are the model's to check)."""
    path = str(path)
    data = _read_bytes(path, "candidate pool", MAX_POOL_BYTES, PoolError)
    if path.lower().endswith(".xls") or data[:4] == b"\xd0\xcf\x11\xe0":
        raise PoolError("old-style .xls workbooks are not read; save the sheet as .xlsx or CSV", file=path)
    if path.lower().endswith((".xlsx", ".xlsm")):
        cells = _xlsx_cells(data, path)
    else:
        cells = _csv_cells(_decode(data, path, "candidate pool", PoolError), path, "candidate pool", PoolError)
    return Pool.from_frame(cells.frame(), source=path, places=cells.places, notices=tuple(cells.notices))


def read_cells(path: str | os.PathLike, what: str, error=InputError):
    """A table's cells as read from a CSV or .xlsx file, for a module that checks them itself
    (:func:`kolsim.calibration.read_past`): ``(frame, places, notices, sha256)`` with every cell
    as text (CSV) or as the workbook holds it, each row's place (``line 14``, ``sheet row 14``),
    what was noticed and the SHA-256 of the file's bytes."""
    import hashlib

    path = str(path)
    data = _read_bytes(path, what, MAX_POOL_BYTES, error)
    if path.lower().endswith(".xls") or data[:4] == b"\xd0\xcf\x11\xe0":
        raise error("old-style .xls workbooks are not read; save the sheet as .xlsx or CSV", file=path)
    if path.lower().endswith((".xlsx", ".xlsm")):
        cells = _xlsx_cells(data, path, error)
    else:
        cells = _csv_cells(_decode(data, path, what, error), path, what, error)
    return cells.frame(), cells.places, tuple(cells.notices), hashlib.sha256(data).hexdigest()


def _read_plan_table(path: str, what: str, error) -> pd.DataFrame:
    """A CSV with at least kol_id, week and posts, all cells as text (header names trimmed)."""
    cells = _csv_cells(_decode(_read_bytes(path, what, MAX_POOL_BYTES, error), path, what, error), path, what,
                       error)
    missing = [c for c in ("kol_id", "week", "posts") if c not in cells.header]
    if missing:
        raise error(f"missing column(s) {', '.join(missing)}; a {what} needs kol_id, week, posts "
                    f"(found: {', '.join(cells.header) or 'none'})", file=path)
    df = cells.frame()
    df = df.loc[:, ~df.columns.duplicated()]
    df["_line"] = cells.places
    return df


def load_schedule(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a plan schedule CSV (kol_id, week, posts; other columns ignored)."""
    path = str(path)
    df = _read_plan_table(path, "plan schedule", ScenarioError)

    def num(v: str):
        try:
            return int(v)
        except ValueError:
            return v  # the parser reports it with its row
    return [{"kol_id": r["kol_id"], "week": num(r["week"]), "posts": num(r["posts"])}
            for r in df.to_dict("records")]


def load_start_plan(path: str | os.PathLike) -> pd.DataFrame:
    """Read a plan to start ``kolsim optimize`` from: kol_id, week, posts (a plan.csv of an
    earlier run will do; its other columns are ignored)."""
    path = str(path)
    df = _read_plan_table(path, "start plan", InputError)
    seen = set()
    for r in df.to_dict("records"):
        for name, low in (("week", 1), ("posts", 0)):
            text = r[name].strip()
            if not (text.isdigit() and int(text) >= low):
                raise InputError(f"{name} {r[name]!r} is not a whole number of at least {low}",
                                 file=path, where=r["_line"])
        key = (r["kol_id"].strip(), int(r["week"]))
        if key in seen:
            raise InputError(f"{key[0]} is listed twice for week {key[1]}", file=path, where=r["_line"])
        seen.add(key)
    return pd.DataFrame({"kol_id": df["kol_id"].str.strip(), "week": df["week"].astype(int),
                         "posts": df["posts"].astype(int)})


def load_scenario(path: str | os.PathLike, calibration: str | os.PathLike | None = None) -> Scenario:
    """Read and validate a scenario file (TOML), with the pool and schedule it names.

    ``calibration`` names an overlay (TOML, as ``kolsim calibrate`` writes it): its tables are
    merged key by key onto the scenario file's before it is read, so its values replace the
    file's; its ``[calibration]`` table is provenance and is kept as a notice.  An overlay may set
    the model's parameters only (``[tiers.<code>]``, ``[response]``, ``[uncertainty]``,
    ``[funnel]``, ``[decay]``, ``[word_of_mouth]``); any other key, or a bad value, is an error
    naming the overlay file.

    Raises
    ------
    ScenarioError, PoolError
        With the file, the table and key (or row) and what is allowed.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/perfume_launch.toml")
    >>> [w.name for w in s.waves]
    ['endorse', 'review', 'experience']
    """
    path = str(path)
    text = _decode(_read_bytes(path, "scenario file", MAX_SCENARIO_BYTES, ScenarioError), path,
                   "scenario file", ScenarioError)
    data = _parse_toml(text, path)
    overlay_keys: set[str] = set()
    overlay_note = None
    if calibration is not None:
        data, overlay_keys, overlay_note = _apply_overlay(data, str(calibration))
    base = Path(path).parent
    pool = schedule = None
    plan = data.get("plan")
    try:
        if isinstance(plan, dict):
            for key in ("pool", "schedule"):
                if key in plan and not isinstance(plan[key], str):
                    raise ScenarioError(f"must be a file path (got {_show(plan[key])})", where=f"[plan] {key}")
            # a plan's pool: its rows' own numbers are checked against the scenario's tiers when
            # the plan is compiled, not against the defaults
            for key, loader in (("pool", _read_pool), ("schedule", load_schedule)):
                if isinstance(plan.get(key), str):
                    try:
                        loaded = loader(base / plan[key])
                    except InputError as e:  # say which scenario named the file
                        raise type(e)(f"{e.message} (the file named by [plan] {key} in {path}; "
                                      "paths are relative to the scenario file)",
                                      file=e.file, where=e.where, more=e.more) from None
                    if key == "pool":
                        pool = loaded
                    else:
                        schedule = loaded
        scenario = parse_scenario(data, pool=pool, schedule=schedule, source=path)
    except InputError as e:
        if e.file is None and e.where is not None and any(e.where == k or e.where.startswith(k + " ")
                                                          for k in overlay_keys):
            raise type(e)(f"{e.message} (set by the calibration overlay)", file=str(calibration), where=e.where,
                          more=e.more) from None
        raise e.located(file=path) from None
    if overlay_note is not None:
        from dataclasses import replace as _replace

        scenario = _replace(scenario, notices=scenario.notices + (overlay_note,))
    return scenario


#: The tables a calibration overlay may set: the model's parameters.
OVERLAY_TABLES = ("tiers", "response", "uncertainty", "funnel", "decay", "word_of_mouth")


def _apply_overlay(data: dict, overlay: str) -> tuple[dict, set[str], str]:
    """The scenario's TOML tables with a calibration overlay merged onto them key by key;
    the places (``[tiers.micro] reach``, ``[tiers.micro]``) the overlay set, for messages;
    and a notice saying where its values come from."""
    text = _decode(_read_bytes(overlay, "calibration overlay", MAX_SCENARIO_BYTES, ScenarioError), overlay,
                   "calibration overlay", ScenarioError)
    over = _parse_toml(text, overlay)
    prov = over.pop("calibration", {})
    if not isinstance(prov, dict):
        raise ScenarioError(f"must be a table of provenance (got {_show(prov)})", file=overlay, where="calibration")
    for key, value in over.items():
        if key not in OVERLAY_TABLES:
            raise ScenarioError(f"an overlay may set only the model's parameters, in the tables "
                                f"{', '.join('[' + t + ']' for t in OVERLAY_TABLES)} (and [calibration], its "
                                f"provenance); {key!r} is not one of them", file=overlay, where=f"[{key}]")
        if not isinstance(value, dict):
            raise ScenarioError(f"must be a table (got {_show(value)})", file=overlay, where=f"[{key}]")
    places: set[str] = set()

    def merge(base: dict, top: dict, table: str) -> dict:
        out = dict(base)
        for k, v in top.items():
            here = f"{table}.{k}" if table else str(k)
            if isinstance(v, dict) and isinstance(out.get(k), dict | None):
                places.add(f"[{here}]")
                out[k] = merge(out.get(k) or {}, v, here)
            else:
                places.add(f"[{table}] {k}")
                out[k] = v
        return out

    merged = merge(data, over, "")
    fitted = sum(len(v) if not isinstance(v, dict) or not all(isinstance(x, dict) for x in v.values())
                 else sum(len(x) for x in v.values()) for v in over.values())
    source = prov.get("source")
    note = (f"{overlay}: calibration overlay, {fitted} value(s)"
            + (f" fitted to {_printable(str(source))}" if source else "")
            + (f" (sha256 {str(prov['sha256'])[:12]}…)" if prov.get("sha256") else ""))
    return merged, places, note


_TOML_AT = re.compile(r"^(?P<msg>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$",
                      re.S)
_TOML_TWICE = re.compile(r"^Cannot declare \((?P<key>.*)\) twice$", re.S)
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{%d,}" % MAX_DIGITS)


def _check_text(text: str, path: str) -> None:
    """Refuse what tomllib would choke on before it tries: absurdly deep dotted keys (quadratic
    memory) and integers longer than Python reads, each named with its line and key."""
    for n, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        head = stripped.split("]", 1)[0] if stripped.startswith("[") else \
            stripped.split("=", 1)[0] if "=" in stripped else ""
        if head.count(".") >= MAX_KEY_DEPTH:
            raise ScenarioError(f"a key has more than {MAX_KEY_DEPTH} dotted parts "
                                f"(the line reads: {_printable(stripped)})", file=path, where=f"line {n}")
        m = _LONG_NUMBER.search(line)
        if m and len(m.group().replace("_", "")) > MAX_DIGITS:
            key = head.strip() if "=" in stripped else ""
            raise ScenarioError(f"{key + ' ' if key else ''}holds a number of {len(m.group().replace('_', '')):,} "
                                f"digits; a number may have at most {MAX_DIGITS:,} (every kolsim value is far "
                                "smaller)", file=path, where=f"line {n}")


def _parse_toml(text: str, path: str) -> dict[str, Any]:
    """``tomllib.loads`` with its errors in kolsim's words, naming the line."""
    _check_text(text, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = _TOML_AT.match(str(e))
        msg = m.group("msg") if m else str(e)
        where, line = None, ""
        if m and m.group("line"):
            n = int(m.group("line"))
            where = f"line {n}, column {m.group('col')}"
            lines = text.split("\n")
            line = lines[n - 1].strip() if 1 <= n <= len(lines) else ""
        reads = f" (the line reads: {_printable(line)})" if line else ""
        if msg == "Illegal character '\\n'" and (line.count('"') % 2 or line.count("'") % 2):
            msg = "a string is not closed: add its closing quote on the same line"
        twice = _TOML_TWICE.match(msg)
        if msg == "Cannot overwrite a value" and "=" in line:
            key = line.split("=", 1)[0].strip()
            raise ScenarioError(f"key {key} is given twice; each key may appear only once in a table"
                                f"{reads}", file=path, where=where) from None
        if twice:
            name = ".".join(re.findall(r"'((?:[^'\\]|\\.)*)'", twice.group("key"))) or twice.group("key")
            raise ScenarioError(f"table [{_printable(name)}] is declared twice; merge the two "
                                f"into one{reads}", file=path, where=where) from None
        raise ScenarioError(f"not valid TOML: {_printable(msg, 200)}{reads}",
                            file=path, where=where) from None
    except RecursionError:
        raise ScenarioError("not valid TOML for kolsim: arrays or tables nested too deeply",
                            file=path) from None
    except ValueError as e:  # int() refusing a number the check above did not see
        raise ScenarioError(f"not valid TOML for kolsim: {_printable(str(e), 120)}", file=path) from None


# --------------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------------- #
def _os_error(e: OSError, target: str | os.PathLike, what: str) -> InputError:
    return InputError(f"cannot write {what}: {e.strerror or e}", file=str(target))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _scratch_name(target: Path, tag: str) -> Path:
    return target.parent / f".{target.name}.kolsim-{tag}-{os.getpid()}-{secrets.token_hex(4)}"


def _sweep(target: Path) -> None:
    """Remove what runs killed before they could clean up left beside ``target`` (their
    temporary files and folders, named with their process ids)."""
    pattern = re.compile(re.escape(f".{target.name}.kolsim-") + r"(?:new|old|tmp)-(\d+)-[0-9a-f]{8}$")
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = pattern.match(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            try:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            except OSError:
                pass


def _is_kolsim_folder(p: Path) -> bool:
    try:
        manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and "kolsim_version" in manifest and isinstance(manifest.get("files"), list)
            and all(isinstance(f, str) and f and "/" not in f and "\\" not in f for f in manifest["files"]))


def _manifest_files(p: Path) -> list[str]:
    return json.loads((p / MANIFEST).read_text(encoding="utf-8"))["files"]


def check_output_dir(out: str | os.PathLike) -> Path:
    """Make sure ``out`` can receive a run's output folder, without creating anything.

    ``out`` need not exist (its nearest existing ancestor must then be a
    writable directory); if it exists it must be an empty directory or a
    kolsim output folder, which a run replaces as a whole.  Nothing is created,
    so a run that stops on bad input leaves no empty directory behind.
    """
    if not str(out):
        raise InputError("the output directory is empty; give a directory name", where="--out")
    p = Path(out)
    try:
        if p.exists() and not p.is_dir():
            raise InputError("exists and is not a directory; give a directory for the outputs", file=str(out))
        if p.is_dir():
            here = Path.cwd().resolve()
            real = p.resolve()
            if real == here or real in here.parents:
                raise InputError("is the current directory (or holds it); give a directory of its own "
                                 "for the outputs, such as results/run1", file=str(out))
            entries = [e.name for e in p.iterdir()]
            if entries and not _is_kolsim_folder(p):
                shown = ", ".join(sorted(entries)[:3]) + (" …" if len(entries) > 3 else "")
                raise InputError(f"holds files that are not a kolsim run's output ({shown}); a run replaces "
                                 "its output folder as a whole, so give a new or empty directory",
                                 file=str(out))
            if not os.access(p, os.W_OK | os.X_OK):
                raise InputError("is read-only; a run replaces its output folder as a whole, so make it writable "
                                 "or give another directory", file=str(out))
            if entries:  # a kolsim folder, but only what its manifest lists may be replaced
                listed = set(_manifest_files(p)) | {MANIFEST}
                extra = sorted(set(entries) - listed)
                if extra:
                    shown = ", ".join(extra[:3]) + (" …" if len(extra) > 3 else "")
                    raise InputError(f"is an earlier kolsim output that now also holds files it did not write "
                                     f"({shown}); a run replaces the folder as a whole, so move them out or "
                                     "give another directory", file=str(out))
        existing = next((a for a in [p.absolute(), *p.absolute().parents] if a.exists()), None)
        if existing is not None and not existing.is_dir():
            raise InputError(f"cannot create the output directory: {existing} is a file, not a directory; "
                             "give a directory for the outputs", file=str(out))
        parent = p.absolute().parent
        anchor = parent if parent.exists() else existing
        if anchor is None or not os.access(anchor, os.W_OK | os.X_OK):
            raise InputError("cannot write to the output directory: Permission denied", file=str(out))
        _probe(anchor, out)
    except OSError as e:
        raise InputError(f"cannot write to the output directory: {e.strerror or e}", file=str(out)) from None
    return p


def _probe(directory: Path, shown) -> None:
    """Create and remove a file in ``directory``: the only sure test that it takes files."""
    name = directory / f".kolsim-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        raise InputError(f"cannot write to the output directory: {e.strerror or e}", file=str(shown)) from None


def check_output_file(out: str | os.PathLike) -> Path:
    """Make sure a single output file can be written at ``out``, without creating anything
    (missing directories above it are created when it is written)."""
    if not str(out):
        raise InputError("the output file name is empty; give a file name")
    p = Path(out)
    try:
        if p.is_dir():
            raise InputError("is a directory; give a file name for the output", file=str(out))
        existing = next(a for a in p.absolute().parents if a.exists())
        if not existing.is_dir():
            raise InputError(f"cannot write the file there: {existing} is a file, not a directory",
                             file=str(out))
        _probe(existing, out)
    except InputError as e:
        if e.message.startswith("cannot write"):
            raise
        raise InputError(f"cannot write the file there: {e.message}", file=str(out)) from None
    except OSError as e:
        raise InputError(f"cannot write the file there: {e.strerror or e}", file=str(out)) from None
    return p


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    return obj


def _to_bytes(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    if isinstance(content, pd.DataFrame):
        return content.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if isinstance(content, Mapping):
        return (json.dumps(_json_safe(content), indent=2, sort_keys=False) + "\n").encode("utf-8")
    if hasattr(content, "savefig"):  # a matplotlib Figure
        buf = _io.BytesIO()
        content.savefig(buf, format="png", dpi=110, metadata={"Software": None})
        return buf.getvalue()
    raise TypeError(f"cannot write a {type(content).__name__}")


def _write_new(path: Path, data: bytes) -> None:
    """A new file (it must not exist), with the umask's permissions, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    except OSError:
        pass


def _interrupted(e: BaseException, written: list[str]) -> BaseException:
    """An interrupt that came while the last renames ran, noting what they had put in place."""
    e.written = written  # type: ignore[attr-defined]
    return e


def write_outputs(out: str | os.PathLike, files: Mapping[str, Any], *, kind: str = "run") -> list[Path]:
    """Write ``{name: content}`` as the whole content of the folder ``out``, atomically.

    Content may be bytes, text, a DataFrame (CSV), a mapping (JSON) or a
    matplotlib figure (PNG).  Everything is rendered and written into a new
    sibling folder with a ``manifest.json``, which then replaces ``out`` in one
    rename (an earlier kolsim output there is removed after the swap).

    Raises
    ------
    InputError
        ``out`` cannot take the outputs (see :func:`check_output_dir`), or the
        operating system refused a write; nothing is left behind.
    """
    target = check_output_dir(out)
    real = target.resolve() if target.is_symlink() else target.absolute()
    parent = real.parent
    written: list[str] = []
    staging = _scratch_name(real, "new")
    old = _scratch_name(real, "old")
    with _staged(staging, out, "the outputs", written):
        parent.mkdir(parents=True, exist_ok=True)
        _sweep(real)
        os.mkdir(staging, 0o777)
        names = []
        for name, content in files.items():
            _write_new(staging / name, _to_bytes(content))
            names.append(name)
        manifest = {"kolsim_version": __version__, "kind": kind, "files": names}
        _write_new(staging / MANIFEST, _to_bytes(manifest))
        _fsync_dir(staging)
        with _signals.deferred():
            swapped = real.exists()
            if swapped:
                os.rename(real, old)
            try:
                os.rename(staging, real)
            except OSError:
                if swapped:
                    os.rename(old, real)  # put the earlier output back
                raise
            written.append(str(out))
            _fsync_dir(parent)
    _remove(old)
    return [real / n for n in names]


def write_file(out: str | os.PathLike, content: Any) -> Path:
    """Write one file atomically: beside it first, then renamed over it.

    Raises
    ------
    InputError
        The file cannot be written there, or the operating system refused a
        write; nothing is left behind.
    """
    target = check_output_file(out).absolute()
    tmp = _scratch_name(target, "tmp")
    written: list[str] = []
    with _staged(tmp, out, "the file", written):
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep(target)
        _write_new(tmp, _to_bytes(content))
        with _signals.deferred():
            os.replace(tmp, target)
            written.append(str(out))
            _fsync_dir(target.parent)
    return target


@contextlib.contextmanager
def _staged(scratch: Path, out, what: str, written: list[str]):
    """Whatever stops a write removes its scratch file or folder: an OS error becomes an
    :class:`InputError` naming ``out`` and the reason; an interrupt (held back until the renames
    are done) goes on with a note of what those renames had put in place."""
    try:
        yield
    except KeyboardInterrupt as e:
        _remove(scratch)
        raise _interrupted(e, written) from None
    except OSError as e:
        _remove(scratch)
        raise _os_error(e, out, what) from None
    except BaseException:
        _remove(scratch)
        raise


# --------------------------------------------------------------------------- #
# Reading outputs back
# --------------------------------------------------------------------------- #
#: The tables each kind of run always writes, with the columns a reader relies on (a sweep
#: writes sweep.csv, or decisions.csv when it re-optimises).
_EXPECTED = {
    "simulate": {"summary.csv": ("metric", "mean", "ci_low", "ci_high", "p10", "p90")},
    "compare": {"comparison.csv": ("scenario", "metric", "mean"), "verdict.csv": ("scenario", "metric", "verdict")},
    "optimize": {"plan.csv": ("kol_id", "week", "posts", "cost")},
    "sweep": {"sweep.csv": ("point", "metric", "mean"), "decisions.csv": ("point", "objective", "regret")},
    "frontier": {"frontier.csv": ("budget", "objective")},
    "tradeoff": {"tradeoff.csv": ("point", "kind", "in_sample_mean")},
}


def load_results(path: str | os.PathLike):
    """Read back an output folder that ``kolsim simulate``, ``compare``, ``optimize`` or ``sweep`` wrote.

    Returns a :class:`kolsim.results.SavedRun`: its kind, ``summary`` (the
    parsed ``summary.json``), every CSV table as a DataFrame, every PNG plot
    as bytes and the names of its files.

    Examples
    --------
    >>> import kolsim, tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "run")
    >>> r = kolsim.simulate(kolsim.load_scenario("scenarios/micro_seeding.toml"), runs=100, rng=1)
    >>> _ = write_outputs(out, {"summary.csv": r.summary().reset_index()}, kind="simulate")
    >>> saved = kolsim.load_results(out)
    >>> saved.kind, list(saved.tables)
    ('simulate', ['summary'])
    """
    from .results import SavedRun

    p = Path(path)
    if not p.is_dir():
        raise InputError("is not a directory; give an output folder of kolsim", file=str(path))
    if not _is_kolsim_folder(p):
        raise InputError(f"is not a kolsim output folder (it has no {MANIFEST} written by kolsim)", file=str(path))
    manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
    tables, summary, images = {}, None, {}
    for name in manifest["files"]:
        f = p / name
        if not f.exists():
            raise InputError(f"is incomplete: {name} is missing", file=str(path))
        try:
            if name.endswith(".csv"):
                tables[name[:-4]] = pd.read_csv(f)
            elif name == "summary.json":
                summary = json.loads(f.read_text(encoding="utf-8"))
            elif name.endswith(".png"):
                images[name] = f.read_bytes()
                if not images[name].startswith(b"\x89PNG\r\n\x1a\n"):
                    raise ValueError("not a PNG image")
        except OSError as e:
            raise InputError(f"cannot be read: {e.strerror or e}", file=str(f)) from None
        except (ValueError, pd.errors.ParserError) as e:
            raise InputError(f"is damaged and cannot be read ({type(e).__name__}: {e})", file=str(f)) from None
    if summary is not None and not isinstance(summary, dict):
        raise InputError("is damaged: it is not a JSON object as kolsim writes it", file=str(p / "summary.json"))
    kind = manifest.get("kind", "run")
    key = "scenarios" if kind == "compare" else "provenance"
    if summary is not None and kind in _EXPECTED and not isinstance(summary.get(key), (dict, list)):
        raise InputError(f"is damaged: a {kind} run's summary.json holds {key!r}, and this one does not",
                         file=str(p / "summary.json"))
    for name, columns in _EXPECTED.get(kind, {}).items():
        t = tables.get(name[:-4])
        if name in manifest["files"] and t is not None:
            lacking = [c for c in columns if c not in t.columns]
            if lacking:
                raise InputError(f"is damaged: it lacks the column(s) {', '.join(lacking)} that kolsim writes "
                                 f"in a {kind} run", file=str(p / name))
        elif name not in manifest["files"] and kind != "sweep":
            raise InputError(f"is incomplete: a {kind} run writes {name}, which its manifest does not list",
                             file=str(path))
    return SavedRun(path=str(path), kind=manifest.get("kind", "run"), files=tuple(manifest["files"]),
                    summary=summary, tables=tables, kolsim_version=manifest["kolsim_version"], images=images)
