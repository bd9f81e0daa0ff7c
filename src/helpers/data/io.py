"""Load an analyst's exports (CSV, Parquet, Excel) onto the data contract, in DuckDB.

    data = load_tables("exports/", mapping="exports/mapping.yml")
    data.table("transactions")       # an Ibis table on DuckDB (never pulled whole into pandas)
    data.frame("customers")          # a small table as pandas
    print(data.report)               # rows read, kept, excluded by reason, assumptions

Two outcomes only: the data is accepted with a data quality report, or refused with a
``DataContractError`` naming the file, the column, up to five offending rows and the fix. A row
that breaks a rule is excluded, counted and reported; when more than ``max_excluded_share`` of a
table's rows break the same rule the load is refused. Original files are never modified: a CSV in
another encoding than UTF-8 is transcoded to a temporary copy that DuckDB reads.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import re
import shutil
import tempfile
import unicodedata
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import yaml

from helpers.data.consents import resolve_consents
from helpers.data.contract import (EARLIEST_DATE, LOAD_ORDER, PERSONAL_COLUMNS, REQUIRED_TABLES, TABLES,
                              DataContractError, Table, pandera_schema)
from helpers.paths import REPO_ROOT, duckdb_spill_dir, relative_to_repo

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".xlsx": "excel"}
READ_OPTIONS = {"sep", "decimal", "encoding", "date_format", "sheet"}
TABLE_KEYS = {"file", "columns", "read", "values"}
OPTION_KEYS = {"pseudonymise", "salt", "max_excluded_share", "latest_date"}
SEPARATORS = (";", ",", "\t", "|")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d",
                "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
TRUE_WORDS = ("true", "t", "1", "yes", "y", "oui", "o", "vrai")
FALSE_WORDS = ("false", "f", "0", "no", "n", "non", "faux")
SAMPLE_ROWS = 100_000
INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT")
NUMERIC_TYPES = ("DOUBLE", "FLOAT", *INTEGER_TYPES)


# ---------------------------------------------------------------- the mapping

@dataclass
class TableMapping:
    """How one table's file maps onto the contract (all optional)."""

    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)     # file column -> contract column
    read: dict = field(default_factory=dict)                  # sep, decimal, encoding, date_format, sheet
    values: dict[str, dict] = field(default_factory=dict)     # contract column -> {file value: contract value}


@dataclass
class Mapping:
    tables: dict[str, TableMapping] = field(default_factory=dict)
    pseudonymise: bool = False
    salt: str | None = None
    max_excluded_share: float = 0.01
    latest_date: dt.date | None = None


def read_mapping(data_dir: Path, mapping: str | Path | dict | None) -> tuple[Mapping, str]:
    """The mapping (a dict, a YAML path, or ``mapping.yml`` beside the data) checked key by key,
    and where it came from. Every key and value is checked here, before any data is read."""
    source = "none"
    if mapping is None and (data_dir / "mapping.yml").exists():
        mapping = data_dir / "mapping.yml"
    if isinstance(mapping, (str, Path)) and str(mapping):
        path = _resolve(mapping)
        if not path.exists():
            raise DataContractError("bad_mapping", f"mapping file {path} does not exist.")
        source = relative_to_repo(path)
        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DataContractError("bad_mapping", f"{path.name} is not valid YAML: {exc}") from exc
    elif isinstance(mapping, dict):
        source = "given"
    top = source if source not in ("none", "given") else "mapping"
    at = f"{top}: " if top != "mapping" else "mapping "      # messages: 'exports/mapping.yml: tables...'
    mapping = mapping or {}
    if not isinstance(mapping, dict):
        raise DataContractError("bad_mapping", f"{top} must be a mapping with 'tables' and 'options', got "
                                               f"{_shown(mapping)}.")
    _keys(mapping, {"tables", "options"}, top)
    out = Mapping()
    tables = _keys(mapping.get("tables"), set(TABLES), f"{at}tables", "{table: {file, columns, read, values}}")
    for name, spec in tables.items():
        spec = _keys(spec, TABLE_KEYS, f"{at}tables.{name}")
        if spec.get("file") is not None and not (isinstance(spec["file"], str) and spec["file"]):
            raise DataContractError("bad_mapping", f"{at}tables.{name}.file must be the name of a file in the data "
                                                   f"folder, got {_shown(spec['file'])}.")
        out.tables[name] = TableMapping(spec.get("file"), _columns(TABLES[name], spec.get("columns"), at),
                                        _read_options(spec.get("read"), f"{at}tables.{name}.read"),
                                        _values(TABLES[name], spec.get("values"), at))
    options = _keys(mapping.get("options"), OPTION_KEYS, f"{at}options")
    pseudonymise = options.get("pseudonymise")
    if pseudonymise is not None and not isinstance(pseudonymise, bool):
        raise DataContractError("bad_mapping", f"{at}options.pseudonymise must be true or false, got "
                                               f"{_shown(pseudonymise)}.")
    out.pseudonymise = bool(pseudonymise)
    out.salt = options.get("salt")
    if out.salt is not None and not (isinstance(out.salt, str) and out.salt):
        raise DataContractError("bad_mapping", f"{at}options.salt must be a secret text (quote it in YAML), got "
                                               f"{_shown(out.salt)}.")
    share = options.get("max_excluded_share")
    share = out.max_excluded_share if share is None else share
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise DataContractError("bad_mapping", f"{at}options.max_excluded_share must be a number from 0 to 1 "
                                               f"(0.01 for 1%), got {_shown(share)}.")
    out.max_excluded_share = float(share)
    out.latest_date = _date_option(options.get("latest_date"), f"{at}options.latest_date")
    if out.pseudonymise and not out.salt:
        raise DataContractError("bad_mapping", f"{at}options.pseudonymise needs options.salt (a secret string "
                                               "kept out of the report), so the same person gets the same pseudonym.")
    return out, source


