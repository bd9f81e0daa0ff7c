"""Customer lifetime value on scipy: BG/NBD for purchase counts (Fader, Hardie & Lee 2005) and
Gamma-Gamma for spend (Fader, Hardie & Lee 2005b), fitted by maximum likelihood in log parameters.

Inputs per customer (``features.customer_summary``): frequency x (repeat purchase days), recency
t_x and age T in weeks; n_orders and monetary (mean order value, EUR) for Gamma-Gamma. Expected
purchases are computed by Gauss-Jacobi quadrature over the drop-out probability, which holds for
every a > 0 (the closed form with a hypergeometric function needs a > 1; a test checks both agree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import betaln, expit, gammaln, roots_jacobi

from helpers.errors import ModelInputError
from helpers.models.likelihood import Fit, maximise

# Reductions over customers use numpy's own sums, never BLAS (np.dot, @): OpenBLAS splits long
# dot products across threads, and the order of the partial sums, hence the last bits, then
# changes from run to run.

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "gamma")
WEEKS_PER_MONTH = 52.0 / 12
QUADRATURE_POINTS = 48


# ---------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at ``params`` = (r, alpha, a, b)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    unique_x, inverse = np.unique(x, return_inverse=True)
    return _bgnbd_loglik(params, x, t_x, T, unique_x, inverse)


def _bgnbd_loglik(params, x, t_x, T, unique_x, inverse) -> np.ndarray:
    """The log-likelihood with the terms that depend on x alone computed once per distinct x."""
    r, alpha, a, b = params
    lead = (gammaln(r + unique_x) - gammaln(r))[inverse] + r * np.log(alpha)
    alive = (betaln(a, b + unique_x) - betaln(a, b))[inverse] - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        died = np.where(unique_x > 0, betaln(a + 1, np.maximum(b + unique_x - 1, 1e-12)) - betaln(a, b), -np.inf)[
            inverse
        ] - (r + x) * np.log(alpha + t_x)
    return lead + np.logaddexp(alive, died)


def _check_bgnbd(x, t_x, T) -> None:
    if len(x) == 0:
        raise ModelInputError("BG/NBD needs at least one customer; the summary is empty.")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(T < t_x - 1e-9):
        raise ModelInputError("BG/NBD needs frequency >= 0 and 0 <= recency <= T for every customer.")
    if not np.any(x > 0):
        raise ModelInputError(
            "Every customer bought only once: BG/NBD cannot separate purchase rate from "
            "drop-out. Use a longer history or a later as_of date."
        )


def fit_bgnbd(summary: pd.DataFrame, frequency: str = "frequency", recency: str = "recency", age: str = "T") -> Fit:
    """Maximum-likelihood BG/NBD on a customer summary (see ``features.customer_summary``).

    Identical (x, t_x, T) rows are pooled with weights; the search runs on log parameters from a
    moment-based start (L-BFGS-B, then Nelder-Mead if it did not converge); standard errors come
    from a numerical Hessian.
    """
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in (frequency, recency, age))
    _check_bgnbd(x, t_x, T)
    pooled = (
        pd.DataFrame({"x": x, "t": t_x, "T": T})
        .value_counts()
        .reset_index(name="w")
        .sort_values(["x", "t", "T"], ignore_index=True)
    )  # the same sums whatever the row order
    px, pt, pT, w = (pooled[c].to_numpy(dtype=float) for c in ("x", "t", "T", "w"))
    unique_x, inverse = np.unique(px, return_inverse=True)

    def negll(theta):
        return -np.sum(w * _bgnbd_loglik(np.exp(theta), px, pt, pT, unique_x, inverse)) / w.sum()

    mean_T, mean_x = np.sum(w * pT) / w.sum(), np.sum(w * px) / w.sum()  # from the sorted, pooled rows
    start = np.log([1.0, max(mean_T / max(mean_x, 1e-3), 1e-2), 1.0, 3.0])
    return maximise(negll, start, BGNBD_PARAMS, w.sum(), len(x))


def p_alive(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability each customer is still active at T (BG/NBD), from (x, t_x, T) in weeks."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = (
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, expit(-log_ratio), 1.0)


def expected_purchases_if_alive(params: Sequence[float], x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks of customers alive at T with x repeat purchases:
    E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p], p ~ Beta(a, b+x), by Gauss-Jacobi quadrature
    (one rule per distinct x). With x = T = 0 it is E[X(t)] for a new customer."""
    r, alpha, a, b = params
    x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, T, t)))
    out = np.empty(x.shape)
    for value in np.unique(x):
        rows = x == value
        nodes, weights = roots_jacobi(QUADRATURE_POINTS, b + value - 1, a - 1)  # weight (1-u)^(b+x-1)(1+u)^(a-1)
        p = (1 + nodes) / 2
        weights = weights / weights.sum()
        scale = (alpha + T[rows])[:, None]
        gain = -np.expm1(-(r + value) * np.log1p(p[None, :] * t[rows][:, None] / scale))
        out[rows] = np.sum(gain / p[None, :] * weights[None, :], axis=1)
    return out


