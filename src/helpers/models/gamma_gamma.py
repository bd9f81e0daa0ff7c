"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves";
Colombo & Jiang 1999): each of a customer's transactions is Gamma(p, nu), nu ~ Gamma(q, gamma).

Two bases, ``basis``:
- "repeat_occasions" (default, as the paper and every BTYD library): a customer's transactions are
  their repeat purchase occasions, the days after the first one, same-day orders combined; n is
  the frequency x of the purchase models and the mean is ``repeat_monetary`` (EUR per occasion).
  Expected purchase occasions times the expected occasion value is then the customer's value.
- "orders": every order, the first included (n_orders, monetary): the older definition, kept as an
  option; on the CDNOW log it moves p, q, gamma from the published 6.25 / 3.74 / 15.44 to 8.16 /
  4.04 / 12.84.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import ibis
import numpy as np
import pandas as pd
from ibis import _
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.features import money_sum
from helpers.models.likelihood import Fit, maximise

PARAMS = ("p", "q", "gamma")
BASES = {"repeat_occasions": ("frequency", "repeat_monetary"), "orders": ("n_orders", "monetary")}


def log_likelihood(params: Sequence[float], n: ArrayLike, mean: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood of the mean transaction value ``mean`` over ``n`` transactions,
    at ``params`` = (p, q, gamma)."""
    from scipy.special import gammaln

    p, q, gamma = params
    n, mean = np.asarray(n, dtype=float), np.asarray(mean, dtype=float)
    return (
        gammaln(p * n + q)
        - gammaln(p * n)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * n - 1) * np.log(mean)
        + p * n * np.log(n)
        - (p * n + q) * np.log(gamma + n * mean)
    )


def repeat_spend(tx: ibis.Table, as_of: dt.date) -> ibis.Table:
    """Per customer with an order on or before ``as_of``: repeat_revenue (EUR, net, of the order days
    after the first one) and repeat_occasions (those days)."""
    day = tx.order_date.cast("date")
    orders = tx.filter(day <= ibis.literal(as_of, type="date")).mutate(day=day)
    later = orders.mutate(first=_.day.min().over(group_by="customer_id")).filter(_.day > _.first)
    # summed as DECIMAL from the order lines: exact, so the same on every engine and thread count
    return later.group_by("customer_id").aggregate(repeat_revenue=money_sum(_.amount), repeat_occasions=_.day.nunique())


def with_repeat_spend(summary: pd.DataFrame, tx: ibis.Table, as_of: dt.date) -> pd.DataFrame:
    """``summary`` (``features.customer_summary`` at ``as_of``) with repeat_monetary: the mean value of
    each customer's repeat purchase occasions (EUR; NaN without one)."""
    spend = repeat_spend(tx, as_of).to_pandas()
    table = summary.merge(spend, on="customer_id", how="left", validate="one_to_one")
    occasions = table.pop("repeat_occasions").fillna(0).to_numpy()
    if not np.array_equal(occasions, table.frequency.to_numpy()):
        raise ModelInputError("repeat purchase occasions disagree with the summary's frequency: same as_of?")
    table["repeat_monetary"] = table.pop("repeat_revenue") / table.frequency.where(table.frequency > 0)
    return table


def _inputs(summary: pd.DataFrame, basis: str) -> tuple[np.ndarray, np.ndarray]:
    if basis not in BASES:
        raise ModelInputError(f"Gamma-Gamma basis {basis!r} is not one of {', '.join(BASES)}.")
    n_col, mean_col = BASES[basis]
    if mean_col not in summary:
        raise ModelInputError(
            f"Gamma-Gamma on {basis} needs the column {mean_col}: add it with gamma_gamma.with_repeat_spend."
        )
    return summary[n_col].to_numpy(dtype=float), summary[mean_col].to_numpy(dtype=float)


def in_sample(summary: pd.DataFrame, basis: str = "repeat_occasions") -> np.ndarray:
    """Which customers Gamma-Gamma is fitted on: repeat buyers (frequency > 0) whose mean transaction
    value is positive (a customer with only returns has none)."""
    _, mean = _inputs(summary, basis)
    return (summary.frequency.to_numpy() > 0) & np.isfinite(mean) & (np.nan_to_num(mean) > 0)


def fit(summary: pd.DataFrame, basis: str = "repeat_occasions") -> Fit:
    """Maximum-likelihood Gamma-Gamma on the repeat buyers of ``summary``, on ``basis``."""
    n, mean = _inputs(summary, basis)
    keep = in_sample(summary, basis)
    order = np.lexsort((mean[keep], n[keep]))  # row order never changes the fit
    n, mean = n[keep][order], mean[keep][order]
    if len(n) < 10:
        raise ModelInputError(
            f"Gamma-Gamma needs repeat buyers with a positive mean order value; this data has "
            f"{len(n)}. Use a longer history."
        )
    negll, gradient = _mean_negll(n, mean)
    start = np.log([2.0, 3.0, 2.0 * np.mean(mean)])
    return maximise(negll, start, PARAMS, len(n), len(n), "gamma_gamma", basis, gradient)


def _mean_negll(n: np.ndarray, mean: np.ndarray) -> tuple[Callable, Callable]:
    """The mean negative log-likelihood over log parameters and its gradient, on sufficient
    statistics: the gammaln terms over distinct n (with their counts), the constants once; per customer
    one log, L = log(gamma + s) with s = n mean the repeat revenue (kept for the gradient at the same
    point). Written so no two large sums cancel (the optimum is flat along the p-gamma ridge and the
    polish needs every digit), with sums, not BLAS dot products: the same bits on any machine."""
    from scipy.special import digamma, gammaln

    unique_n, counts = np.unique(n, return_counts=True)
    revenue = n * mean
    log_revenue, constant, size = np.log(revenue), -np.sum(np.log(mean)), len(n)
    last: dict = {}

    def log_spend(gamma: float) -> np.ndarray:
        if last.get("gamma") != gamma:
            last.update(gamma=gamma, value=np.log(gamma + revenue))
        return last["value"]

    def negll(theta: np.ndarray) -> float:
        p, q, gamma = np.exp(theta)
        spend = log_spend(gamma)
        ll = (
            np.sum(counts * (gammaln(p * unique_n + q) - gammaln(p * unique_n)))
            + size * (q * np.log(gamma) - gammaln(q))
            + constant
            + p * np.sum(n * (log_revenue - spend))
            - q * np.sum(spend)
        )
        return -ll / size

    def gradient(theta: np.ndarray) -> np.ndarray:
        p, q, gamma = np.exp(theta)
        spend, at_n = log_spend(gamma), digamma(p * unique_n + q)
        d_p = np.sum(counts * unique_n * (at_n - digamma(p * unique_n))) + np.sum(n * (log_revenue - spend))
        d_q = np.sum(counts * at_n) + size * (np.log(gamma) - digamma(q)) - np.sum(spend)
        d_gamma = size * q / gamma - np.sum((p * n + q) / (gamma + revenue))
        return -np.array([p * d_p, q * d_q, gamma * d_gamma]) / size

    return negll, gradient


def expected_order_value(fit: Fit, summary: pd.DataFrame) -> np.ndarray:
    """Expected value of each customer's next transaction on the fit's basis (EUR):
    p (gamma + n mean) / (p n + q - 1); without a positive mean (no repeat occasion, only returns)
    the population's p gamma / (q - 1)."""
    p, q, gamma = fit.values
    n, mean = _inputs(summary, fit.basis)
    with np.errstate(invalid="ignore"):
        conditional = p * (gamma + n * mean) / (p * n + q - 1)
    return np.where(np.isfinite(mean) & (np.nan_to_num(mean) > 0), conditional, p * gamma / (q - 1))
