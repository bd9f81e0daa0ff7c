"""Calibration and holdout: where to cut the history, and how well a purchase model fitted before
the cut predicts the repeat purchases after it (overall, by past frequency, week by week)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from ibis import _

from helpers.errors import ModelInputError
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import model_of

TRACKING_TOLERANCE = 0.20  # a holdout error beyond +/-20%: the model does not track this business
MIN_REPEATS = 100  # repeat purchases needed on each side of the cut
MAX_HOLDOUT_DAYS = 365  # a year holds every season
NOT_TRACKING = "this model does not track this business"


@dataclass(frozen=True)
class CalibrationPeriod:
    """The cut between calibration and holdout, with the figures behind it."""

    end: dt.date
    holdout_weeks: float
    calibration_repeats: int
    holdout_repeats: int
    reason: str


def calibration_period(tx: ibis.Table, as_of: dt.date) -> CalibrationPeriod:
    """The calibration end chosen from the data: a holdout of a third of the span, at most a year,
    and at least twice the median gap between a customer's purchase days (so a typical repeat buyer
    can buy again in it); refused when the holdout would take more than half the history, or either
    side holds fewer than ``MIN_REPEATS`` repeat purchases."""
    day = tx.order_date.cast("date")
    days = tx.filter(day <= ibis.literal(as_of, type="date")).select("customer_id", day=day).distinct()
    w = ibis.window(group_by="customer_id", order_by="day")
    ranked = days.mutate(first=_.day.min().over(group_by="customer_id"), prev=_.day.lag().over(w))
    facts = ranked.aggregate(
        start=_.day.min(), gap=_.day.delta(_.prev, unit="day").median(), repeats=(_.day > _.first).sum()
    ).to_pandas()
    start, gap = facts.start.iloc[0], facts.gap.iloc[0]
    if pd.isna(start) or pd.isna(gap):
        raise ModelInputError("No customer bought twice: no calibration period can be chosen. Use a longer history.")
    span = (as_of - pd.Timestamp(start).date()).days
    holdout = int(max(min(MAX_HOLDOUT_DAYS, span // 3), np.ceil(2 * gap)))
    if holdout > span / 2:
        raise ModelInputError(
            f"The history spans {span} days and customers buy again every {gap:.0f} days (median): a holdout "
            f"of two gaps ({holdout} days) would take more than half of it. Use a longer history, or set "
            "calibration_end yourself."
        )
    end = as_of - dt.timedelta(days=holdout)
    return _checked(ranked, end, as_of, holdout, span, float(gap))


def _checked(
    ranked: ibis.Table, end: dt.date, as_of: dt.date, holdout: int, span: int, gap: float
) -> CalibrationPeriod:
    cut = ibis.literal(end, type="date")
    counts = ranked.aggregate(
        before=((_.day > _.first) & (_.day <= cut)).sum(), after=((_.day > cut) & (_.first <= cut)).sum()
    ).to_pandas()
    before, after = int(counts.before.iloc[0]), int(counts.after.iloc[0])
    if min(before, after) < MIN_REPEATS:
        raise ModelInputError(
            f"A cut on {end} leaves {before:,} repeat purchases before it and {after:,} after it (at least "
            f"{MIN_REPEATS} each are needed to check a model). Use a longer history, or set calibration_end yourself."
        )
    reason = (
        f"history of {span} days, median gap between purchase days {gap:.0f} days: holdout of {holdout} days "
        f"(a third of the history, at most a year, at least two gaps), {before:,} repeat purchases before "
        f"the cut and {after:,} after"
    )
    return CalibrationPeriod(end, (as_of - end).days / 7, before, after, reason)


def holdout_error(holdout: pd.DataFrame, fit: Fit, holdout_weeks: float) -> tuple[float, float, float]:
    """(predicted, actual, relative error) of the total repeat purchases in the holdout; ``holdout``:
    ``features.calibration_holdout``'s table, ``fit`` on its calibration columns."""
    model = model_of(fit)
    predicted = float(
        np.sum(model.expected_purchases(fit.values, holdout.frequency, holdout.recency, holdout["T"], holdout_weeks))
    )
    actual = float(holdout.holdout_purchases.sum())
    return predicted, actual, (predicted - actual) / max(actual, 1.0)


def tracks(error: float | None) -> bool:
    """Whether a holdout error lies within +/- ``TRACKING_TOLERANCE``."""
    return error is not None and abs(error) <= TRACKING_TOLERANCE


def holdout_by_frequency(holdout: pd.DataFrame, fit: Fit, holdout_weeks: float, top: int = 7) -> pd.DataFrame:
    """Actual against predicted mean repeat purchases in the holdout, by calibration frequency
    (the last row groups ``top`` or more). ``holdout``: calibration summary + holdout_purchases."""
    model = model_of(fit)
    predicted = model.expected_purchases(fit.values, holdout.frequency, holdout.recency, holdout["T"], holdout_weeks)
    table = pd.DataFrame(
        {"frequency": np.minimum(holdout.frequency, top), "actual": holdout.holdout_purchases, "predicted": predicted}
    )
    out = (
        table.groupby("frequency")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
    )
    out["frequency"] = out.frequency.astype(int).astype(str).where(out.frequency < top, f"{top}+")
    return out


def tracking(
    first_days: pd.Series, repeat_days: pd.Series, fit: Fit, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Cumulative repeat purchases of a cohort week by week, actual against predicted.

    ``first_days``: each customer's first purchase date; ``repeat_days``: dates of their repeat
    purchase days (one per customer and day). Predicted = sum over customers of E[X(t)], t the
    weeks since their first purchase. Columns: week (end date), actual, predicted.
    """
    weeks = pd.date_range(start, end, freq="7D")[1:]
    births = (pd.to_datetime(first_days) - start).dt.days.value_counts()
    offsets = np.arange(0, (end - start).days + 8)
    curve = model_of(fit).expected_new(fit.values, offsets / 7.0)  # E[X(t)] by day offset
    horizon = np.array([(w - start).days for w in weeks])
    born, count = births.index.to_numpy(), births.to_numpy()
    predicted = [float(np.sum(count * curve[np.clip(h - born, 0, None)] * (born <= h))) for h in horizon]
    repeat = np.sort((pd.to_datetime(repeat_days) - start).dt.days.to_numpy())
    actual = np.searchsorted(repeat, horizon, side="right")
    return pd.DataFrame({"week": weeks, "actual": actual, "predicted": np.round(predicted, 1)})
