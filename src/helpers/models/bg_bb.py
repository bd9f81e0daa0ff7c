"""BG/BB (Fader, Hardie & Shang 2010, "Customer-base analysis in a discrete-time noncontractual
setting"): purchases happen at discrete opportunities (a yearly donation drive, a season's event).
At each opportunity an alive customer buys with probability p ~ Beta(alpha, beta); before each
one they leave for good with probability theta ~ Beta(gamma, delta).

Input per customer, in the columns of the other purchase models: frequency x (repeat opportunities
with a purchase), recency t_x (the opportunity of the last one, 0 without) and T = n opportunities
since the first purchase, all whole numbers with x <= t_x <= n (``opportunities.per_period`` makes
them from a transaction log). Likelihood, with B the beta function:
B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
+ sum over i < n-t_x of B(alpha+x, beta+t_x-x+i)/B(alpha, beta) B(gamma+1, delta+t_x+i)/B(gamma, delta),
taken in logs (betaln, the sums by logaddexp): no term overflows, whatever n.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.models.bg_nbd import pooled
from helpers.models.likelihood import Fit, maximise

PARAMS = ("alpha", "beta", "gamma", "delta")
DISCRETE_RULE = (
    "frequency, recency and T are whole numbers of opportunities with 0 <= frequency <= recency <= T "
    "(a purchase at each of at most one opportunity each)"
)


def discrete_problem(summary: pd.DataFrame) -> str:
    """Why ``summary`` is not a summary of discrete opportunities (``DISCRETE_RULE``), or '' if it is."""
    x, t_x, n = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    for name, values in (("frequency", x), ("recency", t_x), ("T", n)):
        fractional = int(np.sum(values != np.round(values)))
        if fractional:
            return f"{fractional:,} rows have a fractional {name} (e.g. {values[values != np.round(values)][0]:g})"
    disordered = int(np.sum((x < 0) | (x > t_x) | (t_x > n)))
    if disordered:
        return f"{disordered:,} rows break 0 <= frequency <= recency <= T"
    return ""


def check_discrete(summary: pd.DataFrame) -> None:
    """Refuse a summary that is not one of discrete opportunities, saying which rows and what to do."""
    problem = discrete_problem(summary)
    if problem:
        raise ModelInputError(
            f"BG/BB needs a summary of discrete opportunities ({DISCRETE_RULE}): {problem}. Build it with "
            "helpers.models.opportunities.per_period(tx, as_of, period), or choose another clv_model."
        )


def log_likelihood(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer BG/BB log-likelihood at ``params`` = (alpha, beta, gamma, delta); T = n."""
    x, t_x, n = (np.ravel(np.asarray(v, dtype=float)) for v in np.broadcast_arrays(x, t_x, T))
    rows, inverse = np.unique(np.column_stack([x, t_x, n]), axis=0, return_inverse=True)
    return _loglik(params, *rows.T)[inverse.ravel()]


def _loglik(params, x, t_x, n) -> np.ndarray:
    """The log-likelihood of each row. Its beta functions depend on (x, j) and j alone, j + 1 the
    opportunity before which the customer left: they are tabled once for every x and j up to the
    largest n, with their tail sums over j' >= j in logs (``logaddexp.accumulate``); a row's sum over
    j in [t_x, n) is the difference of two tails. The terms fall with j, so the tail from t_x is at
    most (largest n + 1) times the difference: the subtraction loses no more than that factor in
    rounding (1e-13 at n = 1,000)."""
    from scipy.special import betaln

    a, b, g, d = params
    xi, ti, ni = (np.rint(v).astype(int) for v in (x, t_x, n))
    j = np.arange(ni.max(initial=0) + 1)[None, :]
    xs = np.arange(xi.max(initial=0) + 1)[:, None]
    purchase = np.where(j >= xs, betaln(a + xs, b + np.maximum(j - xs, 0)), -np.inf)  # B(a+x, b+j-x)
    left = purchase + betaln(g + 1, d + j)  # alive at opportunity j, gone at j + 1
    tail = np.logaddexp.accumulate(left[:, ::-1], axis=1)[:, ::-1]
    upper, lower = tail[xi, ti], tail[xi, ni]
    with np.errstate(divide="ignore", invalid="ignore"):
        died = np.where(ni > ti, upper + np.log(-np.expm1(lower - upper)), -np.inf)
    alive = purchase[xi, ni] + betaln(g, d + n)
    return np.logaddexp(alive, died) - betaln(a, b) - betaln(g, d)


