"""Solvers: HiGHS called directly on the arrays, and PuLP (CBC or any solver it knows).

Both take a :class:`~kolsim.optimize.formulation.Milp` and return a
:class:`RawSolution` with a status in kolsim's own words; solver status codes
never leave this module.  A time-limited run is "feasible" with its gap, never
"optimal"; every returned vector is still verified by the caller.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import _signals
from ..errors import InputError
from .families import row_name
from .formulation import Milp

__all__ = ["RawSolution", "solve_highs", "solve_pulp", "pulp_solver", "to_pulp", "BACKENDS",
           "PULP_WARM_START", "GAP_TOLERANCE", "pulp_takes_start", "relative_gap", "highs_status", "pulp_status"]

BACKENDS = ("highs", "pulp")
#: PuLP solvers known to use initial values with ``warmStart`` (others ignore or refuse it).
PULP_WARM_START = ("PULP_CBC_CMD", "COIN_CMD", "HiGHS_CMD")
#: PuLP's names for CBC (bundled, or installed on the system)
CBC_NAMES = ("PULP_CBC_CMD", "COIN_CMD")


def pulp_takes_start(solver: str | None) -> bool:
    """Whether PuLP's ``solver`` (CBC when None) starts from given values."""
    return (solver or "PULP_CBC_CMD") in PULP_WARM_START


@dataclass
class RawSolution:
    """What a solver said, translated: status optimal | feasible | infeasible | no_solution."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    solver: str
    solve_seconds: float
    first_solution_seconds: float | None = None
    gap_seconds: dict = field(default_factory=dict)  # gap level -> seconds to reach it
    message: str = ""
    duals: np.ndarray | None = None  # row duals of an LP relaxation, when asked for
    trajectory: list = field(default_factory=list)  # (seconds, incumbent, bound) as the search went
    first_x: np.ndarray | None = None  # the first plan found (the model's columns), to verify apart


#: How far above the asked relative gap a solver's optimum may sit and still be called one: the
#: solvers prove bounds to their own tolerances (HiGHS's and CBC's dual feasibility, 1e-7), so a
#: request worth two conversions can end "optimal" 1e-7 in absolute terms (5e-8 relative) above
#: a gap of 1e-9.  One rule for every backend and for the pipeline's recomputed gap.
GAP_TOLERANCE = 1e-7


def relative_gap(obj: float | None, bound: float | None) -> float | None:
    """The proven gap (bound - objective) / |objective| of a maximisation, never below 0;
    None without a plan or a finite bound."""
    if obj is None or bound is None or not math.isfinite(bound):
        return None
    return max(0.0, bound - obj) / max(abs(obj), 1e-9)


def highs_status(model_status, words: str, has_x: bool, obj: float | None, dual_bound: float, gap: float,
                 relax: bool) -> tuple[str, float | None, str]:
    """HiGHS's model status in kolsim's words: ``(status, bound, message)``.

    "optimal" only for HiGHS's optimum with a feasible plan whose proven gap is
    the asked one; a plan from any other stop (time limit, interrupt, node or
    solution limit) is "feasible"; none is "no_solution"; "infeasible" only when
    HiGHS proved it.  HiGHS 1.7 to 1.9 call some infeasible programs "optimal"
    without a feasible solution: that is no plan, not an optimum.
    """
    import highspy

    S = highspy.HighsModelStatus
    bound = None
    if not relax:
        bound = float(dual_bound) if math.isfinite(dual_bound) else None
    elif model_status == S.kOptimal and has_x:
        bound = obj
    if model_status == S.kOptimal and not has_x:
        return "no_solution", bound, "the solver said Optimal without a feasible solution"
    if model_status == S.kOptimal:
        proven = relax or (bound is not None and relative_gap(obj, bound) <= gap + GAP_TOLERANCE)
        return ("optimal" if proven else "feasible"), bound, words
    if model_status == S.kInfeasible:
        return "infeasible", bound, words
    return ("feasible" if has_x else "no_solution"), bound, words


def _new_highs():
    """A Highs instance.  Some highspy versions print a banner on stdout when the first one is
    made, whatever its output options; it is sent nowhere, so that stdout holds only kolsim's report."""
    import highspy

    return _stdout_silenced(highspy.Highs)


