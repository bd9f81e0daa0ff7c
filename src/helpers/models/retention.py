"""Retention cohort by cohort, for contract businesses (telecoms, press, insurance, energy, gyms, boxes).

    lives = lifetimes(subscriptions, as_of)            # renewals made, left or still active (censored)
    fits = fit_cohorts(lives, "cohort")                # the sBG per cohort, with its covariance
    curve(fits["2023"], periods=36)                    # survival and retention, with intervals
    residual_value(fits["2023"], renewals, margin, 0.008)   # what each subscriber still brings

A subscription pays one period at its start and one at each renewal, on its anniversary (every
``period_months`` months, the day clipped to the month's end), until it ends. A subscription still
active at the analysis date is right-censored: it has survived the renewals made so far, no more is
known. Intervals come from the fitted covariance of (log alpha, log beta) by the delta method, on the
logit scale for shares and the log scale for lifetimes (Fader & Hardie 2007 and 2010; ``models.sbg``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import ModelInputError
from helpers.models import sbg
from helpers.models.likelihood import Fit

LEVEL = 0.90  # the intervals' coverage


def add_months(dates: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """``dates`` (datetime64[D]) plus whole ``months``, the day clipped to the target month's end
    (31 January + 1 month = 28 or 29 February)."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    month = dates.astype("datetime64[M]")
    day = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months).astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day, length - 1).astype("timedelta64[D]")


def lifetimes(subscriptions: pd.DataFrame, as_of: dt.date, period_months: int = 1) -> pd.DataFrame:
    """The subscriptions started by ``as_of``, with ``renewals`` (renewals made: a subscription that
    left was lost at renewal renewals + 1, one ending before its first renewal at 1) and ``churned``
    (ended by ``as_of``; an end after it is still active then). Columns start_date and end_date."""
    subs = subscriptions[subscriptions["start_date"] <= pd.Timestamp(as_of)].copy()
    start = subs["start_date"].to_numpy("datetime64[D]")
    end = subs["end_date"].to_numpy("datetime64[D]")
    day = np.datetime64(as_of, "D")
    churned = ~np.isnat(end) & (end <= day)
    bound = np.where(churned, end, day)
    months = (bound.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64)
    k = months // period_months
    anniversary = add_months(start, k * period_months)
    k -= np.where(churned, anniversary >= bound, anniversary > bound)  # the last anniversary before the end
    subs["renewals"] = np.maximum(k, 0)
    subs["churned"] = churned
    return subs


@dataclass
class CohortFit:
    """The sBG fitted on one cohort: ``lost[t-1]`` subscriptions lost at renewal t, ``censored[t]``
    still active after t renewals at the analysis date, and the covariance of (log alpha, log beta)."""

    cohort: str
    fit: Fit
    covariance: np.ndarray
    lost: np.ndarray
    censored: np.ndarray

    @property
    def subscribers(self) -> int:
        return int(self.lost.sum() + self.censored.sum())

    def band(self, g: Callable[[tuple[float, float]], np.ndarray], level: float = LEVEL) -> np.ndarray:
        """``g(params)`` and its interval by the delta method on (log alpha, log beta): rows value, low,
        high (``g`` should be on an unbounded scale: logit of a share, log of a lifetime)."""
        from scipy.stats import norm

        theta = np.log(self.fit.values)
        value = np.asarray(g(tuple(np.exp(theta))), dtype=float)
        step = 1e-5
        jac = np.stack(
            [
                (np.asarray(g(tuple(np.exp(theta + e)))) - np.asarray(g(tuple(np.exp(theta - e))))) / (2 * step)
                for e in np.eye(2) * step
            ],
            axis=-1,
        )
        sd = np.sqrt(np.einsum("...i,ij,...j->...", jac, self.covariance, jac))
        z = norm.ppf(0.5 + level / 2)
        return np.stack([value, value - z * sd, value + z * sd])


