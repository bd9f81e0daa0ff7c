"""Lists a CRM or a router can load: a notebook records each one (the contact plan, the next best
offer per customer, the value-at-risk list) as ``<output_dir>/exports/<name>.parquet``, typed and
whole; the report writes it into the run folder's ``exports/`` as CSV and xlsx in the report's
language (French: ``;`` between fields, decimal comma, UTF-8 with a BOM so Excel opens it).

Customer ids, channels and offers stay as the data gives them, codes a CRM can match; headers are
the catalogue's column names. Both files are byte-stable, so a rerun reproduces them.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from helpers.errors import RunInputError
from helpers.paths import notebook_output_dir, relative_to_repo
from helpers.run.catalogue import gettext

EXPORTS = "exports"  # the folder, in a notebook's output folder and in the run folder
CSV_DIALECT = {"en": {"sep": ",", "decimal": "."}, "fr": {"sep": ";", "decimal": ","}}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries' timestamp: the same bytes on every run
FIXED_CORE_DATE = "1980-01-01T00:00:00Z"
MAX_XLSX_ROWS = 1_048_576  # rows of an Excel sheet, its header included


class ExportError(RunInputError):
    """A list that cannot be exported as it is: the message names the list and the fault."""


def export_list(frame: pd.DataFrame, name: str, notebook: str, output_dir: str | Path | None = None) -> Path:
    """Record ``frame`` (one row per customer or contact; columns as the code names them) as the list
    ``name`` of ``notebook``; the report turns it into CSV and xlsx. Prints how many rows, not where
    (the report shows the line, and two runs of a playbook must write the same report)."""
    if frame.columns.duplicated().any() or not len(frame.columns):
        raise ExportError(f"{notebook}: the list {name!r} needs named, distinct columns; got {list(frame.columns)}.")
    folder = notebook_output_dir(notebook, output_dir) / EXPORTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    frame.reset_index(drop=True).to_parquet(path, index=False)
    print(f"{len(frame):,} rows of {name.replace('_', ' ')} recorded for the CRM files.")  # no path: runs differ
    return path


def recorded_lists(run_dir: Path) -> dict[str, Path]:
    """List name -> parquet file, for every list the notebooks of ``run_dir`` recorded."""
    found = sorted(Path(run_dir).glob(f"*/{EXPORTS}/*.parquet"))
    names = [p.stem for p in found]
    if len(set(names)) != len(names):
        raise ExportError(f"two notebooks of {relative_to_repo(run_dir)} recorded a list of the same name: {names}.")
    return {p.stem: p for p in found}


def headers(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """``frame`` with its columns named in ``language`` (``customer_id`` -> "customer id", "client")."""
    return frame.rename(columns={c: gettext(c.replace("_", " "), language) for c in frame.columns})


def write_csv(frame: pd.DataFrame, path: Path, language: str) -> None:
    """CSV as a spreadsheet of ``language`` opens it: its separator and decimal sign, UTF-8 with BOM."""
    dialect = CSV_DIALECT[language]
    text = frame.to_csv(index=False, sep=dialect["sep"], decimal=dialect["decimal"], lineterminator="\r\n")
    path.write_bytes(text.encode("utf-8-sig"))


def write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    """An xlsx workbook: a bold header, then the rows, each written once and streamed to the file
    (xlsxwriter's constant memory: 2.6 s per 100,000 rows of five columns, where pandas through
    openpyxl took 7.1 s), continued on sheets "<sheet> (2)", ... past Excel's ``MAX_XLSX_ROWS``;
    missing values blank, dates as dates, numbers to 16 significant digits (Excel shows 15), text
    always text (never a formula or a link); fixed zip timestamps and document dates (byte-stable)."""
    import xlsxwriter

    buffer = io.BytesIO()
    options = {"constant_memory": True, "in_memory": True, "default_date_format": "yyyy-mm-dd"}
    text = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(buffer, options | text)
    bold, header = book.add_format({"bold": True}), [str(column) for column in frame.columns]
    cells = frame.astype(object).where(frame.notna(), None)  # Python values; None is a blank cell
    per_sheet = MAX_XLSX_ROWS - 1
    for part, start in enumerate(range(0, max(len(cells), 1), per_sheet)):
        table = book.add_worksheet(sheet[:31] if not part else f"{sheet[:25]} ({part + 1})")
        table.write_row(0, 0, header, bold)
        for row, values in enumerate(cells.iloc[start : start + per_sheet].itertuples(index=False, name=None), 1):
            refused = table.write_row(row, 0, values)  # xlsxwriter: -1 beyond the sheet, -2 text over 32,767 characters
            if refused:
                raise ExportError(f"{path.name}: row {start + row} cannot be written to xlsx as it is: {values}.")
    book.close()
    with zipfile.ZipFile(buffer) as made, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as fixed:
        for entry in made.infolist():
            data = made.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = _fixed_dates(data.decode()).encode()
            fixed.writestr(zipfile.ZipInfo(entry.filename, FIXED_TIME), data, zipfile.ZIP_DEFLATED)


def _fixed_dates(core: str) -> str:
    return re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rf"\g<1>{FIXED_CORE_DATE}", core)


def read_csv(path: Path, language: str) -> pd.DataFrame:
    """A CSV written by ``write_csv`` read back, ids as text."""
    dialect = CSV_DIALECT[language]
    return pd.read_csv(path, sep=dialect["sep"], decimal=dialect["decimal"], encoding="utf-8-sig", dtype=str)


def write_exports(run_dir: Path, language: str, out: Path | None = None) -> dict[str, dict[str, str]]:
    """Every list the notebooks of ``run_dir`` recorded, as ``exports/<name>.csv`` and ``.xlsx`` in
    ``out`` (default: the run folder); returns name -> {"csv", "xlsx": path from ``out``, "rows"}."""
    written = {}
    for name, source in recorded_lists(run_dir).items():
        frame = headers(pd.read_parquet(source), language)
        folder = Path(out or run_dir) / EXPORTS
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(frame, folder / f"{name}.csv", language)
        write_xlsx(frame, folder / f"{name}.xlsx", gettext(name.replace("_", " "), language))
        written[name] = {"csv": f"{EXPORTS}/{name}.csv", "xlsx": f"{EXPORTS}/{name}.xlsx", "rows": str(len(frame))}
    return written
