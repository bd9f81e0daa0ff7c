"""The decision audit: oracles keep every hard constraint and are never beaten under the same
constraints; the quick audit (2 seeds, a 1,000-customer world) holds its invariants."""

import numpy as np
import pandas as pd
import pytest

from helpers import audit
from helpers.decide import audience, contact_plan as cp, next_best_offer as nbo
from helpers.run.notebook import world_data

QUICK = {"n_customers": 1000, "n_prospects": 50}


@pytest.fixture(scope="module")
def default_variant():
    return audit.load_variants(only=["default"])[0]


@pytest.fixture(scope="module")
def quick_audit(default_variant, tmp_path_factory):
    root = tmp_path_factory.mktemp("audit_worlds")
    rows, checks = audit.run_audit([default_variant], seeds=2, root=root, progress=lambda _: None, world=QUICK)
    return rows, checks, root


def test_oracle_plans_keep_consent_budget_capacity_and_one_offer(quick_audit, default_variant):
    world = audit.variant_world(default_variant, 1, quick_audit[2], **QUICK)
    data = world_data(world)
    arm_table = nbo.arms(data)
    buyers = audience.buyers(data)
    true = audit.true_arm_margins(world, arm_table, buyers.customer_id)
    allowed = world.eligibility().loc[buyers.customer_id]
    assert np.isneginf(true.to_numpy()[~nbo.arm_matrix(allowed, arm_table).to_numpy()]).all()
    eligible = audience.eligible_on(data, buyers, pd.Timestamp(world.parameters["end"]).date(), pressure_cap=4)
    budget, caps = 30.0, {"phone": 5, "postal": 40}
    plan, diag = audit.oracle_contact_plan(true, arm_table, eligible, budget, caps)
    assert plan.cost.sum() <= budget + 1e-6 and diag.cost <= budget + 1e-6
    assert plan.customer_id.is_unique, "one offer per customer"
    assert eligible.stack().loc[list(zip(plan.customer_id, plan.channel, strict=True))].all(), "consent kept"
    assert allowed.stack().loc[list(zip(plan.customer_id, plan.channel, strict=True))].all(), "the world allows it"
    for channel, cap in caps.items():
        assert (plan.channel == channel).sum() <= cap
    costs = arm_table.set_index("arm").cost_per_contact
    offers = audit.oracle_offers(true, costs, nbo.arm_matrix(allowed, arm_table))
    chosen = offers[offers.next_best_offer != nbo.NO_CONTACT]
    channel_of = arm_table.set_index("arm").channel
    assert allowed.stack().loc[list(zip(chosen.index, chosen.next_best_offer.map(channel_of), strict=True))].all()
    world.play(audit.decisions.offer_plan(offers.next_best_offer, arm_table), weeks=8, seed=1)  # playable
    with pytest.raises(cp.PlanInputError):
        audit.oracle_contact_plan(true, arm_table, eligible, -1.0)


def test_the_oracle_is_never_beaten_under_the_same_constraints(quick_audit):
    rows, _, _ = quick_audit
    oracle = rows[rows.strategy == "oracle"]
    assert np.allclose(oracle.value, oracle.oracle_value)
    offers = rows[rows.decision == "next best offer"]
    assert (offers.value <= offers.oracle_value + 1e-6).all(), "the oracle offer is best in expected margin"
    clv = rows[rows.decision == "CLV ranking"]
    assert (clv.value <= clv.oracle_value + 1e-6).all(), "no ranking's top decile holds more true value"
    plans = rows[rows.strategy == "optimised plan"]
    # The oracle values every month at the first week's effects: later months differ by seasonality only.
    assert (plans.value <= plans.oracle_value + 0.02 * plans.oracle_value.abs()).all()


def test_the_oracle_played_beats_every_strategy_within_play_noise(quick_audit, default_variant):
    rows, _, root = quick_audit
    world = audit.variant_world(default_variant, 1, root, **QUICK)
    oracle_plan = audit.decisions.offer_plan(
        audit.oracle_offers(
            *_truth_inputs(world),
        ).next_best_offer,
        nbo.arms(world_data(world)),
    )
    noise = np.std([world.play(oracle_plan, weeks=8, seed=s).summary["incremental_margin"] for s in range(1, 9)])
    offers = rows[(rows.decision == "next best offer") & (rows.seed == 1)]
    # Two plays on common random numbers: the difference's spread is at most twice one play's.
    assert (offers.played_eur <= offers.oracle_played_eur + 3 * 2 * noise).all(), f"play noise sd {noise:.0f} EUR"


def _truth_inputs(world):
    data = world_data(world)
    arm_table = nbo.arms(data)
    ids = audience.buyers(data).customer_id
    eligible = nbo.arm_matrix(world.eligibility().loc[ids], arm_table)
    return audit.true_arm_margins(world, arm_table, ids), arm_table.set_index("arm").cost_per_contact, eligible


