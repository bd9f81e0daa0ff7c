"""The off-policy estimate against the played truth on two seeds of the default audit world (2,000
customers: at 1,000 a fold of customers holds too few push controls); benchmarks/off_policy.py
measures the coverage over 20 seeds."""

import numpy as np
import pytest

from helpers import audit
from helpers.run.notebook import world_data

SEEDS = (1, 2)


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    root = tmp_path_factory.mktemp("off_policy_worlds")
    variant = audit.load_variants(only=["default"])[0]
    worlds = {seed: audit.variant_world(variant, seed, root) for seed in SEEDS}
    return [audit.off_policy_check(world, world_data(world), seed) for seed, world in worlds.items()]


def test_the_interval_holds_the_played_truth_of_the_optimised_plan(checks):
    for check in checks:
        plan = check[(check.decision == "optimised plan") & (check.method == "DR")].iloc[0]
        assert plan.covers_played, f"seed {plan.seed}: {plan.estimate} [{plan.low}, {plan.high}] for {plan.played_eur}"


def test_every_estimate_is_within_three_standard_errors_of_its_played_truth(checks):
    for check in checks:
        assert set(check.decision) == {"next best offer", "optimised plan"} and set(check.method) == {"IPW", "DR"}
        se = (check.high - check.low) / (2 * 1.959964)
        assert np.isfinite(se).all() and (se > 0).all()
        off = (check.estimate - check.played_eur).abs() / se
        assert (off < 3).all(), check[["decision", "method", "estimate", "low", "high", "played_eur"]]
        assert (check.contacts > 0).all() and (check.cost_eur > 0).all()
