"""An Excel sheet (.xlsx, .xls) read into DuckDB with python-calamine, a Rust reader, through pandas:
numbers and dates stay typed (parsed as Parquet's are), a column mixing text and numbers is read
as text written as Excel shows it. ``read.sheet`` picks the sheet, ``read.header_row`` the header's row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import ibis
import pandas as pd

from helpers.data._sql import fetch
from helpers.data.contract import DataContractError

HeadRows = Callable[[], tuple[list[list[str]], str]]  # a file's first rows (from row 1), and where else to look
HEAD_ROWS = 30  # rows looked at for a header below title rows


def read_excel(
    con: ibis.BaseBackend,
    name: str,
    path: Path,
    options: dict,
    names: Callable[[list[str], HeadRows], list[str]],
) -> list[str]:
    """The sheet ``read.sheet`` (the first by default) as table ``name``: ``__line`` (the Excel row)
    and its columns under the names ``names`` gives them."""
    sheet, header_row = options.get("sheet", 0), options.get("header_row", 1)
    try:
        df = pd.read_excel(path, sheet_name=sheet, header=header_row - 1, engine="calamine")
    except (ValueError, KeyError, OSError) as exc:
        raise DataContractError(
            "unreadable", f"{path.name} cannot be read as Excel: {exc}.{_sheets_hint(path, sheet)}"
        ) from exc
    columns = names([str(c) for c in df.columns], lambda: (_first_rows(path, sheet), _sheets_hint(path, sheet)))
    frame = pd.DataFrame({t: _column(df[c]) for c, t in zip(df.columns, columns, strict=True)})
    con.con.register("__excel", frame)
    fetch(
        con, f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () + {header_row} AS __line, * FROM __excel"
    )
    con.con.unregister("__excel")
    return columns


def _column(values: pd.Series) -> pd.Series:
    """A sheet column for DuckDB: numbers, dates and booleans as read; a column of text, or of text
    and numbers mixed, as text (whole numbers without '.0', dates as ISO)."""
    if values.dtype != object:
        return values
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.astype("string")
    return values.map(_excel_text).astype("string")


def _excel_text(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _first_rows(path: Path, sheet: str | int) -> list[list[str]]:
    """The sheet's first rows as text (empty cells as ''), for a refusal's hint."""
    head = pd.read_excel(path, sheet_name=sheet, header=None, nrows=HEAD_ROWS, dtype=object, engine="calamine")
    return [[_excel_text(v) or "" for v in row] for row in head.itertuples(index=False)]


def _sheets_hint(path: Path, sheet: str | int) -> str:
    """' The workbook's sheets: ...; set read.sheet' when it has several (or ``sheet`` is not one)."""
    sheets = pd.ExcelFile(path, engine="calamine").sheet_names
    if len(sheets) < 2 and sheet in (0, *sheets):
        return ""
    shown = sheets[sheet] if isinstance(sheet, int) and sheet < len(sheets) else sheet
    listed = ", ".join(map(repr, sheets))
    return f" The workbook's sheets: {listed} (read: {shown!r}); set read.sheet to the one with the data."
