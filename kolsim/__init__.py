"""kolsim: plan influencer (KOL/KOC) campaigns by simulation and integer programming."""

__version__ = "0.1.0"

from .errors import InputError, KolsimError, PoolError, ScenarioError  # noqa: E402
from .scenario import Scenario, parse_scenario  # noqa: E402
from .pool import Pool, generate_pool, vet  # noqa: E402
from .io import load_pool, load_scenario  # noqa: E402
from .engines import simulate  # noqa: E402
from .analysis import Comparison, compare  # noqa: E402
from .results import SimulationResult  # noqa: E402
from .review import review  # noqa: E402
from .optimize import InfeasibleError, OptimizationResult, optimize  # noqa: E402

__all__ = [
    "__version__",
    "KolsimError", "InputError", "ScenarioError", "PoolError",
    "Scenario", "parse_scenario", "load_scenario",
    "Pool", "load_pool", "generate_pool", "vet",
    "simulate", "SimulationResult",
    "compare", "Comparison",
    "review",
    "optimize", "OptimizationResult", "InfeasibleError",
]
