"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): purchases at a
Poisson rate lambda ~ Gamma(r, alpha) while alive; after each repeat purchase the customer drops
out with probability p ~ Beta(a, b).

Inputs per customer: frequency x (repeat purchase days), recency t_x and age T in weeks. Expected
purchases are E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p], p ~ Beta(a, b+x), by the stable Gauss
rule of ``beta_quadrature`` (valid for every a > 0: the closed form with a hypergeometric function
needs a > 1 and overflows for frequent customers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.models.beta_quadrature import beta_rules
from helpers.models.likelihood import Fit, maximise

# Reductions over customers use numpy's own sums, never BLAS (np.dot, @): OpenBLAS splits long
# dot products across threads, and the order of the partial sums, hence the last bits, then
# changes from run to run.

PARAMS = ("r", "alpha", "a", "b")
CHUNK = 65_536  # rows evaluated at once against their quadrature rule (memory: CHUNK x 48 floats)


def log_likelihood(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at ``params`` = (r, alpha, a, b)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    unique_x, inverse = np.unique(x, return_inverse=True)
    return log_likelihood_by_x(params, x, t_x, T, unique_x, inverse)


def log_likelihood_by_x(
    params: Sequence[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray, unique_x: np.ndarray, inverse: np.ndarray
) -> np.ndarray:
    """``log_likelihood`` given the distinct x and each row's index among them (``np.unique``'s, to
    compute once for many evaluations), the terms that depend on x alone computed once per distinct x."""
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    lead = (gammaln(r + unique_x) - gammaln(r))[inverse] + r * np.log(alpha)
    alive = (betaln(a, b + unique_x) - betaln(a, b))[inverse] - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        died = np.where(unique_x > 0, betaln(a + 1, np.maximum(b + unique_x - 1, 1e-12)) - betaln(a, b), -np.inf)[
            inverse
        ] - (r + x) * np.log(alpha + t_x)
    return lead + np.logaddexp(alive, died)


def check_summary(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, model: str) -> None:
    """Refuse a summary no purchase model can be fitted on, saying why."""
    if len(x) == 0:
        raise ModelInputError(f"{model} needs at least one customer; the summary is empty.")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(T < t_x - 1e-9):
        raise ModelInputError(f"{model} needs frequency >= 0 and 0 <= recency <= T for every customer.")
    if not np.any(x > 0):
        raise ModelInputError(
            f"Every customer bought only once: {model} cannot separate purchase rate from "
            "drop-out. Use a longer history or a later as_of date."
        )


def pooled(summary: pd.DataFrame, model: str) -> tuple[np.ndarray, ...]:
    """Distinct (x, t_x, T) rows with their weights w, sorted (the same sums whatever the row order)."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    check_summary(x, t_x, T, model)
    rows = (
        pd.DataFrame({"x": x, "t": t_x, "T": T})
        .value_counts()
        .reset_index(name="w")
        .sort_values(["x", "t", "T"], ignore_index=True)
    )
    return tuple(rows[c].to_numpy(dtype=float) for c in ("x", "t", "T", "w"))


def fit(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood BG/NBD on a customer summary (columns frequency, recency, T; see
    ``features.customer_summary``)."""
    return fit_r_alpha_a_b(summary, log_likelihood_by_x, "BG/NBD", "bgnbd")


def fit_r_alpha_a_b(summary: pd.DataFrame, loglik: Callable, label: str, model: str) -> Fit:
    """Maximum likelihood of a model with parameters (r, alpha, a, b) and per-customer log-likelihood
    ``loglik(params, x, t_x, T, unique_x, inverse)`` (BG/NBD, MBG/NBD): identical rows pooled with
    weights, log parameters from a moment-based start (``likelihood.maximise``)."""
    px, pt, pT, w = pooled(summary, label)
    unique_x, inverse = np.unique(px, return_inverse=True)

    def negll(theta):
        return -np.sum(w * loglik(np.exp(theta), px, pt, pT, unique_x, inverse)) / w.sum()

    mean_T, mean_x = np.sum(w * pT) / w.sum(), np.sum(w * px) / w.sum()
    start = np.log([1.0, max(mean_T / max(mean_x, 1e-3), 1e-2), 1.0, 3.0])
    return maximise(negll, start, PARAMS, w.sum(), len(summary), model)


def p_alive(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability each customer is still active at T, from (x, t_x, T) in weeks."""
    from scipy.special import expit

    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = (
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, expit(-log_ratio), 1.0)


def purchases_if_alive(
    r: float, alpha: float, a: float, b_post: ArrayLike, k: ArrayLike, T: ArrayLike, t: ArrayLike
) -> np.ndarray:
    """E_p[(1 - ((alpha+T)/(alpha+T+p t))^k) / p], p ~ Beta(a, b_post): expected purchases in the
    next ``t`` weeks of a customer alive at T whose rate is Gamma(k, alpha + T) and drop-out
    probability Beta(a, b_post). One quadrature rule per distinct b_post, built once."""
    b_post, k, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b_post, k, T, t)))
    shape = b_post.shape
    b_post, k, T, t = (v.ravel() for v in (b_post, k, T, t))
    unique_b, inverse = np.unique(b_post, return_inverse=True)
    nodes, weights = beta_rules(a, unique_b)
    out = np.empty(len(b_post))
    for start in range(0, len(out), CHUNK):
        rows = slice(start, start + CHUNK)
        p, w = nodes[inverse[rows]], weights[inverse[rows]]
        scale = (alpha + T[rows])[:, None]
        gain = -np.expm1(-k[rows][:, None] * np.log1p(p * t[rows][:, None] / scale))
        out[rows] = np.sum(gain / p * w, axis=1)
    return out.reshape(shape)


def expected_purchases_if_alive(params: Sequence[float], x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks of customers alive at T with x repeat purchases
    (p ~ Beta(a, b + x) then). With x = T = 0 it is E[X(t)] for a new customer."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    return purchases_if_alive(r, alpha, a, b + x, r + x, T, t)


def expected_purchases(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks, given each customer's (x, t_x, T)."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, x, T, t)
