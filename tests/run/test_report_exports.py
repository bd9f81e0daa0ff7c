"""CRM files: French CSV as Excel opens it, English CSV, xlsx byte-stable, read back equal."""

import datetime as dt
import hashlib

import pandas as pd
import pytest

from helpers.run.exports import ExportError, export_list, read_csv, write_exports

PLAN = pd.DataFrame(
    {
        "customer_id": ["C00012", "C00007"],
        "channel": ["email", "postal"],
        "offer": ["new_collection", "discount_10"],
        "send_date": [dt.date(2026, 1, 1)] * 2,
        "expected_incremental_margin": [1.5, 1234.25],
    }
)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_french_csv_has_semicolons_decimal_commas_a_bom_and_french_headers(tmp_path):
    export_list(PLAN, "contact_plan", "40_plan_channel_mix", tmp_path / "40_plan_channel_mix")
    assert write_exports(tmp_path, "fr") == {
        "contact_plan": {"csv": "exports/contact_plan.csv", "xlsx": "exports/contact_plan.xlsx", "rows": "2"}
    }
    raw = (tmp_path / "exports" / "contact_plan.csv").read_bytes()
    assert raw.startswith("\ufeffidentifiant client;canal;offre;date d’envoi;marge incrémentale attendue\r\n".encode())
    assert b"C00007;postal;discount_10;2026-01-01;1234,25\r\n" in raw
    back = read_csv(tmp_path / "exports" / "contact_plan.csv", "fr")
    assert back["identifiant client"].tolist() == ["C00012", "C00007"]
    xlsx = pd.read_excel(tmp_path / "exports" / "contact_plan.xlsx", dtype={"identifiant client": str})
    assert xlsx["marge incrémentale attendue"].tolist() == [1.5, 1234.25]


def test_english_files_and_byte_stable_xlsx(tmp_path):
    export_list(PLAN, "contact_plan", "40_plan_channel_mix", tmp_path / "40_plan_channel_mix")
    write_exports(tmp_path, "en", tmp_path / "first")
    write_exports(tmp_path, "en", tmp_path / "second")
    first, second = (tmp_path / f / "exports" for f in ("first", "second"))
    assert (first / "contact_plan.csv").read_text(encoding="utf-8-sig").startswith("customer id,channel,offer")
    assert _digest(first / "contact_plan.xlsx") == _digest(second / "contact_plan.xlsx")
    assert not (tmp_path / "exports").exists(), "writing elsewhere leaves the run folder alone"


def test_a_list_without_distinct_columns_is_refused():
    with pytest.raises(ExportError, match="'contact_plan' needs named, distinct columns"):
        export_list(PLAN.rename(columns={"offer": "channel"}), "contact_plan", "40_plan_channel_mix")
