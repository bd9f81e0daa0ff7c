"""A date column's cells read as dates: typed dates as they are, time-zone-aware timestamps on the
local day (``read.timezone``), text in ``read.date_format`` or in the one format that reads every
cell (day/month order refused when every cell reads both ways, unless the export is continental),
Excel serial day numbers."""

from __future__ import annotations

import ibis

from helpers.data._sql import cell_value, fetch, ident, literal
from helpers.data.contract import Column, DataContractError
from helpers.data.files import RawTable

DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d/%m/%y %H:%M",
    "%m/%d/%y %H:%M",
)
DEFAULT_TIMEZONE = "Europe/Paris"
SAMPLE_ROWS = 20_000  # rows a format is chosen on; day/month order is then checked on every row
EXCEL_SERIAL = "Excel serial day numbers"  # 45292 = 2024-01-01, days since 1899-12-30
SERIAL_RANGE = (32874, 73051)  # 1990-01-01 to 2100-01-01 as Excel serial days
_SERIAL_TEXT = "[0-9]{5}([.][0-9]+)?"


def typed_date(
    con: ibis.BaseBackend, raw: RawTable, column: Column, source_type: str
) -> tuple[str, tuple[str, str, str]]:
    """SQL of a date column as DATE and the (category, reason, fix) of a cell that does not read."""
    col, shown, fmt = column.name, ident(column.name), None
    if source_type == "DATE":
        expr = shown
    elif source_type == "TIMESTAMP WITH TIME ZONE":
        zone = raw.options.get("timezone", DEFAULT_TIMEZONE)
        expr = f"CAST(timezone({literal(zone)}, {shown}) AS DATE)"
        raw.report.assumptions.append(f"{col}: time-zone-aware timestamps taken on their {zone} day (read.timezone)")
    elif source_type.startswith("TIMESTAMP"):
        expr = f"CAST({shown} AS DATE)"
    else:
        fmt = raw.options.get("date_format") or _detected_format(con, raw, col)
        expr = _serial_sql(cell_value(col)) if fmt == EXCEL_SERIAL else _strptime_sql(cell_value(col), fmt)
    serials = _serial_count(con, raw, col) if fmt and fmt != EXCEL_SERIAL else 0
    failure = (
        "not_a_date",
        f"{col} is not a date" + (f" in the format {fmt}" if fmt else ""),
        f"dates were read with the format {fmt}; set read.date_format (e.g. '%d/%m/%Y') if the file uses another"
        + (
            f"; {serials:,} cells are Excel serial day numbers (e.g. 45292 for 2024-01-01): format the column "
            "as dates in Excel before exporting"
            if serials
            else ""
        ),
    )
    return expr, failure


def _strptime_sql(v: str, fmt: str) -> str:
    return f"CAST(TRY_STRPTIME({v}, {literal(fmt)}) AS DATE)"


def _serial_sql(v: str) -> str:
    """Excel's serial day number (days since 1899-12-30; a fraction is the time of day) as DATE."""
    number = f"TRY_CAST({v} AS DOUBLE)"
    return (
        f"CASE WHEN {number} BETWEEN {SERIAL_RANGE[0]} AND {SERIAL_RANGE[1]} "
        f"THEN DATE '1899-12-30' + CAST(floor({number}) AS INTEGER) END"
    )


def _is_serial(v: str) -> str:
    return f"regexp_full_match({v}, {literal(_SERIAL_TEXT)}) AND {_serial_sql(v)} IS NOT NULL"


def _serial_count(con: ibis.BaseBackend, raw: RawTable, col: str) -> int:
    v = cell_value(col)
    return fetch(con, f"SELECT count(*) FILTER (WHERE {_is_serial(v)}) FROM {raw.name}")[0][0]


def _detected_format(con: ibis.BaseBackend, raw: RawTable, col: str) -> str:
    """The format that reads every non-empty cell of a sample of the column (a four-digit-year
    format only where years have four digits), said in the report; Excel serial days when every cell is one.
    Refuses day/month order when every cell reads both ways. When no format reads every cell,
    the one that reads most, so the cells it misses break a rule naming them."""
    v = cell_value(col)
    cells, serials, *counts = _counts(con, raw, v, DATE_FORMATS, SAMPLE_ROWS)
    by_format = dict(zip(DATE_FORMATS, counts, strict=True))
    every = [f for f, n in by_format.items() if n == cells]
    if len(every) > 1:  # every sampled cell reads both ways: does every cell of the column?
        cells, serials, *counts = _counts(con, raw, v, every, None)
        every = [f for f, n in zip(every, counts, strict=True) if n == cells]
    if cells and serials == cells:
        raw.report.assumptions.append(
            f"{col}: {EXCEL_SERIAL} (45292 = 2024-01-01) read as dates; set read.date_format if they are not"
        )
        return EXCEL_SERIAL
    if len(every) > 1:
        return _day_first_or_refuse(con, raw, col, every)
    fmt = every[0] if every else max(by_format, key=lambda f: by_format[f])
    if fmt != "%Y-%m-%d":
        raw.report.assumptions.append(f"{col}: dates in the format {fmt} (detected)")
    if "%y" in fmt:
        raw.report.assumptions.append(
            f"{col}: two-digit years read as 2000-2068 (00-68) and 1969-1999 (69-99); "
            "set read.date_format if they mean otherwise"
        )
    return fmt


def _day_first_or_refuse(con: ibis.BaseBackend, raw: RawTable, col: str, every: list[str]) -> str:
    """Every cell reads day first and month first: day first in a ';' or decimal-comma export
    (continental Europe, where month first is not written), said; else refused naming both."""
    day_first = next(f for f in every if f.startswith("%d"))
    if raw.options.get("sep") == ";" or raw.options.get("decimal") == ",":
        raw.report.assumptions.append(
            f"{col}: day and month are ambiguous in every date; assumed {day_first} (a ';' export: "
            "continental conventions); set read.date_format to override"
        )
        return day_first
    v = cell_value(col)
    example = fetch(con, f"SELECT {v} FROM {raw.name} WHERE {v} IS NOT NULL LIMIT 1")[0][0]
    raise DataContractError(
        "not_a_date",
        f"{raw.path.name}, column {col}: every date reads both as {every[0]} and as {every[1]} "
        f"(e.g. {example!r}), so the day/month order cannot be told. Set read.date_format: "
        f"'{every[0]}' or '{every[1]}' in the mapping (tables.{raw.report.table}.read).",
    )


def _counts(con: ibis.BaseBackend, raw: RawTable, v: str, formats, rows: int | None) -> list[int]:
    """Over the first ``rows`` rows (None: all) of the column ``v``: non-empty cells, Excel serial
    days, and the cells each of ``formats`` reads."""
    sample = f"SELECT {v} AS v FROM {raw.name}" + (f" LIMIT {rows}" if rows else "")
    return list(
        fetch(
            con,
            "SELECT count(v), count(*) FILTER (WHERE "
            + _is_serial("v")
            + "), "
            + ", ".join(_format_count("v", f) for f in formats)
            + f" FROM ({sample})",
        )[0]
    )


def _format_count(v: str, fmt: str) -> str:
    """SQL counting the cells ``fmt`` reads; a four-digit-year format does not read '01/02/24' as year 24."""
    parsed = f"TRY_STRPTIME({v}, {literal(fmt)})"
    return f"count(*) FILTER (WHERE year({parsed}) >= 1000)" if "%Y" in fmt else f"count({parsed})"
