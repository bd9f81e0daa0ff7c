"""Graders of the customer knowledge exercises: the Pareto share, and who to invite to a VIP evening."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from helpers.data.dataset import Dataset
from helpers.describe import knowledge
from helpers.exercises.grading import NO_ANSWER, Verdict, customer_choice, euros, no_answer, number

if TYPE_CHECKING:
    from helpers.world import World

RULE_OF_THUMB = 0.8  # "20% of customers bring 80% of revenue"


def grade_pareto_share(answer: object, data: Dataset, world: World) -> Verdict:
    """Your estimate of the revenue share of the best 20% of customers (0-1) against the data's own
    share and the 80% rule of thumb; the verdict's values are errors in percentage points."""
    end = dt.date.fromisoformat(world.parameters["end"])
    share = knowledge.top_share(knowledge.pareto_curve(data.table("transactions"), end=end), 0.2)
    naive = abs(RULE_OF_THUMB - share) * 100
    if answer is NO_ANSWER:
        return no_answer("your estimate as a share, e.g. 0.7 for 70%", naive, 0.0)
    guess = number(answer, "your share", 0, 1)
    error = abs(guess - share) * 100
    return Verdict(
        error,
        naive,
        0.0,
        f"You said {guess:.0%}; in this data the best 20% of customers bring {share:.0%} of revenue "
        f"(you are {error:.0f} points off). The 80/20 rule of thumb is {naive:.0f} points off: "
        "studies of retailers find 60-73%, not 80%.",
    )


def grade_vip_invitations(answer: object, world: World, seats: int = 100) -> Verdict:
    """Your guests (up to ``seats`` customer ids) by their true expected revenue over the next 52
    weeks (EUR), against guests drawn at random and the ``seats`` truly most valuable customers."""
    truth = world.truth().set_index("customer_id")
    value = truth.expected_value_52w[~truth.is_prospect.to_numpy()]
    naive, best = float(value.mean() * seats), float(value.nlargest(seats).sum())
    if answer is NO_ANSWER:
        return no_answer(f"a list of up to {seats} customer ids", naive, best)
    guests = customer_choice(answer, value.index, "your guest list", at_most=seats)
    earned = float(value.loc[guests].sum())
    return Verdict(
        earned,
        naive,
        best,
        f"Your {len(guests)} guests will truly spend {euros(earned)} over the next 52 weeks; {seats} guests "
        f"drawn at random {euros(naive)}; the {seats} truly best customers {euros(best)}.",
    )
