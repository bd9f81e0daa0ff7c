"""BG/NBD with time-invariant customer attributes (Fader & Hardie 2007, "Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models", http://brucehardie.com/notes/019/).

For a customer with attribute dummies d (one per level other than the most common, the baseline):
lambda ~ Gamma(r, alpha0 exp(-beta'd)), so the mean purchase rate is (r / alpha0) exp(beta'd) and
exp(beta_k) is the ratio of purchase rates of level k to the baseline; the drop-out probability
p ~ Beta(a0 exp(gamma1'd), b0 exp(gamma2'd)). Each customer's likelihood is the BG/NBD one at their
own (r, alpha, a, b), fitted by maximum likelihood (identical rows pooled per attribute group).
Attributes are categorical (acquisition source, region, an age band): bin a number before using it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import ModelInputError
from helpers.models import bg_nbd
from helpers.models.likelihood import Fit, maximise

MIN_CUSTOMERS = 30  # a level with fewer customers is refused: its effects would be noise


@dataclass
class CovariateFit:
    """A BG/NBD fit with attributes: ``fit`` holds r, alpha, a, b (at the baseline) then, per dummy
    "column=level", its multipliers "rate|..." (exp beta), "a|..." (exp gamma1) and "b|..." (exp gamma2);
    ``baselines`` maps each attribute to its baseline level."""

    fit: Fit
    dummies: list[str]
    baselines: dict[str, str]


def design(attributes: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """0/1 dummies of every level but the most common (ties: the first in sort order) of each column of
    ``attributes``, and those baseline levels. A missing value or a level with fewer than
    ``MIN_CUSTOMERS`` customers is refused, naming the column."""
    columns, baselines = {}, {}
    for name in attributes.columns:
        values = attributes[name]
        if values.isna().any():
            raise ModelInputError(
                f"attribute {name!r} is missing for {int(values.isna().sum())} customers: map it or fill it "
                "(e.g. 'unknown') before fitting covariates."
            )
        counts = values.astype(str).value_counts().sort_index().sort_values(ascending=False, kind="stable")
        small = counts[counts < MIN_CUSTOMERS]
        if len(small):
            raise ModelInputError(
                f"attribute {name!r}: level(s) {list(small.index)} have fewer than {MIN_CUSTOMERS} customers; "
                "merge them into a larger level."
            )
        baselines[name] = str(counts.index[0])
        for level in sorted(counts.index[1:]):
            columns[f"{name}={level}"] = (values.astype(str) == level).astype(float).to_numpy()
    return pd.DataFrame(columns, index=attributes.index), baselines


def fit(summary: pd.DataFrame, attributes: pd.DataFrame) -> CovariateFit:
    """Maximum-likelihood BG/NBD with ``attributes`` (rows as ``summary``'s: frequency, recency, T)."""
    if len(attributes) != len(summary):
        raise ModelInputError(f"attributes have {len(attributes)} rows, the summary {len(summary)}: align them.")
    dummies, baselines = design(attributes.reset_index(drop=True))
    k = dummies.shape[1]
    groups, group_of = np.unique(dummies.to_numpy(), axis=0, return_inverse=True)
    data = []
    for g in range(len(groups)):
        px, pt, pT, w = bg_nbd.pooled(summary[group_of.ravel() == g], "BG/NBD")
        data.append((px, pt, pT, w, *np.unique(px, return_inverse=True)))  # distinct x: once, not per evaluation
    total = sum(d[3].sum() for d in data)

    def negll(theta):
        r, alpha, a, b = np.exp(theta[:4])
        beta, gamma1, gamma2 = theta[4 : 4 + k], theta[4 + k : 4 + 2 * k], theta[4 + 2 * k :]
        ll = 0.0
        for row, (px, pt, pT, w, unique_x, inverse) in zip(groups, data, strict=True):
            scale = np.exp([-np.sum(row * beta), np.sum(row * gamma1), np.sum(row * gamma2)])
            group_params = (r, alpha * scale[0], a * scale[1], b * scale[2])
            ll += np.sum(w * bg_nbd.log_likelihood_by_x(group_params, px, pt, pT, unique_x, inverse))
        return -ll / total

    plain = bg_nbd.fit(summary)
    start = np.concatenate([np.log(plain.values), np.zeros(3 * k)])
    names = [*bg_nbd.PARAMS, *(f"{part}|{d}" for part in ("rate", "a", "b") for d in dummies.columns)]
    return CovariateFit(
        maximise(negll, start, names, total, len(summary), "bgnbd_covariates"), list(dummies), baselines
    )


def effects(fitted: CovariateFit, level: float = 0.95) -> pd.DataFrame:
    """Per attribute level against its baseline: the ratio of mean purchase rates exp(beta) and the
    ratio of mean drop-out probabilities a/(a+b) after a purchase, each with its ``level`` interval
    (Wald on the log ratio, delta method), and a sentence saying it in words."""
    from scipy.stats import norm

    fit, k = fitted.fit, len(fitted.dummies)
    cov = np.asarray(fit.log_covariance)
    theta = np.log(fit.values)
    z = norm.ppf(0.5 + level / 2)
    rows = []
    for j, dummy in enumerate(fitted.dummies):
        column, value = dummy.split("=", 1)
        i_rate, i_a, i_b = 4 + j, 4 + k + j, 4 + 2 * k + j
        a0, b0 = np.exp(theta[2]), np.exp(theta[3])
        a_g, b_g = a0 * np.exp(theta[i_a]), b0 * np.exp(theta[i_b])
        s_g, s_0 = b_g / (a_g + b_g), b0 / (a0 + b0)
        log_drop = np.log(a_g / (a_g + b_g)) - np.log(a0 / (a0 + b0))
        gradient = np.zeros(len(theta))
        gradient[[2, 3, i_a, i_b]] = [s_g - s_0, s_0 - s_g, s_g, -s_g]
        se_rate, se_drop = np.sqrt(cov[i_rate, i_rate]), np.sqrt(gradient @ cov @ gradient)
        rows.append(
            {
                "attribute": column,
                "level": value,
                "baseline": fitted.baselines[column],
                "purchase_rate_ratio": np.exp(theta[i_rate]),
                "rate_low": np.exp(theta[i_rate] - z * se_rate),
                "rate_high": np.exp(theta[i_rate] + z * se_rate),
                "dropout_ratio": np.exp(log_drop),
                "dropout_low": np.exp(log_drop - z * se_drop),
                "dropout_high": np.exp(log_drop + z * se_drop),
            }
        )
    table = pd.DataFrame(rows)
    table["in_words"] = [_in_words(row, level) for row in table.itertuples()]
    return table


def _in_words(row, level: float) -> str:
    interval = f"{level:.0%} interval"
    return (
        f"Customers with {row.attribute} {row.level} buy {row.purchase_rate_ratio:.2f}x as often as those with "
        f"{row.baseline} ({interval} {row.rate_low:.2f}-{row.rate_high:.2f}); after a purchase they leave with a "
        f"probability {row.dropout_ratio:.2f}x as high ({row.dropout_low:.2f}-{row.dropout_high:.2f})."
    )
