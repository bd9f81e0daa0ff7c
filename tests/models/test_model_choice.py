"""Gamma-Gamma's input, the calibration cut chosen from the data, and the choice between purchase models."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from helpers import engine, features
from helpers.errors import ModelInputError
from helpers.models import gamma_gamma, holdout, model_choice
from helpers.run.parameter_domains import DOMAINS
from tests.models.simulated_customers import simulate


def _log(rows):
    con = engine.connect()
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame.order_date)
    return con.create_table("tx", frame, overwrite=True)


def test_repeat_occasions_combine_same_day_orders_and_leave_out_the_first_day():
    tx = _log(
        [
            (1, "2024-01-05 10:00", 30.0),  # first day: two orders, left out
            (1, "2024-01-05 18:00", 20.0),
            (1, "2024-02-01 09:00", 40.0),  # second occasion: two orders and a return, one occasion of 50
            (1, "2024-02-01 11:00", 25.0),
            (1, "2024-02-01 12:00", -15.0),
            (1, "2024-03-01 09:00", 70.0),
            (2, "2024-01-10 09:00", 99.0),  # bought once
            (3, "2024-01-10 09:00", 10.0),
            (3, "2024-06-10 09:00", 80.0),  # after as_of: not counted
        ]
    )
    as_of = dt.date(2024, 5, 31)
    summary = gamma_gamma.with_repeat_spend(
        features.execute(features.customer_summary(tx, as_of), "customer_id"), tx, as_of
    )
    by_id = summary.set_index("customer_id")
    assert by_id.loc[1, "frequency"] == 2 and by_id.loc[1, "repeat_monetary"] == pytest.approx((50.0 + 70.0) / 2)
    assert by_id.loc[1, "monetary"] == pytest.approx(170.0 / 5)  # the "orders" basis: net revenue per purchase order
    assert np.isnan(by_id.loc[2, "repeat_monetary"]) and np.isnan(by_id.loc[3, "repeat_monetary"])
    assert gamma_gamma.in_sample(summary).tolist() == [True, False, False]
    with pytest.raises(ModelInputError, match="with_repeat_spend"):
        gamma_gamma.fit(summary.drop(columns="repeat_monetary"))
    with pytest.raises(ModelInputError, match="not one of"):
        gamma_gamma.fit(summary, "invoices")


def test_the_calibration_cut_follows_the_span_and_rhythm_and_is_refused_with_a_reason(small_world):
    con = engine.connect()
    tx = engine.read_table(con, small_world.table_path("transactions"), "transactions")
    end = dt.date(2025, 12, 31)
    period = holdout.calibration_period(tx, end)  # four years: a one-year holdout
    assert period.end == dt.date(2024, 12, 31) and period.holdout_weeks == pytest.approx(365 / 7)
    assert min(period.calibration_repeats, period.holdout_repeats) >= holdout.MIN_REPEATS
    short = tx.filter(tx.order_date.cast("date") >= dt.date(2025, 1, 1))
    twelve_months = holdout.calibration_period(short, end)  # a 12-month export: a third of it, not 9 days
    assert (end - twelve_months.end).days == 364 // 3 and "a third of the history" in twelve_months.reason
    with pytest.raises(ModelInputError, match="repeat purchases before it"):
        holdout.calibration_period(tx.filter(tx.order_date.cast("date") >= dt.date(2025, 11, 1)), end)
    one_off = _log([(1, "2024-01-05", 30.0), (2, "2024-02-05", 30.0)])
    with pytest.raises(ModelInputError, match="No customer bought twice"):
        holdout.calibration_period(one_off, dt.date(2024, 12, 31))


def test_auto_picks_the_model_the_customers_were_drawn_from_and_says_why():
    """Customers drawn from MBG/NBD (many leave at their first purchase) and from Pareto/NBD: each
    time the table holds every candidate and auto picks the true story by holdout error by frequency."""
    for truth, params in (("mbg_nbd", (0.5, 10.0, 1.5, 2.0)), ("pareto_nbd", (0.6, 12.0, 0.8, 40.0))):
        customers = simulate(truth, params, 20_000, seed=4)
        comparison = model_choice.compare_models(customers, 52.0)
        assert comparison.table.model.tolist() == ["bgnbd", "pareto_nbd", "mbg_nbd"]  # no BG/BB: weeks
        assert comparison.chosen == truth, comparison.table
        row = comparison.table.set_index("model").loc[truth]
        assert holdout.tracks(row.holdout_error) and row.aic == pytest.approx(8 - 2 * row.log_likelihood)
        assert comparison.by_frequency.groupby("model").customers.sum().eq(len(customers)).all()
        assert comparison.why.startswith(truth) and "BIC breaks ties" in comparison.why
    named = model_choice.compare_models(customers, 52.0, "bgnbd")
    assert named.chosen == "bgnbd" and "as requested" in named.why
    with pytest.raises(ModelInputError, match="not one of"):
        model_choice.compare_models(customers, 52.0, "lifetimes")


def test_the_playbook_domains_name_the_same_choices_as_the_models():
    assert DOMAINS["clv_model"].values == model_choice.CHOICES
    assert DOMAINS["spend_basis"].values == tuple(gamma_gamma.BASES)
