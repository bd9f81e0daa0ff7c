"""The direct marketer's first look: KPIs, Pareto concentration, cohorts, purchase rhythm,
consent coverage and the prospects' journey. Transaction-level work runs as Ibis expressions."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from ibis import _

from helpers.features import customer_summary, is_return, money_sum


def kpis(tx: ibis.Table, as_of: dt.date, currency: str) -> pd.DataFrame:
    """Headline figures over the whole history and the last 12 months (money in ``currency``, an ISO
    code that labels them; counts; shares)."""
    summary = customer_summary(tx, as_of)
    year_ago = as_of - dt.timedelta(days=365)
    last_year = tx.filter((_.order_date.cast("date") > year_ago) & (_.order_date.cast("date") <= as_of))
    whole = (
        summary.aggregate(customers=_.count(), orders=_.n_orders.sum(), repeat_buyers=(_.frequency > 0).sum())
        .to_pandas()
        .iloc[0]
    )
    revenue = float(tx.filter(_.order_date.cast("date") <= as_of).amount.pipe(money_sum).execute())  # net
    bought = ~is_return(last_year)  # returns net revenue but are no orders
    recent = (
        last_year.aggregate(
            active=_.customer_id.nunique(where=bought),
            orders=_.customer_id.count(where=bought),
            revenue=money_sum(_.amount),
        )
        .to_pandas()
        .iloc[0]
    )
    rows = [
        ("customers who ever bought", whole.customers),
        ("orders", whole.orders),
        (f"revenue ({currency})", revenue),
        (f"average order value ({currency})", revenue / whole.orders),
        ("orders per customer", whole.orders / whole.customers),
        ("share of customers who bought again", whole.repeat_buyers / whole.customers),
        ("active customers, last 12 months", recent.active),
        ("share of customers active in the last 12 months", recent.active / whole.customers),
        (f"revenue, last 12 months ({currency})", recent.revenue),
        (f"revenue per active customer, last 12 months ({currency})", recent.revenue / max(recent.active, 1)),
    ]
    return pd.DataFrame(rows, columns=["kpi", "value"]).assign(value=lambda d: d.value.astype(float).round(2))


def pareto_curve(tx: ibis.Table, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Cumulative share of revenue against the share of customers, best customers first.

    Columns: customer_share, revenue_share (both 0-1), on 101 points (0%, 1%, ..., 100%).
    Revenue is net per customer over [start, end]; customers with no positive net revenue count
    as customers bringing nothing.
    """
    rows = tx
    if start:
        rows = rows.filter(_.order_date.cast("date") >= start)
    if end:
        rows = rows.filter(_.order_date.cast("date") <= end)
    revenue = rows.group_by("customer_id").aggregate(revenue=money_sum(_.amount)).to_pandas()["revenue"]
    values = np.sort(np.clip(revenue.to_numpy(), 0, None))[::-1]
    cum = np.concatenate([[0.0], np.cumsum(values)]) / max(values.sum(), 1e-12)
    share = np.linspace(0, 1, 101)
    return pd.DataFrame(
        {"customer_share": share, "revenue_share": np.interp(share * len(values), np.arange(len(cum)), cum)}
    )


def top_share(curve: pd.DataFrame, customer_share: float = 0.2) -> float:
    """Share of revenue brought by the best ``customer_share`` of customers (read off the curve)."""
    return float(np.interp(customer_share, curve.customer_share, curve.revenue_share))


