"""What the optimizer returns: a status in kolsim's words, the verified plan and how it was found."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from ..errors import KolsimError
from .problem import Problem
from .verify import VerifiedPlan

__all__ = ["Status", "OptimizationResult", "InfeasibleError", "PLAN_COLUMNS", "plan_frame"]


class InfeasibleError(KolsimError):
    """The request has no plan (or none was found in time); exit code 3 in the CLI."""


class Status(str, Enum):
    """The answer's status.  A ``str``, so ``result.status == "optimal"`` reads as it says."""

    OPTIMAL = "optimal"          # a verified plan within the asked gap of a proven bound
    FEASIBLE = "feasible"        # a verified plan with a larger gap (e.g. at the time limit)
    INFEASIBLE = "infeasible"    # no plan meets every rule (the explanation says which conflict)
    NO_SOLUTION = "no_solution"  # none found in time, or the solver's answer failed verification

    def __str__(self) -> str:
        return self.value

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


#: Columns of a plan (plan.csv).
PLAN_COLUMNS = ("kol_id", "tier", "category", "week", "posts", "cost")


def plan_frame(p: Problem, vp: VerifiedPlan) -> pd.DataFrame:
    """The verified plan as a table: one row per creator and week (the hiring fee in its first week)."""
    k, w = np.nonzero(vp.posts)
    return pd.DataFrame({
        "kol_id": p.ids[k], "tier": p.tier[k], "category": p.category[k], "week": w + 1,
        "posts": vp.posts[k, w], "cost": vp.posts[k, w] * p.cost_cents[k] / 100
        + np.where(w == np.argmax(vp.posts[k] > 0, axis=1), p.fee_cents[k] / 100, 0.0),
    })


@dataclass(frozen=True, eq=False)
class OptimizationResult:
    """The answer to a planner's request.

    Attributes
    ----------
    status : Status
        ``optimal`` (gap within the asked tolerance), ``feasible`` (a verified
        plan with a larger gap, e.g. at the time limit), ``infeasible`` or
        ``no_solution`` (none found in time).
    objective : float or None
        The model's value of the plan (expected conversions, unique reach,
        interactions or profit), with the exact saturation curve.
    bound : float or None
        A proven upper bound on the best plan's value in the solver's model.
    gap : float or None
        (bound - model_objective) / model_objective, the solver's proven gap in
        its own model.  The model overstates saturated value by at most
        ``approximation_error`` of it, so for conversions and reach the gap to
        the exact optimum is at most gap + approximation_error; for profit the
        error applies to the revenue part (revenue / profit times as much).
    model_objective : float or None
        The plan's value in the solver's model (tangent envelope of saturation).
    plan : DataFrame
        kol_id, tier, category, week, posts, cost (RMB), one row per creator-week.
    spend : float
        Contracted RMB (note prices + hiring fees).
    explanation : str
        For an infeasible request: which named constraints conflict and by how much.
    simulated : dict or None
        The plan simulated by Monte Carlo against the optimizer's expectation,
        once :func:`kolsim.check_plan` has run.
    scenario, pool
        The request it answers.
    """

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    plan: pd.DataFrame
    spend: float
    backend: str
    solver: str
    build_seconds: float
    solve_seconds: float
    first_solution_seconds: float | None
    gap_seconds: dict
    problem: Problem
    approximation_error: float
    binding: tuple[str, ...] = ()
    explanation: str = ""
    conflict: Any = None
    marginal_budget: dict | None = None
    simulated: dict | None = None
    candidates: int = 0
    model_size: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    model_objective: float | None = None
    scenario: Any = None
    pool: Any = None

    @property
    def has_plan(self) -> bool:
        """Whether a verified plan was found (status optimal or feasible)."""
        return Status(self.status).has_plan

    def model(self, fmt: str = "lp") -> bytes:
        """The request's integer program as an LP or MPS file's bytes (rows named by their rule's
        family and the category or tier it is about), for other solvers or for reading."""
        from .export import model_bytes
        from .formulation import build_milp

        return model_bytes(build_milp(self.problem), fmt)

    def raise_for_status(self) -> "OptimizationResult":
        """Raise :class:`InfeasibleError` unless a verified plan was found."""
        if not self.has_plan:
            raise InfeasibleError(self.explanation or f"no plan: {self.status}")
        return self

    def to_frame(self) -> pd.DataFrame:
        """The plan: one row per creator and week."""
        return self.plan.copy()

    def summary(self) -> dict[str, Any]:
        """Status, objective, bound, gap, spend, timings, backend and provenance."""
        return {
            "status": str(self.status), "objective": self.objective, "objective_kind": self.problem.objective,
            "model_objective": self.model_objective,
            "bound": self.bound, "gap": self.gap, "spend": self.spend, "budget": self.problem.budget,
            "creators": int(self.plan["kol_id"].nunique()) if len(self.plan) else 0,
            "notes": int(self.plan["posts"].sum()) if len(self.plan) else 0,
            "build_seconds": self.build_seconds, "solve_seconds": self.solve_seconds,
            "first_solution_seconds": self.first_solution_seconds,
            "seconds_to_gap": {f"{k:g}": v for k, v in sorted(self.gap_seconds.items())},
            "backend": self.backend, "solver": self.solver,
            "approximation_error": self.approximation_error,
            "binding": list(self.binding), "explanation": self.explanation,
            "marginal_budget": self.marginal_budget, "simulated": self.simulated,
            "candidates": self.candidates, "excluded": int(len(self.problem.excluded)),
            "notices": list(self.problem.notices),
            "model_size": self.model_size, "provenance": self.provenance,
        }

    def __repr__(self) -> str:
        if self.objective is None:
            return f"OptimizationResult({self.status}: {self.explanation[:120]})"
        gap = f", gap {self.gap:.3%}" if self.gap is not None else ""
        n = int(self.plan["kol_id"].nunique()) if len(self.plan) else 0
        return (f"OptimizationResult({self.status}: {self.problem.objective} {self.objective:,.4g}{gap}; "
                f"{n} creators, {int(self.plan['posts'].sum()) if len(self.plan) else 0} notes, "
                f"¥{self.spend:,.0f} of ¥{self.problem.budget:,.0f})")

    def _repr_html_(self) -> str:
        from html import escape

        return f"<p><b>{escape(repr(self))}</b></p>" + self.plan.head(30).to_html(index=False)
