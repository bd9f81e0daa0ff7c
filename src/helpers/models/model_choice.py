"""Choosing the purchase model: every candidate fitted on the calibration period, compared by
likelihood, AIC/BIC and holdout error (overall and by past frequency), one picked by a stated rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import ModelInputError
from helpers.models.bg_bb import DISCRETE_RULE, discrete_problem
from helpers.models.clv_intervals import covariance_problem
from helpers.models.holdout import holdout_by_frequency, holdout_error, tracks
from helpers.models.likelihood import Fit
from helpers.models.purchase_models import MODELS

AUTO = "auto"
CHOICES = (AUTO, *MODELS)
RULE = (
    "auto picks, among the converged models whose parameters all have a finite covariance (so CLV gets its "
    "intervals; when none has, among the converged ones), the one whose holdout predictions by past frequency are "
    "closest to what happened "
    "(customer-weighted mean absolute gap between predicted and actual mean repeat purchases, over the actual "
    "total); BIC breaks ties within 0.5 points"
)
DISCRETE_ONLY = ("bg_bb",)
CANDIDATE_RULE = (
    f"BG/BB is a candidate only on a summary of discrete opportunities ({DISCRETE_RULE}) with a holdout of a "
    "whole number of them, or beside one in weeks when given the same customers counted in opportunities; "
    "the continuous-time models always are"
)


@dataclass
class Comparison:
    """Candidates fitted on the calibration period: ``table`` (one row each), ``by_frequency`` (model,
    frequency, customers, actual, predicted), the fits, the chosen model and why."""

    table: pd.DataFrame
    by_frequency: pd.DataFrame
    fits: dict[str, Fit]
    chosen: str
    why: str


def candidates_for(summary: pd.DataFrame, holdout_weeks: float) -> tuple[str, ...]:
    """The models to compare on ``summary`` (see ``CANDIDATE_RULE``)."""
    discrete = not discrete_problem(summary) and float(holdout_weeks).is_integer()
    return tuple(name for name in MODELS if discrete or name not in DISCRETE_ONLY)


def compare_models(
    holdout: pd.DataFrame,
    holdout_weeks: float,
    requested: str = AUTO,
    candidates: Sequence[str] | None = None,
    opportunity_holdout: pd.DataFrame | None = None,
    holdout_opportunities: int = 0,
) -> Comparison:
    """Fit every candidate (by default ``candidates_for``, and the ``requested`` model) on ``holdout``'s
    calibration columns, score it on its holdout (``holdout_weeks`` long, in the summary's time unit),
    and choose ``requested`` (a model's name, or ``auto``: see ``RULE``). ``opportunity_holdout``: the
    same customers counted in opportunities (``opportunities.in_opportunities``, with holdout_purchases),
    when the data are discrete (``opportunities.ELIGIBLE_RULE``): BG/BB is then a candidate, fitted and
    scored on it over the ``holdout_opportunities`` whole opportunities of the holdout."""
    if requested not in CHOICES:
        raise ModelInputError(f"clv_model {requested!r} is not one of {', '.join(CHOICES)}.")
    given = opportunity_holdout is not None
    candidates = tuple(candidates_for(holdout, holdout_weeks) if candidates is None else candidates)
    candidates += tuple(n for n in DISCRETE_ONLY if given and n not in candidates)
    if requested != AUTO and requested not in candidates:
        candidates = (*candidates, requested)
    rows, frames, fits = [], [], {}
    for name in candidates:
        table, length = (
            (opportunity_holdout, holdout_opportunities)
            if given and MODELS[name].discrete
            else (holdout, holdout_weeks)
        )
        fit = MODELS[name].fit(table)
        fits[name] = fit
        by_frequency = holdout_by_frequency(table, fit, length)
        frames.append(by_frequency.assign(model=name))
        predicted, actual, error = holdout_error(table, fit, length)
        gap = np.sum(by_frequency.customers * (by_frequency.predicted - by_frequency.actual).abs())
        rows.append(
            {
                "model": name,
                "label": MODELS[name].label,
                "log_likelihood": fit.log_likelihood,
                "parameters": len(fit.params),
                "aic": fit.aic,
                "bic": fit.bic,
                "predicted": predicted,
                "actual": actual,
                "holdout_error": error,
                "error_by_frequency": float(gap / max(actual, 1.0)),
                "tracks": tracks(error),
                "converged": fit.converged,
                "no_intervals_because": covariance_problem(fit),
            }
        )
    table = pd.DataFrame(rows)
    chosen, why = _choose(table, requested)
    return Comparison(table, pd.concat(frames, ignore_index=True), fits, chosen, why)


def _choose(table: pd.DataFrame, requested: str) -> tuple[str, str]:
    if requested != AUTO:
        return requested, f"{requested} as requested (clv_model)"
    converged = table[table.converged]
    if converged.empty:
        raise ModelInputError("No purchase model converged on the calibration period; set clv_model to a model.")
    identified = converged[converged.no_intervals_because == ""]
    usable = converged if identified.empty else identified
    best = usable.error_by_frequency.min()
    close = usable[usable.error_by_frequency <= best + 0.005].sort_values(["bic", "model"])
    chosen = str(close.model.iloc[0])
    set_aside = [
        f"{row.model} set aside, no intervals ({row.no_intervals_because})"
        for row in converged.itertuples()
        if row.no_intervals_because and not identified.empty
    ]
    return chosen, "; ".join([f"{chosen}: {RULE}", *set_aside])
