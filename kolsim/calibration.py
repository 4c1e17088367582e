"""Calibration from a past campaign: the model's parameters fitted to its per-note export.

:func:`read_past` reads an export (``docs/data.md``, "The calibration export"), checking every
cell and reporting every bad one at once; :func:`calibrate` fits, with 95 % intervals:

- per tier, ``reach``, ``reach_sigma`` and the creators' spread ``[uncertainty] creator_sigma``
  by a random-effects lognormal model of each note's reads against the reads the model expects
  of it (restricted maximum likelihood);
- per tier, ``interaction_rate``, ``like_share``, ``collect_share``, ``ctr`` and ``cvr`` as
  Poisson and binomial rates (the wider of the count interval and the creator-cluster one;
  ``cvr`` widened by the shared spreads of ``[uncertainty]``);
- the decay kernel (``feed_share``, ``feed_half_life_days``, ``search_half_life_days``) by
  multinomial maximum likelihood on each note's reads by day since publication;
- Bass ``p`` and ``q`` and ``offsite_per_onsite`` by Poisson maximum likelihood on the orders no
  note tracked, day by day.

``docs/data.md`` ("Calibration") states every estimator with its equations.  The result's
:meth:`CalibrationResult.overlay_toml` is a scenario overlay that ``kolsim simulate
--calibration`` and :func:`kolsim.load_scenario` (``calibration=``) merge onto a scenario.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import optimize as _optimize
from scipy import stats

from . import io
from ._version import __version__
from .defaults import TIERS
from .errors import InputError
from .exports import parse_number
from .model import build_post_table, capacity, creator_table, decay_kernel, delay_pmf, relevance
from .scenario import Decay, Funnel, Scenario, Tier, Uncertainty, WordOfMouth
from .text import name_key, show

__all__ = ["REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "PastCampaign", "read_past", "parse_past", "calibrate",
           "CalibrationResult"]

#: Columns a past campaign's export must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("note_id", "kol_id", "tier", "publish_date", "reads")
#: Columns it may have (``docs/data.md``).
OPTIONAL_COLUMNS: tuple[str, ...] = ("category", "followers", "date", "likes", "collects", "comments",
                                     "interactions", "clicks", "orders", "spend")
_COUNTS = ("reads", "likes", "collects", "comments", "interactions", "clicks", "orders")
#: Tier names accepted beside kolsim's codes.
_TIER_ALIASES = {"nano": "koc"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_Z = float(stats.norm.ppf(0.975))


# --------------------------------------------------------------------------- #
# The export
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class PastCampaign:
    """A past campaign's export, checked and arranged for fitting.

    Attributes
    ----------
    notes : DataFrame
        One row per note: ``note_id``, ``kol_id``, ``tier``, ``category`` ('' when not given),
        ``followers`` (NaN when not given), ``publish`` (its publication day, 0 = the export's
        first date), the note's totals of every count column present, and ``spend``.
    daily : DataFrame or None
        With a ``date`` column: one row per note and day, ``note`` (position in ``notes``),
        ``day``, ``age`` (days since publication) and the counts.
    other : DataFrame or None
        The orders no note tracked, one row per day: ``day``, ``category``, ``orders``.
    columns : tuple of str
        The columns the export has (``interactions`` included when summed from its parts).
    start : datetime.date
        Day 0, the export's first date; ``horizon`` days follow, to its last date.
    source, sha256 : str or None
        The file and the SHA-256 of its bytes.
    rows : int
        Rows read.
    notices : tuple of str
        What was noticed while reading (ignored columns, summed interactions).
    """

    notes: pd.DataFrame
    daily: pd.DataFrame | None
    other: pd.DataFrame | None
    columns: tuple[str, ...]
    start: _dt.date
    horizon: int
    source: str | None = None
    sha256: str | None = None
    rows: int = 0
    notices: tuple[str, ...] = ()

    def has(self, column: str) -> bool:
        return column in self.columns

    def __repr__(self) -> str:
        days = f", {len(self.daily):,} note-days" if self.daily is not None else ""
        return (f"PastCampaign({len(self.notes):,} notes by {self.notes['kol_id'].nunique():,} creators{days} "
                f"over {self.horizon} days from {self.start.isoformat()})")


def read_past(path) -> PastCampaign:
    """Read a past campaign's per-note export (CSV or .xlsx) and check every cell.

    Raises
    ------
    InputError
        Naming the file, and for every bad cell its line (or sheet row), column, value and what
        is allowed, all at once (``InputError.lines()``).
    """
    what = "past campaign export"
    frame, places, notices, digest = io.read_cells(path, what)
    return parse_past(frame, places, source=str(path), sha256=digest, notices=notices)


def _blank(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _text(v) -> str:
    if _blank(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _date(v) -> _dt.date | None:
    """A date cell: YYYY-MM-DD text, or a workbook's date; None when it is neither."""
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    text = _text(v)
    if not _DATE.match(text):
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        return None


def _count(v) -> int | str:
    """A whole number >= 0, or why not."""
    value, how = parse_number(v if not isinstance(v, (np.integer, np.floating)) else v.item(), "count")
    if value is None:
        return how or "is not a number"
    if math.isnan(value):
        return "is empty; give 0 when there were none"
    if value < 0 or not float(value).is_integer() or not math.isfinite(value):
        return "is not a whole number >= 0"
    return int(value)


def _amount(v, kind: str) -> float | str:
    value, how = parse_number(v if not isinstance(v, (np.integer, np.floating)) else v.item(), kind)
    if value is None:
        return how or "is not a number"
    if not math.isnan(value) and (value < 0 or not math.isfinite(value)):
        return "is not a number >= 0"
    return value


def _convert(values: np.ndarray, kind: str) -> list:
    """Every cell of a column converted: text, a name (normalised), a date, a count, followers or
    money; a cell that cannot be converted becomes the string saying why (text never fails)."""
    if kind in ("count", "followers", "money"):
        num = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
        out = num.tolist()
        blank = [_blank(v) for v in values]
        for i in np.flatnonzero(~np.isfinite(num) | (num < 0) | ((num != np.floor(num)) if kind == "count" else False)):
            v = values[i]
            if blank[i]:
                out[i] = math.nan if kind != "count" else "is empty; give 0 when there were none"
                continue
            out[i] = _count(v) if kind == "count" else _amount(v, "money" if kind == "money" else "count")
        if kind == "count":
            out = [int(v) if isinstance(v, float) else v for v in out]
        return out
    memo: dict = {}
    out = []
    for v in values:
        key = (type(v), v) if not _blank(v) else None
        if key not in memo:
            text = _text(v)
            memo[key] = (text if kind == "text" else name_key(text) if kind == "name" else
                         (_date(v) if text else None))
        out.append(memo[key])
    return out


