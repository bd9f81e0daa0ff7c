"""The mapping: how an analyst's files map onto the contract (file names, column renames, reader
options, value maps, load options), checked key by key before any data is read.

    tables:
      transactions: {file: ventes.csv, columns: {Montant: amount}, read: {sep: ";", decimal: ","}}
    options: {pseudonymise: true, salt: "...", max_excluded_share: 0.01, latest_date: 2025-12-31, currency: GBP}

Keys are read as text, always: ``{yes: opt_in, no: opt_out}`` maps the cells 'yes' and 'no' (plain
YAML would make them booleans).
"""

from __future__ import annotations

import datetime as dt
import difflib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from helpers.data._sql import literal
from helpers.data.contract import CURRENCIES, FALSE_WORDS, ROW_CATEGORIES, TABLES, TRUE_WORDS, DataContractError, Table
from helpers.data.lines import LINE_KEYS, LineRules, read_line_rules
from helpers.paths import REPO_ROOT, relative_to_repo

READ_OPTIONS = {"sep", "decimal", "encoding", "date_format", "sheet", "header_row", "timezone"}
TABLE_KEYS = {"file", "columns", "read", "values"} | LINE_KEYS
OPTION_KEYS = {"pseudonymise", "salt", "max_excluded_share", "latest_date", "currency"}
DEFAULT_SHARE = 0.01


class _TextKeyLoader(yaml.SafeLoader):
    """YAML's safe loader with every mapping key kept as the text written (yes, no, on, 1, 2024-01-01)."""

    def construct_mapping(self, node, deep=False):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                key.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep=deep)


@dataclass
class TableMapping:
    """How one table's file maps onto the contract (all optional)."""

    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # file column -> contract column
    read: dict = field(default_factory=dict)  # sep, decimal, encoding, date_format, sheet, header_row, timezone
    values: dict[str, dict] = field(default_factory=dict)  # contract column -> {file value: contract value}
    lines: LineRules = field(default_factory=LineRules)  # derived columns, non-product lines, returns


@dataclass
class Mapping:
    """The whole mapping: a TableMapping per table, and the load options (pseudonymise with a
    secret ``salt``; the share of a table's rows a rule may exclude before the load is refused, by
    rule key ('missing_value.customer_id', 'duplicate_id'...) or 'default'; the latest date allowed;
    the ISO 4217 code of the amounts' currency)."""

    tables: dict[str, TableMapping] = field(default_factory=dict)
    pseudonymise: bool = False
    salt: str | None = None
    max_excluded_share: dict[str, float] = field(default_factory=lambda: {"default": DEFAULT_SHARE})
    latest_date: dt.date | None = None
    currency: str = "EUR"


def read_mapping(data_dir: Path, mapping: str | Path | dict | None) -> tuple[Mapping, str]:
    """The mapping (a dict, a YAML path, or ``mapping.yml`` beside the data) checked key by key,
    and where it came from. Every key and value is checked here, before any data is read."""
    given, source = _mapping_source(data_dir, mapping)
    top = source if source not in ("none", "given") else "mapping"
    at = f"{top}: " if top != "mapping" else "mapping "  # messages: 'exports/mapping.yml: tables...'
    given = given or {}
    if not isinstance(given, dict):
        raise DataContractError(
            "bad_mapping", f"{top} must be a mapping with 'tables' and 'options', got {_shown(given)}."
        )
    _keys(given, {"tables", "options"}, top)
    out = Mapping()
    tables = _keys(given.get("tables"), set(TABLES), f"{at}tables", "{table: {file, columns, read, values}}")
    for name, spec in tables.items():
        spec = _keys(spec, TABLE_KEYS, f"{at}tables.{name}")
        where = f"{at}tables.{name}"
        if spec.get("file") is not None and not (isinstance(spec["file"], str) and spec["file"]):
            raise DataContractError(
                "bad_mapping",
                f"{at}tables.{name}.file must be the name of a file in the data folder, got {_shown(spec['file'])}.",
            )
        out.tables[name] = TableMapping(
            spec.get("file"),
            _columns(TABLES[name], spec.get("columns"), at),
            _read_options(spec.get("read"), f"{at}tables.{name}.read"),
            _values(TABLES[name], spec.get("values"), at),
            read_line_rules(TABLES[name], spec, where),
        )
    _read_load_options(given.get("options"), at, out)
    return out, source


def repo_path(path: str | Path) -> Path:
    """``path``, a relative one taken from the repository root (never the caller's directory)."""
    path = Path(path)
    return path if path.is_absolute() else REPO_ROOT / path


