"""The integer program as an LP or MPS file's bytes, for other solvers and for reading.

PuLP writes the file; it needs a path, so it writes into a private temporary
directory, and the bytes are handed back for :mod:`kolsim.io` to put where the
user asked, with the run's other outputs.
"""

from __future__ import annotations

import os
import tempfile

from .backends import to_pulp
from .formulation import Milp

__all__ = ["FORMATS", "model_bytes"]

FORMATS = ("lp", "mps")


def model_bytes(m: Milp, fmt: str) -> bytes:
    """The model ``m`` in format ``fmt`` ("lp" or "mps"); rows are named by their family and key."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    prob, _ = to_pulp(m)
    with tempfile.TemporaryDirectory(prefix="kolsim-model-") as tmp:
        scratch = os.path.join(tmp, f"model.{fmt}")
        (prob.writeMPS if fmt == "mps" else prob.writeLP)(scratch)
        with open(scratch, "rb") as fh:
            return fh.read()
