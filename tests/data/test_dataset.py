"""Own data: hand-written exports (tests/exports) loaded onto the contract, or refused with a clear error."""

import builtins
import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.data.contract import DataContractError
from helpers.data.dataset import load_tables

DATA = Path(__file__).parents[1] / "exports"
LATEST = dt.date(2026, 1, 1)


def load(folder, **kwargs):
    return load_tables(DATA / folder, latest_date=LATEST, **kwargs)


@pytest.mark.parametrize(
    "folder, category, file, column",
    [
        ("missing_column", "missing_column", "transactions.csv", "amount"),
        ("wrong_separator", "wrong_separator", "transactions.csv", None),
        ("unparseable_dates", "not_a_date", "transactions.csv", "order_date"),
        ("text_in_amounts", "not_a_number", "transactions.csv", "amount"),
        ("duplicate_order_ids", "duplicate_id", "transactions.csv", "order_id"),
        ("unknown_customers_in_contacts", "unknown_reference", "contacts.csv", "customer_id"),
        ("empty_file", "empty_file", "transactions.csv", None),
        ("header_only", "no_rows", "transactions.csv", None),
        ("mixed_encodings", "encoding", "transactions.csv", None),
        ("wrong_encoding_given", "encoding", "transactions.csv", None),
        ("future_dates", "date_out_of_range", "transactions.csv", "order_date"),
        ("dates_before_1990", "date_out_of_range", "transactions.csv", "order_date"),
        ("missing_values", "missing_value", "transactions.csv", "customer_id"),
        ("unknown_channel", "unknown_value", "consents.csv", "channel"),
        ("unknown_group", "unknown_value", "contacts.csv", "group"),
        ("bad_boolean", "not_a_boolean", "contacts.csv", "responded"),
        ("no_transactions", "missing_table", "no_transactions", None),
        ("ambiguous_files", "ambiguous_file", "transactions.txt", None),
        ("bad_mapping", "bad_mapping", "transactions.csv", "Montant TTC"),
        ("unterminated_quote", "unreadable", "transactions.csv", None),
    ],
)
def test_a_broken_export_is_refused_naming_the_file_and_column(folder, category, file, column):
    with pytest.raises(DataContractError) as info:
        load(f"broken/{folder}")
    assert info.value.category == category, str(info.value)
    assert file in str(info.value)
    if column:
        assert f"column {column}" in str(info.value) or repr(column) in str(info.value)


def test_messages_show_the_offending_lines_and_the_fix():
    with pytest.raises(DataContractError) as info:
        load("broken/text_in_amounts")
    message = str(info.value)
    assert "line 3: 'douze'" in message and "line 4: 'offert'" in message
    assert "2 of 5 rows" in message and "read.decimal" in message and "unchanged" in message
    with pytest.raises(DataContractError, match=r"line 2 is UTF-8, line 3 is not"):
        load("broken/mixed_encodings")


def test_a_french_excel_export_loads_with_its_mapping():
    data = load("clean_fr")
    tx = data.frame("transactions").set_index("order_id")
    assert len(tx) == 10, "11 lines, two of them one order"
    assert tx.loc["A-1", "amount"] == pytest.approx(79.90), "order lines summed"
    assert tx.loc["A-2", "amount"] == pytest.approx(1234.50), "thousands separator (no-break space) and decimal comma"
    assert tx.loc["A-2", "category"] == "Maison; déco", "quoted separator and cp1252 accents"
    assert tx.loc["A-5", "order_date"] == pd.Timestamp("2024-02-29"), "dd/mm/yyyy"
    assert tx.loc["A-4", "amount"] == pytest.approx(-59.90)
    report = data.report.tables["transactions"]
    assert report.returns == 1 and report.returns_amount == pytest.approx(-59.90)
    assert any("cp1252" in a for a in report.assumptions) and any("decimal comma" in a for a in report.assumptions)
    assert any("11 lines summed into 10 orders" in a for a in report.assumptions)
    assert (report.rows_read, report.rows_kept) == (11, 11), "merged order lines are not excluded rows"
    campaigns = data.frame("campaigns").set_index("campaign_id")
    assert campaigns.channel.to_dict() == {"PRINT-24": "postal", "MAIL-24": "email", "TEL-24": "phone"}
    assert campaigns.loc["MAIL-24", "cost_per_contact"] == pytest.approx(0.005)
    contacts = data.frame("contacts")
    assert contacts.group.value_counts().to_dict() == {"treatment": 5, "control": 3}
    assert contacts.responded.sum() == 4 and contacts.revenue.sum() == pytest.approx(219.5)
    customers = data.frame("customers").set_index("customer_id")
    assert customers.loc[1006, "last_name"] == "Bœuf" and customers.loc[1001, "postcode"] == "75011"
    assert set(data.report.missing_tables) == {"products", "consents"}


