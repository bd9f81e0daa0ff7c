"""Notebook 20's win-back order of segments against the truth: win back first the customers we
cannot lose, then those at risk, hibernating ones after, the lost last. A campaign that can reach
as many customers as the first two segments hold fills its audience segment by segment in the
chosen order; its value is the true 52-week value of the customers it reaches (EUR). The oracle
orders the same segments by their true mean value per customer, so no order reaches more."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from helpers.audit import oracle
from helpers.data.dataset import Dataset
from helpers.describe import segmentation
from helpers.world import World

WIN_BACK_ORDER = ("can't lose", "at risk", "hibernating", "lost")
"""Notebook 20's order (its decisions win_back_order and lost; hibernating ones between, by their action)."""
FIRST_SEGMENTS = 2  # the audience a campaign reaches: as many customers as the first two segments hold


def win_back_segments(world: World, data: Dataset) -> pd.DataFrame:
    """Per win-back segment on the world's last day: customers, median recency (days), mean past
    revenue and mean true 52-week value per customer (EUR), in notebook 20's order."""
    as_of = dt.date.fromisoformat(world.parameters["end"])
    segmented = segmentation.segments_as_of(data.table("transactions"), as_of)
    true = oracle.true_value_ranking(world, segmented.customer_id).to_numpy()
    pool = segmented.assign(segment=segmented.segment.astype(str), true=true)
    pool = pool[pool.segment.isin(WIN_BACK_ORDER)]
    table = pool.groupby("segment").agg(
        customers=("customer_id", "size"),
        recency_days=("recency_days", "median"),
        revenue=("revenue", "mean"),
        true_value=("true", "mean"),
    )
    return table.reindex([s for s in WIN_BACK_ORDER if s in table.index])


def captured_value(table: pd.DataFrame, order: list[str], reach: int) -> float:
    """True value (EUR) of the first ``reach`` customers taken segment by segment in ``order``, the
    last segment reached in part at its mean value."""
    left, value = reach, 0.0
    for segment in order:
        taken = min(left, int(table.at[segment, "customers"]))
        value += taken * float(table.at[segment, "true_value"])
        left -= taken
    return value


def segment_order(world: World, data: Dataset) -> list[dict]:
    """Notebook 20's win-back order, two naive orders (most recent first, highest past revenue
    first) and the oracle's (highest true value first): per order its segments and the true value
    of the customers it reaches (EUR)."""
    table = win_back_segments(world, data)
    if table.empty:
        return []
    reach = int(table.customers.iloc[:FIRST_SEGMENTS].sum())
    orders = {
        "notebook 20's win-back order": list(table.index),
        "most recent first": list(table.sort_values("recency_days", kind="stable").index),
        "highest past revenue first": list(table.sort_values("revenue", ascending=False, kind="stable").index),
        "oracle": list(table.sort_values("true_value", ascending=False, kind="stable").index),
    }
    return [
        {
            "strategy": name,
            "order": " > ".join(order),
            "reach": reach,
            "reached_true_eur": round(captured_value(table, order, reach), 2),
        }
        for name, order in orders.items()
    ]
