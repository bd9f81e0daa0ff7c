"""The data quality report of one load: per table, the rows read, kept and excluded by reason (each
excluded row counted once, under the first rule it broke, so the reasons add up to the rows
excluded), links cleared, returns, and every assumption the loader made (an encoding, a separator,
a date format...)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class TableReport:
    """What happened to one table on the way in."""

    table: str
    file: str
    format: str
    rows_read: int = 0
    rows_kept: int = 0
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows (its first broken rule)
    cleared: dict[str, int] = field(default_factory=dict)  # reason -> rows kept with an optional link emptied
    assumptions: list[str] = field(default_factory=list)
    returns: int = 0  # orders that are cancellations or returns (negative, or marked by the mapping)
    returns_amount: float = 0.0  # their net amount, in the data's currency
    zero_price_lines: int = 0  # lines kept at a zero unit price (or zero amount)
    customers_without_net_revenue: int = 0  # net revenue zero or less: left out of models
    customers_only_returning: int = 0  # of those, customers with no purchase at all


@dataclass
class DataQualityReport:
    """The data quality report of one load: a TableReport per table, ignored files, missing tables."""

    source: str
    mapping: str
    currency: str = "EUR"  # ISO 4217 code of every amount
    tables: dict[str, TableReport] = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per table: file, rows read, kept, excluded, returns."""
        rows = [
            {
                "table": t.table,
                "file": t.file,
                "rows read": t.rows_read,
                "rows kept": t.rows_kept,
                "rows excluded": t.rows_read - t.rows_kept,
                "returns": t.returns,
            }
            for t in self.tables.values()
        ]
        return pd.DataFrame(rows)

    def exclusions(self) -> pd.DataFrame:
        """Every excluded row counted by table and reason, once, under the first rule it broke."""
        rows = [
            {"table": t.table, "reason": reason, "rows": n}
            for t in self.tables.values()
            for reason, n in t.excluded.items()
        ]
        return pd.DataFrame(rows, columns=["table", "reason", "rows"])

    def assumptions(self) -> list[str]:
        """Every assumption the loader made, as 'table: assumption'."""
        return [f"{t.table}: {a}" for t in self.tables.values() for a in t.assumptions]

    def to_dict(self) -> dict:
        """The report as plain JSON-ready data (amounts in ``currency``, rounded to the cent)."""
        return {
            "source": self.source,
            "mapping": self.mapping,
            "currency": self.currency,
            "missing_tables": self.missing_tables,
            "tables": {
                name: {
                    "file": t.file,
                    "rows_read": t.rows_read,
                    "rows_kept": t.rows_kept,
                    "excluded": t.excluded,
                    "cleared": t.cleared,
                    "returns": t.returns,
                    "returns_amount": round(t.returns_amount, 2),
                    "zero_price_lines": t.zero_price_lines,
                    "customers_without_net_revenue": t.customers_without_net_revenue,
                    "customers_only_returning": t.customers_only_returning,
                }
                for name, t in self.tables.items()
            },
        }

    def __str__(self) -> str:
        money = f"; amounts in {self.currency}" if self.currency != "EUR" else ""  # EUR: the contract's default
        lines = [f"Data quality report: {self.source} (mapping: {self.mapping}{money})"]
        for t in self.tables.values():
            excluded = t.rows_read - t.rows_kept
            lines.append(
                f"- {t.table} from {t.file}: {t.rows_read:,} rows read, {t.rows_kept:,} kept"
                + (f", {excluded:,} excluded (each counted once, under the first rule it broke)" if excluded else "")
            )
            lines += [f"    excluded {n:,}: {reason}" for reason, n in t.excluded.items()]
            lines += [f"    cleared on {n:,} rows: {reason}" for reason, n in t.cleared.items()]
            lines += self._transaction_lines(t)
            lines += [f"    assumed: {a}" for a in t.assumptions]
        if self.missing_tables:
            lines.append(f"- absent (their sections are skipped): {', '.join(self.missing_tables)}")
        if self.ignored_files:
            lines.append(f"- ignored files: {', '.join(self.ignored_files)}")
        return "\n".join(lines)

    def _transaction_lines(self, t: TableReport) -> list[str]:
        """The report's lines on returns, zero-priced lines and customers without net revenue."""
        lines = []
        if t.returns:
            lines.append(
                f"    {t.returns:,} cancellations or returns ({t.returns_amount:,.2f} {self.currency}) kept: they net "
                "revenue but are neither orders nor purchase occasions"
            )
        if t.zero_price_lines:
            lines.append(f"    lines at a zero price: {t.zero_price_lines:,}, kept (they add nothing to revenue)")
        if t.customers_without_net_revenue:
            lines.append(
                f"    {t.customers_without_net_revenue:,} customers with net revenue zero or less "
                f"({t.customers_only_returning:,} of them only cancelled or returned): kept in the table, left out "
                "of the models (helpers.features.modelled_customers)"
            )
        return lines
