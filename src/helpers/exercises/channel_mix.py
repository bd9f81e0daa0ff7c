"""Grader of the channel mix exercise: a contact plan under a budget, against a mass send and the best
plan the budget allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.decide.contact_plan import best_arm_per_channel, mass_plan, optimise_contact_plan
from helpers.errors import ExerciseInputError
from helpers.exercises.grading import NO_ANSWER, Verdict, euros, no_answer, number
from helpers.exercises.values import PLAY_WEEKS, arm_table, checked_plan, true_values

if TYPE_CHECKING:
    from helpers.world import World


def mass_send(world: World) -> tuple[float, float]:
    """Every buyer on every channel they allow, each channel with its best offer on average, played
    against the truth: (expected incremental margin after costs, cost), in EUR."""
    values, arms = true_values(world), arm_table(world)
    plan = mass_plan(world.eligibility().loc[values.index], best_arm_per_channel(values, arms))
    plan = plan.merge(arms[["arm", "offer"]], on="arm")
    played = world.play(plan, weeks=PLAY_WEEKS, seed=int(world.parameters["seed"])).contacts
    margin = world.truth().set_index("customer_id").margin_rate.loc[played.customer_id].to_numpy()
    cost = float(played.cost.sum())
    return float((played.expected_incremental_revenue * margin).sum()) - cost, cost


def best_plan(world: World, budget: float) -> pd.DataFrame:
    """The plan of highest true expected margin within ``budget`` (EUR), one contact per customer:
    customer_id, arm, channel, expected_incremental_margin, cost (``optimise_contact_plan`` on the truth)."""
    values, arms = true_values(world), arm_table(world)
    before_cost = (values + arms.set_index("arm").cost_per_contact.reindex(values.columns).to_numpy()).fillna(-np.inf)
    plan, _ = optimise_contact_plan(before_cost, arms, world.eligibility().loc[values.index], budget)
    return plan


def grade_contact_plan(answer: object, world: World, budget: float) -> Verdict:
    """Your plan (customer_id, channel, offer; one contact per customer, within ``budget`` EUR and the
    customers' consent) by its true expected incremental margin (EUR after costs), against a mass send
    and the best plan under the budget."""
    budget = number(budget, "the budget (EUR)", 0)
    naive, naive_cost = mass_send(world)
    best = float(best_plan(world, budget).expected_incremental_margin.sum())
    if answer is NO_ANSWER:
        return no_answer("a table with columns customer_id, channel, offer", naive, best)
    plan = checked_plan(answer, world)
    costs = arm_table(world).set_index("arm").cost_per_contact
    spent = float(costs.loc[plan.arm].sum())
    if spent > budget + 1e-9:
        raise ExerciseInputError(
            f"your plan costs {euros(spent)}, over the budget of {euros(budget)}: drop some contacts "
            "or use cheaper channels."
        )
    earned = float(plan.value.sum())
    return Verdict(
        earned,
        naive,
        best,
        f"Your plan ({len(plan):,} contacts, {euros(spent)}) earns {euros(earned, True)} of margin after costs; "
        f"a mass send on every allowed channel {euros(naive, True)} (for {euros(naive_cost)}, whatever the "
        f"budget); the best plan under your budget {euros(best, True)}.",
    )
