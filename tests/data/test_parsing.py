"""Cells read into their contract types as real exports write them: US dates with a time, two-digit
years, Excel serial days, dot thousands marks, ids Excel rounded, ids that are not whole numbers,
words for a missing value, time-zone-aware timestamps. Every fixture is written here."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.data.dataset import load_tables
from tests.data.reading import LATEST, load, refused


def write(folder, text: str) -> None:
    (folder / "transactions.csv").write_bytes(text.encode())


def assumptions(data) -> list[str]:
    return data.report.tables["transactions"].assumptions


def test_us_dates_with_a_time_are_told_by_the_format_that_reads_every_cell(tmp_path):
    # An online retailer's invoice lines: m/d/yyyy h:mm, unpadded; 13 of 20 days cannot be a month.
    days = [f"12/{d}/2010 {8 + d % 9}:{d:02d}" for d in range(1, 21)]
    write(
        tmp_path,
        "Invoice,Customer ID,InvoiceDate,Amount\n"
        + "".join(f"{536365 + i},17850,{d},15.3\n" for i, d in enumerate(days)),
    )
    mapping = {"tables": {"transactions": {"columns": {"Invoice": "order_id", "InvoiceDate": "order_date"}}}}
    data = load_tables(tmp_path, mapping=mapping, latest_date=LATEST)
    dates = data.frame("transactions").order_date
    assert dates.tolist() == [pd.Timestamp(f"2010-12-{d:02d}") for d in range(1, 21)]
    assert "order_date: dates in the format %m/%d/%Y %H:%M (detected)" in assumptions(data)


def test_dates_that_read_both_ways_in_a_comma_export_are_refused_naming_both_formats(tmp_path):
    write(tmp_path, "customer_id,order_date,amount\n1,03/04/2024,10.5\n2,05/06/2024,3\n")
    error = refused(tmp_path)
    assert error.category == "not_a_date" and "every date reads both as %d/%m/%Y and as %m/%d/%Y" in str(error)
    assert "Set read.date_format: '%d/%m/%Y' or '%m/%d/%Y'" in str(error) and "'03/04/2024'" in str(error)
    data = load(tmp_path, {"date_format": "%m/%d/%Y"})
    assert data.frame("transactions").order_date.tolist() == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-05-06")]


def test_two_digit_years_are_read_in_this_century_and_said(tmp_path):
    write(tmp_path, "customer_id;order_date;amount\n1;05/01/24;10,5\n2;28/02/98;3\n")
    data = load(tmp_path)
    assert data.frame("transactions").order_date.tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("1998-02-28")]
    assert any("two-digit years read as 2000-2068" in a for a in assumptions(data))
    error = refused(tmp_path, {"date_format": "%d/%m/%Y"})
    assert error.category == "date_out_of_range" and "need %y in read.date_format" in str(error)


def test_excel_serial_days_are_read_as_dates_or_refused_by_name_among_text_dates(tmp_path):
    write(tmp_path, "customer_id,order_date,amount\n1,45292,10.5\n2,45293.75,3\n")
    data = load(tmp_path)
    assert data.frame("transactions").order_date.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")]
    assert any("Excel serial day numbers (45292 = 2024-01-01)" in a for a in assumptions(data))
    write(tmp_path, "customer_id,order_date,amount\n1,45292,10.5\n2,2024-01-02,3\n3,2024-01-03,3\n")
    error = refused(tmp_path)
    assert error.category == "not_a_date" and "line 2: '45292'" in str(error)
    assert "1 cells are Excel serial day numbers (e.g. 45292 for 2024-01-01)" in str(error)


@pytest.mark.parametrize("sep", [";", ","])
def test_whole_amounts_with_a_dot_thousands_mark_are_thousands_in_a_semicolon_export(tmp_path, sep):
    write(tmp_path, f"customer_id{sep}order_date{sep}amount\n1{sep}05/01/2024{sep}1.234\n2{sep}13/01/2024{sep}56\n")
    if sep == ";":
        data = load(tmp_path)
        assert data.frame("transactions").amount.tolist() == [1234.0, 56.0]
        assert any("numbers such as '1.234' read as thousands" in a for a in assumptions(data))
        return
    error = refused(tmp_path)
    assert error.category == "not_a_number" and "column amount: 1 numbers such as '1.234'" in str(error)
    assert "Set read.decimal: ','" in str(error)
    assert load(tmp_path, {"decimal": "."}).frame("transactions").amount.tolist() == [1.234, 56.0]


def test_ids_excel_rounded_are_refused_naming_column_and_lines_unless_every_digit_is_there(tmp_path):
    rows = "".join(f"{i},1.23456E+11,2024-01-{i:02d},10\n" for i in range(1, 4))
    write(tmp_path, "order_id,customer_id,order_date,amount\n" + rows + "4,1.23456789012E+11,2024-01-04,10\n")
    error = refused(tmp_path)
    assert error.category == "bad_id" and "column customer_id: 3 of 4 rows" in str(error)
    assert "line 2: '1.23456E+11'; line 3: '1.23456E+11'" in str(error) and "formatted as text" in str(error)
    data = load(tmp_path, max_excluded_share=0.8)
    assert data.frame("transactions").customer_id.tolist() == [123456789012]


def test_ids_that_are_not_whole_numbers_stay_text_and_written_whole_numbers_are_numbers(tmp_path):
    write(tmp_path, "customer_id,order_date,amount\n57.5,2024-01-05,10\n58.4,2024-01-06,20\n")
    data = load(tmp_path)
    assert data.frame("transactions").customer_id.tolist() == ["57.5", "58.4"], "never both 58"
    assert "customer_id: ids kept as text ('57.5' is not a whole number)" in assumptions(data)
    write(tmp_path, "customer_id,order_date,amount\n17850.0,2024-01-05,10\n13047,2024-01-06,20\n")
    assert load(tmp_path).frame("transactions").customer_id.tolist() == [17850, 13047]


def test_words_for_a_missing_value_are_empty_cells_not_customers(tmp_path):
    write(
        tmp_path,
        "customer_id,order_date,amount,margin\n1,2024-01-05,10,N/A\nN/A,2024-01-06,20,3\n-,2024-01-07,5,1\n"
        "NULL,2024-01-08,7,2\n2,2024-01-09,8,-\n",
    )
    error = refused(tmp_path)
    assert error.category == "missing_value" and "3 of 5 rows" in str(error) and "n/a, #n/a" in str(error)
    data = load(tmp_path, max_excluded_share=0.6)
    tx = data.frame("transactions")
    assert tx.customer_id.tolist() == [1, 2] and tx.margin.isna().all()
    assert data.report.tables["transactions"].excluded == {"customer_id is empty": 3}


def test_time_zone_aware_timestamps_are_taken_on_their_local_day(tmp_path):
    utc = pd.to_datetime(["2024-01-01 23:30", "2024-06-30 22:15", "2024-03-10 12:00"]).tz_localize("UTC")
    table = pa.table({"customer_id": [1, 2, 3], "order_date": pa.array(utc), "amount": [10.0, 20.0, 5.0]})
    pq.write_table(table, tmp_path / "transactions.parquet")
    data = load(tmp_path)
    paris = [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-07-01"), pd.Timestamp("2024-03-10")]
    assert data.frame("transactions").order_date.tolist() == paris, "a day later in Paris after midnight"
    assert any("taken on their Europe/Paris day (read.timezone)" in a for a in assumptions(data))
    days = load(tmp_path, {"timezone": "UTC"}).frame("transactions").order_date
    assert days.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30"), pd.Timestamp("2024-03-10")]


def test_excel_cells_keep_their_types_and_a_mixed_invoice_column_reads_as_text(tmp_path):
    frame = pd.DataFrame(
        {
            "InvoiceNo": [536365, 536365, "C536379"],
            "CustomerID": [17850.0, 17850.0, None],
            "InvoiceDate": pd.to_datetime(["2010-12-01 08:26", "2010-12-01 08:26", "2010-12-01 09:41"]),
            "Amount": [15.3, 20.34, -27.5],
        }
    )
    frame.to_excel(tmp_path / "transactions.xlsx", index=False)
    mapping = {"tables": {"transactions": {"columns": {"InvoiceNo": "order_id", "InvoiceDate": "order_date"}}}}
    data = load_tables(tmp_path, mapping={**mapping, "options": {"max_excluded_share": 0.4}}, latest_date=LATEST)
    tx = data.frame("transactions")
    assert tx.order_id.tolist() == ["536365"] and tx.customer_id.tolist() == [17850]
    assert tx.amount.tolist() == [pytest.approx(35.64)] and tx.order_date.tolist() == [pd.Timestamp("2010-12-01")]
    assert data.report.tables["transactions"].excluded == {"customer_id is empty": 1}
