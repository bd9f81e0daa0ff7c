"""Dialogue marketing measured: size a campaign test before it runs, read it out honestly after.

Design: control-group sizes for a response-rate lift (statsmodels, two proportions) and for a
revenue-per-customer lift (t-test power on the revenue's standard deviation), the margin a holdout
forgoes, stratified random assignment, CUPED variance reduction with pre-period spend, several
arms against one control with a multiple-comparison correction. Readout: per arm response rate,
revenue per customer, incremental response and revenue with intervals (Newcombe for rates,
bootstrap for heavy-tailed revenue), p-values, cost per incremental response, incremental ROI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from helpers.errors import ModelInputError
from helpers.features import execute, rfm_features
from helpers.models.effects import difference_in_means, holm_adjusted

MIN_RESPONDERS = 30


class ExperimentInputError(ModelInputError):
    """A test cannot be read out (or designed) meaningfully; the message says why."""


# ---------------------------------------------------------------- design


def control_size_for_rate(
    base_rate: float, lift_points: float, alpha: float = 0.05, power: float = 0.8, treated_per_control: float = 1.0
) -> int:
    """Control customers needed to detect ``lift_points`` (absolute, e.g. 0.005 for +0.5 point) over
    ``base_rate`` with a two-sided two-proportion test; treated = control x ``treated_per_control``."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    if not 0 < base_rate < 1 or not 0 < base_rate + lift_points < 1 or lift_points == 0:
        raise ExperimentInputError(
            f"rates must lie in (0, 1) and the lift must not be 0; got base {base_rate}, lift {lift_points}."
        )
    effect = proportion_effectsize(base_rate + lift_points, base_rate)
    treated = NormalIndPower().solve_power(
        effect_size=abs(effect), alpha=alpha, power=power, ratio=1 / treated_per_control, alternative="two-sided"
    )
    return int(np.ceil(treated / treated_per_control))


def control_size_for_revenue(
    sd: float, lift_eur: float, alpha: float = 0.05, power: float = 0.8, treated_per_control: float = 1.0
) -> int:
    """Control customers needed to detect a revenue-per-customer lift of ``lift_eur`` when revenue
    per customer has standard deviation ``sd`` (EUR), two-sided t-test."""
    from statsmodels.stats.power import TTestIndPower

    if sd <= 0 or lift_eur == 0:
        raise ExperimentInputError(
            f"the revenue's standard deviation must be > 0 and the lift not 0; got {sd}, {lift_eur}."
        )
    treated = TTestIndPower().solve_power(
        effect_size=abs(lift_eur) / sd, alpha=alpha, power=power, ratio=1 / treated_per_control, alternative="two-sided"
    )
    return int(np.ceil(treated / treated_per_control))


