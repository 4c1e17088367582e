"""Interrupts (Ctrl-C, SIGTERM) that arrive while kolsim cannot stop at once.

Two places must not be cut short by a signal: a solver's run, which must be
stopped through its own interrupt so that its state stays sound, and the last
step of writing outputs, the renames that put a whole run's files in place.
:func:`deferred` holds SIGINT and SIGTERM back while such a step runs (noting
that one came, for a solver's callback to read) and delivers them, to whatever
handler was there before, as soon as the step is over.

Worker processes ignore Ctrl-C (:func:`quiet_worker`): the terminal sends it to
every process of the job, and the parent alone decides what to do with it, so
a user sees one line and not one traceback per worker.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["Terminated", "deferred", "quiet_worker", "raise_terminated", "EXIT_CODES"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, as an exception that every cleanup path treats like Ctrl-C (the CLI installs it)."""


#: Exit codes of a run ended by a signal: 128 + the signal's number.
EXIT_CODES = {KeyboardInterrupt: 128 + signal.SIGINT, Terminated: 128 + signal.SIGTERM}


def raise_terminated(signum, frame):  # a signal handler
    raise Terminated()


class _Pending:
    """The signals that arrived while deferred, in order."""

    def __init__(self):
        self.signals: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.signals)


@contextlib.contextmanager
def deferred():
    """Hold SIGINT and SIGTERM back for the duration of the block.

    Yields an object that is true once a signal has arrived (a solver's
    interrupt callback reads it).  On leaving the block, the first signal that
    came is handed to the handler that was installed before: Python's default
    for SIGINT raises ``KeyboardInterrupt``; a default SIGTERM ends the process
    as it would have.  Outside the main thread, signals cannot be caught and
    the block runs as it is.
    """
    pending = _Pending()
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    watched = (signal.SIGINT, signal.SIGTERM)
    before = {s: signal.getsignal(s) for s in watched}

    def note(signum, frame):
        pending.signals.append(signum)

    for s in watched:
        signal.signal(s, note)
    try:
        yield pending
    finally:
        for s in watched:
            signal.signal(s, before[s])
        if pending:
            _deliver(pending.signals[0], before[pending.signals[0]])


def _deliver(signum: int, handler) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)  # the default action, now that the default is back
    # SIG_IGN: ignored, as it would have been


def quiet_worker() -> None:
    """Initializer of worker processes: Ctrl-C is the parent's to handle; SIGTERM ends the worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
