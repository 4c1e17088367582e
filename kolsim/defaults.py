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
    "IN_MARKET_SHARE",
    "FOLLOWER_OVERLAP",
    "ORGANIC_P_PER_YEAR",
    "OFFSITE_PER_ONSITE",
    "OFFSITE_DELAY_DAYS",
    "UGC_SHARE",
    "UGC_READS",
    "UGC_INTENT_RATE",
    "REPEAT_PER_MONTH",
    "REACH_ELASTICITY",
    "CONVERSION_ELASTICITY",
    "RELEVANCE",
    "relevance_of",
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
#:   interaction_rate interactions (likes + collects + comments) per read, i/r:
#:                    likes per read 1.8–3.0 % [E10 1–3 %, E11 3–5 % healthy] over
#:                    like_share [A]; the typical engagement rate per follower is
#:                    reach x i/r (0.2–2.3 %, E5's 2026 medians 0.3–1.8 %)
#:   like_share       share of interactions that are likes [A; E10, E11]
#:   collect_share    share that are collects (comments are the rest) [A; E11, E12]
#:   ctr              P(click or brand search | read) [A]
#:   cvr              P(purchase | click) [A; E1, E40]
#:   p_post_paid      P(a paid post is delivered) [A; S2 payment terms]
#:   p_post_gifted    P(a gifted creator posts), agreed exchange [S2 #31; E23]
#:   fake_share       mean share of fake followers [A; E35, E36]
#:   monthly_posts    organic notes per month [A]
#:   follower_share   share of a note's reads served to the creator's own followers (the
#:                    rest through the discovery feed); follower_share x reach stays
#:                    below the follow-feed reach of E6 (19–38 % of followers), and RED's
#:                    feed favours small creators [S0 #22]: 0.3 (KOC) to 0.7 [A]
#:   engagement_sd    sd of the engagement rate (interactions per follower) across
#:                    creators of the tier, about half its mean [A; E1, E2]
TIER_DEFAULTS: dict[str, dict[str, float]] = {
    "koc": dict(follower_share=0.30, followers=3_000, cost_per_post=450, reach=0.50, reach_sigma=1.2,
                interaction_rate=0.046, like_share=0.65, collect_share=0.28, ctr=0.025, cvr=0.030,
                p_post_paid=0.98, p_post_gifted=0.75, fake_share=0.10, monthly_posts=8,
                engagement_sd=0.0115),
    "micro": dict(follower_share=0.40, followers=30_000, cost_per_post=3_000, reach=0.35, reach_sigma=1.1,
                  interaction_rate=0.042, like_share=0.65, collect_share=0.28, ctr=0.020, cvr=0.025,
                  p_post_paid=0.98, p_post_gifted=0.75, fake_share=0.15, monthly_posts=12,
                  engagement_sd=0.0075),
    "mid": dict(follower_share=0.50, followers=220_000, cost_per_post=12_000, reach=0.22, reach_sigma=1.0,
                interaction_rate=0.038, like_share=0.66, collect_share=0.27, ctr=0.015, cvr=0.020,
                p_post_paid=0.98, p_post_gifted=0.30, fake_share=0.20, monthly_posts=15,
                engagement_sd=0.0042),
    "top": dict(follower_share=0.60, followers=2_000_000, cost_per_post=90_000, reach=0.15, reach_sigma=0.9,
                interaction_rate=0.033, like_share=0.68, collect_share=0.25, ctr=0.010, cvr=0.015,
                p_post_paid=0.98, p_post_gifted=0.10, fake_share=0.25, monthly_posts=15,
                engagement_sd=0.0025),
    "celebrity": dict(follower_share=0.70, followers=20_000_000, cost_per_post=1_500_000, reach=0.08,
                      reach_sigma=0.8, interaction_rate=0.028, like_share=0.70, collect_share=0.22,
                      ctr=0.008, cvr=0.015, p_post_paid=0.98, p_post_gifted=0.0, fake_share=0.30,
                      monthly_posts=6, engagement_sd=0.0011),
}

#: Share of an audience who would buy the product if persuaded within the
#: horizon (the ceiling of campaign buyers in it) [A].  Reads persuade only
#: these people, each once: with the default micro note (ctr x cvr = 5e-4 per
#: read) one read persuades an in-market reader with probability
#: 5e-4 / 0.002 = 0.25, so a reader's response to n reads, 1 - 0.75^n, is 58 %
#: of its ceiling at the third read (effective frequency about 3) [A].
IN_MARKET_SHARE = 0.002

