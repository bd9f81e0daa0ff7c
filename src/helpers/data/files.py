"""An analyst's files found and read as they are into DuckDB (``raw_<table>``): each table's file,
CSV in any encoding (a UTF-8 copy when needed) with its separator detected, Parquet, Excel, and
the file's column names put onto the contract. Original files are never modified."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from helpers.data._sql import column_types, fetch, ident, literal
from helpers.data.contract import LOAD_ORDER, TABLES, DataContractError, Table
from helpers.data.mapping import Mapping, TableMapping
from helpers.data.quality import TableReport
from helpers.paths import relative_to_repo

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".xlsx": "excel"}
SEPARATORS = (";", ",", "\t", "|")


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
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataContractError(
            "unreadable", f"{path.name}: unknown format {path.suffix!r}; use .csv, .parquet or .xlsx."
        )
    if path.stat().st_size == 0:
        raise DataContractError("empty_file", f"{path.name} is empty (0 bytes): export {table} again.")
    report = TableReport(table, path.name, fmt)
    name, options = f"raw_{table}", dict(spec.read)
    names = lambda columns: _contract_names(path, TABLES[table], columns, spec, report)  # noqa: E731
    try:
        if fmt == "csv":
            columns = _read_csv(con, name, path, options, report, tmp, names)
        elif fmt == "parquet":
            source = [c for c in column_types(con, f"SELECT * FROM read_parquet({literal(path)})")]
            columns = names(source)
            select = ", ".join(f"{ident(c)} AS {ident(t)}" for c, t in zip(source, columns, strict=True))
            fetch(
                con,
                f"CREATE OR REPLACE VIEW {name} AS SELECT row_number() OVER () AS __line, {select} "
                f"FROM read_parquet({literal(path)})",
            )
        else:
            columns = _read_excel(con, name, path, options, names)
    except duckdb.Error as exc:
        hint = " (an unclosed quote, or a row with more fields than the header?)" if fmt == "csv" else ""
        raise DataContractError("unreadable", f"{path.name} cannot be read as {fmt}: {_first_line(exc)}{hint}") from exc
    rows = fetch(con, f"SELECT count(*) FROM {name}")[0][0]
    if rows == 0:
        raise DataContractError("no_rows", f"{path.name} has a header but no rows: export {table} again.")
    report.rows_read = rows
    line_word = {"csv": "line", "parquet": "row", "excel": "Excel row"}[fmt]
    return RawTable(name, path, fmt, columns, options, spec.values, report, line_word)


def _read_csv(
    con: ibis.BaseBackend,
    name: str,
    path: Path,
    options: dict,
    report: TableReport,
    tmp: Path,
    names: Callable[[list[str]], list[str]],
) -> list[str]:
    """A CSV (through its UTF-8 copy) with every cell as text; the separator given or detected."""
    utf8 = _utf8_copy(path, options, report, tmp)
    with open(utf8, encoding="utf-8", newline="") as fh:
        header = fh.readline().rstrip("\r\n")
    sep = options.get("sep") or _sniff_separator(header)
    if not options.get("sep") and sep != ",":
        report.assumptions.append(f"column separator {sep!r} (detected from the header)")
    options["sep"] = sep
    fields = [f.strip() or f"column{i + 1}" for i, f in enumerate(next(csv.reader([header], delimiter=sep)))]
    others = [s for s in SEPARATORS if s != sep and s in header]
    if len(fields) == 1 and others:
        raise DataContractError(
            "wrong_separator",
            f"{path.name}: with separator {sep!r} the header reads as one "
            f"column {header[:60]!r}; the file seems to use {others[0]!r}. "
            f"Set read.sep: {others[0]!r} in the mapping.",
        )
    columns = names(fields)
    struct = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in columns) + "}"
    fetch(
        con,
        f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () + 1 AS __line, * FROM read_csv("
        f"{literal(utf8)}, delim={literal(sep)}, header=true, quote='\"', escape='\"', auto_detect=false, "
        f"columns={struct})",
    )
    return columns


def _utf8_copy(path: Path, options: dict, report: TableReport, tmp: Path) -> Path:
    """The file itself if it is UTF-8 without BOM, else a UTF-8 copy in ``tmp`` (decoded from the
    given encoding, or from cp1252 when the bytes are not UTF-8). Refuses mixed encodings."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    given = options.get("encoding")
    if given:
        encoding = codecs.lookup(given).name
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        report.assumptions.append("UTF-8 with a byte-order mark (BOM)")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        report.assumptions.append("UTF-16 (byte-order mark)")
    elif _is_utf8(path):
        return path
    else:
        _refuse_mixed_encodings(path)
        encoding = "cp1252"
        report.assumptions.append(
            "not UTF-8: read as Windows-1252 (cp1252), the encoding of French Excel "
            "exports; set read.encoding to override"
        )
    if encoding == "utf-8" and not head.startswith(codecs.BOM_UTF8) and _is_utf8(path):
        return path
    target = tmp / f"{path.stem}.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line = 1
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        for block in iter(lambda: src.read(1 << 22), b""):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                bad_line = line + block[: exc.start].count(b"\n")
                raise DataContractError(
                    "encoding",
                    f"{path.name}, line {bad_line}: bytes that are not {encoding} "
                    f"({block[exc.start : exc.start + 4]!r}); set read.encoding to "
                    "the file's encoding (utf-8, cp1252, latin-1...).",
                ) from exc
            line += block.count(b"\n")
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))
    return target


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_mixed_encodings(path: Path) -> None:
    """A file that is not UTF-8 but also holds UTF-8 accented letters mixes two encodings."""
    utf8_line = bad_line = None
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
                if utf8_line is None and re.search(r"[^\x00-\x7f]", text):
                    utf8_line = number
            except UnicodeDecodeError:
                bad_line = bad_line or number
            if utf8_line and bad_line:
                raise DataContractError(
                    "encoding",
                    f"{path.name} mixes two encodings: line {utf8_line} is UTF-8, "
                    f"line {bad_line} is not (probably cp1252). Re-export the file "
                    "in one encoding (UTF-8).",
                )


