"""Choose creators and their post schedule by integer programming.

The package, step by step (:mod:`.pipeline` chains them):

- :mod:`.problem`: the request as arrays (values from the model, caps, exclusions with codes);
- :mod:`.families`: the planner's rules as named families, read by every step;
- :mod:`.formulation`: the integer program as a sparse matrix in named row groups;
- :mod:`.backends`: HiGHS on the arrays, or PuLP; solver statuses are translated there;
- :mod:`.reduce`: large pools through a core problem and a bound;
- :mod:`.verify`: the independent check of a plan, in cents and exact fractions;
- :mod:`.diagnose`: why a request is infeasible, in the planner's words;
- :mod:`.result`: the answer (:class:`OptimizationResult`, :class:`Status`);
- :mod:`.binding`, :mod:`.marginal`: what the plan presses against, what ¥1,000 more buys;
- :mod:`.export`: the model as LP or MPS bytes.
"""

from .pipeline import optimize
from .problem import Problem, build_problem
from .result import InfeasibleError, OptimizationResult, Status

__all__ = ["optimize", "OptimizationResult", "InfeasibleError", "Status", "Problem", "build_problem"]
