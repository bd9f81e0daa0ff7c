"""The SQL that turns raw text cells into their contract types: ids (whole numbers or text, one type
per id name across tables), numbers with either decimal mark and thousands groups, dates in a
detected or given format, yes/no words, labels through the mapping's value maps. A cell that
does not parse becomes NULL and breaks a rule naming it."""

from __future__ import annotations

import datetime as dt

import ibis

from helpers.data._sql import MISSING_WORDS, cell_text, cell_value, column_types, fetch, ident, literal
from helpers.data.contract import EARLIEST_DATE, FALSE_WORDS, TABLES, TRUE_WORDS, Column, DataContractError, Table
from helpers.data.dates import typed_date
from helpers.data.files import RawTable
from helpers.data.rules import Rule

SAMPLE_ROWS = 100_000  # rows sampled to detect the decimal mark and date formats
INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT")
NUMERIC_TYPES = ("DOUBLE", "FLOAT", *INTEGER_TYPES)
MISSING_KINDS = ("id", "amount", "number", "integer", "date")  # where N/A, NULL, '-'... are empty cells


def id_column_types(con: ibis.BaseBackend, raws: dict[str, RawTable]) -> dict[str, str]:
    """One type per id name across tables: BIGINT when every value in every table is a whole
    number without leading zeros ('17850.0' is 17850), else VARCHAR (so joins between tables
    always work; '57.5' stays the text '57.5', never a rounded 58)."""
    verdict: dict[str, bool] = {}
    for table, raw in raws.items():
        source_types = column_types(con, raw.name)
        for column in TABLES[table].columns:
            if column.kind != "id" or column.name not in raw.columns:
                continue
            if source_types[column.name] in INTEGER_TYPES:  # typed at the source: whole numbers
                verdict.setdefault(column.name, True)
                continue
            cells = f"SELECT {_id_text('v')} AS t, v FROM (SELECT {cell_value(column.name)} AS v FROM {raw.name})"
            bad, example = fetch(
                con,
                f"SELECT count(*), any_value(t) FROM ({cells}) WHERE t IS NOT NULL AND "
                f"NOT ({_is_excel_rounded('v')}) AND NOT regexp_full_match(t, '-?[1-9][0-9]{{0,17}}|0')",
            )[0]
            if bad and verdict.get(column.name, True):
                raw.report.assumptions.append(f"{column.name}: ids kept as text ({example!r} is not a whole number)")
            verdict[column.name] = verdict.get(column.name, True) and bad == 0
    return {name: "BIGINT" if ok else "VARCHAR" for name, ok in verdict.items()}


def _id_text(v: str) -> str:
    """SQL of an id cell's text ``v`` (SQL), written the same way in every table: a whole number
    written '17850.0' or '1.23456789012E+11' (every digit there) as '17850' and '123456789012'."""
    return (
        f"CASE WHEN NOT contains({v}, '.') THEN {v} "
        f"WHEN regexp_full_match({v}, '[-+]?[0-9]+[.]0+') THEN regexp_replace({v}, '^[+]|[.]0+$', '', 'g') "
        f"WHEN regexp_full_match({v}, {literal(_SCIENTIFIC)}) AND NOT ({_is_excel_rounded(v)}) "
        f"AND TRY_CAST({v} AS DOUBLE) = round(TRY_CAST({v} AS DOUBLE)) "
        f"THEN CAST(CAST(TRY_CAST({v} AS DOUBLE) AS HUGEINT) AS VARCHAR) ELSE {v} END"
    )


_SCIENTIFIC = "[-+]?[0-9]([.][0-9]+)?[eE][+]?[0-9]+"
_CELL = "__cell_"  # prefix of an id column's text computed once, so its long expressions read a column


def _is_excel_rounded(v: str) -> str:
    """SQL: is the cell a number in scientific notation with fewer digits than it has, such as
    Excel's '1.23456E+11' for 123456789012 (the lost digits cannot be recovered)?"""
    digits = f"length(coalesce(regexp_extract({v}, '[.]([0-9]+)', 1), ''))"
    exponent = f"TRY_CAST(regexp_extract({v}, '[eE][+]?([0-9]+)', 1) AS INTEGER)"
    full = f"coalesce(regexp_full_match({v}, {literal(_SCIENTIFIC)}) AND {digits} < {exponent}, false)"
    return f"(CASE WHEN contains(lower({v}), 'e') THEN {full} ELSE false END)"  # the cheap test first