def renewal_counts(lives: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Subscriptions lost at renewals 1..k and still active after 0..k-1 renewals (k: one more than
    the most renewals made)."""
    renewals, churned = lives["renewals"].to_numpy(), lives["churned"].to_numpy()
    k = int(renewals.max()) + 1
    return (
        np.bincount(renewals[churned], minlength=k).astype(float),
        np.bincount(renewals[~churned], minlength=k).astype(float),
    )


def fit_cohorts(lives: pd.DataFrame, by: str | list[str]) -> dict[str, CohortFit]:
    """The sBG fitted on each cohort of ``lives`` (grouped by the column(s) ``by``; the key joins
    their values with ' / '). A cohort too small or too recent to fit is refused, naming it."""
    fits = {}
    for key, group in lives.groupby(by, sort=True, observed=True):
        name = " / ".join(map(str, key if isinstance(key, tuple) else (key,)))
        lost, censored = renewal_counts(group)
        try:
            fitted = sbg.fit_censored(lost, censored)
        except ModelInputError as exc:
            raise ModelInputError(
                f"cohort {name} ({len(group):,} subscriptions): {exc} Group cohorts more coarsely."
            ) from exc
        fits[name] = CohortFit(name, fitted, sbg.covariance(fitted, lost, censored), lost, censored)
    return fits


def summary(fits: dict[str, CohortFit], level: float = LEVEL) -> pd.DataFrame:
    """One row per cohort: subscriptions, lost, still active, renewals followed, alpha and beta with
    standard errors, the churn at the first renewal alpha/(alpha+beta) with its interval."""
    from scipy.special import expit, logit

    rows = []
    for cf in fits.values():
        first = expit(cf.band(lambda p: logit(p[0] / (p[0] + p[1])), level))
        rows.append(
            {
                "cohort": cf.cohort,
                "subscriptions": cf.subscribers,
                "lost": int(cf.lost.sum()),
                "active": int(cf.censored.sum()),
                "renewals_followed": len(cf.lost) - 1,
                **{k: v for p in sbg.PARAMS for k, v in ((p, cf.fit.params[p]), (f"{p}_se", cf.fit.std_errors[p]))},
                "first_churn": first[0],
                "first_churn_low": first[1],
                "first_churn_high": first[2],
            }
        )
    return pd.DataFrame(rows)


def observed_survival(lost: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Share still active after 0..k renewals, read from the data (Kaplan-Meier in discrete time: a
    subscription counts at a renewal while it is followed that far)."""
    at_risk = np.cumsum((lost + np.append(censored[1:], 0))[::-1])[::-1]
    hazard = np.divide(lost, at_risk, out=np.full(len(lost), np.nan), where=at_risk > 0)
    return np.concatenate([[1.0], np.cumprod(1 - hazard)])


def curve(cf: CohortFit, periods: int, level: float = LEVEL) -> pd.DataFrame:
    """Fitted survival (share still active after t renewals) and retention (share of those active
    at t-1 who renew at t) for t = 0..``periods``, with intervals, beside the observed survival."""
    from scipy.special import expit, logit

    t = np.arange(periods + 1)
    surv = expit(cf.band(lambda p: logit(np.clip(sbg.survival(p, t), 1e-300, 1 - 1e-16)), level))
    surv[:, 0] = 1.0  # all are active before the first renewal
    ret = expit(cf.band(lambda p: logit(sbg.retention(p, np.maximum(t, 1))), level))
    observed = np.full(periods + 1, np.nan)
    seen = observed_survival(cf.lost, cf.censored)[: periods + 1]
    observed[: len(seen)] = seen
    return pd.DataFrame(
        {
            "cohort": cf.cohort,
            "period": t,
            "survival": surv[0],
            "survival_low": surv[1],
            "survival_high": surv[2],
            "retention": np.where(t > 0, ret[0], np.nan),
            "retention_low": np.where(t > 0, ret[1], np.nan),
            "retention_high": np.where(t > 0, ret[2], np.nan),
            "observed_survival": observed,
        }
    )


def period_discount_rate(annual_rate: float, period_months: int = 1) -> float:
    """The discount rate per period equivalent to ``annual_rate`` a year."""
    return (1 + annual_rate) ** (period_months / 12) - 1


def residual_value(
    cf: CohortFit, renewals: np.ndarray, margin: np.ndarray, discount_rate: float, level: float = LEVEL
) -> pd.DataFrame:
    """For active subscriptions of the cohort that made ``renewals`` renewals and bring ``margin`` a
    period: the discounted expected residual lifetime (periods still to be paid, Fader & Hardie 2010)
    and the residual value (DERL x margin), each with its interval; ``discount_rate`` per period."""
    renewals, margin = np.asarray(renewals), np.asarray(margin, dtype=float)
    levels = np.unique(renewals)
    derl = np.exp(cf.band(lambda p: np.log(sbg.residual_lifetime(p, levels, discount_rate)), level))
    at = np.searchsorted(levels, renewals)
    return pd.DataFrame(
        {
            "renewals": renewals,
            "derl": derl[0][at],
            "derl_low": derl[1][at],
            "derl_high": derl[2][at],
            "value": derl[0][at] * margin,
            "value_low": derl[1][at] * margin,
            "value_high": derl[2][at] * margin,
        }
    )


def base_value(
    cf: CohortFit, renewals: np.ndarray, margin: np.ndarray, discount_rate: float, level: float = LEVEL
) -> np.ndarray:
    """The cohort's active subscriptions' total residual value (value, low, high), its interval from
    the parameters' uncertainty (shared by every subscription of the cohort, so not averaged away)."""
    renewals, margin = np.asarray(renewals), np.asarray(margin, dtype=float)
    return np.exp(cf.band(lambda p: np.log(np.sum(sbg.residual_lifetime(p, renewals, discount_rate) * margin)), level))


def saved_value(params: Sequence[float], renewals: np.ndarray, discount_rate: float) -> np.ndarray:
    """Periods a subscription that made ``renewals`` renewals still pays if an offer makes it renew
    once more (this renewal's payment, then the residual lifetime of one more renewal, discounted a
    period): DERL(n) / retention(n+1). The ceiling of what keeping it is worth, in periods of margin,
    assuming the saved behave like those who renewed on their own."""
    renewals = np.asarray(renewals)
    return sbg.residual_lifetime(params, renewals, discount_rate) / sbg.retention(params, renewals + 1)


def cohort_of(start: pd.Series, by: str = "year") -> pd.Series:
    """A subscription's cohort from its start date: '2024' by year, '2024Q1' by quarter."""
    if by == "year":
        return start.dt.year.astype(str)
    if by == "quarter":
        return start.dt.to_period("Q").astype(str)
    raise ModelInputError(f"cohort_by must be 'year' or 'quarter', got {by!r}.")


def renewal_outlook(fits: dict[str, CohortFit], lives: pd.DataFrame, discount_rate: float) -> pd.DataFrame:
    """Per subscription still active (``lives`` with columns cohort and margin, EUR a period): its
    chance of leaving at its next renewal, its residual lifetime (DERL, periods) and value (DERL x
    margin), and what keeping it at that renewal is worth (``saved_value`` x margin)."""
    parts = []
    for name, cf in fits.items():
        active = lives[(lives["cohort"] == name) & ~lives["churned"]]
        renewals, margin, params = active["renewals"].to_numpy(), active["margin"].to_numpy(), cf.fit.values
        derl = sbg.residual_lifetime(params, renewals, discount_rate)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": active["customer_id"].to_numpy(),
                    "cohort": name,
                    "renewals": renewals,
                    "leave_next": 1 - sbg.retention(params, renewals + 1),
                    "derl": derl,
                    "value_eur": derl * margin,
                    "kept_value_eur": saved_value(params, renewals, discount_rate) * margin,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def value_by_cohort(
    fits: dict[str, CohortFit], lives: pd.DataFrame, discount_rate: float, level: float = LEVEL
) -> pd.DataFrame:
    """Per cohort and in all ('all'): active subscriptions and their residual value (EUR) with its
    interval; cohorts' estimates are independent, so the total's variance is the sum of theirs."""
    from scipy.stats import norm

    rows = []
    for name, cf in fits.items():
        active = lives[(lives["cohort"] == name) & ~lives["churned"]]
        value, low, high = base_value(cf, active["renewals"], active["margin"], discount_rate, level)
        rows.append({"cohort": name, "active": len(active), "value_eur": value, "low_eur": low, "high_eur": high})
    table = pd.DataFrame(rows)
    z = norm.ppf(0.5 + level / 2)
    sd = table.value_eur * (np.log(table.high_eur) - np.log(table.low_eur)) / (2 * z)  # on the euro scale
    total = table.value_eur.sum()
    spread = z * float(np.sqrt(np.sum(sd**2)))
    all_row = {"cohort": "all", "active": table.active.sum(), "value_eur": total}
    return pd.concat([table, pd.DataFrame([{**all_row, "low_eur": total - spread, "high_eur": total + spread}])])


def last_day(subscriptions: pd.DataFrame) -> dt.date:
    """The latest start or end date of the subscriptions: the analysis date of data with no other."""
    return pd.concat([subscriptions["start_date"], subscriptions["end_date"]]).max().date()
