"""BG/NBD, Gamma-Gamma and CLV: parameter recovery on worlds simulated with known truth, the likelihoods,
the value of the most frequent customers, the holdout checks."""

import datetime as dt
import json
import os
import platform
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import gammaln

from helpers import engine, features
from helpers.errors import ModelInputError
from helpers.models import bg_nbd, clv, gamma_gamma, holdout, likelihood
from helpers.paths import SCENARIOS_DIR
from helpers.world import generate_world


def _summary(world):
    con = engine.connect()
    tx = engine.read_table(con, world.table_path("transactions"), "transactions")
    end = dt.date.fromisoformat(world.parameters["end"])
    return gamma_gamma.with_repeat_spend(features.execute(features.customer_summary(tx, end)), tx, end)


def test_bgnbd_and_gamma_gamma_recover_the_scenario_parameters_within_sampling_error(tmp_path):
    """On the purchase process alone (campaigns switched off: no discounts, no extra orders) the
    fits land within 3 standard errors of the true r, alpha, a, b and p, q, gamma (Gamma-Gamma on
    repeat purchase occasions, the default). SE from the fits' Hessians."""
    spec = yaml.safe_load((SCENARIOS_DIR / "retail_fr.yml").read_text())
    spec["campaigns"]["months"] = 0
    path = tmp_path / "no_campaigns.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    world = generate_world(path, root=tmp_path, n_customers=30_000, n_prospects=0, seed=11)
    summary = _summary(world)
    for fit, model in ((bg_nbd.fit(summary), "bgnbd"), (gamma_gamma.fit(summary), "gamma_gamma")):
        assert fit.converged
        for name, true in world.manifest["true_parameters"][model].items():
            assert abs(fit.params[name] - true) < 3 * fit.std_errors[name], (name, fit.params[name], true)
            assert fit.std_errors[name] < 0.15 * true


def test_on_the_default_world_the_mean_rate_and_dropout_are_recovered(small_world):
    """Campaign purchases (mostly by lapsed customers) are not part of BG/NBD: they flatten the
    spread of purchase rates, but the mean rate r/alpha and the drop-out mean a/(a+b) hold."""
    fit = bg_nbd.fit(_summary(small_world))
    true = small_world.manifest["true_parameters"]["bgnbd"]
    assert fit.params["r"] / fit.params["alpha"] == pytest.approx(true["r"] / true["alpha"], rel=0.10)
    assert fit.params["a"] / (fit.params["a"] + fit.params["b"]) == pytest.approx(
        true["a"] / (true["a"] + true["b"]), rel=0.15
    )


def test_log_likelihood_matches_the_closed_form_for_a_customer_with_no_repeat():
    r, alpha, a, b, T = 0.5, 6.0, 1.2, 3.0, 40.0
    # x = 0: P = (alpha / (alpha + T))^r
    expected = r * np.log(alpha / (alpha + T))
    assert bg_nbd.log_likelihood((r, alpha, a, b), [0], [0], [T])[0] == pytest.approx(expected)
    # x = 1 by direct evaluation of the two terms of Fader, Hardie & Lee (2005), eq. 6.
    x, tx = 1, 10.0
    lead = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha))
    alive = b / (a + b) / (alpha + T) ** (r + x)
    died = a / (a + b) / (alpha + tx) ** (r + x)
    assert bg_nbd.log_likelihood((r, alpha, a, b), [x], [tx], [T])[0] == pytest.approx(np.log(lead * (alive + died)))


def test_every_customer_bought_once_gives_a_clear_message():
    summary = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [10.0, 20.0, 5.0]})
    with pytest.raises(ModelInputError, match="bought only once"):
        bg_nbd.fit(summary)
    with pytest.raises(ModelInputError, match="empty"):
        bg_nbd.fit(summary.iloc[:0])


def test_expected_purchases_by_quadrature_match_the_closed_form():
    """Fader, Hardie & Lee (2005) eq. 10 (needs a > 1) against the quadrature used for every a."""
    from scipy.special import hyp2f1

    r, alpha, a, b = params = (0.4, 6.0, 1.6, 3.0)
    x, tx, T, t = np.array([0.0, 1, 3, 10]), np.array([0.0, 5, 20, 30]), np.full(4, 40.0), 26.0
    closed = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t)))
        / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    )
    np.testing.assert_allclose(bg_nbd.expected_purchases(params, x, tx, T, t), closed, rtol=1e-9)
    new = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    assert bg_nbd.expected_purchases_if_alive(params, 0.0, 0.0, t) == pytest.approx(new, rel=1e-9)


