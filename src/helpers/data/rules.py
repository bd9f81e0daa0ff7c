"""The rules a parsed table's rows must keep, and what is kept: a row that breaks a rule (a cell
that does not parse, a key repeated, an id the referenced table does not hold) is excluded and
counted under the first rule it breaks, unless more than its share of the table
(``options.max_excluded_share``, by rule or one for all) breaks it: then the load is refused with
examples and the likely fix. An optional link to an unknown row (a transaction's campaign) is
cleared, the row kept, and counted. Lines of one order are merged, a consent history is settled,
direct identifiers may be pseudonymised, and the pandera schema is the last gate."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from pathlib import Path

import ibis

from helpers.data._sql import fetch, ident, literal
from helpers.data.consents import needs_settling, settle_history
from helpers.data.contract import PERSONAL_COLUMNS, DataContractError, Rule, Table, pandera_schema
from helpers.data.duplicates import key_rules
from helpers.data.files import RawTable
from helpers.data.lines import count_transactions, count_zero_prices, merge_order_lines, non_product_rules, return_flag
from helpers.data.mapping import Mapping, TableMapping

IDENTIFIER_NAMES = {"mail", "courriel", "telephone", "tel", "mobile", "portable", "prenom", "nom", "name", "surname"}


def keep_rows(
    con: ibis.BaseBackend, table: Table, raw: RawTable, rules: list[Rule], spec: Mapping, loaded: dict[str, ibis.Table]
) -> None:
    """``parsed_<table>`` checked against the parsing ``rules``, its key and its references to the
    tables ``loaded`` before it, and the rows kept written as the table ``<table>`` (in file order):
    order lines merged, returns marked by the mapping's rule, a consent history settled, identifiers
    pseudonymised if the mapping asks. Every exclusion, cleared link and assumption goes to ``raw.report``."""
    lines = spec.tables.get(table.name, TableMapping()).lines
    kept = _exclude(con, table, raw, non_product_rules(lines) + rules, spec, loaded)
    pii = [c for c in PERSONAL_COLUMNS if c in raw.columns and table.name == "customers"]
    if spec.pseudonymise and table.name == "customers":
        _refuse_unmapped_identifiers(raw)
    flag = return_flag(raw.columns, lines) if table.name == "transactions" else None
    columns = raw.columns + (["is_return"] if flag and "is_return" not in raw.columns else [])
    select = ", ".join(
        _pseudonym(c, spec.salt)
        if spec.pseudonymise and c in pii
        else (f"{flag} AS is_return" if flag and c == "is_return" else ident(c))
        for c in columns
    )
    if spec.pseudonymise and pii:
        raw.report.assumptions.append(f"direct identifiers {pii} replaced by salted SHA-256 pseudonyms")
    fetch(con, f"CREATE OR REPLACE TABLE {table.name} AS SELECT {select} FROM {kept} ORDER BY __line")
    for temp in (f"parsed_{table.name}", f"kept_{table.name}", "orders_merged", "consents_resolved"):
        fetch(con, f"DROP TABLE IF EXISTS {temp}")
    if table.name == "transactions":
        count_transactions(con, raw.report, columns)
        if flag:
            raw.report.assumptions.append(
                f"orders whose order_id starts with {lines.return_prefix!r} are cancellations or returns"
            )


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
    con: ibis.BaseBackend, table: Table, raw: RawTable, rules: list[Rule], spec: Mapping, loaded: dict[str, ibis.Table]
) -> str:
    """The rows of ``parsed_<table>`` that break no rule, with unknown optional links cleared, and the
    relation that holds them."""
    rules = [*rules, *key_rules(con, table, raw, raw.columns), *_reference_rules(table, raw.columns, loaded, True)]
    clears = _reference_rules(table, raw.columns, loaded, required=False)
    _apply_rules(con, table, raw, rules, spec.max_excluded_share)
    flagged = f"NOT coalesce({' OR '.join(f'({r.condition})' for r in rules) or 'false'}, false)"
    emptied: dict[str, list[str]] = {}
    for rule in clears:
        emptied.setdefault(rule.column, []).append(f"({rule.condition})")
    cleared = {
        c: f"CASE WHEN coalesce({' OR '.join(conds)}, false) THEN NULL ELSE {ident(c)} END"
        for c, conds in emptied.items()
    }
    if clears:
        counts = fetch(
            con,
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {first})" for first in _first_reasons(clears))
            + f" FROM parsed_{table.name} WHERE {flagged}",
        )[0]
        for rule, count in zip(clears, counts, strict=True):
            if count:
                raw.report.cleared[rule.reason] = raw.report.cleared.get(rule.reason, 0) + count
    keep = ", ".join(f"{cleared[c]} AS {ident(c)}" if c in cleared else ident(c) for c in raw.columns)
    fetch(
        con,
        f"CREATE OR REPLACE TABLE kept_{table.name} AS SELECT __line, {keep} FROM parsed_{table.name} WHERE {flagged}",
    )
    raw.report.rows_kept = fetch(con, f"SELECT count(*) FROM kept_{table.name}")[0][0]
    key_repeats = any(r.category == "duplicate_id" for r in rules)
    if table.name == "transactions":
        count_zero_prices(con, raw.report, raw.columns, "kept_transactions")
        if key_repeats:
            return merge_order_lines(con, raw.columns, raw.report)
    if table.name == "consents" and needs_settling(con, raw.columns, key_repeats):
        return settle_history(con, raw.columns, raw.report)
    return f"kept_{table.name}"


def _reference_rules(table: Table, columns: list[str], loaded: dict[str, ibis.Table], required: bool) -> list[Rule]:
    """Each id must exist in the table it references, when that table was loaded: a required id's row
    is excluded, an optional link (a transaction's campaign_id) cleared."""
    return [
        Rule(
            "unknown_reference",
            col,
            f"{col} not in {ref_table}" + ("" if required else ": link left empty, the row kept"),
            f"{ident(col)} IS NOT NULL AND {ident(col)} NOT IN (SELECT {ident(ref_col)} FROM {ref_table} "
            f"WHERE {ident(ref_col)} IS NOT NULL)",
            ident(col),
            f"every {col} must exist in {ref_table}: export matching files, or drop these rows",
        )
        for col, (ref_table, ref_col) in table.references.items()
        if col in columns
        and ref_table in loaded
        and ref_col in loaded[ref_table].columns
        and table.contract_column(col).required == required
    ]


def _apply_rules(con, table: Table, raw: RawTable, rules: list[Rule], shares: dict[str, float]) -> None:
    """Count the rows under the first rule each breaks; refuse the load when a rule's count exceeds its
    share of the table (chosen exclusions excepted), else record the exclusions."""
    if not rules:
        return
    firsts = _first_reasons(rules)
    counts = fetch(
        con, "SELECT " + ", ".join(f"count(*) FILTER (WHERE {f})" for f in firsts) + f" FROM parsed_{table.name}"
    )[0]
    broken = [(r, f, c) for r, f, c in zip(rules, firsts, counts, strict=True) if c > 0]
    for rule, first, count in broken:
        share = shares.get(rule.option, shares.get(rule.category, shares["default"]))
        if not rule.chosen and count > share * raw.report.rows_read:
            others = [f"{r.reason} ({c:,})" for r, _, c in broken if r is not rule]
            _refuse(con, table, raw, rule, first, count, share, others)
    for rule, _, count in broken:
        raw.report.excluded[rule.reason] = raw.report.excluded.get(rule.reason, 0) + count


def _first_reasons(rules: list[Rule]) -> list[str]:
    """SQL conditions: the row breaks this rule and none before it (each row counted once)."""
    return [
        f"coalesce({r.condition}, false)"
        + (f" AND NOT coalesce({' OR '.join(f'({e.condition})' for e in rules[:i])}, false)" if i else "")
        for i, r in enumerate(rules)
    ]


def _refuse(
    con, table: Table, raw: RawTable, rule: Rule, first: str, count: int, share: float, others: list[str]
) -> None:
    """Refuse the load on ``rule``: examples, the likely fix, and the option that would accept the rows."""
    examples = fetch(
        con,
        f"SELECT __line, {rule.raw} FROM (SELECT *, {first} AS __hit FROM parsed_{table.name}) "
        "WHERE __hit ORDER BY __line LIMIT 5",
    )
    shown = "; ".join(
        f"{raw.line_word} {line}: " + (repr(value) if value is not None else "(empty)") for line, value in examples
    )
    n = raw.report.rows_read
    needed = math.ceil(count / n * 1000) / 1000
    raise DataContractError(
        rule.category,
        f"{raw.path.name}, column {rule.column}: {count:,} of {n:,} rows ({count / n:.0%}) break the rule "
        f"'{rule.reason}', more than the {share:.0%} that may be excluded. E.g. {shown}. Likely fix: {rule.fix}; "
        f"or, to load without these rows, set options.max_excluded_share: {{{rule.option}: {needed:g}}} in "
        "the mapping."
        + (f" Also: {'; '.join(others)}." if others else "")
        + " Nothing was loaded; the file is unchanged.",
    )


def _refuse_unmapped_identifiers(raw: RawTable) -> None:
    """With pseudonymisation asked, a customers column outside the contract whose name looks like a
    direct identifier ('E-mail', 'Mail', 'Téléphone') would be kept in clear: refused, naming it."""
    for column in raw.columns:
        plain = re.sub(r"[^a-z]", "", unicodedata.normalize("NFKD", column.lower()))
        close = difflib.get_close_matches(plain, ["firstname", "lastname", "email", "phone"], 1, cutoff=0.8)
        if column not in PERSONAL_COLUMNS and (close or plain in IDENTIFIER_NAMES):
            raise DataContractError(
                "bad_mapping",
                f"{raw.path.name}, column {column!r}: it looks like a direct identifier but is not mapped onto "
                f"{', '.join(PERSONAL_COLUMNS)}, so pseudonymisation would leave it in clear. Map it in "
                "tables.customers.columns (e.g. {" + repr(column) + ": email}) or drop it from the file.",
            )


def _pseudonym(column: str, salt: str | None) -> str:
    """SQL selecting ``column`` as its salted SHA-256 pseudonym (16 hex characters; empty stays empty);
    the mapping refuses pseudonymise without a salt."""
    name = ident(column)
    return f"CASE WHEN {name} IS NULL THEN NULL ELSE substr(sha256({literal(salt)} || {name}), 1, 16) END AS {name}"
