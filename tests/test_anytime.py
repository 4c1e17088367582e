"""The large-pool method uses the time it is given, and its bound is never weaker than the whole
model's LP relaxation (issue 16).  Nothing here depends on machine speed: a run either proves
its gap or has used its time, whichever comes first on the machine at hand."""

from __future__ import annotations

import sys
import time

import pytest

from kolsim.optimize import build_problem
from kolsim.optimize import reduce as reduce_mod
from kolsim.optimize.backends import GAP_TOLERANCE, relative_gap, solve_highs
from kolsim.optimize.formulation import build_milp
from kolsim.optimize.verify import verify

sys.path.insert(0, "benchmarks")
from optimizer_families import FAMILIES  # noqa: E402


def _lp_bound(p) -> float:
    lp = solve_highs(build_milp(p), time_limit=300, gap=0.0, relax=True)
    assert lp.bound is not None
    return lp.bound


def _check(p, raw, m, lp: float, gap: float, limit: float, elapsed: float) -> None:
    vp = verify(p, m, raw.x, claimed_objective=raw.objective)  # every rule holds, the value is as said
    assert raw.bound >= vp.model_value - 1e-9 * abs(vp.model_value)
    # never weaker than the LP relaxation (to the LP solver's own tolerance)
    assert raw.bound <= lp + 1e-7 * abs(lp) + 1e-7, (raw.bound, lp)
    # it ends proven, or with its time used: the loop goes on while more than 0.5 s is left
    proven = relative_gap(raw.objective, raw.bound) <= gap + GAP_TOLERANCE
    assert proven or elapsed >= limit - 0.5 - 1e-3, (relative_gap(raw.objective, raw.bound), elapsed)
    assert (raw.status == "optimal") == proven


@pytest.mark.parametrize("family,n,seed", [("linear", 1500, 0), ("fees", 600, 1), ("generated", 700, 2)])
def test_large_pool_method_proves_or_uses_its_time(family, n, seed):
    """On three request families (the old method stopped after 1.3 s with a 0.11 % gap on the
    first, given 60 s), the plan is verified, the bound holds and is within the LP bound, and the
    run ends only at its gap or its time limit."""
    scenario, pool = FAMILIES[family](n, seed)
    p = build_problem(scenario, pool)
    assert p.n > reduce_mod.SMALL_POOL
    gap, limit = 1e-4, 12.0
    t = time.perf_counter()
    raw, m, _, sizes = reduce_mod.solve_reduced(p, time_limit=limit, gap=gap)
    elapsed = time.perf_counter() - t
    assert sizes["method"] == "core and bound"
    _check(p, raw, m, _lp_bound(p), gap, limit, elapsed)


def test_core_prices_that_leave_value_outside_fall_back_to_the_whole_lp(monkeypatch):
    """A core started small and priced once leaves creators of positive value outside: the
    method then prices at the whole LP's duals, so its bound still is no weaker than the LP's."""
    monkeypatch.setattr(reduce_mod, "WHOLE_LP", 0)
    scenario, pool = FAMILIES["fees"](900, 3)
    p = build_problem(scenario, pool)
    gap, limit = 1e-4, 8.0
    t = time.perf_counter()
    raw, m, _, sizes = reduce_mod.solve_reduced(p, time_limit=limit, gap=gap, rounds=1)
    elapsed = time.perf_counter() - t
    assert sizes["priced_out"] is False and sizes["core_candidates"] < p.n
    _check(p, raw, m, _lp_bound(p), gap, limit, elapsed)


@pytest.mark.parametrize("family,seed", [("fees", 0), ("linear", 2)])
def test_cbc_starts_from_the_quick_plan_and_keeps_the_lp_bound(family, seed):
    """The PuLP backend hands CBC the quick plan: it never returns a worse plan than that start,
    its plan keeps every rule, and its bound is at least the plan and at most the LP's."""
    from kolsim.optimize.quick import solve_pulp_started

    p = build_problem(*FAMILIES[family](60, seed))
    m = build_milp(p)
    lp = _lp_bound(p)
    raw = solve_pulp_started(m, time_limit=4, gap=1e-4)
    assert raw.first_x is not None and raw.x is not None
    verify(p, m, raw.first_x)
    vp = verify(p, m, raw.x, claimed_objective=raw.objective)
    assert raw.objective >= float(m.c @ raw.first_x) - 1e-9 * abs(raw.objective)
    assert vp.model_value - 1e-9 * abs(vp.model_value) <= raw.bound <= lp + 1e-7 * abs(lp) + 1e-7
    assert raw.first_solution_seconds <= raw.solve_seconds
    at_start = relative_gap(float(m.c @ raw.first_x), lp)
    if at_start <= 0.01 - 1e-6:  # the quick plan proves 1 % against the LP bound the moment it is found
        assert raw.gap_seconds[0.01] <= raw.first_solution_seconds + 1e-9