def parse_past(frame: pd.DataFrame, places=None, *, source: str | None = None, sha256: str | None = None,
               notices=()) -> PastCampaign:
    """A past campaign's export from its table of cells (``docs/data.md``, "The calibration export").

    ``frame`` holds the cells as read (text, numbers or dates; :func:`kolsim.past_export`'s
    table will do); ``places`` names each row in messages (``line 14``; default ``row i``).

    Raises
    ------
    InputError
        A required column missing, or every bad cell, each with its place and column.
    """
    file = source
    header = [str(c).strip() for c in frame.columns]
    keys = [name_key(c) for c in header]
    dup = sorted({c for c in keys if keys.count(c) > 1})
    if dup:
        raise InputError(f"has the column(s) {', '.join(dup)} more than once", file=file)
    missing = [c for c in REQUIRED_COLUMNS if c not in keys]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; a past campaign export needs "
                         f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(header) or 'none'})", file=file)
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    extra = [h for h, k in zip(header, keys) if k not in known]
    notes_said = list(notices)
    if extra:
        notes_said.append(f"{file or 'the export'}: ignored column(s) {', '.join(map(repr, extra))} "
                          f"(read: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    cells = frame.copy()
    cells.columns = keys
    cells = cells[[c for c in keys if c in known]]
    present = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in cells.columns]
    places = list(places) if places is not None else [f"row {i + 1}" for i in range(len(cells))]
    has_date = "date" in present
    counts = [c for c in _COUNTS if c in present]
    problems: list[tuple[str, str]] = []

    def bad(i: int, col: str, value, why: str) -> None:
        problems.append((f"{places[i]}, column {col}", f"{show(value if not _blank(value) else '')} {why}"))

    note_rows: list[dict] = []
    other_rows: list[dict] = []
    first_of: dict[str, int] = {}     # note -> its first row's record position
    seen_day: dict[tuple[str, Any], int] = {}
    tier_of_kol: dict[str, tuple[str, int]] = {}
    kinds = {"note_id": "text", "kol_id": "text", "tier": "name", "category": "name", "publish_date": "date",
             "date": "date", "followers": "followers", "spend": "money", **{c: "count" for c in _COUNTS}}
    names = list(cells.columns)
    raw = {c: cells[c].to_numpy(object) for c in names}
    val = {c: _convert(raw[c], kinds[c]) for c in names}
    for i in range(len(cells)):
        r = {c: raw[c][i] for c in names}
        v = {c: val[c][i] for c in names}
        note, kol = v["note_id"], v["kol_id"]
        if not note and not kol:  # the day's orders no note tracked
            rec = {"i": i}
            if not has_date:
                problems.append((places[i], "has no note_id and no kol_id, so it carries orders no note tracked; "
                                 "such rows need a date column"))
                continue
            d = v["date"]
            if d is None:
                bad(i, "date", r["date"], "is not a date (YYYY-MM-DD)")
            rec["date"] = d
            if "orders" not in cells.columns:
                problems.append((places[i], "has no note_id and no kol_id, so it carries orders no note tracked; "
                                 "the export needs an orders column"))
                continue
            n = v["orders"]
            if isinstance(n, str):
                bad(i, "orders", r["orders"], n)
            rec["orders"] = n
            for c in ("reads", "likes", "collects", "comments", "interactions", "clicks"):
                if c in cells.columns and not _blank(r[c]):
                    bad(i, c, r[c], "is given on a row without a note_id; a row of orders no note tracked "
                                    "holds only date, orders (and category)")
            rec["category"] = v.get("category", "")
            other_rows.append(rec)
            continue
        if not note:
            bad(i, "note_id", r["note_id"], f"is empty but kol_id is {kol!r}; every row of a note needs its note_id "
                                            "(leave both empty for a row of orders no note tracked)")
            continue
        if not kol:
            bad(i, "kol_id", r["kol_id"], f"is empty; note {note!r} needs the creator who published it")
        rec = {"i": i, "note_id": note, "kol_id": kol}
        t = _TIER_ALIASES.get(v["tier"], v["tier"])
        if t not in TIERS:
            bad(i, "tier", r["tier"], f"is not a tier; allowed: {', '.join(TIERS)} (nano for koc)")
        rec["tier"] = t
        pub = v["publish_date"]
        if pub is None:
            bad(i, "publish_date", r["publish_date"], "is not a date (YYYY-MM-DD)")
        rec["publish_date"] = pub
        if has_date:
            d = v["date"]
            if d is None:
                bad(i, "date", r["date"], "is not a date (YYYY-MM-DD)")
            elif pub is not None and d < pub:
                bad(i, "date", r["date"], f"is before the note's publish_date {pub.isoformat()}")
            rec["date"] = d
        for c in counts:
            n = v[c]
            if isinstance(n, str):
                bad(i, c, r[c], n)
            rec[c] = n
        if "followers" in cells.columns:
            f = v["followers"]
            if isinstance(f, str) or f == 0:
                bad(i, "followers", r["followers"], f if isinstance(f, str) else "is not a number > 0")
            rec["followers"] = f if not isinstance(f, str) else math.nan
        if "spend" in cells.columns:
            m = v["spend"]
            if isinstance(m, str):
                bad(i, "spend", r["spend"], f"{m} (RMB)")
            rec["spend"] = 0.0 if isinstance(m, str) or math.isnan(m) else m
        rec["category"] = v.get("category", "")
        # one note, one creator, tier, publication, category and follower count
        if note in first_of:
            first = note_rows[first_of[note]]
            if not has_date:
                problems.append((places[i], f"lists note {note!r} again (first on {places[first['i']]}); without a "
                                 "date column each note has one row of its totals"))
                continue
            for c in ("kol_id", "tier", "publish_date", "category", "followers"):
                a, b = first.get(c), rec.get(c)
                if c == "followers" and (a is None or b is None or math.isnan(a) or math.isnan(b)):
                    continue
                if c == "category" and (not a or not b):
                    continue
                if a is not None and b is not None and a != b:
                    shown = a.isoformat() if isinstance(a, _dt.date) else a
                    bad(i, c, r[c], f"differs from note {note!r}'s {c} on {places[first['i']]} ({shown!r})")
        else:
            first_of[note] = len(note_rows)
        if has_date and rec.get("date") is not None:
            key = (note, rec["date"])
            if key in seen_day:
                problems.append((places[i], f"gives note {note!r} on {rec['date'].isoformat()} again (first on "
                                 f"{places[seen_day[key]]}); one row per note and day"))
            seen_day[key] = i
        if kol and t in TIERS:
            if kol in tier_of_kol and tier_of_kol[kol][0] != t:
                bad(i, "tier", r["tier"], f"differs from creator {kol!r}'s tier {tier_of_kol[kol][0]!r} on "
                                          f"{places[tier_of_kol[kol][1]]}; a creator has one tier")
            tier_of_kol.setdefault(kol, (t, i))
        note_rows.append(rec)
    seen_other: dict[tuple, int] = {}
    for rec in other_rows:
        key = (rec.get("date"), rec.get("category"))
        if rec.get("date") is not None and key in seen_other:
            problems.append((places[rec["i"]], f"gives the orders no note tracked on {rec['date'].isoformat()} again "
                             f"(first on {places[seen_other[key]]}); one row per day"))
        seen_other.setdefault(key, rec["i"])
    if problems:
        raise InputError.of(problems, file=file)
    if not note_rows:
        raise InputError("holds no note (no row with a note_id); a past campaign export has a row per note "
                         "(or per note and day)", file=file)

    dates = [r["publish_date"] for r in note_rows] + ([r["date"] for r in note_rows] if has_date else []) + \
        [r["date"] for r in other_rows]
    start, end = min(dates), max(dates)
    horizon = (end - start).days + 1
    rows = pd.DataFrame(note_rows)
    rows["publish"] = [(d - start).days for d in rows["publish_date"]]
    if "interactions" not in present and all(c in present for c in ("likes", "collects", "comments")):
        rows["interactions"] = rows["likes"] + rows["collects"] + rows["comments"]
        counts = counts + ["interactions"]
        present.append("interactions")
        notes_said.append(f"{file or 'the export'}: interactions are likes + collects + comments "
                          "(no interactions column)")
    agg = {c: "sum" for c in counts}
    agg.update({c: "first" for c in ("kol_id", "tier", "category", "publish")})
    if "followers" in rows.columns:
        agg["followers"] = "max"
    if "spend" in rows.columns:
        agg["spend"] = "sum"
    order = list(dict.fromkeys(rows["note_id"]))
    notes = rows.groupby("note_id", sort=False).agg(agg).reindex(order).reset_index()
    if "followers" not in notes.columns:
        notes["followers"] = math.nan
    if "spend" not in notes.columns:
        notes["spend"] = math.nan
    for c in counts:
        notes[c] = notes[c].astype(np.int64)
    daily = None
    if has_date:
        index = {n: j for j, n in enumerate(order)}
        daily = pd.DataFrame({"note": rows["note_id"].map(index).to_numpy(np.int64),
                              "day": [(d - start).days for d in rows["date"]]})
        daily["age"] = daily["day"] - rows["publish"].to_numpy(np.int64)
        for c in counts:
            daily[c] = rows[c].to_numpy(np.int64)
    other = None
    if other_rows:
        other = pd.DataFrame({"day": [(r["date"] - start).days for r in other_rows],
                              "category": [r["category"] for r in other_rows],
                              "orders": [r["orders"] for r in other_rows]})
    return PastCampaign(notes=notes, daily=daily, other=other, columns=tuple(present), start=start,
                        horizon=horizon, source=source, sha256=sha256, rows=len(cells), notices=tuple(notes_said))


