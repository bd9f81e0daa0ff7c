"""Incremental response: who changes their behaviour because we contact them, for several arms
(channel x offer) at once, learned from past randomised campaigns.

Written here rather than taken from a library: scikit-uplift has been quiet since 2022 and
causalml / econml bring heavy dependency trees for three meta-learners on scikit-learn estimators.

Conventions: ``y`` the outcome (1/0 conversion, or EUR), ``w`` 1 for treatment and 0 for control,
``score`` the predicted uplift (higher = contact first). Curves sort by score, best first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.models.effects import difference_in_means

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.ensemble import HistGradientBoostingRegressor


class UpliftInputError(ModelInputError):
    """The campaign data cannot support an uplift estimate; the message says why."""


# ---------------------------------------------------------------- metrics


def qini_curve(y: ArrayLike, w: ArrayLike, score: ArrayLike, points: int = 101) -> pd.DataFrame:
    """Qini curve (Radcliffe 2007): for the top share of customers by score, the incremental
    outcome Q = Y_T - Y_C * N_T / N_C (treated outcome minus the control outcome scaled to the
    treated count). Columns: share (0..1), incremental, random (the diagonal to the full-base Q)."""
    y, w, score = (np.asarray(v, dtype=float) for v in (y, w, score))
    order = np.argsort(-score, kind="stable")
    y, w = y[order], w[order]
    n_t, n_c = np.cumsum(w), np.cumsum(1 - w)
    y_t, y_c = np.cumsum(y * w), np.cumsum(y * (1 - w))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c > 0, y_t - y_c * n_t / n_c, y_t)
    share = np.linspace(0, 1, points)
    idx = np.clip(np.ceil(share * len(y)).astype(int) - 1, 0, len(y) - 1)
    incremental = np.where(share == 0, 0.0, q[idx])
    return pd.DataFrame({"share": share, "incremental": incremental, "random": share * q[-1]})


def qini_coefficient(y: ArrayLike, w: ArrayLike, score: ArrayLike) -> float:
    """Area between the Qini curve and the random diagonal, per customer of the whole base (0 for
    a random scorer on average; higher is better)."""
    curve = qini_curve(y, w, score)
    return float(np.trapezoid(curve.incremental - curve.random, curve.share) / len(np.asarray(y)))


def auuc(y: ArrayLike, w: ArrayLike, score: ArrayLike) -> float:
    """Area under the Qini curve, per customer of the whole base."""
    curve = qini_curve(y, w, score)
    return float(np.trapezoid(curve.incremental, curve.share) / len(np.asarray(y)))


def uplift_at_k(y: ArrayLike, w: ArrayLike, score: ArrayLike, k: float = 0.3) -> float:
    """Mean treated minus mean control outcome among the top ``k`` share by score."""
    y, w, score = (np.asarray(v, dtype=float) for v in (y, w, score))
    top = np.argsort(-score, kind="stable")[: max(int(np.ceil(k * len(y))), 1)]
    yt, wt = y[top], w[top]
    if wt.sum() == 0 or (1 - wt).sum() == 0:
        return float("nan")
    return float(yt[wt == 1].mean() - yt[wt == 0].mean())


def true_gain_curve(true_effect: ArrayLike, score: ArrayLike, points: int = 101) -> pd.DataFrame:
    """With known effects (a synthetic world): the expected incremental outcome of contacting the
    top share by score, sum of true effects. Sorting by the true effect itself is the upper bound;
    a random order is the diagonal."""
    effect = np.asarray(true_effect, dtype=float)[np.argsort(-np.asarray(score, dtype=float), kind="stable")]
    gain = np.concatenate([[0.0], np.cumsum(effect)])
    share = np.linspace(0, 1, points)
    return pd.DataFrame({"share": share, "gain": gain[np.round(share * len(effect)).astype(int)]})


def average_effect(y: ArrayLike, w: ArrayLike, level: float = 0.95) -> dict:
    """Difference in means (treated - control) with a Welch standard error and a normal interval
    (``effects.difference_in_means``): ate, se, low, high, treated, control."""
    y, w = np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    treated, control = y[w == 1], y[w == 0]
    if len(treated) < 2 or len(control) < 2:
        raise UpliftInputError(
            f"an average effect needs at least two treated and two control customers; got "
            f"{len(treated)} and {len(control)}."
        )
    effect = difference_in_means(treated, control, level)
    return {
        "ate": effect.estimate,
        "se": effect.se,
        "low": effect.low,
        "high": effect.high,
        "treated": effect.treated,
        "control": effect.control,
    }


# ---------------------------------------------------------------- randomisation check


def balance_check(features: pd.DataFrame, w: ArrayLike) -> dict:
    """Do treatment and control differ on pre-treatment features more than chance allows?

    Standardised mean differences per feature, and a likelihood-ratio test of a logistic regression
    of the group on all features against the intercept alone (chi2 with one degree of freedom per
    feature under randomisation). Returns {"p_value", "lr", "max_abs_smd", "smd" (per feature)}."""
    from scipy import stats
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X = features.to_numpy(dtype=float)
    w = np.asarray(w, dtype=int)
    treated, control = X[w == 1], X[w == 0]
    pooled = np.sqrt((treated.var(axis=0) + control.var(axis=0)) / 2)
    smd = np.where(pooled > 0, (treated.mean(axis=0) - control.mean(axis=0)) / np.where(pooled > 0, pooled, 1), 0.0)
    Xs = StandardScaler().fit_transform(X)
    model = LogisticRegression(C=1e6, max_iter=2000).fit(Xs, w)
    p = np.clip(model.predict_proba(Xs)[:, 1], 1e-12, 1 - 1e-12)
    base = w.mean()
    ll_full = np.sum(w * np.log(p) + (1 - w) * np.log(1 - p))
    ll_null = len(w) * (base * np.log(base) + (1 - base) * np.log(1 - base))
    lr = max(2 * (ll_full - ll_null), 0.0)
    return {
        "p_value": float(stats.chi2.sf(lr, X.shape[1])),
        "lr": float(lr),
        "max_abs_smd": float(np.max(np.abs(smd))),
        "smd": dict(zip(features.columns, np.round(smd, 4).tolist(), strict=True)),
    }


# ---------------------------------------------------------------- meta-learners


def default_estimator(seed: int) -> HistGradientBoostingRegressor:
    """The base learner: gradient-boosted trees, shallow and regularised (uplift is a small signal)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=120,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=80,
        l2_regularization=1.0,
        random_state=seed,
    )


