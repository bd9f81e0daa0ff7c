"""The customer summary against its first formulation (one pass with a distinct-day count and a
DECIMAL sum), on logs with same-day orders, returns and amounts past the cent."""

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest
from ibis import _

from helpers import features

AS_OF = dt.date(2024, 12, 31)


def _one_pass_summary(tx: ibis.Table, as_of: dt.date, unit_days: float = 7.0) -> ibis.Table:
    """The summary as first written: count(DISTINCT day) and a DECIMAL(18, 2) sum per customer."""
    as_of_lit = ibis.literal(as_of, type="date")
    rows = tx.filter(_.order_date.cast("date") <= as_of_lit)
    orders = rows.mutate(day=_.order_date.cast("date"), purchase=~features.is_return(rows))
    agg = orders.group_by("customer_id").aggregate(
        n_orders=_.day.count(where=_.purchase),
        revenue=features.money_sum(_.amount),
        n_days=_.day.nunique(where=_.purchase),
        first_order=_.day.min(where=_.purchase),
        last_order=_.day.max(where=_.purchase),
    )
    return (
        agg.filter(_.n_orders > 0)
        .mutate(
            frequency=(_.n_days - 1),
            recency=_.last_order.delta(_.first_order, unit="day").cast("float64") / unit_days,
            T=-_.first_order.delta(as_of_lit, unit="day").cast("float64") / unit_days,
            monetary=_.revenue / _.n_orders,
        )
        .drop("n_days")
    )


def _random_log(seed: int, orders: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    digits = 10.0 ** rng.choice([2, 3, 4], orders)
    amount = np.round(rng.gamma(2.0, 40.0, orders) * digits) / digits  # some past the cent
    amount[rng.random(orders) < 0.08] *= -1  # returns
    return pd.DataFrame(
        {
            "customer_id": rng.integers(1, 2_000, orders),
            "order_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 800, orders), unit="D"),
            "amount": amount,
            "is_return": np.where(rng.random(orders) < 0.03, True, None),  # the loader's flag, mostly missing
        }
    )


def _hand_log() -> pd.DataFrame:
    rows = [  # customer, day, amount, is_return
        (1, "2024-01-05", 100.0, None),
        (1, "2024-01-05", 50.0, None),
        (1, "2024-04-10", 50.004, None),
        (2, "2024-02-01", 30.0, None),
        (2, "2024-02-01", -30.0, None),  # net zero: kept, models leave it out
        (3, "2024-05-01", -10.0, None),  # only a return: no row
        (4, "2024-05-20", 5.0, True),
        (4, "2024-06-20", 7.5, False),
        (4, "2024-06-20", 0.016, None),
        (5, "2025-02-01", 9.0, None),  # after as_of
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "is_return"])
    return frame.assign(order_date=pd.to_datetime(frame.order_date))


@pytest.mark.parametrize("log", [_hand_log(), _random_log(1), _random_log(2).drop(columns="is_return")])
def test_customer_summary_equals_the_one_pass_formulation_exactly(log):
    tx = ibis.memtable(log)
    got = features.execute(features.customer_summary(tx, AS_OF), "customer_id")
    expected = features.execute(_one_pass_summary(tx, AS_OF), "customer_id")
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    assert len(got) > 0


def test_customer_summary_counts_same_day_orders_once_and_returns_in_revenue_only():
    s = features.execute(features.customer_summary(ibis.memtable(_hand_log()), AS_OF), "customer_id")
    s = s.set_index("customer_id")
    assert s.index.tolist() == [1, 2, 4]
    assert s.loc[1, "n_orders"] == 3 and s.loc[1, "frequency"] == 1 and s.loc[1, "revenue"] == 200.0
    assert s.loc[2, "revenue"] == 0 and s.loc[2, "frequency"] == 0
    assert (
        s.loc[4, "n_orders"] == 2
        and s.loc[4, "revenue"] == 12.52
        and s.loc[4, "first_order"] == pd.Timestamp("2024-06-20")
    )