def _stdout_silenced(make):
    """``make()`` with the process's standard output (file descriptor 1) sent to /dev/null."""
    import ctypes
    import os
    import sys

    try:
        sys.stdout.flush()
        libc = ctypes.CDLL(None)
        libc.fflush(None)
        saved = os.dup(1)
    except (OSError, AttributeError, ValueError):  # no fd 1, no libc: make it as it is
        return make()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return make()
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def solve_highs(m: Milp, *, time_limit: float, gap: float, start: np.ndarray | None = None,
                threads: int | None = None, relax: bool = False, duals: bool = False,
                gap_levels=(0.01, 0.001), sub_mips: bool = True,
                root_heuristics: bool = True, stop=None, track: bool = True,
                limits: dict | None = None) -> RawSolution:
    """Solve with HiGHS through highspy, passing the arrays as they are.

    ``sub_mips=False`` switches off HiGHS's sub-MIP heuristics (RINS, RENS): for a
    search that starts from a good plan, the time goes to the proof instead.
    ``root_heuristics=False`` switches off the feasibility jump and the root
    reduced-cost heuristic: for the quick program, most of whose columns the LP
    has fixed, they cost more than they find.
    ``track=False`` leaves out the callbacks that record the search's path (the
    first plan, the times to each gap level, the trajectory), which cost about a
    tenth of a small program's time; ``stop`` then goes unasked.
    ``stop(seconds, incumbent, bound)``, if given, is asked as the search goes
    (with a plan in hand); when it says True the search stops there, with its
    plan (status "feasible" unless the gap is met).

    ``limits``: further HiGHS options (``{"mip_max_nodes": 0}``, ``{"mip_max_improving_sols": 1}``),
    limits of work that, unlike time, end a search at the same point on any machine.

    An LP relaxation (``relax=True``) is solved without HiGHS's presolve: on these
    models it costs more than it saves (the same optimum in half the time or less,
    from 100 creators to the cores of 50,000; benchmarks/RESULTS.md).

    Ctrl-C or SIGTERM during the search stops HiGHS through its interrupt and is then
    raised as usual (``KeyboardInterrupt``), so a solve is never cut off mid-way nor
    taken for a result.
    """
    import highspy

    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    # HiGHS also stops at an absolute gap of 1e-6: on a request worth a few conversions that
    # ends before the relative gap kolsim reports; the relative gap alone decides
    h.setOptionValue("mip_abs_gap", 0.0)
    h.setOptionValue("random_seed", 0)
    if threads:
        h.setOptionValue("threads", int(threads))
    if relax:
        h.setOptionValue("presolve", "off")
    if not root_heuristics:
        h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        h.setOptionValue("mip_heuristic_run_root_reduced_cost", False)
    if not sub_mips:
        h.setOptionValue("mip_heuristic_run_rins", False)
        h.setOptionValue("mip_heuristic_run_rens", False)
    for name, value in (limits or {}).items():
        h.setOptionValue(name, value)
    inf = highspy.kHighsInf
    A = m.A.tocsc()
    # the arrays go to HiGHS as they are (not through a HighsLp's list-converting fields)
    h.passModel(m.n_cols, m.A.shape[0], A.nnz, int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMaximize), 0.0, m.c, m.lb, np.where(np.isinf(m.ub), inf, m.ub),
                np.where(np.isinf(m.row_lo), -inf, m.row_lo), np.where(np.isinf(m.row_hi), inf, m.row_hi),
                A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data,
                np.zeros(m.n_cols, np.int32) if relax else m.integral.astype(np.int32))

    t0 = time.perf_counter()
    events = {"first": None, "first_x": None, "gaps": {}, "path": []}
    kinds = highspy.cb.HighsCallbackType
    interrupts = {kinds.kCallbackMipInterrupt, kinds.kCallbackSimplexInterrupt, kinds.kCallbackIpmInterrupt}
    tracking = not relax and track

    with _signals.deferred() as pending:  # Ctrl-C and SIGTERM stop the search through HiGHS's own interrupt
        def on_event(ctype, message, out, inp, user):
            if ctype in interrupts and pending:
                inp.user_interrupt = True
                return
            if not tracking:
                return
            now = time.perf_counter() - t0
            improving = ctype == kinds.kCallbackMipImprovingSolution
            if events["first"] is None and math.isfinite(out.objective_function_value) and improving:
                events["first"] = now
                first_x = getattr(out, "mip_solution", None)
                if hasattr(first_x, "to_array"):  # highspy 1.10: a pointer whose values are not the plan
                    first_x = None
                events["first_x"] = None if first_x is None else np.array(first_x, float)
            primal = out.objective_function_value if improving else out.mip_primal_bound
            if math.isfinite(primal) and math.isfinite(out.mip_dual_bound):
                path = events["path"]
                if not path or path[-1][1] != primal or path[-1][2] != out.mip_dual_bound:
                    path.append((now, float(primal), float(out.mip_dual_bound)))
            g = out.mip_gap
            for level in gap_levels:
                if level not in events["gaps"] and math.isfinite(g) and g <= level:
                    events["gaps"][level] = now
            if stop is not None and not improving and math.isfinite(primal) and stop(now, primal, out.mip_dual_bound):
                inp.user_interrupt = True

        h.setCallback(on_event, None)
        if relax:
            h.startCallback(kinds.kCallbackSimplexInterrupt)
            h.startCallback(kinds.kCallbackIpmInterrupt)
        else:
            h.startCallback(kinds.kCallbackMipInterrupt)
            if tracking:
                h.startCallback(kinds.kCallbackMipImprovingSolution)
        if start is not None and not relax:
            sol = highspy.HighsSolution()
            sol.col_value = list(map(float, start))
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
    seconds = time.perf_counter() - t0
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.array(h.getSolution().col_value) if has_x else None
    obj = float(info.objective_function_value) if has_x else None
    worth = float(m.c @ x) if has_x and not relax else obj
    if has_x and abs(worth - obj) > 1e-7 * max(1.0, abs(obj)):
        # HiGHS 1.16, started from a plan, can report a better optimum's value with the
        # start's column values: the vector is not the plan it reports.  The search is run
        # again without the start (in the time left), which returns a plan that matches.
        if start is not None:
            again = solve_highs(m, time_limit=max(0.5, time_limit - seconds), gap=gap, threads=threads,
                                gap_levels=gap_levels, sub_mips=sub_mips, root_heuristics=root_heuristics,
                                stop=stop, track=track, limits=limits)
            again.solve_seconds += seconds
            return again
        obj = worth  # without a start: the plan in hand at its own value, the bound as proven
    status, bound, message = highs_status(h.getModelStatus(), h.modelStatusToString(h.getModelStatus()),
                                          has_x, obj, info.mip_dual_bound, gap, relax)
    if status in ("infeasible", "no_solution"):
        x, obj = None, None
    gaps = dict(events["gaps"])
    if status == "optimal":  # reached by the end: the levels at or above the gap proven
        final = relative_gap(obj, bound)
        for level in gap_levels:
            if final is not None and final <= level:
                gaps.setdefault(level, seconds)
    first, first_x = events["first"], events["first_x"]
    if first is None and x is not None:
        first, first_x = seconds, x
    row_duals = None
    if relax and duals and status == "optimal":
        row_duals = np.array(h.getSolution().row_dual)
    return RawSolution(status=status, x=x, objective=obj, bound=bound, solver=f"HiGHS {h.version()}",
                       solve_seconds=seconds, first_solution_seconds=first, gap_seconds=gaps,
                       message=message, duals=row_duals, trajectory=events["path"],
                       first_x=first_x if first_x is not None and len(first_x) == m.n_cols else None)


