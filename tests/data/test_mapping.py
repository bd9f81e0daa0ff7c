"""The mapping: every key and value checked before any data is read, each refusal naming the key and
what is accepted."""

import datetime as dt
from pathlib import Path

import pytest

from helpers.data.contract import DataContractError
from helpers.data.dataset import load_tables
from helpers.data.mapping import read_mapping

DATA = Path(__file__).parents[1] / "exports"
LATEST = dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    "mapping_yml, message",
    [
        ("- tables\n", "must be a mapping with 'tables' and 'options', got a list ['tables']"),
        ("tables: [transactions]\n", "tables must be a mapping {table: {file, columns, read, values}}, got a list"),
        ("tables: {orders: {}}\n", "tables: unknown key(s) ['orders']"),
        ("tables: {transactions: [amount]}\n", "tables.transactions must be a mapping, got a list ['amount']"),
        ("tables: {transactions: {file: 12}}\n", "tables.transactions.file must be the name of a file"),
        (
            "tables: {transactions: {columns: [Montant, amount]}}\n",
            "tables.transactions.columns must be a mapping {file column: contract column}",
        ),
        (
            "tables: {transactions: {columns: {Montant: [amount]}}}\n",
            "'Montant' maps onto a list ['amount'], which is not a column of transactions",
        ),
        ("tables: {transactions: {read: [sep, ';']}}\n", "tables.transactions.read must be a mapping"),
        ("tables: {transactions: {read: {sep: ';;'}}}\n", "read.sep must be one character"),
        ("tables: {transactions: {read: {sep: '\\t'}}}\n", "read.sep must be one character"),  # YAML: backslash, t
        ("tables: {transactions: {read: {decimal: ';'}}}\n", "read.decimal must be '.' or ',', got the text ';'"),
        (
            "tables: {transactions: {read: {encoding: utf-9}}}\n",
            "read.encoding must be a text encoding Python knows, such as utf-8, cp1252, latin-1 or utf-16, "
            "got the text 'utf-9'",
        ),
        ("tables: {transactions: {read: {encoding: base64}}}\n", "read.encoding must be a text encoding"),
        ("tables: {transactions: {read: {date_format: dd/mm/yyyy}}}\n", "read.date_format must be a format such as"),
        ("tables: {transactions: {read: {date_format: '%d/%m/%Q'}}}\n", "read.date_format must be a format such as"),
        ("tables: {transactions: {read: {sheet: -1}}}\n", "read.sheet must be a sheet name or its position"),
        (
            "tables: {campaigns: {values: {channel: [Courrier, postal]}}}\n",
            "tables.campaigns.values.channel must be a mapping {file value: contract value}",
        ),
        (
            "tables: {campaigns: {values: {channel: {Courrier: postale}}}}\n",
            "'Courrier' maps onto the text 'postale'; accepted: email, sms, postal, phone, push",
        ),
        ("tables: {contacts: {values: {responded: {peut-etre: maybe}}}}\n", "accepted: true, t, 1, yes"),
        ("tables: {contacts: {values: {revenue: {x: 1}}}}\n", "values: unknown key(s) ['revenue']"),
        ("options: [pseudonymise]\n", "options must be a mapping, got a list"),
        (
            "options: {max_excluded_share: one percent}\n",
            "options.max_excluded_share must be a number from 0 to 1 (0.01 for 1%), got the text 'one percent'",
        ),
        ("options: {max_excluded_share: 5}\n", "options.max_excluded_share must be a number from 0 to 1"),
        ("options: {max_excluded_share: true}\n", "options.max_excluded_share must be a number from 0 to 1"),
        (
            "options: {latest_date: 31/12/2025}\n",
            "options.latest_date must be a date YYYY-MM-DD (e.g. 2025-12-31), got the text '31/12/2025'",
        ),
        ("options: {pseudonymise: 'yes please', salt: s}\n", "options.pseudonymise must be true or false"),
        ("options: {pseudonymise: true, salt: 12345}\n", "options.salt must be a secret text (quote it in YAML)"),
        ("options: {currency: EURO}\n", "options.currency must be an ISO 4217 code such as EUR"),
        ("options: {currency: GPB}\n", "ISO 4217 code such as EUR, GBP, USD or CHF, got the text 'GPB'"),
        ("options: {currency: 978}\n", "options.currency must be an ISO 4217 code"),
        (
            "options: {max_excluded_share: {missing_customer: 0.3}}\n",
            "unknown rule 'missing_customer'; use 'default', a category (missing_value, not_a_number",
        ),
        ("options: {max_excluded_share: {missing_value.client: 0.3}}\n", "unknown rule 'missing_value.client'"),
        (
            "options: {max_excluded_share: {missing_value.customer_id: 30%}}\n",
            "options.max_excluded_share.missing_value.customer_id must be a number from 0 to 1",
        ),
        (
            "tables: {customers: {columns: {Courriel: emial}}}\n",
            "'Courriel' maps onto the text 'emial', which is not a column of customers (did you mean email?)",
        ),
        (
            "tables: {transactions: {non_product_lines: {sku: [POST]}}}\n",
            "lines are recognised by product_id, description or category, got 'sku'",
        ),
        ("tables: {transactions: {non_product_lines: {product_id: POST}}}\n", "must be a list of values"),
        ("tables: {transactions: {returns: {prefix: C}}}\n", "returns must be {order_id_starts_with: <text>}"),
        ("tables: {customers: {returns: {order_id_starts_with: C}}}\n", "are for transactions only"),
    ],
)
def test_a_bad_mapping_is_refused_before_any_data_is_read_naming_the_key_and_what_is_accepted(
    tmp_path, mapping_yml, message
):
    (tmp_path / "transactions.csv").write_bytes(b"")  # would be refused as empty, were it read
    (tmp_path / "mapping.yml").write_text(mapping_yml)
    with pytest.raises(DataContractError) as info:
        load_tables(tmp_path, latest_date=LATEST)
    assert info.value.category == "bad_mapping", str(info.value)
    assert message in str(info.value)
    assert str(info.value).startswith(f"[bad_mapping] {tmp_path / 'mapping.yml'}: ") or mapping_yml == "- tables\n"
    assert "\n" not in str(info.value), "one line"


