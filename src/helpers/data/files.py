"""An analyst's files found and read as they are into DuckDB (``raw_<table>``): each table's file in
the format its first bytes tell, CSV in any encoding (a UTF-8 copy when needed) with its separator
and header line detected or given, Parquet, Excel, and the file's column names put onto the
contract. Original files are never modified."""

from __future__ import annotations

import csv
import itertools
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis

from helpers.data._sql import column_types, fetch, ident, literal
from helpers.data.contract import LOAD_ORDER, TABLES, DataContractError, Table
from helpers.data.encodings import utf8_copy
from helpers.data.excel import HeadRows, read_excel
from helpers.data.mapping import Mapping, TableMapping
from helpers.data.quality import TableReport
from helpers.paths import relative_to_repo

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".xlsx": "excel", ".xls": "excel"}
FORMAT_NAMES = {"csv": "text (CSV)", "parquet": "a Parquet file", "excel": "an Excel workbook"}
SEPARATORS = (";", ",", "\t", "|")
HEAD_LINES = 30  # lines looked at for Excel's 'sep=' line, the header and the rows' separator


@contextmanager
def permission_denied_is_unreadable(data_dir: Path) -> Iterator[None]:
    """A file or folder the system will not let us read (the mapping, the data folder, an export)
    is refused as 'unreadable', naming it."""
    try:
        yield
    except PermissionError as exc:
        folder_denied = not os.access(data_dir, os.R_OK | os.X_OK)  # then every file inside is denied too
        denied = relative_to_repo(data_dir if folder_denied or not exc.filename else Path(exc.filename))
        raise DataContractError(
            "unreadable",
            f"{denied}: permission denied, so it cannot be read. Give the user "
            f"running the analysis read access (e.g. chmod -R a+rX "
            f"{relative_to_repo(data_dir)}) or copy the data to a folder of "
            "theirs.",
        ) from exc


@dataclass
class RawTable:
    """A file read as it is into DuckDB: ``name`` holds ``__line`` plus the file's columns,
    renamed onto the contract; text cells stay text until parsed."""

    name: str
    path: Path
    format: str
    columns: list[str]
    options: dict
    values: dict[str, dict]
    report: TableReport
    line_word: str = "line"


def read_raw_tables(
    con: ibis.BaseBackend, data_dir: Path, spec: Mapping, required: tuple[str, ...]
) -> tuple[dict[str, RawTable], list[str]]:
    """Every contract table with a file in ``data_dir`` read into DuckDB (in load order), and the
    files ignored. Refuses a missing ``required`` table, two files for one table, an unreadable file."""
    files, ignored = locate_files(data_dir, spec, required)
    with tempfile.TemporaryDirectory(prefix="relation-playbooks-") as tmp:
        raws = {
            name: _read_raw(con, name, files[name], spec.tables.get(name, TableMapping()), Path(tmp))
            for name in LOAD_ORDER
            if name in files
        }
    return raws, ignored


def locate_files(data_dir: Path, spec: Mapping, required: tuple[str, ...]) -> tuple[dict[str, Path], list[str]]:
    """Each table's file (named in the mapping, else ``<table>.<csv|parquet|xlsx>``, any case) and the
    other files, ignored; refuses a missing ``required`` table, two files for one table."""
    files: dict[str, Path] = {}
    by_table: dict[str, list[Path]] = {}
    for path in sorted(p for p in data_dir.iterdir() if p.is_file()):
        if path.suffix.lower() in FORMATS and path.stem.lower() in TABLES:
            by_table.setdefault(path.stem.lower(), []).append(path)
    for name in TABLES:
        named = spec.tables.get(name, TableMapping()).file
        if named:
            path = data_dir / named
            if not path.exists():
                raise DataContractError(
                    "bad_mapping", f"mapping tables.{name}.file: {named} is not in {relative_to_repo(data_dir)}."
                )
            files[name] = path
        elif len(by_table.get(name, [])) > 1:
            raise DataContractError(
                "ambiguous_file",
                f"{relative_to_repo(data_dir)} holds several files for "
                f"{name}: {', '.join(p.name for p in by_table[name])}; keep one "
                f"or name it in the mapping (tables.{name}.file).",
            )
        elif by_table.get(name):
            files[name] = by_table[name][0]
    for name in required:
        if name not in files:
            raise DataContractError(
                "missing_table",
                f"{relative_to_repo(data_dir)} has no {name} file, which this "
                f"analysis needs: name one {name}.csv, .parquet or .xlsx, or set "
                f"tables.{name}.file in the mapping.",
            )
    used = {p.name for p in files.values()} | {"mapping.yml"}
    ignored = sorted(
        p.name for p in data_dir.iterdir() if p.is_file() and p.name not in used and not p.name.startswith(".")
    )
    return files, ignored


