"""What a single value may be: the one place where each key's allowed values are written.

A value object declares each field's rule as field metadata (:func:`rule`);
:func:`validate` applies them all in ``__post_init__``, so a value is checked
the same way whether it came from a TOML file, from Python or from
``dataclasses.replace``.  Each rule also puts the value in its one form
(whole numbers as ``int``, others as ``float``, names normalised, arrays as
sorted tuples) and raises :class:`~kolsim.errors.ScenarioError` naming the key,
what came in and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ScenarioError
from ..text import has_control, kind, name_key, printable, show

__all__ = ["Number", "Text", "Flag", "Names", "Weeks", "rule", "validate", "bound", "did_you_mean"]


def bound(x: float, integer: bool) -> str:
    """A bound for a message: a whole-number bound in full (with _ every three digits from
    10,000), others as ``%g``."""
    if integer:
        return f"{int(x):_}" if abs(x) >= 10_000 else str(int(x))
    return f"{x:g}"


def did_you_mean(word: Any, choices) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True)
class Number:
    """A finite number within [lo, hi] (open ends on request), whole when ``integer``;
    ``None`` allowed when ``optional``.  ``note`` says where the bounds come from."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    optional: bool = False
    note: str | None = None

    def allowed(self) -> str:
        lo = f"{'>' if self.lo_open else '>='} {bound(self.lo, self.integer)}" if self.lo is not None else ""
        hi = f"{'<' if self.hi_open else '<='} {bound(self.hi, self.integer)}" if self.hi is not None else ""
        return " and ".join(t for t in (lo, hi) if t)

    def check(self, value: Any, where: str) -> Any:
        if value is None and self.optional:
            return None
        what = "a whole number" if self.integer else "a number"
        expect = f"{what} {self.allowed()}".strip() + (f" ({self.note})" if self.note else "")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if _numpy_number(value):
                return self.check(value.item(), where)
            raise ScenarioError(f"must be {expect} (got {kind(value)} {show(value)})", where=where)
        if self.integer and not isinstance(value, int):
            raise ScenarioError(f"must be {expect} (got {show(value)})", where=where)
        if isinstance(value, float) and not math.isfinite(value):
            allowed = f" {self.allowed()}" if self.allowed() else ""
            raise ScenarioError(f"must be a finite number{allowed} (got {show(value)})", where=where)
        bad_lo = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        bad_hi = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
        if bad_lo or bad_hi:
            raise ScenarioError(f"must be {expect} (got {show(value)})", where=where)
        return int(value) if self.integer else float(value)


def _numpy_number(value: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, (np.integer, np.floating)) and not isinstance(value, np.bool_)


@dataclass(frozen=True)
class Text:
    """A non-empty string on one line; one of ``choices`` if given; a normalised name
    (:func:`kolsim.text.name_key`) when ``name``; ``None`` allowed when ``optional``."""

    choices: tuple[str, ...] | None = None
    name: bool = False
    optional: bool = False

    def check(self, value: Any, where: str) -> Any:
        if value is None and self.optional:
            return None
        if not isinstance(value, str):
            raise ScenarioError(f"must be a string (got {kind(value)} {show(value)})", where=where)
        if not value.strip():
            raise ScenarioError("must not be empty", where=where)
        if has_control(value):
            raise ScenarioError(f"must be one line of text, without control characters such as line "
                                f"breaks or tabs (got {show(value)})", where=where)
        text = name_key(value) if self.name else value.strip()
        if not text:
            raise ScenarioError(f"must not be empty (got {show(value)})", where=where)
        if self.choices is not None and text not in self.choices:
            raise ScenarioError(f"must be one of {', '.join(self.choices)} (got {show(value)})"
                                f"{did_you_mean(text, self.choices)}", where=where)
        return text


@dataclass(frozen=True)
class Flag:
    """True or false."""

    def check(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise ScenarioError(f"must be true or false (got {kind(value)} {show(value)})", where=where)
        return value


@dataclass(frozen=True)
class Names:
    """An array of non-empty one-line strings (``what`` says of what), as a tuple without
    repeats; normalised names when ``name``."""

    what: str
    name: bool = False

    def check(self, value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, (list, tuple)) and all(isinstance(x, str) and x.strip() and not has_control(x)
                                                    for x in value):
            out = [name_key(x) if self.name else x.strip() for x in value]
            if all(out):
                return tuple(dict.fromkeys(out))
        raise ScenarioError(f"must be an array of {self.what} (got {show(value)})", where=where)


@dataclass(frozen=True)
class Weeks:
    """A non-empty array of week numbers (1-based, at most ``hi``), as a sorted tuple;
    ``None`` allowed when ``optional``."""

    hi: int | None = None
    optional: bool = False

    def check(self, value: Any, where: str) -> tuple[int, ...] | None:
        if value is None and self.optional:
            return None
        top = self.hi if self.hi is not None else math.inf
        if (isinstance(value, (list, tuple)) and value
                and all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= top for w in value)):
            return tuple(sorted(set(value)))
        upto = f" from 1 to {self.hi}" if self.hi is not None else " (1 is the first week)"
        raise ScenarioError(f"must be a non-empty array of week numbers{upto} (got {show(value)})", where=where)


def rule(check) -> dict:
    """Field metadata carrying a check: ``field(default=…, metadata=rule(Number(lo=0)))``."""
    return {"check": check}


def validate(obj: Any, table: str) -> None:
    """Apply every field's rule to ``obj`` (a frozen dataclass), in field order, storing each
    value in its one form; messages name ``[table] key``."""
    for f in fields(obj):
        check = f.metadata.get("check")
        if check is not None:
            value = check.check(getattr(obj, f.name), where=f"[{table}] {f.name}" if table else f.name)
            object.__setattr__(obj, f.name, value)


def label(text: str) -> str:
    """A name or id for a message (one line, cut short)."""
    return printable(text, 60)
