"""A transaction log as discrete purchase opportunities, for BG/BB: one opportunity per calendar
period (year, quarter, month or ISO week), a customer "buys" at an opportunity when they made at
least one purchase in it. Only complete periods count: the one holding ``as_of`` counts when
``as_of`` is its last day.

Per customer, counted from the period of their first purchase (opportunity 0): frequency x, the
later periods with a purchase; recency t_x, the last of them (0 without); T = n, the complete
periods since the first. A customer whose first purchase lies in the unfinished period has no
opportunity yet: counted in ``excluded``, not in the summary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from ibis import _

from helpers.errors import ModelInputError
from helpers.features import purchases
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import model_of

PERIODS = ("year", "quarter", "month", "week")
WEEKS = {"year": 52.0, "quarter": 13.0, "month": 52.0 / 12, "week": 1.0}  # one opportunity, in clv's 52-week year
WEEK_ZERO = dt.date(1900, 1, 1)  # a Monday: week k starts WEEK_ZERO + 7k days (ISO weeks)


@dataclass(frozen=True)
class Opportunities:
    """Per customer: customer_id, first_period (start date of the period of the first purchase),
    frequency, recency, T in opportunities (``period``s); ``end``: last day of the last complete
    period; ``excluded``: customers whose first purchase lies after ``end``."""

    summary: pd.DataFrame
    period: str
    end: dt.date
    excluded: int

    @property
    def note(self) -> str:
        """What the summary counts, in one sentence."""
        return (
            f"{len(self.summary):,} customers on one opportunity per {self.period} up to {self.end} "
            f"(complete {self.period}s only); {self.excluded:,} first bought after it and have no opportunity yet"
        )


def period_index(day: dt.date, period: str) -> int:
    """The number of ``period`` holding ``day`` (years since year 0, quarters, months, weeks since 1900)."""
    if period == "year":
        return day.year
    if period == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    if period == "month":
        return day.year * 12 + day.month - 1
    return (day - WEEK_ZERO).days // 7


def period_start(index: int, period: str) -> dt.date:
    """The first day of ``period`` number ``index`` (inverse of ``period_index``)."""
    if period == "year":
        return dt.date(index, 1, 1)
    if period == "quarter":
        return dt.date(index // 4, 3 * (index % 4) + 1, 1)
    if period == "month":
        return dt.date(index // 12, index % 12 + 1, 1)
    return WEEK_ZERO + dt.timedelta(weeks=index)


def _index_expr(day: ibis.Value, period: str) -> ibis.Value:
    """``period_index`` in the engine."""
    if period == "year":
        return day.year()
    if period == "quarter":
        return day.year() * 4 + day.quarter() - 1
    if period == "month":
        return day.year() * 12 + day.month() - 1
    return day.delta(ibis.literal(WEEK_ZERO, type="date"), unit="day") // 7


def per_period(tx: ibis.Table, as_of: dt.date, period: str = "year") -> Opportunities:
    """The opportunities summary of a transaction log (customer_id, order_date, amount[, is_return]):
    purchases on or before ``as_of``, one opportunity per complete ``period`` (see the module)."""
    if period not in PERIODS:
        raise ModelInputError(f"period {period!r} is not one of {', '.join(PERIODS)}.")
    last = period_index(as_of + dt.timedelta(days=1), period) - 1  # the last complete period
    day = _.order_date.cast("date")
    bought = (
        purchases(tx).filter(day <= ibis.literal(as_of, type="date")).select("customer_id", k=_index_expr(day, period))
    )
    agg = (
        bought.distinct()
        .group_by("customer_id")
        .aggregate(first=_.k.min(), last_bought=_.k.max(where=_.k <= last), counted=(_.k <= last).sum())
    )
    frame = agg.to_pandas().sort_values("customer_id", ignore_index=True)
    kept = frame[frame["first"] <= last]
    if kept.empty:
        raise ModelInputError(
            f"No customer bought before the last complete {period} ({period_start(last + 1, period)} - 1 day): "
            "no opportunity to count. Use a later as_of or a shorter period."
        )
    summary = pd.DataFrame(
        {
            "customer_id": kept.customer_id.to_numpy(),
            "first_period": kept["first"].map({k: period_start(int(k), period) for k in kept["first"].unique()}),
            "frequency": (kept.counted - 1).to_numpy(dtype=float),
            "recency": (kept.last_bought - kept["first"]).to_numpy(dtype=float),
            "T": (last - kept["first"]).to_numpy(dtype=float),
        }
    )
    end = period_start(last + 1, period) - dt.timedelta(days=1)
    return Opportunities(summary, period, end, len(frame) - len(kept))


def tracking(tx: ibis.Table, as_of: dt.date, period: str, fit: Fit) -> pd.DataFrame:
    """Cumulative repeat opportunities with a purchase, period by period up to the last complete one
    on ``as_of``, actual against predicted by ``fit`` (BG/BB, fitted on this ``period``'s summary,
    e.g. up to a calibration end): predicted = sum over customers of E[X(n)], n the complete periods
    since their first. Columns: period_end (date), actual, predicted."""
    last = period_index(as_of + dt.timedelta(days=1), period) - 1
    day = _.order_date.cast("date")
    bought = (
        purchases(tx).filter(day <= ibis.literal(as_of, type="date")).select("customer_id", k=_index_expr(day, period))
    )
    frame = bought.filter(_.k <= last).distinct().to_pandas()
    first = frame.groupby("customer_id").k.transform("min")
    births = first.groupby(frame.customer_id).first().value_counts()
    start = int(births.index.min())
    curve = model_of(fit).expected_new(fit.values, np.arange(last - start + 1, dtype=float))
    periods = np.arange(start + 1, last + 1)
    born, count = births.index.to_numpy(dtype=int), births.to_numpy()
    predicted = [float(np.sum(count * curve[np.clip(h - born, 0, None)] * (born <= h))) for h in periods]
    repeats = np.sort(frame.k[frame.k > first].to_numpy())
    ends = [period_start(int(h) + 1, period) - dt.timedelta(days=1) for h in periods]
    actual = np.searchsorted(repeats, periods, side="right")
    return pd.DataFrame({"period_end": ends, "actual": actual, "predicted": np.round(predicted, 1)})


ELIGIBLE_RULE = (
    "BG/BB is a candidate when the data are discrete opportunities: for a calendar period (tried coarsest "
    "first: year, quarter, month, ISO week) no customer bought on two different days of one period, and the "
    "calibration end and the analysis date are each the last day of a period, so calibration and holdout hold "
    "whole opportunities"
)


@dataclass(frozen=True)
class Discreteness:
    """The calendar ``period`` whose opportunities the data are (None: not discrete), and why."""

    period: str | None
    reason: str
    holdout: int = 0  # whole opportunities between the calibration end and the analysis date

    @property
    def unit_weeks(self) -> float:
        """Weeks in one opportunity (1 when the data are not discrete: the summary is in weeks)."""
        return WEEKS[self.period] if self.period else 1.0


def discreteness(tx: ibis.Table, calibration_end: dt.date, as_of: dt.date) -> Discreteness:
    """Whether the purchases up to ``as_of`` are discrete opportunities of some period (``ELIGIBLE_RULE``)."""
    day = _.order_date.cast("date")
    days = purchases(tx).filter(day <= ibis.literal(as_of, type="date")).select("customer_id", day=day).distinct()
    said = []
    for period in PERIODS:
        per = days.group_by(["customer_id", _index_expr(_.day, period).name("k")]).aggregate(days=_.count())
        twice = int(per.filter(_.days > 1).count().to_pandas())
        ends = [
            d
            for d in (calibration_end, as_of)
            if period_index(d + dt.timedelta(days=1), period) == period_index(d, period)
        ]
        if not twice and not ends:
            holdout = period_index(as_of, period) - period_index(calibration_end, period)
            return Discreteness(
                period, f"one opportunity a {period}: no customer bought on two days of one {period}", holdout
            )
        said.append(
            f"{period}: {twice:,} times a customer bought on two days of one {period}"
            + (f", {ends[0]} is not a {period}'s last day" if ends else "")
        )
    return Discreteness(None, "not discrete opportunities (" + "; ".join(said) + ")")


def in_opportunities(summary: pd.DataFrame, tx: ibis.Table, as_of: dt.date, period: str) -> pd.DataFrame:
    """``summary`` (``features.customer_summary``'s, or the calibration table) with frequency, recency and T
    counted in opportunities of ``period`` up to ``as_of`` (``per_period``); refused if a customer differs."""
    counted = per_period(tx, as_of, period).summary.set_index("customer_id")[["frequency", "recency", "T"]]
    missing = summary.customer_id[~summary.customer_id.isin(counted.index)]
    if len(missing):
        raise ModelInputError(
            f"{len(missing):,} customers (e.g. {missing.iloc[0]}) have no complete {period} of opportunity up to "
            f"{as_of}: the data are not discrete {period}s here; choose another clv_model."
        )
    return summary.assign(**{c: counted.loc[summary.customer_id, c].to_numpy() for c in counted.columns})


def on_weeks(curve: pd.DataFrame, weeks: pd.Series) -> np.ndarray:
    """``tracking``'s predicted curve read at each of ``weeks`` (dates): the value at the last period
    ended by then, 0 before the first."""
    ends = pd.to_datetime(pd.Series(curve.period_end)).to_numpy()
    where = np.searchsorted(ends, pd.to_datetime(weeks).to_numpy(), side="right") - 1
    return np.where(where >= 0, curve.predicted.to_numpy()[np.clip(where, 0, None)], 0.0)
