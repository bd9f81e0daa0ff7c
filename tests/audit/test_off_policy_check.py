"""The off-policy estimate against the played truth on two seeds of the default audit world (2,000
customers: at 1,000 a fold of customers holds too few push controls); benchmarks/off_policy.py
measures the coverage over 20 seeds. The assertions hold for any two seeds but with a small chance
(about 1% and 2%) of a miss, not only for these two."""

import numpy as np
import pandas as pd
import pytest

from helpers import audit
from helpers.decide import next_best_offer as nbo
from helpers.run.notebook import world_data

SEEDS = (1, 2)


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    root = tmp_path_factory.mktemp("off_policy_worlds")
    variant = audit.load_variants(only=["default"])[0]
    worlds = {seed: audit.variant_world(variant, seed, root) for seed in SEEDS}
    return [audit.off_policy_check(world, world_data(world), seed) for seed, world in worlds.items()]


def test_the_intervals_hold_the_played_truth_as_often_as_a_95_percent_interval_should(checks):
    """Not every seed's interval: 4 intervals of 95% all hold the truth only 81% of the time. At least 3
    of the 4 DR intervals (2 seeds, 2 decisions) do 99% of the time; benchmarks/off_policy.py measures
    the coverage over 20 seeds (19 of 20 next best offers, 20 of 20 plans)."""
    dr = pd.concat(checks).query("method == 'DR'")
    assert dr.covers_played.sum() >= 3, dr[["seed", "decision", "estimate", "low", "high", "played_eur"]]


def test_every_estimate_is_within_three_standard_errors_of_its_played_truth(checks):
    for check in checks:
        assert set(check.decision) == {"next best offer", "optimised plan"} and set(check.method) == {"IPW", "DR"}
        se = (check.high - check.low) / (2 * 1.959964)
        assert np.isfinite(se).all() and (se > 0).all()
        off = (check.estimate - check.played_eur).abs() / se
        assert (off < 3).all(), check[["decision", "method", "estimate", "low", "high", "played_eur"]]
        assert (check.contacts > 0).all() and (check.cost_eur > 0).all()


def test_cross_fitting_values_an_arm_too_thin_for_a_fold_by_its_average_effect():
    """An arm with fewer than 10 controls in a fold's training rows (seed 14 of benchmarks/off_policy.py
    at 2,000 customers) is valued at that fold's average conversion effect instead of crashing."""
    rng = np.random.default_rng(0)
    n = 600
    customers = np.arange(n)
    history = pd.DataFrame(
        {
            "campaign_id": "c1",
            "customer_id": np.concatenate([customers, customers[:40]]),
            "arm": ["email x none"] * n + ["push x none"] * 40,
            "w": np.concatenate([rng.integers(0, 2, n), [1] * 34 + [0] * 6]),
            "x": rng.normal(size=n + 40),
        }
    )
    history["converted"] = (rng.random(len(history)) < 0.1 + 0.1 * history.w).astype(float)
    history["margin"] = history.converted * 20.0
    history["window_revenue"] = history.converted * 40.0
    today = pd.DataFrame({"x": rng.normal(size=n), "mean_order": 40.0}, index=pd.Index(customers, name="customer_id"))
    arm_table = pd.DataFrame({"arm": ["email x none", "push x none"], "offer": "none"})
    value = nbo.cross_fitted_margins(history, today, arm_table, 0.5, {}, seed=3)
    assert list(value.columns) == ["email x none", "push x none"] and value.notna().all().all()
    push = history[history.arm == "push x none"]
    rates = push.groupby("w").converted.mean()
    ceiling = (rates[1] - max(rates[0], 0) + 1) * 40 * 0.5  # at most one whole conversion effect
    assert value["push x none"].nunique() <= 2, "one constant per fold: the fold's average effect"
    assert (value["push x none"].abs() <= ceiling).all()
