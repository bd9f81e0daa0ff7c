"""Whom a campaign may address: the buyers among the customers, and who of them each channel may reach
on a day under the law in force and the consents of the data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd

from helpers.data.dataset import Dataset
from helpers.decide.contact_plan import channel_rules, eligibility, rules_on
from helpers.features import execute


def buyers(data: Dataset) -> pd.DataFrame:
    """The customers who have bought (prospects left out): the customers table, or, without one, the
    customer ids of the transaction log (one column, customer_id, sorted)."""
    if not data.has("customers"):
        return pd.DataFrame(
            {
                "customer_id": execute(
                    data.table("transactions").select("customer_id").distinct(), "customer_id"
                ).customer_id
            }
        )
    customers = data.frame("customers")
    return customers[~customers.is_prospect] if "is_prospect" in customers else customers


def eligible_on(
    data: Dataset,
    people: pd.DataFrame,
    day: dt.date,
    audience: str = "customer",
    channels: Collection[str] | None = None,
    recent: pd.DataFrame | None = None,
    pressure_cap: int | None = None,
) -> pd.DataFrame:
    """``people`` (rows, by customer_id) x the channels open to ``audience`` ("customer" or "prospect") on
    ``day`` by the French channel rules, only those among ``channels`` if given: may the channel reach
    them? Consents come from the data's consents table (without one, the strict default: no opt-in
    channel, no phone); ``recent`` contacts (last 30 days) and the house ``pressure_cap`` (contacts in 30
    days) as in ``contact_plan.eligibility``."""
    law = channel_rules()
    open_channels = [c for c in rules_on(law, day, audience).index if channels is None or c in channels]
    consents = data.frame("consents") if data.has("consents") else None
    return eligibility(people, consents, open_channels, day, law, recent, pressure_cap)
