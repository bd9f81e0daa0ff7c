"""The off-policy estimate checked where the truth is known: the next best offer and the optimised
contact plan, each learned with every customer's own past rows held out
(``next_best_offer.cross_fitted_margins``), valued from the campaign history alone
(``models.off_policy.plan_value``) and played on the world. Does the 95% interval hold the truth?"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.audit.decisions import MARGIN_RATE, PLAN_MONTHS, PLAY_WEEKS, offer_plan, plan_limits, played
from helpers.data.dataset import Dataset
from helpers.decide import audience, contact_plan as cp, next_best_offer as nbo
from helpers.models.off_policy import latest_campaigns, plan_value, row_scores
from helpers.world import World


def cross_fitted_plans(world: World, data: Dataset, seed: int) -> tuple[pd.DataFrame, dict[str, tuple]]:
    """The history, and per decision (next best offer at week 0 over ``PLAY_WEEKS``; the optimised
    plan repeated over ``PLAN_MONTHS`` monthly campaigns) its plan (customer_id, channel, offer,
    week) and the weeks it is played, both chosen from cross-fitted values."""
    rng = np.random.default_rng(seed)
    history = nbo.training_table(data, MARGIN_RATE)
    arm_table = nbo.arms(data)
    discounts = {name: offer["discount"] for name, offer in world.spec["offers"].items()}
    ids = pd.Index(audience.buyers(data).customer_id, name="customer_id")
    today = nbo.customer_features(data, dt.date.fromisoformat(world.parameters["end"]), ids)
    value = nbo.cross_fitted_margins(history, today, arm_table, MARGIN_RATE, discounts, rng)
    costs = arm_table.set_index("arm").cost_per_contact
    allowed = nbo.arm_matrix(world.eligibility().loc[ids], arm_table)
    offers = offer_plan(nbo.choose_offers(value, costs, allowed).next_best_offer, arm_table).assign(week=0)
    eligible, budget, limits = plan_limits(world, data, value.index)
    plan, _ = cp.optimise_contact_plan(value, arm_table, eligible, budget, **limits)
    plans = {
        "next best offer": (offers, PLAY_WEEKS),
        "optimised plan": (cp.monthly(plan, arm_table, PLAN_MONTHS), 4 * PLAN_MONTHS),
    }
    return history, plans


def off_policy_check(world: World, data: Dataset, seed: int) -> pd.DataFrame:
    """Per decision and method (IPW, DR): the estimate from the history's latest campaigns (EUR,
    95% interval), the plan's played and expected truth (EUR), and whether the interval holds the
    played truth."""
    history, plans = cross_fitted_plans(world, data, seed)
    costs = nbo.arms(data).set_index("arm").cost_per_contact
    scores = row_scores(history, nbo.feature_columns(history), seed)
    recent = latest_campaigns(history, data.frame("campaigns"))
    rows = []
    for decision, (plan, weeks) in plans.items():
        truth = played(world, plan, weeks, seed)
        estimate = plan_value(history[recent], scores[recent], plan, costs)
        for row in estimate[estimate.arm == "total"].itertuples():
            rows.append(
                {
                    "seed": seed,
                    "decision": decision,
                    "method": row.method,
                    "contacts": row.contacts,
                    "estimate": round(row.estimate, 1),
                    "low": round(row.low, 1),
                    "high": round(row.high, 1),
                    **truth,
                    "covers_played": bool(row.low <= truth["played_eur"] <= row.high),
                    "covers_expected": bool(row.low <= truth["expected_eur"] <= row.high),
                }
            )
    return pd.DataFrame(rows)
