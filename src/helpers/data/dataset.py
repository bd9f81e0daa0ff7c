"""Load an analyst's exports (CSV, Parquet, Excel) onto the data contract, in DuckDB.

    data = load_tables("exports/", mapping="exports/mapping.yml")
    data.table("transactions")       # an Ibis table on DuckDB (never pulled whole into pandas)
    data.frame("customers")          # a small table as pandas
    data.currency                    # ISO 4217 code of every amount (options.currency, EUR by default)
    print(data.report)               # rows read, kept, excluded by reason, assumptions

Two outcomes only: the data is accepted with a data quality report, or refused with a
``DataContractError`` naming the file, the column, up to five offending rows and the fix. A row
that breaks a rule is excluded, counted once (under its first reason) and reported; when more than
``max_excluded_share`` of a table's rows break the same rule the load is refused. Original files are
never modified: a CSV in another encoding than UTF-8 is transcoded to a temporary copy that DuckDB
reads.

The way in: ``mapping`` (what the analyst said), ``files`` (the files read as they are),
``parsing`` (cells to contract types), ``lines`` (derived columns, non-product lines, returns),
``duplicates`` (repeated lines and keys), ``rules`` (what is excluded, merged, settled), ``quality``
(the report).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from helpers.data.contract import REPORTED_ABSENT, REQUIRED_TABLES, TABLES, DataContractError, Table, row_rules
from helpers.data.files import RawTable, permission_denied_is_unreadable, read_raw_tables
from helpers.data.lines import derive_columns
from helpers.data.mapping import Mapping, TableMapping, read_mapping, repo_path
from helpers.data.parsing import id_column_types, parse_table
from helpers.data.quality import DataQualityReport
from helpers.data.rules import keep_rows, pandera_gate
from helpers.engine import connect, read_table
from helpers.paths import relative_to_repo

MEMORY_LIMIT = "2GB"  # the loader's DuckDB spills to disk past it


@dataclass
class Dataset:
    """Contract tables loaded into one DuckDB database, with their quality report; every amount is
    in ``currency`` (an ISO 4217 code)."""

    con: ibis.BaseBackend
    tables: dict[str, ibis.Table]
    report: DataQualityReport
    source: Path
    currency: str = "EUR"

    def has(self, name: str, *columns: str) -> bool:
        """Is table ``name`` present, with every one of ``columns``?"""
        return name in self.tables and set(columns) <= set(self.tables[name].columns)

    def table(self, name: str) -> ibis.Table:
        """Table ``name`` as an Ibis table (refused, naming the loaded tables, if it was not loaded)."""
        if name not in self.tables:
            raise KeyError(
                f"table {name!r} was not loaded from {relative_to_repo(self.source)}; loaded: {', '.join(self.tables)}"
            )
        return self.tables[name]

    def frame(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A (small) table as pandas; dates as datetime64."""
        table = self.table(name)
        df = (table.select(columns) if columns else table).to_pandas()
        for col, dtype in table.schema().items():
            if dtype.is_date() and col in df:
                df[col] = pd.to_datetime(df[col]).astype("datetime64[ms]")
        return df

    def on_engine(self, engine: str) -> Dataset:
        """The same data with the transaction log on another Ibis backend (``engine.connect``):
        the checked table is written once to Parquet and read there, so every transaction-level
        expression runs on that engine; the small tables stay in DuckDB."""
        if engine == "duckdb" or "transactions" not in self.tables:
            return self
        folder = Path(tempfile.mkdtemp(prefix="relation-playbooks-engine-"))
        path = folder / "transactions.parquet"
        self.tables["transactions"].to_parquet(path)
        remote = read_table(connect(engine), path, "transactions")
        moved = Dataset(self.con, {**self.tables, "transactions": remote}, self.report, self.source, self.currency)
        weakref.finalize(moved, shutil.rmtree, folder, ignore_errors=True)  # the copy lives as long as the data
        return moved

    def skip_unless(self, name: str, *columns: str, section: str) -> bool:
        """True if the table and columns are there; otherwise print a visible note and return False."""
        if self.has(name, *columns):
            return True
        need = f"{name}" + (f" with {', '.join(columns)}" if columns else "")
        print(f"Skipped: {section} needs the table {need}, which this data does not have.")
        return False


def load_tables(
    data_dir: str | Path,
    mapping: str | Path | dict | None = None,
    latest_date: dt.date | None = None,
    con: ibis.BaseBackend | None = None,
    required: tuple[str, ...] = REQUIRED_TABLES,
) -> Dataset:
    """Read the contract tables found in ``data_dir`` (files named after the tables, or named in
    the mapping), validate them and load them into DuckDB (``con``, else a new one limited to
    ``MEMORY_LIMIT``). ``latest_date``: later dates are refused as being in the future (default:
    the mapping's options.latest_date, else today). ``required``: the tables the analysis cannot
    do without (transactions by default; uplift needs contacts and campaigns instead)."""
    data_dir = repo_path(data_dir)
    if not data_dir.is_dir():
        raise DataContractError("missing_table", f"data folder {data_dir} does not exist.")
    with permission_denied_is_unreadable(data_dir):
        spec, mapping_source = read_mapping(data_dir, mapping)
        latest = latest_date or spec.latest_date or dt.date.today()
        con = con or connect(memory_limit=MEMORY_LIMIT)
        raws, ignored = read_raw_tables(con, data_dir, spec, required)
    report = DataQualityReport(
        relative_to_repo(data_dir),
        mapping_source,
        spec.currency,
        ignored_files=ignored,
        missing_tables=[t for t in REPORTED_ABSENT if t not in raws],
    )
    id_types = id_column_types(con, raws)
    tables: dict[str, ibis.Table] = {}
    for name, raw in raws.items():
        tables[name] = _load_table(con, TABLES[name], raw, spec, id_types, latest, tables)
        report.tables[name] = raw.report
    return Dataset(con, tables, report, data_dir, spec.currency)


def _load_table(
    con: ibis.BaseBackend,
    table: Table,
    raw: RawTable,
    spec: Mapping,
    id_types: dict[str, str],
    latest: dt.date,
    loaded: dict[str, ibis.Table],
) -> ibis.Table:
    """One raw table parsed, its derived columns computed, checked against its rules and the tables
    ``loaded`` before it, kept as ``table.name`` and passed through the pandera gate."""
    rules = parse_table(con, table, raw, id_types, latest)
    lines = spec.tables.get(table.name, TableMapping()).lines
    rules += derive_columns(con, table, raw.columns, lines, raw.path.name)
    rules += row_rules(table, raw.columns)
    keep_rows(con, table, raw, rules, spec, loaded)
    result = con.table(table.name)
    pandera_gate(table, result, latest, raw.path)
    return result
