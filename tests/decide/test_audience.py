"""Whom a campaign may address: buyers without prospects, and the law in force for the audience."""

import datetime as dt

import pandas as pd

from helpers.data.dataset import load_tables
from helpers.decide import audience, contact_plan
from helpers.run.notebook import world_data


def test_buyers_are_the_customers_who_are_not_prospects(small_world):
    data = world_data(small_world)
    customers = data.frame("customers")
    buyers = audience.buyers(data)
    assert len(buyers) == int((~customers.is_prospect).sum()) and not buyers.is_prospect.any()


def test_without_a_customers_table_the_buyers_are_the_transaction_log_ids(small_world, tmp_path):
    tx = small_world.table("transactions")[["customer_id", "order_date", "amount"]]
    tx.to_csv(tmp_path / "transactions.csv", index=False)
    data = load_tables(tmp_path, latest_date=dt.date.fromisoformat(small_world.parameters["end"]))
    buyers = audience.buyers(data)
    assert list(buyers.columns) == ["customer_id"]
    assert buyers.customer_id.tolist() == sorted(tx.customer_id.unique())


def test_eligible_on_is_the_law_in_force_for_the_audience_and_the_channels_asked(small_world):
    data = world_data(small_world)
    day = dt.date.fromisoformat(small_world.parameters["end"]) + dt.timedelta(days=1)
    customers = data.frame("customers")
    leads = customers[customers.is_prospect].reset_index(drop=True)
    law = contact_plan.channel_rules()
    in_force = list(contact_plan.rules_on(law, day, "prospect").index)
    eligible = audience.eligible_on(data, leads, day, "prospect", channels={"email": 0.005, "postal": 1.0})
    assert list(eligible.columns) == [c for c in in_force if c in ("email", "postal")]
    expected = contact_plan.eligibility(leads, data.frame("consents"), list(eligible.columns), day, law)
    pd.testing.assert_frame_equal(eligible, expected)
    assert 0 < eligible.postal.mean() < 1


def test_without_consents_no_opt_in_channel_and_no_phone_may_be_used(small_world, tmp_path):
    small_world.table("customers").to_csv(tmp_path / "customers.csv", index=False)
    small_world.table("transactions").to_csv(tmp_path / "transactions.csv", index=False)
    data = load_tables(tmp_path, latest_date=dt.date.fromisoformat(small_world.parameters["end"]))
    day = dt.date.fromisoformat(small_world.parameters["end"])
    eligible = audience.eligible_on(data, audience.buyers(data), day)
    opt_in = contact_plan.rules_on(contact_plan.channel_rules(), day, "customer").query("regime == 'opt_in'").index
    assert len(opt_in) and not eligible[list(opt_in)].any().any()
    assert not eligible.get("phone", pd.Series(False)).any() and eligible.postal.all()
