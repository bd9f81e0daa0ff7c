"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where the customer may also drop out right
after the first purchase, so a customer with no repeat purchase is not assumed alive.

Purchases at a Poisson rate lambda ~ Gamma(r, alpha) while alive; at the first purchase and after
each repeat purchase the customer drops out with probability p ~ Beta(a, b). Likelihood:
Gamma(r+x) alpha^r / Gamma(r) [B(a, b+x+1) (alpha+T)^-(r+x) + B(a+1, b+x) (alpha+t_x)^-(r+x)] / B(a, b).
Alive at T, p ~ Beta(a, b+x+1): expected purchases by the quadrature BG/NBD uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.models.bg_nbd import fit_r_alpha_a_b, purchases_if_alive
from helpers.models.likelihood import Fit


def log_likelihood(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer MBG/NBD log-likelihood at ``params`` = (r, alpha, a, b)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    unique_x, inverse = np.unique(x, return_inverse=True)
    return _loglik(params, x, t_x, T, unique_x, inverse)


def _loglik(params, x, t_x, T, unique_x, inverse) -> np.ndarray:
    from scipy.special import betaln, gammaln

    r, alpha, a, b = params
    lead = (gammaln(r + unique_x) - gammaln(r))[inverse] + r * np.log(alpha)
    alive = (betaln(a, b + unique_x + 1) - betaln(a, b))[inverse] - (r + x) * np.log(alpha + T)
    died = (betaln(a + 1, b + unique_x) - betaln(a, b))[inverse] - (r + x) * np.log(alpha + t_x)
    return lead + np.logaddexp(alive, died)


def fit(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood MBG/NBD on a customer summary (columns frequency, recency, T in weeks)."""
    return fit_r_alpha_a_b(summary, _loglik, "MBG/NBD", "mbg_nbd")


def p_alive(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability each customer is still active at T: 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))."""
    from scipy.special import expit

    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return expit(-log_ratio)


def expected_purchases_if_alive(params: Sequence[float], x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks of customers alive at T with x repeat purchases
    (p ~ Beta(a, b + x + 1) then)."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    return purchases_if_alive(r, alpha, a, b + x + 1, r + x, T, t)


def expected_purchases(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks, given each customer's (x, t_x, T); with
    x = t_x = T = 0, E[X(t)] after a first purchase."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, x, T, t)