def test_mapping_options_in_their_domain_are_accepted():
    spec, _ = read_mapping(
        DATA,
        {
            "tables": {
                "transactions": {
                    "read": {"sep": "\t", "decimal": ",", "encoding": "Latin-1", "date_format": "%-d/%-m/%Y %H:%M"}
                },
                "contacts": {"values": {"responded": {"oui": True, "non": "N"}}},
                "campaigns": {"values": {"channel": {"Courrier": "Postal"}}},
            },
            "options": {"max_excluded_share": 1, "latest_date": "2025-12-31"},
        },
    )
    assert spec.tables["transactions"].read["sep"] == "\t" and spec.max_excluded_share == {"default": 1.0}
    assert spec.latest_date == dt.date(2025, 12, 31)
    for latest in (dt.date(2025, 12, 31), dt.datetime(2025, 12, 31, 23, 59)):
        assert read_mapping(DATA, {"options": {"latest_date": latest}})[0].latest_date == dt.date(2025, 12, 31)
    assert read_mapping(DATA, {"options": {"max_excluded_share": None, "latest_date": None}})[0].max_excluded_share == {
        "default": 0.01
    }, "an empty option keeps its default"
    shares = read_mapping(DATA, {"options": {"max_excluded_share": {"missing_value.customer_id": 0.3}}})[0]
    assert shares.max_excluded_share == {"default": 0.01, "missing_value.customer_id": 0.3}
    assert read_mapping(DATA, {"options": {"currency": "gbp"}})[0].currency == "GBP"
    assert read_mapping(DATA, None)[0].currency == "EUR", "the default currency"


def test_mapping_keys_stay_text_so_yes_and_no_are_not_booleans(tmp_path):
    (tmp_path / "mapping.yml").write_text(
        "tables:\n  consents:\n    values:\n      status: {yes: opt_in, no: opt_out, on: opt_in, 1: opt_in}\n"
    )
    spec, _ = read_mapping(tmp_path, None)
    assert spec.tables["consents"].values == {
        "status": {"yes": "opt_in", "no": "opt_out", "on": "opt_in", "1": "opt_in"}
    }
    with pytest.raises(DataContractError, match=r"the file value the boolean True must be text.*quote them"):
        read_mapping(tmp_path, {"tables": {"consents": {"values": {"status": {True: "opt_in"}}}}})
    assert read_mapping(DATA, "")[1] == "none", "no mapping (a notebook's default parameter)"
