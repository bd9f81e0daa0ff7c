"""BG/NBD, MBG/NBD and Pareto/NBD: likelihoods against direct integration, parameter recovery on
customers simulated from each model's story, P(alive) and conditional expected purchases against
what the simulated customers did."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import betaln, gammaln, hyp2f1
from scipy.stats import beta as beta_dist

from helpers.models import likelihood, mbg_nbd, pareto_nbd
from helpers.models.purchase_models import MODELS, model_of
from tests.models.simulated_customers import assert_agrees_with_simulation, simulate

TRUE = {
    "bgnbd": (0.35, 8.0, 0.9, 3.5),
    "mbg_nbd": (0.5, 10.0, 1.2, 5.0),
    "pareto_nbd": (0.6, 12.0, 0.8, 40.0),
}
CHI2_4_999 = 18.47  # 99.9% quantile of chi2 with 4 degrees of freedom


def _pareto_by_quad(params, x, t_x, T):
    """The Pareto/NBD log-likelihood with its death term integrated by quad, relative to the
    integrand at t_x (so nothing underflows)."""
    r, alpha, s, beta = params

    def log_f(u):
        return -(r + x) * np.log(alpha + u) - (s + 1) * np.log(beta + u)

    width = (alpha + t_x) / (r + s + x + 1)
    points = [t_x + k * width for k in (1, 5, 20) if t_x + k * width < T]
    tail = quad(lambda u: np.exp(log_f(u) - log_f(t_x)), t_x, T, limit=500, points=points, epsabs=0, epsrel=1e-12)[0]
    died = np.log(s) + log_f(t_x) + np.log(tail)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(alive, died)


def test_pareto_nbd_likelihood_matches_direct_integration_over_the_lifetime():
    """The death term s * integral of (alpha+u)^-(r+x) (beta+u)^-(s+1) over (t_x, T], by quad in log
    space, against the transformed hypergeometric form; both branches (alpha >= beta and below),
    frequencies up to 10,000."""
    for params in [(0.55, 10.6, 0.61, 11.7), (0.55, 20.0, 0.61, 5.0), (0.5, 3.0, 1.5, 30.0)]:
        for x, t_x, T in [(0, 0.0, 30.0), (2, 10.0, 30.0), (50, 25.0, 39.0), (1_000, 30.0, 40.0), (10_000, 39.9, 40.0)]:
            direct = _pareto_by_quad(params, x, t_x, T)
            assert pareto_nbd.log_likelihood(params, [x], [t_x], [T])[0] == pytest.approx(direct, rel=1e-10, abs=1e-9)


RIDGE = [(0.6, 17.7, 240.0, 14594.0), (0.6, 12.0, 3000.0, 180000.0)]  # dropout rates that barely vary


def test_pareto_nbd_likelihood_stays_exact_where_scipy_hyp2f1_gives_nan():
    """Along the no-dropout-heterogeneity ridge (large s and beta) scipy's hyp2f1 returns NaN for
    customers with few purchases; the numerical integral that replaces it matches quad."""
    for r, alpha, s, beta in RIDGE:
        assert np.isnan(hyp2f1(1.0, s + 1, r + s + 1, (beta - alpha) / beta))  # the case the fallback handles
        for x, t_x, T in [(0, 0.0, 30.0), (2, 10.0, 30.0), (50, 25.0, 39.0), (1_000, 30.0, 40.0)]:
            direct = _pareto_by_quad((r, alpha, s, beta), x, t_x, T)
            assert pareto_nbd.log_likelihood((r, alpha, s, beta), [x], [t_x], [T])[0] == pytest.approx(direct, abs=1e-9)


def test_pareto_nbd_fit_on_homogeneous_dropout_is_finite_and_flags_the_unidentified_parameters():
    """Customers whose dropout rates are all alike (s 3,000, beta 180,000) push s and beta out along
    the ridge: the fit's likelihood is finite and at least that of the truth, r and alpha are
    recovered, and s and beta have no standard error (NaN, not a falsely precise 0)."""
    customers = simulate("pareto_nbd", RIDGE[1], 2_000, seed=3)
    fit = pareto_nbd.fit(customers)
    at_truth = pareto_nbd.log_likelihood(RIDGE[1], customers.frequency, customers.recency, customers["T"]).sum()
    assert fit.converged and np.isfinite(fit.log_likelihood) and fit.log_likelihood >= at_truth
    assert fit.params["s"] > 50 and np.isnan(fit.std_errors["s"]) and np.isnan(fit.std_errors["beta"])
    for key, truth in (("r", 0.6), ("alpha", 12.0)):
        assert abs(fit.params[key] - truth) < 3.5 * fit.std_errors[key]


def test_a_parameter_without_curvature_has_no_standard_error_and_a_non_finite_optimum_is_not_converged():
    """At the bound, along a direction where the likelihood bends the wrong way, the standard error
    is NaN, not 0; a likelihood that is nowhere finite never reports convergence."""
    saddle = likelihood.maximise(
        lambda th: 0.5 * (th[0] - 1) ** 2 - 1e-3 * th[1] ** 2, np.array([0.0, 0.1]), ["a", "b"], 1e3, 1_000, "toy"
    )
    assert saddle.params["a"] == pytest.approx(np.e) and saddle.params["b"] == pytest.approx(np.exp(12))
    assert saddle.std_errors["a"] == pytest.approx(np.e * np.sqrt(1e-3), rel=1e-6) and np.isnan(saddle.std_errors["b"])
    with np.errstate(invalid="ignore"):
        nowhere = likelihood.maximise(lambda th: np.nan, np.array([0.0]), ["a"], 1e3, 1_000, "toy")
    assert not nowhere.converged and nowhere.message.startswith("the log-likelihood is not finite")


def test_mbg_nbd_likelihood_matches_integration_over_the_drop_out_probability():
    r, alpha, a, b = params = (0.5, 10.0, 1.2, 5.0)
    for x, t_x, T in [(0, 0.0, 30.0), (3, 12.0, 30.0), (40, 50.0, 52.0)]:
        lead = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + t_x)  # factored out

        def story(p, x=x, t_x=t_x, T=T):  # alive at T, or left right after the last purchase
            later = ((alpha + t_x) / (alpha + T)) ** (r + x)
            return ((1 - p) ** (x + 1) * later + p * (1 - p) ** x) * beta_dist.pdf(p, a, b)

        direct = quad(story, 0, 1, limit=200, epsabs=0, epsrel=1e-12)[0]
        assert mbg_nbd.log_likelihood(params, [x], [t_x], [T])[0] == pytest.approx(lead + np.log(direct), rel=1e-10)
    # a customer with no repeat purchase may have left at once: P(alive) = b / (a + b), not 1
    assert mbg_nbd.p_alive(params, [0], [0.0], [0.0])[0] == pytest.approx(b / (a + b))
    assert np.exp(betaln(a, b + 1) - betaln(a, b)) == pytest.approx(b / (a + b))


@pytest.mark.parametrize("name", list(TRUE))
def test_each_model_recovers_its_parameters_over_three_seeds(name):
    """10,000 simulated customers per seed: every parameter within 3.5 standard errors of the
    truth, and the likelihood ratio at the truth below chi2(4)'s 99.9% quantile."""
    model, true = MODELS[name], TRUE[name]
    for seed in (1, 2, 3):
        customers = simulate(name, true, 10_000, seed)
        fit = model.fit(customers)
        assert fit.converged and fit.model == name
        for (key, value), truth in zip(fit.params.items(), true, strict=True):
            assert abs(value - truth) < 3.5 * fit.std_errors[key], (name, seed, key, value, truth)
        at_truth = model.log_likelihood(true, customers.frequency, customers.recency, customers["T"]).sum()
        assert 0 <= 2 * (fit.log_likelihood - at_truth) < CHI2_4_999