def cohort_retention(tx: ibis.Table, as_of: dt.date, max_quarters: int = 8) -> pd.DataFrame:
    """Share of each quarterly acquisition cohort buying in each later quarter.

    Rows: cohort (first-order quarter, e.g. 2023Q1); columns: quarters since acquisition 0..max;
    values: share of the cohort with at least one order in that quarter (NaN where not yet observed).
    """
    orders = tx.filter(_.order_date.cast("date") <= as_of).mutate(
        q=_.order_date.year() * 4 + (_.order_date.month() - 1) // 3
    )
    first = orders.group_by("customer_id").aggregate(cohort_q=_.q.min())
    active = orders.join(first, "customer_id").mutate(age=_.q - _.cohort_q).filter(_.age <= max_quarters)
    counts = active.group_by(["cohort_q", "age"]).aggregate(buyers=_.customer_id.nunique()).to_pandas()
    size = counts[counts.age == 0].set_index("cohort_q").buyers
    counts["share"] = counts.buyers / counts.cohort_q.map(size)
    table = (
        counts.pivot(index="cohort_q", columns="age", values="share")
        .sort_index()
        .reindex(columns=range(max_quarters + 1))
    )
    last_q = as_of.year * 4 + (as_of.month - 1) // 3
    for cohort in table.index:  # hide quarters not fully observed yet
        table.loc[cohort, [a for a in table.columns if cohort + a >= last_q]] = np.nan
    table.index = [f"{q // 4}Q{q % 4 + 1}" for q in table.index]
    table.index.name, table.columns.name = "cohort", "quarters since first order"
    return table.round(3)


def interpurchase_days(tx: ibis.Table, as_of: dt.date) -> pd.Series:
    """Days between consecutive order days of the same customer (one value per repeat purchase)."""
    days = tx.filter(_.order_date.cast("date") <= as_of).select("customer_id", day=_.order_date.cast("date")).distinct()
    w = ibis.window(group_by="customer_id", order_by="day")
    gaps = days.mutate(prev=_.day.lag().over(w)).filter(_.prev.notnull())
    out = gaps.select(gap=_.day.delta(_.prev, unit="day")).to_pandas()["gap"]
    return out.sort_values(ignore_index=True)


def orders_per_customer(summary: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Distribution of orders per customer, the last row grouping ``top`` or more."""
    n = summary.n_orders.clip(upper=top)
    out = n.value_counts().sort_index().rename_axis("orders").reset_index(name="customers")
    out["share"] = (out.customers / out.customers.sum()).round(3)
    out["orders"] = out.orders.astype(str).where(out.orders < top, f"{top}+")
    return out


def consent_coverage(consents: pd.DataFrame, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of people with each consent status, per channel: customers and prospects apart when
    ``customers`` has ``is_prospect``, else everyone counts as a customer."""
    who = "customers"
    if customers is not None and "is_prospect" in customers:
        who = consents.customer_id.map(
            customers.set_index("customer_id").is_prospect.map({False: "customers", True: "prospects"})
        ).fillna("customers")
    df = consents.assign(who=who)
    table = df.groupby(["who", "channel", "status"]).size().unstack("status", fill_value=0)
    table = table.div(table.sum(axis=1), axis=0).round(3)
    return table.reindex(columns=["opt_in", "unknown", "opt_out"], fill_value=0).reset_index()


def journey_funnel(customers: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    """Prospects per buyer's-journey stage, in journey order, with the share reaching each stage."""
    prospects = customers[customers.is_prospect]
    counts = prospects.journey_stage.value_counts().reindex(stages, fill_value=0)
    at_or_beyond = counts[::-1].cumsum()[::-1]
    return pd.DataFrame(
        {
            "stage": stages,
            "prospects": counts.to_numpy(),
            "share_at_or_beyond": (at_or_beyond / max(len(prospects), 1)).round(3).to_numpy(),
        }
    )


def monthly_revenue(tx: ibis.Table) -> pd.DataFrame:
    """Net revenue and orders per calendar month (columns month, orders, revenue in the data's currency)."""
    per = (
        tx.mutate(month=_.order_date.truncate("M").cast("date"))
        .group_by("month")
        .aggregate(orders=_.count(), revenue=money_sum(_.amount))
    )
    out = per.to_pandas().sort_values("month", ignore_index=True)
    out["month"] = pd.to_datetime(out.month)
    return out


def campaign_readout(contacts: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Share of each group buying in the response window, per channel and offer, and the
    difference in points (treatment - control): the measured incremental response. A missing
    group shows as NaN."""
    readout = (
        contacts.merge(campaigns[["campaign_id", "channel", "offer"]], on="campaign_id")
        .groupby(["channel", "offer", "group"])
        .responded.mean()
        .unstack("group")
        .reindex(columns=["control", "treatment"])
    )
    readout["difference (points)"] = (readout.treatment - readout.control) * 100
    return readout.round(4).sort_index()
