"""Scoring decisions against the truth a synthetic world keeps: used only in notebook sections
titled "Check against the truth", never by the analysis itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr


def compare_parameters(estimated: dict[str, float], std_errors: dict[str, float], true: dict[str, float]) -> pd.DataFrame:
    """Estimated against true parameters: columns parameter, true, estimate, std_error, z (how many
    standard errors apart)."""
    rows = [{"parameter": k, "true": float(true[k]), "estimate": v, "std_error": std_errors[k],
             "z": (v - float(true[k])) / std_errors[k] if std_errors[k] else np.nan} for k, v in estimated.items()]
    return pd.DataFrame(rows).round({"estimate": 4, "std_error": 4, "z": 2})


def decile_calibration(predicted, actual, bins: int = 10) -> pd.DataFrame:
    """Customers cut into ``bins`` equal groups by prediction: mean predicted and mean true value
    in each (a calibrated model has the two close, and both rising)."""
    df = pd.DataFrame({"predicted": np.asarray(predicted, dtype=float), "actual": np.asarray(actual, dtype=float)})
    df["decile"] = pd.qcut(df.predicted.rank(method="first"), bins, labels=range(1, bins + 1)).astype(int)
    out = df.groupby("decile").agg(customers=("actual", "size"), mean_predicted=("predicted", "mean"),
                                   mean_true=("actual", "mean"))
    return out.round(4).reset_index()


def rank_correlation(predicted, actual) -> float:
    """Spearman rank correlation between predictions and the truth."""
    return float(spearmanr(np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)).statistic)


def by_group(groups: pd.Series, truth: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Mean of truth columns per group (``groups`` indexed like ``truth``); ``columns`` maps truth
    column -> label."""
    table = truth[list(columns)].groupby(groups.set_axis(truth.index), observed=False).mean().rename(columns=columns)
    table.index.name = groups.name
    return table.round(3).reset_index()
