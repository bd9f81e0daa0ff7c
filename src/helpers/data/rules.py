"""The rules a parsed table's rows must keep, and what is kept: a row that breaks a rule (a cell
that does not parse, a key repeated, an id the referenced table does not hold) is excluded and
counted by reason, unless more than ``max_excluded_share`` of the table breaks the same rule:
then the load is refused with examples and the likely fix. Lines of one order are merged, a
consent history is settled, direct identifiers may be pseudonymised, and the pandera schema is
the last gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import ibis

from helpers.data._sql import column_types, fetch, ident, literal
from helpers.data.consents import resolve_consents
from helpers.data.contract import PERSONAL_COLUMNS, DataContractError, Table, pandera_schema
from helpers.data.files import RawTable
from helpers.data.mapping import Mapping
from helpers.data.quality import TableReport


@dataclass
class Rule:
    """A row-level rule: rows where ``condition`` holds break it."""

    category: str
    column: str
    reason: str
    condition: str
    raw: str  # the SQL of the raw cell shown in messages
    fix: str


def keep_rows(
    con: ibis.BaseBackend, table: Table, raw: RawTable, rules: list[Rule], spec: Mapping, loaded: dict[str, ibis.Table]
) -> None:
    """``parsed_<table>`` checked against the parsing ``rules``, its key and its references to the
    tables ``loaded`` before it, and the rows kept written as the table ``<table>`` (in file order):
    order lines merged, a consent history settled, identifiers pseudonymised if the mapping asks,
    returns counted. Every exclusion and assumption goes to ``raw.report``."""
    kept = _exclude(con, table, raw, rules, spec.max_excluded_share, loaded)
    pii = [c for c in PERSONAL_COLUMNS if c in raw.columns and table.name == "customers"]
    select = ", ".join(_pseudonym(c, spec.salt) if spec.pseudonymise and c in pii else ident(c) for c in raw.columns)
    if spec.pseudonymise and pii:
        raw.report.assumptions.append(f"direct identifiers {pii} replaced by salted SHA-256 pseudonyms")
    fetch(con, f"CREATE OR REPLACE TABLE {table.name} AS SELECT {select} FROM {kept} ORDER BY __line")
    for temp in (f"parsed_{table.name}", f"kept_{table.name}", "orders_merged", "consents_resolved"):
        fetch(con, f"DROP TABLE IF EXISTS {temp}")
    if "amount" in raw.columns and table.name == "transactions":
        n, total = fetch(con, f"SELECT count(*), sum(amount) FROM {table.name} WHERE amount < 0")[0]
        raw.report.returns, raw.report.returns_amount = int(n), float(total or 0.0)


def pandera_gate(table: Table, result: ibis.Table, latest: dt.date, path: Path) -> None:
    """The last gate: the loaded table satisfies the contract's pandera schema (run in DuckDB)."""
    import pandera.errors

    schema = pandera_schema(table, dict(result.schema().items()), latest)
    try:
        schema.validate(result, lazy=True)
    except (pandera.errors.SchemaErrors, pandera.errors.SchemaError) as exc:
        raise DataContractError(
            "unreadable",
            f"{path.name}: the loaded {table.name} table breaks the contract "
            f"schema after parsing (please report this): {exc}",
        ) from exc


def _exclude(
    con: ibis.BaseBackend,
    table: Table,
    raw: RawTable,
    rules: list[Rule],
    max_share: float,
    loaded: dict[str, ibis.Table],
) -> str:
    """The rows of ``parsed_<table>`` that break no rule, and the relation that holds them."""
    key_repeats = _key_repeats(con, table, raw.columns)
    key_rules = _key_rules(table, raw.columns) if key_repeats else []
    if key_rules:
        flags = ", ".join(f"{r.condition} AS __key_{i}" for i, r in enumerate(key_rules))
        fetch(con, f"CREATE OR REPLACE TABLE parsed_{table.name} AS SELECT *, {flags} FROM parsed_{table.name}")
        rules = rules + [replace(r, condition=f"__key_{i}") for i, r in enumerate(key_rules)]
    rules = rules + _reference_rules(table, raw.columns, loaded)
    _apply_rules(con, table, raw, rules, max_share)
    keep = ", ".join(ident(c) for c in raw.columns)
    flagged = " OR ".join(f"({r.condition})" for r in rules) or "false"
    fetch(
        con,
        f"CREATE OR REPLACE TABLE kept_{table.name} AS SELECT __line, {keep} FROM parsed_{table.name} "
        f"WHERE NOT coalesce({flagged}, false)",
    )
    raw.report.rows_kept = fetch(con, f"SELECT count(*) FROM kept_{table.name}")[0][0]
    if table.name == "transactions" and key_repeats:
        return _merge_order_lines(con, raw.columns, raw.report)
    if table.name == "consents" and (key_repeats or _preferences_repeat(con, raw.columns)):
        return _resolve_consent_history(con, raw.columns, raw.report)
    return f"kept_{table.name}"