def holdout_tradeoff(
    population: int,
    sd: float,
    margin_per_treated: float,
    shares: Sequence[float] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5),
    level: float = 0.95,
) -> pd.DataFrame:
    """What each control share buys and costs: the half-width of the interval on revenue per
    customer (EUR) against the margin not earned on held-out customers (EUR)."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for share in shares:
        control = population * share
        treated = population - control
        rows.append(
            {
                "control_share": share,
                "control_customers": int(control),
                "interval_half_width_eur": z * sd * np.sqrt(1 / control + 1 / treated),
                "margin_forgone_eur": control * margin_per_treated,
            }
        )
    return pd.DataFrame(rows).round({"interval_half_width_eur": 4, "margin_forgone_eur": 2})


def assign_groups(strata: pd.Series, arms: dict[str, float], seed: int | np.random.Generator) -> pd.Series:
    """Random assignment within each stratum (e.g. segment), so every arm gets the same mix of
    strata: ``arms`` maps arm name -> share (shares sum to 1; 'control' is the holdout)."""
    rng = np.random.default_rng(seed)
    names, shares = list(arms), np.array(list(arms.values()), dtype=float)
    if not np.isclose(shares.sum(), 1) or (shares <= 0).any():
        raise ExperimentInputError(f"arm shares must be positive and sum to 1; got {arms}.")
    out = pd.Series(index=strata.index, dtype=object, name="group")
    for _, members in strata.groupby(strata, sort=True, observed=True):
        order = rng.permutation(len(members))
        cuts = np.round(np.cumsum(shares) * len(members)).astype(int)
        labels = np.repeat(names, np.diff(np.concatenate([[0], cuts])))
        out.loc[members.index[order]] = labels
    return out


def cuped(y: ArrayLike, pre: ArrayLike) -> tuple[np.ndarray, float]:
    """CUPED: y - theta (pre - mean(pre)), theta = cov(y, pre) / var(pre). Same mean, smaller variance
    by the share corr(y, pre)^2, so the same precision needs that much fewer customers. Returns the
    adjusted outcome and theta. (Fit theta on all groups pooled: pre-period data is unaffected.)"""
    y, pre = np.asarray(y, dtype=float), np.asarray(pre, dtype=float)
    var = np.var(pre)
    theta = float(np.cov(y, pre, bias=True)[0, 1] / var) if var > 0 else 0.0
    return y - theta * (pre - pre.mean()), theta


def pre_period_revenue(tx: ibis.Table, rows: pd.DataFrame, days: int = 365) -> pd.DataFrame:
    """Each of ``rows`` (customer_id, campaign_id, start_date, revenue: EUR in the response window)
    with pre_revenue: what the customer spent (EUR, net) in the ``days`` days before the campaign's
    start, 0 without an order: the covariate CUPED would adjust on."""
    parts = []
    for campaign_id, start_date in rows.groupby("campaign_id").start_date.first().items():
        begin = pd.Timestamp(start_date).date()
        window = tx.filter((tx.order_date >= begin - dt.timedelta(days=days)) & (tx.order_date < begin))
        pre = execute(rfm_features(window, begin - dt.timedelta(days=1)))[["customer_id", "revenue"]]
        mine = rows[rows.campaign_id == campaign_id][["customer_id", "revenue"]]
        parts.append(mine.merge(pre.rename(columns={"revenue": "pre_revenue"}), on="customer_id", how="left").fillna(0))
    return pd.concat(parts)


# ---------------------------------------------------------------- readout


def bootstrap_difference(
    treated: ArrayLike, control: ArrayLike, seed: int | np.random.Generator, resamples: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval for mean(treated) - mean(control) (robust to heavy tails)."""
    rng = np.random.default_rng(seed)
    treated, control = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    diffs = np.empty(resamples)
    for b in range(resamples):
        diffs[b] = (
            treated[rng.integers(len(treated), size=len(treated))].mean()
            - control[rng.integers(len(control), size=len(control))].mean()
        )
    tail = (1 - level) / 2 * 100
    return tuple(np.percentile(diffs, [tail, 100 - tail]))


def readout(
    outcomes: pd.DataFrame,
    seed: int | np.random.Generator,
    cost_per_contact: dict[str, float] | None = None,
    margin_rate: float = 0.5,
    pre: str | None = None,
) -> pd.DataFrame:
    """Read out a test: ``outcomes`` has one row per customer with group ('control' or an arm name),
    responded (bool) and revenue (EUR over the test window), and ``pre`` (pre-period revenue) when
    CUPED is wanted. Per arm against control: customers, response rate, revenue per customer,
    incremental response (points) and revenue (EUR per customer) with 95% intervals, p-values
    adjusted for several arms (Holm, ``effects.holm_adjusted``), cost per incremental
    response and incremental ROI ((incremental margin - cost) / cost)."""
    check_test(outcomes)
    rng = np.random.default_rng(seed)
    control = outcomes[outcomes.group == "control"]
    arms = sorted(g for g in outcomes.group.unique() if g != "control")
    revenue_column = "revenue"
    if pre:
        adjusted, _ = cuped(outcomes.revenue, outcomes[pre])
        outcomes = outcomes.assign(revenue_cuped=adjusted)
        control = outcomes[outcomes.group == "control"]
        revenue_column = "revenue_cuped"
    rows = [
        _arm_readout(arm, outcomes[outcomes.group == arm], control, revenue_column, rng, cost_per_contact, margin_rate)
        for arm in arms
    ]
    table = pd.DataFrame(rows)
    table["p_adjusted_rate"] = holm_adjusted(table.p_value_rate)
    table["p_adjusted_revenue"] = holm_adjusted(table.p_value_revenue)
    table["conclusion"] = [conclusion(row) for row in table.itertuples()]
    return table