def test_bom_us_and_excel_exports_load():
    bom = load("clean_bom").frame("transactions")
    assert bom.columns[0] == "customer_id" and bom.amount.tolist() == [59.9, 34.5, -59.9, 1234.0, 35.5]
    us = load("clean_us").frame("transactions")
    assert us.customer_id.tolist()[:2] == ["C-001", "C-002"], "text ids stay text"
    assert us.amount.tolist()[0] == pytest.approx(1059.90) and us.order_date[1] == pd.Timestamp("2024-01-17")
    xlsx = load("clean_xlsx")
    tx = xlsx.frame("transactions")
    assert tx.order_date.tolist()[0] == pd.Timestamp("2024-01-08") and tx.amount.sum() == pytest.approx(392.49)
    assert xlsx.report.tables["transactions"].file == "transactions.xlsx"


def test_rows_within_the_tolerance_are_excluded_counted_and_reported():
    data = load("broken/text_in_amounts", mapping={"options": {"max_excluded_share": 0.5}})
    report = data.report.tables["transactions"]
    assert (report.rows_read, report.rows_kept) == (5, 3)
    assert report.excluded == {"amount is not a number": 2}
    assert data.report.exclusions().rows.sum() == 2
    assert "excluded 2: amount is not a number" in str(data.report)


def test_an_exact_duplicate_row_is_excluded_and_a_conflicting_key_kept_once(tmp_path):
    rows = [f"{i},{i % 7 + 1},2024-01-{i % 28 + 1:02d},{i}.5" for i in range(1, 201)]
    (tmp_path / "transactions.csv").write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows + rows[:1]))
    (tmp_path / "customers.csv").write_text(
        "customer_id,city\n"
        + "\n".join(f"{c},Lyon" for c in range(1, 8))
        + "\n3,Paris\n"
        + "\n".join(f"{c},Nantes" for c in range(8, 200))
    )
    data = load_tables(tmp_path, latest_date=LATEST)
    assert data.report.tables["transactions"].excluded == {
        "exact duplicate of an earlier line (every column of the file), away from its order's other lines": 1
    }
    assert data.report.tables["transactions"].rows_kept == 200
    customers = data.frame("customers").set_index("customer_id")
    assert customers.loc[3, "city"] == "Lyon", "the first row of a repeated key is kept"
    assert data.report.tables["customers"].excluded == {
        "customer_id repeated with different values (the first row is kept)": 1
    }


def test_explicit_reader_options_override_detection():
    spec = yaml.safe_load((DATA / "clean_fr" / "mapping.yml").read_text(encoding="utf-8"))
    spec["tables"]["transactions"]["read"] = {"decimal": "."}
    with pytest.raises(DataContractError) as info:
        load("clean_fr", mapping=spec)
    assert info.value.category == "not_a_number" and "'59,90'" in str(info.value)
    with pytest.raises(DataContractError, match="unknown key"):
        load("clean_bom", mapping={"tables": {"transactions": {"read": {"delimiter": ";"}}}})


def test_ambiguous_day_month_order_is_assumed_from_the_conventions_and_said(tmp_path):
    (tmp_path / "transactions.csv").write_text("customer_id;order_date;amount\n1;03/04/2024;10,5\n2;05/06/2024;3\n")
    data = load_tables(tmp_path, latest_date=LATEST)
    assert data.frame("transactions").order_date.tolist() == [pd.Timestamp("2024-04-03"), pd.Timestamp("2024-06-05")]
    assert any("assumed %d/%m/%Y" in a for a in data.report.tables["transactions"].assumptions)


