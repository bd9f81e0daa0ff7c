"""BG/BB feeds the customer value: its expected purchases over the next opportunities become the
monthly CLV path of ``clv.customer_value`` and the simulated intervals of ``clv_intervals``; both
checked against an independent computation over the BG/BB posterior (importance sampling from the prior)."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from helpers import engine
from helpers.models import bg_bb, clv, clv_intervals, gamma_gamma, opportunities
from tests.models.test_bg_bb import TRUE, simulate_opportunities
from tests.run.test_notebooks import _run

QUARTER = opportunities.WEEKS["quarter"]


def _with_spend(customers, seed: int):
    """Gamma-Gamma repeat spend (p = 6, nu ~ Gamma(4, 35)) for the simulated donors."""
    rng = np.random.default_rng(seed)
    n = customers.frequency.to_numpy()
    nu = rng.gamma(4.0, 1 / 35.0, len(customers))
    mean = rng.gamma(6.0 * np.maximum(n, 1), 1.0) / nu / np.maximum(n, 1)
    return customers.assign(repeat_monetary=np.where(n > 0, mean, np.nan), revenue=1.0)


def _posterior_purchases(params, x, t_x, n, opportunities_ahead: int, draws: int = 2_000_000) -> np.ndarray:
    """P(a purchase at opportunity n + k | x, t_x, n), k = 1..opportunities_ahead, from the story alone:
    (p, theta) drawn from their Beta priors, weighted by the history's likelihood (alive through n, or
    gone before opportunity t_x + i + 1), the purchase needing the customer alive through n + k."""
    a, b, g, d = params
    rng = np.random.default_rng(11)
    p, theta = rng.beta(a, b, draws), rng.beta(g, d, draws)
    stayed = p**x * (1 - p) ** (n - x) * (1 - theta) ** n
    left = sum(p**x * (1 - p) ** (t_x - x + i) * theta * (1 - theta) ** (t_x + i) for i in range(n - t_x))
    weight = stayed + left
    return np.array([np.sum(stayed * p * (1 - theta) ** k) for k in range(1, opportunities_ahead + 1)]) / weight.sum()


def test_the_monthly_value_path_is_the_posterior_sum_over_the_coming_opportunities():
    """Quarterly opportunities, 12 months: the purchases at the 4 coming quarters, each discounted at
    its quarter's end (months 3, 6, 9, 12), times Gamma-Gamma's expected value; a 2-month horizon holds
    no whole quarter and is worth nothing."""
    customers = _with_spend(simulate_opportunities(TRUE, 3000, seed=4), 4)
    fit, spend = bg_bb.fit(customers), gamma_gamma.fit(customers)
    value = clv.customer_value(customers, fit, spend, 12, 0.10, unit_weeks=QUARTER)
    discount = 1.1 ** (-np.arange(3, 13, 3) / 12)
    for row in value.index[:: len(value) // 6][:6]:
        x, t_x, n = (int(customers.at[row, c]) for c in ("frequency", "recency", "T"))
        per_quarter = _posterior_purchases(fit.values, x, t_x, n, 4)
        assert value.at[row, "expected_purchases"] == pytest.approx(per_quarter.sum(), rel=0.01), (x, t_x, n)
        worth = np.sum(per_quarter * discount) * value.at[row, "expected_order_value"]
        assert value.at[row, "clv"] == pytest.approx(worth, rel=0.01), (x, t_x, n)
    short = clv.customer_value(customers, fit, spend, 2, 0.10, unit_weeks=QUARTER)
    assert (short.clv == 0).all() and (short.expected_purchases == 0).all()


def test_simulated_intervals_centre_on_the_closed_form_value():
    """The intervals' simulated totals (realised and expected) within 3% of the closed-form total, which
    lies inside both intervals."""
    customers = _with_spend(simulate_opportunities(TRUE, 2000, seed=5), 5)
    fit, spend = bg_bb.fit(customers), gamma_gamma.fit(customers)
    value = clv.customer_value(customers, fit, spend, 12, 0.10, unit_weeks=QUARTER)
    result = clv_intervals.value_intervals(customers, fit, spend, 12, 0.10, draws=200, seed=3, unit_weeks=QUARTER)
    totals = result.totals.set_index("quantity")
    for quantity in ("realised", "expected"):
        assert totals.at[quantity, "mean"] == pytest.approx(value.clv.sum(), rel=0.03), quantity
        assert totals.at[quantity, "low"] < value.clv.sum() < totals.at[quantity, "high"], quantity


def test_undiscounted_intervals_of_opportunities_are_those_of_a_separate_call():
    """BG/BB's own simulation path: ``undiscounted=True`` gives bit for bit a second call at rate 0."""
    customers = _with_spend(simulate_opportunities(TRUE, 600, seed=6), 6)
    fit, spend = bg_bb.fit(customers), gamma_gamma.fit(customers)
    both = clv_intervals.value_intervals(customers, fit, spend, 12, 0.10, 30, 0.9, 2, QUARTER, undiscounted=True)
    for shared, rate in ((both, 0.10), (both.undiscounted, 0.0)):
        alone = clv_intervals.value_intervals(customers, fit, spend, 12, rate, 30, 0.9, 2, QUARTER)
        pd.testing.assert_frame_equal(shared.customers, alone.customers, check_exact=True)
        pd.testing.assert_frame_equal(shared.totals, alone.totals, check_exact=True)