def _mapping_source(data_dir: Path, mapping: str | Path | dict | None) -> tuple[object, str]:
    """The mapping as read (YAML parsed, not yet checked) and where it came from: its file
    relative to the repository, 'given' (a dict) or 'none'."""
    source = "none"
    if mapping is None and (data_dir / "mapping.yml").exists():
        mapping = data_dir / "mapping.yml"
    if isinstance(mapping, (str, Path)) and str(mapping):
        path = repo_path(mapping)
        if not path.exists():
            raise DataContractError("bad_mapping", f"mapping file {path} does not exist.")
        source = relative_to_repo(path)
        try:
            mapping = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextKeyLoader) or {}  # noqa: S506
        except yaml.YAMLError as exc:
            raise DataContractError("bad_mapping", f"{path.name} is not valid YAML: {exc}") from exc
    elif isinstance(mapping, dict):
        source = "given"
    return mapping, source


def _read_load_options(options, at: str, out: Mapping) -> None:
    """The mapping's ``options``, each within its domain, set on ``out``."""
    options = _keys(options, OPTION_KEYS, f"{at}options")
    pseudonymise = options.get("pseudonymise")
    if pseudonymise is not None and not isinstance(pseudonymise, bool):
        raise DataContractError(
            "bad_mapping", f"{at}options.pseudonymise must be true or false, got {_shown(pseudonymise)}."
        )
    out.pseudonymise = bool(pseudonymise)
    out.salt = options.get("salt")
    if out.salt is not None and not (isinstance(out.salt, str) and out.salt):
        raise DataContractError(
            "bad_mapping", f"{at}options.salt must be a secret text (quote it in YAML), got {_shown(out.salt)}."
        )
    out.max_excluded_share = _shares(options.get("max_excluded_share"), f"{at}options.max_excluded_share")
    currency = options.get("currency", out.currency)
    if not (isinstance(currency, str) and currency.upper() in CURRENCIES):
        raise DataContractError(
            "bad_mapping",
            f"{at}options.currency must be an ISO 4217 code such as EUR, GBP, USD or CHF, got {_shown(currency)}.",
        )
    out.currency = currency.upper()
    out.latest_date = _date_option(options.get("latest_date"), f"{at}options.latest_date")
    if out.pseudonymise and not out.salt:
        raise DataContractError(
            "bad_mapping",
            f"{at}options.pseudonymise needs options.salt (a secret string "
            "kept out of the report), so the same person gets the same pseudonym.",
        )


def _shares(given, where: str) -> dict[str, float]:
    """options.max_excluded_share: one share for every rule, or shares by rule key with a default."""
    shares = given if isinstance(given, dict) else {"default": DEFAULT_SHARE if given is None else given}
    shares = {"default": DEFAULT_SHARE, **shares}
    columns = {c.name for t in TABLES.values() for c in t.columns}
    for key, share in shares.items():
        category, _, column = str(key).partition(".")
        if key != "default" and (category not in ROW_CATEGORIES or (column and column not in columns)):
            raise DataContractError(
                "bad_mapping",
                f"{where}: unknown rule {key!r}; use 'default', a category ({', '.join(ROW_CATEGORIES)}) or "
                "category.column, e.g. {missing_value.customer_id: 0.3, default: 0.01}.",
            )
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise DataContractError(
                "bad_mapping",
                f"{where}{'.' + str(key) if isinstance(given, dict) else ''} must be a number from 0 to 1 "
                f"(0.01 for 1%), got {_shown(share)}; shares may also be given by rule, e.g. "
                "{missing_value.customer_id: 0.3, default: 0.01}.",
            )
    return {str(k): float(v) for k, v in shares.items()}


def _keys(spec, known: set[str], where: str, shape: str = "") -> dict:
    """``spec`` (None: empty) as a dict, refused unless it is a mapping whose keys are all known."""
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise DataContractError(
            "bad_mapping", f"{where} must be a mapping{' ' + shape if shape else ''}, got {_shown(spec)}."
        )
    unknown = sorted(map(str, set(spec) - known))
    if unknown:
        raise DataContractError("bad_mapping", f"{where}: unknown key(s) {unknown}; known: {sorted(known)}.")
    return spec


def _columns(table: Table, columns, at: str) -> dict[str, str]:
    """tables.<table>.columns: file column -> contract column. A name outside the contract is refused,
    naming the closest contract column (a typo would leave e-mails unpseudonymised); columns the
    mapping does not name are kept under their own names."""
    where = f"{at}tables.{table.name}.columns"
    known = sorted(c.name for c in table.columns)
    if columns is not None and not isinstance(columns, dict):
        raise DataContractError(
            "bad_mapping",
            f"{where} must be a mapping {{file column: contract column}}, e.g. "
            f"{{'Your name': {table.required[0]}}}, got {_shown(columns)}.",
        )
    renames = {str(source): target for source, target in (columns or {}).items()}
    for source, target in renames.items():
        if not isinstance(target, str) or target not in known:
            close = difflib.get_close_matches(str(target), known, 1, cutoff=0.6)
            raise DataContractError(
                "bad_mapping",
                f"{where}: {source!r} maps onto {_shown(target)}, which is not a column of {table.name}"
                + (f" (did you mean {close[0]}?)" if close else "")
                + f"; columns: {', '.join(known)}. A column left out of the mapping is kept under its own name.",
            )
    return renames