def _read_raw(con: ibis.BaseBackend, table: str, path: Path, spec: TableMapping, tmp: Path) -> RawTable:
    """Read ``path`` into DuckDB as ``raw_<table>``: ``__line`` plus the file's columns under their
    contract names (text cells stay text until parsed)."""
    if path.stat().st_size == 0:
        raise DataContractError("empty_file", f"{path.name} is empty (0 bytes): export {table} again.")
    fmt = _format(path)
    report = TableReport(table, path.name, fmt)
    if fmt != FORMATS.get(path.suffix.lower()):
        report.assumptions.append(f"{path.name} is {FORMAT_NAMES[fmt]} (told by its first bytes), read as such")
    name, options = f"raw_{table}", dict(spec.read)

    def names(columns: list[str], head: HeadRows) -> list[str]:
        return _contract_names(path, TABLES[table], columns, spec, report, head)

    try:
        if fmt == "csv":
            columns = _read_csv(con, name, path, options, report, tmp, names)
        elif fmt == "parquet":
            source = [c for c in column_types(con, f"SELECT * FROM read_parquet({literal(path)})")]
            columns = names(source, lambda: ([], ""))
            select = ", ".join(f"{ident(c)} AS {ident(t)}" for c, t in zip(source, columns, strict=True))
            fetch(
                con,
                f"CREATE OR REPLACE VIEW {name} AS SELECT row_number() OVER () AS __line, {select} "
                f"FROM read_parquet({literal(path)})",
            )
        else:
            columns = read_excel(con, name, path, options, names)
    except duckdb.Error as exc:
        hint = " (an unclosed quote, or a row with more fields than the header?)" if fmt == "csv" else ""
        raise DataContractError("unreadable", f"{path.name} cannot be read as {fmt}: {_first_line(exc)}{hint}") from exc
    rows = fetch(con, f"SELECT count(*) FROM {name}")[0][0]
    if rows == 0:
        raise DataContractError("no_rows", f"{path.name} has a header but no rows: export {table} again.")
    report.rows_read = rows
    line_word = {"csv": "line", "parquet": "row", "excel": "Excel row"}[fmt]
    return RawTable(name, path, fmt, columns, options, spec.values, report, line_word)


