"""Maximum likelihood in log parameters: the optimum, polished so it is the same on any machine,
and standard errors from a numerical Hessian (delta method)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Fit:
    """A fitted model (``model``: its short name, e.g. "bgnbd"): parameters, standard errors (delta
    method), log-likelihood, convergence; ``basis`` says what it was fitted on when a model has
    options (Gamma-Gamma: "repeat_occasions" or "orders"); ``log_covariance``: the asymptotic covariance
    of the log parameters (inverse Hessian of the negative log-likelihood), from which
    ``clv_intervals`` draws parameter vectors."""

    model: str
    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    basis: str = ""
    log_covariance: tuple[tuple[float, ...], ...] = ()

    def table(self) -> pd.DataFrame:
        """Parameters with standard errors (to 4 decimals), one row each; "not identified" where the
        likelihood has no curvature to give one."""
        errors = [self.std_errors[k] for k in self.params]
        return pd.DataFrame(
            {
                "parameter": list(self.params),
                "estimate": list(self.params.values()),
                "std_error": [float(np.round(e, 4)) if np.isfinite(e) else "not identified" for e in errors],
            }
        )

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(self.params.values())

    @property
    def aic(self) -> float:
        """Akaike's information criterion, 2k - 2 LL."""
        return 2 * len(self.params) - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Schwarz's Bayesian information criterion, k ln(n) - 2 LL, n the customers."""
        return len(self.params) * float(np.log(self.n_customers)) - 2 * self.log_likelihood


def maximise(
    negll: Callable[[np.ndarray], float],
    start: np.ndarray,
    names: Sequence[str],
    n_weight: float,
    n_customers: int,
    model: str,
    basis: str = "",
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
    hessian: np.ndarray | None = None,
) -> Fit:
    """The ``Fit`` maximising the likelihood: ``negll`` is the mean negative log-likelihood per unit
    of weight (``n_weight`` in all) over log parameters, from ``start``; L-BFGS-B within [-12, 12]
    (Nelder-Mead within the same bounds when it fails), then polished; the parameters ``names``
    are reported on their own scale, standard errors by the delta method (NaN for a parameter
    along which the Hessian shows no curvature: a flat ridge, where the data do not identify it);
    ``model`` and ``basis`` label the ``Fit``; ``gradient`` (of ``negll``, analytic) spares
    L-BFGS-B its finite differences; an optimum whose likelihood is not finite is never reported
    as converged. Given the ``hessian`` of ``negll`` near a start close to the optimum (e.g. a
    subsample's fit and Hessian), Newton steps on that Hessian go first, and the search runs only
    if they do not settle."""
    theta, settled = (start, False) if hessian is None else _polish(negll, start, steps=12, hessian=hessian)
    converged, message = settled, "Newton steps from the start settled"
    if not settled:
        theta, converged, message = _search(negll, theta, gradient)
    value = negll(theta)
    if not np.isfinite(value):
        converged, message = False, f"the log-likelihood is not finite at the optimum ({message})"
    hess = numerical_hessian(negll, theta) * n_weight
    try:
        covariance = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        covariance = np.full((len(start), len(start)), np.nan)
    variance = np.diag(covariance)
    se = np.exp(theta) * np.sqrt(np.where(variance >= 0, variance, np.nan))  # NaN: no curvature to measure
    return Fit(
        model,
        dict(zip(names, np.exp(theta).tolist(), strict=True)),
        dict(zip(names, se.tolist(), strict=True)),
        float(-value * n_weight),
        int(n_customers),
        converged,
        message,
        basis,
        tuple(tuple(row) for row in covariance.tolist()),
    )


def _search(negll, theta: np.ndarray, gradient) -> tuple[np.ndarray, bool, str]:
    """L-BFGS-B within [-12, 12] from ``theta`` (Nelder-Mead in the same box when it fails), then
    polished: the optimum, whether the search converged, and its message."""
    from scipy.optimize import minimize

    box = [(-12, 12)] * len(theta)
    options = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000}
    res = minimize(negll, theta, jac=gradient, method="L-BFGS-B", bounds=box, options=options)
    if not res.success:
        options = {"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12}
        res = minimize(negll, res.x, method="Nelder-Mead", bounds=box, options=options)
    polished, _ = _polish(negll, res.x)
    return polished, bool(res.success), str(res.message)


def _polish(f, theta, steps: int = 8, hessian: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """Newton steps from the optimiser's point, on central differences (on ``hessian`` when given),
    kept while they lower ``f``; with whether they settled (the last step below 1e-6). L-BFGS-B stops within about 1e-6
    of the optimum, and where exactly depends on the machine's BLAS kernels (parameters moved in the
    6th digit between OpenBLAS's Haswell and Sandybridge kernels); the polished optimum agrees to
    about 1e-10 on any of them."""
    best, size = f(theta), np.inf
    for _ in range(steps):
        try:
            curvature = numerical_hessian(f, theta) if hessian is None else hessian
            step = np.linalg.solve(curvature, _central_gradient(f, theta))
        except np.linalg.LinAlgError:
            break
        size = float(np.max(np.abs(step)))
        if not np.all(np.isfinite(step)) or f(theta - step) > best:
            break
        theta, best = theta - step, f(theta - step)
        if size < 1e-7:  # the floor of the numerical derivatives' noise: further steps only wander
            break
    return theta, size < 1e-6


def _central_gradient(f, theta, step: float = 1e-5) -> np.ndarray:
    return np.array([(f(theta + e) - f(theta - e)) / (2 * step) for e in np.eye(len(theta)) * step])


def numerical_hessian(f: Callable[[np.ndarray], float], theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``theta``: f(theta +- e_i +- e_j) over 4 step^2, f(theta)
    evaluated once for the diagonal's two middle terms (33 evaluations for 4 parameters, not 40)."""
    k = len(theta)
    hess = np.zeros((k, k))
    centre = f(theta)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * step, np.eye(k)[j] * step
            middle = (f(theta + ei - ej), f(theta - ei + ej)) if i != j else (centre, centre)
            hess[i, j] = hess[j, i] = (f(theta + ei + ej) - middle[0] - middle[1] + f(theta - ei - ej)) / (4 * step**2)
    return hess