# --------------------------------------------------------------------------- #
# The result
# --------------------------------------------------------------------------- #
_TABLE_COLUMNS = ("parameter", "key", "default", "estimate", "low", "high", "n", "method", "verdict")


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """What a past campaign says about the model's parameters.

    Attributes
    ----------
    table : DataFrame
        One row per fitted value: ``parameter``, ``key`` (the scenario key it sets, empty for a
        value that is no key, such as a campaign's realised purchase rate), ``default`` (the
        scenario's value, or kolsim's default), ``estimate``, ``low`` and ``high`` (its 95 %
        interval), ``n`` (the observations behind it: notes, creators' notes, days), ``method``
        and ``verdict`` ("data agrees" when the default is inside the interval, else "higher
        than default" or "lower than default").
    not_fitted : list of (str, str)
        Every parameter that could not be fitted, and why (a missing column, too little data).
    provenance : dict
        The source file, its SHA-256, rows and notes, the period, the scenario, the date and the
        kolsim version.
    curves : dict
        Observed and fitted series for the plots (``reads_by_age`` per tier, ``orders_by_day``).
    notices : tuple of str
        What the export's reading noticed.
    """

    table: pd.DataFrame
    not_fitted: list[tuple[str, str]]
    provenance: dict
    curves: dict = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (f"CalibrationResult({int((self.table['key'] != '').sum())} values fitted from "
                f"{self.provenance.get('source') or 'an export'}; {len(self.not_fitted)} not fitted)")

    def overlay(self) -> dict:
        """The fitted values as a scenario overlay: the tables and keys of a scenario file
        (``{"tiers": {"micro": {"reach": …}}, "decay": {…}, …}``) and a ``calibration`` table of
        provenance (source, sha256, rows, date, kolsim version, each value's estimator and
        interval)."""
        out: dict[str, Any] = {}
        methods: dict[str, str] = {}
        intervals: dict[str, list[float]] = {}
        for _, r in self.table.iterrows():
            if not r["key"]:
                continue
            parts = r["key"].split(".")
            node = out
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = _round(r["estimate"])
            methods[r["key"]] = r["method"]
            intervals[r["key"]] = [_round(r["low"]), _round(r["high"])]
        prov = {k: v for k, v in self.provenance.items() if v is not None}
        out["calibration"] = {**prov, "estimators": methods, "intervals": intervals}
        return out

    def overlay_toml(self) -> str:
        """:meth:`overlay` as the text of a TOML file."""
        head = ["# kolsim calibration overlay: values fitted to a past campaign (kolsim calibrate).",
                "# Merge it onto a scenario: kolsim simulate SCENARIO --calibration THIS_FILE",
                "# [calibration] says where the values come from; docs/data.md, \"Calibration\".", ""]
        return "\n".join(head) + _toml(self.overlay())

    def report(self) -> str:
        """The fit as a Markdown page: the table, what could not be fitted, the provenance."""
        p = self.provenance
        lines = [f"# Calibration from {p.get('source') or 'a past campaign'}", "",
                 f"{p.get('notes', 0):,} notes by {p.get('creators', 0):,} creators, {p.get('period', '')}; "
                 f"{p.get('rows', 0):,} rows, sha256 {p.get('sha256') or '–'}; against "
                 f"{p.get('scenario') or 'kolsim defaults'}; kolsim {p.get('kolsim_version')}, {p.get('date')}.", "",
                 "| parameter | key | default | estimate | 95 % interval | n | method | verdict |",
                 "|---|---|---|---|---|---|---|---|"]
        for _, r in self.table.iterrows():
            lines.append(f"| {r['parameter']} | {('`' + r['key'] + '`') if r['key'] else '–'} | {_fmt(r['default'])} | "
                         f"{_fmt(r['estimate'])} | {_fmt(r['low'])} – {_fmt(r['high'])} | {int(r['n']):,} | "
                         f"{r['method']} | {r['verdict']} |")
        if self.not_fitted:
            lines += ["", "## Not fitted", ""] + [f"- {k}: {why}" for k, why in self.not_fitted]
        if self.notices:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notices]
        return "\n".join(lines) + "\n"


