"""Retention cohort by cohort: renewals counted from dates, censoring, the sBG on the subscription world."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from helpers.models import retention, sbg
from helpers.world import ensure_world

AS_OF = dt.date(2025, 12, 31)


def test_months_are_added_with_the_day_clipped_to_the_month_end():
    dates = np.array(["2024-01-31", "2024-01-31", "2023-11-15", "2024-02-29"], dtype="datetime64[D]")
    got = retention.add_months(dates, np.array([1, 13, 3, 12]))
    assert got.astype(str).tolist() == ["2024-02-29", "2025-02-28", "2024-02-15", "2025-02-28"]


def test_renewals_are_counted_from_the_dates_and_active_ones_censored():
    subs = pd.DataFrame(
        {
            "start_date": pd.to_datetime(
                ["2024-01-15", "2024-01-31", "2024-03-02", "2025-11-30", "2025-06-01", "2026-01-05"]
            ),
            "end_date": pd.to_datetime(["2024-04-15", None, "2024-03-02", None, "2026-02-01", None]),
        }
    )
    lives = retention.lifetimes(subs, AS_OF)
    assert len(lives) == 5  # the one started after the analysis date is not yet a subscription
    assert lives.renewals.tolist() == [2, 23, 0, 1, 6]  # Jan 15 -> Apr 15: paid 3 periods, lost at renewal 3
    assert lives.churned.tolist() == [True, False, True, False, False]  # an end after as_of: still active
    yearly = retention.lifetimes(subs, AS_OF, period_months=12)
    assert yearly.renewals.tolist() == [0, 1, 0, 0, 0]


def test_the_censored_likelihood_is_the_sum_over_subscriptions():
    lost, censored = np.array([30.0, 12, 5]), np.array([4.0, 7, 2])
    params = (0.8, 2.5)
    direct = sum(lost[t - 1] * np.log(sbg.survival(params, t - 1) - sbg.survival(params, t)) for t in (1, 2, 3))
    direct += sum(censored[t] * np.log(sbg.survival(params, t)) for t in (0, 1, 2))
    assert sbg.log_likelihood_censored(params, lost, censored) == pytest.approx(direct, rel=1e-12)
    curve = np.array([1000, 631, 468, 382, 326, 289, 262, 241])  # censoring at the end only: the curve fit
    assert sbg.fit_censored(-np.diff(curve), np.r_[np.zeros(7), 241]).params == pytest.approx(sbg.fit(curve).params)


def test_the_observed_survival_follows_the_subscriptions_still_followed():
    lost, censored = np.array([10.0, 5, 0]), np.array([0.0, 5, 80])  # by renewals made: 0, 1, 2
    # renewal 1: 100 at risk, 10 lost; renewal 2: 85 at risk (the 5 censored after 1 renewal are not), 5 lost
    expected = [1, 0.9, 0.9 * (1 - 5 / 85), np.nan]  # renewal 3: nobody followed that far yet, unknown
    assert retention.observed_survival(lost, censored) == pytest.approx(expected, nan_ok=True)


def channel_fits(seed: int, tmp_path) -> tuple[dict, dict]:
    world = ensure_world("subscription_fr", root=tmp_path, seed=seed)
    subs = world.table("subscriptions").merge(world.table("customers")[["customer_id", "acquisition_source"]])
    lives = retention.lifetimes(subs, AS_OF)
    return retention.fit_cohorts(lives, "acquisition_source"), world.manifest["true_parameters"]["sbg"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_true_parameters_are_recovered_within_their_sampling_error(seed, tmp_path):
    fits, truth = channel_fits(seed, tmp_path)
    for channel, true in truth.items():
        fit = fits[channel].fit
        for name in sbg.PARAMS:  # within three standard errors, for every channel and seed
            assert abs(fit.params[name] - true[name]) < 3 * fit.std_errors[name], (channel, name, fit.params)


def test_the_true_retention_curve_lies_inside_the_fitted_interval(tmp_path):
    inside, points, whole = 0, 0, 0
    for seed in (1, 2, 3):
        world = ensure_world("subscription_fr", root=tmp_path, seed=seed)
        subs = world.table("subscriptions").merge(world.table("customers")[["customer_id", "acquisition_source"]])
        lives = retention.lifetimes(subs, AS_OF).assign(cohort=lambda d: d.start_date.dt.year.astype(str))
        fits = retention.fit_cohorts(lives, ["cohort", "acquisition_source"])
        true = world.truth("retention").set_index(["cohort", "acquisition_source", "period"]).sort_index()
        for key, cf in fits.items():
            fitted = retention.curve(cf, len(cf.lost) - 1)
            surv = true.loc[tuple(key.split(" / "))].survival.to_numpy()[: len(fitted)]
            hit = (fitted.survival_low <= surv) & (surv <= fitted.survival_high)
            inside, points, whole = inside + hit[1:].sum(), points + len(hit) - 1, whole + hit.all()
    assert 0.85 <= inside / points <= 0.97  # the 90% band, renewal by renewal, over 36 cohorts (measured 92.0%)
    assert whole >= 0.75 * 36  # the whole followed curve inside its band (measured 28 of 36)