def _values(table: Table, values, at: str) -> dict[str, dict]:
    """tables.<table>.values: for a label or yes/no column, file value -> contract value."""
    where = f"{at}tables.{table.name}.values"
    mappable = [c.name for c in table.columns if c.kind in ("label", "boolean")]
    out = {}
    for name, pairs in _keys(values, set(mappable), where, "{column: {file value: contract value}}").items():
        column = table.contract_column(name)
        allowed = column.values if column.kind == "label" else TRUE_WORDS + FALSE_WORDS
        if not isinstance(pairs, dict):
            raise DataContractError(
                "bad_mapping", f"{where}.{name} must be a mapping {{file value: contract value}}, got {_shown(pairs)}."
            )
        for value, target in pairs.items():
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise DataContractError(
                    "bad_mapping",
                    f"{where}.{name}: the file value {_shown(value)} must be text, as written in the file "
                    "(unquoted yes, no, on, off are booleans in plain YAML: quote them).",
                )
            if str(target).lower() not in allowed:
                raise DataContractError(
                    "bad_mapping",
                    f"{where}.{name}: {value!r} maps onto {_shown(target)}; accepted: {', '.join(allowed)}.",
                )
        out[name] = dict(pairs)
    return out


def _read_options(read, where: str) -> dict:
    """tables.<table>.read: each reader option within its domain."""
    read = dict(_keys(read, READ_OPTIONS, where))
    sep = read.get("sep")
    if sep is not None and not (isinstance(sep, str) and len(sep) == 1 and sep not in '"\r\n'):
        raise DataContractError(
            "bad_mapping",
            f"{where}.sep must be one character such as ';', ',', '|' or a tab "
            f'("\\t" in double quotes), got {_shown(sep)}.',
        )
    if read.get("decimal") is not None and read["decimal"] not in (".", ","):
        raise DataContractError("bad_mapping", f"{where}.decimal must be '.' or ',', got {_shown(read['decimal'])}.")
    if read.get("encoding") is not None and not _is_text_encoding(read["encoding"]):
        raise DataContractError(
            "bad_mapping",
            f"{where}.encoding must be a text encoding Python knows, such as "
            f"utf-8, cp1252, latin-1 or utf-16, got {_shown(read['encoding'])}.",
        )
    fmt = read.get("date_format")
    if fmt is not None and not (isinstance(fmt, str) and "%" in fmt and _duckdb_accepts_date_format(fmt)):
        raise DataContractError(
            "bad_mapping",
            f"{where}.date_format must be a format such as '%d/%m/%Y' (codes: %d "
            f"day, %m month, %Y year, %H:%M:%S time), got {_shown(fmt)}.",
        )
    sheet = read.get("sheet")
    if sheet is not None and (
        isinstance(sheet, bool)
        or not isinstance(sheet, (str, int))
        or sheet == ""
        or (isinstance(sheet, int) and sheet < 0)
    ):
        raise DataContractError(
            "bad_mapping", f"{where}.sheet must be a sheet name or its position (0 for the first), got {_shown(sheet)}."
        )
    _layout_options(read, where)
    return read


def _layout_options(read: dict, where: str) -> None:
    """tables.<table>.read.header_row (the header's line or row, from 1) and .timezone (an IANA name)."""
    row = read.get("header_row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 1):
        raise DataContractError(
            "bad_mapping",
            f"{where}.header_row must be the header's line (CSV) or row (Excel) number, from 1, got {_shown(row)}.",
        )
    zone = read.get("timezone")
    if zone is not None:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, TypeError, ValueError):
            raise DataContractError(
                "bad_mapping",
                f"{where}.timezone must be a time zone such as 'Europe/Paris' or 'UTC', got {_shown(zone)}.",
            ) from None


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
            con.execute(f"SELECT try_strptime('', {literal(fmt)})")
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
        raise DataContractError(
            "bad_mapping", f"{where} must be a date YYYY-MM-DD (e.g. 2025-12-31), got {_shown(value)}."
        ) from None


def _shown(value) -> str:
    """A mapping value as quoted in a message: its YAML type and a short repr."""
    if value is None:
        return "nothing"
    kinds = {
        dict: "a mapping",
        list: "a list",
        str: "the text",
        bool: "the boolean",
        int: "the number",
        float: "the number",
    }
    text = repr(value)
    return f"{kinds.get(type(value), type(value).__name__)} {text[:60] + '...' if len(text) > 60 else text}"
