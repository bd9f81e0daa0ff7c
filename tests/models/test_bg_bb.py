"""BG/BB: the published estimates on the 1995 donor cohort, the likelihood and conditional
expectations against direct integration over p and theta, parameter recovery on customers simulated
from the model's story, the opportunities summary of a transaction log, and BG/BB's place in the
model choice."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from helpers import engine
from helpers.errors import ModelInputError
from helpers.models import bg_bb, model_choice, opportunities
from tests.models.simulated_customers import assert_agrees_with_simulation, simulate

# Fader, Hardie & Shang (2010), Table 1: the 11,104 first-time donors of 1995 by (x, t_x) over the
# n = 6 yearly opportunities 1996-2001 (also Fader & Hardie's note "Computing P(alive) and expected
# purchases for the BG/BB").
DONORS = [
    (0, 0, 3464),
    (1, 1, 1091),
    (1, 2, 277),
    (1, 3, 129),
    (1, 4, 78),
    (1, 5, 119),
    (1, 6, 129),
    (2, 2, 613),
    (2, 3, 255),
    (2, 4, 155),
    (2, 5, 173),
    (2, 6, 234),
    (3, 3, 322),
    (3, 4, 181),
    (3, 5, 225),
    (3, 6, 357),
    (4, 4, 240),
    (4, 5, 284),
    (4, 6, 512),
    (5, 5, 335),
    (5, 6, 728),
    (6, 6, 1203),
]
PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
TRUE = (1.2, 0.8, 0.6, 2.5)
CHI2_4_999 = 18.47  # 99.9% quantile of chi2 with 4 degrees of freedom


def _donors() -> pd.DataFrame:
    x, t_x, count = np.array(DONORS).T
    rows = np.repeat(np.arange(len(DONORS)), count)
    return pd.DataFrame(
        {"customer_id": np.arange(len(rows)), "frequency": x[rows], "recency": t_x[rows], "T": 6.0}
    ).astype({"frequency": float, "recency": float})


def simulate_opportunities(params, n_customers: int, seed: int, holdout: int = 5) -> pd.DataFrame:
    """Customers drawn from the BG/BB story: n of 4 to 10 opportunities after the first purchase, then
    ``holdout`` more; before each one an alive customer leaves with probability theta, at each one an
    alive customer buys with probability p."""
    alpha, beta, gamma, delta = params
    rng = np.random.default_rng(seed)
    n = rng.integers(4, 11, n_customers)
    p, theta = rng.beta(alpha, beta, n_customers), rng.beta(gamma, delta, n_customers)
    lifetime = rng.geometric(theta) - 1  # opportunities alive after the first purchase
    k = np.arange(1, 10 + holdout + 1)[None, :]
    buys = (rng.uniform(size=(n_customers, k.shape[1])) < p[:, None]) & (k <= lifetime[:, None])
    before = buys & (k <= n[:, None])
    after = buys & (k > n[:, None]) & (k <= n[:, None] + holdout)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n_customers),
            "frequency": before.sum(axis=1).astype(float),
            "recency": np.max(np.where(before, k, 0), axis=1).astype(float),
            "T": n.astype(float),
            "holdout_purchases": after.sum(axis=1),
            "alive": lifetime > n,  # alive at the next opportunity, n + 1
        }
    )


def test_the_published_estimates_on_the_1995_donor_cohort():
    """alpha 1.204, beta 0.750, gamma 0.657, delta 2.783 and LL -33,225.6 (the paper's Table 2)."""
    fit = bg_bb.fit(_donors())
    assert fit.converged and fit.model == "bg_bb" and fit.n_customers == 11_104
    for name, value in PUBLISHED.items():
        assert fit.params[name] == pytest.approx(value, abs=5e-4), name
    assert fit.log_likelihood == pytest.approx(-33_225.6, abs=0.05)
    assert all(0 < se < 0.5 for se in fit.std_errors.values())


def _beta_moment(a, b, i, j):
    """E[p^i (1-p)^j], p ~ Beta(a, b): the integral of p^(a+i-1) (1-p)^(b+j-1) by quad's algebraic
    weight (QAWS, exact at the singular ends), over the same integral with i = j = 0."""

    def integral(u, v):
        return quad(lambda p: 1.0, 0, 1, weight="alg", wvar=(u - 1, v - 1), epsabs=0, epsrel=1e-13)[0]

    return integral(a + i, b + j) / integral(a, b)


def test_likelihood_p_alive_and_expectations_match_direct_integration():
    """Each term integrated over p and theta by quad, from the story: alive through n, or left before
    opportunity t_x+i+1 (i < n - t_x); P(alive at n+1); purchases at the next 4 opportunities."""
    a, b, g, d = params = (1.2, 0.75, 0.66, 2.8)
    for x, t_x, n in [(0, 0, 6), (2, 3, 6), (4, 4, 9), (7, 12, 20)]:
        alive = _beta_moment(a, b, x, n - x) * _beta_moment(g, d, 0, n)
        died = sum(_beta_moment(a, b, x, t_x - x + i) * _beta_moment(g, d, 1, t_x + i) for i in range(n - t_x))
        assert bg_bb.log_likelihood(params, [x], [t_x], [n])[0] == pytest.approx(np.log(alive + died), rel=1e-10)
        p_alive = _beta_moment(a, b, x, n - x) * _beta_moment(g, d, 0, n + 1) / (alive + died)
        assert bg_bb.p_alive(params, [x], [t_x], [n])[0] == pytest.approx(p_alive, rel=1e-9)
        later = sum(_beta_moment(g, d, 0, n + k) for k in range(1, 5))
        expected = _beta_moment(a, b, x + 1, n - x) * later / (alive + died)
        assert float(bg_bb.expected_purchases(params, x, t_x, n, 4)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("gamma", [0.3, 1.0 - 1e-7, 1.0, 1.0 + 1e-5, 2.5])
def test_the_closed_form_of_future_opportunities_alive_holds_on_both_sides_of_gamma_one(gamma):
    """The delta/(gamma-1) form against the direct sum over k < t of E[(1-theta)^k], theta ~
    Beta(gamma, delta+n+1), times E[p] = 1/(2+n) (alpha = beta = 1, x = 0)."""
    delta, n = 2.0, np.array([0.0, 6.0, 300.0])
    for t in (1, 5, 40):
        alive = np.array([sum(_beta_moment(gamma, delta + m + 1, 0, k) for k in range(t)) for m in n])
        got = bg_bb.expected_purchases_if_alive((1.0, 1.0, gamma, delta), 0.0, n, t)
        np.testing.assert_allclose(got, alive / (2 + n), rtol=1e-8)


def test_each_seed_recovers_the_true_parameters():
    """8,000 customers simulated from the story, three seeds: every parameter within 3.5 standard
    errors of the truth, the likelihood ratio at the truth below chi2(4)'s 99.9% quantile."""
    for seed in (1, 2, 3):
        customers = simulate_opportunities(TRUE, 8_000, seed)
        fit = bg_bb.fit(customers)
        assert fit.converged
        for (name, value), truth in zip(fit.params.items(), TRUE, strict=True):
            assert abs(value - truth) < 3.5 * fit.std_errors[name], (seed, name, value, truth)
        at_truth = bg_bb.log_likelihood(TRUE, customers.frequency, customers.recency, customers["T"]).sum()
        assert 0 <= 2 * (fit.log_likelihood - at_truth) < CHI2_4_999


def test_p_alive_and_expected_purchases_match_the_simulated_customers():
    """At the true parameters: mean P(alive at n+1) against the share alive, expected purchases at the
    next 5 opportunities against those made, overall and among customers with 4 or more (4 s.e.)."""
    customers = simulate_opportunities(TRUE, 40_000, seed=9)
    x, t_x, n = customers.frequency, customers.recency, customers["T"]
    alive = bg_bb.p_alive(TRUE, x, t_x, n)
    assert_agrees_with_simulation(customers, alive, bg_bb.expected_purchases(TRUE, x, t_x, n, 5), frequent=4)


def test_a_transaction_log_becomes_yearly_opportunities():
    con = engine.connect()
    rows = [
        (1, "2020-03-01", 20.0),  # first year: opportunity 0
        (1, "2021-05-01", 30.0),  # two purchases in 2021: one opportunity bought
        (1, "2021-09-01", 10.0),
        (1, "2023-02-01", -10.0),  # a return is no purchase
        (1, "2024-02-01", 10.0),  # 2024 is not complete on 2024-06-30: not counted
        (2, "2022-07-01", 50.0),
        (3, "2024-01-10", 15.0),  # first bought in the unfinished year: no opportunity yet
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]).assign(
        order_date=lambda f: pd.to_datetime(f.order_date)
    )
    result = opportunities.per_period(con.create_table("tx", frame, overwrite=True), dt.date(2024, 6, 30))
    assert result.period == "year" and result.end == dt.date(2023, 12, 31) and result.excluded == 1
    by_id = result.summary.set_index("customer_id")
    assert by_id.loc[1, ["frequency", "recency", "T"]].tolist() == [1.0, 1.0, 3.0]
    assert by_id.loc[2, ["frequency", "recency", "T"]].tolist() == [0.0, 0.0, 1.0]
    assert by_id.loc[1, "first_period"] == dt.date(2020, 1, 1) and not bg_bb.discrete_problem(result.summary)
    quarters = opportunities.per_period(con.create_table("tx", frame, overwrite=True), dt.date(2024, 6, 30), "quarter")
    assert quarters.end == dt.date(2024, 6, 30) and quarters.summary.set_index("customer_id").loc[1, "T"] == 17
    for day in (dt.date(1999, 12, 31), dt.date(2024, 2, 29), dt.date(2024, 12, 30)):
        for period in opportunities.PERIODS:
            k = opportunities.period_index(day, period)
            assert opportunities.period_start(k, period) <= day < opportunities.period_start(k + 1, period)
    with pytest.raises(ModelInputError, match="not one of"):
        opportunities.per_period(con.create_table("tx", frame, overwrite=True), dt.date(2024, 6, 30), "day")


def test_bg_bb_is_a_candidate_only_on_discrete_opportunities_and_refuses_weeks():
    customers = simulate_opportunities(TRUE, 6_000, seed=5)
    comparison = model_choice.compare_models(customers, 5)
    assert comparison.table.model.tolist() == list(model_choice.MODELS) and comparison.chosen == "bg_bb"
    weekly = simulate("bgnbd", (0.35, 8.0, 0.9, 3.5), 3_000, seed=1)
    assert "bg_bb" not in model_choice.candidates_for(weekly, 52.0)
    assert "bg_bb" not in model_choice.candidates_for(customers, 52.5)  # a holdout of part of an opportunity
    with pytest.raises(ModelInputError, match="fractional recency"):
        model_choice.compare_models(weekly, 52.0, "bg_bb")
    disordered = customers.assign(frequency=customers.recency + 1)
    with pytest.raises(ModelInputError, match=r"rows break 0 <= frequency <= recency <= T"):
        bg_bb.fit(disordered)