def _sniff_separator(header: str) -> str:
    counts = {s: len(next(csv.reader([header], delimiter=s))) - 1 for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _read_excel(
    con: ibis.BaseBackend, name: str, path: Path, options: dict, names: Callable[[list[str]], list[str]]
) -> list[str]:
    """An .xlsx sheet with every cell as text (dates as ISO), so parsing is the same as for CSV."""
    try:
        df = pd.read_excel(path, sheet_name=options.get("sheet", 0), dtype=object, engine="openpyxl")
    except (ValueError, KeyError, OSError) as exc:
        raise DataContractError("unreadable", f"{path.name} cannot be read as Excel: {exc}") from exc
    columns = names([str(c) for c in df.columns])
    text = pd.DataFrame({t: df[c].map(_excel_text).astype("string") for c, t in zip(df.columns, columns, strict=True)})
    con.con.register("__excel", text)
    fetch(con, f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () + 1 AS __line, * FROM __excel")
    con.con.unregister("__excel")
    return columns


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


def _normal(name: str) -> str:
    """'Date de commande ' -> 'date_de_commande': lower-case ASCII words joined by '_'."""
    plain = unicodedata.normalize("NFKD", name.replace("\ufeff", "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def _contract_names(path: Path, table: Table, columns: list[str], spec: TableMapping, report: TableReport) -> list[str]:
    """The file's column names on the contract: the mapping's renames first, then names equal to a
    contract column once normalised ('Customer ID' -> customer_id); others kept. Refuses a missing
    required column (unless the mapping derives it), naming the columns the file has."""
    renames = spec.columns
    missing_sources = [src for src in renames if src not in columns]
    if missing_sources:
        raise DataContractError(
            "bad_mapping",
            f"{path.name}: the mapping renames column(s) {missing_sources} that the "
            f"file does not have; its columns: {columns}.",
        )
    contract = {c.name for c in table.columns}
    targets = []
    for col in columns:
        target = renames.get(col) or (_normal(col) if _normal(col) in contract else col)
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
            f"{missing[0]}}}).",
        )
    return targets


def _first_line(exc: Exception) -> str:
    """The first line of an error's message, at most 300 characters."""
    return str(exc).strip().splitlines()[0][:300]
