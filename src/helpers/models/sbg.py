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
from scipy.special import betaln, hyp2f1

from helpers.errors import ModelInputError
from helpers.models.likelihood import Fit, maximise

PARAMS = ("alpha", "beta")


def _check(alive: np.ndarray) -> None:
    if len(alive) < 3 or alive[0] <= 0:
        raise ModelInputError(
            "sBG needs a cohort's customers alive at the start and after at least two renewals "
            f"(3 counts or more); got {len(alive)} counts."
        )
    if np.any(np.diff(alive) > 0) or np.any(alive < 0):
        raise ModelInputError(f"A cohort's customers alive can only fall period after period; got {alive.tolist()}.")


def log_likelihood(params: Sequence[float], alive: ArrayLike) -> float:
    """Log-likelihood of a cohort's survival curve: ``alive`` = customers still active at the start of
    periods 0, 1, ..., k (those lost in period t left at t; those left at k are censored)."""
    alpha, beta = params
    alive = np.asarray(alive, dtype=float)
    t = np.arange(1, len(alive))
    lost = -np.diff(alive)
    leave = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
    return float(np.sum(lost * leave) + alive[-1] * (betaln(alpha, beta + t[-1]) - betaln(alpha, beta)))


def fit(alive: ArrayLike) -> Fit:
    """Maximum-likelihood sBG on one cohort's survival curve (counts alive at periods 0..k)."""
    alive = np.asarray(alive, dtype=float)
    _check(alive)
    n = alive[0]

    def negll(theta):
        return -log_likelihood(np.exp(theta), alive) / n

    return maximise(negll, np.log([1.0, 1.0]), PARAMS, n, int(round(n)), "sbg")


def survival(params: Sequence[float], t: ArrayLike) -> np.ndarray:
    """Share of a cohort still active after ``t`` renewals (periods), S(t)."""
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
    alpha, beta = params
    n = np.asarray(renewals, dtype=float) + 1
    if discount_rate <= 0:
        raise ModelInputError("The discount rate must be positive for the residual lifetime to be finite.")
    stay = (beta + n - 1) / (alpha + beta + n - 1)
    return stay * hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + discount_rate))
