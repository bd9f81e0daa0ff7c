"""Transaction-level features as Ibis expressions, executed on DuckDB by default.

Nothing here loads a whole transaction log into pandas: expressions aggregate in the engine and
only per-customer (or smaller) results come back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
from ibis import _


def connect(engine: str = "duckdb"):
    """An Ibis backend: ``duckdb`` (embedded, default) or any Ibis connection URL."""
    return ibis.duckdb.connect() if engine == "duckdb" else ibis.connect(engine)


def read_table(con, path: str | Path, name: str) -> ibis.Table:
    """A Parquet file as an Ibis table registered under ``name``."""
    return con.read_parquet(str(path), table_name=name)


def money_sum(column: ibis.Value) -> ibis.Value:
    """Sum of an amount in EUR, exact to the cent: summed as DECIMAL(18, 2), returned as float64.
    A float sum run on several threads changes in its last bits from run to run, and that is
    enough to change a tree model downstream."""
    return column.cast(ibis.dtype("decimal(18, 2)")).sum().cast("float64")


def customer_summary(tx: ibis.Table, as_of: dt.date, unit_days: float = 7.0) -> ibis.Table:
    """Per customer, from orders on or before ``as_of``, as the BG/NBD and RFM models need them.

    Columns: customer_id; n_orders; revenue (EUR, net of returns); first_order, last_order (dates);
    frequency (repeat purchase days: distinct order days - 1); recency (time from first to last
    order day) and T (time from first order day to ``as_of``), both in units of ``unit_days``
    (weeks by default); monetary (mean order value in EUR).
    """
    as_of_lit = ibis.literal(as_of, type="date")
    orders = tx.filter(_.order_date.cast("date") <= as_of_lit).mutate(day=_.order_date.cast("date"))
    per_day = orders.group_by(["customer_id", "day"]).aggregate(day_amount=money_sum(_.amount), day_orders=_.count())
    agg = per_day.group_by("customer_id").aggregate(
        n_orders=_.day_orders.sum(), revenue=money_sum(_.day_amount), n_days=_.count(),
        first_order=_.day.min(), last_order=_.day.max())
    return agg.mutate(
        frequency=(_.n_days - 1),
        recency=_.last_order.delta(_.first_order, unit="day").cast("float64") / unit_days,
        T=-_.first_order.delta(as_of_lit, unit="day").cast("float64") / unit_days,
        monetary=_.revenue / _.n_orders,
    ).drop("n_days")


def execute(expr: ibis.Table, sort_by: str | list[str] | None = None) -> pd.DataFrame:
    """Run an expression and return a pandas frame, sorted for reproducible display."""
    df = expr.to_pandas()
    return df.sort_values(sort_by, ignore_index=True) if sort_by else df


def _day(tx: ibis.Table):
    return tx.order_date.cast("date")


def rfm_features(tx: ibis.Table, as_of: dt.date) -> ibis.Table:
    """Per customer with an order on or before ``as_of``: recency_days (days since the last order),
    orders, revenue (EUR, net of returns), average_order (EUR), tenure_days (since the first order)."""
    as_of_lit = ibis.literal(as_of, type="date")
    s = customer_summary(tx, as_of)
    return s.select("customer_id", recency_days=as_of_lit.delta(s.last_order, unit="day"), orders=s.n_orders,
                    revenue=s.revenue, average_order=s.monetary,
                    tenure_days=as_of_lit.delta(s.first_order, unit="day"))


def calibration_holdout(tx: ibis.Table, calibration_end: dt.date, holdout_end: dt.date,
                        unit_days: float = 7.0) -> ibis.Table:
    """The customer summary as of ``calibration_end`` (customers who had bought by then) with
    holdout_purchases (distinct order days in (calibration_end, holdout_end]) and holdout_revenue."""
    cal = customer_summary(tx, calibration_end, unit_days)
    day = _day(tx)
    later = tx.filter((day > calibration_end) & (day <= holdout_end)).mutate(day=day)
    hold = later.group_by("customer_id").aggregate(holdout_purchases=_.day.nunique(), holdout_revenue=money_sum(_.amount))
    joined = cal.left_join(hold, cal.customer_id == hold.customer_id)
    return joined.select(*[cal[c] for c in cal.columns],
                         holdout_purchases=hold.holdout_purchases.fill_null(0),
                         holdout_revenue=hold.holdout_revenue.fill_null(0.0))


def repeat_days(tx: ibis.Table, until: dt.date) -> tuple[pd.Series, pd.Series]:
    """Each customer's first order day, and every later distinct order day up to ``until`` (for
    the tracking plot): two Series of dates."""
    days = tx.filter(_day(tx) <= until).select("customer_id", day=_day(tx)).distinct()
    w = ibis.window(group_by="customer_id", order_by="day")
    ranked = days.mutate(n=ibis.row_number().over(w)).to_pandas()
    return ranked.day[ranked.n == 0].reset_index(drop=True), ranked.day[ranked.n > 0].reset_index(drop=True)


def category_shares(tx: ibis.Table, as_of: dt.date) -> pd.DataFrame:
    """Share of each customer's (positive) revenue by category: customers x categories, rows sum to 1
    (customer_id as index; customers with no positive revenue are left out)."""
    per = (tx.filter(_day(tx) <= as_of).group_by(["customer_id", "category"]).aggregate(revenue=money_sum(_.amount))
           .to_pandas())
    table = per.pivot_table(index="customer_id", columns="category", values="revenue", aggfunc="sum", fill_value=0)
    table = table.clip(lower=0)
    table = table[table.sum(axis=1) > 0]
    return table.div(table.sum(axis=1), axis=0).sort_index().sort_index(axis=1)
