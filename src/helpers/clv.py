"""Customer lifetime value models written on scipy: BG/NBD (Fader, Hardie & Lee 2005).

Inputs per customer: frequency x (repeat purchases), recency t_x and age T, in the same time
unit (weeks by default). Parameters are fitted by maximum likelihood in log space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

BGNBD_PARAMS = ("r", "alpha", "a", "b")


class ModelInputError(ValueError):
    """The customer summary cannot support the model; the message says why and what to do."""


@dataclass
class BGNBDFit:
    """A fitted BG/NBD: parameters, standard errors (delta method), log-likelihood, convergence."""

    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str

    def table(self) -> pd.DataFrame:
        """Parameters with standard errors, one row each."""
        return pd.DataFrame({"parameter": BGNBD_PARAMS, "estimate": [self.params[k] for k in BGNBD_PARAMS],
                             "std_error": [self.std_errors[k] for k in BGNBD_PARAMS]})


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at ``params`` = (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a3 = np.where(x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b)
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + np.logaddexp(a2, a3)


def _check_summary(x, t_x, T) -> None:
    if len(x) == 0:
        raise ModelInputError("BG/NBD needs at least one customer; the summary is empty.")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(T < t_x):
        raise ModelInputError("BG/NBD needs frequency >= 0 and 0 <= recency <= T for every customer.")
    if not np.any(x > 0):
        raise ModelInputError("Every customer bought only once: BG/NBD cannot separate purchase rate from "
                              "drop-out. Use a longer history or a later as_of date.")


def fit_bgnbd(summary: pd.DataFrame, frequency: str = "frequency", recency: str = "recency",
              age: str = "T") -> BGNBDFit:
    """Maximum-likelihood BG/NBD on a customer summary (see ``features.customer_summary``).

    Identical (x, t_x, T) rows are pooled with weights; the search runs on log parameters from a
    moment-based start; standard errors come from a numerical Hessian.
    """
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in (frequency, recency, age))
    _check_summary(x, t_x, T)
    pooled = pd.DataFrame({"x": x, "t": t_x, "T": T}).value_counts().reset_index(name="w")
    px, pt, pT, w = (pooled[c].to_numpy(dtype=float) for c in ("x", "t", "T", "w"))

    def negll(theta):
        return -np.dot(w, bgnbd_log_likelihood(np.exp(theta), px, pt, pT)) / w.sum()

    start = np.log([1.0, max(np.mean(T) / max(np.mean(x), 1e-3), 1e-2), 1.0, 3.0])
    res = minimize(negll, start, method="L-BFGS-B", bounds=[(-12, 12)] * 4)
    if not res.success:
        res = minimize(negll, res.x, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12})
    hess = _numerical_hessian(negll, res.x) * w.sum()
    try:
        cov = np.linalg.inv(hess)
        se = np.exp(res.x) * np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(4, np.nan)
    params = dict(zip(BGNBD_PARAMS, np.exp(res.x).tolist()))
    return BGNBDFit(params, dict(zip(BGNBD_PARAMS, se.tolist())), float(-res.fun * w.sum()), int(len(x)),
                    bool(res.success), str(res.message))


def _numerical_hessian(f, theta, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``theta``."""
    k = len(theta)
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * step, np.eye(k)[j] * step
            hess[i, j] = hess[j, i] = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej)
                                       + f(theta - ei - ej)) / (4 * step**2)
    return hess
