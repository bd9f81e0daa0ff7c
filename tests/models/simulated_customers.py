"""Customers drawn from a purchase model with known parameters, for recovery tests: a calibration
summary (frequency, recency, T in weeks), the purchases of the next ``holdout`` weeks and whether
each customer was alive at T. Written from the models' stories, not from their formulas.

BG/NBD: after each repeat purchase the customer leaves with probability p; MBG/NBD: also at the
first purchase; Pareto/NBD: an exponential lifetime of rate mu ~ Gamma(s, beta).
"""

import numpy as np
import pandas as pd


def simulate(model: str, params, n: int, seed: int, holdout: float = 52.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.uniform(26.0, 104.0, n)
    r, alpha = params[0], params[1]
    lam = rng.gamma(r, 1.0 / alpha, n)
    horizon = T + holdout
    counts = rng.poisson(lam * horizon)
    owner = np.repeat(np.arange(n), counts)
    times = rng.uniform(0.0, 1.0, counts.sum()) * horizon[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts) + 1  # 1, 2, ... per customer
    if model == "pareto_nbd":
        s, beta = params[2], params[3]
        death = rng.exponential(1.0 / rng.gamma(s, 1.0 / beta, n))
        kept = times < death[owner]
        alive = death > T
    else:
        a, b = params[2], params[3]
        purchases = rng.geometric(rng.beta(a, b, n)) - (1 if model == "mbg_nbd" else 0)  # made before leaving
        kept = rank <= purchases[owner]
        made_by_T = np.bincount(owner[times <= T[owner]], minlength=n)
        alive = made_by_T < purchases
    before = kept & (times <= T[owner])
    after = kept & (times > T[owner])
    frequency = np.bincount(owner[before], minlength=n)
    recency = np.zeros(n)
    np.maximum.at(recency, owner[before], times[before])
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "holdout_purchases": np.bincount(owner[after], minlength=n),
            "alive": alive,
        }
    )


def assert_agrees_with_simulation(customers: pd.DataFrame, alive, predicted, frequent: int, label: str = "") -> None:
    """The mean P(alive) equals the share of ``customers`` alive, and the expected holdout purchases
    ``predicted`` equal those made, overall and among customers with ``frequent`` or more repeat
    purchases: each within 4 standard errors of the simulated mean."""
    assert abs(alive.mean() - customers.alive.mean()) < 4 * customers.alive.std() / np.sqrt(len(customers)), label
    for rows in (slice(None), (customers.frequency >= frequent).to_numpy()):
        actual = customers.holdout_purchases[rows]
        assert abs(predicted[rows].mean() - actual.mean()) < 4 * actual.std() / np.sqrt(len(actual)), label
