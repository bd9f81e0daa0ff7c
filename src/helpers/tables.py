"""One look for every table a notebook shows: no 0..n index, headers in words (``expected value
52w``, not ``expected_value_52w``), thousands marks, no more digits than a reader uses, blanks for
missing values. ``use()`` (called by ``plots.set_theme``) makes it the HTML of every DataFrame and
Series a notebook displays, so the lesson printout reads as a report; the plain-text form is left
as pandas writes it."""

from __future__ import annotations

import datetime as dt
import html
import numbers

import pandas as pd

SHOWN_ROWS = 20  # a longer table shows its first and last ten rows, with the count of those left out


def header(name: object) -> str:
    """A column or index name in words: underscores as spaces, the levels of a tuple side by side."""
    if isinstance(name, tuple):
        return " ".join(header(level) for level in name if level not in (None, ""))
    return "" if name is None else str(name).replace("_", " ")


def cell(value: object) -> str:
    """One value as a reader wants it: ``20,000`` for a count, ``3,973,002`` for a large amount,
    four significant digits below 1,000 (``0.5333``, ``12.35``), a date without its midnight time,
    and nothing for a missing value."""
    if value is None or value is pd.NaT or (not isinstance(value, str | bool) and pd.isna(value)):
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    if isinstance(value, numbers.Real):
        amount = float(value)
        return f"{amount:,.0f}" if abs(amount) >= 1000 else f"{amount:.4g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def share(value: object) -> str:
    """A value of a ``share`` column (0 to 1) as a percentage, ``69.6%``; anything else as ``cell``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= float(value) <= 1:
        return f"{float(value):.1%}"
    return cell(value)


def table_html(table: pd.DataFrame | pd.Series) -> str:
    """The table as HTML in the project's look; a Series shows as its index beside its values, and a
    column named as a share (``share``, ``… share …``) in percent."""
    frame = table.to_frame(name=table.name if table.name is not None else "") if isinstance(table, pd.Series) else table
    if not isinstance(frame.index, pd.RangeIndex):  # a meaningful index: its levels become the first columns
        frame = frame.rename_axis([n if n is not None else "" for n in frame.index.names])
        frame = frame.reset_index(allow_duplicates=True)
    rows: list[tuple | None] = list(frame.itertuples(index=False, name=None))
    hidden = len(rows) - SHOWN_ROWS
    if hidden > 0:
        rows = rows[: SHOWN_ROWS // 2] + [None] + rows[-SHOWN_ROWS // 2 :]
    head = "".join(f"<th>{html.escape(header(c))}</th>" for c in frame.columns)
    formats = [share if "share" in header(c).lower().split() else cell for c in frame.columns]
    body = "".join(
        f'<tr><td colspan="{len(frame.columns)}">… {hidden:,} more rows …</td></tr>'
        if row is None
        else "<tr>"
        + "".join(f"<td>{html.escape(shown(v))}</td>" for shown, v in zip(formats, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<table class="dataframe"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def use() -> None:
    """Make ``table_html`` the HTML of every DataFrame and Series displayed in this IPython kernel
    (nothing outside one)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        formatter = shell.display_formatter.formatters["text/html"]
        formatter.for_type(pd.DataFrame, table_html)
        formatter.for_type(pd.Series, table_html)
