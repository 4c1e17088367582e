"""Exceptions raised by kolsim.

Every user-facing problem is a :class:`KolsimError`.  Input problems are
:class:`InputError` (a ``ValueError``), so ``except ValueError`` keeps working
for callers who do not import kolsim's own types.  The CLI turns an
``InputError`` into one line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = ["KolsimError", "InputError", "ScenarioError", "PoolError"]


class KolsimError(Exception):
    """Base class of every error kolsim raises on purpose."""


class InputError(KolsimError, ValueError):
    """Bad input: a file, a field or a value the user gave.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    file : str, optional
        The file the value came from.
    where : str, optional
        Where in the file: a table and key (``[campaign] budget``), a row
        (``row 14 (kol_id=xhs_0931)``) or a line.
    more : tuple of (where, message), optional
        Further problems of the same file (a pool's every bad cell), which
        :meth:`lines` lists and ``str`` counts.
    """

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None,
                 more: tuple[tuple[str | None, str], ...] = ()):
        self.message = message
        self.file = file
        self.where = where
        self.more = tuple(more)
        super().__init__(str(self))

    def _line(self, where: str | None, message: str) -> str:
        prefix = ": ".join(p for p in (self.file, where) if p)
        return f"{prefix}: {message}" if prefix else message

    def __str__(self) -> str:
        first = self._line(self.where, self.message)
        if not self.more:
            return first
        n = len(self.more)
        return (f"{first} (and {n} more problem{'' if n == 1 else 's'} in this file; "
                "`kolsim validate` lists them all)")

    def lines(self) -> list[str]:
        """Every problem, one line each (the first, then those in ``more``)."""
        return [self._line(self.where, self.message)] + [self._line(w, m) for w, m in self.more]

    def located(self, *, file: str | None = None, where: str | None = None) -> "InputError":
        """Return a copy of this error with the file and/or place filled in."""
        return type(self)(
            self.message,
            file=self.file or file,
            where=self.where if self.where else where,
            more=self.more,
        )

    @classmethod
    def of(cls, problems: list[tuple[str | None, str]], *, file: str | None = None) -> "InputError":
        """One error for several problems of one file, each ``(where, message)``."""
        (where, message), *rest = problems
        return cls(message, file=file, where=where, more=tuple(rest))


class ScenarioError(InputError):
    """A scenario file, or a value in it, is not valid."""


class PoolError(InputError):
    """A candidate pool file, or a row in it, is not valid."""