def to_pulp(m: Milp, name: str = "kolsim"):
    """The same integer program as a PuLP model (for other solvers and LP/MPS export)."""
    import pulp

    prob = pulp.LpProblem(name, pulp.LpMaximize)
    names = ([f"x_{k}_{w + 1}" for k, w in zip(m.xk, m.xw)] + [f"y_{k}" for k in range(m.n_y)]
             + [f"z_{s}" for s in range(m.n_z)] + [f"u_{k}" for k in (m.uk if m.n_u else [])])
    new = getattr(prob, "add_variable", None)  # PuLP >= 3.3; LpVariable(...) before
    make = new if new is not None else pulp.LpVariable
    var = [make(nm, lowBound=float(lo), upBound=None if math.isinf(hi) else float(hi),
                cat=pulp.LpInteger if integ else pulp.LpContinuous)
           for nm, lo, hi, integ in zip(names, m.lb, m.ub, m.integral)]
    prob += pulp.LpAffineExpression([(var[j], float(m.c[j])) for j in np.flatnonzero(m.c)]), "objective"
    A = m.A.tocsr()
    for r in range(A.shape[0]):
        lo, hi = m.row_lo[r], m.row_hi[r]
        cols = A.indices[A.indptr[r]:A.indptr[r + 1]]
        vals = A.data[A.indptr[r]:A.indptr[r + 1]]
        expr = pulp.LpAffineExpression([(var[j], float(v)) for j, v in zip(cols, vals)])
        group = m.groups[m.row_group[r]]
        name = row_name(group.family, group.key, r)
        if math.isfinite(lo) and math.isfinite(hi) and lo == hi:
            prob += expr == float(lo), name
            continue
        if math.isfinite(lo):
            prob += expr >= float(lo), f"{name}_lo" if math.isfinite(hi) else name
        if math.isfinite(hi):
            prob += expr <= float(hi), name
    return prob, var


