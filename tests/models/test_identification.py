"""A fit whose covariance cannot give intervals: the parameters the data do not identify are named and
counted, auto sets such a model aside, and notebook 21 on such own data still values every customer and
says, in the notebook and in its metrics, why there is no interval."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.errors import ModelInputError
from helpers.models import clv, clv_intervals, gamma_gamma, model_choice
from helpers.run.headlines import compose
from tests.models.simulated_customers import simulate
from tests.run.test_currency import _texts
from tests.run.test_notebooks import _run


def _one_price(seed: int) -> pd.DataFrame:
    """Simulated BG/NBD customers whose every repeat purchase costs 40: Gamma-Gamma cannot tell a spread
    of mean spends, so its p and q run off towards infinity."""
    summary = simulate("bgnbd", (0.4, 8.0, 0.9, 3.5), 1500, seed=seed)
    return summary.assign(repeat_monetary=np.where(summary.frequency > 0, 40.0, np.nan), revenue=40.0)


def test_parameters_the_data_do_not_identify_are_named_and_counted():
    summary = _one_price(1)
    models = clv.fit_models(summary)
    found = clv_intervals.unavailable(summary, models.purchases, models.spend)
    assert set(found.parameters) == {"gamma_gamma.p", "gamma_gamma.q"}
    assert "Gamma-Gamma's p ran off towards infinity" in found.reason and "mean spends hardly vary" in found.reason
    with pytest.raises(ModelInputError, match="Gamma-Gamma's p ran off towards infinity"):
        clv_intervals.value_intervals(summary, models.purchases, models.spend, draws=20)
    value = clv.customer_value(summary, models.purchases, models.spend)
    assert np.isfinite(value.clv).all() and np.isfinite(value.p_alive).all()  # the point values stand


def test_a_singular_or_indefinite_covariance_names_its_parameters():
    spend = gamma_gamma.fit(
        _one_price(2).assign(
            repeat_monetary=lambda s: s.repeat_monetary * np.exp(np.random.default_rng(0).normal(0, 0.3, len(s)))
        )
    )
    assert clv_intervals.identification(spend).parameters == ()
    singular = replace(spend, log_covariance=((np.nan,) * 3,) * 3)
    assert clv_intervals.identification(singular).parameters == ("p", "q", "gamma")
    indefinite = replace(spend, log_covariance=((1.0, 0.0, 0.0), (0.0, 1.0, 2.0), (0.0, 2.0, 1.0)))
    found = clv_intervals.identification(indefinite)
    assert found.parameters == ("q", "gamma") and "not positive definite" in found.reason


def test_auto_sets_aside_a_model_without_intervals_and_says_why():
    table = pd.DataFrame(
        {
            "model": ["bgnbd", "pareto_nbd"],
            "converged": [True, True],
            "error_by_frequency": [0.05, 0.01],
            "bic": [100.0, 90.0],
            "no_intervals_because": ["", "Pareto/NBD's Hessian is singular: none of r, alpha, s, beta is identified"],
        }
    )
    chosen, why = model_choice._choose(table, model_choice.AUTO)
    assert chosen == "bgnbd" and "pareto_nbd set aside, no intervals (Pareto/NBD's Hessian is singular" in why
    chosen, why = model_choice._choose(table.assign(no_intervals_because="not identified"), model_choice.AUTO)
    assert chosen == "pareto_nbd" and "set aside" not in why  # none has intervals: the rule as before


@pytest.fixture
def one_price_export(small_world, tmp_path):
    """The small world's orders as an export where every order costs 40 (a one-price offer)."""
    folder = tmp_path / "one_price"
    folder.mkdir()
    tx = small_world.table("transactions")[["customer_id", "order_date", "amount"]]
    tx.assign(amount=40.0).to_csv(folder / "transactions.csv", index=False)
    return folder


def test_notebook_21_values_customers_and_says_why_there_is_no_interval(one_price_export, tmp_path):
    outputs = _texts(
        _run(
            "21_customer_lifetime_value.ipynb", tmp_path, data_dir=str(one_price_export), output_dir=str(tmp_path / "m")
        )
    )
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    value = metrics["clv"]
    assert value["total_eur"] > 0 and value["total_low_eur"] is None and value["value_at_risk_low_eur"] is None
    reason = value["no_interval_reason"]
    assert value["unidentified_parameters"] >= 1 and reason.startswith("Gamma-Gamma's"), reason
    assert (
        f"no interval: {value['unidentified_parameters']} of the models' parameters not identified: {reason}" in outputs
    )
    assert "No intervals for customers: Gamma-Gamma" in outputs and "NaN" not in outputs
    said = {item["id"]: compose(item, metrics) for item in metrics["headlines"]}
    assert said["value"] is None and said["win_back"] is None
    count = value["unidentified_parameters"]
    assert f"with no interval: {count} of the models' parameters are not identified" in said["value_no_interval"]
    assert f"no interval: {count} of the models' parameters" in said["win_back_no_interval"]
