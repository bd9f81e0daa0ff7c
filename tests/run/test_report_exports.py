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


def test_xlsx_keeps_text_as_text_blanks_missing_values_and_continues_past_the_sheet_limit(tmp_path, monkeypatch):
    """A formula-like or link-like text stays the text it is, a missing value is a blank cell, a date a
    date; past Excel's rows per sheet (here 4, header included) the rows go on on "<sheet> (2)"; a row
    that cannot be written (text over Excel's 32,767 characters) is refused, naming it."""
    from helpers.run import exports

    monkeypatch.setattr(exports, "MAX_XLSX_ROWS", 4)
    frame = pd.DataFrame(
        {
            "customer_id": ["=1+1", "https://example.com", "00042", "C4", "C5"],
            "value": [1.25, None, 3.0, 4.0, 5.0],
            "day": [dt.date(2026, 1, 2), None, dt.date(2026, 1, 3), None, dt.date(2026, 1, 5)],
        }
    )
    exports.write_xlsx(frame, tmp_path / "list.xlsx", "contact plan")
    sheets = pd.read_excel(tmp_path / "list.xlsx", sheet_name=None, dtype={"customer_id": str}, engine="openpyxl")
    assert list(sheets) == ["contact plan", "contact plan (2)"]
    back = pd.concat(sheets.values(), ignore_index=True)
    assert back.customer_id.tolist() == frame.customer_id.tolist()
    assert back.value.isna().tolist() == [False, True, False, False, False] and back.value[0] == 1.25
    assert back.day.isna().tolist() == [False, True, False, True, False]
    assert pd.Timestamp(back.day[0]) == pd.Timestamp("2026-01-02")
    with pytest.raises(ExportError, match="long.xlsx: row 2 cannot be written"):
        exports.write_xlsx(
            frame.assign(customer_id=["C1", "x" * 40_000, "C3", "C4", "C5"]), tmp_path / "long.xlsx", "s"
        )