class TLearner:
    """Two models, one per group: uplift = mu_treated(x) - mu_control(x)."""

    name = "T-learner"

    def __init__(self, estimator: BaseEstimator):
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> Self:
        from sklearn.base import clone

        self.treated = clone(self.estimator).fit(X[w == 1], y[w == 1])
        self.control = clone(self.estimator).fit(X[w == 0], y[w == 0])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.treated.predict(X) - self.control.predict(X)


class XLearner(TLearner):
    """Künzel et al. (2019): T-learner first, then models of the imputed effects in each group,
    combined with the treatment share g: tau = g tau_control + (1 - g) tau_treated."""

    name = "X-learner"

    def fit(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> Self:
        super().fit(X, y, w)
        return self._fit_effects(X, y, w)

    @classmethod
    def after(cls, first: TLearner, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> XLearner:
        """The X-learner whose first stage is ``first``, a T-learner already fitted on these rows
        with the same estimator: the same model as ``fit`` gives, for two fits fewer."""
        learner = cls(first.estimator)
        learner.treated, learner.control = first.treated, first.control
        return learner._fit_effects(X, y, w)

    def _fit_effects(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> Self:
        from sklearn.base import clone

        self.share = float(np.mean(w))
        treated, control = w == 1, w == 0
        self.tau_treated = clone(self.estimator).fit(X[treated], y[treated] - self.control.predict(X[treated]))
        self.tau_control = clone(self.estimator).fit(X[control], self.treated.predict(X[control]) - y[control])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.share * self.tau_control.predict(X) + (1 - self.share) * self.tau_treated.predict(X)


class TransformedOutcome:
    """Athey & Imbens' transformed outcome y* = y (w - g) / (g (1 - g)), whose expectation given x
    is the uplift, regressed on x by one model."""

    name = "transformed outcome"

    def __init__(self, estimator: BaseEstimator):
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> Self:
        from sklearn.base import clone

        g = float(np.mean(w))
        self.model = clone(self.estimator).fit(X, y * (w - g) / (g * (1 - g)))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)


LEARNERS = (TLearner, XLearner, TransformedOutcome)


@dataclass
class ArmModel:
    """The chosen learner for one arm and outcome, every candidate's held-out Qini, and the
    calibration that shrinks its predictions toward the arm's average effect."""

    arm: str
    outcome: str
    learner: TLearner | TransformedOutcome
    qini: dict[str, float]
    average: float  # the arm's average effect (treated - control) on all rows
    centre: float  # the learner's mean prediction on all rows
    slope: float  # held-out calibration slope, in [0, 1]
    holdout: pd.DataFrame  # held-out rows: y, w and the chosen learner's score (for honest curves)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Calibrated uplift: average + slope x (raw prediction - centre). A slope below one undoes
        the over-confidence of noisy per-customer estimates (and the winner's curse of picking the
        best of several arms)."""
        return self.average + self.slope * (self.learner.predict(X) - self.centre)


def calibration_slope(y: ArrayLike, w: ArrayLike, raw: ArrayLike) -> float:
    """Slope of the transformed outcome y (w - g) / (g (1 - g)), whose expectation is the uplift,
    on the raw predicted uplift, clipped to [0, 1]: 1 when predictions are right on average, 0 when
    they carry no signal, or when the rows hold no control or no treated row (nothing to check on)."""
    y, w, raw = (np.asarray(v, dtype=float) for v in (y, w, raw))
    g = w.mean()
    spread = np.var(raw)
    if not 0 < g < 1 or spread == 0:
        return 0.0
    target = y * (w - g) / (g * (1 - g))
    return float(np.clip(np.cov(target, raw, bias=True)[0, 1] / spread, 0.0, 1.0))


def fitted_learners(X: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int) -> list[TLearner | TransformedOutcome]:
    """Every learner of ``LEARNERS`` fitted on these rows; the X-learner reuses the T-learner's fits."""
    t_learner = TLearner(default_estimator(seed)).fit(X, y, w)
    fitted: dict[type, TLearner | TransformedOutcome] = {
        TLearner: t_learner,
        XLearner: XLearner.after(t_learner, X, y, w),
    }
    return [fitted.get(learner) or learner(default_estimator(seed)).fit(X, y, w) for learner in LEARNERS]


def arm_rng(seed: int, *names: str) -> np.random.Generator:
    """The generator of one arm (and outcome) ``names``: it depends on ``seed`` and the names alone, so a
    model is the same whatever was fitted before it, and can be shared between notebooks."""
    words = [int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little") for name in names]
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=words))


@dataclass(frozen=True)
class ArmFit:
    """One arm model to fit: the arm's rows of a training ``table`` (``positions``), the ``sample`` of
    them it learns from on feature ``columns``, the seed, arm, outcome and the arm's generator
    (``arm_rng``). Rows are taken from the table when asked for: a list of fits holds no copy of it."""

    table: pd.DataFrame
    columns: tuple[str, ...]
    positions: np.ndarray
    sample: np.ndarray
    seed: int
    arm: str
    outcome: str
    rng: np.random.Generator

    def rows(self) -> pd.DataFrame:
        """The arm's rows: with the seed, arm and outcome, all its model depends on."""
        return self.table.iloc[self.positions]

    def arguments(self) -> tuple:
        """``fit_arm``'s arguments: the sampled rows' features, outcome and treatment; arm, outcome, generator."""
        rows = self.table.iloc[self.sample]
        X, y = rows[list(self.columns)].to_numpy(dtype=float), rows[self.outcome].to_numpy(float)
        return X, y, rows.w.to_numpy(int), self.arm, self.outcome, self.rng


def fit_arm(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    arm: str,
    outcome: str,
    seed: int | np.random.Generator,
    test_share: float = 0.3,
) -> ArmModel:
    """Fit every learner on a random (1 - test_share) of the rows, keep the one with the best Qini
    on the rest and its calibration slope there, then refit it on all rows."""
    if w.sum() < 10 or (1 - w).sum() < 10:
        raise UpliftInputError(
            f"arm {arm}: {int(w.sum())} treated and {int((1 - w).sum())} control customers; an "
            "uplift model needs a randomised control group of at least 10."
        )
    rng = np.random.default_rng(seed)
    test = rng.random(len(y)) < test_share
    learner_seed = int(rng.integers(2**31))
    scores, slopes, raws = {}, {}, {}
    for learner in fitted_learners(X[~test], y[~test], w[~test], learner_seed):
        raws[learner.name] = learner.predict(X[test])
        scores[learner.name] = qini_coefficient(y[test], w[test], raws[learner.name])
        slopes[learner.name] = calibration_slope(y[test], w[test], raws[learner.name])
    name = max(scores, key=lambda learner_name: scores[learner_name])
    final = next(learner for learner in LEARNERS if learner.name == name)(default_estimator(learner_seed)).fit(X, y, w)
    return ArmModel(
        arm,
        outcome,
        final,
        {k: round(v, 6) for k, v in scores.items()},
        average=average_effect(y, w)["ate"],
        centre=float(final.predict(X).mean()),
        slope=slopes[name],
        holdout=pd.DataFrame({"y": y[test], "w": w[test], "score": raws[name]}),
    )