#: Share of a creator's followers who also follow other creators of its niche (its
#: segment): overlap relative to the smaller audience, same niche 10–20 %, default 15 %
#: [A; E34].  Reads on them count in the segment's shared audience; reads on the rest,
#: its own followers, saturate on the creator's own audience (docs/model.md §3).
FOLLOWER_OVERLAP = 0.15

#: Reads of a note scale with (ER / tier ER) ** REACH_ELASTICITY: the platform
#: shows engaging notes to more people [A; S0 #22, E29 first test pool].
REACH_ELASTICITY = 0.5
#: The readers' chance to click and buy scales with (ER / tier ER) ** CONVERSION_ELASTICITY [A; S4 #8].
CONVERSION_ELASTICITY = 0.3

#: Organic adoption: Bass innovation p per year, the in-market people who buy
#: without the campaign (the campaign's baseline, reported apart) [E30].
ORGANIC_P_PER_YEAR = 0.03
#: Off-platform purchase intents per on-platform intent: RED readers often
#: search and buy on Taobao, JD or PDD after a read [A; S3 #43, calibration
#: note 4: clicks understate the effect, sweep 0.5x to 3x].
OFFSITE_PER_ONSITE = 1.0
#: Mean days from the read to an off-platform purchase (gamma, shape 2) [A].
OFFSITE_DELAY_DAYS = 3.0
#: Share of new buyers who publish a note of their own about the product [A].
UGC_SHARE = 0.05
#: Expected lifetime reads of a buyer's own note (an account below the KOC
#: band: a tenth of the KOC note's ~1,500 reads) [A; calibration tier table].
UGC_READS = 150.0
#: P(a read of a buyer's note persuades an in-market reader): the KOC note's
#: ctr x cvr (0.025 x 0.030) [A].
UGC_INTENT_RATE = 7.5e-4
#: Repeat orders per buyer per 30 days by product category, for fast-moving
#: goods (a category not listed has none) [A: no public source; a product
#: used up in one to three months, reordered by a minority of buyers].
REPEAT_PER_MONTH: dict[str, float] = {
    "food": 0.30, "pets": 0.25, "mother_baby": 0.20, "skincare": 0.15, "beauty": 0.10,
}

#: Relevance of an audience interested in one category to a product of
#: another: the share of it that is in the product's market, relative to the
#: product's own category (1 on the diagonal) [A: no public source; pairs
#: follow the content clusters of S3/S1 #23].  Symmetric; a pair not listed is
#: BASE_RELEVANCE.
BASE_RELEVANCE = 0.1
_PAIRS: dict[tuple[str, str], float] = {
    ("beauty", "skincare"): 0.8, ("beauty", "fashion"): 0.5, ("beauty", "luxury"): 0.5,
    ("skincare", "fashion"): 0.35, ("skincare", "luxury"): 0.4, ("skincare", "mother_baby"): 0.3,
    ("skincare", "fitness"): 0.25, ("fashion", "luxury"): 0.6, ("fashion", "travel"): 0.3,
    ("food", "travel"): 0.4, ("food", "fitness"): 0.3, ("food", "home"): 0.3, ("food", "mother_baby"): 0.35,
    ("home", "mother_baby"): 0.4, ("home", "pets"): 0.3, ("travel", "luxury"): 0.35,
    ("fitness", "fashion"): 0.25, ("mother_baby", "pets"): 0.15, ("beauty", "fitness"): 0.2,
}
RELEVANCE: dict[str, dict[str, float]] = {
    a: {b: 1.0 if a == b else _PAIRS.get((a, b), _PAIRS.get((b, a), BASE_RELEVANCE)) for b in CATEGORIES}
    for a in CATEGORIES
}


def relevance_of(product: str, audience: str, overrides=None) -> float | None:
    """Relevance of an audience's category to the product's, or None when unknown.

    ``overrides`` (audience category -> relevance, the scenario's
    ``[response.relevance]``) wins; then the default matrix; a category equal
    to the product's is 1; any other pair outside the matrix is unknown.

    Examples
    --------
    >>> relevance_of("skincare", "beauty"), relevance_of("skincare", "pets"), relevance_of("snacks", "snacks")
    (0.8, 0.1, 1.0)
    >>> relevance_of("snacks", "food") is None
    True
    """
    if overrides and audience in overrides:
        return float(overrides[audience])
    if audience == product:
        return 1.0
    return RELEVANCE.get(product, {}).get(audience)


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
