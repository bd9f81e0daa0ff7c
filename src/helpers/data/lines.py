"""Line-level exports: an invoice's lines (product, quantity, unit price) rather than whole orders.

The mapping may derive a column from others (``derive: {amount: quantity * unit_price}``, computed in
DuckDB), exclude lines that sell no product (``non_product_lines: {product_id: [POST, M]}``: postage,
fees, manual adjustments, counted) and say how cancellations and returns are recognised when not by
their sign (``returns: {order_id_starts_with: C}``). A return nets revenue but is neither an order
nor a purchase occasion (``helpers.features.purchases``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import ibis

from helpers.data._sql import fetch, ident, literal
from helpers.data.contract import DataContractError, Rule, Table
from helpers.data.quality import TableReport

LINE_KEYS = {"derive", "non_product_lines", "returns"}  # tables.<table> keys read here
NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class LineRules:
    """The mapping's line rules of one table. ``derive``: contract column -> factors (contract
    column names, or numbers) whose product it is; ``non_product``: column -> values marking a line
    that sells no product; ``return_prefix``: order ids starting with it are cancellations or returns."""

    derive: dict[str, tuple[str | float, ...]] = field(default_factory=dict)
    non_product: dict[str, tuple[str, ...]] = field(default_factory=dict)
    return_prefix: str | None = None


def read_line_rules(table: Table, spec: dict, where: str) -> LineRules:
    """The line rules of ``spec`` (a table's mapping), each checked; ``where`` names it in messages."""
    derive = {
        str(target): _factors(table, str(target), formula, f"{where}.derive")
        for target, formula in _mapping(spec.get("derive"), f"{where}.derive", "{amount: quantity * unit_price}")
    }
    non_product = {}
    for column, listed in _mapping(spec.get("non_product_lines"), f"{where}.non_product_lines", "{product_id: [POST]}"):
        if column not in ("product_id", "description", "category"):
            raise DataContractError(
                "bad_mapping",
                f"{where}.non_product_lines: lines are recognised by product_id, description or category, "
                f"got {column!r}.",
            )
        if not isinstance(listed, list) or not listed or any(isinstance(v, (bool, dict, list)) for v in listed):
            raise DataContractError(
                "bad_mapping", f"{where}.non_product_lines.{column} must be a list of values, e.g. [POST, M]."
            )
        non_product[str(column)] = tuple(str(v) for v in listed)
    returns = dict(_mapping(spec.get("returns"), f"{where}.returns", "{order_id_starts_with: C}"))
    prefix = returns.pop("order_id_starts_with", None)
    if returns or (prefix is not None and not (isinstance(prefix, str) and prefix)):
        raise DataContractError(
            "bad_mapping",
            f"{where}.returns must be {{order_id_starts_with: <text>}} (e.g. C for invoices numbered C123); "
            "returns are otherwise recognised by a negative amount or a column mapped onto is_return.",
        )
    if (non_product or prefix) and table.name != "transactions":
        raise DataContractError("bad_mapping", f"{where}: non_product_lines and returns are for transactions only.")
    return LineRules(derive, non_product, prefix)


def _mapping(value, where: str, example: str) -> list[tuple]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise DataContractError("bad_mapping", f"{where} must be a mapping such as {example}, got {value!r}.")
    return list(value.items())


def _factors(table: Table, target: str, formula, where: str) -> tuple[str | float, ...]:
    """``formula`` ('quantity * unit_price', '0.2 * amount') as its factors: numeric contract columns
    of the table or plain numbers; anything else is refused (no SQL reaches DuckDB from here)."""
    spec = table.column(target)
    numeric = sorted(c.name for c in table.columns if c.kind in ("amount", "number", "integer") and c.name != target)
    if spec is None or spec.kind not in ("amount", "number"):
        raise DataContractError(
            "bad_mapping", f"{where}: {target!r} is not an amount or number column of {table.name}."
        )
    terms = [t.strip() for t in formula.split("*")] if isinstance(formula, str) else []
    factors: list[str | float] = [float(t) if NUMBER.fullmatch(t) else t for t in terms]
    if not any(isinstance(f, str) for f in factors) or any(isinstance(f, str) and f not in numeric for f in factors):
        raise DataContractError(
            "bad_mapping",
            f"{where}.{target} must be a product of {table.name} columns and numbers, e.g. "
            f"'quantity * unit_price'; got {formula!r}; columns: {', '.join(numeric)}.",
        )
    return tuple(factors)


def derive_columns(con: ibis.BaseBackend, table: Table, columns: list[str], rules: LineRules, file: str) -> list[Rule]:
    """The derived columns added to ``parsed_<table>`` (and to ``columns``), and the rule each keeps:
    a derived cell is empty only where one of its factors is."""
    out = []
    for target, factors in rules.derive.items():
        if target in columns:
            raise DataContractError(
                "bad_mapping", f"{file} has a column {target} and the mapping derives it too: keep one."
            )
        missing = [f for f in factors if isinstance(f, str) and f not in columns]
        if missing:
            raise DataContractError(
                "bad_mapping", f"{file}: {target} is derived from {missing}, which the file does not have (mapped)."
            )
        product = " * ".join(ident(f) if isinstance(f, str) else repr(f) for f in factors)
        relation = f"parsed_{table.name}"
        fetch(con, f"CREATE OR REPLACE TABLE {relation} AS SELECT *, {product} AS {ident(target)} FROM {relation}")
        columns.append(target)
        names = [f for f in factors if isinstance(f, str)]
        shown = " || ' * ' || ".join(f"coalesce(CAST({ident(f)} AS VARCHAR), '(empty)')" for f in names)
        reason = f"{target} cannot be derived: {' or '.join(names)} is empty or not a number"
        out.append(Rule("missing_value", target, reason, f"{ident(target)} IS NULL", shown, f"fill {', '.join(names)}"))
    return out


def non_product_rules(rules: LineRules) -> list[Rule]:
    """Lines the mapping lists as selling no product (postage, fees...): excluded by choice, counted."""
    return [
        Rule(
            "non_product",
            column,
            f"non-product line ({column} listed in non_product_lines)",
            f"CAST({ident(column)} AS VARCHAR) IN ({', '.join(map(literal, values))})",
            ident(column),
            "",
            chosen=True,
        )
        for column, values in rules.non_product.items()
    ]


def return_flag(columns: list[str], rules: LineRules) -> str | None:
    """SQL of ``is_return`` for the kept rows when the mapping names a rule (None: as the file says)."""
    if rules.return_prefix is None:
        return None
    if "order_id" not in columns:
        raise DataContractError(
            "bad_mapping",
            "mapping tables.transactions.returns.order_id_starts_with needs an order_id column: map the file's "
            "order or invoice number onto order_id.",
        )
    marked = f"starts_with(CAST(order_id AS VARCHAR), {literal(rules.return_prefix)})"
    return f"(coalesce(is_return, false) OR {marked})" if "is_return" in columns else marked


def count_transactions(con: ibis.BaseBackend, report: TableReport, columns: list[str]) -> None:
    """The loaded transactions' returns, zero-priced lines and customers whose net revenue is zero or
    less, counted in ``report``."""
    is_return = "amount < 0" + (" OR coalesce(is_return, false)" if "is_return" in columns else "")
    n, total = fetch(con, f"SELECT count(*), sum(amount) FROM transactions WHERE {is_return}")[0]
    report.returns, report.returns_amount = int(n), float(total or 0.0)
    customers, only_returns = fetch(
        con,
        f"SELECT count(*), count(*) FILTER (WHERE purchases = 0) FROM (SELECT customer_id, "
        f"count(*) FILTER (WHERE NOT ({is_return})) AS purchases FROM transactions GROUP BY customer_id "
        "HAVING sum(amount) <= 0)",
    )[0]
    report.customers_without_net_revenue, report.customers_only_returning = int(customers), int(only_returns)
    positive = fetch(con, f"SELECT count(*) FROM transactions WHERE ({is_return}) AND amount > 0")[0][0]
    if positive:
        report.assumptions.append(
            f"{positive:,} orders marked as returns have a positive amount: they are no purchases, but add to "
            "revenue as written (export returns with negative amounts to net them)"
        )


def count_zero_prices(con: ibis.BaseBackend, report: TableReport, columns: list[str], relation: str) -> None:
    """Lines of ``relation`` sold at a zero unit price (or of zero amount), counted in ``report``."""
    price = "unit_price" if "unit_price" in columns else "amount"
    report.zero_price_lines = int(fetch(con, f"SELECT count(*) FROM {relation} WHERE {price} = 0")[0][0])


def merge_order_lines(con: ibis.BaseBackend, columns: list[str], report: TableReport) -> str:
    """Rows of ``kept_transactions`` sharing order_id (same customer and date, checked by the rules)
    are lines of one order: amounts, margins and quantities are summed, an order is a return if a
    line says so, other columns come from the largest line. Returns the relation holding the orders."""
    lines, orders = fetch(con, "SELECT count(*), count(DISTINCT order_id) FROM kept_transactions")[0]
    if lines == orders:
        return "kept_transactions"
    merged = {"amount": "sum", "margin": "sum", "quantity": "sum", "is_return": "bool_or"}
    select = ", ".join(
        f"{merged[c]}({ident(c)}) AS {ident(c)}" if c in merged else f"arg_max({ident(c)}, amount) AS {ident(c)}"
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