def test_p_alive_is_one_without_repeat_purchase_and_falls_with_silence():
    params = (0.3, 8.0, 1.0, 4.0)
    assert bg_nbd.p_alive(params, [0], [0], [50])[0] == 1.0
    silent = bg_nbd.p_alive(params, [5, 5, 5], [10, 10, 10], [12, 30, 80])
    assert silent[0] > silent[1] > silent[2] > 0


def test_gamma_gamma_likelihood_matches_direct_integration_and_recovers_parameters():
    from scipy.integrate import quad
    from scipy.stats import gamma as gamma_dist

    p, q, g = 6.0, 4.0, 35.0
    n, mean = 3, 62.5
    direct = quad(
        lambda nu: gamma_dist.pdf(mean, n * p, scale=1 / (n * nu)) * gamma_dist.pdf(nu, q, scale=1 / g), 0, np.inf
    )[0]
    assert gamma_gamma.log_likelihood((p, q, g), [n], [mean])[0] == pytest.approx(np.log(direct), rel=1e-7)
    rng = np.random.default_rng(5)
    nu = rng.gamma(q, 1 / g, 20_000)
    orders = rng.integers(2, 12, 20_000)
    means = np.array([rng.gamma(p, 1 / v, k).mean() for v, k in zip(nu, orders, strict=True)])
    summary = pd.DataFrame({"frequency": orders, "repeat_monetary": means})
    fit = gamma_gamma.fit(summary)
    assert fit.basis == "repeat_occasions"
    # p and gamma trade off along a ridge, so the joint test is the likelihood ratio at the truth:
    # 2 (LL_fit - LL_true) ~ chi2(3); 16.27 is its 99.9% quantile.
    at_truth = gamma_gamma.log_likelihood((p, q, g), orders, means).sum()
    assert 0 <= 2 * (fit.log_likelihood - at_truth) < 16.27
    fp, fq, fg = fit.values
    assert fp * fg / (fq - 1) == pytest.approx(p * g / (q - 1), rel=0.02), "population mean order value"


def test_when_every_customer_bought_once_fit_models_explains_instead_of_failing():
    summary = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "frequency": [0, 0, 0],
            "recency": [0.0] * 3,
            "T": [10.0, 20.0, 5.0],
            "n_orders": [1, 1, 1],
            "revenue": [20.0, 30.0, 15.0],
            "monetary": [20.0, 30.0, 15.0],
            "repeat_monetary": [np.nan] * 3,
        }
    )
    models = clv.fit_models(summary)
    assert not models.ok and "bought only once" in models.message


def test_customers_whose_net_revenue_is_zero_or_less_are_counted_and_left_out_of_both_fits(small_world):
    summary = _summary(small_world)
    cancelled = summary.sort_values("frequency").index[-5:]  # the most frequent buyers: they would weigh
    summary.loc[cancelled, "revenue"] = [0.0, -10.0, 0.0, -0.01, 0.0]  # their returns cancel their purchases
    models, kept = clv.fit_models(summary), clv.fit_models(summary.drop(cancelled))
    assert models.purchases.n_customers == len(summary) - 5
    assert models.purchases.params == kept.purchases.params and models.spend.params == kept.spend.params
    assert models.purchases.params != clv.fit_models(_summary(small_world)).purchases.params
    assert "Customers whose net revenue is zero or less, left out of the models: 5." in models.message
    assert "left out" not in kept.message


def test_a_customer_with_only_returns_gets_the_population_order_value_and_finite_clv(small_world):
    summary = _summary(small_world)
    repeat = summary.index[summary.frequency > 0][0]
    summary.loc[repeat, "repeat_monetary"] = -40.0  # its repeat occasions were only a return
    models = clv.fit_models(summary)
    value = clv.customer_value(summary, models.purchases, models.spend)
    p, q, g = models.spend.values
    assert value.expected_order_value.iloc[repeat] == pytest.approx(p * g / (q - 1))
    assert value.expected_order_value[summary.frequency == 0].eq(p * g / (q - 1)).all()
    assert np.isfinite(value[["p_alive", "expected_purchases", "expected_order_value", "clv"]].to_numpy()).all()
    assert (value.clv >= 0).all() and value.p_alive.between(0, 1).all()


def test_clv_discounting_and_value_at_risk_rules(small_world):
    summary = _summary(small_world)
    models = clv.fit_models(summary)
    flat = clv.customer_value(summary, models.purchases, models.spend, annual_discount_rate=0.0)
    discounted = clv.customer_value(summary, models.purchases, models.spend, annual_discount_rate=0.2)
    np.testing.assert_allclose(flat.clv, flat.expected_purchases * flat.expected_order_value, rtol=1e-9)
    assert (discounted.clv <= flat.clv + 1e-9).all() and discounted.clv.sum() < flat.clv.sum()
    risk = clv.value_at_risk(flat, summary, n=50)
    assert len(risk) > 0 and risk.p_alive.between(0.05, 0.5, inclusive="left").all()
    assert risk.yearly_revenue.is_monotonic_decreasing


