"""Own data, contract businesses: a subscriptions table loaded onto the contract, or refused clearly."""

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.contract import DataContractError
from helpers.data.dataset import load_tables

FIXTURE = Path(__file__).parents[1] / "exports" / "subscriptions"
LATEST = dt.date(2026, 1, 1)


def load(folder, **options):
    return load_tables(folder, {"options": options} if options else None, LATEST, required=("subscriptions",))


def with_rows(tmp_path, *rows: str) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "exports")
    with open(tmp_path / "exports" / "subscriptions.csv", "a") as fh:
        fh.writelines(row + "\n" for row in rows)
    return tmp_path / "exports"


def test_a_subscriptions_export_loads_with_active_ones_left_open():
    data = load(FIXTURE)
    subs = data.frame("subscriptions")
    assert len(subs) == 9 and data.report.tables["subscriptions"].rows_kept == 9
    assert subs["end_date"].isna().sum() == 5  # still active: no end date
    assert subs.loc[subs.customer_id == 103, "end_date"].iloc[0] == pd.Timestamp("2024-03-02")  # left at once
    assert subs["monthly_price"].sum() == pytest.approx(14.90 * 5 + 24.90 * 4)
    assert (subs.customer_id == 101).sum() == 2  # a customer may come back: the key is customer and start
    assert data.report.missing_tables == ["products", "campaigns", "transactions", "consents", "contacts"]


def test_a_subscription_ending_before_it_starts_is_refused_naming_the_rows_and_the_option(tmp_path):
    folder = with_rows(tmp_path, "106,2025-08-01,2025-07-01,essentiel,14.90")
    with pytest.raises(DataContractError) as info:
        load(folder)
    error = info.value
    assert error.category == "end_before_start"
    message = str(error)
    assert "subscriptions.csv, column start_date, end_date" in message
    assert "line 11: '2025-08-01 to 2025-07-01'" in message
    assert "swapped" in message and "max_excluded_share: {end_before_start: 0.1}" in message
    kept = load(folder, max_excluded_share={"end_before_start": 0.1})
    assert kept.report.tables["subscriptions"].excluded == {"end_date before start_date": 1}
    assert len(kept.frame("subscriptions")) == 9


def test_a_subscription_of_an_unknown_customer_or_without_a_start_is_refused(tmp_path):
    folder = with_rows(tmp_path, "999,2025-03-01,,essentiel,14.90")
    with pytest.raises(DataContractError, match=r"\[unknown_reference\].*customer_id not in customers"):
        load(folder)
    folder = with_rows(tmp_path / "again", "107,,,premium,24.90")
    with pytest.raises(DataContractError, match=r"\[missing_value\].*start_date"):
        load(folder)


def test_a_world_without_subscriptions_is_refused_for_a_retention_analysis():
    with pytest.raises(DataContractError, match=r"\[missing_table\].*subscriptions"):
        load_tables(FIXTURE.parent / "clean_us", latest_date=LATEST, required=("subscriptions",))
