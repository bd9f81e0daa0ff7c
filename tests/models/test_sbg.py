"""sBG retention: the published estimates of Fader & Hardie (2007), the curves, the residual lifetime."""

import numpy as np
import pytest

from helpers.errors import ModelInputError
from helpers.models import sbg

# Percent of 1,000 customers still active at years 0..7 (Fader & Hardie 2007, table 1)
REGULAR = np.array([100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]) * 10
HIGH_END = np.array([100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]) * 10


@pytest.mark.parametrize(("alive", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_the_published_estimates_are_reproduced(alive, alpha, beta):
    fit = sbg.fit(alive)
    assert fit.converged and fit.model == "sbg"
    assert fit.params["alpha"] == pytest.approx(alpha, abs=5e-4)
    assert fit.params["beta"] == pytest.approx(beta, abs=5e-4)
    assert fit.std_errors["alpha"] > 0 and fit.std_errors["beta"] > 0
    curve = sbg.survival(fit.values, np.arange(len(alive))) * 1000
    assert np.max(np.abs(curve - alive)) < 20  # within 2 points of every year's share (high end: 1.8)


def test_survival_retention_and_residual_lifetime_follow_from_the_story():
    params = (0.704, 1.182)
    t = np.arange(1, 30)
    survival = sbg.survival(params, t)
    np.testing.assert_allclose(survival / sbg.survival(params, t - 1), sbg.retention(params, t), rtol=1e-12)
    assert np.all(np.diff(sbg.retention(params, t)) > 0)  # those left are the loyal ones
    # the residual lifetime against its definition: survival from renewal n on, discounted, summed
    for renewals in (0, 1, 4):
        later = np.arange(renewals + 1, renewals + 4000)
        direct = np.sum(sbg.survival(params, later) / sbg.survival(params, renewals) / 1.1 ** (later - renewals - 1))
        assert sbg.residual_lifetime(params, renewals, 0.10) == pytest.approx(direct, rel=1e-9)
    assert sbg.residual_lifetime(params, 4, 0.10) > sbg.residual_lifetime(params, 0, 0.10)


def test_a_curve_that_cannot_be_fitted_is_refused():
    with pytest.raises(ModelInputError, match="at least two renewals"):
        sbg.fit([1000, 600])
    with pytest.raises(ModelInputError, match="can only fall"):
        sbg.fit([1000, 600, 700])
