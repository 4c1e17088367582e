"""The engines that sample the model: Monte Carlo and discrete-event."""

from __future__ import annotations

from typing import Callable

from ..results import SimulationResult
from ..scenario import Scenario

__all__ = ["simulate", "ENGINES"]

#: Engine names accepted by :func:`simulate`.
ENGINES = ("montecarlo", "des")


def simulate(scenario: Scenario, *, engine: str = "montecarlo", runs: int | None = None, rng=None,
             workers: int = 1, target_half_width: float | None = None,
             progress: Callable[[int, int], None] | None = None, scheduler=None,
             attribute: bool = False, **options) -> SimulationResult:
    """Simulate a scenario with the Monte Carlo (default) or the discrete-event engine.

    Parameters
    ----------
    scenario : Scenario
    engine : {"montecarlo", "des"}
        ``"montecarlo"`` samples the model's outcomes, vectorised
        (:func:`kolsim.engines.montecarlo.simulate`, which also takes
        ``blocks_per_task``); ``"des"`` runs the campaign's operations in time
        on SimPy (:func:`kolsim.engines.des.simulate_des`).
    runs : int, optional
        Replications (the most, with a stopping rule); default from the scenario.
    rng : None, int, SeedSequence or Generator, optional
        The source of randomness; default the scenario's seed.
    workers : int
        Worker processes.  Results do not depend on it.
    scheduler : str or distributed.Client, optional
        Run on a Dask distributed cluster instead of local processes: its
        address (``tcp://HOST:PORT``) or a client.  Results are the same, byte
        for byte, whatever the backend and the number of workers.
    target_half_width : float, optional
        Stop once the 95 % interval of mean conversions is narrower than this
        share of the mean.
    progress : callable, optional
        Called as ``progress(done, total)``.
    attribute : bool
        Credit every note, creator and wave with its share of each
        replication's reads, buyers and money (:mod:`kolsim.attribution`; the
        result's ``credit``, summarised by
        :func:`kolsim.attribution.attribution_table`).

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import kolsim
    >>> s = kolsim.load_scenario("scenarios/micro_seeding.toml")
    >>> kolsim.simulate(s, runs=50, rng=1, engine="des").engine
    'des'
    """
    if engine == "montecarlo":
        from .montecarlo import simulate as run
    elif engine == "des":
        from .des import simulate_des as run
        if options:
            raise TypeError(f"the discrete-event engine takes no option {sorted(options)[0]!r}")
    else:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    return run(scenario, runs=runs, rng=rng, workers=workers, target_half_width=target_half_width,
               progress=progress, scheduler=scheduler, attribute=attribute, **options)
