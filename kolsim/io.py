"""Files in, results out: the only module that touches the file system.

Reading checks what can go wrong with a file before its content is parsed
(missing, a directory, too large, not UTF-8 text) and names the file in every
message.  Writing is atomic: every output is first written to a temporary file
in the target directory, and only when all of them are written are they moved
into place, so a failure leaves earlier results intact and no half files.
"""

from __future__ import annotations

import io as _io
import json
import math
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .errors import InputError, PoolError, ScenarioError
from .pool import Pool
from .scenario import Scenario, parse_scenario
from .text import printable as _printable, show as _show

__all__ = ["load_scenario", "load_pool", "load_schedule", "load_start_plan", "write_outputs",
           "check_output_dir"]

MAX_SCENARIO_BYTES = 1_000_000
MAX_POOL_BYTES = 200_000_000
#: Most parts in one dotted TOML key (``a.b.c``): tomllib's cost grows with the square of it.
MAX_KEY_DEPTH = 32


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


def load_pool(path: str | os.PathLike) -> Pool:
    """Read a candidate pool from CSV or Excel (.xlsx) and validate it.

    Cells are read as text and converted by kolsim, so "10k", "nan" or an
    empty required cell is reported with its row rather than guessed at.
    """
    path = str(path)
    data = _read_bytes(path, "candidate pool", MAX_POOL_BYTES, PoolError)
    if path.lower().endswith(".xls"):
        raise PoolError("old-style .xls workbooks are not read; save the sheet as .xlsx or CSV",
                        file=path)
    if path.lower().endswith((".xlsx", ".xlsm")):
        try:
            df = pd.read_excel(_io.BytesIO(data), dtype=object)
        except Exception as e:  # openpyxl raises many types for a bad workbook
            raise PoolError(f"cannot read the Excel workbook: {e}", file=path) from None
    else:
        text = _decode(data, path, "candidate pool", PoolError)
        try:
            df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False,
                             skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise _csv_error(e, path, PoolError) from None
        if not isinstance(df.index, pd.RangeIndex):
            # pandas makes the first column the index when the first data row
            # has one cell more than the header: say so instead of shifting columns
            raise PoolError(f"has {len(df.columns) + 1} cells but the header has {len(df.columns)} "
                            "columns (a comma inside a value needs double quotes around the value)",
                            file=path, where="row 1 (line 2)")
    return Pool.from_frame(df, source=path)


_CSV_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _csv_error(e: Exception, path: str, error=InputError) -> InputError:
    """pandas' parser message in kolsim's words, with the line when it is known."""
    text = " ".join(str(e).split())
    m = _CSV_FIELDS.search(text)
    if m:
        want, line, saw = m.groups()
        return error(f"has {saw} cells but the header has {want} columns "
                     "(a comma inside a value needs double quotes around the value)",
                     file=path, where=f"line {line}")
    if "EOF inside string" in text:
        return error("a double quote opens a value that is never closed (not a valid CSV table)",
                     file=path)
    return error(f"not a valid CSV table: {text}", file=path)