def _round(x: float) -> float:
    return float(f"{float(x):.6g}")


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.3g}" if a < 100 else f"{v:.1f}"
    return f"{v:.3g}"


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _toml(tree: Mapping, prefix: str = "") -> str:
    """A nested mapping as TOML: each table's values, then its sub-tables."""
    lines = []
    plain = {k: v for k, v in tree.items() if not isinstance(v, Mapping)}
    subs = {k: v for k, v in tree.items() if isinstance(v, Mapping)}
    if prefix and (plain or not subs):
        lines.append(f"[{prefix}]")
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in plain.items()]
    text = "\n".join(lines) + ("\n\n" if lines else "")
    for k, v in subs.items():
        text += _toml(v, f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k))
    return text


# --------------------------------------------------------------------------- #
# Fitting
# --------------------------------------------------------------------------- #
#: The allowed range of each key a fit may set (as ``kolsim.scenario.values`` checks it).
_LIMITS = {"reach": (0.0, 100.0), "reach_sigma": (0.0, 4.0), "creator_sigma": (0.0, 3.0),
           "interaction_rate": (0.0, 1.0), "like_share": (0.0, 1.0), "collect_share": (0.0, 1.0),
           "ctr": (0.0, 1.0), "cvr": (0.0, 1.0), "feed_share": (0.0, 1.0),
           "feed_half_life_days": (1e-9, 3650.0), "search_half_life_days": (1e-9, 3650.0),
           "q_per_year": (0.0, 365.0), "organic_p_per_year": (0.0, 365.0), "offsite_per_onsite": (0.0, 100.0)}


class _Fits:
    """The rows of the result's table and what could not be fitted, as they are found."""

    def __init__(self):
        self.rows: list[dict] = []
        self.missing: list[tuple[str, str]] = []

    def add(self, parameter: str, key: str, default: float, estimate: float, low: float, high: float, n: int,
            method: str) -> None:
        if not all(math.isfinite(x) for x in (estimate, low, high)):
            self.missing.append((key or parameter, "the fit did not converge to a finite value"))
            return
        lo, hi = _LIMITS.get(key.rsplit(".", 1)[-1], (0.0, math.inf)) if key else (0.0, math.inf)
        if not lo <= estimate <= hi:
            self.missing.append((key, f"the estimate {estimate:.4g} is outside what a scenario allows "
                                      f"({lo:g} to {hi:g}); the data do not fit the model here"))
            return
        verdict = "data agrees" if low <= default <= high else \
            ("higher than default" if default < low else "lower than default")
        self.rows.append(dict(parameter=parameter, key=key, default=float(default), estimate=float(estimate),
                              low=float(low), high=float(high), n=int(n), method=method, verdict=verdict))

    def skip(self, key: str, why: str) -> None:
        self.missing.append((key, why))


def _hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of f at x."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * step * step)
            h[i, j] = h[j, i] = v
    return h


def _covariance(negloglik, x: np.ndarray, scale: float = 1.0) -> np.ndarray | None:
    """The inverse observed information at the optimum (times ``scale``), None when singular."""
    h = _hessian(negloglik, x)
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return None
    return cov * scale


def _kernel(w: float, hf: float, hs: float, feed_days: int, horizon: int) -> np.ndarray:
    """The model's decay kernel at these values (unchecked: the fit explores beyond the allowed ranges)."""
    return decay_kernel(SimpleNamespace(feed_share=min(max(w, 0.0), 1.0), feed_half_life_days=hf,
                                        feed_days=feed_days, search_half_life_days=hs), horizon)


