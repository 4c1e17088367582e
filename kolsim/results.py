"""Result objects: per-replication draws, summaries with intervals, tables.

Results are data.  Plots, reports and the CLI only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from .model import STREAMS, PostTable
from .scenario import Scenario

__all__ = ["SimulationResult", "SavedRun", "describe", "wilson", "SUMMARY_COLUMNS", "STAGES"]

SUMMARY_COLUMNS = ("kind", "n", "mean", "se", "ci_low", "ci_high", "p10", "p50", "p90")

#: Stages of a note's workflow in the discrete-event engine (``note_stages`` holds indices into
#: it); the first eight are "in flight" at the horizon.
STAGES = ("waiting", "contracting", "signed", "drafting", "queued", "in_review", "revising",
          "approved", "published", "no_show")

#: Ratio metrics: name -> (numerator, denominator, meaning).
RATIOS: dict[str, tuple[str, str, str]] = {
    "cpv": ("spend", "reads", "RMB per read"),
    "cpe": ("spend", "interactions", "RMB per interaction"),
    "cpa": ("spend", "conversions", "RMB per conversion"),
    "roi": ("profit", "spend", "profit per RMB spent"),
}


def describe(x: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Mean, standard error, a t interval and P10/P50/P90 of a sample.

    Examples
    --------
    >>> d = describe(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> d["mean"], round(d["se"], 4), d["p50"]
    (2.5, 0.6455, 2.5)
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    mean = float(x.mean())
    se = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se if n > 1 else 0.0
    p10, p50, p90 = (float(v) for v in np.quantile(x, [0.1, 0.5, 0.9]))
    return dict(kind="mean", n=n, mean=mean, se=se, ci_low=mean - half, ci_high=mean + half,
                p10=p10, p50=p50, p90=p90)


def wilson(successes: float, trials: float, level: float = 0.95) -> tuple[float, float, float]:
    """The Wilson score interval of a proportion: ``(p_hat, low, high)``.

    Unlike the normal interval it stays inside [0, 1] and is not empty at 0 or 1.

    Examples
    --------
    >>> tuple(round(v, 4) for v in wilson(0, 20))
    (0.0, 0.0, 0.1611)
    """
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / trials
    den = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / den
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    # the interval always contains the estimate (rounding can push an end past it at 0 or 1)
    return float(p), float(min(p, max(0.0, centre - half))), float(max(p, min(1.0, centre + half)))


def _ratio(num: np.ndarray, den: np.ndarray, level: float = 0.95) -> dict[str, Any] | None:
    """Ratio of means with a delta-method interval; quantiles of defined per-run ratios."""
    num = np.asarray(num, float)
    den = np.asarray(den, float)
    n = num.size
    if den.mean() <= 0:
        return None
    r = num.mean() / den.mean()
    resid = num - r * den
    se = float(resid.std(ddof=1) / (np.sqrt(n) * den.mean())) if n > 1 else 0.0
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se if n > 1 else 0.0
    ok = den > 0
    p10, p50, p90 = (float(v) for v in np.quantile(num[ok] / den[ok], [0.1, 0.5, 0.9]))
    return dict(kind="ratio of means", n=int(ok.sum()), mean=float(r), se=se, ci_low=r - half,
                ci_high=r + half, p10=p10, p50=p50, p90=p90)


def _rate(successes: float, trials: float, n: int) -> dict[str, Any]:
    p, lo, hi = wilson(successes, trials)
    se = float(np.sqrt(p * (1 - p) / trials))
    return dict(kind="rate (Wilson)", n=n, mean=p, se=se, ci_low=lo, ci_high=hi,
                p10=np.nan, p50=np.nan, p90=np.nan)


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """The draws of one simulation run and what they summarise to.

    Attributes
    ----------
    scenario : Scenario
    table : PostTable
        The compiled notes the engine simulated.
    totals : dict of str -> array (runs,)
        Per-replication totals, replication i always from random stream i.
    daily : dict of str -> array (runs, horizon)
        Per-replication daily series.
    engine : str
    provenance : dict
        kolsim version, scenario hash, seed, runs, engine and its settings.
    note_days : int array (runs, notes), optional
        Discrete-event engine: each note's actual publication day (-1: not
        published within the horizon).
    note_stages : int array (runs, notes), optional
        Discrete-event engine: each note's stage at the horizon (indices into
        :data:`STAGES`).
    events : DataFrame, optional
        Discrete-event engine: the first replication's event log (time,
        event, creator, note, value).
    credit : dict of str -> array, optional
        With ``attribute=True``: each note's credit per replication, (runs,
        notes) per metric of :data:`kolsim.attribution.CREDIT_METRICS`, and the
        rows of no note as ``"<row>:<metric>"`` (runs,)
        (:func:`kolsim.attribution.attribution_table` summarises them).
    """

    scenario: Scenario
    table: PostTable
    totals: Mapping[str, np.ndarray]
    daily: Mapping[str, np.ndarray]
    engine: str
    provenance: Mapping[str, Any] = field(default_factory=dict)
    note_days: np.ndarray | None = None
    note_stages: np.ndarray | None = None
    events: pd.DataFrame | None = None
    credit: Mapping[str, np.ndarray] | None = None

    @property
    def runs(self) -> int:
        return int(next(iter(self.totals.values())).size)

    def __repr__(self) -> str:
        conv = self.totals.get("conversions")
        mean = f", mean conversions {float(np.mean(conv)):,.1f}" if conv is not None and len(conv) else ""
        return (f"SimulationResult({self.scenario.name!r}: {self.runs:,} replications, {self.engine} engine, "
                f"seed {self.provenance.get('seed', '?')}{mean})")

    def _repr_html_(self) -> str:
        return _html(repr(self), self.summary()[["mean", "ci_low", "ci_high", "p10", "p50", "p90"]])

    @property
    def has_price(self) -> bool:
        """Revenue is reported when the campaign has a price."""
        return self.table.price is not None

    @property
    def has_margin(self) -> bool:
        """Profit and ROI are reported when it has a price and a margin."""
        return self.table.margin is not None and self.has_price

    def _reported(self, metric: str) -> bool:
        if metric == "revenue":
            return self.has_price
        if metric == "profit":
            return self.has_margin
        return True

    def to_frame(self) -> pd.DataFrame:
        """One row per replication, one column per total."""
        df = pd.DataFrame({k: v for k, v in self.totals.items() if self._reported(k)})
        df.insert(0, "replication", np.arange(self.runs))
        return df

    def summary(self) -> pd.DataFrame:
        """One row per metric: kind, n, mean, se, 95 % interval and P10/P50/P90.

        Totals are means with t intervals (with a price, revenue also by stream:
        ``revenue_campaign``, ``_offsite``, ``_ugc``, ``_wom``, ``_repeat``, and the
        organic buyers' ``revenue_organic_baseline``, which is not in revenue); CPV, CPE, CPA and ROI are ratios of
        means with delta-method intervals; the delivery rate is the mean share
        of planned notes delivered per replication (notes of one gifted creator
        are delivered together, so they are not independent trials); the
        chances of profit and of overspending the budget are proportions of
        independent replications with Wilson intervals.
        """
        rows: dict[str, dict] = {}
        for k, v in self.totals.items():
            if self._reported(k):
                rows[k] = describe(v)
            if k == "revenue" and self.has_price:  # revenue by stream, beside the total
                price = self.table.price
                for stream in STREAMS:
                    rows[f"revenue_{stream}"] = describe(price * self.totals[f"conversions_{stream}"])
                rows["revenue_repeat"] = describe(price * self.totals["repeat_orders"])
                rows["revenue_organic_baseline"] = describe(price * self.totals["conversions_organic"])
        for name, (num, den, _) in RATIOS.items():
            if name == "roi" and not self.has_margin:
                continue
            r = _ratio(self.totals[num], self.totals[den])
            if r is not None:
                rows[name] = r
        n = self.runs
        rows["delivery_rate"] = describe(self.totals["posts_delivered"] / self.table.n_posts)
        budget = self.scenario.campaign.budget
        rows["p_over_budget"] = _rate(float((self.totals["spend"] > budget + 1e-9).sum()), n, n)
        if self.has_margin:
            rows["p_profit"] = _rate(float((self.totals["profit"] > 0).sum()), n, n)
        df = pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_COLUMNS))
        df.index.name = "metric"
        return df

    def daily_frame(self) -> pd.DataFrame:
        """By day: mean and P10/P50/P90 of daily reads and of cumulative conversions."""
        conv = sum(self.daily[f"conversions_{k}"] for k in STREAMS)
        cum = np.cumsum(conv, axis=1)
        out = {"day": np.arange(self.table.horizon), "reads_mean": self.daily["reads"].mean(axis=0)}
        for name, arr in (("conversions", conv), ("cumulative_conversions", cum)):
            out[f"{name}_mean"] = arr.mean(axis=0)
            for q in (10, 50, 90):
                out[f"{name}_p{q}"] = np.quantile(arr, q / 100, axis=0)
        return pd.DataFrame(out)

    def operations_frame(self) -> pd.DataFrame | None:
        """Discrete-event engine: planned against actual publication, per wave.

        One row per wave (``plan`` for a plan over a pool): its notes; the
        shares of them published, never delivered (no-shows) and still in
        flight at the horizon, over all replications; the mean planned and
        actual publication day and the mean delay of the published notes;
        and the share of published notes that were late.  None for the
        Monte Carlo engine, which publishes every note on its planned day.
        """
        if self.note_days is None or self.note_stages is None:
            return None
        t = self.table
        rows = []
        no_show = self.note_stages == STAGES.index("no_show")
        for wave in dict.fromkeys(t.wave):
            cols = np.flatnonzero(t.wave == wave)
            days = self.note_days[:, cols]
            planned = np.broadcast_to(t.day[cols], days.shape)
            pub = days >= 0
            n_pub = int(pub.sum())
            total = days.size
            delay = (days - planned)[pub]
            rows.append({
                "wave": wave, "notes": cols.size,
                "published_share": n_pub / total,
                "no_show_share": float(no_show[:, cols].sum() / total),
                "in_flight_share": float((~pub & ~no_show[:, cols]).sum() / total),
                "planned_day_mean": float(planned.mean()),
                "actual_day_mean": float(days[pub].mean()) if n_pub else np.nan,
                "delay_days_mean": float(delay.mean()) if n_pub else np.nan,
                "late_share": float((delay > 0).mean()) if n_pub else np.nan,
            })
        return pd.DataFrame(rows)



def _html(title: str, table: pd.DataFrame) -> str:
    """A notebook's view: a title and a table."""
    from html import escape

    return f"<p><b>{escape(title)}</b></p>" + table.to_html(float_format=lambda v: f"{v:,.4g}")


@dataclass(frozen=True, eq=False)
class SavedRun:
    """An output folder read back (:func:`kolsim.load_results`).

    ``kind`` is the command that wrote it (``simulate``, ``compare`` or
    ``optimize``) and ``kolsim_version`` the kolsim that did; ``files`` lists
    every file of the run as its manifest does; ``summary`` is ``summary.json``
    parsed (provenance, notices, the summary table); ``tables`` holds every CSV
    file as a DataFrame, by name without ``.csv`` (``summary``,
    ``replications``, ``daily``, ``plan`` …); ``images`` every PNG plot's bytes,
    by file name.
    """

    path: str
    kind: str
    files: tuple[str, ...]
    summary: Mapping[str, Any] | None
    tables: Mapping[str, pd.DataFrame]
    kolsim_version: str
    images: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def provenance(self) -> Mapping[str, Any]:
        """How the run was made (seed, versions, scenario hash …), where ``summary.json`` records it."""
        s = self.summary or {}
        return s.get("provenance") or (s.get("scenarios") or [{}])[0].get("provenance", {})

    def __repr__(self) -> str:
        return (f"SavedRun({self.path!r}: {self.kind} by kolsim {self.kolsim_version}; "
                f"tables {', '.join(self.tables) or 'none'})")

    def _repr_html_(self) -> str:
        first = next(iter(self.tables.values()), pd.DataFrame())
        return _html(repr(self), first.head(20))
