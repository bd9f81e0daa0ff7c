"""Expectations over p ~ Beta(a, b) by Gauss quadrature, stable and cheap for any b.

scipy's Gauss-Jacobi rule scales its weights by 2^(a+b), which overflows once a + b passes about
1,024: b grows with a customer's repeat purchases, so the most frequent customers got NaN values.
Here Gauss-Jacobi serves only small b (below ``LARGE_B``, a few distinct rules). For larger b, with
u = b (-log(1 - p)) the Beta density becomes u^(a-1) e^(-u) h(u / b), h(y) = ((1 - e^-y) / y)^(a-1)
smooth and close to 1: one generalised Gauss-Laguerre rule (weight u^(a-1) e^-u) serves every b,
its weights multiplied by h and renormalised, in one vectorised step. The two rules agree to 3e-11
at b = 32 on the functions used here, and the large-b rule improves as b grows.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

POINTS = 48
LARGE_B = 32.0  # from here on the Laguerre form


def beta_rules(a: float, b: ArrayLike, points: int = POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in (0, 1) and weights (summing to 1) for E[f(p)], p ~ Beta(a, b), one rule per value
    of ``b``: two arrays of shape (len(b), points)."""
    b = np.atleast_1d(np.asarray(b, dtype=float))
    nodes, weights = np.empty((len(b), points)), np.empty((len(b), points))
    small = b < LARGE_B
    for i in np.flatnonzero(small):
        nodes[i], weights[i] = _jacobi(float(a), float(b[i]), points)
    if np.any(~small):
        u, w = _laguerre(float(a), points)
        y = u[None, :] / b[~small, None]
        p = -np.expm1(-y)
        scaled = w[None, :] * np.exp((a - 1) * (np.log(p) - np.log(y)))
        nodes[~small], weights[~small] = p, scaled / scaled.sum(axis=1, keepdims=True)
    return nodes, weights


@functools.lru_cache(maxsize=4096)
def _jacobi(a: float, b: float, points: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import roots_jacobi

    x, w = roots_jacobi(points, b - 1, a - 1)  # weight (1-x)^(b-1) (1+x)^(a-1) on [-1, 1], p = (1+x)/2
    return (1 + x) / 2, w / w.sum()


@functools.lru_cache(maxsize=256)
def _laguerre(a: float, points: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import roots_genlaguerre

    return roots_genlaguerre(points, a - 1)