def _fit_decay(past: PastCampaign, decay: Decay, fits: _Fits) -> tuple[np.ndarray, dict]:
    """The decay kernel by multinomial maximum likelihood on each note's reads by age."""
    H = past.horizon
    last = H - 1
    keys = ("decay.feed_share", "decay.feed_half_life_days", "decay.search_half_life_days")
    default = decay_kernel(decay, H)
    if past.daily is None:
        for k in keys:
            fits.skip(k, "needs the reads of each note by day (a date column)")
        return default, {}
    d = past.daily
    J = len(past.notes)
    span = last - past.notes["publish"].to_numpy(np.int64) + 1          # days each note is seen
    counts = np.zeros((J, H))
    np.add.at(counts, (d["note"].to_numpy(), d["age"].to_numpy()), d["reads"].to_numpy(float))
    total = counts.sum(axis=1)
    use = total > 0
    by_age = counts[use].sum(axis=0)
    n_of, span_of = total[use], span[use]
    if use.sum() < 2 or by_age.sum() < 100 or span_of.max() < 3:
        for k in keys:
            fits.skip(k, "too little data: fewer than 2 notes with reads by day, or under 100 reads")
        return default, {}

    def unpack(x):
        return 1 / (1 + math.exp(-x[0])), math.exp(x[1]), math.exp(x[2])

    def nll(x):
        w, hf, hs = unpack(x)
        k = _kernel(w, hf, hs, decay.feed_days, H)
        cum = np.cumsum(k)
        if np.any(k[by_age > 0] <= 0):
            return 1e30
        return -(by_age[by_age > 0] @ np.log(k[by_age > 0]) - n_of @ np.log(cum[span_of - 1]))

    w0 = min(max(decay.feed_share, 0.05), 0.95)
    x0 = np.array([math.log(w0 / (1 - w0)), math.log(decay.feed_half_life_days), math.log(decay.search_half_life_days)])
    best = None
    for start in (x0, x0 + np.array([0.0, 0.5, -0.5]), x0 + np.array([0.0, -0.5, 0.5])):
        res = _optimize.minimize(nll, start, method="Nelder-Mead",
                                 options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    x = best.x
    w, hf, hs = unpack(x)
    k = _kernel(w, hf, hs, decay.feed_days, H)
    cum = np.cumsum(k)
    # Pearson dispersion of the note-by-age cells: > 1 when notes decay unlike each other
    ages = np.arange(H)[None, :]
    seen = ages < span_of[:, None]
    p = np.where(seen, k[None, :] / cum[span_of - 1][:, None], 0.0)
    expected = n_of[:, None] * p
    cells = seen & (expected > 0)
    x2 = (((counts[use] - expected) ** 2)[cells] / expected[cells]).sum()
    dof = max(int(cells.sum()) - int(use.sum()) - 3, 1)
    phi = max(1.0, x2 / dof)
    cov = _covariance(nll, x, phi)
    method = "multinomial MLE on reads by day since publication" + (f" (dispersion {phi:.2g})" if phi > 1.5 else "")
    n = int(use.sum())
    if cov is None:
        for key in keys:
            fits.skip(key, "the reads by day do not pin it down (the likelihood is flat)")
        return k, {}
    se = np.sqrt(np.diag(cov))
    logistic = lambda v: 1 / (1 + math.exp(-v))
    fits.add("feed share", keys[0], decay.feed_share, w, logistic(x[0] - _Z * se[0]), logistic(x[0] + _Z * se[0]),
             n, method)
    fits.add("feed half-life (days)", keys[1], decay.feed_half_life_days, hf, math.exp(x[1] - _Z * se[1]),
             math.exp(x[1] + _Z * se[1]), n, method)
    fits.add("search half-life (days)", keys[2], decay.search_half_life_days, hs, math.exp(x[2] - _Z * se[2]),
             math.exp(x[2] + _Z * se[2]), n, method)
    fitted = {"feed_share": w, "feed_half_life_days": hf, "search_half_life_days": hs}
    return k, fitted


def _note_model(past: PastCampaign, tiers: Mapping[str, Tier], scenario: Scenario | None, pool) -> pd.DataFrame:
    """What the model expects of each note at the scenario's values: its lifetime reads E0, and the
    note's multiplier of each tier rate (1 for a wave's creator; rel x e^beta_c for cvr), with
    flags for the rates that the planner's own pool numbers replace."""
    n = past.notes
    J = len(n)
    tier = n["tier"].to_numpy(object)
    out = pd.DataFrame({"tier": tier})
    reach_t = np.array([tiers[t].reach for t in tier])
    cvr_t = np.array([tiers[t].cvr for t in tier])
    followers = n["followers"].to_numpy(float)
    out["E0"] = followers * reach_t
    rel = np.array([relevance(scenario, c) if (scenario is not None and c) else 1.0 for c in n["category"]])
    out["cvr_mult"] = np.minimum(1.0, cvr_t * rel) / np.where(cvr_t > 0, cvr_t, 1.0)
    for k in ("ir_mult", "ctr_mult"):
        out[k] = 1.0
    for k in ("reach_ok", "ir_ok", "ctr_ok", "cvr_ok"):
        out[k] = True
    if pool is not None:
        kols = n["kol_id"].to_numpy(object)
        inside = np.array([k in pool for k in kols])
        if inside.any():
            rows = pool.positions(list(kols[inside]))
            frame = pool.frame.iloc[rows].copy()
            frame["tier"] = tier[inside]  # the export's tier is the one the note was read under
            par = creator_table(frame, tiers, pool, rows, scenario=scenario)
            idx = np.flatnonzero(inside)

            def blank(col):
                return frame[col].isna().to_numpy() if col in frame.columns else np.ones(len(frame), bool)
            out.loc[idx, "E0"] = par["reads"]
            out.loc[idx, "reach_ok"] = blank("reads_per_note")
            out.loc[idx, "ir_ok"] = blank("interaction_rate") & blank("engagement_rate")
            out.loc[idx, "ctr_ok"] = blank("ctr")
            out.loc[idx, "cvr_ok"] = blank("cvr") & blank("expected_conversions")
            ct = cvr_t[idx]
            out.loc[idx, "cvr_mult"] = par["cvr"] / np.where(ct > 0, ct, 1.0)
    return out


def _fit_reads(past: PastCampaign, model: pd.DataFrame, seen: np.ndarray, tiers, unc: Uncertainty,
               fits: _Fits) -> dict:
    """reach and reach_sigma per tier and creator_sigma by REML of a random-effects lognormal model."""
    n = past.notes
    reads = n["reads"].to_numpy(float)
    E = model["E0"].to_numpy(float) * seen
    ok = model["reach_ok"].to_numpy(bool) & (reads > 0) & np.isfinite(E) & (E > 0)
    if not np.isfinite(model["E0"].to_numpy(float)).any():
        for t in dict.fromkeys(n["tier"]):
            fits.skip(f"tiers.{t}.reach", "needs each creator's followers (a followers column or --pool)")
            fits.skip(f"tiers.{t}.reach_sigma", "needs each creator's followers (a followers column or --pool)")
        fits.skip("uncertainty.creator_sigma", "needs each creator's followers (a followers column or --pool)")
        return {}
    x = np.log(np.where(ok, reads, 1.0)) - np.log(np.where(ok, E, 1.0))
    frame = pd.DataFrame({"tier": n["tier"], "kol": n["kol_id"], "x": x})[ok]
    groups = frame.groupby(["tier", "kol"], sort=False)["x"].agg(["size", "mean", lambda v: ((v - v.mean()) ** 2).sum()])
    groups.columns = ["n", "mean", "W"]
    groups = groups.reset_index()
    tier_list = []
    for t in TIERS:
        g = groups[groups["tier"] == t]
        if not len(g):
            continue
        if g["n"].sum() < 3 or len(g) < 2:
            why = "too little data: fewer than 3 notes by 2 creators with reads in this tier"
            fits.skip(f"tiers.{t}.reach", why)
            fits.skip(f"tiers.{t}.reach_sigma", why)
            continue
        tier_list.append(t)
    if not tier_list:
        fits.skip("uncertainty.creator_sigma", "too little data: no tier with 3 notes by 2 creators")
        return {}
    parts = [groups[groups["tier"] == t] for t in tier_list]
    arrays = [(g["n"].to_numpy(float), g["mean"].to_numpy(float), g["W"].to_numpy(float)) for g in parts]
    repeated = int(sum((a[0] >= 2).sum() for a in arrays))
    fit_s = repeated >= 3
    s_fixed = unc.creator_sigma
    if not fit_s:
        fits.skip("uncertainty.creator_sigma", f"needs creators with 2 or more notes ({repeated} have); "
                                               f"reach_sigma is fitted with creator_sigma = {s_fixed:g}")

    def tier_terms(sig2, s2, a):
        nk, xbar, W = a
        v = sig2 + nk * s2
        if np.any(v <= 0):
            return -math.inf, math.nan, math.nan
        w = nk / v
        mu = (w * xbar).sum() / w.sum()
        ll = -0.5 * ((nk - 1) * math.log(sig2) + np.log(v) + W / sig2 + nk * (xbar - mu) ** 2 / v).sum()
        return ll - 0.5 * math.log(w.sum()), mu, w.sum()

    # theta: log sigma_t of each tier, then s^2 itself (smooth through 0, so its interval is not
    # squeezed when a campaign's creators happen to differ little; negative values are allowed
    # while every creator's covariance stays positive)
    def nll(theta):
        s2 = theta[-1] if fit_s else s_fixed ** 2
        total = 0.0
        for i, a in enumerate(arrays):
            total += tier_terms(math.exp(2 * theta[i]), s2, a)[0]
        return -total if math.isfinite(total) else 1e30

    x0 = np.array([math.log(tiers[t].reach_sigma) for t in tier_list] + ([s_fixed ** 2] if fit_s else []))
    res = _optimize.minimize(nll, x0, method="Nelder-Mead",
                             options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 20_000})
    theta = res.x
    cov = _covariance(nll, theta)
    if cov is None:
        for t in tier_list:
            fits.skip(f"tiers.{t}.reach", "the reads do not pin it down (the likelihood is flat)")
            fits.skip(f"tiers.{t}.reach_sigma", "the reads do not pin it down (the likelihood is flat)")
        if fit_s:
            fits.skip("uncertainty.creator_sigma", "the reads do not pin it down (the likelihood is flat)")
        return {}
    s2 = theta[-1] if fit_s else s_fixed ** 2
    method = "random-effects lognormal REML on log(reads / expected reads)"
    out = {}
    for i, (t, a) in enumerate(zip(tier_list, arrays)):
        sig = math.exp(theta[i])
        _, mu, wsum = tier_terms(sig * sig, s2, a)
        g = np.zeros(len(theta))
        g[i] = sig * sig           # d(sigma^2 / 2) / d log sigma
        if fit_s:
            g[-1] = 0.5            # d(s^2 / 2) / d s^2
        var = 1.0 / wsum + g @ cov @ g
        k = len(a[0])
        q = float(stats.t.ppf(0.975, max(k - 1, 1)))
        log_r = math.log(tiers[t].reach) + mu + 0.5 * sig * sig + 0.5 * s2
        half = q * math.sqrt(var)
        notes = int(a[0].sum())
        fits.add(f"{t}: reach (reads per follower per note)", f"tiers.{t}.reach", tiers[t].reach, math.exp(log_r),
                 math.exp(log_r - half), math.exp(log_r + half), notes, method)
        se = math.sqrt(cov[i, i])
        fits.add(f"{t}: viral spread sigma", f"tiers.{t}.reach_sigma", tiers[t].reach_sigma, sig,
                 math.exp(theta[i] - _Z * se), math.exp(theta[i] + _Z * se), notes, method)
        out[t] = math.exp(log_r)
    if fit_s:
        se = math.sqrt(cov[-1, -1])
        root = lambda v: math.sqrt(max(v, 0.0))
        fits.add("creators' spread sigma", "uncertainty.creator_sigma", unc.creator_sigma, root(s2),
                 root(s2 - _Z * se), root(s2 + _Z * se), int(sum(a[0].sum() for a in arrays)),
                 method + " (interval on sigma^2)")
    return out


