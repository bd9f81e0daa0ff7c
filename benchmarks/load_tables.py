"""Load + validate time and peak memory of ``helpers.data.load_tables`` on large transaction logs.

    .venv/bin/python benchmarks/load_tables.py [rows...]

For each size (default 1M and 20M rows) a transaction log with order_id, customer_id, order_date,
amount and category is written once by DuckDB as CSV (UTF-8) and as Parquet; each is then loaded
in a fresh subprocess (peak memory its own, `memory.tree_peak`) through the whole contract: parsing, rules,
duplicate order ids, pandera gate. Prints one table, writes benchmarks/results_load_tables.json.
Target (issue 3): 20M rows under 3 GB of memory.
"""

import sys
import tempfile
from pathlib import Path

import duckdb

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
print(json.dumps({"rows_kept": report.rows_kept, "wall_s": round(wall, 2),
                  "peak_mb": round(tree_peak() / 2**20)}))
"""


def write_log(rows: int, folder: Path, fmt: str) -> None:
    """A synthetic log of ``rows`` orders by rows/20 customers over 2016-2025, as CSV or Parquet."""
    folder.mkdir(parents=True)
    options = "(HEADER, DELIMITER ',')" if fmt == "csv" else "(FORMAT parquet)"
    duckdb.sql(f"""COPY (SELECT i + 1 AS order_id, hash(i) % {max(rows // 20, 1)} + 1 AS customer_id,
                             DATE '2016-01-01' + CAST(hash(i * 7) % 3650 AS INTEGER) AS order_date,
                             round(CAST(hash(i * 13) % 30000 AS DOUBLE) / 100 - 10, 2) AS amount,
                             ['womenswear', 'menswear', 'home', 'beauty'][CAST(hash(i * 3) % 4 AS INTEGER) + 1]
                               AS category
                      FROM range({rows}) t(i))
                   TO '{folder / f"transactions.{fmt}"}' {options}""")


def main(sizes: list[int]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as root:
        for rows in sizes:
            for fmt in ("parquet", "csv"):
                folder = Path(root) / f"{fmt}-{rows}"
                write_log(rows, folder, fmt)
                r = {"rows": rows, "format": fmt, **measure(CHILD, folder)}
                results.append(r)
                print(f"{rows:>12,} rows {fmt:>8} {r['wall_s']:>8.2f} s {r['peak_mb']:>7,} MB peak", flush=True)
    save("load_tables", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000, 20_000_000])
