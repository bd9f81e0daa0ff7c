"""The off-policy estimate checked where the truth is known: the next best offer's value estimated
from the campaign history alone (``models.off_policy``), beside its played and expected truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.audit.decisions import MARGIN_RATE, Learned
from helpers.decide import next_best_offer as nbo
from helpers.models.off_policy import policy_value
from helpers.world import World


def next_best_offer_estimate(world: World, learned: Learned, seed: int) -> pd.DataFrame:
    """The IPW and DR estimates (EUR, 95% interval) of the next best offer's incremental margin:
    the decision rule (the uplift models, the basket, the costs) applied to each history row's
    features as of its campaign's eve, under today's eligibility; scaled to today's reachable
    buyers per arm. Rows: method, estimate, se, low, high (the total over arms)."""
    t = learned
    history = t.history.reset_index(drop=True)
    columns = nbo.feature_columns(history)
    discounts = {name: offer["discount"] for name, offer in world.spec["offers"].items()}
    uplift = nbo.score_customers(t.models, history, columns, "converted")
    value = nbo.expected_margin(uplift, history, t.arm_table, MARGIN_RATE, nbo.history_basket(history), discounts)
    allowed = nbo.arm_matrix(world.eligibility(), t.arm_table)
    eligible = allowed.reindex(history.customer_id).fillna(False).set_axis(history.index)
    costs = t.arm_table.set_index("arm").cost_per_contact
    chosen = nbo.choose_offers(value, costs, eligible).next_best_offer.to_numpy()
    reachable = allowed.loc[t.ids].sum()
    table = policy_value(history, chosen, columns, reachable, costs, np.random.default_rng(seed))
    return table[table.arm == "total"].drop(columns="arm").reset_index(drop=True)