def _ratio(num: np.ndarray, den: np.ndarray, cluster: np.ndarray, binomial: bool) -> tuple[float, float, int]:
    """sum(num) / sum(den) and the standard error of its log: the wider of the count one (Poisson
    ratio, or binomial for a share) and the creator-cluster (sandwich) one."""
    N, D = float(num.sum()), float(den.sum())
    r = N / D
    var_count = (1 - r) / N if binomial else 1 / N + 1 / D
    codes, inv = np.unique(cluster, return_inverse=True)
    K = len(codes)
    var = var_count
    if K >= 2:
        e = np.bincount(inv, weights=num - r * den, minlength=K)
        var_cluster = K / (K - 1) * float((e * e).sum()) / (D * D) / (r * r)
        var = max(var, var_cluster)
    return r, math.sqrt(max(var, 0.0)), K


_RATES = (  # (name, key, numerator, denominator, share?, multiplier column, flag column, label)
    ("interaction_rate", "interactions", "reads", False, "ir_mult", "ir_ok", "interactions per read"),
    ("like_share", "likes", "interactions", True, None, None, "likes among interactions"),
    ("collect_share", "collects", "interactions", True, None, None, "collects among interactions"),
    ("ctr", "clicks", "reads", False, "ctr_mult", "ctr_ok", "clicks per read (CTR)"),
    ("cvr", "orders", "clicks", False, "cvr_mult", "cvr_ok", "orders per click (CVR)"),
)