def pulp_solver(name: str, **options):
    """PuLP's solver ``name`` with ``options``, or an :class:`InputError` naming the solvers PuLP
    knows and those installed here."""
    import pulp

    def names():
        return (f"PuLP knows {', '.join(dict.fromkeys(pulp.listSolvers()))}; installed here: "
                f"{', '.join(pulp.listSolvers(onlyAvailable=True))}")

    try:
        with warnings.catch_warnings():  # PuLP 3.3 announces the bundled CBC's retirement in 4.0
            warnings.simplefilter("ignore", DeprecationWarning)
            s = pulp.getSolver(name, **options)
    except Exception:  # pulp raises PulpSolverError (or KeyError) for unknown names
        raise InputError(f"{name!r} is not a solver PuLP knows ({names()})", where="solver") from None
    if not s.available():
        raise InputError(f"{name!r} is not installed ({names()})", where="solver")
    return s


def pulp_status(status: str, sol_status, has_values: bool) -> str:
    """PuLP's status and solution status in kolsim's words.

    PuLP's ``status`` alone is not trusted: a solver stopped at its time limit
    with a plan reports ``Optimal`` (CBC's "Stopped on time - objective value"
    is read so), and values are filled in when no plan was found.  Only the
    solution status says which: ``LpSolutionOptimal`` is an optimum (to the
    asked gap), ``LpSolutionIntegerFeasible`` a plan without that proof.

    Examples
    --------
    >>> import pulp
    >>> pulp_status("Optimal", pulp.LpSolutionIntegerFeasible, True)  # CBC at its time limit
    'feasible'
    >>> pulp_status("Optimal", pulp.LpSolutionOptimal, True), pulp_status("Not Solved", pulp.LpSolutionNoSolutionFound, True)
    ('optimal', 'no_solution')
    """
    import pulp

    if status == "Infeasible" or sol_status == pulp.LpSolutionInfeasible:
        return "infeasible"
    if sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible) or not has_values:
        return "no_solution"
    return "optimal" if status == "Optimal" and sol_status == pulp.LpSolutionOptimal else "feasible"


