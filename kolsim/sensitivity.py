"""Global sensitivity analysis by SALib: designs and indices, for any model of a few inputs.

The functions here know nothing of campaigns: a :class:`Factor` is a named
input with a range (sampled on a log scale when asked), a design is the
SALib sample of those ranges, and the indices are SALib's analysis of the
outputs at the design's points.  :func:`kolsim.sweep` runs the campaign model
at the points; the tests run the Ishigami function through the same functions.

- **Sobol** (Saltelli's scheme, ``SALib.sample.sobol``): ``n`` base samples
  (a power of 2) give ``n (d + 2)`` points; first-order ``S1`` and total-order
  ``ST`` indices with bootstrap intervals (``SALib.analyze.sobol``).
- **Morris** (``SALib.sample.morris``, 4 levels): ``r`` trajectories give
  ``r (d + 1)`` points; ``mu_star`` (the mean absolute elementary effect, in the
  output's units per unit of the factor's range), its bootstrap interval, and
  ``sigma`` (their spread: interaction or non-linearity).

A factor on a log scale is sampled uniformly in ``log x``; its indices are those
of the model as a function of ``log x`` (for Morris, effects per unit of
``log x``'s range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Factor", "sobol_design", "sobol_indices", "morris_design", "morris_indices", "noise_share",
           "METHODS"]

#: The sampling methods this module designs.
METHODS = ("sobol", "morris")
#: Morris's grid levels (SALib's default; an even number keeps the design balanced).
MORRIS_LEVELS = 4
#: Bootstrap resamples for every interval.
RESAMPLES = 1000


@dataclass(frozen=True)
class Factor:
    """An input of a sensitivity study: its name and range, sampled on a log scale if ``log``."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"{self.name}: a range needs low < high, both finite (got {self.low}, {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log scale needs low > 0 (got {self.low})")

    def _bounds(self) -> list[float]:
        return [math.log(self.low), math.log(self.high)] if self.log else [self.low, self.high]

    def _values(self, u: np.ndarray) -> np.ndarray:
        return np.exp(u) if self.log else u


def _problem(factors) -> dict:
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise ValueError(f"factor names must differ (got {names})")
    return {"num_vars": len(factors), "names": names, "bounds": [f._bounds() for f in factors]}


def _seed(seed: int) -> int:
    """SALib's seed: some of its versions test ``if seed:``, so 0 would mean no seed."""
    return int(seed) % (2**31 - 1) + 1


def _to_values(factors, u: np.ndarray) -> np.ndarray:
    return np.column_stack([f._values(u[:, j]) for j, f in enumerate(factors)])


def sobol_design(factors, n: int, seed: int) -> np.ndarray:
    """Saltelli's points for first- and total-order indices: ``n (d + 2)`` rows, one column per factor.

    ``n`` must be a power of 2 (the Sobol sequence's balance properties need it).
    """
    from SALib.sample import sobol as sample

    if n < 2 or n & (n - 1):
        raise ValueError(f"Sobol base samples must be a power of 2, at least 2 (got {n})")
    u = sample.sample(_problem(factors), n, calc_second_order=False, scramble=True, seed=_seed(seed))
    return _to_values(factors, u)


def sobol_indices(factors, y: np.ndarray, seed: int, level: float = 0.95) -> pd.DataFrame:
    """First- and total-order Sobol indices of the outputs ``y`` at :func:`sobol_design`'s points,
    with their bootstrap intervals (``S1_conf``, ``ST_conf``: half-widths at ``level``)."""
    from SALib.analyze import sobol

    y = np.asarray(y, float)
    if not np.all(np.isfinite(y)):
        raise ValueError("every output must be finite to compute Sobol indices")
    if np.ptp(y) == 0:  # SALib divides by the variance
        z = np.zeros(len(factors))
        res = {"S1": z, "S1_conf": z, "ST": z, "ST_conf": z}
    else:
        res = sobol.analyze(_problem(factors), y, calc_second_order=False, num_resamples=RESAMPLES,
                            conf_level=level, seed=_seed(seed))
    return pd.DataFrame({"factor": [f.name for f in factors], "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]})


def morris_design(factors, r: int, seed: int) -> np.ndarray:
    """``r`` Morris trajectories on a 4-level grid: ``r (d + 1)`` rows."""
    from SALib.sample import morris

    if r < 2:
        raise ValueError(f"Morris needs at least 2 trajectories (got {r})")
    u = morris.sample(_problem(factors), r, num_levels=MORRIS_LEVELS, seed=_seed(seed))
    return _to_values(factors, u)


def morris_indices(factors, x: np.ndarray, y: np.ndarray, seed: int, level: float = 0.95) -> pd.DataFrame:
    """Morris's ``mu``, ``mu_star`` (with its bootstrap half-width ``mu_star_conf``) and ``sigma``
    of the outputs ``y`` at the design ``x`` (:func:`morris_design`)."""
    from SALib.analyze import morris

    u = np.column_stack([np.log(x[:, j]) if f.log else x[:, j] for j, f in enumerate(factors)])
    res = morris.analyze(_problem(factors), u, np.asarray(y, float), num_resamples=RESAMPLES,
                         conf_level=level, num_levels=MORRIS_LEVELS, seed=_seed(seed))
    return pd.DataFrame({"factor": [f.name for f in factors], "mu": np.asarray(res["mu"], float),
                         "mu_star": np.asarray(res["mu_star"], float),
                         "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                         "sigma": np.asarray(res["sigma"], float)})


def noise_share(means: np.ndarray, ses: np.ndarray) -> float:
    """The share of the outputs' variance across points that is Monte Carlo noise:
    mean(SE²) / var(means).  Small (say < 0.05) means the indices describe the model, not the
    noise; replications on common random numbers make the true share smaller still."""
    var = float(np.var(np.asarray(means, float), ddof=1)) if len(means) > 1 else 0.0
    noise = float(np.mean(np.square(np.asarray(ses, float))))
    return noise / var if var > 0 else (0.0 if noise == 0 else math.inf)