def fit(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood BG/BB on a summary of discrete opportunities (columns frequency, recency, T;
    see ``opportunities.per_period``)."""
    check_discrete(summary)
    px, pt, pn, w = pooled(summary, "BG/BB")

    def negll(theta):
        return -np.sum(w * _loglik(np.exp(theta), px, pt, pn)) / w.sum()

    return maximise(negll, np.log([1.0, 1.0, 1.0, 3.0]), PARAMS, w.sum(), len(summary), "bg_bb")


def p_alive(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability each customer is alive at the next opportunity, n + 1 (the paper's P(alive)):
    B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n+1)/B(gamma, delta) / L."""
    from scipy.special import betaln

    a, b, g, d = params
    x, t_x, n = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    alive = betaln(a + x, b + n - x) + betaln(g, d + n + 1) - betaln(a, b) - betaln(g, d)
    return np.exp(alive - log_likelihood(params, x, t_x, n).reshape(x.shape))


def expected_purchases_if_alive(params: Sequence[float], x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases at the next ``t`` opportunities (n+1 to n+t) of customers alive at n + 1
    with x purchases in n: p ~ Beta(alpha+x, beta+n-x), theta ~ Beta(gamma, delta+n+1), so
    (alpha+x)/(alpha+beta+n) times the expected opportunities alive, 1 + sum over k < t of
    B(gamma, delta+n+1+k)/B(gamma, delta+n+1). With x = T = 0 it is E[X(t)] after a first purchase."""
    from scipy.special import gammaln

    a, b, g, d = params
    x, n, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, T, t)))
    log_rate = np.log(a + x) - np.log(a + b + n)
    log_alive = _log_survival_sum(g, d, n, t) + gammaln(g + d + n + 1) - gammaln(d + n + 1)
    return np.exp(log_rate + log_alive)


def _log_survival_sum(g: float, d: float, n: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log of the sum over k = 1..t of Gamma(d+n+k) / Gamma(g+d+n+k), in closed form: with
    h(z) = lnGamma(z+t) - lnGamma(z), it is Gamma(d+n+1)/Gamma(g+d+n) (e^D - 1)/(1 - g), D = h(1+d+n)
    - h(g+d+n) (the paper's delta/(gamma-1) form). (e^D - 1)/(1 - g) is written (expm1(D)/D) times
    the divided difference D/(1 - g) of h, which tends to h' = psi(z+t) - psi(z) as g -> 1: finite
    and exact on both sides of g = 1. t = 0 gives -inf (no opportunity, no purchase)."""
    from scipy.special import gammaln, psi

    upper, lower = 1 + d + n, g + d + n

    def h(z):
        return gammaln(z + t) - gammaln(z)

    mid = (upper + lower) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (h(upper) - h(lower)) / (1 - g) if abs(1 - g) > 1e-4 else psi(mid + t) - psi(mid)
        gap = slope * (1 - g)
        ratio = np.where(gap == 0, 1.0, np.expm1(gap) / np.where(gap == 0, 1.0, gap))
        return gammaln(upper) - gammaln(lower) + np.log(ratio) + np.log(slope)


def expected_purchases(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases at the next ``t`` opportunities, given each customer's (x, t_x, n): the
    paper's E[X(n, n+t) | x, t_x, n]."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, x, T, t)
