"""Test design and readout: sizes against statsmodels and simulation, interval coverage, CUPED,
stratified assignment, refusals."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from helpers.models import experiments as ex


def test_rate_sample_size_agrees_with_statsmodels_and_the_textbook_formula():
    n = ex.control_size_for_rate(0.03, 0.006, treated_per_control=1)
    direct = NormalIndPower().solve_power(effect_size=proportion_effectsize(0.036, 0.03), alpha=0.05, power=0.8)
    assert n == int(np.ceil(direct))
    p, q = 0.033, 0.006  # pooled approximation: 2 p (1 - p) (z_a + z_b)^2 / delta^2
    textbook = 2 * p * (1 - p) * (1.959964 + 0.841621) ** 2 / q**2
    assert n == pytest.approx(textbook, rel=0.03)
    assert ex.control_size_for_rate(0.03, 0.006, treated_per_control=4) < n, "more treated, fewer controls needed"


def zero_inflated(rng, size, shift=0.0, buy=0.1, mean_basket=70.0):
    """Revenue per customer: most buy nothing, buyers spend a Gamma(0.8) basket: heavy-tailed."""
    return np.where(rng.random(size) < buy, rng.gamma(0.8, mean_basket / 0.8, size), 0.0) + shift


def test_simulated_power_at_the_computed_revenue_size_is_within_3_points_of_target():
    sd = zero_inflated(np.random.default_rng(0), 2_000_000).std()
    n = ex.control_size_for_revenue(sd, 1.5)
    rejected = 0
    for seed in range(1000):
        rng = np.random.default_rng(seed)
        c, t = zero_inflated(rng, n), zero_inflated(rng, n, shift=1.5)
        z = (t.mean() - c.mean()) / np.sqrt(t.var(ddof=1) / n + c.var(ddof=1) / n)
        rejected += abs(z) > 1.959964
    assert abs(rejected / 1000 - 0.8) <= 0.03, rejected


def test_readout_intervals_cover_the_true_effect_in_93_to_97_percent_of_200_tests():
    covered_rate = covered_revenue = 0
    true_points, true_revenue = 0.02, 0.02 * 70.0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        n = 3000
        responded = np.r_[rng.random(n) < 0.05, rng.random(n) < 0.07]
        # Baskets Gamma(2, 35): mean 70 EUR, skewed like retail order values. With far heavier
        # tails (Gamma(0.8)) every interval (bootstrap, BCa, Welch) covers about 90.5% at this size.
        revenue = np.where(responded, rng.gamma(2.0, 35.0, 2 * n), 0.0)
        table = ex.readout(
            pd.DataFrame({"group": ["control"] * n + ["arm"] * n, "responded": responded, "revenue": revenue}), rng
        )
        row = table.iloc[0]
        covered_rate += row.points_low <= true_points * 100 <= row.points_high
        covered_revenue += row.revenue_low <= true_revenue <= row.revenue_high
    assert 186 <= covered_rate <= 194 and 186 <= covered_revenue <= 194, (covered_rate, covered_revenue)


def test_cuped_narrows_the_interval_when_the_pre_period_predicts_spend():
    rng = np.random.default_rng(1)
    n = 20_000
    level = rng.gamma(1.0, 30.0, n)  # each customer's own spending level
    pre = rng.poisson(level / 10) * 10.0
    post = rng.poisson(level / 10) * 10.0
    group = np.where(rng.random(n) < 0.5, "arm", "control")
    post = post + np.where(group == "arm", 2.0, 0.0)
    outcomes = pd.DataFrame({"group": group, "responded": post > 0, "revenue": post, "pre": pre})
    plain = ex.readout(outcomes, np.random.default_rng(2)).iloc[0]
    adjusted = ex.readout(outcomes, np.random.default_rng(2), pre="pre").iloc[0]
    assert (adjusted.revenue_high - adjusted.revenue_low) < 0.8 * (plain.revenue_high - plain.revenue_low)
    assert adjusted.incremental_revenue == pytest.approx(2.0, abs=1.0)
    adjusted_y, theta = ex.cuped(post, pre)
    assert adjusted_y.mean() == pytest.approx(post.mean()) and theta > 0


def test_stratified_assignment_gives_every_stratum_the_same_split():
    strata = pd.Series(np.repeat(["champions", "loyal", "lost"], [100, 200, 1000]))
    groups = ex.assign_groups(strata, {"control": 0.2, "mail": 0.4, "mail then call": 0.4}, np.random.default_rng(3))
    shares = pd.crosstab(strata, groups, normalize="index")
    assert np.allclose(shares["control"], 0.2, atol=0.01) and np.allclose(shares["mail"], 0.4, atol=0.01)
    with pytest.raises(ex.ExperimentInputError, match="sum to 1"):
        ex.assign_groups(strata, {"control": 0.5, "mail": 0.6}, np.random.default_rng(3))


@pytest.mark.parametrize(
    "groups, responded, message",
    [
        (["arm"] * 100, [True] * 50 + [False] * 50, "no control group"),
        (["control"] * 100, [True] * 50 + [False] * 50, "no contacted arm"),
        (["control"] * 99 + ["arm"], [True] * 50 + [False] * 50, "fewer than 2 customers"),
        (["control"] * 50 + ["arm"] * 50, [True] * 20 + [False] * 80, "only 20 customers responded"),
    ],
)
def test_meaningless_readouts_are_refused_with_a_specific_message(groups, responded, message):
    outcomes = pd.DataFrame({"group": groups, "responded": responded, "revenue": np.where(responded, 50.0, 0.0)})
    with pytest.raises(ex.ExperimentInputError, match=message):
        ex.readout(outcomes, np.random.default_rng(0))


def test_several_arms_are_corrected_for_multiple_comparisons():
    rng = np.random.default_rng(4)
    n = 4000
    groups = np.repeat(["control", "mail", "call", "mail then call"], n)
    lift = pd.Series(groups).map({"control": 0.0, "mail": 0.0, "call": 0.0, "mail then call": 0.02}).to_numpy()
    responded = rng.random(4 * n) < 0.05 + lift
    table = ex.readout(
        pd.DataFrame({"group": groups, "responded": responded, "revenue": np.where(responded, 60.0, 0.0)}), rng
    ).set_index("arm")
    assert (table.p_adjusted_rate >= table.p_value_rate).all()
    assert table.loc["mail then call", "p_adjusted_rate"] < 0.05
    assert "raised the response rate" in table.loc["mail then call", "conclusion"]


def test_pre_period_revenue_sums_the_year_before_each_campaign_and_zero_without_orders():
    import ibis

    tx = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": [1, 1, 1, 2, 1],
                "amount": [10.0, 20.0, 40.0, 5.0, 80.0],
                "order_date": pd.to_datetime(["2024-03-01", "2024-12-31", "2025-01-01", "2023-12-01", "2024-06-01"]),
            }
        )
    )
    rows = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1],
            "campaign_id": ["a", "a", "a", "b"],
            "revenue": [1.0, 2.0, 3.0, 4.0],
            "start_date": pd.to_datetime(["2025-01-01"] * 3 + ["2024-07-01"]),
        }
    )
    out = ex.pre_period_revenue(tx, rows).set_index(["customer_id", "revenue"]).pre_revenue
    assert out.to_dict() == {(1, 1.0): 110.0, (2, 2.0): 0.0, (3, 3.0): 0.0, (1, 4.0): 90.0}