def _format(path: Path) -> str:
    """The file's format as its first bytes tell (a workbook renamed .csv is still a workbook), else
    its name's. Refuses a zip archive that is not a workbook, and text named .xlsx or .parquet."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    named = FORMATS.get(path.suffix.lower())
    if magic.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise DataContractError(
                    "unreadable",
                    f"{path.name} is a zip archive, not an export: unzip it and put the file it holds in its place.",
                )
        return "excel"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):  # the Excel 97-2003 (.xls) container
        return "excel"
    if magic.startswith(b"PAR1"):
        return "parquet"
    if named in ("excel", "parquet"):
        raise DataContractError(
            "unreadable",
            f"{path.name} is not {FORMAT_NAMES[named]}: its first bytes {magic!r} are not those of one "
            f"(a text export named {path.suffix}?). Rename it {path.stem}.csv if it is CSV, or export it again.",
        )
    return "csv"


def _read_csv(
    con: ibis.BaseBackend,
    name: str,
    path: Path,
    options: dict,
    report: TableReport,
    tmp: Path,
    names: Callable[[list[str], HeadRows], list[str]],
) -> list[str]:
    """A CSV (through its UTF-8 copy) with every cell as text: Excel's 'sep=;' first line, the header
    on read.header_row, the separator given or detected (rows may use another than the header)."""
    text = _one_line_ending(utf8_copy(path, options, report, tmp), report, tmp)
    header_row = options.get("header_row", 1)
    lines = _head_lines(text, header_row + HEAD_LINES)
    excel_sep = re.fullmatch("sep=(.)", lines[0]) if lines else None
    if excel_sep and "header_row" not in options:
        header_row = 2
        report.assumptions.append(f"first line {lines[0]!r} (Excel's separator line) read as the separator")
    if header_row > len(lines):
        raise DataContractError(
            "no_rows", f"{path.name} has {len(lines)} lines, fewer than read.header_row ({header_row})."
        )
    header = lines[header_row - 1]
    sep = options.get("sep") or (excel_sep.group(1) if excel_sep else _sniff_separator(header))
    if not options.get("sep") and not excel_sep and sep != ",":
        report.assumptions.append(f"column separator {sep!r} (detected from the header)")
    fields = [f.strip() or f"column{i + 1}" for i, f in enumerate(_split(header, sep))]
    others = [s for s in SEPARATORS if s != sep and s in header]
    if len(fields) == 1 and others:
        raise DataContractError(
            "wrong_separator",
            f"{path.name}: with separator {sep!r} the header reads as one "
            f"column {header[:60]!r}; the file seems to use {others[0]!r}. "
            f"Set read.sep: {others[0]!r} in the mapping.",
        )
    if not options.get("sep"):
        sep = _row_separator(path, sep, fields, lines[header_row : header_row + HEAD_LINES], report)
    options["sep"] = sep
    columns = names(fields, lambda: ([_split(line, sep) for line in lines], ""))
    struct = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in columns) + "}"
    fetch(
        con,
        f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () + {header_row} AS __line, * FROM read_csv("
        f"{literal(text)}, delim={literal(sep)}, header=false, skip={header_row}, quote='\"', escape='\"', "
        f"auto_detect=false, columns={struct})",
    )
    return columns


def _row_separator(path: Path, sep: str, fields: list[str], rows: list[str], report: TableReport) -> str:
    """The rows' separator: the header's, or another that splits every row into as many fields as
    the header has (said); refused, naming both, when the rows split evenly with another only."""
    rows = [r for r in rows if r.strip()]
    if len(fields) == 1 or not rows or all(len(_split(r, sep)) == len(fields) for r in rows):
        return sep
    for other in SEPARATORS:
        if other != sep and all(len(_split(r, other)) == len(fields) for r in rows):
            report.assumptions.append(f"header separated by {sep!r}, rows by {other!r}: rows read with {other!r}")
            return other
    even = {s: {len(_split(r, s)) for r in rows} for s in SEPARATORS if s != sep}
    used = next((s for s, counts in even.items() if len(counts) == 1 and counts != {1}), None)
    if used is None:
        return sep  # uneven rows: the reader names the first that does not fit
    raise DataContractError(
        "wrong_separator",
        f"{path.name}: the header is separated by {sep!r} ({len(fields)} columns) but the rows by {used!r} "
        f"({len(_split(rows[0], used))} fields). Export the file again with one separator, or fix its header line.",
    )


def _one_line_ending(path: Path, report: TableReport, tmp: Path) -> Path:
    """The file, or a copy in ``tmp`` with every line ending LF when it mixes CRLF and LF lines
    (DuckDB's reader takes one line ending per file)."""
    with open(path, "rb") as fh:
        crlf = lf = 0
        for block in iter(lambda: fh.read(1 << 22), b""):
            crlf, lf = crlf + block.count(b"\r\n"), lf + block.count(b"\n")  # \r\n across blocks: counted as LF
    if crlf == 0 or crlf == lf:
        return path
    target = tmp / f"{path.stem}.lf.csv"
    with open(path, "rb") as src, open(target, "wb") as dst:
        carry = b""
        for block in iter(lambda: src.read(1 << 22), b""):
            block = carry + block
            carry = b"\r" if block.endswith(b"\r") else b""
            dst.write(block[: len(block) - len(carry)].replace(b"\r\n", b"\n"))
        dst.write(carry)
    report.assumptions.append(f"line endings mixed ({crlf:,} CRLF, {lf - crlf:,} LF): read as one")
    return target


def _head_lines(path: Path, n: int) -> list[str]:
    """The first ``n`` lines of a UTF-8 file, without their line endings."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [line.rstrip("\r\n") for line in itertools.islice(fh, n)]


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [""])


def _sniff_separator(header: str) -> str:
    counts = {s: len(_split(header, s)) - 1 for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _header_row(table: Table, renames: dict[str, str], rows: list[list[str]]) -> int | None:
    """The number (from 1) of the first of ``rows`` holding every required column, if any."""
    for number, row in enumerate(rows, start=1):
        found = {(renames.get(str(c).strip()) or _normal(str(c))).replace("_", "") for c in row}
        if {c.replace("_", "") for c in table.required} <= found:
            return number
    return None


def _normal(name: str) -> str:
    """'Date de commande ' -> 'date_de_commande': lower-case ASCII words joined by '_'."""
    plain = unicodedata.normalize("NFKD", name.replace("\ufeff", "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _contract_names(
    path: Path, table: Table, columns: list[str], spec: TableMapping, report: TableReport, head: HeadRows
) -> list[str]:
    """The file's column names on the contract: the mapping's renames first, then names equal to a
    contract column once normalised ('Customer ID', 'CustomerID' -> customer_id); others kept. Refuses a missing
    required column (unless the mapping derives it), naming the columns the file has and, from ``head``
    (its first rows), the line where the header seems to be."""
    renames = spec.columns
    missing_sources = [src for src in renames if src not in columns]
    if missing_sources:
        raise DataContractError(
            "bad_mapping",
            f"{path.name}: the mapping renames column(s) {missing_sources} that the "
            f"file does not have; its columns: {columns}.",
        )
    contract = {c.name.replace("_", ""): c.name for c in table.columns}  # 'CustomerID' is customer_id too
    targets = []
    for col in columns:
        target = renames.get(col) or contract.get(_normal(col).replace("_", ""), col)
        if target != col and col not in renames:
            report.assumptions.append(f"column {col!r} read as {target}")
        targets.append(target)
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise DataContractError("bad_mapping", f"{path.name}: several columns map onto {dupes}; rename one.")
    missing = [c for c in table.required if c not in targets and c not in spec.lines.derive]
    if missing:
        raise DataContractError(
            "missing_column",
            f"{path.name}, column {missing[0]}: required column(s) {missing} "
            f"missing; the file has {columns}. Rename it in the file or map it "
            f"in the mapping (tables.{table.name}.columns: {{'Your name': "
            f"{missing[0]}}}).{_where_header_is(table, renames, report, head)}",
        )
    return targets


def _where_header_is(table: Table, renames: dict[str, str], report: TableReport, head: HeadRows) -> str:
    """A refusal's hint on where the header is: the row that holds every required column, else the
    options that say where it is."""
    rows, elsewhere = head()
    word = "line" if report.format == "csv" else "row"
    number = _header_row(table, renames, rows)
    if number and number > 1:
        return f" The header seems to be on {word} {number}: set read.header_row: {number} (tables.{table.name}.read)."
    if not rows:
        return elsewhere
    return f" If the header is not on {word} 1 (title {word}s above it), set read.header_row to its number.{elsewhere}"


def _first_line(exc: Exception) -> str:
    """The first line of an error's message, at most 300 characters."""
    return str(exc).strip().splitlines()[0][:300]
