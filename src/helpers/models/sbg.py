"""Shifted-beta-geometric retention (Fader & Hardie 2007, "How to project customer retention"), for
contracts renewed period after period: each customer's chance of leaving at a renewal is theta ~
Beta(alpha, beta), the same at every renewal.

P(leave at period t) = B(alpha+1, beta+t-1) / B(alpha, beta); survival S(t) = B(alpha, beta+t) /
B(alpha, beta); retention S(t)/S(t-1) = (beta+t-1) / (alpha+beta+t-1) rises with t (those left are the
loyal ones). Discounted expected residual lifetime (Fader & Hardie 2010, "Customer-base valuation in
a contractual setting"): the periods still to be paid by a customer about to renew for period n, each
discounted at d per period: (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.models.likelihood import Fit, maximise, numerical_hessian

PARAMS = ("alpha", "beta")


def _check(lost: np.ndarray, censored: np.ndarray) -> None:
    if len(lost) < 2 or lost.sum() <= 0 or censored[2:].sum() + lost[1:].sum() <= 0:
        raise ModelInputError(
            "sBG needs customers lost at renewals and customers followed past at least two renewals; got "
            f"{int(lost.sum())} lost over {len(lost)} renewal(s) and {int(censored.sum())} still active."
        )
    if np.any(lost < 0) or np.any(censored < 0):
        raise ModelInputError("Customers lost and still active are counts: none may be negative.")


def _counts(alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lost at renewals 1..k and still active after 0..k renewals, from a curve of counts alive at 0..k."""
    if len(alive) < 3 or alive[0] <= 0:
        raise ModelInputError(
            "sBG needs a cohort's customers alive at the start and after at least two renewals "
            f"(3 counts or more); got {len(alive)} counts."
        )
    if np.any(np.diff(alive) > 0) or np.any(alive < 0):
        raise ModelInputError(f"A cohort's customers alive can only fall period after period; got {alive.tolist()}.")
    censored = np.zeros(len(alive))
    censored[-1] = alive[-1]
    return -np.diff(alive), censored


def log_likelihood_censored(params: Sequence[float], lost: ArrayLike, censored: ArrayLike) -> float:
    """Log-likelihood of ``lost[t-1]`` customers lost at renewal t (t = 1..k: they paid t periods) and
    ``censored[t]`` customers still active after t renewals when the observation stopped (t = 0..k)."""
    from scipy.special import betaln

    alpha, beta = params
    lost, censored = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
    t = np.arange(1, len(lost) + 1)
    leave = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
    stay = betaln(alpha, beta + np.arange(len(censored))) - betaln(alpha, beta)
    return float(np.sum(lost * leave) + np.sum(censored * stay))


def log_likelihood(params: Sequence[float], alive: ArrayLike) -> float:
    """Log-likelihood of a cohort's survival curve: ``alive`` = customers still active at the start of
    periods 0, 1, ..., k (those lost in period t left at t; those left at k are censored)."""
    return log_likelihood_censored(params, *_counts(np.asarray(alive, dtype=float)))


def fit(alive: ArrayLike) -> Fit:
    """Maximum-likelihood sBG on one cohort's survival curve (counts alive at periods 0..k)."""
    return fit_censored(*_counts(np.asarray(alive, dtype=float)))


def _negll(lost: np.ndarray, censored: np.ndarray):
    n = lost.sum() + censored.sum()
    return lambda theta: -log_likelihood_censored(np.exp(theta), lost, censored) / n


def fit_censored(lost: ArrayLike, censored: ArrayLike) -> Fit:
    """Maximum-likelihood sBG on customers lost at renewals 1..k and still active after 0..k renewals
    (right-censored: recent customers are followed for fewer renewals), see ``log_likelihood_censored``."""
    lost, censored = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
    _check(lost, censored)
    n = lost.sum() + censored.sum()
    return maximise(_negll(lost, censored), np.log([1.0, 1.0]), PARAMS, n, int(round(n)), "sbg")


def covariance(fitted: Fit, lost: ArrayLike, censored: ArrayLike) -> np.ndarray:
    """Covariance of (log alpha, log beta) at the fit: the inverse of the observed information."""
    lost, censored = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
    n = lost.sum() + censored.sum()
    return np.linalg.inv(numerical_hessian(_negll(lost, censored), np.log(fitted.values)) * n)


def survival(params: Sequence[float], t: ArrayLike) -> np.ndarray:
    """Share of a cohort still active after ``t`` renewals (periods), S(t)."""
    from scipy.special import betaln

    alpha, beta = params
    t = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def retention(params: Sequence[float], t: ArrayLike) -> np.ndarray:
    """Retention rate at renewal ``t`` (1, 2, ...): the share of those active at t-1 still active at t."""
    alpha, beta = params
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def residual_lifetime(params: Sequence[float], renewals: ArrayLike, discount_rate: float) -> np.ndarray:
    """Discounted expected residual lifetime, in periods, of a customer who has renewed
    ``renewals`` times (0: just acquired, about to pay period 1), each period discounted at
    ``discount_rate``: multiply by the margin per period for what a customer is still worth."""
    from scipy.special import hyp2f1

    alpha, beta = params
    n = np.asarray(renewals, dtype=float) + 1
    if discount_rate <= 0:
        raise ModelInputError("The discount rate must be positive for the residual lifetime to be finite.")
    stay = (beta + n - 1) / (alpha + beta + n - 1)
    return stay * hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + discount_rate))
