"""Baselines beside the optimum: greedy (CELF), the tier template, a random feasible plan
(issue 18 item 5)."""

from __future__ import annotations

import numpy as np
import pytest

import kolsim
from kolsim.baselines import greedy_plan, random_plan, template_plan
from kolsim.optimize.formulation import build_milp
from kolsim.optimize.verify import plan_vector


@pytest.fixture(scope="module")
def solved():
    s = kolsim.load_scenario("scenarios/optimize_skincare.toml")
    pool = kolsim.load_pool("scenarios/pools/synthetic_300.csv")
    return kolsim.optimize(s, pool, marginal=False)


def test_every_baseline_meets_the_rules_and_the_optimum_is_no_worse(solved):
    b = kolsim.baselines(solved, runs=1024, rng=3)
    assert list(b["fits"]) == ["fits"] * 3
    # the optimum is proven within its gap (plus the saturation approximation) of the best plan,
    # so no plan that meets the rules is worth more
    slack = solved.gap + solved.approximation_error
    assert (b["expected"] <= solved.objective * (1 + slack)).all()
    assert (b["spend"] <= solved.problem.budget + 0.005).all()
    # paired: the interval of the advantage sits around its mean, and P(better) is a share
    assert ((b["advantage_low"] <= b["advantage"]) & (b["advantage"] <= b["advantage_high"])).all()
    assert b["p_better"].between(0, 1).all()
    assert (b.loc[b["baseline"].str.startswith("random"), "advantage_pct_low"] > 0).all()


def test_baselines_are_reproducible_and_verified(solved):
    p = solved.problem
    m = build_milp(p)
    for plan in (greedy_plan(p), template_plan(p), random_plan(p, np.random.default_rng(0))):
        assert plan_vector(p, m, plan)[0] is not None
    a = kolsim.baselines(solved, runs=256, rng=5)
    b = kolsim.baselines(solved, runs=256, rng=5)
    assert a.equals(b)
