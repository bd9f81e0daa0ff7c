"""What a proposed plan would earn, estimated from the randomised campaign history alone (own data
has no truth): inverse-propensity (IPW) and doubly-robust (DR) estimates with a 95% interval.

Each past campaign is an arm whose customers were drawn at random into treatment (share ``e``) or
control. For a policy that gives arm a to some customers, the incremental margin it earns on a
campaign row is estimated without bias by 1{policy = a} (w y / e - (1 - w) y / (1 - e)) (IPW), or,
less noisily, by adding an outcome model's prediction and weighting only its residuals (DR, with
outcome models cross-fitted on two folds). Scaled to the customers who may receive each arm today.
The estimate is of the effects as they were in the history: a world whose effects drift is not
promised the same value (``helpers.audit`` checks it against the played truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from helpers.models.uplift import UpliftInputError, default_estimator


def _dr_terms(X: np.ndarray, y: np.ndarray, w: np.ndarray, e: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row, the doubly-robust score of treating: mu1 - mu0 + w (y - mu1) / e - (1 - w)(y - mu0) / (1 - e),
    the outcome models mu1, mu0 fitted on the other fold of a random split (cross-fitting)."""
    fold = rng.random(len(y)) < 0.5
    mu1, mu0 = np.zeros(len(y)), np.zeros(len(y))
    seed = int(rng.integers(2**31))
    for test in (fold, ~fold):
        train = ~test
        for group, mu in ((1, mu1), (0, mu0)):
            rows = train & (w == group)
            mu[test] = (
                default_estimator(seed).fit(X[rows], y[rows]).predict(X[test]) if rows.sum() >= 20 else y[rows].mean()
            )
    return mu1 - mu0 + w * (y - mu1) / e - (1 - w) * (y - mu0) / (1 - e)


def policy_value(
    history: pd.DataFrame,
    chosen: ArrayLike,
    features: list[str],
    reachable: pd.Series,
    costs: pd.Series,
    seed: int | np.random.Generator,
    outcome: str = "margin",
    level: float = 0.95,
) -> pd.DataFrame:
    """The incremental ``outcome`` (EUR) a policy would earn, after contact costs, estimated from the
    randomised ``history`` (rows: campaign_id, arm, w, the outcome and ``features``, as
    ``nbo.training_table`` makes them). ``chosen``: per history row the arm the policy gives that
    customer at that time, or "no contact" (any name that is not an arm).
    ``reachable``: per arm, the customers who may receive it today (what each campaign's random draw
    stands for). One row per arm and a total: method (IPW, DR), estimate, se, low, high (EUR)."""
    rng = np.random.default_rng(seed)
    chosen = np.asarray(chosen, dtype=object)
    if len(chosen) != len(history):
        raise UpliftInputError(f"chosen has {len(chosen)} entries for {len(history)} history rows.")
    rows = []
    for arm, group in history.groupby("arm", sort=True):
        at = history.index.get_indexer(group.index)
        y, w = group[outcome].to_numpy(float), group.w.to_numpy(int)
        e = group.groupby("campaign_id").w.transform("mean").to_numpy(float)  # each campaign's own draw
        if not ((0 < e) & (e < 1)).all():
            raise UpliftInputError(
                f"arm {arm}: no randomised control or treatment group; its value cannot be estimated."
            )
        picked = chosen[at] == arm
        ipw = w * y / e - (1 - w) * y / (1 - e)
        dr = _dr_terms(group[features].to_numpy(float), y, w, e, rng)
        n = float(reachable.get(arm, 0))
        for method, score in (("IPW", ipw), ("DR", dr)):
            terms = picked * (score - float(costs[arm]))
            rows.append(
                {
                    "arm": arm,
                    "method": method,
                    "estimate": n * terms.mean(),
                    "se": n * terms.std(ddof=1) / np.sqrt(len(terms)),
                }
            )
    table = pd.DataFrame(rows)
    total = table.groupby("method", sort=False).agg(
        estimate=("estimate", "sum"), se=("se", lambda s: float(np.sqrt((s**2).sum())))
    )
    table = pd.concat([table, total.reset_index().assign(arm="total")], ignore_index=True)
    z = stats.norm.ppf(0.5 + level / 2)
    return table.assign(low=table.estimate - z * table.se, high=table.estimate + z * table.se)
