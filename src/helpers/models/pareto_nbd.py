"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987; expressions from Fader & Hardie 2005, "A note
on deriving the Pareto/NBD model and related expressions"): purchases at a Poisson rate
lambda ~ Gamma(r, alpha) for an exponential lifetime of rate mu ~ Gamma(s, beta).

Likelihood: Gamma(r+x) alpha^r beta^s / Gamma(r) [(alpha+T)^-(r+x) (beta+T)^-s + s (I(t_x) - I(T))],
I(t) = integral from t to infinity of (alpha+u)^-(r+x) (beta+u)^-(s+1) du. The note writes I with
2F1(r+s+x, b; r+s+x+1; z), which overflows for frequent customers (b = r+x when alpha < beta).
Euler's transformation turns it into a power of (1 - z) times 2F1(1, c; r+s+x+1; z), which lies
between 1 and 1 / (1 - z): everything is taken in logs and nothing overflows. scipy's hyp2f1 gives
NaN as z nears 1 with large s and beta, where dropout rates barely vary (the fit walks that ridge
when the data show no heterogeneity in dropout): there I is integrated numerically (``_quadrature_tail``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.models.bg_nbd import pooled
from helpers.models.likelihood import Fit, maximise, numerical_hessian

PARAMS = ("r", "alpha", "s", "beta")
WARM_ROWS = 4_000  # distinct (x, t_x, T) rows above which a subsample's fit gives the start


def _log_tail(params: Sequence[float], x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log I(t) (see the module's docstring), for each customer."""
    from scipy.special import hyp2f1

    r, alpha, s, beta = params
    m = r + s + x
    with np.errstate(invalid="ignore", divide="ignore"):
        if alpha >= beta:
            z = (alpha - beta) / (alpha + t)
            rest = -s * np.log(beta + t) - (r + x) * np.log(alpha + t) + np.log(hyp2f1(1.0, r + x, m + 1, z))
        else:
            z = (beta - alpha) / (beta + t)
            rest = -(r + x - 1) * np.log(alpha + t) - (s + 1) * np.log(beta + t) + np.log(hyp2f1(1.0, s + 1, m + 1, z))
    tail = rest - np.log(m)
    failed = ~np.isfinite(tail)
    if np.any(failed):
        near, near_power, far, far_power = (alpha, r + x, beta, s + 1) if alpha < beta else (beta, s + 1, alpha, r + x)
        powers = np.broadcast_to(near_power, x.shape)[failed], np.broadcast_to(far_power, x.shape)[failed]
        tail[failed] = _quadrature_tail(near, powers[0], far, powers[1], t[failed])
    return tail


_STEPS = np.arange(-56, 57) / 16  # double-exponential rules: 113 nodes, 1e-12 relative on log I


def _quadrature_tail(near: float, p: np.ndarray, far: float, q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log of the integral from t to infinity of (near+u)^-p (far+u)^-q du (near <= far), numerically.
    With near+u = (near+t) e^v it is (near+t)^-m times the integral over v > 0 of e^g(v),
    g(v) = -m v - q log(1 + d e^-v), m = p + q - 1, d = (far - near) / (near + t): g is concave, so
    the integrand has one peak (at v = log(d (q - m) / m) when that is positive, else at 0). A
    double-exponential rule scaled to the peak's width integrates each side of it (exp-sinh to the
    right, tanh-sinh between 0 and the peak); 1e-12 relative against mpmath's 2F1."""
    base = near + t
    d, q = ((far - near) / base)[:, None], q[:, None]
    m = p[:, None] + q - 1

    def g(v):
        return -m * v - q * np.log1p(d * np.exp(-v))

    peak = np.log(np.maximum(np.where(q > m, d * (q - m) / m, 1.0), 1.0))
    share = 1 / (1 + np.exp(peak) / d)  # d e^-v / (1 + d e^-v) at the peak
    width = 1 / np.maximum(np.sqrt(q * share * (1 - share)), np.abs(q * share - m))
    top = g(peak)
    h = _STEPS[1] - _STEPS[0]
    outward = np.exp(np.pi / 2 * np.sinh(_STEPS))
    right = np.sum(outward * np.pi / 2 * np.cosh(_STEPS) * h * np.exp(g(peak + width * outward) - top), axis=1)
    inward = np.pi / 2 * np.sinh(_STEPS)
    fraction, weight = (1 + np.tanh(inward)) / 2, np.pi / 4 * np.cosh(_STEPS) / np.cosh(inward) ** 2 * h
    left = np.sum(weight * np.exp(g(peak * fraction) - top), axis=1)
    return -m[:, 0] * np.log(base) + top[:, 0] + np.log(right * width[:, 0] + left * peak[:, 0])


def _alive_and_died(params: Sequence[float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, ...]:
    """log of the alive-at-T term and of the died-in-(t_x, T] term of the likelihood (without the lead)."""
    pairs, inverse = np.unique(np.column_stack([np.r_[x, x], np.r_[t_x, T]]), axis=0, return_inverse=True)
    return _terms(params, x, T, pairs, inverse.ravel())


def _terms(params, x, T, pairs, inverse) -> tuple[np.ndarray, np.ndarray]:
    """The two terms, the tail I computed once per distinct (x, t) in ``pairs`` (``inverse``: the
    rows of (x, t_x) then of (x, T) in them)."""
    r, alpha, s, beta = params
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    tail = _log_tail(params, pairs[:, 0], pairs[:, 1])[inverse]
    at_last, at_end = tail[: len(x)], tail[len(x) :]
    with np.errstate(divide="ignore"):
        died = np.log(s) + at_last + np.log(-np.expm1(np.minimum(at_end - at_last, 0.0)))  # -inf when t_x = T
    return alive, died


def _loglik(params, x, alive_died) -> np.ndarray:
    from scipy.special import gammaln

    r, alpha, s, beta = params
    alive, died = alive_died
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(alive, died)


def log_likelihood(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood at ``params`` = (r, alpha, s, beta)."""
    x, t_x, T = (np.ravel(np.asarray(v, dtype=float)) for v in np.broadcast_arrays(x, t_x, T))
    return _loglik(params, x, _alive_and_died(params, x, t_x, T))


def fit(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood Pareto/NBD on a customer summary (columns frequency, recency, T in weeks).
    Above ``WARM_ROWS`` distinct rows, a first fit on every k-th of them (sorted by x, t_x, T: every
    frequency represented) gives the full fit a start near its optimum and the curvature there: Newton
    steps on that curvature reach the full data's optimum (the search runs only if they do not
    settle), and the costly full likelihood is evaluated about a third as often."""
    px, pt, pT, w = pooled(summary, "Pareto/NBD")
    mean_T, mean_x = np.sum(w * pT) / w.sum(), np.sum(w * px) / w.sum()
    start = np.log([0.5, max(mean_T / max(mean_x, 1e-3), 1e-2), 0.5, max(mean_T, 1.0)])
    if len(px) > WARM_ROWS:
        every = slice(None, None, -(-len(px) // WARM_ROWS))
        negll = _mean_negll(px[every], pt[every], pT[every], w[every])
        warm = np.log(maximise(negll, start, PARAMS, w[every].sum(), len(summary), "pareto_nbd").values)
        return maximise(
            _mean_negll(px, pt, pT, w),
            warm,
            PARAMS,
            w.sum(),
            len(summary),
            "pareto_nbd",
            hessian=numerical_hessian(negll, warm),
        )
    return maximise(_mean_negll(px, pt, pT, w), start, PARAMS, w.sum(), len(summary), "pareto_nbd")


def _mean_negll(px, pt, pT, w) -> Callable[[np.ndarray], float]:
    """The mean negative log-likelihood of pooled rows (x, t_x, T) of weights w over log parameters,
    the tail computed once per distinct (x, t)."""
    pairs, inverse = np.unique(np.column_stack([np.r_[px, px], np.r_[pt, pT]]), axis=0, return_inverse=True)
    inverse = inverse.ravel()

    def negll(theta):
        params = np.exp(theta)
        return -np.sum(w * _loglik(params, px, _terms(params, px, pT, pairs, inverse))) / w.sum()

    return negll


def p_alive(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability each customer is still active at T, from (x, t_x, T) in weeks."""
    from scipy.special import expit

    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    alive, died = _alive_and_died(params, x.ravel(), t_x.ravel(), T.ravel())
    return expit(alive - died).reshape(x.shape)


def expected_purchases_if_alive(params: Sequence[float], x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks of customers alive at T with x repeat purchases:
    (r+x)(beta+T) / (alpha+T) times (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1), whose limit at
    s = 1 is log(1 + t/(beta+T))."""
    r, alpha, s, beta = params
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    growth = np.log1p(t / (beta + T))
    lifetime = growth if abs(s - 1) < 1e-9 else -np.expm1(-(s - 1) * growth) / (s - 1)
    return (r + x) * (beta + T) / (alpha + T) * lifetime


def expected_purchases(params: Sequence[float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks, given each customer's (x, t_x, T)."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, x, T, t)
