"""Prospects through the buyer's journey: where they stand, what a new customer is worth, and
which nurturing sequence (channel) each should get, valued from assumed lifts by stage."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from ibis import _

from helpers.data.contract import JOURNEY_STAGES
from helpers.features import money_sum
from helpers.world.truth import nurture_column

NURTURE = "nurture"  # the arm's offer: a sequence of informative contacts, no discount


def journey_stage_counts(customers: pd.DataFrame) -> pd.DataFrame:
    """Prospects per journey stage (need -> purchase), with their share; unknown stages counted apart."""
    prospects = customers[customers.is_prospect.fillna(False).astype(bool)]
    stage = prospects.journey_stage.astype("string").fillna("unknown")
    counts = stage.value_counts().reindex([*JOURNEY_STAGES, "unknown"], fill_value=0)
    counts = counts[(counts > 0) | counts.index.isin(JOURNEY_STAGES)]
    return pd.DataFrame({"prospects": counts, "share": (counts / max(len(prospects), 1)).round(3)}).rename_axis("stage")


def new_customer_value(tx: ibis.Table, as_of: dt.date, years: int = 3) -> tuple[float, int]:
    """What a new customer brings: mean revenue (EUR, net of returns) in the first ``years`` years
    after their first order, over customers whose first order is at least ``years`` years before
    ``as_of``; and how many such customers. (nan, 0) when the history is too short."""
    day = tx.order_date.cast("date")
    first = tx.group_by("customer_id").aggregate(first_day=day.min())
    cutoff = as_of - dt.timedelta(days=round(365.25 * years))
    cohort = first.filter(_.first_day <= ibis.literal(cutoff, type="date"))
    joined = tx.join(cohort, "customer_id").mutate(day=day)
    window = joined.filter(joined.day < joined.first_day + ibis.interval(days=round(365.25 * years)))
    per = window.group_by("customer_id").aggregate(revenue=money_sum(_.amount)).to_pandas()
    return (float(per.revenue.mean()), len(per)) if len(per) else (float("nan"), 0)


def nurture_arms(cost_per_contact: dict[str, float], touches: int) -> pd.DataFrame:
    """One arm per channel: a sequence of ``touches`` contacts; cost_per_contact is the sequence's
    cost (EUR), as the contact-plan optimiser counts it."""
    return pd.DataFrame(
        {
            "arm": [f"{c} · {NURTURE}" for c in cost_per_contact],
            "channel": list(cost_per_contact),
            "offer": NURTURE,
            "cost_per_contact": [v * touches for v in cost_per_contact.values()],
        }
    )


def nurture_values(
    prospects: pd.DataFrame, assumed_lift: dict[str, dict[str, float]], value_eur: float, arms: pd.DataFrame
) -> pd.DataFrame:
    """Prospects (index customer_id) x arms: assumed extra chance of a first purchase from the
    sequence (by stage, ``assumed_lift[stage][channel]``) x the value of a new customer (EUR,
    before the sequence's cost). Prospects at an unknown stage get the mean over stages."""
    stage = prospects.set_index("customer_id").journey_stage.astype("string")
    columns = {}
    for arm, channel in zip(arms.arm, arms.channel, strict=True):
        by_stage = {s: assumed_lift.get(s, {}).get(channel, 0.0) for s in JOURNEY_STAGES}
        columns[arm] = stage.map(by_stage).astype(float).fillna(float(np.mean(list(by_stage.values())))) * value_eur
    return pd.DataFrame(columns)


def assumed_against_true(
    prospects: pd.DataFrame, truth: pd.DataFrame, assumed_lift: dict[str, dict[str, float]], channels: list[str]
) -> pd.DataFrame:
    """Per stage and channel: the lift assumed for planning beside the mean true lift (points)."""
    true = truth.set_index("customer_id").loc[prospects.customer_id]
    stage = prospects.journey_stage.astype(str).to_numpy()
    rows = []
    for s in JOURNEY_STAGES:
        for c in channels:
            rows.append(
                {
                    "stage": s,
                    "channel": c,
                    "assumed_points": 100 * assumed_lift.get(s, {}).get(c, 0.0),
                    "true_points": 100 * float(true[nurture_column(c)].to_numpy()[stage == s].mean()),
                }
            )
    return pd.DataFrame(rows).round(2)
