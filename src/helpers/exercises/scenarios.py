"""Grader of the triggered scenario exercise: after how many days without a purchase a win-back
message should fire."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from helpers.exercises.grading import NO_ANSWER, Verdict, euros, no_answer, whole_number
from helpers.exercises.values import arm_name, true_values

if TYPE_CHECKING:
    from helpers.world import World

TRIGGER_ARM = arm_name("email", "discount_10")


def days_since_purchase(world: World) -> pd.Series:
    """Days from each buyer's last order to the end of the history (customer_id -> days)."""
    tx = world.table("transactions", ["customer_id", "order_date"])
    end = pd.Timestamp(dt.date.fromisoformat(world.parameters["end"]))
    return (end - tx.groupby("customer_id").order_date.max()).dt.days.rename("days_since_purchase")


def threshold_values(world: World, arm: str = TRIGGER_ARM) -> pd.Series:
    """For every threshold D (days, index), the true expected incremental margin (EUR after costs) of
    sending ``arm`` to the customers it may reach who have not bought for at least D days."""
    value = true_values(world)[arm].dropna()
    days = days_since_purchase(world).reindex(value.index)
    per_day = value.groupby(days).sum().sort_index(ascending=False).cumsum().sort_index()
    return per_day.reindex(range(int(days.max()) + 1), method="bfill").fillna(0.0)


def grade_win_back_threshold(answer: object, world: World, arm: str = TRIGGER_ARM) -> Verdict:
    """Your threshold (days without a purchase before the win-back ``arm`` fires) by the true expected
    incremental margin of the messages it sends (EUR after costs), against firing for everyone (0 days)
    and the best threshold."""
    values = threshold_values(world, arm)
    naive, best_days = float(values.iloc[0]), int(values.idxmax())
    best = float(values.max())
    if answer is NO_ANSWER:
        return no_answer("a number of days, e.g. 180", naive, best)
    days = whole_number(answer, "your threshold (days)", low=0)
    earned = float(values.iloc[min(days, len(values) - 1)])
    return Verdict(
        earned,
        naive,
        best,
        f"Firing after {days} days without a purchase earns {euros(earned, True)} of margin after costs; "
        f"firing for everyone {euros(naive, True)}; the best threshold, {best_days} days, {euros(best, True)}.",
    )
