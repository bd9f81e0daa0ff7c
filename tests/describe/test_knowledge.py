"""Knowledge helpers on small hand-made transaction logs."""

import datetime as dt

import ibis
import pandas as pd
import pytest

from helpers.describe import knowledge
from helpers.features import customer_summary, execute


@pytest.fixture
def tx():
    df = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 4, 5],
            "order_date": pd.to_datetime(
                [
                    "2024-01-05",
                    "2024-01-05",
                    "2024-04-10",
                    "2024-02-01",
                    "2024-03-02",
                    "2024-05-01",
                    "2024-05-20",
                    "2024-06-30",
                ]
            ),
            "amount": [100.0, 50.0, 50.0, 30.0, 20.0, 10.0, 5.0, -5.0],
        }
    )
    return ibis.memtable(df)


def test_customer_summary_counts_repeat_days_in_weeks(tx):
    s = execute(customer_summary(tx, dt.date(2024, 7, 1)), "customer_id").set_index("customer_id")
    assert s.loc[1, "n_orders"] == 3 and s.loc[1, "frequency"] == 1, "two orders the same day are one purchase day"
    assert s.loc[1, "recency"] == pytest.approx(96 / 7) and s.loc[1, "T"] == pytest.approx(178 / 7)
    assert s.loc[2, "revenue"] == 50 and s.loc[2, "monetary"] == 25
    assert 5 not in s.index, "a customer whose only order is a return never bought"


def test_pareto_curve_on_a_hand_computed_example(tx):
    curve = knowledge.pareto_curve(tx)
    # Net revenue: 200, 50, 10, 5, and customer 5 at -5 counts as 0 -> total 265.
    assert knowledge.top_share(curve, 0.2) == pytest.approx(200 / 265)
    assert knowledge.top_share(curve, 0.4) == pytest.approx(250 / 265)
    assert curve.revenue_share.iloc[-1] == pytest.approx(1.0) and curve.revenue_share.is_monotonic_increasing


def test_interpurchase_days_use_distinct_order_days(tx):
    gaps = knowledge.interpurchase_days(tx, dt.date(2024, 12, 31))
    assert gaps.tolist() == [30, 96]


def test_cohort_retention_shares(tx):
    table = knowledge.cohort_retention(tx, dt.date(2024, 12, 31))
    assert table.loc["2024Q1", 0] == 1.0
    assert table.loc["2024Q1", 1] == 0.5  # customer 1 came back in Q2, customer 2 did not
    assert pd.isna(table.loc["2024Q2", 2])  # 2024Q4 is not fully observed yet


def test_journey_funnel_keeps_the_journey_order():
    customers = pd.DataFrame(
        {
            "customer_id": range(6),
            "is_prospect": [True] * 5 + [False],
            "journey_stage": ["need", "need", "comparison", "purchase", "information", None],
        }
    )
    funnel = knowledge.journey_funnel(customers, ["need", "information", "comparison", "purchase"])
    assert funnel.stage.tolist() == ["need", "information", "comparison", "purchase"]
    assert funnel.prospects.tolist() == [2, 1, 1, 1]
    assert funnel.share_at_or_beyond.tolist() == [1.0, 0.6, 0.4, 0.2]
