"""What both engines share: run settings, seeds, the stopping rule's measure, provenance."""

from __future__ import annotations

import math

import numpy as np

from .._version import __version__
from ..errors import InputError
from ..model import PostTable
from ..scenario import Scenario
from .._hashing import scenario_hash


def seed_sequence(rng) -> np.random.SeedSequence:
    """The seed sequence behind ``rng`` (None, int, SeedSequence or Generator)."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return rng.bit_generator.seed_seq
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise TypeError(f"rng must be None, an int, a SeedSequence or a Generator (got {type(rng).__name__})")


def run_settings(scenario: Scenario, runs, rng, target_half_width) -> tuple[int, float | None,
                                                                           np.random.SeedSequence]:
    """``(runs, target_half_width, seed sequence)``: the arguments, or the scenario's defaults."""
    runs = scenario.simulation.runs if runs is None else int(runs)
    if runs < 2:
        raise ValueError(f"runs must be at least 2 (got {runs})")
    target = scenario.simulation.target_half_width if target_half_width is None else target_half_width
    return runs, target, seed_sequence(scenario.simulation.seed if rng is None else rng)


def spawn(ss: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``ss``, from a fresh copy, so the same ``ss`` always gives the same."""
    return np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key, pool_size=ss.pool_size).spawn(n)


def require_posts(table: PostTable, scenario: Scenario) -> None:
    """A scenario with only an [optimize] table has nothing to simulate."""
    if table.n_posts == 0:
        raise InputError("has no posts to simulate: it only has an [optimize] table; run "
                         "`kolsim optimize` to choose a plan, or add [[waves]] or a [plan]",
                         file=scenario.source)


def rel_half_width(x: np.ndarray) -> float:
    """Half-width of the 95 % interval of the mean of ``x``, as a share of the mean."""
    m = x.mean()
    if x.size < 2 or m <= 0:
        return math.inf
    return 1.96 * x.std(ddof=1) / math.sqrt(x.size) / m


def provenance(scenario: Scenario, ss: np.random.SeedSequence, *, runs: int, requested: int,
               target: float | None, engine: str, settings: dict, versions: dict | None = None) -> dict:
    """What a result records of how it was made."""
    entropy = ss.entropy
    return {
        "kolsim_version": __version__,
        "scenario": scenario.source,
        "scenario_hash": scenario_hash(scenario),
        "seed": int(entropy) if isinstance(entropy, (int, np.integer)) else str(entropy),
        "spawn_key": list(ss.spawn_key),
        "runs": runs,
        "runs_requested": requested,
        "target_half_width": target,
        "engine": engine,
        **settings,
        "numpy_version": np.__version__,
        **(versions or {}),
    }