@pytest.mark.parametrize("name", list(TRUE))
def test_p_alive_and_conditional_expectations_match_the_simulated_customers(name):
    """At the true parameters, the mean P(alive) equals the share alive at T and the expected
    holdout purchases equal those made, overall and among frequent customers (within 4 standard
    errors of the simulated mean)."""
    model, true = MODELS[name], TRUE[name]
    customers = simulate(name, true, 40_000, seed=9)
    x, t_x, T = customers.frequency, customers.recency, customers["T"]
    alive = model.p_alive(true, x, t_x, T)
    assert_agrees_with_simulation(customers, alive, model.expected_purchases(true, x, t_x, T, 52.0), 5, name)
    assert model_of(name) is model


def test_the_pareto_nbd_fit_warm_started_on_a_subsample_reaches_the_full_search_optimum(monkeypatch):
    """Above WARM_ROWS distinct rows the fit starts from a subsample's optimum and curvature: the same
    optimum as the search on the full data (to 1e-6, far below the standard errors), converged."""
    customers = simulate("pareto_nbd", TRUE["pareto_nbd"], 30_000, seed=6)
    monkeypatch.setattr(pareto_nbd, "WARM_ROWS", 10_000)  # every third row
    warm = pareto_nbd.fit(customers)
    monkeypatch.setattr(pareto_nbd, "WARM_ROWS", len(customers))
    searched = pareto_nbd.fit(customers)
    assert warm.converged and warm.message == "Newton steps from the start settled" and searched.message != warm.message
    np.testing.assert_allclose(warm.values, searched.values, rtol=1e-6)
    assert warm.log_likelihood == pytest.approx(searched.log_likelihood, abs=1e-6)