def solve_pulp(m: Milp, *, time_limit: float, gap: float, solver: str | None = None,
               start: np.ndarray | None = None, known: float | None = None) -> RawSolution:
    """Solve with PuLP's solver ``solver`` (CBC by default).

    ``start``: a plan to start from, passed as PuLP's initial values with
    ``warmStart``; only for the solvers in :data:`PULP_WARM_START`.  ``known``: a
    proven bound already known (the LP relaxation's optimum), used instead of
    solving that LP again.

    PuLP's ``status`` alone is not trusted: with a time limit CBC may report
    Optimal for a feasible point, and PuLP fills values when no solution was
    found; the solution status is read too, and the caller verifies. PuLP
    reports no bound: a feasible result is bounded by the LP relaxation.
    """
    import pulp

    name = solver or "PULP_CBC_CMD"
    extra = {"warmStart": True} if start is not None and pulp_takes_start(name) else {}
    if name in CBC_NAMES:
        # CBC prunes every node that cannot beat the plan in hand by its cutoff increment
        # (1e-5 by default, absolute): on a request worth a few conversions that is more than
        # the asked relative gap, so its "optimal" would not be the proof kolsim reports
        extra["options"] = ["increment 0"]
    # CBC stops when (bound - plan) < gapRel * bound; asked gap/(1 + gap), that is
    # bound < plan * (1 + gap): the gap kolsim states, relative to the plan
    s = pulp_solver(name, msg=False, timeLimit=time_limit, gapRel=gap / (1 + gap), **extra)
    prob, var = to_pulp(m)
    if start is not None:  # a solver's plan sits within its tolerances: PuLP asks it within the bounds
        start = np.clip(np.where(m.integral, np.round(start), start), m.lb, m.ub)
        for v, value in zip(var, start):
            v.setInitialValue(float(value))
    t0 = time.perf_counter()
    with _signals.deferred():  # the solver (CBC, in its own process) finishes or stops; then the interrupt
        prob.solve(s)
    seconds = time.perf_counter() - t0
    st = pulp.LpStatus.get(prob.status, "Undefined")
    sol_status = getattr(prob, "sol_status", None)
    values = np.array([v.value() if v.value() is not None else np.nan for v in var], float)
    status = pulp_status(st, sol_status, not np.isnan(values).any())
    x = values if status in ("optimal", "feasible") else None
    obj = float(m.c @ x) if x is not None else None
    # PuLP reports no bound; CBC's "optimal" proves only the asked relative gap, so only
    # the levels at or above it count as reached. A feasible plan gets the LP relaxation's
    # optimum as its bound (HiGHS, in at most a tenth of the time limit): weaker than the
    # solver's own, but proven.
    bound = obj + gap * abs(obj) if status == "optimal" else None
    if status == "optimal" and known is not None:
        bound = min(bound, max(obj, known))
    if status == "feasible":
        if known is None:
            lp = solve_highs(m, time_limit=max(1.0, 0.1 * time_limit), gap=gap, relax=True)
            known = lp.objective if lp.status == "optimal" else None
        if known is not None:
            bound = max(obj, known)
    # the levels proven, at the end (PuLP reports no path): those at or above the asked gap if
    # optimal, and those the gap against a known bound meets
    final = relative_gap(obj, bound)
    gaps = {level: seconds for level in (0.01, 0.001)
            if status == "optimal" and level >= gap or final is not None and final <= level + 1e-12}
    return RawSolution(status=status, x=x, objective=obj, bound=bound, solver=f"PuLP {pulp.__version__}: {name}",
                       solve_seconds=seconds, first_solution_seconds=seconds if x is not None else None,
                       gap_seconds=gaps, message=f"{st} (solution status {sol_status})", first_x=x)