def test_the_quick_audit_summary_and_its_json(quick_audit, tmp_path):
    rows, checks, _ = quick_audit
    table = audit.summarise(rows)
    assert set(table.decision) == {"next best offer", "contact plan", "CLV ranking", "segment order", "scenario set"}
    assert (table.seeds == 2).all()
    oracle = table[table.strategy == "oracle"]
    assert np.allclose(oracle.share_of_oracle, 1.0) and np.allclose(oracle.regret, 0.0)
    assert (table.share_low <= table.share_of_oracle + 1e-9).all() and (
        table.share_of_oracle <= table.share_high + 1e-9
    ).all()
    none = table[table.strategy == "send to none"]
    assert np.allclose(none.share_of_oracle, 0.0)
    for c in checks:
        assert c["sleeping_dogs_left_alone, oracle"] == 1.0, "the truth never contacts a sleeping dog"
        assert 0 <= c["sleeping_dogs_left_alone"] <= 1 and 0 <= c["all_left_alone"] <= 1
    audit.write_json(tmp_path / "audit.json", table, checks, {"seeds": 2})
    assert '"share_of_oracle"' in (tmp_path / "audit.json").read_text()


def test_interval_over_seeds():
    mean, low, high = audit.interval(pd.Series([1.0, 2.0, 3.0]))
    assert (
        mean == 2.0
        and low == pytest.approx(2 - 4.302653 / np.sqrt(3))
        and high == pytest.approx(2 + 4.302653 / np.sqrt(3))
    )
    assert audit.interval(pd.Series([5.0])) == (5.0, 5.0, 5.0)


def test_variants_refuse_an_unknown_field_or_name(tmp_path):
    bad = tmp_path / "variants.yml"
    bad.write_text("variants:\n  odd:\n    scenario: {response.no_such_field: 1}\n")
    with pytest.raises(audit.AuditInputError, match="no field 'response.no_such_field'"):
        audit.load_variants(bad)
    with pytest.raises(audit.AuditInputError, match="no variant named"):
        audit.load_variants(only=["nope"])
    names = [v.name for v in audit.load_variants()]
    assert names[0] == "default" and "more sleeping dogs" in names
    dogs = audit.load_variants(only=["more sleeping dogs"])[0]
    assert dogs.spec["response"]["sleeping_dog_share"] == 0.20


def test_the_win_back_order_fills_its_reach_segment_by_segment():
    table = pd.DataFrame(
        {"customers": [10, 20, 30], "true_value": [5.0, 1.0, 2.0]}, index=["can't lose", "at risk", "lost"]
    )
    assert audit.captured_value(table, ["can't lose", "at risk", "lost"], 25) == 10 * 5 + 15 * 1
    assert audit.captured_value(table, ["can't lose", "lost", "at risk"], 25) == 10 * 5 + 15 * 2
    assert audit.captured_value(table, list(table.index), 100) == 10 * 5 + 20 + 60, "the reach runs out of customers"


def test_the_segment_order_and_scenario_set_against_their_oracles(quick_audit):
    rows, _, _ = quick_audit
    order = rows[rows.decision == "segment order"]
    naive = {"most recent first", "highest past revenue first"}
    assert set(order.strategy) == {"notebook 20's win-back order", *naive, "oracle"}
    assert (order.value <= order.oracle_value + 1e-6).all(), "no order of the segments reaches more true value"
    assert order.groupby("seed").reach.nunique().eq(1).all(), "every order reaches as many customers"
    scenarios = rows[rows.decision == "scenario set"]
    assert set(scenarios.strategy) == {"rules as written", "chosen from the holdout readouts", "oracle"}
    written = scenarios[scenarios.strategy == "rules as written"].rules
    oracle = scenarios[scenarios.strategy == "oracle"].rules
    for every, chosen in zip(written, oracle, strict=True):  # one rule per family: the rule or one of its thresholds
        families = [name.split(" (")[0] for name in chosen.split(", ") if name]
        assert len(set(families)) == len(families) and set(families) <= set(every.split(", "))


def test_coverage_of_the_reported_intervals(quick_audit):
    _, checks, _ = quick_audit
    table = audit.coverage_summary(checks)
    assert list(table.interval) == list(audit.LEVELS)
    counts = table.set_index("interval").intervals
    assert counts["test readout, revenue per customer"] == 2 * 2, "two treated arms on each of two seeds"
    assert counts["CLV total, expected 52 weeks"] == 2 and counts["scenario holdout readout, revenue"] >= 2
    assert table.coverage.between(0, 1).all()
    for c in checks:
        assert all(isinstance(h, bool) for held in c["coverage"].values() for h in held)