def expected_purchases(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks, given each customer's (x, t_x, T)."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, x, T, t)


# ---------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(params: Sequence[float], n: ArrayLike, mean: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood of the mean order value ``mean`` over ``n`` orders, at
    ``params`` = (p, q, gamma): orders ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""
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


def gamma_gamma_sample(summary: pd.DataFrame) -> pd.DataFrame:
    """The customers Gamma-Gamma is fitted on: repeat buyers (frequency > 0) whose mean order value
    is positive (a customer with only returns has none)."""
    return summary[(summary.frequency > 0) & (summary.monetary > 0)]


def fit_gamma_gamma(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood Gamma-Gamma on repeat buyers (columns n_orders, monetary in EUR)."""
    sample = gamma_gamma_sample(summary).sort_values(["n_orders", "monetary"])  # row order never changes the fit
    if len(sample) < 10:
        raise ModelInputError(
            f"Gamma-Gamma needs repeat buyers with a positive mean order value; this data has "
            f"{len(sample)}. Use a longer history."
        )
    n, mean = sample.n_orders.to_numpy(dtype=float), sample.monetary.to_numpy(dtype=float)

    def negll(theta):
        return -np.mean(gamma_gamma_log_likelihood(np.exp(theta), n, mean))

    start = np.log([2.0, 3.0, 2.0 * np.mean(mean)])
    return maximise(negll, start, GAMMA_GAMMA_PARAMS, len(n), len(n))


def expected_order_value(params: Sequence[float], n: ArrayLike, mean: ArrayLike) -> np.ndarray:
    """Expected value of a customer's next order (EUR): (p (gamma + n mean)) / (p n + q - 1); for
    customers outside the Gamma-Gamma sample (mean <= 0 or NaN) the population mean p gamma / (q - 1)."""
    p, q, gamma = params
    n, mean = np.asarray(n, dtype=float), np.asarray(mean, dtype=float)
    population = p * gamma / (q - 1)
    with np.errstate(invalid="ignore"):
        conditional = p * (gamma + n * mean) / (p * n + q - 1)
    return np.where(np.isfinite(mean) & (mean > 0), conditional, population)


# ---------------------------------------------------------------- lifetime value


def customer_value(
    summary: pd.DataFrame, bgnbd: Fit, gamma_gamma: Fit, months: int = 12, annual_discount_rate: float = 0.10
) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases over ``months``, expected order value (EUR) and
    CLV (EUR of revenue, each month's expected purchases discounted at ``annual_discount_rate``).
    Columns: customer_id, p_alive, expected_purchases, expected_order_value, clv."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    alive = p_alive(bgnbd.values, x, t_x, T)
    codes, pairs = pd.factorize(pd.MultiIndex.from_arrays([x, T]))  # customers sharing (x, T) share values
    ux, uT = pairs.get_level_values(0).to_numpy(), pairs.get_level_values(1).to_numpy()
    cumulative = [np.zeros(len(x))] + [
        alive * expected_purchases_if_alive(bgnbd.values, ux, uT, m * WEEKS_PER_MONTH)[codes]
        for m in range(1, months + 1)
    ]
    discount = (1 + annual_discount_rate) ** (-np.arange(1, months + 1) / 12)
    per_month = np.diff(np.array(cumulative), axis=0)  # months x customers
    order_value = expected_order_value(gamma_gamma.values, summary.n_orders, summary.monetary)
    return pd.DataFrame(
        {
            "customer_id": summary.customer_id.to_numpy(),
            "p_alive": alive,
            "expected_purchases": cumulative[-1],
            "expected_order_value": order_value,
            "clv": np.sum(per_month * discount[:, None], axis=0) * order_value,
        }
    )


def value_at_risk(
    value: pd.DataFrame,
    summary: pd.DataFrame,
    top_share: float = 0.2,
    min_p_alive: float = 0.05,
    max_p_alive: float = 0.5,
    n: int = 20,
) -> pd.DataFrame:
    """Reactivation targets: among the top ``top_share`` of customers by yearly revenue so far (net
    revenue over their years as customers, at least one), those whose probability of still being
    active lies in [min_p_alive, max_p_alive): valuable, slipping, not yet gone. Largest yearly
    revenue first; ids and figures only."""
    table = summary[["customer_id", "n_orders", "revenue", "last_order", "T"]].merge(value, on="customer_id")
    table["yearly_revenue"] = table.revenue / np.maximum(table["T"] / 52.0, 1.0)
    threshold = table.yearly_revenue.quantile(1 - top_share)
    risky = table[
        (table.yearly_revenue >= threshold) & table.p_alive.between(min_p_alive, max_p_alive, inclusive="left")
    ]
    columns = ["customer_id", "n_orders", "revenue", "yearly_revenue", "last_order", "p_alive", "clv"]
    return (
        risky.sort_values(["yearly_revenue", "customer_id"], ascending=[False, True])
        .head(n)[columns]
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------- holdout checks


def holdout_by_frequency(holdout: pd.DataFrame, bgnbd: Fit, holdout_weeks: float, top: int = 7) -> pd.DataFrame:
    """Actual against predicted mean repeat purchases in the holdout, by calibration frequency
    (the last row groups ``top`` or more). ``holdout``: calibration summary + holdout_purchases."""
    predicted = expected_purchases(bgnbd.values, holdout.frequency, holdout.recency, holdout["T"], holdout_weeks)
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
    first_days: pd.Series, repeat_days: pd.Series, bgnbd: Fit, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Cumulative repeat purchases of a cohort week by week, actual against predicted.

    ``first_days``: each customer's first purchase date; ``repeat_days``: dates of their repeat
    purchase days (one per customer and day). Predicted = sum over customers of E[X(t)], t the
    weeks since their first purchase. Columns: week (end date), actual, predicted.
    """
    weeks = pd.date_range(start, end, freq="7D")[1:]
    births = (pd.to_datetime(first_days) - start).dt.days.value_counts()
    offsets = np.arange(0, (end - start).days + 8)
    curve = expected_purchases_if_alive(bgnbd.values, 0.0, 0.0, offsets / 7.0)  # E[X(t)] by day offset
    horizon = np.array([(w - start).days for w in weeks])
    predicted = [
        float(
            np.sum(
                births.to_numpy()
                * curve[np.clip(h - births.index.to_numpy(), 0, None)]
                * (births.index.to_numpy() <= h)
            )
        )
        for h in horizon
    ]
    repeat = np.sort((pd.to_datetime(repeat_days) - start).dt.days.to_numpy())
    actual = np.searchsorted(repeat, horizon, side="right")
    return pd.DataFrame({"week": weeks, "actual": actual, "predicted": np.round(predicted, 1)})


@dataclass
class Models:
    """BG/NBD and Gamma-Gamma fitted together, or None with the reason in ``message``."""

    bgnbd: Fit | None
    gamma_gamma: Fit | None
    message: str

    @property
    def ok(self) -> bool:
        return self.bgnbd is not None and self.gamma_gamma is not None


def fit_models(summary: pd.DataFrame) -> Models:
    """Fit both models; when the data cannot support them, say why instead of failing, so a
    notebook can skip the sections that need them (e.g. every customer bought once)."""
    try:
        bgnbd = fit_bgnbd(summary)
        gamma_gamma = fit_gamma_gamma(summary)
    except ModelInputError as exc:
        return Models(None, None, f"Models not fitted: {exc}")
    excluded = len(summary) - len(gamma_sample := gamma_gamma_sample(summary))
    notes = [
        f"BG/NBD on {bgnbd.n_customers:,} customers ({'converged' if bgnbd.converged else 'NOT converged'}); "
        f"Gamma-Gamma on {len(gamma_sample):,} repeat buyers with a positive mean order value "
        f"({'converged' if gamma_gamma.converged else 'NOT converged'})",
        f"{excluded:,} customers (one-time buyers, or only returns) get the population's mean order value",
    ]
    return Models(bgnbd, gamma_gamma, "; ".join(notes) + ".")
