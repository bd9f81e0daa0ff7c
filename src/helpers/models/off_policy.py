"""What a proposed plan would earn, estimated from the randomised campaign history alone (own data
has no truth): inverse-propensity (IPW) and doubly-robust (DR) estimates with a 95% interval.

Each past campaign is an arm whose customers were drawn at random into treatment (share ``e``) or
control. The incremental margin of one contact of arm a with customer i is estimated without bias,
on each of i's past rows of arm a, by w y / e - (1 - w) y / (1 - e) (IPW), or, less noisily, by an
outcome model's prediction plus the weighted residuals (DR, outcome models cross-fitted on two
folds of customers). A plan's value is, per arm, its contacts times the mean score over the past
rows of the customers it gives that arm, less the contact cost; the interval is clustered by
customer (one customer's rows are not independent), and each group's spread is taken at least as
wide as both groups' pooled one: a control group of ten customers who all happened to buy nothing
does not prove the outcome has no spread (without it, 17 of 20 seeds' intervals held the played
truth of the optimised plan, benchmarks/off_policy.py).

The estimate is honest only if the plan was not learned from the rows that value it: learn it with
each customer's own rows held out (``next_best_offer.cross_fitted_margins``). It is of the effects
as they were in the history: a world whose effects drift is not promised the same value
(``helpers.audit`` checks it against the played truth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np
import pandas as pd

from helpers.models import parallel
from helpers.models.uplift import UpliftInputError, default_estimator

METHODS = ("IPW", "DR")
T = TypeVar("T")


class Store(Protocol):
    """Where a result drawn at random is kept between notebooks (``helpers.run.cache.ArmStore``)."""

    def drawn(
        self, name: str, inputs: list[pd.DataFrame | str], rng: np.random.Generator, compute: Callable[[], T]
    ) -> T:
        """``compute()``, which reads ``inputs`` and draws from ``rng``, kept before or computed now; ``rng``
        left where computing it leaves it."""
        ...


def _dr_terms(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, e: np.ndarray, fold: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the doubly-robust score of treating, mu1 - mu0 + w (y - mu1) / e - (1 - w)(y - mu0) / (1 - e),
    and the residual of the row's own group (y - mu1 treated, y - mu0 control), the outcome models mu1,
    mu0 fitted on the other ``fold`` (cross-fitting; 0 where that fold holds none of the group)."""
    mu1, mu0 = np.zeros(len(y)), np.zeros(len(y))
    for test in (fold, ~fold):
        train = ~test
        for group, mu in ((1, mu1), (0, mu0)):
            rows = train & (w == group)
            if rows.sum() >= 20:
                mu[test] = default_estimator(seed).fit(X[rows], y[rows]).predict(X[test])
            elif rows.any():  # too few to learn from: their mean; none: no model, the IPW term
                mu[test] = y[rows].mean()
    residual = np.where(w == 1, y - mu1, y - mu0)
    return mu1 - mu0 + w * (y - mu1) / e - (1 - w) * (y - mu0) / (1 - e), residual


def _mean_and_se(
    terms: np.ndarray, residual: np.ndarray, w: np.ndarray, e: np.ndarray, customers: np.ndarray
) -> tuple[float, float]:
    """Mean of ``terms`` and its standard error: clustered by customer, plus, for a group (treated,
    control) whose ``residual``s spread less than both groups' pooled variance, the variance it
    misses (each of its rows weighted as in the score: 1/e treated, 1/(1 - e) control)."""
    mean = float(terms.mean())
    by = pd.Series(terms - mean).groupby(customers).sum().to_numpy()
    variance = float((by**2).sum())
    groups = [(w == 1, 1 / e), (w == 0, 1 / (1 - e))]
    own = [residual[rows].var(ddof=1) if rows.sum() > 1 else 0.0 for rows, _ in groups]
    freedom = [max(int(rows.sum()) - 1, 0) for rows, _ in groups]
    if sum(freedom) > 0:
        pooled = float(np.dot(freedom, own)) / sum(freedom)
        for (rows, weight), s2 in zip(groups, own, strict=True):
            variance += float((weight[rows] ** 2).sum()) * max(0.0, pooled - s2)
    return mean, float(np.sqrt(variance) / len(terms))


def row_scores(
    history: pd.DataFrame,
    features: list[str],
    seed: int | np.random.Generator,
    outcome: str = "margin",
    store: Store | None = None,
) -> pd.DataFrame:
    """Per row of the randomised ``history`` (campaign_id, customer_id, arm, w, the outcome and
    ``features``, as ``nbo.training_table`` makes them), the unbiased score of one contact of its
    arm with its customer (EUR before cost): IPW and DR, the DR outcome models fitted per arm on the
    other of two random folds of customers, with each score's residual (the outcome less its group's
    model: the outcome itself for IPW) and the row's propensity (its campaign's treated share).
    Indexed like ``history``; any plan is valued from it. With a ``store``, computed once for the same
    history, features, outcome and generator state (notebooks 30 and 40 value their plans on the same)."""
    rng = np.random.default_rng(seed)
    if store is None:
        return _row_scores(history, features, rng, outcome)
    inputs: list[pd.DataFrame | str] = [history, "\0".join(features), outcome]
    return store.drawn("scores", inputs, rng, lambda: _row_scores(history, features, rng, outcome))


