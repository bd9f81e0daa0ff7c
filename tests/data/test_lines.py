"""Line-level exports (tests/exports/invoice_*): duplicates judged on the whole source line, derived
amounts, non-product lines, cancellations that net revenue but are no purchases."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from helpers import features
from helpers.data.contract import DataContractError
from helpers.data.dataset import load_tables
from helpers.describe.knowledge import kpis
from helpers.models import clv

DATA = Path(__file__).parents[1] / "exports"
LATEST = dt.date(2026, 1, 1)
AS_OF = dt.date(2010, 12, 31)


def load(folder, **kwargs):
    return load_tables(DATA / folder, latest_date=LATEST, **kwargs)


def test_a_four_column_invoice_file_with_equal_amounts_in_an_invoice_loses_no_line():
    data = load("invoice_four_columns")
    report = data.report.tables["transactions"]
    assert (report.rows_read, report.rows_kept, report.excluded) == (21, 21, {})
    assert any(a.startswith("5 lines equal an earlier line of their order") for a in report.assumptions)
    tx = data.frame("transactions").set_index("order_id")
    assert tx.amount.sum() == pytest.approx(918.64), "every line's amount, equal ones included"
    assert tx.loc["536368", "amount"] == pytest.approx(51.00), "25.50 twice on one invoice"
    assert tx.loc["536371", "amount"] == pytest.approx(408.00), "two lines that differ only by the time of day"


def test_a_file_exported_twice_is_caught_and_the_refusal_names_the_option(tmp_path):
    text = (DATA / "invoice_four_columns" / "transactions.csv").read_text()
    (tmp_path / "transactions.csv").write_text(text + "".join(text.splitlines(keepends=True)[1:]))
    (tmp_path / "mapping.yml").write_bytes((DATA / "invoice_four_columns" / "mapping.yml").read_bytes())
    with pytest.raises(DataContractError) as info:
        load_tables(tmp_path, latest_date=LATEST)
    message = str(info.value)
    assert info.value.category == "duplicate_id" and "21 of 42 rows" in message
    assert "away from its order's other lines" in message and "line 23: '536365'" in message
    assert "set options.max_excluded_share: {duplicate_id.order_id: 0.5}" in message


def test_invoice_lines_load_with_a_derived_amount_and_every_exclusion_counted_once():
    data = load("invoice_lines")
    report = data.report.tables["transactions"]
    assert report.excluded == {
        "non-product line (product_id listed in non_product_lines)": 3,
        "customer_id is empty": 5,
        "exact duplicate of an earlier line (every column of the file)": 1,
    }
    assert sum(report.excluded.values()) == report.rows_read - report.rows_kept == 44 - 35
    assert report.zero_price_lines == 1 and data.currency == "GBP" and data.report.currency == "GBP"
    tx = data.frame("transactions").set_index("order_id")
    assert tx.loc["536365", "amount"] == pytest.approx(6 * 2.55 + 6 * 3.39 + 8 * 2.75 + 6 * 3.39), "postage left out"
    assert tx.loc["536368", "amount"] == pytest.approx(25.50), "a repeated product line is a duplicate"
    assert tx.loc["536371", "quantity"] == 160, "lines differing by their time of day are two lines"
    assert tx.is_return.sum() == 4 and set(tx.index[tx.is_return]) == {"C536379", "C536383", "C536391", "C536403"}
    assert (report.returns, report.returns_amount) == (4, pytest.approx(-75.91))
    assert (report.customers_without_net_revenue, report.customers_only_returning) == (4, 3)
    assert "each counted once, under the first rule it broke" in str(data.report) and "GBP" in str(data.report)


def test_cancellations_net_revenue_but_are_neither_orders_nor_purchase_occasions():
    data = load("invoice_lines")
    tx = data.table("transactions")
    summary = features.execute(features.customer_summary(tx, AS_OF), "customer_id").set_index("customer_id")
    assert 14527 not in summary.index, "a customer who only cancelled never bought"
    assert summary.loc[12347, ["n_orders", "frequency"]].tolist() == [1, 0]
    assert summary.loc[12347, "revenue"] == pytest.approx(0.0), "bought 17.00, returned 17.00"
    assert summary.n_orders.sum() == 18, "purchase invoices only: 22 orders less 4 cancellations"
    modelled = features.execute(features.modelled_customers(features.customer_summary(tx, AS_OF)))
    assert 12347 not in set(modelled.customer_id) and (modelled.revenue > 0).all()
    assert 12347 not in set(features.execute(features.rfm_features(tx, AS_OF)).customer_id)
    assert 12347 not in set(features.execute(features.calibration_holdout(tx, AS_OF, LATEST)).customer_id)
    said = clv.fit_models(summary.reset_index()).message
    assert said.endswith("Customers whose net revenue is zero or less, left out of the models: 1."), said
    first, repeats = features.repeat_days(tx, AS_OF)
    assert len(first) == 15 and len(repeats) == 0, "a return the same day is no repeat purchase"
    headline = kpis(tx, AS_OF, data.currency).set_index("kpi").value
    assert headline["orders"] == 18 and headline["customers who ever bought"] == 15
    assert headline["revenue (GBP)"] == pytest.approx(features.execute(tx).amount.sum()), "net of every return"


def test_a_return_marked_by_the_file_is_no_purchase_and_a_negative_order_is_one_by_its_sign(tmp_path):
    (tmp_path / "transactions.csv").write_text(
        "customer_id,order_date,amount,Type\n1,2024-01-05,30,Vente\n1,2024-01-20,-12,Retour\n1,2024-02-01,-5,Vente\n"
    )
    values = {"is_return": {"Retour": "true", "Vente": "false"}}
    mapping = {"tables": {"transactions": {"columns": {"Type": "is_return"}, "values": values}}}
    data = load_tables(tmp_path, mapping=mapping, latest_date=LATEST)
    summary = features.execute(features.customer_summary(data.table("transactions"), dt.date(2024, 12, 31))).iloc[0]
    assert (summary.n_orders, summary.frequency, summary.revenue) == (1, 0, pytest.approx(13.0))
    assert pd.Timestamp(summary.last_order) == pd.Timestamp("2024-01-05")
    assert data.report.tables["transactions"].returns == 2
    assert not any("positive amount" in a for a in data.report.tables["transactions"].assumptions)
    with open(tmp_path / "transactions.csv", "a") as fh:
        fh.write("1,2024-02-03,7,Retour\n")
    assumptions = load_tables(tmp_path, mapping=mapping, latest_date=LATEST).report.tables["transactions"].assumptions
    assert "1 orders marked as returns have a positive amount: they are no purchases, but add to revenue" in " ".join(
        assumptions
    )


@pytest.mark.parametrize(
    "derive, message",
    [
        ({"amount": "quantity + unit_price"}, "must be a product of transactions columns and numbers"),
        ({"amount": "quantity * price"}, "got 'quantity * price'; columns: margin, quantity, unit_price"),
        ({"amount": "quantity * unit_price); DROP TABLE x; --"}, "must be a product of transactions columns"),
        ({"amount": "2 * 3"}, "must be a product of transactions columns"),
        ({"customer_id": "quantity * unit_price"}, "'customer_id' is not an amount or number column"),
        ({"amount": ["quantity", "unit_price"]}, "must be a product of transactions columns"),
    ],
)
def test_a_derived_column_is_a_product_of_columns_and_numbers_and_nothing_else(derive, message):
    with pytest.raises(DataContractError) as info:
        load("invoice_lines", mapping={"tables": {"transactions": {"derive": derive}}})
    assert info.value.category == "bad_mapping" and message in str(info.value)


def test_a_derived_amount_needs_its_factors_and_may_scale_them(tmp_path):
    (tmp_path / "transactions.csv").write_text(
        "customer_id,order_date,quantity,unit_price\n1,2024-01-05,2,10\n2,2024-01-06,,10\n"
    )
    derive = {"tables": {"transactions": {"derive": {"amount": "quantity * unit_price * 1.2"}}}}
    data = load_tables(tmp_path, mapping={**derive, "options": {"max_excluded_share": 0.5}}, latest_date=LATEST)
    assert data.frame("transactions").amount.tolist() == [pytest.approx(24.0)]
    assert data.report.tables["transactions"].excluded == {
        "amount cannot be derived: quantity or unit_price is empty or not a number": 1
    }
    (tmp_path / "transactions.csv").write_text(
        "customer_id,order_date,amount,quantity,unit_price\n1,2024-01-05,3,2,1\n"
    )
    with pytest.raises(DataContractError, match="has a column amount and the mapping derives it too"):
        load_tables(tmp_path, mapping=derive, latest_date=LATEST)


def test_a_return_rule_by_order_id_needs_an_order_id(tmp_path):
    (tmp_path / "transactions.csv").write_text("customer_id,order_date,amount\n1,2024-01-05,30\n")
    with pytest.raises(DataContractError, match="order_id_starts_with needs an order_id column"):
        load_tables(tmp_path, mapping={"tables": {"transactions": {"returns": {"order_id_starts_with": "C"}}}})