def parse_table(
    con: ibis.BaseBackend, table: Table, raw: RawTable, id_types: dict[str, str], latest: dt.date
) -> list[Rule]:
    """``parsed_<table>``: ``__line``, every raw column in its contract type, and ``__raw_<column>``
    (the raw cells, for messages) of each column that was parsed; returns the rules its cells
    must keep. ``id_types``: from ``id_column_types``; ``latest``: the latest date allowed."""
    types = column_types(con, f"{raw.name}")
    decimal = _decimal(con, raw, table, types)
    parsed, rules, raw_copies = [], [], []
    for col in raw.columns:
        expr, col_rules, identity = _parse(con, raw, table.column(col), col, types[col], decimal, id_types, latest)
        parsed.append(f"{expr} AS {ident(col)}")
        rules += col_rules
        if not identity:  # the raw text, for messages about cells that failed
            raw_copies.append(f"{ident(col)} AS {ident('__raw_' + col)}")
    ids = [c for c in raw.columns if (spec := table.column(c)) and spec.kind == "id"]
    cells = ", ".join(f"{cell_value(c)} AS {ident(_CELL + c)}" for c in ids)
    fetch(
        con,
        f"CREATE OR REPLACE TABLE parsed_{table.name} AS SELECT __line, {', '.join(parsed + raw_copies)} "
        f"FROM (SELECT *{', ' + cells if cells else ''} FROM {raw.name})",
    )
    return rules


def _decimal(con, raw: RawTable, table: Table, types: dict[str, str]) -> str:
    """The file's decimal mark: given, else detected from its numeric columns' text."""
    if raw.options.get("decimal"):
        return raw.options["decimal"]
    numeric = [
        c
        for c in raw.columns
        if (spec := table.column(c)) and spec.kind in ("amount", "number", "integer") and types[c] == "VARCHAR"
    ]
    if not numeric:
        return "."
    sample = " UNION ALL ".join(
        f"SELECT {literal(c)} AS col, {cell_value(c)} AS v FROM (SELECT * FROM {raw.name} LIMIT {SAMPLE_ROWS})"
        for c in numeric
    )
    grouped = "regexp_full_match(v, '[-+]?[0-9]{1,3}([.][0-9]{3})+')"
    comma, dot, dotted, col, example = fetch(
        con,
        f"SELECT count(*) FILTER (WHERE regexp_full_match(v, '[-+]?[0-9 .\u00a0\u202f]*[0-9],[0-9]{{1,2}}')), "
        f"count(*) FILTER (WHERE regexp_full_match(v, '[-+]?[0-9,]*[0-9][.][0-9]{{1,2}}')), "
        f"count(*) FILTER (WHERE {grouped}), arg_max(col, {grouped}), arg_max(v, {grouped}) FROM ({sample})",
    )[0]
    if comma > dot:
        raw.report.assumptions.append(
            f"decimal comma (detected: {comma:,} numbers like 12,50 against {dot:,} like "
            "12.50); set read.decimal to override"
        )
        return ","
    if dot == 0 and dotted:  # only numbers such as 1.234: a thousands mark or a decimal point?
        if raw.options.get("sep") == ";":
            raw.report.assumptions.append(
                f"numbers such as {example!r} read as thousands ({dotted:,} of them): a dot groups thousands in a "
                "';' export, and no number has decimals; set read.decimal: '.' if it is a decimal point"
            )
            return ","
        raise DataContractError(
            "not_a_number",
            f"{raw.path.name}, column {col}: {dotted:,} numbers such as {example!r} read either as thousands (a dot "
            "grouping them) or with three decimals, and no number in the file tells which. Set read.decimal: ',' "
            f"(then {example!r} is {example.replace('.', '')}) or '.' (then it is {example}) in the mapping.",
        )
    return "."