def _row_scores(history: pd.DataFrame, features: list[str], rng: np.random.Generator, outcome: str) -> pd.DataFrame:
    customers = pd.unique(history.customer_id)
    fold_of = pd.Series(rng.random(len(customers)) < 0.5, index=customers)
    learner_seed = int(rng.integers(2**31))
    columns = [*METHODS, *(f"{method} residual" for method in METHODS), "propensity"]
    arms = []  # per arm: its rows' positions, propensities, outcomes, treatments and folds
    for arm, positions in sorted(history.groupby("arm").indices.items()):
        group = history.iloc[positions]
        e = group.groupby("campaign_id").w.transform("mean").to_numpy(float)  # each campaign's own draw
        if not ((0 < e) & (e < 1)).all():
            raise UpliftInputError(
                f"arm {arm}: no randomised control or treatment group; its value cannot be estimated."
            )
        fold = fold_of.loc[group.customer_id].to_numpy()
        arms.append((positions, e, group[outcome].to_numpy(float), group.w.to_numpy(int), fold))
    tasks = (  # each arm's features built as a worker frees up
        (history.iloc[rows][features].to_numpy(float), y, w, e, fold, learner_seed) for rows, e, y, w, fold in arms
    )
    scores = np.full((len(history), len(columns)), np.nan)
    for (rows, e, y, w, _), (dr, dr_residual) in zip(arms, parallel.starmap(_dr_terms, tasks), strict=True):
        scores[rows] = np.column_stack([w * y / e - (1 - w) * y / (1 - e), dr, y, dr_residual, e])  # IPW first
    return pd.DataFrame(scores, index=history.index, columns=columns)


def latest_campaigns(history: pd.DataFrame, campaigns: pd.DataFrame, per_arm: int = 2) -> pd.Series:
    """True for the ``history`` rows of each arm's ``per_arm`` most recent campaigns (``campaigns``:
    campaign_id, channel, offer, start_date; by default the last year of a monthly calendar cycling
    six arms). Value a plan for today on them: a customer who has lapsed since an older campaign no
    longer responds as then."""
    dated = campaigns.assign(arm=campaigns.channel + " · " + campaigns.offer).sort_values("start_date")
    keep = dated.groupby("arm").tail(per_arm).campaign_id
    return history.campaign_id.isin(keep)


def plan_value(
    history: pd.DataFrame, scores: pd.DataFrame, plan: pd.DataFrame, costs: pd.Series, level: float = 0.95
) -> pd.DataFrame:
    """The incremental margin (EUR) a ``plan`` (one row per planned contact: customer_id, channel,
    offer, as ``world.play`` and the exported lists take it; a customer appears once per campaign of
    a repeated plan) would earn after contact costs (EUR per contact, by arm), from the ``history``'s
    ``row_scores``. One row per arm of the plan and a total: method (IPW, DR), contacts, history
    rows used, estimate, se, low, high (EUR). An arm none of whose planned customers was in its past
    campaigns is valued at its average effect over all its rows."""
    plan = plan.assign(arm=plan.channel + " · " + plan.offer)  # the arm's name, as nbo.arms makes it
    unknown = sorted(set(plan.arm) - set(history.arm))
    if unknown:
        raise UpliftInputError(f"the plan uses arm(s) {unknown} that no past campaign tried: no value to estimate.")
    rows = []
    for arm, contacts in plan.groupby("arm", sort=True):
        picked = (history.arm == arm) & history.customer_id.isin(contacts.customer_id)
        if not picked.any():  # none of its customers was drawn: the arm's average effect stands in
            picked = history.arm == arm
        for method in METHODS:
            mine = scores[picked]
            mean, se = _mean_and_se(
                mine[method].to_numpy(float), mine[f"{method} residual"].to_numpy(float),
                history.w[picked].to_numpy(int), mine.propensity.to_numpy(float),
                history.customer_id[picked].to_numpy(),
            )  # fmt: skip
            n = len(contacts)
            rows.append(
                {"arm": arm, "method": method, "contacts": n, "rows": int(picked.sum()),
                 "estimate": n * (mean - float(costs[arm])), "se": n * se}
            )  # fmt: skip
    table = pd.DataFrame(rows, columns=["arm", "method", "contacts", "rows", "estimate", "se"])
    total = [
        {"arm": "total", "method": method, **part[["contacts", "rows", "estimate"]].sum().to_dict(),
         "se": float(np.sqrt((part.se**2).sum()))}
        for method in METHODS
        for part in [table[table.method == method]]
    ]  # fmt: skip
    table = pd.concat([table, pd.DataFrame(total)], ignore_index=True)
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    return table.assign(low=table.estimate - z * table.se, high=table.estimate + z * table.se)
