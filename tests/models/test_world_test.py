"""A test of a letter against a letter then a call, run on a world: the plan, the groups, the truth."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from helpers.models import experiments, world_test
from helpers.run.notebook import world_data

ARMS = {"control": 0.2, "mail": 0.4, "mail then call": 0.4}


def test_the_plan_mails_both_arms_calls_the_second_and_leaves_control_alone():
    groups = pd.Series(["control", "mail", "mail then call", "mail", "mail then call"], index=[1, 2, 3, 4, 5])
    plan = world_test.mail_then_call_plan(groups, "discount_10", call_week=3)
    assert sorted(plan[plan.channel == "postal"].customer_id) == [2, 3, 4, 5]
    assert plan[plan.channel == "phone"][["customer_id", "week"]].values.tolist() == [[3, 3], [5, 3]]
    assert set(plan.offer) == {"discount_10"} and set(plan[plan.channel == "postal"].week) == {0}


@pytest.fixture(scope="module")
def trial(small_world):
    as_of = dt.date.fromisoformat(small_world.parameters["end"])
    return world_test.play_test(
        small_world, world_data(small_world), as_of, ARMS, "new_collection", 4, 7, np.random.default_rng(7)
    )


def test_the_played_test_holds_every_reachable_customer_in_the_arms_shares(trial, small_world):
    allowed = small_world.eligibility()
    assert set(trial.groups.index) <= set(allowed.index[allowed.postal & allowed.phone])
    shares = trial.groups.value_counts(normalize=True)
    assert shares.to_dict() == pytest.approx(ARMS, abs=0.01)
    assert trial.outcomes.index.equals(trial.groups.index) and (trial.outcomes.pre >= 0).all()
    assert (trial.outcomes.responded == (trial.outcomes.revenue > 0)).all()
    postal, phone = (small_world.spec["channels"][c]["cost_per_contact"] for c in ("postal", "phone"))
    assert trial.costs == {"mail": postal, "mail then call": postal + phone}
    assert list(trial.truth.index) == list(world_test.TREATED_ARMS)


def test_the_comparison_sets_each_readout_beside_the_truth_and_both_interval_widths(trial):
    plain = experiments.readout(trial.outcomes, np.random.default_rng(1), trial.costs, 0.5)
    adjusted = experiments.readout(trial.outcomes, np.random.default_rng(1), trial.costs, 0.5, pre="pre")
    table = world_test.against_truth(plain, adjusted, trial.truth)
    assert list(table.index) == list(world_test.TREATED_ARMS)
    assert np.allclose(table["plain interval width"], table.revenue_high - table.revenue_low)
    by_arm = adjusted.set_index("arm")
    assert np.allclose(table["CUPED interval width"], (by_arm.revenue_high - by_arm.revenue_low).loc[table.index])
    assert (table["CUPED interval width"] < table["plain interval width"]).all(), "pre-period spend sharpens"
    assert table["true incremental revenue"].equals(trial.truth["true incremental revenue"].loc[table.index])