def _number_sql(v: str, decimal: str) -> str:
    """Text to DOUBLE: currency signs and spaces dropped, thousands groups (1.234,5 / 1,234.5) and
    the decimal mark handled; anything else gives NULL."""
    clean = f"regexp_replace({v}, '[\\s\u00a0\u202f€$£]', '', 'g')"
    if decimal == ",":
        text = (
            f"CASE WHEN regexp_full_match({clean}, '[-+]?[0-9]{{1,3}}([.][0-9]{{3}})+(,[0-9]*)?') "
            f"THEN replace(replace({clean}, '.', ''), ',', '.') ELSE replace({clean}, ',', '.') END"
        )
    else:
        text = (
            f"CASE WHEN regexp_full_match({clean}, '[-+]?[0-9]{{1,3}}(,[0-9]{{3}})+([.][0-9]*)?') "
            f"THEN replace({clean}, ',', '') ELSE {clean} END"
        )
    number = f"TRY_CAST({text} AS DOUBLE)"
    return f"CASE WHEN isfinite({number}) THEN {number} END"


def _parse(
    con: ibis.BaseBackend,
    raw: RawTable,
    column: Column | None,
    col: str,
    source_type: str,
    decimal: str,
    id_types: dict[str, str],
    latest: dt.date,
) -> tuple[str, list[Rule], bool]:
    """SQL turning the raw column into its contract type, the rules its cells must keep, and
    whether the column is taken as it is (already typed: nothing to parse, nothing can fail)."""
    shown = ident(col)
    if column is None:  # the analyst's own extra column: kept as it is
        return shown, [], True
    expr, failure = _typed(con, raw, column, source_type, decimal, id_types)
    identity = expr == shown
    raw_col = f"__raw_{col}"
    raw_ref = shown if identity else ident(raw_col)
    rules = []
    if column.required:
        rules.append(_missing_rule(column, raw_ref if identity else None))
    if failure and not identity:
        category, reason, fix = failure
        rules.append(
            Rule(
                category,
                col,
                reason,
                f"{shown} IS NULL AND {_cell(column, raw_col)} IS NOT NULL",
                raw_ref,
                fix,
            )
        )
    if column.kind == "date":
        rules.append(
            Rule(
                "date_out_of_range",
                col,
                f"{col} before {EARLIEST_DATE} or after {latest} (in the future)",
                f"{shown} < DATE '{EARLIEST_DATE}' OR {shown} > DATE '{latest}'",
                raw_ref,
                "check the day/month order of the dates and the export's period (two-digit years such as "
                "'05/01/24' need %y in read.date_format)",
            )
        )
    return expr, rules, identity


def _missing_rule(column: Column, typed: str | None) -> Rule:
    """A required cell must not be empty; ``typed``: the SQL of a column taken as it is, else None
    (its raw text is read, the words for a missing value counting as empty in ``MISSING_KINDS``)."""
    col, raw = column.name, f"__raw_{column.name}"
    empty = f"{typed} IS NULL" if typed else f"{_cell(column, raw)} IS NULL"
    words = f" ({', '.join(MISSING_WORDS)} count as empty)" if column.kind in MISSING_KINDS else ""
    return Rule(
        "missing_value",
        col,
        f"{col} is empty",
        empty,
        typed or ident(raw),
        f"fill these cells or drop the rows before loading{words}",
    )


def _cell(column: Column, name: str) -> str:
    """SQL of a cell as text for the rules: N/A, NULL, '-'... empty in ``MISSING_KINDS`` (a label or
    yes/no keeps them, for the mapping's value map to name)."""
    return cell_value(name) if column.kind in MISSING_KINDS else cell_text(name)


