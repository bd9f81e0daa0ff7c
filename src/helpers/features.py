"""Transaction-level features as Ibis expressions, on whichever backend holds the log
(``helpers.engine.connect``: DuckDB by default).

Nothing here loads a whole transaction log into pandas: expressions aggregate in the engine and
only per-customer (or smaller) results come back. A cancellation or return (``purchases``) nets
revenue but is neither an order nor a purchase occasion; customers whose net revenue is zero or less
are left out of the models' inputs (``modelled_customers``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.datatypes as dt_
import pandas as pd
from ibis import _


def money_sum(column: ibis.Value) -> ibis.Value:
    """Sum of an amount in EUR, exact to the cent: each amount rounded to whole cents (half away
    from zero, as a DECIMAL(18, 2) cast rounds), summed as integers, returned as float64 (cents / 100).
    A float sum run on several threads changes in its last bits from run to run, and that is
    enough to change a tree model downstream; integers sum faster than DECIMALs (0.16 s against
    0.21 s for 2M orders on DuckDB)."""
    return (column * 100).round().cast("int64").sum() / 100


@ibis.udf.agg.builtin(name="bitstring_agg", signature=((dt_.int64, dt_.int64, dt_.int64), dt_.binary))
def _bitstring_agg(day, lo, hi):  # DuckDB's: one bit per value in [lo, hi], set where a row has it
    ...


@ibis.udf.scalar.builtin(name="bit_count", signature=((dt_.binary,), dt_.int64))
def _bit_count(bits):  # DuckDB's: how many bits are set
    ...


def _distinct_days(day: ibis.Value, where: ibis.Value, first: dt.date | None, last: dt.date) -> ibis.Value:
    """Distinct days of ``day`` (dates in [first, last]) where ``where`` holds, per group. On DuckDB a
    bitmap of the span per group (``bitstring_agg``, no hash table of (customer, day) pairs: 0.21 s
    against 0.53 s of ``count(DISTINCT)`` for 2M orders, exact); elsewhere ``nunique``."""
    if first is None or ibis.get_backend(day).name != "duckdb":
        return day.nunique(where=where)
    offset = day.delta(ibis.literal(first, type="date"), unit="day")
    return _bit_count(_bitstring_agg(offset, 0, (last - first).days, where=where))


def is_return(tx: ibis.Table) -> ibis.Value:
    """Is the order a cancellation or return: a negative net amount, or marked ``is_return`` by the
    loader (a column of the file, or the mapping's rule such as an order id starting with C)?"""
    returned = tx.amount < 0
    return returned | tx.is_return.fill_null(False) if "is_return" in tx.columns else returned


def purchases(tx: ibis.Table) -> ibis.Table:
    """The orders that are purchases: every order but cancellations and returns (``is_return``)."""
    return tx.filter(~is_return(tx))


def customer_summary(tx: ibis.Table, as_of: dt.date, unit_days: float = 7.0) -> ibis.Table:
    """Per customer with a purchase on or before ``as_of``, as the BG/NBD and RFM models need them.

    Columns: customer_id; n_orders (purchases: returns are no orders); revenue (net of returns, in
    the data's currency); first_order, last_order (purchase dates); frequency (repeat purchase days:
    distinct purchase days - 1); recency (time from first to last purchase day) and T (time from
    first purchase day to ``as_of``), both in units of ``unit_days`` (weeks by default); monetary
    (net revenue per purchase). A customer who only cancelled or returned has no row; one whose net
    revenue is zero or less has one, which ``modelled_customers`` leaves out.
    """
    as_of_lit = ibis.literal(as_of, type="date")
    rows = tx.filter(_.order_date.cast("date") <= as_of_lit)
    orders = rows.mutate(day=_.order_date.cast("date"), purchase=~is_return(rows))
    first = orders.day.min().to_pyarrow().as_py()  # the bitmap's span (None: no order by as_of)
    agg = orders.group_by("customer_id").aggregate(  # one pass
        n_orders=_.day.count(where=_.purchase),
        revenue=money_sum(_.amount),
        n_days=_distinct_days(orders.day, orders.purchase, first, as_of),
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


def modelled_customers(summary: ibis.Table) -> ibis.Table:
    """The customers the models see (BG/NBD, Gamma-Gamma, segmentation): rows of ``customer_summary``
    with net revenue above zero. A customer whose returns cancel their purchases is counted in the
    data quality report (customers_without_net_revenue) and left out here."""
    return summary.filter(summary.revenue > 0)


def execute(expr: ibis.Table, sort_by: str | list[str] | None = None) -> pd.DataFrame:
    """Run an expression and return a pandas frame, sorted for reproducible display."""
    df = expr.to_pandas()
    return df.sort_values(sort_by, ignore_index=True) if sort_by else df


def _day(tx: ibis.Table):
    return tx.order_date.cast("date")


def rfm_features(tx: ibis.Table, as_of: dt.date) -> ibis.Table:
    """Per customer with an order on or before ``as_of``: recency_days (days since the last order),
    orders, revenue (net of returns), average_order, tenure_days (since the first order); customers
    whose net revenue is zero or less are left out (``modelled_customers``)."""
    as_of_lit = ibis.literal(as_of, type="date")
    s = modelled_customers(customer_summary(tx, as_of))
    return s.select(
        "customer_id",
        recency_days=as_of_lit.delta(s.last_order, unit="day"),
        orders=s.n_orders,
        revenue=s.revenue,
        average_order=s.monetary,
        tenure_days=as_of_lit.delta(s.first_order, unit="day"),
    )


def calibration_holdout(
    tx: ibis.Table, calibration_end: dt.date, holdout_end: dt.date, unit_days: float = 7.0
) -> ibis.Table:
    """The customer summary as of ``calibration_end`` (customers who had bought by then, with net
    revenue above zero: ``modelled_customers``) with holdout_purchases (distinct purchase days in
    (calibration_end, holdout_end]) and holdout_revenue (net of returns)."""
    cal = modelled_customers(customer_summary(tx, calibration_end, unit_days))
    day = _day(tx)
    later = tx.filter((day > calibration_end) & (day <= holdout_end))
    later = later.mutate(day=_day(later), purchase=~is_return(later))
    hold = later.group_by("customer_id").aggregate(
        holdout_purchases=_.day.nunique(where=_.purchase), holdout_revenue=money_sum(_.amount)
    )
    joined = cal.left_join(hold, cal.customer_id == hold.customer_id)
    return joined.select(
        *[cal[c] for c in cal.columns],
        holdout_purchases=hold.holdout_purchases.fill_null(0),
        holdout_revenue=hold.holdout_revenue.fill_null(0.0),
    )


def repeat_days(tx: ibis.Table, until: dt.date) -> tuple[pd.Series, pd.Series]:
    """Each customer's first purchase day, and every later distinct purchase day up to ``until`` (for
    the tracking plot): two Series of dates."""
    tx = purchases(tx)
    days = tx.filter(_day(tx) <= until).select("customer_id", day=_day(tx)).distinct()
    w = ibis.window(group_by="customer_id", order_by="day")
    ranked = days.mutate(n=ibis.row_number().over(w)).to_pandas()
    return ranked.day[ranked.n == 0].reset_index(drop=True), ranked.day[ranked.n > 0].reset_index(drop=True)


def category_shares(tx: ibis.Table, as_of: dt.date) -> pd.DataFrame:
    """Share of each customer's (positive) revenue by category: customers x categories, rows sum to 1
    (customer_id as index; customers with no positive revenue are left out)."""
    per = (
        tx.filter(_day(tx) <= as_of)
        .group_by(["customer_id", "category"])
        .aggregate(revenue=money_sum(_.amount))
        .to_pandas()
    )
    table = per.pivot_table(index="customer_id", columns="category", values="revenue", aggfunc="sum", fill_value=0)
    table = table.clip(lower=0)
    table = table[table.sum(axis=1) > 0]
    return table.div(table.sum(axis=1), axis=0).sort_index().sort_index(axis=1)


def _ordered_categories(tx: ibis.Table) -> ibis.Table:
    """Purchases with a category, numbered per customer in time (order_id, then category, break ties)."""
    tx = purchases(tx)
    ties = [tx.order_id] if "order_id" in tx.columns else []
    w = ibis.window(group_by="customer_id", order_by=[_day(tx), *ties, tx.category])
    return tx.filter(tx.category.notnull()).mutate(day=_day(tx), n=ibis.row_number().over(w))


def revenue_between(tx: ibis.Table, start: dt.date, end: dt.date) -> pd.Series:
    """Revenue (EUR, net of returns) per customer from orders in [start, end] (customer_id -> EUR)."""
    orders = tx.filter((_day(tx) >= start) & (_day(tx) <= end))
    per = execute(orders.group_by("customer_id").aggregate(revenue=money_sum(_.amount)), "customer_id")
    return per.set_index("customer_id").revenue


def order_days(tx: ibis.Table, until: dt.date) -> pd.DataFrame:
    """Distinct (customer_id, day, category) of purchases on or before ``until``: what triggered
    scenarios need of the log (category is missing when the log has none)."""
    tx = purchases(tx)
    orders = tx.filter(_day(tx) <= until)
    category = orders.category if "category" in orders.columns else ibis.null().cast("string")
    days = orders.select("customer_id", day=_day(orders), category=category).distinct()
    return execute(days, ["customer_id", "day", "category"])


def category_transitions(tx: ibis.Table, until: dt.date) -> pd.DataFrame:
    """How often an order in category ``previous`` is followed, for the same customer, by an order
    in ``category`` (orders on or before ``until``): columns previous, category, pairs."""
    orders = _ordered_categories(tx.filter(_day(tx) <= until))
    prev = orders.select(customer_id=orders.customer_id, n=orders.n + 1, previous=orders.category)
    pairs = orders.join(prev, ["customer_id", "n"])
    return execute(pairs.group_by(["previous", "category"]).aggregate(pairs=_.count()), ["previous", "category"])


def category_orders(tx: ibis.Table, until: dt.date) -> pd.Series:
    """Purchases per category on or before ``until`` (category -> orders)."""
    tx = purchases(tx)
    orders = tx.filter((_day(tx) <= until) & tx.category.notnull())
    return execute(orders.group_by("category").aggregate(orders=_.count()), "category").set_index("category").orders


def next_category_after(tx: ibis.Table, after: dt.date, until: dt.date) -> pd.Series:
    """Per customer who ordered in (after, until]: the category of their first order in that
    period (customer_id -> category)."""
    later = _ordered_categories(tx.filter((_day(tx) > after) & (_day(tx) <= until)))
    first = execute(later.filter(later.n == 0).select("customer_id", "category"), "customer_id")
    return first.set_index("customer_id").category
