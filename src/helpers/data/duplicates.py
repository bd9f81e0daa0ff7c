"""Repeated rows, judged on the whole source line: every column of the file, mapped or not, as read
(before any parsing cuts a time of day or a thousands mark).

A line equal to an earlier one in every column is an exact duplicate, except in a transactions file
whose lines cannot be told apart: with no ``product_id`` or ``description``, two equal lines among
the lines of one order (the same amount twice on an invoice) are two lines, kept and said; an equal
line that comes back after other orders (a file exported twice) is a duplicate. Rows sharing a key but
disagreeing are refused as duplicate ids (transactions: lines of one order share customer and date)
or, elsewhere, kept once (the first).
"""

from __future__ import annotations

import ibis

from helpers.data._sql import column_types, fetch, ident
from helpers.data.contract import Rule, Table
from helpers.data.files import RawTable

LINE_IDENTITY = ("product_id", "description")  # columns that tell two lines of one order apart


def key_rules(con: ibis.BaseBackend, table: Table, raw: RawTable, columns: list[str]) -> list[Rule]:
    """The rules on repeated keys of ``parsed_<table>`` (whose ``columns`` hold its key), their window
    conditions computed as columns ``__key_<i>`` first; none when no key value repeats."""
    if not _key_repeats(con, table, columns):
        return []
    key = list(table.key)
    part, not_null = ", ".join(map(ident, key)), " AND ".join(f"{ident(k)} IS NOT NULL" for k in key)
    lines_apart = table.name != "transactions" or bool(set(LINE_IDENTITY) & set(columns))
    _mark_repeats(con, table.name, raw, runs=not lines_apart)
    rules = [
        Rule(
            "duplicate_id",
            ", ".join(key),
            "exact duplicate of an earlier line (every column of the file)"
            + ("" if lines_apart else ", away from its order's other lines"),
            f"{not_null} AND __repeat" + ("" if lines_apart else " AND __elsewhere"),
            ident(key[0]),
            "remove the repeated lines (a file exported twice?)",
        )
    ]
    if not lines_apart:
        _say_equal_lines(con, table.name, raw)
    if table.name == "transactions":
        differs = " OR ".join(
            f"min({c}) OVER (PARTITION BY {part}) IS DISTINCT FROM max({c}) OVER (PARTITION BY {part})"
            for c in ("customer_id", "order_date")
        )
        rules.append(
            Rule(
                "duplicate_id",
                "order_id",
                "order_id shared by different customers or dates",
                f"{not_null} AND ({differs})",
                ident("order_id"),
                "each order_id must belong to one customer and one date: check for merged exports or recycled "
                "order numbers",
            )
        )
    elif table.name != "consents":  # a consent history is settled, not cut: consents.settle_history
        rules.append(
            Rule(
                "duplicate_id",
                ", ".join(key),
                f"{', '.join(key)} repeated with different values (the first row is kept)",
                f"{not_null} AND row_number() OVER (PARTITION BY {part} ORDER BY __line) > 1",
                ident(key[0]),
                f"keep one row per {', '.join(key)}",
            )
        )
    flags = ", ".join(f"{r.condition} AS __key_{i}" for i, r in enumerate(rules))
    fetch(con, f"CREATE OR REPLACE TABLE parsed_{table.name} AS SELECT *, {flags} FROM parsed_{table.name}")
    return [Rule(r.category, r.column, r.reason, f"__key_{i}", r.raw, r.fix, r.chosen) for i, r in enumerate(rules)]


def _mark_repeats(con: ibis.BaseBackend, name: str, raw: RawTable, runs: bool) -> None:
    """Add to ``parsed_<name>``: ``__repeat``, the source line equals an earlier one in every column;
    ``__elsewhere``, that earlier line is in another run of consecutive lines of one order_id
    (``runs``; else never)."""
    source = ", ".join(ident(c) for c in column_types(con, raw.name) if c != "__line")
    new_run = "CASE WHEN order_id IS DISTINCT FROM lag(order_id) OVER (ORDER BY __line) THEN 1 ELSE 0 END"
    numbered = (
        f"SELECT *, sum(__new) OVER (ORDER BY __line) AS __run FROM (SELECT *, {new_run} AS __new FROM {raw.name})"
        if runs
        else f"SELECT *, 0 AS __run FROM {raw.name}"
    )
    flags = (
        f"SELECT __line, row_number() OVER w > 1 AS __repeat, __run != first_value(__run) OVER w AS __elsewhere "
        f"FROM ({numbered}) WINDOW w AS (PARTITION BY {source} ORDER BY __line)"
    )
    fetch(
        con,
        f"CREATE OR REPLACE TABLE parsed_{name} AS SELECT p.*, r.__repeat, r.__elsewhere FROM parsed_{name} p "
        f"JOIN ({flags}) r USING (__line)",
    )


def _key_repeats(con: ibis.BaseBackend, table: Table, columns: list[str]) -> bool:
    """Does any key value appear on more than one row? (Cheap; the key rules need windows.)"""
    if not table.key or not set(table.key) <= set(columns):
        return False
    key = ", ".join(ident(k) for k in table.key)
    total, distinct = fetch(
        con,
        f"SELECT count(*), count(DISTINCT ({key})) FROM parsed_{table.name} "
        f"WHERE {' AND '.join(f'{ident(k)} IS NOT NULL' for k in table.key)}",
    )[0]
    return total > distinct


def _say_equal_lines(con: ibis.BaseBackend, name: str, raw: RawTable) -> None:
    """Equal lines of one order that nothing tells apart, kept as lines and said in the report."""
    equal = fetch(con, f"SELECT count(*) FILTER (WHERE __repeat AND NOT __elsewhere) FROM parsed_{name}")[0][0]
    if equal:
        raw.report.assumptions.append(
            f"{equal:,} lines equal an earlier line of their order in every column; with no product_id or "
            "description to tell them apart they are kept as further lines (an invoice may hold the same amount "
            "twice). Map the product column, and equal lines are then taken as duplicates"
        )
