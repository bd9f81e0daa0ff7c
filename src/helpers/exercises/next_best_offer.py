"""Grader of the next best offer exercise: which offer, if any, each customer's letter should carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.errors import ExerciseInputError
from helpers.exercises.grading import NO_ANSWER, Verdict, euros, no_answer
from helpers.exercises.values import arm_name, checked_plan, true_values

if TYPE_CHECKING:
    from helpers.world import World

CHANNEL = "email"
MASS_OFFER = "discount_10"  # the offer a mass send would carry


def grade_offers(answer: object, world: World, channel: str = CHANNEL) -> Verdict:
    """Your offers (a Series customer_id -> offer; customers left out get no letter) by their true
    expected incremental margin (EUR after costs), against the same ``MASS_OFFER`` to every customer
    the channel may reach and the truly best offer (or none) customer by customer."""
    values = true_values(world)[[arm_name(channel, o) for o in world.spec["offers"]]].dropna()
    naive = float(values[arm_name(channel, MASS_OFFER)].sum())
    best = float(values.max(axis=1).clip(lower=0).sum())
    if answer is NO_ANSWER:
        return no_answer("a Series: customer id -> offer", naive, best)
    if not isinstance(answer, pd.Series):
        raise ExerciseInputError(
            f"your offers must be a pandas Series indexed by customer_id with an offer name as each value; "
            f"got {type(answer).__name__}."
        )
    plan = checked_plan(
        pd.DataFrame({"customer_id": answer.index, "channel": channel, "offer": answer.to_numpy()}),
        world,
        "your offers",
    )
    earned = float(plan.value.sum())
    return Verdict(
        earned,
        naive,
        best,
        f"Your {len(plan):,} {channel} contacts earn {euros(earned, True)} of margin after their cost; "
        f"{MASS_OFFER} to all "
        f"{len(values):,} customers {channel} may reach {euros(naive, True)}; the best offer or none for each "
        f"customer {euros(best, True)}.",
    )
