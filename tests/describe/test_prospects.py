"""Prospects: the journey funnel, the value of a new customer, the nurturing plan's values, and
nurturing played against the truth."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import engine
from helpers.describe import prospects
from helpers.paths import SCENARIOS_DIR
from helpers.world.play import UnplayablePlanError
from helpers.world.scenario import WorldParameterError, load_scenario


def _reachable(world, channel):
    allowed = world.eligibility()
    leads = world.table("customers").query("is_prospect").customer_id
    return allowed.index[allowed[channel] & allowed.index.isin(leads)]


def test_nurturing_nobody_changes_nothing_and_same_seed_same_result(small_world):
    empty = small_world.play_nurture(pd.DataFrame(columns=["customer_id", "channel"]), seed=3).summary
    assert empty["incremental_first_purchases"] == 0 and empty["cost"] == 0
    assert empty["first_purchases_without_plan"] > 0
    plan = pd.DataFrame({"customer_id": _reachable(small_world, "postal"), "channel": "postal"})
    a, b = small_world.play_nurture(plan, seed=3), small_world.play_nurture(plan, seed=3)
    assert a.summary == b.summary
    assert a.summary["first_purchases_without_plan"] == empty["first_purchases_without_plan"]
    assert a.summary["cost"] == pytest.approx(
        len(plan) * 3 * small_world.spec["channels"]["postal"]["cost_per_contact"]
    )
    untouched = a.customers[a.customers.channel == ""]
    assert (untouched.buys_with_plan == untouched.buys_without_plan).all(), "prospects outside the plan are unaffected"
    assert (a.customers.buys_with_plan >= a.customers.buys_without_plan).all(), "nurturing never loses a buyer"


def test_the_counterfactual_is_shared_across_plans(small_world):
    email = pd.DataFrame({"customer_id": _reachable(small_world, "email"), "channel": "email"})
    phone = pd.DataFrame({"customer_id": _reachable(small_world, "phone"), "channel": "phone"})
    a, b = small_world.play_nurture(email, seed=5).summary, small_world.play_nurture(phone, seed=5).summary
    assert a["first_purchases_without_plan"] == b["first_purchases_without_plan"]


def test_realised_extra_first_purchases_match_the_true_lifts(small_world):
    plan = pd.DataFrame({"customer_id": _reachable(small_world, "phone"), "channel": "phone"})
    runs = pd.DataFrame([small_world.play_nurture(plan, seed=s).summary for s in range(40)])
    se = runs.incremental_first_purchases.std() / np.sqrt(len(runs))
    assert abs(runs.incremental_first_purchases.mean() - runs.expected_incremental_first_purchases.mean()) < 4 * se
    truth = small_world.truth().set_index("customer_id")
    assert runs.expected_incremental_first_purchases[0] == pytest.approx(
        truth.loc[plan.customer_id, "nurture_phone"].sum(), abs=0.01
    )


def test_true_lifts_follow_the_scenario_by_stage_and_age(small_world):
    truth = small_world.truth().query("is_prospect").set_index("customer_id")
    people = small_world.table("customers").set_index("customer_id").loc[truth.index]
    age = int(small_world.parameters["end"][:4]) - people.birth_year
    spec = small_world.spec
    for channel, by_stage in spec["prospects"]["nurture_lift"].items():
        expected = people.journey_stage.astype(str).map(by_stage) * np.exp(
            (age - 44) / 10 * spec["channels"][channel]["age_slope"]
        )
        assert np.allclose(truth[f"nurture_{channel}"], expected.round(6), atol=2e-6), channel


def test_nurturing_plans_that_break_rules_are_refused(small_world):
    consents = small_world.table("consents")
    leads = set(small_world.table("customers").query("is_prospect").customer_id)
    no_email = [
        c for c in consents[(consents.channel == "email") & (consents.status != "opt_in")].customer_id if c in leads
    ][:3]
    with pytest.raises(UnplayablePlanError, match="without consent"):
        small_world.play_nurture(pd.DataFrame({"customer_id": no_email, "channel": "email"}), seed=0)
    with pytest.raises(UnplayablePlanError, match="not prospects"):
        small_world.play_nurture(pd.DataFrame({"customer_id": [1], "channel": "postal"}), seed=0)
    one = sorted(_reachable(small_world, "postal"))[:1]
    with pytest.raises(UnplayablePlanError, match="appear twice"):
        small_world.play_nurture(pd.DataFrame({"customer_id": one * 2, "channel": "postal"}), seed=0)
    with pytest.raises(UnplayablePlanError, match="unknown channel"):
        small_world.play_nurture(pd.DataFrame({"customer_id": one, "channel": "fax"}), seed=0)


def test_funnel_counts_every_prospect_in_journey_order():
    people = pd.DataFrame(
        {
            "customer_id": range(7),
            "is_prospect": [True] * 6 + [False],
            "journey_stage": ["purchase", "need", "need", None, "comparison", "need", None],
        }
    )
    funnel = prospects.journey_stage_counts(people)
    assert list(funnel.index) == ["need", "information", "comparison", "purchase", "unknown"]
    assert funnel.prospects.tolist() == [3, 0, 1, 1, 1] and funnel.prospects.sum() == 6


def test_new_customer_value_is_the_mean_revenue_of_each_customers_first_years():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "order_date": pd.to_datetime(
                ["2020-01-10", "2021-06-01", "2023-02-01", "2020-05-01", "2020-06-01", "2023-01-01"]
            ),
            "amount": [100.0, 50.0, 999.0, 20.0, 30.0, 500.0],
        }
    )
    con = engine.connect()
    value, cohort = prospects.new_customer_value(con.create_table("tx", tx), dt.date(2024, 1, 1), years=2)
    assert cohort == 2 and value == pytest.approx(((100 + 50) + (20 + 30)) / 2)  # 3 started too late; 999 after 2 years
    assert prospects.new_customer_value(con.table("tx"), dt.date(2021, 1, 1), years=5) == (
        pytest.approx(np.nan, nan_ok=True),
        0,
    )


def test_nurture_values_are_assumed_lift_times_value_by_stage():
    people = pd.DataFrame({"customer_id": [1, 2, 3], "journey_stage": ["need", "purchase", None]})
    arms = prospects.nurture_arms({"email": 0.01, "phone": 3.0}, touches=3)
    assert arms.cost_per_contact.tolist() == [0.03, 9.0]
    lift = {"need": {"email": 0.01, "phone": 0.0}, "purchase": {"email": 0.02, "phone": 0.05}}
    values = prospects.nurture_values(people, lift, 100.0, arms)
    assert values.loc[1].tolist() == pytest.approx([1.0, 0.0]) and values.loc[2].tolist() == pytest.approx([2.0, 5.0])
    assert values.loc[3].tolist() == pytest.approx([0.75, 1.25])  # unknown stage: mean over the four stages


def test_a_scenario_with_a_bad_nurture_lift_is_refused(tmp_path):
    spec = yaml.safe_load((SCENARIOS_DIR / "retail_fr.yml").read_text())
    spec["prospects"]["nurture_lift"]["email"]["need"] = 1.5
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(WorldParameterError, match="nurture_lift.email"):
        load_scenario(path)
