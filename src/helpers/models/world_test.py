"""A campaign test run on a synthetic world: a letter against a letter followed by a call, each
against a control group, played forward and read out beside the truth the world knows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.data.dataset import Dataset
from helpers.describe.segmentation import segments_as_of
from helpers.features import execute, rfm_features
from helpers.models.experiments import assign_groups
from helpers.world import World

TREATED_ARMS = ("mail", "mail then call")


@dataclass
class PlayedTest:
    groups: pd.Series  # customer_id -> arm ("control", "mail", "mail then call")
    outcomes: pd.DataFrame  # by customer: group, revenue (EUR over the test), responded, pre (EUR, 12 months before)
    costs: dict[str, float]  # arm -> cost per customer (EUR)
    truth: pd.DataFrame  # per arm: true incremental points (of response), true incremental revenue (EUR)


def mail_then_call_plan(groups: pd.Series, offer: str, call_week: int = 2) -> pd.DataFrame:
    """The test's contacts (customer_id, channel, offer, week): a letter in week 0 to both arms of
    ``groups`` (customer_id -> arm), then a call in week ``call_week`` to "mail then call"."""
    mail = groups.index[groups == "mail"]
    sequence = groups.index[groups == "mail then call"]
    return pd.concat(
        [
            pd.DataFrame({"customer_id": mail, "channel": "postal", "offer": offer, "week": 0}),
            pd.DataFrame({"customer_id": sequence, "channel": "postal", "offer": offer, "week": 0}),
            pd.DataFrame({"customer_id": sequence, "channel": "phone", "offer": offer, "week": call_week}),
        ]
    )


def play_test(
    world: World,
    data: Dataset,
    as_of: dt.date,
    arms: dict[str, float],
    offer: str,
    weeks: int,
    seed: int,
    rng: np.random.Generator,
) -> PlayedTest:
    """Assign the customers a letter and a call may reach to ``arms`` (arm -> share, within each segment
    as of ``as_of``, drawn from ``rng``), play ``mail_then_call_plan`` over ``weeks`` weeks on ``seed``
    and collect each customer's outcome with the 12 months' spend before, the arms' contact costs and
    the true effects."""
    allowed = world.eligibility()
    segments = segments_as_of(data.table("transactions"), as_of).set_index("customer_id").segment
    candidates = segments[segments.index.isin(allowed.index[allowed.postal & allowed.phone])]
    groups = assign_groups(candidates.astype(str), arms, rng)
    played = world.play(mail_then_call_plan(groups, offer), weeks=weeks, seed=seed).customers
    played = played.set_index("customer_id").loc[groups.index]
    tx = data.table("transactions")
    pre = execute(rfm_features(tx.filter(tx.order_date > as_of - dt.timedelta(days=365)), as_of))
    outcomes = pd.DataFrame(
        {
            "group": groups,
            "revenue": played.revenue_with_plan,
            "responded": played.revenue_with_plan > 0,
            "pre": pre.set_index("customer_id").revenue.reindex(groups.index).fillna(0.0),
        }
    )
    cost = {channel: world.spec["channels"][channel]["cost_per_contact"] for channel in ("postal", "phone")}
    responded = (played.revenue_with_plan > 0).astype(int) - (played.revenue_without_plan > 0).astype(int)
    truth = pd.DataFrame(
        {
            arm: {
                "true incremental points": responded[groups == arm].mean() * 100,
                "true incremental revenue": played.incremental_revenue[groups == arm].mean(),
            }
            for arm in TREATED_ARMS
        }
    ).T
    return PlayedTest(
        groups, outcomes, {"mail": cost["postal"], "mail then call": cost["postal"] + cost["phone"]}, truth
    )


def against_truth(plain: pd.DataFrame, adjusted: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per arm: the ``plain`` readout's incremental points and revenue with their intervals beside the
    ``truth`` (``PlayedTest.truth``), and the width of the revenue interval (EUR per customer) of the
    plain and the CUPED-``adjusted`` readouts."""
    comparison = plain.set_index("arm")[
        ["incremental_points", "points_low", "points_high", "incremental_revenue", "revenue_low", "revenue_high"]
    ].join(truth)
    by_arm = adjusted.set_index("arm")
    comparison["CUPED interval width"] = by_arm.revenue_high - by_arm.revenue_low
    comparison["plain interval width"] = comparison.revenue_high - comparison.revenue_low
    return comparison