def _typed(
    con: ibis.BaseBackend, raw: RawTable, column: Column, source_type: str, decimal: str, id_types: dict[str, str]
) -> tuple[str, tuple[str, str, str] | None]:
    """SQL of the raw column in its contract type, and (category, reason, fix) when parsing can fail."""
    kind = column.kind
    if kind == "id":
        return _typed_id(column.name, source_type, id_types.get(column.name) == "BIGINT"), (
            "bad_id",
            f"{column.name} rounded by Excel (scientific notation)",
            "these ids lost their last digits when Excel wrote them as numbers such as 1.23456E+11: export the "
            "column formatted as text (or as a number without exponent) from the source",
        )
    if kind == "text":
        return cell_text(column.name), None
    if kind == "label":
        return _typed_label(raw, column)
    if kind == "boolean":
        return _typed_boolean(raw, column, source_type)
    if kind in ("amount", "number", "integer"):
        return _typed_number(column, source_type, decimal)
    if kind == "date":
        return typed_date(con, raw, column, source_type)
    raise ValueError(f"unknown column kind {kind!r}")


def _typed_id(col: str, source_type: str, integer: bool) -> str:
    """An id as BIGINT when the table's ids are integers (``integer``), else as text."""
    if source_type in INTEGER_TYPES and integer:
        return ident(col) if source_type == "BIGINT" else f"CAST({ident(col)} AS BIGINT)"
    v = ident(_CELL + col)  # the cell's text, computed once by parse_table
    text = _id_text(v)
    typed = f"TRY_CAST({text} AS BIGINT)" if integer else text
    return f"CASE WHEN {_is_excel_rounded(v)} THEN NULL ELSE {typed} END"


def _typed_label(raw: RawTable, column: Column) -> tuple[str, tuple[str, str, str]]:
    """A label, lower-cased after the mapping's value map; null when not one of the allowed values."""
    col, v = column.name, cell_text(column.name)
    mapped = _value_map(v, raw.values.get(col, {}))
    expr = f"CASE WHEN lower({mapped}) IN ({', '.join(map(literal, column.values))}) THEN lower({mapped}) END"
    failure = (
        "unknown_value",
        f"{col} not one of {', '.join(column.values)}",
        f"allowed values: {', '.join(column.values)}; map yours in the mapping, e.g. "
        f"tables.{raw.report.table}.values.{col}: {{'your value': '{column.values[0]}'}}",
    )
    return expr, failure


def _typed_boolean(raw: RawTable, column: Column, source_type: str) -> tuple[str, tuple[str, str, str]]:
    """A yes/no column: BOOLEAN as is, else the true and false words (after the value map)."""
    col = column.name
    mapped = f"lower({_value_map(cell_text(col), raw.values.get(col, {}))})"
    if source_type == "BOOLEAN":
        expr = ident(col)
    else:
        expr = (
            f"CASE WHEN {mapped} IN ({', '.join(map(literal, TRUE_WORDS))}) THEN true "
            f"WHEN {mapped} IN ({', '.join(map(literal, FALSE_WORDS))}) THEN false END"
        )
    return expr, ("not_a_boolean", f"{col} is not yes/no", "use true/false, yes/no, oui/non or 1/0")


def _typed_number(column: Column, source_type: str, decimal: str) -> tuple[str, tuple[str, str, str]]:
    """An amount or number as DOUBLE, an integer as BIGINT (null when not whole); text is read with
    the ``decimal`` mark."""
    col, kind, shown = column.name, column.kind, ident(column.name)
    if source_type in NUMERIC_TYPES or source_type.startswith("DECIMAL"):
        number = shown if source_type == "DOUBLE" else f"CAST({shown} AS DOUBLE)"
    else:
        number = _number_sql(cell_value(col), decimal)
    if kind != "integer":
        expr = number
        hint = (
            f"numbers were read with the decimal mark {decimal!r}; set read.decimal if the file uses the other, "
            "and remove text from the column"
        )
    else:
        expr = (
            shown
            if source_type == "BIGINT"
            else f"CASE WHEN {number} = round({number}) THEN CAST({number} AS BIGINT) END"
        )
        hint = f"use whole numbers (numbers were read with the decimal mark {decimal!r})"
    return expr, ("not_a_number", f"{col} is not a {'whole ' if kind == 'integer' else ''}number", hint)


def _value_map(v: str, values: dict) -> str:
    """The mapping's value map on a text cell (``v``: its SQL): mapped values replaced, others kept."""
    if not values:
        return v
    cases = " ".join(f"WHEN {literal(str(k))} THEN {literal(str(t))}" for k, t in values.items())
    return f"(CASE {v} {cases} ELSE {v} END)"
