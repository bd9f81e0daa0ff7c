"""Playing a contact plan forward against the truth."""

import numpy as np
import pandas as pd
import pytest

from helpers.world import baseline as slots
from helpers.world.baseline import baseline
from helpers.world.play import UnplayablePlanError


def _plan(world, channel, offer, n=None):
    allowed = world.eligibility()
    buyers = world.table("customers").query("not is_prospect").customer_id
    ids = allowed.index[allowed[channel] & allowed.index.isin(buyers)]
    return pd.DataFrame({"customer_id": ids[:n], "channel": channel, "offer": offer})


def test_an_empty_plan_changes_nothing(small_world):
    result = small_world.play(pd.DataFrame(columns=["customer_id", "channel", "offer"]), weeks=4, seed=1)
    assert result.summary["incremental_revenue"] == 0 and result.summary["cost"] == 0
    assert result.summary["revenue_without_plan"] > 0


def test_same_seed_same_result_and_counterfactual_is_shared(small_world):
    plan = _plan(small_world, "postal", "new_collection")
    a, b = small_world.play(plan, 4, seed=3), small_world.play(plan, 4, seed=3)
    assert a.summary == b.summary
    untouched = a.customers[a.customers.contacts == 0]
    assert (untouched.incremental_revenue == 0).all(), "customers outside the plan are unaffected"
    assert a.summary["cost"] == pytest.approx(len(plan) * small_world.spec["channels"]["postal"]["cost_per_contact"])


def test_realised_incremental_revenue_matches_its_expectation(small_world):
    plan = _plan(small_world, "phone", "free_shipping")
    runs = pd.DataFrame([small_world.play(plan, 4, seed=s).summary for s in range(40)])
    se = runs.incremental_revenue.std() / np.sqrt(len(runs))
    assert abs(runs.incremental_revenue.mean() - runs.expected_incremental_revenue.mean()) < 4 * se
    assert runs.expected_incremental_revenue.mean() > 0


def test_over_contact_is_intrusive_and_costs_revenue(small_world):
    plan = _plan(small_world, "postal", "free_shipping", n=800)
    once = small_world.play(plan.assign(week=0), 8, seed=5).summary
    weekly = small_world.play(pd.concat([plan.assign(week=w) for w in range(8)]), 8, seed=5).summary
    assert once["intrusive_contacts"] == 0 and weekly["intrusive_contacts"] > 0
    assert weekly["opt_outs"] > once["opt_outs"]
    assert weekly["incremental_margin"] < once["incremental_margin"]


def test_plans_breaking_consent_or_naming_unknowns_are_refused(small_world):
    consents = small_world.table("consents")
    refused = consents[(consents.channel == "email") & (consents.status != "opt_in")].customer_id.iloc[:3]
    buyers = set(small_world.table("customers").query("not is_prospect").customer_id)
    refused = [c for c in refused if c in buyers]
    with pytest.raises(UnplayablePlanError, match="without consent"):
        small_world.play(pd.DataFrame({"customer_id": refused, "channel": "email", "offer": "discount_10"}), 4, 0)
    with pytest.raises(UnplayablePlanError, match="unknown channel"):
        small_world.play(pd.DataFrame({"customer_id": [1], "channel": "fax", "offer": "discount_10"}), 4, 0)
    with pytest.raises(UnplayablePlanError, match="unknown customers"):
        small_world.play(pd.DataFrame({"customer_id": [10**9], "channel": "postal", "offer": "discount_10"}), 4, 0)
    with pytest.raises(UnplayablePlanError, match="lacks column"):
        small_world.play(pd.DataFrame({"customer_id": [1]}), 4, 0)


def test_the_kept_counterfactual_gives_what_a_fresh_world_gives(small_world):
    """Plays on one world object share the counterfactual; the results equal those of a world just
    loaded from disk, whatever was played before, and the kept draws cannot be changed."""
    from helpers.world import load_world

    plan = _plan(small_world, "email", "discount_10")
    small_world.play(plan, 6, seed=5)
    small_world.play(_plan(small_world, "postal", "new_collection"), 4, seed=2)  # another (weeks, seed) in between
    again = small_world.play(plan, 6, seed=5)
    fresh = load_world(small_world.path).play(plan, 6, seed=5)
    assert again.summary == fresh.summary
    pd.testing.assert_frame_equal(again.customers, fresh.customers)
    base, _ = baseline(small_world, 6, 5)
    with pytest.raises(ValueError, match="read-only"):
        base.happens[0, 0] = True


WIDTHS = [(111, 29, 32), (70, 23, 24), (70, 3, 8), (6, 2, 6), (200, 29, 32), (200, 97, 200), (300, 72, 72)]


@pytest.mark.parametrize(("cap", "used", "width"), WIDTHS)
def test_the_baseline_keeps_the_slots_a_purchase_fills_in_whole_blocks_of_eight(cap, used, width):
    happens = np.zeros((5, cap), bool)
    happens[2, :used] = True
    assert slots._stored_width(happens) == width


def test_a_row_sum_over_the_kept_slots_is_the_sum_over_the_whole_cap_to_the_last_bit():
    """The dropped slots hold zeros: numpy's eight running sums, then the tail, add the same numbers in
    the same order (what ``_stored_width`` relies on, checked on this machine's numpy)."""
    rng = np.random.default_rng(5)
    for cap in (9, 70, 111, 128, 200, 300):
        value = rng.gamma(2.0, 30.0, (4000, cap))
        happens = np.arange(cap) < rng.integers(0, min(cap, 30), 4000)[:, None]
        width = slots._stored_width(happens)
        whole = np.where(happens, value, 0.0).sum(axis=1)
        kept = np.where(happens[:, :width], value[:, :width], 0.0).sum(axis=1)
        assert np.array_equal(whole, kept), cap


def test_purchase_slots_drawn_in_steps_are_the_numbers_of_one_draw(monkeypatch):
    """Each of the four draws over every customer, taken a block of customers at a time, gives the same
    numbers: the steps bound the memory, never the counterfactual."""
    rng = np.random.default_rng(8)
    n, n_days = 1000, 182
    clock = np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 1.5, n_days) / 7)])
    lam, p_drop = rng.gamma(2.0, 0.2, n), rng.uniform(0.01, 0.3, n)
    alive, nu = rng.random(n) < 0.8, rng.gamma(5.0, 0.1, n)
    drawn = {}
    for step in (10**9, 37):
        monkeypatch.setattr(slots, "ROWS_AT_ONCE", step)
        drawn[step] = slots._purchase_slots(np.random.default_rng(3), 120, clock, lam, p_drop, alive, nu, 3.0)
    for once, in_steps in zip(drawn[10**9], drawn[37], strict=True):
        assert once.dtype == in_steps.dtype and np.array_equal(once, in_steps)
    assert drawn[37][0].any() and drawn[37][0].shape[1] < 120  # purchases happen; unused slots are dropped
