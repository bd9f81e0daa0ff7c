"""The customer summary on a hand-made log with same-day orders, returns, the loader's return flag
and amounts past the cent."""

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from helpers import features

AS_OF = dt.date(2024, 12, 31)


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


def test_customer_summary_equals_the_decimal_and_count_distinct_formulation_on_an_unsorted_log():
    """The bitmap day count and the integer-cent sum against DuckDB's count(DISTINCT) and DECIMAL(18, 2),
    on a shuffled log over ten years with amounts past the cent (half cents too), returns and rows
    after as_of."""
    rng = np.random.default_rng(7)
    n = 20_000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 500, n),
            "order_date": pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3_800, n), unit="D"),
            "amount": np.round(rng.gamma(2.0, 40.0, n) * rng.choice([1, 1, 1, -1], n), 3),
        }
    )
    con = ibis.duckdb.connect()
    con.con.register("log", log)
    ours = features.execute(features.customer_summary(con.table("log"), AS_OF), "customer_id")
    reference = con.con.sql(
        "SELECT customer_id, count(*) FILTER (amount >= 0) AS n_orders, "
        "sum(amount::DECIMAL(18, 2))::DOUBLE AS revenue, "
        "count(DISTINCT order_date::DATE) FILTER (amount >= 0) AS n_days "
        f"FROM log WHERE order_date::DATE <= DATE '{AS_OF}' GROUP BY 1 HAVING n_orders > 0 ORDER BY 1"
    ).df()
    assert ours.customer_id.tolist() == reference.customer_id.tolist()
    assert (ours.revenue.to_numpy() == reference.revenue.to_numpy()).all()
    assert (ours.frequency.to_numpy() == reference.n_days.to_numpy() - 1).all()
    assert (ours.n_orders.to_numpy() == reference.n_orders.to_numpy()).all()