def _donation_log(params, n_customers: int, seed: int) -> pd.DataFrame:
    """A transaction log from the BG/BB story, one opportunity a year (a donation on 1 December):
    first gifts in 2014-2016, then each year alive (leaving before it with probability theta) a gift
    with probability p, up to 2025; gifts Gamma(6, nu), nu ~ Gamma(4, 35) per donor (Gamma-Gamma's story)."""
    a, b, g, d = params
    rng = np.random.default_rng(seed)
    p, theta = rng.beta(a, b, n_customers), rng.beta(g, d, n_customers)
    first = rng.integers(2014, 2017, n_customers)
    rows = [(c, first[c]) for c in range(n_customers)]
    for c in range(n_customers):
        for year in range(first[c] + 1, 2026):
            if rng.random() < theta[c]:
                break
            if rng.random() < p[c]:
                rows.append((c, year))
    frame = pd.DataFrame(rows, columns=["customer_id", "year"])
    nu = rng.gamma(4.0, 1 / 35.0, n_customers)  # each donor's own spend rate
    gift = np.round(rng.gamma(6.0, 1.0, len(frame)) / nu[frame.customer_id], 2)
    return frame.assign(order_date=pd.to_datetime(frame.year.astype(str) + "-12-01"), amount=gift)[
        ["customer_id", "order_date", "amount"]
    ]


def test_the_tracking_curve_follows_the_holdout_years():
    """4,000 donors from the story; BG/BB fitted on the gifts up to 2021 predicts the cumulative repeat
    gifts of 2022-2025 within 2% each year (measured: within 0.15%)."""
    con = engine.connect()
    tx = con.create_table("gifts", _donation_log(TRUE, 4000, seed=6), overwrite=True)
    fit = bg_bb.fit(opportunities.per_period(tx, dt.date(2021, 12, 31), "year").summary)
    curve = opportunities.tracking(tx, dt.date(2025, 12, 31), "year", fit)
    assert curve.period_end.iloc[0] == dt.date(2015, 12, 31) and curve.period_end.iloc[-1] == dt.date(2025, 12, 31)
    holdout = curve[curve.period_end > dt.date(2021, 12, 31)]
    assert len(holdout) == 4 and holdout.actual.iloc[-1] > 5000
    np.testing.assert_allclose(holdout.predicted, holdout.actual, rtol=0.02)


def test_notebook_21_compares_bg_bb_on_a_donation_export_and_values_donors_with_it(tmp_path):
    """A donation export (one gift a year at most) cut at year ends: notebook 21 says BG/BB is a candidate
    and why, scores it on the holdout years beside the others (within 5%; the continuous models, whose
    story this is not, are off by more), chooses it, and values every donor over the coming year's
    opportunity with intervals."""
    folder = tmp_path / "donations"
    folder.mkdir()
    _donation_log(TRUE, 3000, seed=7).to_csv(folder / "transactions.csv", index=False)
    dates = {"as_of": "2025-12-31", "calibration_end": "2021-12-31"}
    outputs = _run(
        "21_customer_lifetime_value.ipynb",
        tmp_path,
        data_dir=str(folder),
        output_dir=str(tmp_path / "m"),
        **dates,
    )
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["bg_bb_candidate"].startswith("one opportunity a year") and "BG/BB is a candidate" in outputs
    table = {row["model"]: row for row in metrics["model_choice"]}
    assert set(table) == {"bgnbd", "pareto_nbd", "mbg_nbd", "bg_bb"} and abs(table["bg_bb"]["holdout_error"]) < 0.05
    assert all(abs(row["holdout_error"]) > 0.1 for name, row in table.items() if name != "bg_bb")
    assert metrics["clv_model"] == "bg_bb" and set(metrics["clv"]["purchases"]) == {"alpha", "beta", "gamma", "delta"}
    value = metrics["clv"]
    assert value["total_low_eur"] < value["total_eur"] < value["total_high_eur"]
