"""BG/NBD: parameter recovery on worlds simulated with known truth, and the likelihood itself."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import gammaln

from helpers import clv, features
from helpers.paths import SCENARIOS_DIR
from helpers.world import generate_world


def _summary(world):
    con = features.connect()
    tx = features.read_table(con, world.table_path("transactions"), "transactions")
    return features.execute(features.customer_summary(tx, dt.date.fromisoformat(world.parameters["end"])))


def test_bgnbd_recovers_the_scenario_parameters_within_sampling_error(tmp_path):
    """On the purchase process alone (campaigns switched off) the fit lands within 3 standard
    errors of the true r, alpha, a, b. Tolerance: 3 SE, with SE from the fit's Hessian."""
    spec = yaml.safe_load((SCENARIOS_DIR / "retail_fr.yml").read_text())
    spec["campaigns"]["months"] = 0
    path = tmp_path / "no_campaigns.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    world = generate_world(path, root=tmp_path, n_customers=30_000, n_prospects=0, seed=11)
    fit = clv.fit_bgnbd(_summary(world))
    assert fit.converged
    for name, true in world.manifest["true_parameters"]["bgnbd"].items():
        assert abs(fit.params[name] - true) < 3 * fit.std_errors[name], (name, fit.params[name], true)
        assert fit.std_errors[name] < 0.15 * true


def test_on_the_default_world_the_mean_rate_and_dropout_are_recovered(small_world):
    """Campaign purchases (mostly by lapsed customers) are not part of BG/NBD: they flatten the
    spread of purchase rates, but the mean rate r/alpha and the drop-out mean a/(a+b) hold."""
    fit = clv.fit_bgnbd(_summary(small_world))
    true = small_world.manifest["true_parameters"]["bgnbd"]
    assert fit.params["r"] / fit.params["alpha"] == pytest.approx(true["r"] / true["alpha"], rel=0.10)
    assert fit.params["a"] / (fit.params["a"] + fit.params["b"]) == pytest.approx(true["a"] / (true["a"] + true["b"]), rel=0.15)


def test_log_likelihood_matches_the_closed_form_for_a_customer_with_no_repeat():
    r, alpha, a, b, T = 0.5, 6.0, 1.2, 3.0, 40.0
    # x = 0: P = (alpha / (alpha + T))^r
    expected = r * np.log(alpha / (alpha + T))
    assert clv.bgnbd_log_likelihood((r, alpha, a, b), [0], [0], [T])[0] == pytest.approx(expected)
    # x = 1 by direct evaluation of the two terms of Fader, Hardie & Lee (2005), eq. 6.
    x, tx = 1, 10.0
    lead = np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha))
    alive = b / (a + b) / (alpha + T) ** (r + x)
    died = a / (a + b) / (alpha + tx) ** (r + x)
    assert clv.bgnbd_log_likelihood((r, alpha, a, b), [x], [tx], [T])[0] == pytest.approx(np.log(lead * (alive + died)))


def test_every_customer_bought_once_gives_a_clear_message():
    summary = pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0.0, 0.0], "T": [10.0, 20.0, 5.0]})
    with pytest.raises(clv.ModelInputError, match="bought only once"):
        clv.fit_bgnbd(summary)
    with pytest.raises(clv.ModelInputError, match="empty"):
        clv.fit_bgnbd(summary.iloc[:0])
