"""The one difference of means with its interval: Welch standard error, normal quantile, NaN on tiny groups."""

import math

import numpy as np
import pytest
from scipy import stats

from helpers.models.effects import difference_in_means, holm_adjusted


def test_the_difference_its_welch_error_and_interval_are_the_textbook_ones():
    treated, control = np.array([3.0, 5.0, 4.0, 8.0]), np.array([1.0, 2.0, 2.5])
    effect = difference_in_means(treated, control, level=0.9)
    se = math.sqrt(treated.var(ddof=1) / 4 + control.var(ddof=1) / 3)
    assert effect.estimate == pytest.approx(5.0 - 5.5 / 3) and effect.se == pytest.approx(se)
    assert effect.high - effect.low == pytest.approx(2 * stats.norm.ppf(0.95) * se)
    assert effect.p_value == pytest.approx(2 * stats.norm.sf(effect.estimate / se))
    assert (effect.treated, effect.control) == (4, 3)


def test_a_group_under_two_customers_gives_no_interval_and_no_spread_no_evidence():
    assert math.isnan(difference_in_means([1.0], [0.0, 1.0]).low)
    assert difference_in_means([1.0, 1.0], [1.0, 1.0]).p_value == 1.0


@pytest.mark.parametrize(
    "p_values",
    [
        [0.01, 0.04, 0.03, 0.2],
        [0.02, 0.02, 0.5],
        [0.3],
        [0.001, np.nan, 0.04],
        list(np.random.default_rng(1).random(12) ** 3),
    ],
)
def test_holm_adjusted_p_values_are_statsmodels_ones_exactly(p_values):
    from statsmodels.stats.multitest import multipletests

    np.testing.assert_array_equal(holm_adjusted(p_values), multipletests(p_values, method="holm")[1])
