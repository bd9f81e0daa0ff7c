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


def customer_summary(tx: ibis.Table, as_of: dt.date, unit_days: float = 7.0) -> ibis.Table:
    """Per customer, from orders on or before ``as_of``, as the BG/NBD and RFM models need them.

    Columns: customer_id; n_orders; revenue (EUR, net of returns); first_order, last_order (dates);
    frequency (repeat purchase days: distinct order days - 1); recency (time from first to last
    order day) and T (time from first order day to ``as_of``), both in units of ``unit_days``
    (weeks by default); monetary (mean order value in EUR).
    """
    as_of_lit = ibis.literal(as_of, type="date")
    orders = tx.filter(_.order_date.cast("date") <= as_of_lit).mutate(day=_.order_date.cast("date"))
    per_day = orders.group_by(["customer_id", "day"]).aggregate(day_amount=_.amount.sum(), day_orders=_.count())
    agg = per_day.group_by("customer_id").aggregate(
        n_orders=_.day_orders.sum(), revenue=_.day_amount.sum(), n_days=_.count(),
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
