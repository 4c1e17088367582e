"""Generated optimizer requests with every constraint of the policy active.

Used by bench_optimizer.py.  A pool of N synthetic creators (kolsim's
calibrated generator) over 8 weeks, with hiring fees for a third of the mid,
top and celebrity creators, at least 2 notes from each hired creator, category
spend shares, a tier mix with seeding weeks, the platform's 20 % rule, a
brand cap on notes a week, a week-range budget and saturating audiences (their in-market
people of the order of the intents the budget buys).
Vetting is on (its defaults: about 30 % of a generated pool is left out).
The lists (must-include, exclude, a scenario's banned categories) are not
used: they change which creators are candidates, and with them the request;
RESULTS.md (eighth session) has what they did to the measurements.
"""

from __future__ import annotations

import numpy as np

import kolsim
from kolsim.pool import Pool


def instance(n: int, seed: int = 0):
    """(scenario, pool) for a pool of ``n`` creators."""
    rng = np.random.default_rng(seed)
    pool = kolsim.generate_pool(n, rng)
    f = pool.frame.copy()
    big = f["tier"].isin(["mid", "top", "celebrity"]).to_numpy()
    fee = np.where(big & (rng.random(n) < 1 / 3), np.round(0.3 * f["cost_per_post"], -1), 0.0)
    f["hiring_fee"] = fee
    pool = Pool.from_frame(f.astype({"kol_id": str}))
    budget = float(round(0.04 * f["cost_per_post"].sum(), -3))
    per_week = int(max(6, round(0.015 * n)))
    cats = sorted(f["category"].unique())
    # audiences whose in-market people (the default 0.2 %, docs/model.md §4) are of the order of
    # the purchase intents the budget buys, so the saturation curves bind without being flat: at
    # N = 100 the unsaturated optimum's intents are about 0.7 of the in-market people, at 1,000
    # about 0.3 (the sizes before issue 15's in-market scale, 50x smaller, left 1 to 6 in-market
    # people a segment, every curve flat at its ceiling)
    size = 50.0 * max(2_000.0, 300.0 * n / len(cats))
    data = {
        "schema_version": 1,
        "campaign": {"name": f"bench {n}", "category": "beauty", "budget": budget, "horizon_days": 63,
                     "price": 199.0, "margin": 0.5},
        "audience": {"default_size": size},
        "optimize": {
            "weeks": 8, "objective": "conversions", "saturation": True,
            "max_posts_per_week": per_week, "min_posts_if_hired": 2, "sponsored_share": 0.2,
            "category_share": {"beauty": {"min": 0.15, "max": 0.5}, "food": {"max": 0.25}},
            "tiers": {"top": {"max_creators": max(1, n // 200), "weeks": [1, 2, 3]},
                      "celebrity": {"max_creators": 1, "weeks": [1, 2]},
                      "mid": {"min_creators": max(1, n // 500), "max_share": 0.6, "weeks": [1, 2, 3, 4, 5]},
                      "micro": {"weeks": [2, 3, 4, 5, 6, 7]},
                      "koc": {"min_share": 0.02, "weeks": [3, 4, 5, 6, 7, 8]}},
            "budget_by_weeks": [{"weeks": [1, 2], "max": round(0.6 * budget, -2)}],
        },
    }
    return kolsim.parse_scenario(data, source=f"generated:{n}"), pool