def _reference_rules(table: Table, columns: list[str], loaded: dict[str, ibis.Table]) -> list[Rule]:
    """Each id must exist in the table it references, when that table was loaded."""
    return [
        Rule(
            "unknown_reference",
            col,
            f"{col} not in {ref_table}",
            f"{ident(col)} IS NOT NULL AND {ident(col)} NOT IN (SELECT {ident(ref_col)} FROM {ref_table} "
            f"WHERE {ident(ref_col)} IS NOT NULL)",
            ident(col),
            f"every {col} must exist in {ref_table}: export matching files, or drop these rows",
        )
        for col, (ref_table, ref_col) in table.references.items()
        if col in columns and ref_table in loaded and ref_col in loaded[ref_table].columns
    ]


def _key_repeats(con, table: Table, columns: list[str]) -> bool:
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


def _key_rules(table: Table, columns: list[str]) -> list[Rule]:
    """Rows repeating an earlier row exactly are duplicates; rows sharing a key but disagreeing
    are refused as duplicate ids (transactions: lines of one order share customer and date).
    Conditions use window functions: the caller computes them as columns first."""
    key = [k for k in table.key if k in columns]
    if len(key) != len(table.key):
        return []
    part = ", ".join(ident(k) for k in key)
    every = ", ".join(ident(c) for c in columns)
    not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in key)
    rules = [
        Rule(
            "duplicate_id",
            ", ".join(key),
            "exact duplicate of an earlier row",
            f"{not_null} AND row_number() OVER (PARTITION BY {part}, hash({every}) ORDER BY __line) > 1",
            ident(key[0]),
            "remove the repeated rows (a file exported twice?)",
        )
    ]
    if table.name == "transactions":
        differs = (
            "min(customer_id) OVER w IS DISTINCT FROM max(customer_id) OVER w OR "
            "min(order_date) OVER w IS DISTINCT FROM max(order_date) OVER w"
        )
        rules.append(
            Rule(
                "duplicate_id",
                "order_id",
                "order_id shared by different customers or dates",
                f"{not_null} AND ({differs.replace('OVER w', f'OVER (PARTITION BY {part})')})",
                ident("order_id"),
                "each order_id must belong to one customer and one date: check "
                "for merged exports or recycled order numbers",
            )
        )
    elif table.name != "consents":  # a consent history is resolved, not cut: _resolve_consent_history
        rules.append(
            Rule(
                "duplicate_id",
                ", ".join(key),
                f"{', '.join(key)} repeated with different values (the first row is kept)",
                f"{not_null} AND row_number() OVER (PARTITION BY {part} ORDER BY __line) > 1 AND "
                f"min(hash({every})) OVER (PARTITION BY {part}) != max(hash({every})) OVER (PARTITION BY {part})",
                ident(key[0]),
                f"keep one row per {', '.join(key)}",
            )
        )
    return rules