def _fit_rates(past: PastCampaign, model: pd.DataFrame, tiers, unc: Uncertainty, fits: _Fits) -> dict:
    n = past.notes
    out: dict[str, dict[str, float]] = {}
    spread2 = unc.campaign_sigma ** 2 + unc.tier_sigma ** 2
    present = list(dict.fromkeys(t for t in TIERS if t in set(n["tier"])))
    for name, num_col, den_col, share, mult_col, flag_col, label in _RATES:
        lacking = [c for c in (num_col, den_col) if not past.has(c)]
        if lacking:
            for t in present:
                fits.skip(f"tiers.{t}.{name}", f"needs the column(s) {', '.join(lacking)}")
            continue
        for t in present:
            mask = (n["tier"] == t).to_numpy().copy()
            if flag_col is not None:
                mask &= model[flag_col].to_numpy(bool)
            num = n.loc[mask, num_col].to_numpy(float)
            den = n.loc[mask, den_col].to_numpy(float)
            if mult_col is not None:
                den = den * model.loc[mask, mult_col].to_numpy(float)
            key = f"tiers.{t}.{name}"
            if mask.sum() == 0:
                fits.skip(key, "every note of the tier has the planner's own number for it in the pool")
                continue
            if num.sum() < 1 or den.sum() <= 0:
                fits.skip(key, f"too little data: no {num_col} in this tier" if den.sum() > 0 else
                          f"too little data: no {den_col} in this tier")
                continue
            factor, se, K = _ratio(num, den, n.loc[mask, "kol_id"].to_numpy(object), share)
            base = getattr(tiers[t], name)
            est = factor
            method = ("binomial" if share else "Poisson") + " rate, wider of count and creator-cluster interval"
            if name != "cvr" or spread2 == 0:
                if share:  # a share's interval stays within (0, 1): on the logit scale
                    lo_l = math.log(est / (1 - est)) - _Z * se / (1 - est)
                    hi_l = math.log(est / (1 - est)) + _Z * se / (1 - est)
                    lo, hi = 1 / (1 + math.exp(-lo_l)), 1 / (1 + math.exp(-hi_l))
                else:
                    lo, hi = est * math.exp(-_Z * se), est * math.exp(_Z * se)
                fits.add(f"{t}: {label}", key, base, est, lo, hi, int(mask.sum()), method)
            else:
                lo, hi = est * math.exp(-_Z * se), est * math.exp(_Z * se)
                fits.add(f"{t}: {label}, this campaign", "", base, est, lo, hi, int(mask.sum()), method)
                wide = math.sqrt(se * se + spread2)
                centre = math.log(est) + spread2 / 2
                fits.add(f"{t}: {label}", key, base, est, math.exp(centre - _Z * wide), math.exp(centre + _Z * wide),
                         int(mask.sum()), method + f"; widened by campaign_sigma and tier_sigma "
                                                   f"({unc.campaign_sigma:g}, {unc.tier_sigma:g})")
            out.setdefault(t, {})[name] = est
    return out


def _markets(past: PastCampaign, scenario: Scenario | None) -> tuple[float | None, str]:
    """The in-market people M: of the segments the scenario's own notes land in, else of the
    export's categories read as the scenario's segments; or (None, why not)."""
    if scenario is None:
        return None, "needs the in-market people M: give the scenario the campaign ran under (--scenario)"
    if scenario.waves or scenario.plan is not None:  # the segments its own notes land in
        table = build_post_table(scenario)
        used = np.unique(table.segment)
        return float(table.segment_capacity[used].sum()), ""
    cats = sorted({c for c in past.notes["category"] if c} | ({c for c in past.other["category"] if c}
                                                             if past.other is not None else set()))
    if not cats:
        cats = [scenario.campaign.category]
    sizes = []
    for c in cats:
        size = scenario.segments.get(c, scenario.default_segment_size)
        if size is None:
            return None, (f"the scenario gives no size for segment {c!r} (the export's category); add it to "
                          "[audience.segments] or set [audience] default_size")
        sizes.append(size)
    return float(capacity(scenario, tuple(cats), sizes).sum()), ""


def _fit_bass(past: PastCampaign, scenario: Scenario | None, funnel: Funnel, wom: WordOfMouth,
              fits: _Fits) -> dict:
    """Bass p and q and the off-platform buyers per tracked order, by Poisson maximum likelihood
    on the orders no note tracked, day by day."""
    keys = ("funnel.offsite_per_onsite", "funnel.organic_p_per_year", "word_of_mouth.q_per_year")
    if past.other is None or past.daily is None or not past.has("orders"):
        why = ("needs the orders no note tracked, day by day (rows without a note_id, with date and orders)"
               if past.daily is not None and past.has("orders") else
               "needs daily rows (a date column) with orders, and the rows of orders no note tracked")
        for k in keys:
            fits.skip(k, why)
        return {}
    H = past.horizon
    u = np.bincount(past.other["day"].to_numpy(), weights=past.other["orders"].to_numpy(float), minlength=H)
    d = past.daily
    tracked = np.bincount(d["day"].to_numpy(), weights=d["orders"].to_numpy(float), minlength=H)
    N = np.concatenate([[0.0], np.cumsum(u + tracked)[:-1]])   # buyers before each day, every stream
    # the day's expected purchase decisions on RED: each tier's realised orders per read x its reads
    tier_of = past.notes["tier"].to_numpy(object)[d["note"].to_numpy()]
    v = np.zeros(H)
    for t in set(tier_of):
        m = tier_of == t
        reads = d.loc[m, "reads"].to_numpy(float)
        if reads.sum() > 0:
            v += np.bincount(d.loc[m, "day"].to_numpy(), weights=reads, minlength=H) * \
                (d.loc[m, "orders"].sum() / reads.sum())
    pmf = delay_pmf(funnel.offsite_delay_days, H)
    a = np.array([sum(v[t - k] * pmf[k] for k in range(min(len(pmf), t + 1))) for t in range(H)])
    M, why_m = _markets(past, scenario)
    if u.sum() < 5 or H < 7:
        for k in keys:
            fits.skip(k, "too little data: fewer than 5 orders no note tracked, or under 7 days")
        return {}
    fit_rho = a.sum() > 0

    def components(theta):
        rho, P, qy = theta
        q = qy / 365.0
        if M is None:
            organic = np.full(H, P)
            imitation = q * N
        else:
            p = P / M
            h = p + q * N / M
            both = (M - N) * -np.expm1(-h)
            share = np.divide(p, h, out=np.ones(H), where=h > 0)
            organic, imitation = both * share, both * (1 - share)
        return rho * a, organic, imitation

    def lam(theta):
        off, org, imi = components(theta)
        return np.maximum(off + org + imi, 1e-12)

    def nll(theta):
        L = lam(theta)
        return float((L - u * np.log(L)).sum())

    rho0 = funnel.offsite_per_onsite if fit_rho else 0.0
    x0 = np.array([rho0, max(u.mean() / 2, 0.1), max(wom.q_per_year, 0.01)])
    bounds = [(0, None) if fit_rho else (0, 0), (0, None), (0, 365)]
    res = _optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds)
    theta = res.x
    # expected (Fisher) information of the Poisson rates, times the Pearson dispersion
    L = lam(theta)
    eps = np.maximum(np.abs(theta) * 1e-6, 1e-9)
    grads = []
    for i in range(3):
        hi, lo = theta.copy(), theta.copy()
        hi[i] += eps[i]
        lo[i] = max(lo[i] - eps[i], 0.0) if i else lo[i] - eps[i]
        grads.append((lam(hi) - lam(lo)) / (hi[i] - lo[i]))
    G = np.array(grads)
    free = [0, 1, 2] if fit_rho else [1, 2]
    info = (G[free] / L) @ G[free].T
    dof = max(H - len(free), 1)
    phi = max(1.0, float((((u - L) ** 2) / L).sum()) / dof)
    try:
        cov_free = np.linalg.inv(info) * phi
    except np.linalg.LinAlgError:
        cov_free = None
    if cov_free is None or np.any(np.diag(cov_free) <= 0):
        for k in keys:
            fits.skip(k, "the daily orders do not pin it down (the likelihood is flat)")
        return {}
    se = np.zeros(3)
    se[free] = np.sqrt(np.diag(cov_free))
    method = "Poisson MLE on the daily orders no note tracked" + (f" (dispersion {phi:.2g})" if phi > 1.5 else "")
    days = H
    if fit_rho:
        fits.add("off-platform buyers per tracked order", keys[0], funnel.offsite_per_onsite, theta[0],
                 max(theta[0] - _Z * se[0], 0.0), theta[0] + _Z * se[0], days, method)
    else:
        fits.skip(keys[0], "no tracked orders to scale it by")
    if M is None:
        fits.skip(keys[1], why_m)
        fits.add("word of mouth q (per year)", keys[2], wom.q_per_year, theta[2], max(theta[2] - _Z * se[2], 0.0),
                 theta[2] + _Z * se[2], days, method + "; buyers taken as few against the in-market people")
    else:
        to_p = 365.0 / M
        fits.add("organic adoption p (per year)", keys[1], funnel.organic_p_per_year, theta[1] * to_p,
                 max(theta[1] - _Z * se[1], 0.0) * to_p, (theta[1] + _Z * se[1]) * to_p, days,
                 method + f"; M = {M:,.0f} in-market people from the scenario")
        fits.add("word of mouth q (per year)", keys[2], wom.q_per_year, theta[2], max(theta[2] - _Z * se[2], 0.0),
                 theta[2] + _Z * se[2], days, method + f"; M = {M:,.0f}")
    off, org, imi = components(theta)
    return {"orders_by_day": pd.DataFrame({"day": np.arange(H), "observed": u, "tracked": tracked,
                                           "offsite": off, "organic": org, "imitation": imi})}