def test_original_files_are_never_modified():
    def digest():
        return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in DATA.rglob("*") if p.is_file()}

    before = digest()
    for folder in [p for p in DATA.iterdir() if p.is_dir() and p.name != "broken"] + list((DATA / "broken").iterdir()):
        try:
            load_tables(folder, latest_date=LATEST)
        except DataContractError:
            pass
    assert digest() == before


def test_pseudonymisation_replaces_direct_identifiers_with_stable_salted_hashes():
    spec = yaml.safe_load((DATA / "clean_fr" / "mapping.yml").read_text(encoding="utf-8"))
    plain = load("clean_fr").frame("customers")

    def pseudonymised(salt):
        return load("clean_fr", mapping={**spec, "options": {"pseudonymise": True, "salt": salt}}).frame("customers")

    a, b, other = pseudonymised("s3cret"), pseudonymised("s3cret"), pseudonymised("another")
    for column in ("first_name", "last_name", "email"):
        assert not set(a[column]) & set(plain[column]), f"{column} still holds a real value"
        assert a[column].str.fullmatch(r"[0-9a-f]{16}").all()
        assert a[column].tolist() == b[column].tolist(), "same salt, same pseudonym"
        assert a[column].tolist() != other[column].tolist()
    assert a.postcode.tolist() == plain.postcode.tolist(), "not a direct identifier: kept"
    with pytest.raises(DataContractError, match="needs options.salt"):
        load("clean_fr", mapping={**spec, "options": {"pseudonymise": True}})


def test_a_world_written_as_french_excel_csv_loads_back_equal(small_world, tmp_path):
    """Round trip: every contract table written the French Excel way (';', decimal comma, cp1252,
    dd/mm/yyyy, French column names for transactions) and loaded back with a mapping."""
    french = {
        "customer_id": "N° client",
        "order_date": "Date commande",
        "amount": "Montant TTC",
        "category": "Catégorie",
    }
    tables = {}
    for name in ("transactions", "customers", "consents", "campaigns", "contacts", "products"):
        df = small_world.table(name)
        tables[name] = df
        out = df.rename(columns=french) if name == "transactions" else df
        out.to_csv(
            tmp_path / f"{name}.csv", sep=";", decimal=",", encoding="cp1252", index=False, date_format="%d/%m/%Y"
        )
    mapping = {"tables": {"transactions": {"columns": {v: k for k, v in french.items()}}}}
    data = load_tables(tmp_path, mapping=mapping, latest_date=dt.date(2025, 12, 31))
    for name, original in tables.items():
        pd.testing.assert_frame_equal(data.frame(name), original, check_dtype=False, obj=name)
        assert data.report.tables[name].rows_kept == len(original)


def _deny(monkeypatch, denied: Path) -> None:
    """Make the system refuse to read ``denied``, as it would for another user (tests run as root,
    where chmod does not stop reads)."""
    real_open, real_iterdir = builtins.open, Path.iterdir

    def refuse(path):
        if Path(path) == denied:
            raise PermissionError(13, "Permission denied", str(path))

    def fake_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            refuse(file)
        return real_open(file, *args, **kwargs)

    def fake_iterdir(self):
        refuse(self)
        return real_iterdir(self)

    for module in (builtins, io):
        monkeypatch.setattr(module, "open", fake_open)
    monkeypatch.setattr(Path, "iterdir", fake_iterdir)


@pytest.mark.parametrize("denied", [".", "mapping.yml", "transactions.csv"])
def test_a_folder_or_file_we_may_not_read_is_refused_as_unreadable_naming_it(tmp_path, monkeypatch, denied):
    (tmp_path / "transactions.csv").write_bytes((DATA / "clean_bom" / "transactions.csv").read_bytes())
    (tmp_path / "mapping.yml").write_text("options: {max_excluded_share: 0.05}\n")
    load_tables(tmp_path, latest_date=LATEST)  # readable: it loads
    _deny(monkeypatch, tmp_path / denied)
    with pytest.raises(DataContractError) as info:
        load_tables(tmp_path, latest_date=LATEST)
    assert info.value.category == "unreadable"
    assert str(info.value).startswith(f"[unreadable] {(tmp_path / denied)}: permission denied")
    assert "read access" in str(info.value)
