"""CLV intervals by simulation: the parameter draws, the interval rule, the simulated means against the
closed-form values, and coverage on small worlds that know their customers' future."""

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.errors import ModelInputError
from helpers.models import clv, clv_intervals, gamma_gamma, interval_coverage
from helpers.models.purchase_models import MODELS
from helpers.paths import SCENARIOS_DIR
from helpers.world import generate_world
from tests.models.simulated_customers import simulate

TRUE = {"bgnbd": (0.4, 8.0, 0.9, 3.5), "mbg_nbd": (0.4, 8.0, 0.9, 3.5), "pareto_nbd": (0.5, 9.0, 0.6, 12.0)}


def _with_spend(summary: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Gamma-Gamma repeat spend for simulated customers: p = 6, nu ~ Gamma(4, 35)."""
    rng = np.random.default_rng(seed)
    nu = rng.gamma(4.0, 1 / 35.0, len(summary))
    n = summary.frequency.to_numpy()
    mean = rng.gamma(6.0 * np.maximum(n, 1), 1.0) / nu / np.maximum(n, 1)
    return summary.assign(repeat_monetary=np.where(n > 0, mean, np.nan))


def test_parameter_draws_follow_the_fitted_covariance_on_the_log_scale():
    summary = _with_spend(simulate("bgnbd", TRUE["bgnbd"], 3000, seed=1), 1)
    fit = MODELS["bgnbd"].fit(summary)
    draws = np.log(clv_intervals.parameter_draws(fit, 20_000, np.random.default_rng(0)))
    assert np.allclose(draws.mean(axis=0), np.log(fit.values), atol=0.01)
    covariance = np.asarray(fit.log_covariance)
    scale = np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)))
    assert np.all(np.abs(np.cov(draws.T) - covariance) < 0.05 * scale)  # within 0.05 in correlation units
    fit.log_covariance = ()
    with pytest.raises(ModelInputError, match="Hessian is singular: none of r, alpha, a, b is identified"):
        clv_intervals.parameter_draws(fit, 10, np.random.default_rng(0))


def test_the_interval_runs_from_zero_when_a_customer_may_well_buy_nothing():
    rng = np.random.default_rng(0)
    spread = rng.gamma(2.0, 10.0, (1, 100_000))
    sometimes = np.where(rng.random((1, 100_000)) < 0.5, 0.0, spread)
    low, high = clv_intervals.interval(np.vstack([spread, sometimes]), 0.9)
    assert low[0] > 0 and np.mean(spread <= high[0]) == pytest.approx(0.95, abs=0.005)
    assert low[1] == 0 and np.mean(sometimes <= high[1]) == pytest.approx(0.90, abs=0.005)


@pytest.mark.parametrize("model", list(TRUE))
def test_simulated_means_match_the_closed_form_values(model):
    """Over the draws, the simulated totals (realised and expected) land within 3% of the closed-form
    CLV at the estimate (the parameter draws move them a little: CLV is not linear in them), their
    intervals hold it, and every customer's P(alive) lies inside its interval."""
    summary = _with_spend(simulate(model, TRUE[model], 2000, seed=3), 3)
    purchases, spend = MODELS[model].fit(summary), gamma_gamma.fit(summary)
    value = clv.customer_value(summary, purchases, spend)
    result = clv_intervals.value_intervals(summary, purchases, spend, draws=200, seed=5)
    totals = result.totals.set_index("quantity")
    for quantity in ("realised", "expected"):
        assert totals.at[quantity, "mean"] == pytest.approx(value.clv.sum(), rel=0.03), quantity
        assert totals.at[quantity, "low"] < value.clv.sum() < totals.at[quantity, "high"]
    customers = result.customers
    assert (customers.p_alive_low <= value.p_alive + 1e-9).all() and (
        value.p_alive <= customers.p_alive_high + 1e-9
    ).all()


def test_same_seed_same_intervals_and_bad_options_are_refused():
    summary = _with_spend(simulate("bgnbd", TRUE["bgnbd"], 500, seed=2), 2)
    purchases, spend = MODELS["bgnbd"].fit(summary), gamma_gamma.fit(summary)
    one, two = (clv_intervals.value_intervals(summary, purchases, spend, draws=30, seed=9) for _ in range(2))
    pd.testing.assert_frame_equal(one.customers, two.customers)
    with pytest.raises(ModelInputError, match="draws >= 20"):
        clv_intervals.value_intervals(summary, purchases, spend, draws=5)


@pytest.mark.parametrize("model", list(TRUE))
def test_the_undiscounted_intervals_are_those_of_a_separate_call_at_rate_zero(model):
    """``undiscounted=True`` reads the same simulated futures without discount: bit for bit what a
    second simulation at rate 0 gives, while the discounted intervals stay those of a call without it."""
    summary = _with_spend(simulate(model, TRUE[model], 800, seed=4), 4)
    purchases, spend = MODELS[model].fit(summary), gamma_gamma.fit(summary)
    both = clv_intervals.value_intervals(summary, purchases, spend, 12, 0.10, draws=40, seed=6, undiscounted=True)
    alone = [clv_intervals.value_intervals(summary, purchases, spend, 12, r, draws=40, seed=6) for r in (0.10, 0.0)]
    assert alone[0].undiscounted is None
    for shared, separate in zip((both, both.undiscounted), alone, strict=True):
        pd.testing.assert_frame_equal(shared.customers, separate.customers, check_exact=True)
        pd.testing.assert_frame_equal(shared.totals, separate.totals, check_exact=True)
    totals = both.totals.set_index("quantity")["mean"], both.undiscounted.totals.set_index("quantity")["mean"]
    assert (totals[0] < totals[1]).all()  # discounting lowers every total


def test_intervals_cover_the_truth_on_small_worlds(tmp_path):
    """Five small worlds on the purchase process alone (no campaigns): the 90% interval of the total
    realised value holds the world's 52-week revenue in at least 3 of 5, and each world's customer
    intervals hold their own realised and expected values at 90% within 6 points (the full check, 20
    worlds of 3,000 customers, is benchmarks/clv_coverage.py)."""
    spec = yaml.safe_load((SCENARIOS_DIR / "retail_fr.yml").read_text())
    spec["campaigns"]["months"] = 0
    path = tmp_path / "no_campaigns.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    held = []
    for seed in range(5):
        world = generate_world(path, root=tmp_path, n_customers=1500, n_prospects=0, seed=100 + seed)
        scores = interval_coverage.coverage(world, draws=100, seed=seed)
        held.append(scores["realised_total_covered"])
        for quantity in ("realised", "expected"):
            assert scores[f"{quantity}_customer_coverage"] == pytest.approx(0.90, abs=0.06), (seed, scores)
    assert sum(held) >= 3, held
