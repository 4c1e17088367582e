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
    """

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None):
        self.message = message
        self.file = file
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.where) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message

    def located(self, *, file: str | None = None, where: str | None = None) -> "InputError":
        """Return a copy of this error with the file and/or place filled in."""
        return type(self)(
            self.message,
            file=self.file or file,
            where=self.where if self.where else where,
        )


class ScenarioError(InputError):
    """A scenario file, or a value in it, is not valid."""


class PoolError(InputError):
    """A candidate pool file, or a row in it, is not valid."""
