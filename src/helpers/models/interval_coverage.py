"""Do the lifetime-value intervals hold the truth? On a synthetic world: BG/NBD and Gamma-Gamma
fitted at the world's end, intervals by ``clv_intervals`` over 52 weeks (12 months, undiscounted,
as the truth), against the two targets the world knows: what customers really spend in the
following 52 weeks with no campaign (``future_purchases``, the target of the realised-value
intervals) and each customer's true expected value (``expected_value_52w``, the target of the
expected-value intervals)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers import engine, features
from helpers.models import bg_nbd, gamma_gamma
from helpers.models.clv_intervals import ValueIntervals, value_intervals
from helpers.world import World
from helpers.world.baseline import future_purchases

WEEKS = 52
MONTHS = 12  # 52 weeks: clv_intervals' months are 52/12 weeks


def world_summary(world: World) -> pd.DataFrame:
    """The customer summary at the world's end, with Gamma-Gamma's repeat spend."""
    con = engine.connect()
    tx = engine.read_table(con, world.table_path("transactions"), "transactions")
    end = dt.date.fromisoformat(world.parameters["end"])
    return gamma_gamma.with_repeat_spend(features.execute(features.customer_summary(tx, end), "customer_id"), tx, end)


def true_values(world: World, customer_ids: pd.Series, seed: int) -> pd.DataFrame:
    """Per customer (in the order of ``customer_ids``): realised, the revenue of their next 52 weeks
    with no campaign (EUR, the world's draw for ``seed``), and expected, the truth's expected value."""
    future = future_purchases(world, WEEKS, seed).groupby("customer_id").value.sum()
    hidden = world.truth().set_index("customer_id").expected_value_52w
    return pd.DataFrame(
        {
            "realised": future.reindex(customer_ids, fill_value=0.0).to_numpy(),
            "expected": hidden.reindex(customer_ids).to_numpy(),
        }
    )


def coverage(world: World, draws: int = 200, level: float = 0.90, seed: int = 0) -> dict[str, float]:
    """For each target (realised, expected): the true total, the interval of the total and whether it
    holds it, and the share of customers whose interval holds their own true value."""
    summary = world_summary(world)
    purchases, spend = bg_nbd.fit(summary), gamma_gamma.fit(summary)
    intervals = value_intervals(summary, purchases, spend, MONTHS, 0.0, draws, level, seed)
    return scores(intervals, true_values(world, summary.customer_id, seed))


def scores(intervals: ValueIntervals, true: pd.DataFrame) -> dict[str, float]:
    """How ``intervals`` fare against ``true`` (columns realised, expected, rows as the customers)."""
    out: dict[str, float] = {}
    totals = intervals.totals.set_index("quantity")
    for quantity in ("realised", "expected"):
        target = true[quantity].to_numpy()
        low, high = (intervals.customers[f"{quantity}_{b}"].to_numpy() for b in ("low", "high"))
        total = float(target.sum())
        out |= {
            f"{quantity}_total": total,
            f"{quantity}_low": float(totals.at[quantity, "low"]),
            f"{quantity}_high": float(totals.at[quantity, "high"]),
            f"{quantity}_mean": float(totals.at[quantity, "mean"]),
            f"{quantity}_total_covered": float(totals.at[quantity, "low"] <= total <= totals.at[quantity, "high"]),
            f"{quantity}_customer_coverage": float(np.mean((low <= target + 1e-6) & (target <= high + 1e-6))),
        }
    return out