def test_holdout_checks_on_the_default_world(small_world):
    con = engine.connect()
    tx = engine.read_table(con, small_world.table_path("transactions"), "transactions")
    end = dt.date(2025, 12, 31)
    calibration = dt.date(2024, 12, 31)
    table = features.execute(features.calibration_holdout(tx, calibration, end), "customer_id")
    fit = bg_nbd.fit(table)
    weeks = (end - calibration).days / 7
    by_frequency = holdout.holdout_by_frequency(table, fit, weeks)
    assert by_frequency.customers.sum() == len(table)
    predicted, actual, error = holdout.holdout_error(table, fit, weeks)
    assert predicted == pytest.approx(actual, rel=0.15) and actual == table.holdout_purchases.sum()
    assert holdout.tracks(error) and not holdout.tracks(0.21) and not holdout.tracks(None)
    first, repeat = features.repeat_days(tx, end)
    track = holdout.tracking(first, repeat, fit, pd.Timestamp(first.min()), pd.Timestamp(end))
    assert track.actual.is_monotonic_increasing and track.actual.iloc[-1] <= len(repeat)
    assert track.predicted.iloc[-1] == pytest.approx(track.actual.iloc[-1], rel=0.15)
    empty = features.execute(features.calibration_holdout(tx, end, end), "customer_id")
    assert (empty.holdout_purchases == 0).all() and not empty.isna().any().any()


FIT_IN_A_CHILD = """
import json, sys
import pandas as pd
from helpers.models import clv
summary = pd.read_parquet(sys.argv[1])
models = clv.fit_models(summary)
print(json.dumps({**models.purchases.params, **models.spend.params}))
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="OpenBLAS's x86-64 kernels")
def test_fitted_parameters_do_not_depend_on_the_machines_blas_kernels(small_world, tmp_path):
    """Before the Newton polish, the parameters moved by up to 1.3e-4 (relative) between
    OpenBLAS's Haswell and Sandybridge kernels, enough to change stored notebook outputs; now 2e-7."""
    path = tmp_path / "summary.parquet"
    _summary(small_world).to_parquet(path)
    fits = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", FIT_IN_A_CHILD, str(path)],
                check=True,
                text=True,
                capture_output=True,
                env={**os.environ, "OPENBLAS_CORETYPE": kernel},
            ).stdout
        )
        for kernel in ("Haswell", "Sandybridge")
    ]
    for name, value in fits[0].items():
        assert fits[1][name] == pytest.approx(value, rel=1e-6), name  # 1e-4 before the polish


def test_gamma_gamma_on_sufficient_statistics_is_the_per_customer_likelihood_and_its_optimum():
    rng = np.random.default_rng(11)
    n = rng.integers(1, 40, 5_000).astype(float)
    mean = rng.gamma(6.0, 35.0 / rng.gamma(4.0, 1.0, 5_000) / 6.0)
    negll, gradient = gamma_gamma._mean_negll(n, mean)
    for theta in (np.log([2.0, 3.0, 50.0]), np.log([6.5, 3.7, 15.0]), np.array([-3.0, 4.0, 8.0])):
        per_customer = -np.mean(gamma_gamma.log_likelihood(np.exp(theta), n, mean))
        assert negll(theta) == pytest.approx(per_customer, rel=1e-12)
        central = [(negll(theta + e) - negll(theta - e)) / 2e-6 for e in np.eye(3) * 1e-6]
        assert gradient(theta) == pytest.approx(central, rel=1e-6, abs=1e-8)
    fit = gamma_gamma.fit(pd.DataFrame({"frequency": n, "repeat_monetary": mean}))
    direct = likelihood.maximise(
        lambda theta: -np.mean(gamma_gamma.log_likelihood(np.exp(theta), n, mean)),
        np.log([2.0, 3.0, 2.0 * np.mean(mean)]),
        gamma_gamma.PARAMS,
        len(n),
        len(n),
        "gamma_gamma",
    )
    # the optimum is flat along the p-gamma ridge (Hessian eigenvalues 1e-3 to 7): both stop within 1e-6
    assert fit.values == pytest.approx(direct.values, rel=1e-5) and fit.converged
    assert np.abs(gradient(np.log(fit.values))).max() < 1e-9
    assert fit.log_likelihood == pytest.approx(direct.log_likelihood, rel=1e-13)
