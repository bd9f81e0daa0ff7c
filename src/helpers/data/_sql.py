"""SQL text for the DuckDB behind an Ibis connection, and running it: shared by the loader's modules."""

from __future__ import annotations

import ibis


def fetch(con: ibis.BaseBackend, sql: str) -> list[tuple]:
    """Run ``sql`` on the DuckDB behind ``con`` and fetch every row (DuckDB 2 refuses new work
    while a result is pending)."""
    return con.raw_sql(sql).fetchall()


def column_types(con: ibis.BaseBackend, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table, a view or a query."""
    return {name: typ for name, typ, *_ in fetch(con, f"DESCRIBE {relation}")}


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """``value`` as a quoted SQL text literal."""
    return "'" + str(value).replace("'", "''") + "'"


def cell_text(column: str) -> str:
    """SQL of a column's cells as trimmed text, empty cells as NULL."""
    return f"NULLIF(trim(CAST({ident(column)} AS VARCHAR)), '')"


MISSING_WORDS = ("n/a", "#n/a", "na", "null", "none", "nan", "-", "--")  # cells that mean "no value", any case


def cell_value(column: str) -> str:
    """SQL of a column's cells as trimmed text, empty cells and the words for a missing value
    (``MISSING_WORDS``: N/A, NULL, '-'...) as NULL."""
    v = cell_text(column)
    return f"CASE WHEN lower({v}) IN ({', '.join(map(literal, MISSING_WORDS))}) THEN NULL ELSE {v} END"
