"""kolsim: plan influencer (KOL/KOC) campaigns by simulation and integer programming."""

from ._version import __version__
from .errors import InputError, KolsimError, PoolError, ScenarioError
from .scenario import Scenario, parse_scenario
from .pool import Pool, generate_pool, vet
from .io import load_export, load_pool, load_results, load_scenario
from .engines import simulate
from .attribution import attribution_frame, attribution_table, past_export
from .results import SavedRun, SimulationResult
from .review import review
from .optimize import InfeasibleError, OptimizationResult, optimize
from .analysis import Comparison, check_plan, compare
from .sweep import SweepResult, sweep
from .frontier import FrontierResult, TargetResult, frontier, min_budget
from .replan import Replan, drop_creators, extend_plan
from .baselines import baselines
from .riskplan import RiskResult, TradeoffResult, optimize_risk, risk_tradeoff
from .calibration import CalibrationResult, calibrate, read_past

__all__ = [
    "__version__",
    "KolsimError", "InputError", "ScenarioError", "PoolError",
    "Scenario", "parse_scenario", "load_scenario",
    "Pool", "load_pool", "load_export", "generate_pool", "vet",
    "simulate", "SimulationResult",
    "attribution_table", "attribution_frame", "past_export",
    "read_past", "calibrate", "CalibrationResult",
    "compare", "Comparison",
    "sweep", "SweepResult",
    "frontier", "FrontierResult", "min_budget", "TargetResult",
    "extend_plan", "drop_creators", "Replan",
    "baselines",
    "optimize_risk", "RiskResult", "risk_tradeoff", "TradeoffResult",
    "review",
    "optimize", "OptimizationResult", "InfeasibleError", "check_plan",
    "load_results", "SavedRun",
]
