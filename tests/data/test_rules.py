"""The rules rows must keep: a tolerance per rule, each excluded row counted once, no silent change
(placeholder ids, unknown optional links, identifiers left in clear, YAML booleans)."""

import datetime as dt
from pathlib import Path

import pytest
import yaml

from helpers.data.contract import DataContractError
from helpers.data.dataset import load_tables

DATA = Path(__file__).parents[1] / "exports"
LATEST = dt.date(2026, 1, 1)


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_one_tolerance_for_guest_orders_leaves_every_other_rule_armed_and_each_refusal_names_its_option():
    spec = yaml.safe_load((DATA / "invoice_lines" / "mapping.yml").read_text())
    spec["options"]["max_excluded_share"] = 0.05
    with pytest.raises(DataContractError) as info:
        load_tables(DATA / "invoice_lines", mapping=spec, latest_date=LATEST)
    assert info.value.category == "missing_value" and "5 of 44 rows (11%)" in str(info.value)
    assert "set options.max_excluded_share: {missing_value.customer_id: 0.114}" in str(info.value)
    spec["options"]["max_excluded_share"] = {"missing_value.customer_id": 0.3, "default": 0}
    with pytest.raises(DataContractError) as info:
        load_tables(DATA / "invoice_lines", mapping=spec, latest_date=LATEST)
    assert info.value.category == "duplicate_id", "the default still holds for the other rules"
    assert "{duplicate_id.order_id: 0.023}" in str(info.value)
    spec["options"]["max_excluded_share"]["duplicate_id"] = 0.05  # a category covers its every column
    assert load_tables(DATA / "invoice_lines", mapping=spec, latest_date=LATEST).report.tables["transactions"]


def test_a_row_breaking_two_rules_is_counted_once_under_the_first(tmp_path):
    rows = "".join(f"{i},2024-01-{i:02d},{i}.5\n" for i in range(1, 11))
    write(tmp_path, **{"transactions.csv": "customer_id,order_date,amount\n" + rows + ",hier,douze\n"})
    data = load_tables(tmp_path, mapping={"options": {"max_excluded_share": 0.1}}, latest_date=LATEST)
    report = data.report.tables["transactions"]
    assert report.excluded == {"customer_id is empty": 1}
    assert report.rows_read - report.rows_kept == sum(report.excluded.values()) == 1


@pytest.mark.parametrize("placeholder", ["N/A", "-", "NULL", "n/a", "#N/A"])
def test_placeholder_customer_ids_are_missing_ids_not_customers(tmp_path, placeholder):
    rows = "".join(f"C{i},2024-01-{i:02d},{i}.5\n" for i in range(1, 10))
    write(tmp_path, **{"transactions.csv": f"customer_id,order_date,amount\n{rows}{placeholder},2024-01-20,5\n"})
    with pytest.raises(DataContractError) as info:
        load_tables(tmp_path, latest_date=LATEST)
    assert info.value.category == "missing_value" and f"line 11: {placeholder!r}" in str(info.value)
    assert "{missing_value.customer_id: 0.1}" in str(info.value)
    data = load_tables(tmp_path, mapping={"options": {"max_excluded_share": 0.1}}, latest_date=LATEST)
    assert placeholder not in set(data.frame("transactions").customer_id)
    assert data.report.tables["transactions"].excluded == {"customer_id is empty": 1}


def test_an_unknown_optional_campaign_keeps_the_purchase_and_clears_the_link(tmp_path):
    write(
        tmp_path,
        **{
            "transactions.csv": "customer_id,order_date,amount,campaign_id\n1,2024-01-05,30,SPRING\n"
            "2,2024-01-06,20,WINTER-99\n3,2024-01-07,10,N/A\n4,2024-01-08,15,\n",
            "campaigns.csv": "campaign_id,channel,offer,start_date\nSPRING,email,10%,2024-01-01\n",
        },
    )
    data = load_tables(tmp_path, latest_date=LATEST)
    tx = data.frame("transactions")
    assert len(tx) == 4 and tx.amount.sum() == pytest.approx(75.0), "every purchase kept"
    assert tx.campaign_id.tolist()[:1] == ["SPRING"] and tx.campaign_id[1:].isna().all()
    report = data.report.tables["transactions"]
    assert report.excluded == {} and report.cleared == {
        "campaign_id not in campaigns: link left empty, the row kept": 1,
    }
    assert "cleared on 1 rows: campaign_id not in campaigns" in str(data.report)


def test_a_yes_no_value_map_in_mapping_yml_maps_the_words_not_booleans(tmp_path):
    write(
        tmp_path,
        **{
            "transactions.csv": "customer_id,order_date,amount\n1,2024-01-05,30\n2,2024-01-06,20\n",
            "consents.csv": "customer_id,channel,status\n1,email,yes\n2,email,no\n",
            "mapping.yml": "tables:\n  consents:\n    values:\n      status: {yes: opt_in, no: opt_out}\n",
        },
    )
    consents = load_tables(tmp_path, latest_date=LATEST).frame("consents")
    assert consents.status.tolist() == ["opt_in", "opt_out"]


def test_an_e_mail_column_left_out_of_the_mapping_is_not_left_in_clear_silently(tmp_path):
    write(
        tmp_path,
        **{
            "transactions.csv": "customer_id,order_date,amount\n1,2024-01-05,30\n",
            "customers.csv": "customer_id,Courriel,city\n1,jean@example.fr,Lyon\n",
        },
    )
    options = {"options": {"pseudonymise": True, "salt": "s3cret"}}
    with pytest.raises(DataContractError) as info:
        load_tables(tmp_path, mapping=options, latest_date=LATEST)
    assert info.value.category == "bad_mapping" and "column 'Courriel': it looks like a direct identifier" in str(
        info.value
    )
    (tmp_path / "customers.csv").write_text("customer_id,E-mail,city\n1,jean@example.fr,Lyon\n")
    named = load_tables(tmp_path, mapping=options, latest_date=LATEST).frame("customers")
    assert named.email.str.fullmatch(r"[0-9a-f]{16}").all(), "'E-mail' is read as email, so pseudonymised"
    (tmp_path / "customers.csv").write_text("customer_id,Courriel,city\n1,jean@example.fr,Lyon\n")
    mapped = {**options, "tables": {"customers": {"columns": {"Courriel": "email"}}}}
    customers = load_tables(tmp_path, mapping=mapped, latest_date=LATEST).frame("customers")
    assert customers.email.str.fullmatch(r"[0-9a-f]{16}").all() and customers.city.tolist() == ["Lyon"]