def calibrate(past, scenario: Scenario | None = None, pool=None) -> CalibrationResult:
    """Fit the model's parameters to a past campaign, with 95 % intervals.

    Parameters
    ----------
    past : PastCampaign, DataFrame or path
        The export (:func:`read_past`; a table such as :func:`kolsim.past_export`'s is checked
        with :func:`parse_past`; a path is read).
    scenario : Scenario, optional
        The scenario the campaign ran under: its values are the defaults the estimates are
        compared with and the starting point of the fits; its segments give the in-market people
        that Bass p needs; its ``[uncertainty]`` spreads widen the purchase rate's interval.
        Without it, kolsim's defaults (and p is not fitted).
    pool : Pool, optional
        The candidate pool the creators come from (default: the scenario's plan pool): their
        followers, fake shares, engagement and own numbers, as the model reads them.

    Returns
    -------
    CalibrationResult
        The table of estimates and intervals, what could not be fitted and why, the overlay.

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/micro_seeding.toml")
    >>> r = kolsim.calibrate(kolsim.past_export(s, rng=1), s)
    >>> r.table.loc[r.table["key"] == "tiers.micro.ctr", "verdict"].item()
    'data agrees'
    """
    if isinstance(past, pd.DataFrame):
        past = parse_past(past)
    elif not isinstance(past, PastCampaign):
        past = read_past(past)
    if pool is None and scenario is not None and scenario.plan is not None:
        pool = scenario.plan.pool
    tiers = scenario.tiers if scenario is not None else {c: Tier.default(c) for c in TIERS}
    decay = scenario.decay if scenario is not None else Decay()
    unc = scenario.uncertainty if scenario is not None else Uncertainty()
    funnel = scenario.funnel if scenario is not None else Funnel()
    wom = scenario.word_of_mouth if scenario is not None else WordOfMouth()
    fits = _Fits()
    kernel, fitted_decay = _fit_decay(past, decay, fits)
    model = _note_model(past, tiers, scenario, pool)
    # each note's share of its lifetime reads counted by the export's last day
    if past.daily is not None or past.other is not None:
        cum = np.cumsum(kernel)
        seen = cum[np.clip(past.horizon - 1 - past.notes["publish"].to_numpy(np.int64), 0, past.horizon - 1)]
    else:
        seen = np.ones(len(past.notes))
    _fit_reads(past, model, seen, tiers, unc, fits)
    _fit_rates(past, model, tiers, unc, fits)
    curves = _fit_bass(past, scenario, funnel, wom, fits)
    if past.daily is not None:
        curves["reads_by_age"] = _reads_by_age(past, kernel, decay_kernel(decay, past.horizon))
    table = pd.DataFrame(fits.rows, columns=list(_TABLE_COLUMNS))
    end = past.start + _dt.timedelta(days=past.horizon - 1)
    provenance = {"source": past.source, "sha256": past.sha256, "rows": past.rows, "notes": len(past.notes),
                  "creators": int(past.notes["kol_id"].nunique()),
                  "period": f"{past.start.isoformat()} to {end.isoformat()}",
                  "scenario": scenario.source if scenario is not None else None,
                  "date": _dt.date.today().isoformat(), "kolsim_version": __version__}
    return CalibrationResult(table=table, not_fitted=fits.missing, provenance=provenance, curves=curves,
                             notices=past.notices)


def _reads_by_age(past: PastCampaign, fitted: np.ndarray, default: np.ndarray) -> dict:
    """Per tier: the observed reads by day since publication, and what the fitted and the
    default kernels give the same notes (each note's reads spread over the days it was seen)."""
    d = past.daily
    H = past.horizon
    span = H - past.notes["publish"].to_numpy(np.int64)
    total = past.notes["reads"].to_numpy(float)
    out = {}
    for t in [t for t in TIERS if t in set(past.notes["tier"])]:
        idx = np.flatnonzero((past.notes["tier"] == t).to_numpy())
        rows = d[d["note"].isin(idx)]
        observed = np.bincount(rows["age"].to_numpy(), weights=rows["reads"].to_numpy(float), minlength=H)
        curves = []
        for k in (fitted, default):
            cum = np.cumsum(k)
            e = np.zeros(H)
            for j in idx:
                e[:span[j]] += total[j] * k[:span[j]] / cum[span[j] - 1]
            curves.append(e)
        out[t] = pd.DataFrame({"age": np.arange(H), "observed": observed, "fitted": curves[0], "default": curves[1]})
    return out
