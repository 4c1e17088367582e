"""Calibrated default numbers, each with its source tag.

Tags follow ``calibration.md``: ``[S0]``–``[S4]`` the source documents, ``[E#]``
an outside benchmark, ``[A]`` an assumption or a derived value.  Every number
here can be overridden by a scenario file; ``docs/model.md`` lists them again
with their units.
"""

from __future__ import annotations

__all__ = [
    "TIERS",
    "TIER_DEFAULTS",
    "TIER_FOLLOWER_RANGE",
    "CATEGORIES",
    "cost_curve",
    "SPONSORED_SHARE",
    "UPFRONT_SHARE",
]

#: Sponsored notes may be at most this share of a creator's monthly notes [S3 #13]
#: (E13 cites 30 %); the cap on any rolling 4 weeks is floor(share x monthly posts).
SPONSORED_SHARE = 0.20

#: Share of a paid note's price paid at contract; the rest on delivery [S2 #35].
UPFRONT_SHARE = 0.5

#: Tier codes, smallest first.
TIERS: tuple[str, ...] = ("koc", "micro", "mid", "top", "celebrity")

#: Content categories seen on RED [S3, S1 #23], used by the synthetic pool.
CATEGORIES: tuple[str, ...] = (
    "beauty", "skincare", "fashion", "food", "travel", "mother_baby", "pets",
    "fitness", "home", "luxury",
)

#: Follower range of each tier, [low, high) [S4, S2, E14/E15; caveat 1].
TIER_FOLLOWER_RANGE: dict[str, tuple[int, int]] = {
    "koc": (1_000, 10_000),
    "micro": (10_000, 100_000),
    "mid": (100_000, 500_000),
    "top": (500_000, 10_000_000),
    "celebrity": (10_000_000, 60_000_000),
}

#: Per-tier defaults.  Keys and units:
#:   followers        typical follower count (geometric midpoint of the range) [A]
#:   cost_per_post    median price of an image note, RMB [S1, S4, E13–E18]
#:   reach            mean reads per note per real follower [A; E6, E7, S0]
#:   reach_sigma      sigma of the per-note lognormal viral factor [A]
#:   interaction_rate interactions per read (i/r) [A; E10, E11]
#:   ctr              P(click or brand search | read) [A]
#:   cvr              P(purchase | click) [A; E1, E40]
#:   p_post_paid      P(a paid post is delivered) [A; S2 payment terms]
#:   p_post_gifted    P(a gifted creator posts), agreed exchange [S2 #31; E23]
#:   fake_share       mean share of fake followers [A; E35, E36]
#:   monthly_posts    organic notes per month [A]
#:   engagement_sd    sd of engagement rate across creators of the tier [A; E1, E2]
TIER_DEFAULTS: dict[str, dict[str, float]] = {
    "koc": dict(followers=3_000, cost_per_post=450, reach=0.50, reach_sigma=1.2,
                interaction_rate=0.12, ctr=0.025, cvr=0.030, p_post_paid=0.98,
                p_post_gifted=0.75, fake_share=0.10, monthly_posts=8, engagement_sd=0.030),
    "micro": dict(followers=30_000, cost_per_post=3_000, reach=0.35, reach_sigma=1.1,
                  interaction_rate=0.11, ctr=0.020, cvr=0.025, p_post_paid=0.98,
                  p_post_gifted=0.75, fake_share=0.15, monthly_posts=12, engagement_sd=0.020),
    "mid": dict(followers=220_000, cost_per_post=12_000, reach=0.22, reach_sigma=1.0,
                interaction_rate=0.11, ctr=0.015, cvr=0.020, p_post_paid=0.98,
                p_post_gifted=0.30, fake_share=0.20, monthly_posts=15, engagement_sd=0.012),
    "top": dict(followers=2_000_000, cost_per_post=90_000, reach=0.15, reach_sigma=0.9,
                interaction_rate=0.10, ctr=0.010, cvr=0.015, p_post_paid=0.98,
                p_post_gifted=0.10, fake_share=0.25, monthly_posts=15, engagement_sd=0.008),
    "celebrity": dict(followers=20_000_000, cost_per_post=1_500_000, reach=0.08,
                      reach_sigma=0.8, interaction_rate=0.10, ctr=0.008, cvr=0.015,
                      p_post_paid=0.98, p_post_gifted=0.0, fake_share=0.30,
                      monthly_posts=6, engagement_sd=0.005),
}

#: P(creator has >= 30 % fake followers) by tier [A; E35, E36] (synthetic pools).
FRAUD_PREVALENCE: dict[str, float] = {
    "koc": 0.10, "micro": 0.15, "mid": 0.20, "top": 0.30, "celebrity": 0.35,
}


def cost_curve(followers):
    """Market price of an image note in RMB: ``0.63 * followers**0.81`` [A].

    Fitted to the geometric midpoints of the consensus price ranges in
    ``calibration.md``; about 1.1K RMB at 10K followers, 7.1K at 100K and 46K
    at 1M.

    Examples
    --------
    >>> round(float(cost_curve(100_000)))
    7069
    """
    return 0.63 * followers ** 0.81
