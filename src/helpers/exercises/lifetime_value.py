"""Grader of the customer lifetime value exercise: next year's revenue from today's customers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from helpers.exercises.grading import NO_ANSWER, Verdict, euros, no_answer, number

if TYPE_CHECKING:
    from helpers.world import World


def last_year_revenue(world: World) -> float:
    """Revenue (EUR) of the last 52 weeks of the history: the forecast "next year like last year"."""
    tx = world.table("transactions", ["order_date", "amount"])
    first = dt.date.fromisoformat(world.parameters["end"]) - dt.timedelta(weeks=52)
    return float(tx.amount[tx.order_date.dt.date > first].sum())


def grade_value_forecast(answer: object, world: World) -> Verdict:
    """Your forecast of the revenue today's customers will bring over the next 52 weeks (EUR) against
    the truth's expected value; values are errors in EUR, the naive forecast being last year's revenue."""
    truth = world.truth()
    true = float(truth.expected_value_52w[~truth.is_prospect].sum())
    naive = abs(last_year_revenue(world) - true)
    if answer is NO_ANSWER:
        return no_answer("your forecast in EUR, e.g. 150_000", naive, 0.0)
    forecast = number(answer, "your forecast (EUR)", 0)
    error = abs(forecast - true)
    return Verdict(
        error,
        naive,
        0.0,
        f"You forecast {euros(forecast)}; the truth expects {euros(true)} ({(forecast - true) / true:+.0%}). "
        f"'Next year like last year' ({euros(last_year_revenue(world))}) is {(naive / true):.0%} off: last "
        "year's buyers are not all still buying, and this year's new customers are not in today's base.",
    )