def _keys(spec, known: set[str], where: str, shape: str = "") -> dict:
    """``spec`` (None: empty) as a dict, refused unless it is a mapping whose keys are all known."""
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise DataContractError("bad_mapping", f"{where} must be a mapping{' ' + shape if shape else ''}, got "
                                               f"{_shown(spec)}.")
    unknown = sorted(map(str, set(spec) - known))
    if unknown:
        raise DataContractError("bad_mapping", f"{where}: unknown key(s) {unknown}; known: {sorted(known)}.")
    return spec


def _columns(table: Table, columns, at: str) -> dict[str, str]:
    """tables.<table>.columns: file column -> contract column (customers may keep extra names)."""
    where = f"{at}tables.{table.name}.columns"
    known = sorted(c.name for c in table.columns)
    if columns is not None and not isinstance(columns, dict):
        raise DataContractError("bad_mapping", f"{where} must be a mapping {{file column: contract column}}, e.g. "
                                               f"{{'Your name': {table.required[0]}}}, got {_shown(columns)}.")
    renames = {str(source): target for source, target in (columns or {}).items()}
    for source, target in renames.items():
        if not isinstance(target, str) or (target not in known and table.name != "customers"):
            raise DataContractError("bad_mapping", f"{where}: {source!r} maps onto {_shown(target)}, which is not a "
                                                   f"column of {table.name}; columns: {', '.join(known)}.")
    return renames


def _values(table: Table, values, at: str) -> dict[str, dict]:
    """tables.<table>.values: for a label or yes/no column, file value -> contract value."""
    where = f"{at}tables.{table.name}.values"
    mappable = [c.name for c in table.columns if c.kind in ("label", "boolean")]
    out = {}
    for name, pairs in _keys(values, set(mappable), where, "{column: {file value: contract value}}").items():
        column = table.column(name)
        allowed = column.values if column.kind == "label" else TRUE_WORDS + FALSE_WORDS
        if not isinstance(pairs, dict):
            raise DataContractError("bad_mapping", f"{where}.{name} must be a mapping {{file value: contract value}}, "
                                                   f"got {_shown(pairs)}.")
        for value, target in pairs.items():
            if str(target).lower() not in allowed:
                raise DataContractError("bad_mapping", f"{where}.{name}: {value!r} maps onto {_shown(target)}; "
                                                       f"accepted: {', '.join(allowed)}.")
        out[name] = dict(pairs)
    return out


def _read_options(read, where: str) -> dict:
    """tables.<table>.read: each reader option within its domain."""
    read = dict(_keys(read, READ_OPTIONS, where))
    sep = read.get("sep")
    if sep is not None and not (isinstance(sep, str) and len(sep) == 1 and sep not in "\"\r\n"):
        raise DataContractError("bad_mapping", f"{where}.sep must be one character such as ';', ',', '|' or a tab "
                                               f"(\"\\t\" in double quotes), got {_shown(sep)}.")
    if read.get("decimal") is not None and read["decimal"] not in (".", ","):
        raise DataContractError("bad_mapping", f"{where}.decimal must be '.' or ',', got {_shown(read['decimal'])}.")
    if read.get("encoding") is not None and not _is_text_encoding(read["encoding"]):
        raise DataContractError("bad_mapping", f"{where}.encoding must be a text encoding Python knows, such as "
                                               f"utf-8, cp1252, latin-1 or utf-16, got {_shown(read['encoding'])}.")
    fmt = read.get("date_format")
    if fmt is not None and not (isinstance(fmt, str) and "%" in fmt and _duckdb_accepts_date_format(fmt)):
        raise DataContractError("bad_mapping", f"{where}.date_format must be a format such as '%d/%m/%Y' (codes: %d "
                                               f"day, %m month, %Y year, %H:%M:%S time), got {_shown(fmt)}.")
    sheet = read.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int)) or sheet == ""
                              or (isinstance(sheet, int) and sheet < 0)):
        raise DataContractError("bad_mapping", f"{where}.sheet must be a sheet name or its position (0 for the "
                                               f"first), got {_shown(sheet)}.")
    return read


def _is_text_encoding(name) -> bool:
    """Is ``name`` a text encoding Python knows? (The codec lookup of ``str.encode``, which also
    refuses bytes-to-bytes codecs such as base64.)"""
    try:
        "a".encode(name)
    except (LookupError, TypeError):
        return False
    return True


def _duckdb_accepts_date_format(fmt: str) -> bool:
    """Does DuckDB's strptime, which parses the dates, know every code of ``fmt``?"""
    with duckdb.connect() as con:
        try:
            con.execute(f"SELECT try_strptime('', {_lit(fmt)})")
        except duckdb.InvalidInputException:
            return False
    return True


def _date_option(value, where: str) -> dt.date | None:
    """A date option: a YAML date, or text YYYY-MM-DD (None: not set)."""
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DataContractError("bad_mapping", f"{where} must be a date YYYY-MM-DD (e.g. 2025-12-31), got "
                                               f"{_shown(value)}.") from None


def _shown(value) -> str:
    """A mapping value as quoted in a message: its YAML type and a short repr."""
    if value is None:
        return "nothing"
    kinds = {dict: "a mapping", list: "a list", str: "the text", bool: "the boolean", int: "the number",
             float: "the number"}
    text = repr(value)
    return f"{kinds.get(type(value), type(value).__name__)} {text[:60] + '...' if len(text) > 60 else text}"


