"""Expected purchases of the most frequent customers: finite, and equal to an independent
integration in log space, from frequency 0 to 10,000 (scipy's Gauss-Jacobi rule overflowed past
about 1,024 and gave NaN)."""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln

from helpers.models import bg_nbd, clv, mbg_nbd
from helpers.models.beta_quadrature import LARGE_B, beta_rules
from helpers.models.likelihood import Fit

FREQUENCIES = [0, 1, 5, 31, 32, 100, 1_000, 1_023, 1_030, 1_737, 2_491, 10_000]


def _by_quad(r, alpha, a, b_post, k, T, t):
    """E_p[(1 - (1 + p t/(alpha+T))^-k) / p], p ~ Beta(a, b_post), integrated over y = log p with
    the Beta density taken in logs (no power of 2, no hypergeometric function)."""
    scale = t / (alpha + T)

    def integrand(y):
        p = np.exp(y)
        gain = -np.expm1(-k * np.log1p(p * scale)) / p
        return gain * np.exp(a * y + (b_post - 1) * np.log1p(-p) - betaln(a, b_post))

    mode = np.log(a / (a + b_post))
    return quad(integrand, mode - 60 / a, 0, points=[mode - 5, mode, mode + 3], limit=400, epsabs=0, epsrel=1e-11)[0]


@pytest.mark.parametrize("a", [0.4, 1.0, 2.5])
def test_expected_purchases_match_integration_in_log_space_up_to_frequency_10000(a):
    r, alpha, b = 0.35, 8.0, 3.5
    x = np.array(FREQUENCIES, dtype=float)
    T, t = np.full(len(x), 60.0), np.full(len(x), 52.0)
    ours = bg_nbd.expected_purchases_if_alive((r, alpha, a, b), x, T, t)
    assert np.isfinite(ours).all()
    direct = [_by_quad(r, alpha, a, b + xi, r + xi, 60.0, 52.0) for xi in x]
    np.testing.assert_allclose(ours, direct, rtol=1e-9)
    mbg = mbg_nbd.expected_purchases_if_alive((r, alpha, a, b), x, T, t)
    np.testing.assert_allclose(mbg, [_by_quad(r, alpha, a, b + xi + 1, r + xi, 60.0, 52.0) for xi in x], rtol=1e-9)


def test_the_two_rules_agree_where_they_meet_and_weights_sum_to_one():
    below, above = LARGE_B * (1 - 1e-9), LARGE_B
    nodes, weights = beta_rules(0.8, [below, above])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert ((nodes > 0) & (nodes < 1)).all()
    moments = [np.sum(weights * nodes**k, axis=1) for k in (1, 2, 5)]
    for k, m in zip((1, 2, 5), moments, strict=True):  # E[p^k] of Beta(a, b) in closed form
        np.testing.assert_allclose(m, np.exp(betaln(0.8 + k, [below, above]) - betaln(0.8, [below, above])), rtol=1e-9)


def test_clv_is_finite_for_every_customer_whatever_their_frequency():
    x = np.array(FREQUENCIES, dtype=float)
    summary = pd.DataFrame(
        {
            "customer_id": np.arange(len(x)),
            "frequency": x,
            "recency": np.full(len(x), 104.0),  # bought on the last day: alive
            "T": np.full(len(x), 104.0),
            "n_orders": x + 1,
            "monetary": 50.0,
            "repeat_monetary": np.where(x > 0, 50.0, np.nan),
        }
    )
    purchases = Fit("bgnbd", dict(zip(bg_nbd.PARAMS, (0.35, 8.0, 0.9, 3.5), strict=True)), {}, 0.0, 1, True, "")
    spend = Fit("gamma_gamma", {"p": 6.0, "q": 4.0, "gamma": 35.0}, {}, 0.0, 1, True, "", "repeat_occasions")
    value = clv.customer_value(summary, purchases, spend)
    assert np.isfinite(value[["p_alive", "expected_purchases", "clv"]].to_numpy()).all()
    assert value.clv.is_monotonic_increasing and value.clv.iloc[0] > 0  # more frequent, more value
