"""What ¥1,000 more budget would buy: the request solved again (a discrete step has no dual)."""

from __future__ import annotations

from ..pool import Pool
from ..scenario import Scenario
from .formulation import settle_saturation
from .problem import Problem, build_problem
from .verify import VerificationError, verify

__all__ = ["marginal_budget", "STEP"]

#: The extra budget, RMB.
STEP = 1000.0


def marginal_budget(scenario: Scenario, pool: Pool, p: Problem, objective: float, plan, solve, time_limit: float):
    """Solve the request again with ``STEP`` more budget, starting from ``plan``.

    ``solve(problem, time_limit, start)`` is the pipeline's solve step.  Returns
    ``{"extra_budget", "objective", "gain", "status"}``, or None when the re-solve
    found no verified plan.
    """
    q = build_problem(scenario, pool, objective=p.objective, budget=p.budget + STEP, bought=p.bought_plan)
    raw, m, _, _ = solve(q, min(time_limit, 30.0), plan)
    if raw.x is None:
        return None
    try:
        vp = verify(q, m, settle_saturation(m, q, raw.x), raw.objective)
    except VerificationError:
        return None
    return {"extra_budget": STEP, "objective": vp.value, "gain": vp.value - objective, "status": raw.status}
