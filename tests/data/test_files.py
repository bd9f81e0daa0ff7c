"""Reading files as real exports are: encodings, formats told by their bytes, layouts (Excel's sep=
line, title rows, a header separated unlike its rows, mixed line endings), Excel sheets. Each fixture
is written here byte by byte, shaped like the case met in a real export."""

import pandas as pd
import pytest

from tests.data.reading import load, refused

HEADER = b"customer_id;order_date;amount;category\r\n"


def test_a_cp1252_file_holding_bytes_that_read_as_utf8_loads_once_its_encoding_is_set(tmp_path):
    # 'Â£' typed in cp1252 is C2 A3, the UTF-8 bytes of '£'; 'é' in cp1252 (E9) is not UTF-8.
    (tmp_path / "transactions.csv").write_bytes(
        HEADER + b"1;05/01/2024;10,50;Bon \xc2\xa3 5\r\n2;06/01/2024;20,00;Beaut\xe9\r\n"
    )
    error = refused(tmp_path)
    assert error.category == "encoding" and "line 2 is UTF-8, line 3 is not" in str(error)
    assert "set read.encoding: cp1252" in str(error) and "'Bon £'" not in str(error)
    assert "'Â£'" in str(error), "the cp1252 reading of the UTF-8-looking bytes is shown"
    data = load(tmp_path, {"encoding": "cp1252"})
    assert data.frame("transactions").category.tolist() == ["Bon Â£ 5", "Beauté"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_told_by_its_zero_bytes(tmp_path, codec):
    text = "customer_id;order_date;amount;category\r\n1;05/01/2024;10,50;Beauté\r\n2;06/01/2024;20,00;Maison\r\n"
    (tmp_path / "transactions.csv").write_bytes(text.encode(codec))
    data = load(tmp_path)
    tx = data.frame("transactions")
    assert tx.category.tolist() == ["Beauté", "Maison"] and tx.amount.tolist() == [10.5, 20.0]
    assert (
        f"{codec.upper()} without a byte-order mark (told by its zero bytes)"
        in data.report.tables["transactions"].assumptions
    )


def test_zero_bytes_that_are_not_utf16_are_refused_as_not_text(tmp_path):
    (tmp_path / "transactions.csv").write_bytes(HEADER + b"1;05/01/2024;10,50;a\x00\x00\x00\x00\x00\x00b\r\n")
    error = refused(tmp_path)
    assert error.category == "encoding" and "holds zero bytes but is not UTF-16 text" in str(error)


def test_a_workbook_renamed_csv_is_read_as_excel_and_said(tmp_path):
    frame = pd.DataFrame({"customer_id": [1, 2], "order_date": pd.to_datetime(["2024-01-05", "2024-01-06"])})
    frame.assign(amount=[10.5, 20.0]).to_excel(tmp_path / "transactions.csv", index=False)
    data = load(tmp_path)
    assert data.frame("transactions").amount.tolist() == [10.5, 20.0]
    report = data.report.tables["transactions"]
    assert report.format == "excel" and any(
        "is an Excel workbook (told by its first bytes)" in a for a in report.assumptions
    )


def test_a_zip_that_is_not_a_workbook_and_text_named_xlsx_are_refused_by_name(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "transactions.csv", "w") as archive:
        archive.writestr("transactions.csv", "customer_id,order_date,amount\n1,2024-01-05,3\n")
    assert "is a zip archive, not an export: unzip it" in str(refused(tmp_path))
    (tmp_path / "transactions.csv").unlink()
    (tmp_path / "transactions.xlsx").write_bytes(b"customer_id,order_date,amount\n1,2024-01-05,3\n")
    error = refused(tmp_path)
    assert "transactions.xlsx is not an Excel workbook" in str(error) and "Rename it transactions.csv" in str(error)


def test_excels_sep_line_gives_the_separator_and_lines_keep_their_numbers(tmp_path):
    (tmp_path / "transactions.csv").write_bytes(b"sep=;\r\n" + HEADER + b"1;05/01/2024;10,50;a\r\n2;06/01/2024;x;b\r\n")
    error = refused(tmp_path)
    assert error.category == "not_a_number" and "line 4: 'x'" in str(error), "line 1 is sep=, line 2 the header"
    data = load(tmp_path, max_excluded_share=0.5)
    assert data.frame("transactions").amount.tolist() == [10.5]
    assert any("Excel's separator line" in a for a in data.report.tables["transactions"].assumptions)


def test_title_lines_above_the_header_are_named_with_the_option_that_skips_them(tmp_path):
    (tmp_path / "transactions.csv").write_bytes(
        b"Export des ventes;;;\r\nPeriode : janvier 2024;;;\r\n" + HEADER + b"1;05/01/2024;10,50;a\r\n"
        b"2;06/01/2024;x;b\r\n"
    )
    error = refused(tmp_path)
    assert error.category == "missing_column"
    assert "The header seems to be on line 3: set read.header_row: 3 (tables.transactions.read)" in str(error)
    error = refused(tmp_path, {"header_row": 3})
    assert "line 5: 'x'" in str(error), "lines keep their numbers in the file"
    assert load(tmp_path, {"header_row": 3}, max_excluded_share=0.5).frame("transactions").amount.tolist() == [10.5]


def test_a_cover_sheet_and_merged_title_rows_are_named_with_read_sheet_and_header_row(tmp_path):
    rows = pd.DataFrame({"customer_id": [1, 2], "order_date": ["2024-01-05", "2024-01-06"], "amount": [10.5, 20.0]})
    with pd.ExcelWriter(tmp_path / "transactions.xlsx") as book:
        pd.DataFrame({"Rapport des ventes": ["Préparé par le service client", "Janvier 2024"]}).to_excel(
            book, sheet_name="Couverture", index=False
        )
        pd.DataFrame([["Ventes janvier 2024"]]).to_excel(book, sheet_name="Ventes", index=False, header=False)
        rows.to_excel(book, sheet_name="Ventes", index=False, startrow=2)
    error = refused(tmp_path)
    assert error.category == "missing_column" and "set read.header_row to its number" in str(error)
    assert "The workbook's sheets: 'Couverture', 'Ventes' (read: 'Couverture'); set read.sheet" in str(error)
    error = refused(tmp_path, {"sheet": "Ventes"})
    assert "The header seems to be on row 3: set read.header_row: 3" in str(error)
    data = load(tmp_path, {"sheet": "Ventes", "header_row": 3})
    assert data.frame("transactions").amount.tolist() == [10.5, 20.0]


def test_a_header_separated_by_commas_over_semicolon_rows_is_read_and_said(tmp_path):
    (tmp_path / "transactions.csv").write_bytes(
        b"customer_id,order_date,amount,category\r\n1;05/01/2024;10,50;a\r\n2;06/01/2024;20,00;b\r\n"
    )
    data = load(tmp_path)
    assert data.frame("transactions").amount.tolist() == [10.5, 20.0], "decimal comma: the rows are a ';' export"
    assert "header separated by ',', rows by ';': rows read with ';'" in data.report.tables["transactions"].assumptions
    (tmp_path / "transactions.csv").write_bytes(b"customer_id,order_date,amount\r\n1;05/01/2024;10,50;a\r\n")
    error = refused(tmp_path)
    assert error.category == "wrong_separator" and "the header is separated by ','" in str(error)
    assert "the rows by ';' (4 fields)" in str(error) and "unclosed quote" not in str(error)


def test_a_last_line_ending_in_lf_after_crlf_lines_is_read(tmp_path):
    (tmp_path / "transactions.csv").write_bytes(HEADER + b"1;05/01/2024;10,50;a\r\n2;06/01/2024;20,00;b\n")
    data = load(tmp_path)
    assert data.frame("transactions").category.tolist() == ["a", "b"]
    assert "line endings mixed (2 CRLF, 1 LF): read as one" in data.report.tables["transactions"].assumptions


@pytest.mark.parametrize(
    "read, shown", [({"header_row": 0}, "header_row must be"), ({"timezone": "Paris"}, "timezone must be a time zone")]
)
def test_layout_options_outside_their_domain_are_refused_before_reading(tmp_path, read, shown):
    (tmp_path / "transactions.csv").write_bytes(HEADER + b"1;05/01/2024;10,50;a\r\n")
    error = refused(tmp_path, read)
    assert error.category == "bad_mapping" and shown in str(error)
