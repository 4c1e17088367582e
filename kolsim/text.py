"""Names and text as kolsim compares and prints them.

Two rules live here, once:

- **names are normalised before any rule compares them** (:func:`name_key`):
  Unicode NFKC (full-width letters become plain ones, a no-break space a
  space), invisible format characters removed, surrounding space trimmed,
  case folded.  So ``" Alcohol "``, ``"alcohol\\u00a0"`` and
  ``"ａｌｃｏｈｏｌ"`` are all ``"alcohol"``, and the legal ban on it cannot
  be bypassed by the way the word is typed.  Categories, audience segments,
  tiers and deal types are names; creator ids are not (they are kept as
  given, only trimmed).
- **whatever a user gave is printed on one line, safely** (:func:`printable`,
  :func:`show`): control characters escaped, long text cut.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

__all__ = ["name_key", "has_control", "printable", "show", "kind"]


def name_key(text: str) -> str:
    """The form in which a name (category, segment, tier, deal type) is compared and kept.

    Examples
    --------
    >>> [name_key(s) for s in (" Alcohol ", "alcohol\\u00a0", "ｔｏｂａｃｃｏ", "Skin\\u200bcare")]
    ['alcohol', 'alcohol', 'tobacco', 'skincare']
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return text.strip().casefold()


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (a line break, a tab, an escape …)."""
    return any(unicodedata.category(c) == "Cc" or c in "\u2028\u2029" for c in text)


def printable(text: str, limit: int | None = 80) -> str:
    """``text`` on one line, control characters escaped, cut to ``limit`` characters."""
    out = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))
    return out if limit is None or len(out) <= limit else out[:limit - 1] + "…"


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message: safe for huge integers and deep arrays, cut to ``limit``.

    Floats are shown in full (``1.000001``, not ``1``), so a value just past a
    bound never reads as the bound itself.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        try:
            return f"{float(value):g}"
        except OverflowError:  # beyond float range; str() may refuse it too
            return f"{'-' if value < 0 else ''}about 10^{int(math.log10(abs(value)))}"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer too long to print, arrays nested too deep
        text = f"<{kind(value)}>"
    return printable(text, limit)


def kind(value: Any) -> str:
    """What a value is, in words: "a string", "an integer", "an array" …."""
    return {bool: "a boolean", str: "a string", int: "an integer", float: "a number",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)
