"""Load + validate time and peak memory of ``helpers.data.load_tables`` on invoice lines as .xlsx and CSV.

    .venv/bin/python benchmarks/excel_load.py [lines]

An online retailer's invoice lines (default 500,000; about 20 lines an invoice, one invoice in 50 a
cancellation numbered C..., US dates m/d/yyyy h:mm in the CSV, real date cells in the workbook) are
written once as CSV by DuckDB and as .xlsx by openpyxl (write-only), with a mapping naming the
columns; each is then loaded in a fresh subprocess (peak memory its own) through the whole
contract. Prints one table, writes benchmarks/results_excel_load.json. Target (issue 18): the
workbook within 2x the CSV's wall time.
"""

import sys
import tempfile
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

CHILD = """
import json, sys, time, datetime as dt
from helpers.run.memory import tree_peak
from helpers.data.dataset import load_tables
t0 = time.perf_counter()
data = load_tables(sys.argv[1], latest_date=dt.date(2026, 1, 1))
wall = time.perf_counter() - t0
report = data.report.tables["transactions"]
print(json.dumps({"rows_read": report.rows_read, "rows_kept": report.rows_kept, "wall_s": round(wall, 2),
                  "peak_mb": round(tree_peak() / 2**20)}))
"""
COLUMNS = {"InvoiceNo": "order_id", "InvoiceDate": "order_date", "Amount": "amount", "CustomerID": "customer_id"}


def invoice_lines(lines: int, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyRelation:
    """The invoice lines: invoice, stock code, description, quantity, date (a timestamp), unit price,
    customer, country, line amount (distinct within an invoice, so no line repeats another)."""
    return (con or duckdb.default_connection()).sql(f"""
        SELECT CASE WHEN inv % 50 = 49 THEN 'C' ELSE '' END || CAST(536365 + inv AS VARCHAR) AS InvoiceNo,
               CAST(10000 + hash(i) % 4000 AS VARCHAR) AS StockCode,
               'ITEM ' || CAST(hash(i) % 4000 AS VARCHAR) AS Description,
               line + 1 AS Quantity,
               TIMESTAMP '2010-12-01 08:00' + INTERVAL (inv * 37) MINUTE AS InvoiceDate,
               round(1 + CAST(hash(i * 7) % 900 AS DOUBLE) / 100, 2) AS UnitPrice,
               12346 + hash(inv) % 4300 AS CustomerID,
               'United Kingdom' AS Country,
               (CASE WHEN inv % 50 = 49 THEN -1 ELSE 1 END) * (line + 1 + CAST(hash(i) % 100 AS DOUBLE) / 100)
                 AS Amount
        FROM (SELECT i, i // 20 AS inv, i % 20 AS line FROM range({lines}) t(i))""")


def write_csv(lines: int, folder: Path) -> None:
    us_dates = "strftime(InvoiceDate, '%-m/%-d/%Y %-H:%M') AS InvoiceDate"
    invoice_lines(lines).select(
        f"InvoiceNo, StockCode, Description, Quantity, {us_dates}, UnitPrice, CustomerID, Country, Amount"
    ).write_csv(str(folder / "transactions.csv"))


def write_xlsx(lines: int, folder: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Online Retail")
    con = duckdb.connect()
    result = con.execute(f"SELECT * FROM ({invoice_lines(lines, con).sql_query()})")
    sheet.append([d[0] for d in result.description])
    while batch := result.fetchmany(50_000):
        for row in batch:
            sheet.append(row)
    book.save(folder / "transactions.xlsx")


def main(lines: int) -> list[dict]:
    duckdb.execute("SET enable_progress_bar = false")
    results = []
    with tempfile.TemporaryDirectory() as root:
        for fmt, write in (("csv", write_csv), ("xlsx", write_xlsx)):
            folder = Path(root) / fmt
            folder.mkdir()
            write(lines, folder)
            (folder / "mapping.yml").write_text(yaml.safe_dump({"tables": {"transactions": {"columns": COLUMNS}}}))
            r = {
                "lines": lines,
                "format": fmt,
                "mb_on_disk": round((folder / f"transactions.{fmt}").stat().st_size / 2**20),
                **measure(CHILD, folder),
            }
            results.append(r)
            print(
                f"{lines:>10,} lines {fmt:>5} {r['mb_on_disk']:>5} MB {r['wall_s']:>8.2f} s {r['peak_mb']:>7,} MB peak",
                flush=True,
            )
    ratio = results[1]["wall_s"] / results[0]["wall_s"]
    print(f"xlsx / csv wall time: {ratio:.2f}x (target: at most 2x)")
    save("excel_load", results)
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500_000)
