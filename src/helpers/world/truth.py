"""The truth a synthetic world keeps: the names of its per-channel columns (their one home) and the
scores of decisions against it, used only in notebook sections titled "Check against the truth",
never by the analysis itself."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

EFFECT_COLUMN = "uplift_{channel}_{offer}"  # true change in the chance of buying in the response window (0-1)
NURTURE_COLUMN = "nurture_{channel}"  # prospects: true extra chance of a first purchase from a sequence (0-1)
UNDEFINED = "undefined"  # a rank correlation with a constant side, as tables show it
SPELLED_OUT = re.compile("[\"']({})[{{\"']".format("|".join(t.split("{")[0] for t in (EFFECT_COLUMN, NURTURE_COLUMN))))
"""A literal that builds or matches these names ("uplift_{...}", "nurture_"): code that spells them itself."""


def effect_column(channel: str, offer: str) -> str:
    """The truth column holding each customer's true effect of ``offer`` sent on ``channel``."""
    return EFFECT_COLUMN.format(channel=channel, offer=offer)


def effect_columns(spec: dict) -> list[str]:
    """Every effect column of a world made from ``spec``, channel by channel, offers in the spec's order."""
    return [effect_column(channel, offer) for channel in spec["channels"] for offer in spec["offers"]]


def nurture_column(channel: str) -> str:
    """The truth column holding each prospect's true extra chance of a first purchase from a sequence
    on ``channel``."""
    return NURTURE_COLUMN.format(channel=channel)


def compare_parameters(
    estimated: dict[str, float], std_errors: dict[str, float], true: dict[str, float]
) -> pd.DataFrame:
    """Estimated against true parameters: columns parameter, true, estimate, std_error, z (how many
    standard errors apart)."""
    rows = [
        {
            "parameter": k,
            "true": float(true[k]),
            "estimate": v,
            "std_error": std_errors[k],
            "z": (v - float(true[k])) / std_errors[k] if std_errors[k] else np.nan,
        }
        for k, v in estimated.items()
    ]
    return pd.DataFrame(rows).round({"estimate": 4, "std_error": 4, "z": 2})


def decile_calibration(predicted: ArrayLike, actual: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Customers cut into ``bins`` equal groups by prediction: mean predicted and mean true value
    in each (a calibrated model has the two close, and both rising)."""
    df = pd.DataFrame({"predicted": np.asarray(predicted, dtype=float), "actual": np.asarray(actual, dtype=float)})
    df["decile"] = pd.qcut(df.predicted.rank(method="first"), bins, labels=range(1, bins + 1)).astype(int)
    out = df.groupby("decile").agg(
        customers=("actual", "size"), mean_predicted=("predicted", "mean"), mean_true=("actual", "mean")
    )
    return out.round(4).reset_index()


def rank_correlation(predicted: ArrayLike, actual: ArrayLike) -> float:
    """Spearman rank correlation between predictions and the truth; NaN, without a warning, where it is
    undefined: either side constant (a model with no signal ranks no one), fewer than two rows or a NaN."""
    x, y = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    if len(x) < 2 or not (np.ptp(x) > 0 and np.ptp(y) > 0):  # a NaN fails the comparison too
        return float("nan")
    from scipy.stats import spearmanr  # scipy.stats takes about a second to import: not at a notebook's start

    return float(spearmanr(x, y).statistic)


def shown_correlation(value: float, digits: int = 3) -> float | str:
    """A rank correlation as a table shows it: rounded to ``digits``, or ``UNDEFINED`` for NaN."""
    return UNDEFINED if np.isnan(value) else round(value, digits)


def by_group(groups: pd.Series, truth: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Mean of truth columns per group (``groups`` indexed like ``truth``); ``columns`` maps truth
    column -> label."""
    table = truth[list(columns)].groupby(groups.set_axis(truth.index), observed=False).mean().rename(columns=columns)
    table.index.name = groups.name
    return table.round(3).reset_index()


def effect_ranking(predicted: pd.DataFrame, truth: pd.DataFrame, arm_table: pd.DataFrame) -> pd.DataFrame:
    """Per arm of ``arm_table`` (arm, channel, offer): the rank correlation of the predicted uplift
    (``predicted``, one column per arm) with the true effect in ``truth`` (same rows), 3 decimals, or
    ``UNDEFINED`` where a side is constant."""
    return pd.DataFrame(
        [
            {
                "arm": row.arm,
                "rank correlation with the true effect": shown_correlation(
                    rank_correlation(predicted[row.arm], truth[effect_column(row.channel, row.offer)])
                ),
            }
            for row in arm_table.itertuples()
        ]
    )


def true_nurture_values(
    truth: pd.DataFrame, prospects: pd.DataFrame, arms: pd.DataFrame, value_eur: float
) -> pd.DataFrame:
    """Prospects x nurturing arms (arm, channel): the true extra first purchases of each arm's sequence
    times ``value_eur`` (EUR of margin per new customer), indexed by customer_id."""
    hidden = truth.set_index("customer_id").loc[prospects.customer_id]
    return pd.DataFrame(
        {
            arm: hidden[nurture_column(channel)].to_numpy() * value_eur
            for arm, channel in zip(arms.arm, arms.channel, strict=True)
        },
        index=prospects.customer_id,
    )


def survivors_churn(truth: pd.DataFrame, periods: int, by: str = "acquisition_source") -> pd.DataFrame:
    """A subscription world's sorting effect: per group and renewal t = 0..``periods``, the mean true
    churn probability of the subscribers still active after t renewals (from every subscriber's whole
    lifetime, beyond the history's end too). Each subscriber's own probability never changes."""
    rows = [
        {by: name, "period": t, "mean_churn": float(group.churn_probability[group.periods_paid > t].mean())}
        for name, group in truth.groupby(by, sort=True)
        for t in range(periods + 1)
    ]
    return pd.DataFrame(rows)


def curve_inside(fitted: pd.DataFrame, true: pd.DataFrame) -> pd.DataFrame:
    """Per cohort, the renewals (t >= 1) where the true survival lies inside the fitted interval:
    ``fitted`` from ``models.retention.curve`` (cohort 'year / source', or 'year': the year's mix),
    ``true`` the world's truth('retention'); columns cohort, renewals, inside (share), whole (every renewal inside)."""
    named = np.where(true.acquisition_source == "all", true.cohort, true.cohort + " / " + true.acquisition_source)
    keyed = true.assign(cohort=named)[["cohort", "period", "survival"]]
    both = fitted[fitted.period > 0].merge(keyed, on=["cohort", "period"], suffixes=("", "_true"))
    both["inside"] = both.survival_low.le(both.survival_true) & both.survival_true.le(both.survival_high)
    table = both.groupby("cohort").inside.agg(renewals="size", inside="mean").reset_index()
    return table.assign(whole=table.inside.eq(1.0))