def _apply_rules(con, table: Table, raw: RawTable, rules: list[Rule], max_share: float) -> None:
    """Count each rule's rows; refuse the load when one exceeds ``max_share`` of the table,
    else record the exclusions."""
    if not rules:
        return
    counts = fetch(
        con,
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE coalesce({r.condition}, false))" for r in rules)
        + f" FROM parsed_{table.name}",
    )[0]
    n = raw.report.rows_read
    broken = [(r, c) for r, c in zip(rules, counts, strict=True) if c > 0]
    for rule, count in broken:
        if count > max_share * n:
            examples = fetch(
                con,
                f"SELECT __line, {rule.raw} FROM (SELECT *, coalesce({rule.condition}, false) AS "
                f"__hit FROM parsed_{table.name}) WHERE __hit ORDER BY __line LIMIT 5",
            )
            shown = "; ".join(
                f"{raw.line_word} {line}: " + (repr(value) if value is not None else "(empty)")
                for line, value in examples
            )
            others = [f"{r.reason} ({c:,})" for r, c in broken if r is not rule]
            raise DataContractError(
                rule.category,
                f"{raw.path.name}, column {rule.column}: {count:,} of {n:,} rows "
                f"({count / n:.0%}) break the rule '{rule.reason}', more than the "
                f"{max_share:.0%} that may be excluded. E.g. {shown}. Likely fix: "
                f"{rule.fix}."
                + (f" Also: {'; '.join(others)}." if others else "")
                + " Nothing was loaded; the file is unchanged.",
            )
    for rule, count in broken:
        raw.report.excluded[f"{rule.reason}"] = raw.report.excluded.get(rule.reason, 0) + count


def _merge_order_lines(con, columns: list[str], report: TableReport) -> str:
    """Rows sharing order_id (same customer and date, checked by the rules) are lines of one order:
    amounts and margins are summed, other columns come from the largest line."""
    lines, orders = fetch(con, "SELECT count(*), count(DISTINCT order_id) FROM kept_transactions")[0]
    if lines == orders:
        return "kept_transactions"
    summed = {"amount", "margin"}
    select = ", ".join(
        f"sum({ident(c)}) AS {ident(c)}" if c in summed else f"arg_max({ident(c)}, amount) AS {ident(c)}"
        for c in columns
        if c not in ("order_id", "customer_id", "order_date")
    )
    fetch(
        con,
        f"CREATE OR REPLACE TABLE orders_merged AS SELECT min(__line) AS __line, order_id, customer_id, "
        f"order_date, {select} FROM kept_transactions GROUP BY order_id, customer_id, order_date",
    )
    report.assumptions.append(
        f"{lines - orders:,} rows were further lines of an order (same order_id, customer and "
        f"date): {lines:,} lines summed into {orders:,} orders"
    )
    return "orders_merged"


def _preferences_repeat(con, columns: list[str]) -> bool:
    """Does a customer's preference centre (preferred channel, own monthly maximum) differ between
    their consent rows?"""
    fields = [c for c in ("preferred_channel", "max_contacts_per_month") if c in columns]
    differs = " OR ".join(
        f"count(DISTINCT {ident(c)}) > 1 OR (count({ident(c)}) > 0 AND count({ident(c)}) < count(*))" for c in fields
    )
    return (
        bool(fields)
        and fetch(
            con, f"SELECT count(*) FROM (SELECT customer_id FROM kept_consents GROUP BY customer_id HAVING {differs})"
        )[0][0]
        > 0
    )


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
            kept.groupby(["customer_id", "channel"]).updated_at.max()
        )
    types = column_types(con, "kept_consents")
    con.create_table("consents_resolved_raw", rows.astype(object).where(rows.notna(), None), overwrite=True)
    fetch(
        con,
        "CREATE OR REPLACE TABLE consents_resolved AS SELECT __line, "
        + ", ".join(f"CAST({ident(c)} AS {types[c]}) AS {ident(c)}" for c in columns)
        + " FROM consents_resolved_raw",
    )
    fetch(con, "DROP TABLE consents_resolved_raw")
    superseded = len(kept) - len(rows)
    if superseded:
        report.excluded["superseded by a later (or, undated, stricter) row for the same customer and channel"] = (
            superseded
        )
    report.rows_kept = len(rows)
    report.assumptions += [f"consent conflicts resolved: {sentence}" for sentence in resolved.sentences()]
    return "consents_resolved"


def _pseudonym(column: str, salt: str | None) -> str:
    """SQL selecting ``column`` as its salted SHA-256 pseudonym (16 hex characters; empty stays empty);
    the mapping refuses pseudonymise without a salt."""
    name = ident(column)
    return f"CASE WHEN {name} IS NULL THEN NULL ELSE substr(sha256({literal(salt)} || {name}), 1, 16) END AS {name}"
