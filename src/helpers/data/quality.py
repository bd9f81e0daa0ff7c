"""The data quality report of one load: per table, the rows read, kept and excluded by reason, the
returns, and every assumption the loader made (an encoding, a separator, a date format...)."""

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
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows
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
        """Every excluded row counted by table and reason (a row may break several rules)."""
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
        """The report as plain JSON-ready data (amounts in EUR, rounded to the cent)."""
        return {
            "source": self.source,
            "mapping": self.mapping,
            "missing_tables": self.missing_tables,
            "tables": {
                name: {
                    "file": t.file,
                    "rows_read": t.rows_read,
                    "rows_kept": t.rows_kept,
                    "excluded": t.excluded,
                    "returns": t.returns,
                    "returns_amount": round(t.returns_amount, 2),
                }
                for name, t in self.tables.items()
            },
        }

    def __str__(self) -> str:
        lines = [f"Data quality report: {self.source} (mapping: {self.mapping})"]
        for t in self.tables.values():
            lines.append(f"- {t.table} from {t.file}: {t.rows_read:,} rows read, {t.rows_kept:,} kept")
            lines += [f"    excluded {n:,}: {reason}" for reason, n in t.excluded.items()]
            if t.returns:
                lines.append(
                    f"    {t.returns:,} returns (negative amounts, {t.returns_amount:,.2f} EUR) kept and "
                    "netted in revenue"
                )
            lines += [f"    assumed: {a}" for a in t.assumptions]
        if self.missing_tables:
            lines.append(f"- absent (their sections are skipped): {', '.join(self.missing_tables)}")
        if self.ignored_files:
            lines.append(f"- ignored files: {', '.join(self.ignored_files)}")
        return "\n".join(lines)