def check_test(outcomes: pd.DataFrame) -> None:
    """Refuse a readout that would give a meaningless interval: no control, an empty arm, or fewer
    than MIN_RESPONDERS responders in total."""
    counts = outcomes.group.value_counts()
    if counts.get("control", 0) == 0:
        raise ExperimentInputError(
            "the test has no control group: without customers held back at random there is "
            "nothing to compare with. Hold out a random share next time."
        )
    if len(counts) < 2:
        raise ExperimentInputError("the test has a control group but no contacted arm.")
    empty = [g for g, n in counts.items() if n < 2]
    if empty:
        raise ExperimentInputError(f"arm(s) {empty} hold fewer than 2 customers: an interval needs more.")
    responders = int(outcomes.responded.sum())
    if responders < MIN_RESPONDERS:
        raise ExperimentInputError(
            f"only {responders} customers responded in the whole test (fewer than "
            f"{MIN_RESPONDERS}): any interval would be meaningless. Run the test longer or on "
            "more customers."
        )


def conclusion(row: Any) -> str:
    """What can and cannot be concluded from one arm's readout row (a named tuple of ``readout``'s
    columns), in plain words."""
    if row.p_adjusted_rate < 0.05 and row.points_low > 0:
        verdict = (
            f"raised the response rate by {row.incremental_points:.2f} points "
            f"(between {row.points_low:.2f} and {row.points_high:.2f})"
        )
    elif row.p_adjusted_rate < 0.05 and row.points_high < 0:
        verdict = f"lowered the response rate by {-row.incremental_points:.2f} points: contacting hurt"
    else:
        verdict = (
            f"cannot be told from no effect on response (interval {row.points_low:.2f} to {row.points_high:.2f} points)"
        )
    money = (
        "and its revenue effect is clear" if row.p_adjusted_revenue < 0.05 else "and its revenue effect is within noise"
    )
    return f"{row.arm} {verdict}, {money}."


def _arm_readout(
    arm: str,
    treated: pd.DataFrame,
    control: pd.DataFrame,
    revenue_column: str,
    rng: np.random.Generator,
    cost_per_contact: dict[str, float] | None,
    margin_rate: float,
) -> dict:
    """One arm against control: the figures of ``readout``'s row (the bootstrap draws from ``rng``)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    r_t, n_t, r_c, n_c = int(treated.responded.sum()), len(treated), int(control.responded.sum()), len(control)
    low, high = confint_proportions_2indep(r_t, n_t, r_c, n_c, compare="diff", method="newcomb")
    p_rate = test_proportions_2indep(r_t, n_t, r_c, n_c, compare="diff").pvalue
    revenue = difference_in_means(treated[revenue_column], control[revenue_column])
    diff, p_revenue = revenue.estimate, revenue.p_value
    rev_low, rev_high = bootstrap_difference(treated[revenue_column], control[revenue_column], rng)
    cost = (cost_per_contact or {}).get(arm, 0.0) * n_t
    incremental_responses = (r_t / n_t - r_c / n_c) * n_t
    incremental_margin = diff * n_t * margin_rate
    return {
        "arm": arm,
        "customers": n_t,
        "control": n_c,
        "response_rate": r_t / n_t,
        "control_rate": r_c / n_c,
        "incremental_points": (r_t / n_t - r_c / n_c) * 100,
        "points_low": low * 100,
        "points_high": high * 100,
        "p_value_rate": p_rate,
        "revenue_per_customer": treated.revenue.mean(),
        "control_revenue": control.revenue.mean(),
        "incremental_revenue": diff,
        "revenue_low": rev_low,
        "revenue_high": rev_high,
        "p_value_revenue": p_revenue,
        "cost_eur": cost,
        "cost_per_incremental_response": cost / incremental_responses if incremental_responses > 0 else np.nan,
        "incremental_roi": (incremental_margin - cost) / cost if cost > 0 else np.nan,
    }