def _read_plan_table(path: str, what: str, error) -> pd.DataFrame:
    """A CSV with at least kol_id, week and posts, all cells as text."""
    text = _decode(_read_bytes(path, what, MAX_POOL_BYTES, error), path, what, error)
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise _csv_error(e, path, error) from None
    missing = [c for c in ("kol_id", "week", "posts") if c not in df.columns]
    if missing:
        raise error(f"missing column(s) {', '.join(missing)}; a {what} needs kol_id, week, posts", file=path)
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
    for line, r in enumerate(df.to_dict("records"), 2):
        for name, low in (("week", 1), ("posts", 0)):
            text = r[name].strip()
            if not (text.isdigit() and int(text) >= low):
                raise InputError(f"{name} {r[name]!r} is not a whole number of at least {low}",
                                 file=path, where=f"line {line}")
        key = (r["kol_id"], int(r["week"]))
        if key in seen:
            raise InputError(f"{r['kol_id']} is listed twice for week {key[1]}", file=path, where=f"line {line}")
        seen.add(key)
    return pd.DataFrame({"kol_id": df["kol_id"], "week": df["week"].astype(int), "posts": df["posts"].astype(int)})


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file (TOML), with the pool and schedule it names.

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
    base = Path(path).parent
    pool = schedule = None
    plan = data.get("plan")
    try:
        if isinstance(plan, dict):
            for key in ("pool", "schedule"):
                if key in plan and not isinstance(plan[key], str):
                    raise ScenarioError(f"must be a file path (got {_show(plan[key])})", where=f"[plan] {key}")
            for key, loader in (("pool", load_pool), ("schedule", load_schedule)):
                if isinstance(plan.get(key), str):
                    try:
                        loaded = loader(base / plan[key])
                    except InputError as e:  # say which scenario named the file
                        raise type(e)(f"{e.message} (the file named by [plan] {key} in {path}; "
                                      "paths are relative to the scenario file)",
                                      file=e.file, where=e.where) from None
                    if key == "pool":
                        pool = loaded
                    else:
                        schedule = loaded
        return parse_scenario(data, pool=pool, schedule=schedule, source=path)
    except InputError as e:
        raise e.located(file=path) from None


_TOML_AT = re.compile(r"^(?P<msg>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$",
                      re.S)
_TOML_TWICE = re.compile(r"^Cannot declare \((?P<key>.*)\) twice$", re.S)


def _check_key_depth(text: str, path: str) -> None:
    """Refuse absurdly deep dotted keys before tomllib spends quadratic memory on them."""
    for n, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        head = stripped.split("]", 1)[0] if stripped.startswith("[") else \
            stripped.split("=", 1)[0] if "=" in stripped else ""
        if head.count(".") >= MAX_KEY_DEPTH:
            raise ScenarioError(f"a key has more than {MAX_KEY_DEPTH} dotted parts "
                                f"(the line reads: {_printable(stripped)})",
                                file=path, where=f"line {n}")


def _parse_toml(text: str, path: str) -> dict[str, Any]:
    """``tomllib.loads`` with its errors in kolsim's words, naming the line."""
    _check_key_depth(text, path)
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
    except ValueError as e:  # tomllib lets int() refuse numbers of over 4300 digits
        raise ScenarioError(f"not valid TOML for kolsim: {_printable(str(e), 120)}",
                            file=path) from None


# --------------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------------- #
def check_output_dir(out: str | os.PathLike, *, create: bool = False) -> Path:
    """Make sure files can be written in ``out``, without creating anything.

    ``out`` need not exist: then its nearest existing ancestor must be a
    writable directory.  Nothing is created unless ``create`` is set (as
    :func:`write_outputs` does when it writes), so a run that stops on bad input
    leaves no empty directory behind.
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError("exists and is not a directory; give a directory for the outputs", file=str(out))
    existing = p if p.exists() else None
    for parent in p.absolute().parents:  # a file where a directory must be
        if existing is not None:
            break
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"cannot create the output directory: {parent} is a file, "
                                 "not a directory; give a directory for the outputs", file=str(out))
            existing = parent
    try:
        if create:
            p.mkdir(parents=True, exist_ok=True)
            existing = p
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".kolsim-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"cannot write to the output directory: {e.strerror or e}",
                         file=str(out)) from None
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


def write_outputs(out: str | os.PathLike, files: Mapping[str, Any]) -> list[Path]:
    """Write ``{name: content}`` into ``out`` atomically.

    Content may be bytes, text, a DataFrame (CSV), a mapping (JSON) or a
    matplotlib figure (PNG).  All files are rendered and written to temporary
    files first; only then are they moved into place.
    """
    target = check_output_dir(out, create=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            data = _to_bytes(content)
            fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".tmp")
            staged.append((tmp, target / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return [final for _, final in staged]