def _resolve(path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else REPO_ROOT / path


# ---------------------------------------------------------------- the report

@dataclass
class TableReport:
    """What happened to one table on the way in."""

    table: str
    file: str
    format: str
    rows_read: int = 0
    rows_kept: int = 0
    excluded: dict[str, int] = field(default_factory=dict)    # reason -> rows
    assumptions: list[str] = field(default_factory=list)
    returns: int = 0
    returns_amount: float = 0.0


@dataclass
class DataQualityReport:
    """The data quality report of one load: a TableReport per table, ignored files, missing tables."""

    source: str
    mapping: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per table: file, rows read, kept, excluded, returns."""
        rows = [{"table": t.table, "file": t.file, "rows read": t.rows_read, "rows kept": t.rows_kept,
                 "rows excluded": t.rows_read - t.rows_kept, "returns": t.returns} for t in self.tables.values()]
        return pd.DataFrame(rows)

    def exclusions(self) -> pd.DataFrame:
        """Every excluded row counted by table and reason (a row may break several rules)."""
        rows = [{"table": t.table, "reason": reason, "rows": n} for t in self.tables.values()
                for reason, n in t.excluded.items()]
        return pd.DataFrame(rows, columns=["table", "reason", "rows"])

    def assumptions(self) -> list[str]:
        return [f"{t.table}: {a}" for t in self.tables.values() for a in t.assumptions]

    def to_dict(self) -> dict:
        return {"source": self.source, "mapping": self.mapping, "missing_tables": self.missing_tables,
                "tables": {name: {"file": t.file, "rows_read": t.rows_read, "rows_kept": t.rows_kept,
                                  "excluded": t.excluded, "returns": t.returns,
                                  "returns_amount": round(t.returns_amount, 2)} for name, t in self.tables.items()}}

    def __str__(self) -> str:
        lines = [f"Data quality report: {self.source} (mapping: {self.mapping})"]
        for t in self.tables.values():
            lines.append(f"- {t.table} from {t.file}: {t.rows_read:,} rows read, {t.rows_kept:,} kept")
            lines += [f"    excluded {n:,}: {reason}" for reason, n in t.excluded.items()]
            if t.returns:
                lines.append(f"    {t.returns:,} returns (negative amounts, {t.returns_amount:,.2f} EUR) kept and "
                             "netted in revenue")
            lines += [f"    assumed: {a}" for a in t.assumptions]
        if self.missing_tables:
            lines.append(f"- absent (their sections are skipped): {', '.join(self.missing_tables)}")
        if self.ignored_files:
            lines.append(f"- ignored files: {', '.join(self.ignored_files)}")
        return "\n".join(lines)


# ---------------------------------------------------------------- the loaded data

@dataclass
class Dataset:
    """Contract tables loaded into one DuckDB database, with their quality report."""

    con: ibis.BaseBackend
    tables: dict[str, ibis.Table]
    report: DataQualityReport
    source: Path

    def has(self, name: str, *columns: str) -> bool:
        """Is table ``name`` present, with every one of ``columns``?"""
        return name in self.tables and set(columns) <= set(self.tables[name].columns)

    def table(self, name: str) -> ibis.Table:
        if name not in self.tables:
            raise KeyError(f"table {name!r} was not loaded from {relative_to_repo(self.source)}; "
                           f"loaded: {', '.join(self.tables)}")
        return self.tables[name]

    def frame(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A (small) table as pandas; dates as datetime64."""
        table = self.table(name)
        df = (table.select(columns) if columns else table).to_pandas()
        for col, dtype in table.schema().items():
            if dtype.is_date() and col in df:
                df[col] = pd.to_datetime(df[col]).astype("datetime64[ms]")
        return df

    def on_engine(self, engine: str) -> "Dataset":
        """The same data with the transaction log on another Ibis backend (``features.connect``):
        the checked table is written once to Parquet and read there, so every transaction-level
        expression runs on that engine; the small tables stay in DuckDB."""
        if engine == "duckdb" or "transactions" not in self.tables:
            return self
        from helpers import features
        folder = Path(tempfile.mkdtemp(prefix="relation-playbooks-engine-"))
        path = folder / "transactions.parquet"
        self.tables["transactions"].to_parquet(path)
        remote = features.read_table(features.connect(engine), path, "transactions")
        moved = Dataset(self.con, {**self.tables, "transactions": remote}, self.report, self.source)
        weakref.finalize(moved, shutil.rmtree, folder, ignore_errors=True)   # the copy lives as long as the data
        return moved

    def skip_unless(self, name: str, *columns: str, section: str) -> bool:
        """True if the table and columns are there; otherwise print a visible note and return False."""
        if self.has(name, *columns):
            return True
        need = f"{name}" + (f" with {', '.join(columns)}" if columns else "")
        print(f"Skipped: {section} needs the table {need}, which this data does not have.")
        return False


def connect(memory_limit: str = "2GB") -> ibis.BaseBackend:
    """An in-memory DuckDB (through Ibis) that spills to disk beyond ``memory_limit``."""
    con = ibis.duckdb.connect(temp_directory=duckdb_spill_dir())
    _sql(con, f"SET memory_limit = '{memory_limit}'")
    return con


def load_tables(data_dir: str | Path, mapping: str | Path | dict | None = None, latest_date: dt.date | None = None,
                con: ibis.BaseBackend | None = None, required: tuple[str, ...] = REQUIRED_TABLES) -> Dataset:
    """Read the contract tables found in ``data_dir`` (files named after the tables, or named in
    the mapping), validate them and load them into DuckDB. ``latest_date``: later dates are
    refused as being in the future (default: the mapping's options.latest_date, else today).
    ``required``: the tables the analysis cannot do without (transactions by default; uplift
    needs contacts and campaigns instead)."""
    data_dir = _resolve(data_dir)
    if not data_dir.is_dir():
        raise DataContractError("missing_table", f"data folder {data_dir} does not exist.")
    with _permission_denied_is_unreadable(data_dir):
        spec, mapping_source = read_mapping(data_dir, mapping)
        latest = latest_date or spec.latest_date or dt.date.today()
        con = con or connect()
        files, ignored = _locate(data_dir, spec, required)
        report = DataQualityReport(relative_to_repo(data_dir), mapping_source, ignored_files=ignored,
                                   missing_tables=[t for t in LOAD_ORDER if t not in files])
        with tempfile.TemporaryDirectory(prefix="relation-playbooks-") as tmp:
            raws = {name: _read_raw(con, name, files[name], spec.tables.get(name, TableMapping()), Path(tmp))
                    for name in LOAD_ORDER if name in files}
    id_types = _id_types(con, raws)
    tables = {}
    for name, raw in raws.items():
        tables[name] = _load_table(con, TABLES[name], raw, spec, id_types, latest, tables)
        report.tables[name] = raw.report
    return Dataset(con, tables, report, data_dir)


# ---------------------------------------------------------------- finding and reading files

@contextmanager
def _permission_denied_is_unreadable(data_dir: Path):
    """A file or folder the system will not let us read (the mapping, the data folder, an export)
    is refused as 'unreadable', naming it."""
    try:
        yield
    except PermissionError as exc:
        folder_denied = not os.access(data_dir, os.R_OK | os.X_OK)     # then every file inside is denied too
        denied = relative_to_repo(data_dir if folder_denied or not exc.filename else Path(exc.filename))
        raise DataContractError("unreadable", f"{denied}: permission denied, so it cannot be read. Give the user "
                                              f"running the analysis read access (e.g. chmod -R a+rX "
                                              f"{relative_to_repo(data_dir)}) or copy the data to a folder of "
                                              "theirs.") from exc


def _locate(data_dir: Path, spec: Mapping, required: tuple[str, ...]) -> tuple[dict[str, Path], list[str]]:
    """Each table's file: named in the mapping, else ``<table>.<csv|parquet|xlsx>`` (any case)."""
    files, by_table = {}, {}
    for path in sorted(p for p in data_dir.iterdir() if p.is_file()):
        if path.suffix.lower() in FORMATS and path.stem.lower() in TABLES:
            by_table.setdefault(path.stem.lower(), []).append(path)
    for name in TABLES:
        named = spec.tables.get(name, TableMapping()).file
        if named:
            path = data_dir / named
            if not path.exists():
                raise DataContractError("bad_mapping", f"mapping tables.{name}.file: {named} is not in "
                                                       f"{relative_to_repo(data_dir)}.")
            files[name] = path
        elif len(by_table.get(name, [])) > 1:
            raise DataContractError("ambiguous_file", f"{relative_to_repo(data_dir)} holds several files for "
                                                      f"{name}: {', '.join(p.name for p in by_table[name])}; keep one "
                                                      f"or name it in the mapping (tables.{name}.file).")
        elif by_table.get(name):
            files[name] = by_table[name][0]
    for name in required:
        if name not in files:
            raise DataContractError("missing_table", f"{relative_to_repo(data_dir)} has no {name} file, which this "
                                                     f"analysis needs: name one {name}.csv, .parquet or .xlsx, or set "
                                                     f"tables.{name}.file in the mapping.")
    used = {p.name for p in files.values()} | {"mapping.yml"}
    ignored = sorted(p.name for p in data_dir.iterdir() if p.is_file() and p.name not in used
                     and not p.name.startswith("."))
    return files, ignored


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


def _read_raw(con, table: str, path: Path, spec: TableMapping, tmp: Path) -> RawTable:
    """Read ``path`` into DuckDB as ``raw_<table>``: ``__line`` plus the file's columns under their
    contract names (text cells stay text until parsed)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataContractError("unreadable", f"{path.name}: unknown format {path.suffix!r}; use .csv, .parquet "
                                              "or .xlsx.")
    if path.stat().st_size == 0:
        raise DataContractError("empty_file", f"{path.name} is empty (0 bytes): export {table} again.")
    report = TableReport(table, path.name, fmt)
    name, options = f"raw_{table}", dict(spec.read)
    names = lambda columns: _contract_names(path, TABLES[table], columns, spec.columns, report)  # noqa: E731
    try:
        if fmt == "csv":
            columns = _read_csv(con, name, path, options, report, tmp, names)
        elif fmt == "parquet":
            source = [c for c in _describe(con, f"SELECT * FROM read_parquet({_lit(path)})")]
            columns = names(source)
            select = ", ".join(f"{_id(c)} AS {_id(t)}" for c, t in zip(source, columns))
            _sql(con, f"CREATE OR REPLACE VIEW {name} AS SELECT row_number() OVER () AS __line, {select} "
                      f"FROM read_parquet({_lit(path)})")
        else:
            columns = _read_excel(con, name, path, options, names)
    except duckdb.Error as exc:
        hint = " (an unclosed quote, or a row with more fields than the header?)" if fmt == "csv" else ""
        raise DataContractError("unreadable", f"{path.name} cannot be read as {fmt}: {_first_line(exc)}{hint}") from exc
    rows = _sql(con, f"SELECT count(*) FROM {name}")[0][0]
    if rows == 0:
        raise DataContractError("no_rows", f"{path.name} has a header but no rows: export {table} again.")
    report.rows_read = rows
    line_word = {"csv": "line", "parquet": "row", "excel": "Excel row"}[fmt]
    return RawTable(name, path, fmt, columns, options, spec.values, report, line_word)


def _read_csv(con, name: str, path: Path, options: dict, report: TableReport, tmp: Path, names) -> list[str]:
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
        raise DataContractError("wrong_separator", f"{path.name}: with separator {sep!r} the header reads as one "
                                                   f"column {header[:60]!r}; the file seems to use {others[0]!r}. "
                                                   f"Set read.sep: {others[0]!r} in the mapping.")
    columns = names(fields)
    struct = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in columns) + "}"
    _sql(con, f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () + 1 AS __line, * FROM read_csv("
              f"{_lit(utf8)}, delim={_lit(sep)}, header=true, quote='\"', escape='\"', auto_detect=false, "
              f"columns={struct})")
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
        report.assumptions.append("not UTF-8: read as Windows-1252 (cp1252), the encoding of French Excel "
                                  "exports; set read.encoding to override")
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
                bad_line = line + block[:exc.start].count(b"\n")
                raise DataContractError("encoding", f"{path.name}, line {bad_line}: bytes that are not {encoding} "
                                                    f"({block[exc.start:exc.start + 4]!r}); set read.encoding to "
                                                    "the file's encoding (utf-8, cp1252, latin-1...).") from exc
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
                raise DataContractError("encoding", f"{path.name} mixes two encodings: line {utf8_line} is UTF-8, "
                                                    f"line {bad_line} is not (probably cp1252). Re-export the file "
                                                    "in one encoding (UTF-8).")


def _sniff_separator(header: str) -> str:
    counts = {s: len(next(csv.reader([header], delimiter=s))) - 1 for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _read_excel(con, name: str, path: Path, options: dict, names) -> list[str]:
    """An .xlsx sheet with every cell as text (dates as ISO), so parsing is the same as for CSV."""
    try:
        df = pd.read_excel(path, sheet_name=options.get("sheet", 0), dtype=object, engine="openpyxl")
    except (ValueError, KeyError, OSError) as exc:
        raise DataContractError("unreadable", f"{path.name} cannot be read as Excel: {exc}") from exc
    columns = names([str(c) for c in df.columns])
    text = pd.DataFrame({t: df[c].map(_excel_text).astype("string") for c, t in zip(df.columns, columns)})
    con.con.register("__excel", text)
    _sql(con, f"CREATE OR REPLACE TABLE {name} AS SELECT row_number() OVER () + 1 AS __line, * FROM __excel")
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


def _contract_names(path: Path, table: Table, columns: list[str], renames: dict[str, str],
                    report: TableReport) -> list[str]:
    """The file's column names on the contract: the mapping's renames first, then names equal to a
    contract column once normalised ('Customer ID' -> customer_id); others kept. Refuses a missing
    required column, naming the columns the file has."""
    missing_sources = [src for src in renames if src not in columns]
    if missing_sources:
        raise DataContractError("bad_mapping", f"{path.name}: the mapping renames column(s) {missing_sources} that the "
                                               f"file does not have; its columns: {columns}.")
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
    missing = [c for c in table.required if c not in targets]
    if missing:
        raise DataContractError("missing_column", f"{path.name}, column {missing[0]}: required column(s) {missing} "
                                                  f"missing; the file has {columns}. Rename it in the file or map it "
                                                  f"in the mapping (tables.{table.name}.columns: {{'Your name': "
                                                  f"{missing[0]}}}).")
    return targets


# ---------------------------------------------------------------- parsing and rules

def _id_types(con, raws: dict[str, RawTable]) -> dict[str, str]:
    """One type per id name across tables: BIGINT when every value in every table is a whole
    number without leading zeros, else VARCHAR (so joins between tables always work)."""
    verdict: dict[str, bool] = {}
    for table, raw in raws.items():
        source_types = _describe(con, raw.name)
        for column in TABLES[table].columns:
            if column.kind != "id" or column.name not in raw.columns:
                continue
            if source_types[column.name] in INTEGER_TYPES:    # typed at the source: whole numbers
                verdict.setdefault(column.name, True)
                continue
            v = _text(column.name)
            bad = _sql(con, f"SELECT count(*) FROM {raw.name} WHERE {v} IS NOT NULL AND "
                              f"(TRY_CAST({v} AS BIGINT) IS NULL OR regexp_full_match({v}, '0[0-9]+'))")[0][0]
            verdict[column.name] = verdict.get(column.name, True) and bad == 0
    return {name: "BIGINT" if ok else "VARCHAR" for name, ok in verdict.items()}


def _text(column: str) -> str:
    return f"NULLIF(trim(CAST({_id(column)} AS VARCHAR)), '')"


@dataclass
class Rule:
    """A row-level rule: rows where ``condition`` holds break it."""

    category: str
    column: str
    reason: str
    condition: str
    raw: str                      # the SQL of the raw cell shown in messages
    fix: str


def _load_table(con, table: Table, raw: RawTable, spec: Mapping, id_types: dict[str, str], latest: dt.date,
                loaded: dict[str, ibis.Table]) -> ibis.Table:
    report = raw.report
    types = _describe(con, f"{raw.name}")
    decimal = _decimal(con, raw, table, types)
    parsed, rules, raw_copies = [], [], []
    for col in raw.columns:
        expr, col_rules, identity = _parse(con, raw, table.column(col), col, types[col], decimal, id_types, latest)
        parsed.append(f"{expr} AS {_id(col)}")
        rules += col_rules
        if not identity:                       # the raw text, for messages about cells that failed
            raw_copies.append(f"{_id(col)} AS {_id('__raw_' + col)}")
    _sql(con, f"CREATE OR REPLACE TABLE parsed_{table.name} AS SELECT __line, {', '.join(parsed + raw_copies)} "
              f"FROM {raw.name}")
    key_repeats = _key_repeats(con, table, raw.columns)
    key_rules = _key_rules(table, raw.columns) if key_repeats else []
    if key_rules:
        flags = ", ".join(f"{r.condition} AS __key_{i}" for i, r in enumerate(key_rules))
        _sql(con, f"CREATE OR REPLACE TABLE parsed_{table.name} AS SELECT *, {flags} FROM parsed_{table.name}")
        rules += [replace(r, condition=f"__key_{i}") for i, r in enumerate(key_rules)]
    rules += [Rule("unknown_reference", col, f"{col} not in {ref_table}",
                   f"{_id(col)} IS NOT NULL AND {_id(col)} NOT IN (SELECT {_id(ref_col)} FROM {ref_table} "
                   f"WHERE {_id(ref_col)} IS NOT NULL)", _id(col),
                   f"every {col} must exist in {ref_table}: export matching files, or drop these rows")
              for col, (ref_table, ref_col) in table.references.items()
              if col in raw.columns and ref_table in loaded and ref_col in loaded[ref_table].columns]
    _apply_rules(con, table, raw, rules, spec.max_excluded_share)
    keep = ", ".join(_id(c) for c in raw.columns)
    flagged = " OR ".join(f"({r.condition})" for r in rules) or "false"
    _sql(con, f"CREATE OR REPLACE TABLE kept_{table.name} AS SELECT __line, {keep} FROM parsed_{table.name} "
                f"WHERE NOT coalesce({flagged}, false)")
    report.rows_kept = _sql(con, f"SELECT count(*) FROM kept_{table.name}")[0][0]
    final = f"kept_{table.name}"
    if table.name == "transactions" and key_repeats:
        final = _merge_order_lines(con, raw.columns, report)
    if table.name == "consents" and (key_repeats or _preferences_repeat(con, raw.columns)):
        final = _resolve_consent_history(con, raw.columns, report)
    pii = [c for c in PERSONAL_COLUMNS if c in raw.columns and table.name == "customers"]
    select = ", ".join(_pseudonym(c, spec.salt) if spec.pseudonymise and c in pii else _id(c) for c in raw.columns)
    if spec.pseudonymise and pii:
        report.assumptions.append(f"direct identifiers {pii} replaced by salted SHA-256 pseudonyms")
    _sql(con, f"CREATE OR REPLACE TABLE {table.name} AS SELECT {select} FROM {final} ORDER BY __line")
    for temp in (f"parsed_{table.name}", f"kept_{table.name}", "orders_merged", "consents_resolved"):
        _sql(con, f"DROP TABLE IF EXISTS {temp}")
    result = con.table(table.name)
    if "amount" in raw.columns and table.name == "transactions":
        n, total = _sql(con, f"SELECT count(*), sum(amount) FROM {table.name} WHERE amount < 0")[0]
        report.returns, report.returns_amount = int(n), float(total or 0.0)
    _pandera_gate(table, result, latest, raw.path)
    return result


def _decimal(con, raw: RawTable, table: Table, types: dict[str, str]) -> str:
    """The file's decimal mark: given, else detected from its numeric columns' text."""
    if raw.options.get("decimal"):
        return raw.options["decimal"]
    numeric = [c for c in raw.columns if table.column(c) and table.column(c).kind in ("amount", "number", "integer")
               and types[c] == "VARCHAR"]
    if not numeric:
        return "."
    sample = " UNION ALL ".join(f"SELECT {_text(c)} AS v FROM (SELECT * FROM {raw.name} LIMIT {SAMPLE_ROWS})"
                                for c in numeric)
    comma, dot = _sql(con, 
        f"SELECT count(*) FILTER (WHERE regexp_full_match(v, '[-+]?[0-9 .\u00a0\u202f]*[0-9],[0-9]{{1,2}}')), "
        f"count(*) FILTER (WHERE regexp_full_match(v, '[-+]?[0-9,]*[0-9][.][0-9]{{1,2}}')) FROM ({sample})")[0]
    if comma > dot:
        raw.report.assumptions.append(f"decimal comma (detected: {comma:,} numbers like 12,50 against {dot:,} like "
                                      "12.50); set read.decimal to override")
        return ","
    return "."


def _number_sql(v: str, decimal: str) -> str:
    """Text to DOUBLE: currency signs and spaces dropped, thousands groups (1.234,5 / 1,234.5) and
    the decimal mark handled; anything else gives NULL."""
    clean = f"regexp_replace({v}, '[\\s\u00a0\u202f€$£]', '', 'g')"
    if decimal == ",":
        text = (f"CASE WHEN regexp_full_match({clean}, '[-+]?[0-9]{{1,3}}([.][0-9]{{3}})+(,[0-9]*)?') "
                f"THEN replace(replace({clean}, '.', ''), ',', '.') ELSE replace({clean}, ',', '.') END")
    else:
        text = (f"CASE WHEN regexp_full_match({clean}, '[-+]?[0-9]{{1,3}}(,[0-9]{{3}})+([.][0-9]*)?') "
                f"THEN replace({clean}, ',', '') ELSE {clean} END")
    number = f"TRY_CAST({text} AS DOUBLE)"
    return f"CASE WHEN isfinite({number}) THEN {number} END"


def _parse(con, raw: RawTable, column, col: str, source_type: str, decimal: str, id_types: dict[str, str],
           latest: dt.date) -> tuple[str, list[Rule], bool]:
    """SQL turning the raw column into its contract type, the rules its cells must keep, and
    whether the column is taken as it is (already typed: nothing to parse, nothing can fail)."""
    shown, v = _id(col), _text(col)
    if column is None:                           # the analyst's own extra column: kept as it is
        return shown, [], True
    kind, fmt, failure = column.kind, None, None  # failure: (category, reason, fix) when parsing can fail
    if kind == "id":
        integer = id_types.get(col) == "BIGINT"
        typed = shown if source_type == "BIGINT" else f"CAST({shown} AS BIGINT)"
        expr = (typed if source_type in INTEGER_TYPES else f"TRY_CAST({v} AS BIGINT)") if integer else v
    elif kind == "text":
        expr = v
    elif kind == "label":
        mapped = _value_map(v, raw.values.get(col, {}))
        expr = f"CASE WHEN lower({mapped}) IN ({', '.join(map(_lit, column.values))}) THEN lower({mapped}) END"
        failure = ("unknown_value", f"{col} not one of {', '.join(column.values)}",
                   f"allowed values: {', '.join(column.values)}; map yours in the mapping, e.g. "
                   f"tables.{raw.report.table}.values.{col}: {{'your value': '{column.values[0]}'}}")
    elif kind == "boolean":
        mapped = f"lower({_value_map(v, raw.values.get(col, {}))})"
        expr = shown if source_type == "BOOLEAN" else (
            f"CASE WHEN {mapped} IN ({', '.join(map(_lit, TRUE_WORDS))}) THEN true "
            f"WHEN {mapped} IN ({', '.join(map(_lit, FALSE_WORDS))}) THEN false END")
        failure = ("not_a_boolean", f"{col} is not yes/no", "use true/false, yes/no, oui/non or 1/0")
    elif kind in ("amount", "number", "integer"):
        numeric = source_type in NUMERIC_TYPES or source_type.startswith("DECIMAL")
        number = (shown if source_type == "DOUBLE" else f"CAST({shown} AS DOUBLE)") if numeric else _number_sql(v, decimal)
        expr = number if kind != "integer" else (
            shown if source_type == "BIGINT" else f"CASE WHEN {number} = round({number}) THEN CAST({number} AS BIGINT) END")
        hint = (f"numbers were read with the decimal mark {decimal!r}; set read.decimal if the file uses the other, "
                "and remove text from the column") if kind != "integer" else (
                f"use whole numbers (numbers were read with the decimal mark {decimal!r})")
        failure = ("not_a_number", f"{col} is not a {'whole ' if kind == 'integer' else ''}number", hint)
    elif kind == "date":
        if source_type == "DATE":
            expr = shown
        elif source_type.startswith("TIMESTAMP"):
            expr = f"CAST({shown} AS DATE)"
        else:
            fmt = raw.options.get("date_format") or _date_format(con, raw, col)
            expr = f"CAST(TRY_STRPTIME({v}, {_lit(fmt)}) AS DATE)"
        failure = ("not_a_date", f"{col} is not a date" + (f" in the format {fmt}" if fmt else ""),
                   f"dates were read with the format {fmt}; set read.date_format (e.g. '%d/%m/%Y') if the file "
                   "uses another")
    else:
        raise ValueError(f"unknown column kind {kind!r}")

    identity = expr == shown
    raw_ref = shown if identity else _id(f"__raw_{col}")
    rules = []
    if column.required:
        empty = f"{raw_ref} IS NULL" if identity else f"NULLIF(trim(CAST({raw_ref} AS VARCHAR)), '') IS NULL"
        rules.append(Rule("missing_value", col, f"{col} is empty", empty, raw_ref,
                          "fill these cells or drop the rows before loading"))
    if failure and not identity:
        category, reason, fix = failure
        rules.append(Rule(category, col, reason, f"{shown} IS NULL AND NULLIF(trim(CAST({raw_ref} AS VARCHAR)), '') "
                                                 "IS NOT NULL", raw_ref, fix))
    if kind == "date":
        rules.append(Rule("date_out_of_range", col, f"{col} before {EARLIEST_DATE} or after {latest} (in the future)",
                          f"{shown} < DATE '{EARLIEST_DATE}' OR {shown} > DATE '{latest}'", raw_ref,
                          "check the day/month order of the dates and the export's period"))
    return expr, rules, identity


def _value_map(v: str, values: dict) -> str:
    if not values:
        return v
    cases = " ".join(f"WHEN {_lit(str(k))} THEN {_lit(str(t))}" for k, t in values.items())
    return f"(CASE {v} {cases} ELSE {v} END)"


def _date_format(con, raw: RawTable, col: str) -> str:
    """The date format that parses most of a sample of the column; day/month order ties are
    settled by the file's conventions (decimal comma or ';' -> day first), and said."""
    v = _text(col)
    counts = _sql(con, "SELECT " + ", ".join(f"count(TRY_STRPTIME(v, {_lit(f)}))" for f in DATE_FORMATS)
                         + f" FROM (SELECT {v} AS v FROM {raw.name} WHERE {v} IS NOT NULL LIMIT {SAMPLE_ROWS})"
                         )[0]
    best = max(counts)
    candidates = [f for f, n in zip(DATE_FORMATS, counts) if n == best]
    fmt = candidates[0]
    if {"%d/%m/%Y", "%m/%d/%Y"} <= set(candidates):
        french = raw.options.get("sep") == ";" or raw.options.get("decimal") == ","
        fmt = "%d/%m/%Y" if french else "%m/%d/%Y"
        raw.report.assumptions.append(f"{col}: day and month are ambiguous in every date; assumed {fmt} "
                                      f"({'French' if french else 'US'} conventions); set read.date_format to override")
    elif fmt != "%Y-%m-%d":
        raw.report.assumptions.append(f"{col}: dates in the format {fmt} (detected)")
    return fmt


def _key_repeats(con, table: Table, columns: list[str]) -> bool:
    """Does any key value appear on more than one row? (Cheap; the key rules need windows.)"""
    if not table.key or not set(table.key) <= set(columns):
        return False
    key = ", ".join(_id(k) for k in table.key)
    total, distinct = _sql(con, f"SELECT count(*), count(DISTINCT ({key})) FROM parsed_{table.name} "
                                f"WHERE {' AND '.join(f'{_id(k)} IS NOT NULL' for k in table.key)}")[0]
    return total > distinct


def _key_rules(table: Table, columns: list[str]) -> list[Rule]:
    """Rows repeating an earlier row exactly are duplicates; rows sharing a key but disagreeing
    are refused as duplicate ids (transactions: lines of one order share customer and date).
    Conditions use window functions: the caller computes them as columns first."""
    key = [k for k in table.key if k in columns]
    if len(key) != len(table.key):
        return []
    part = ", ".join(_id(k) for k in key)
    every = ", ".join(_id(c) for c in columns)
    not_null = " AND ".join(f"{_id(k)} IS NOT NULL" for k in key)
    rules = [Rule("duplicate_id", ", ".join(key), "exact duplicate of an earlier row",
                  f"{not_null} AND row_number() OVER (PARTITION BY {part}, hash({every}) ORDER BY __line) > 1",
                  _id(key[0]), "remove the repeated rows (a file exported twice?)")]
    if table.name == "transactions":
        differs = ("min(customer_id) OVER w IS DISTINCT FROM max(customer_id) OVER w OR "
                   "min(order_date) OVER w IS DISTINCT FROM max(order_date) OVER w")
        rules.append(Rule("duplicate_id", "order_id", "order_id shared by different customers or dates",
                          f"{not_null} AND ({differs.replace('OVER w', f'OVER (PARTITION BY {part})')})",
                          _id("order_id"), "each order_id must belong to one customer and one date: check "
                                                 "for merged exports or recycled order numbers"))
    elif table.name != "consents":            # a consent history is resolved, not cut: _resolve_consent_history
        rules.append(Rule("duplicate_id", ", ".join(key), f"{', '.join(key)} repeated with different values "
                          "(the first row is kept)",
                          f"{not_null} AND row_number() OVER (PARTITION BY {part} ORDER BY __line) > 1 AND "
                          f"min(hash({every})) OVER (PARTITION BY {part}) != max(hash({every})) OVER (PARTITION BY {part})",
                          _id(key[0]), f"keep one row per {', '.join(key)}"))
    return rules


def _apply_rules(con, table: Table, raw: RawTable, rules: list[Rule], max_share: float) -> None:
    """Count each rule's rows; refuse the load when one exceeds ``max_share`` of the table,
    else record the exclusions."""
    if not rules:
        return
    counts = _sql(con, "SELECT " + ", ".join(f"count(*) FILTER (WHERE coalesce({r.condition}, false))"
                                               for r in rules) + f" FROM parsed_{table.name}")[0]
    n = raw.report.rows_read
    broken = [(r, c) for r, c in zip(rules, counts) if c > 0]
    for rule, count in broken:
        if count > max_share * n:
            examples = _sql(con, f"SELECT __line, {rule.raw} FROM (SELECT *, coalesce({rule.condition}, false) AS "
                                   f"__hit FROM parsed_{table.name}) WHERE __hit ORDER BY __line LIMIT 5")
            shown = "; ".join(f"{raw.line_word} {line}: " + (repr(value) if value is not None else "(empty)")
                              for line, value in examples)
            others = [f"{r.reason} ({c:,})" for r, c in broken if r is not rule]
            raise DataContractError(rule.category, f"{raw.path.name}, column {rule.column}: {count:,} of {n:,} rows "
                                                   f"({count / n:.0%}) break the rule '{rule.reason}', more than the "
                                                   f"{max_share:.0%} that may be excluded. E.g. {shown}. Likely fix: "
                                                   f"{rule.fix}." + (f" Also: {'; '.join(others)}." if others else "")
                                                   + " Nothing was loaded; the file is unchanged.")
    for rule, count in broken:
        raw.report.excluded[f"{rule.reason}"] = raw.report.excluded.get(rule.reason, 0) + count


def _merge_order_lines(con, columns: list[str], report: TableReport) -> str:
    """Rows sharing order_id (same customer and date, checked by the rules) are lines of one order:
    amounts and margins are summed, other columns come from the largest line."""
    lines, orders = _sql(con, "SELECT count(*), count(DISTINCT order_id) FROM kept_transactions")[0]
    if lines == orders:
        return "kept_transactions"
    summed = {"amount", "margin"}
    select = ", ".join(f"sum({_id(c)}) AS {_id(c)}" if c in summed else
                       f"arg_max({_id(c)}, amount) AS {_id(c)}" for c in columns
                       if c not in ("order_id", "customer_id", "order_date"))
    _sql(con, f"CREATE OR REPLACE TABLE orders_merged AS SELECT min(__line) AS __line, order_id, customer_id, "
                f"order_date, {select} FROM kept_transactions GROUP BY order_id, customer_id, order_date")
    report.assumptions.append(f"{lines - orders:,} rows were further lines of an order (same order_id, customer and "
                              f"date): {lines:,} lines summed into {orders:,} orders")
    return "orders_merged"


def _preferences_repeat(con, columns: list[str]) -> bool:
    """Does a customer's preference centre (preferred channel, own monthly maximum) differ between
    their consent rows?"""
    fields = [c for c in ("preferred_channel", "max_contacts_per_month") if c in columns]
    return bool(fields) and _sql(con, "SELECT count(*) FROM (SELECT customer_id FROM kept_consents GROUP BY customer_id "
                                      "HAVING " + " OR ".join(f"count(DISTINCT {_id(c)}) > 1 OR (count({_id(c)}) > 0 "
                                                               f"AND count({_id(c)}) < count(*))" for c in fields)
                                 + ")")[0][0] > 0


def _resolve_consent_history(con, columns: list[str], report: TableReport) -> str:
    """Several rows per customer and channel, or preferences stated on some rows only: one row per
    customer and channel, settled by ``consents.resolve_consents`` (the latest row wins; the most
    restrictive when dates cannot order them), the customer's preference centre on each of their
    rows. The superseded rows are counted in the report with the reason, the conflicts in words."""
    kept = con.raw_sql("SELECT * FROM kept_consents ORDER BY __line").df()
    resolved = resolve_consents(kept[columns])
    first = kept.drop_duplicates(["customer_id", "channel"])[["__line", "customer_id", "channel"]]
    rows = first.merge(resolved.channels, on=["customer_id", "channel"], how="left")
    for name in ("preferred_channel", "max_contacts_per_month"):
        if name in columns:
            rows[name] = rows.customer_id.map(resolved.preferences[name])
    if "updated_at" in columns:
        rows["updated_at"] = rows.set_index(["customer_id", "channel"]).index.map(
            kept.groupby(["customer_id", "channel"]).updated_at.max())
    types = _describe(con, "kept_consents")
    con.create_table("consents_resolved_raw", rows.astype(object).where(rows.notna(), None), overwrite=True)
    _sql(con, "CREATE OR REPLACE TABLE consents_resolved AS SELECT __line, " + ", ".join(
        f"CAST({_id(c)} AS {types[c]}) AS {_id(c)}" for c in columns) + " FROM consents_resolved_raw")
    _sql(con, "DROP TABLE consents_resolved_raw")
    superseded = len(kept) - len(rows)
    if superseded:
        report.excluded["superseded by a later (or, undated, stricter) row for the same customer and channel"] = superseded
    report.rows_kept = len(rows)
    report.assumptions += [f"consent conflicts resolved: {sentence}" for sentence in resolved.sentences()]
    return "consents_resolved"


def _pseudonym(column: str, salt: str) -> str:
    return f"CASE WHEN {_id(column)} IS NULL THEN NULL ELSE substr(sha256({_lit(salt)} || {_id(column)}), 1, 16) END " \
           f"AS {_id(column)}"


def _pandera_gate(table: Table, result: ibis.Table, latest: dt.date, path: Path) -> None:
    """The last gate: the loaded table satisfies the contract's pandera schema (run in DuckDB)."""
    import pandera.errors

    schema = pandera_schema(table, dict(result.schema().items()), latest)
    try:
        schema.validate(result, lazy=True)
    except (pandera.errors.SchemaErrors, pandera.errors.SchemaError) as exc:
        raise DataContractError("unreadable", f"{path.name}: the loaded {table.name} table breaks the contract "
                                              f"schema after parsing (please report this): {exc}") from exc


def _sql(con, sql: str) -> list[tuple]:
    """Run ``sql`` on the DuckDB behind ``con`` and fetch every row (DuckDB 2 refuses new work
    while a result is pending)."""
    return con.raw_sql(sql).fetchall()


def _describe(con, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table or view."""
    return {name: typ for name, typ, *_ in _sql(con, f"DESCRIBE {relation}")}


def _id(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]

