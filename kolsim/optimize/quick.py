"""A quick plan for a program: its LP relaxation, then fix-and-solve.

The LP relaxation (HiGHS) bounds every plan; its integral part is kept and a small
integer program decides the rest (:func:`fix_and_solve`).  The large-pool method starts
its searches from such a plan, the whole-model path too, and the PuLP backend hands it
to its solver as the start and keeps the LP optimum as its bound
(:func:`solve_pulp_started`): CBC then begins with a plan within about 1 % and a proven
bound instead of nothing.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from .backends import GAP_TOLERANCE, RawSolution, pulp_takes_start, relative_gap, solve_highs, solve_pulp
from .formulation import Milp

__all__ = ["QUICK_GAP", "better", "fix_and_solve", "lp_and_quick", "solve_pulp_started"]

#: The quick plan's own gap target: it is only a start for the search, which proves the gap.
QUICK_GAP = 0.01


def better(m: Milp, a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The better of two plans of ``m`` (either may be None)."""
    if a is None or b is None:
        return a if b is None else b
    return a if float(m.c @ a) >= float(m.c @ b) else b


def fix_and_solve(m: Milp, x_lp: np.ndarray | None, time_limit: float,
                  open_unhired: bool = True) -> np.ndarray | None:
    """A quick plan: creators the LP hires with whole notes stay as they are, the
    integer program decides only the rest (the fractional ones, and, with
    ``open_unhired``, those the LP leaves out).  None if that fails.

    Deciding only the fractional creators, HiGHS closes the small program by
    branching; its feasibility jump and root reduced-cost heuristics would cost
    more time than they save there (the same plan at about half the time on
    most generated requests), so they run only in the wider program."""
    if x_lp is None:
        return None
    frac = np.abs(x_lp - np.round(x_lp)) > 1e-9
    settled = np.ones(m.n_y, bool)
    np.logical_and.at(settled, m.xk, ~frac[:m.n_x])
    settled &= ~frac[m.n_x:m.n_x + m.n_y]
    if open_unhired:
        settled &= np.round(x_lp[m.n_x:m.n_x + m.n_y]) == 1  # hired with whole notes; the rest stay open
    fix = np.concatenate([settled[m.xk], settled, np.zeros(m.n_z + m.n_u, bool)])
    lb = np.where(fix, np.round(x_lp), m.lb)
    ub = np.where(fix, np.round(x_lp), m.ub)
    raw = solve_highs(replace(m, lb=lb, ub=ub), time_limit=time_limit, gap=QUICK_GAP,
                      root_heuristics=open_unhired, track=False)  # only its plan is wanted
    return raw.x


def lp_and_quick(m: Milp, deadline: float) -> tuple[RawSolution, np.ndarray | None]:
    """The LP relaxation of ``m`` and a quick plan from it (None when there is none),
    both by ``deadline`` (a ``time.perf_counter`` instant): the LP may take the time
    left, the plan a tenth of what is then left (0.1 s to 0.5 s)."""
    lp = solve_highs(m, time_limit=max(0.5, deadline - time.perf_counter()), gap=QUICK_GAP, relax=True)
    if lp.x is None:
        return lp, None
    quick = fix_and_solve(m, lp.x, min(0.5, max(0.1, 0.1 * (deadline - time.perf_counter()))),
                          open_unhired=False)
    return lp, quick


def solve_pulp_started(m: Milp, *, time_limit: float, gap: float, solver: str | None = None,
                       start: np.ndarray | None = None) -> RawSolution:
    """PuLP's solver on ``m``, started from the better of the quick plan and ``start``
    (solvers that take no warm start get none), bounded by the LP relaxation.

    The result's times count from the call: the LP and the quick plan come first, and
    the quick plan is the first plan (and, when the solver returns none or a worse one,
    the plan returned, at the LP's gap)."""
    t0 = time.perf_counter()
    lp, quick = (lp_and_quick(m, t0 + 0.5 * time_limit) if pulp_takes_start(solver or "PULP_CBC_CMD")
                 else (None, None))
    if lp is not None and lp.status == "infeasible":
        return replace(lp, x=None, objective=None, bound=None, solve_seconds=time.perf_counter() - t0)
    begin = better(m, quick, start)
    lp_bound = lp.bound if lp is not None and lp.bound is not None else None
    t_quick = time.perf_counter() - t0
    raw = solve_pulp(m, time_limit=max(0.5, time_limit - t_quick), gap=gap, solver=solver,
                     start=begin, known=lp_bound)
    seconds = time.perf_counter() - t0
    shift = {level: t + t_quick for level, t in raw.gap_seconds.items()}
    first = None if raw.first_solution_seconds is None else raw.first_solution_seconds + t_quick
    if begin is None:
        return replace(raw, solve_seconds=seconds, first_solution_seconds=first, gap_seconds=shift)
    z0 = float(m.c @ begin)
    if raw.x is None or float(m.c @ raw.x) < z0:  # the solver lost or did not beat its start
        bound = raw.bound if raw.x is not None else lp_bound
        bound = None if bound is None else max(bound, z0)
        kept = relative_gap(z0, bound)
        status = "optimal" if kept is not None and kept <= gap + GAP_TOLERANCE else "feasible"
        raw = replace(raw, status=status, x=begin, objective=z0, bound=bound,
                      message=raw.message + "; the start plan kept")
    at_start = relative_gap(z0, lp_bound)
    for level in (0.01, 0.001):
        if at_start is not None and at_start <= level + 1e-12:
            shift[level] = min(shift.get(level, math.inf), t_quick)
    return replace(raw, solve_seconds=seconds, first_solution_seconds=t_quick, gap_seconds=shift, first_x=begin)
