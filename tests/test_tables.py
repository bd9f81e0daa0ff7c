"""The one look of every table a notebook shows (helpers.tables)."""

import datetime as dt

import IPython
import numpy as np
import pandas as pd
from IPython.core.formatters import DisplayFormatter

from helpers import tables


def test_values_read_as_a_reader_wants_them():
    assert [tables.cell(v) for v in (np.int64(20000), 20000.0, 3973001.65, 0.533333, 12.3456, 1.2e-5)] == [
        "20,000",
        "20,000",
        "3,973,002",
        "0.5333",
        "12.35",
        "1.2e-05",
    ]
    assert [tables.cell(v) for v in (None, np.nan, pd.NA, pd.NaT, True, "café")] == ["", "", "", "", "True", "café"]
    assert tables.cell(pd.Timestamp("2025-12-31")) == "2025-12-31"
    assert tables.cell(pd.Timestamp("2025-12-31 09:30")) == "2025-12-31 09:30"
    assert tables.cell(dt.date(2025, 1, 2)) == "2025-01-02"


def test_a_table_has_words_for_headers_no_range_index_and_its_own_index_as_columns():
    frame = pd.DataFrame({"customer_id": ["a", "b"], "expected_value_52w": [1234.5, np.nan]})
    shown = tables.table_html(frame)
    assert (
        "<th>customer id</th><th>expected value 52w</th>" in shown
        and "<td>a</td><td>1,234</td>" in shown
        and "<td>b</td><td></td>" in shown
    )
    assert ">0<" not in shown and "NaN" not in shown
    by_customer = tables.table_html(frame.set_index("customer_id"))
    assert by_customer == shown, "a named index is shown as the column it was"
    grouped = frame.groupby(["customer_id"]).agg(
        total=("expected_value_52w", "sum"), most=("expected_value_52w", "max")
    )
    assert "<th>customer id</th><th>total</th><th>most</th>" in tables.table_html(grouped)
    wide = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("orders", "n"), ("orders", "")]))
    assert "<th>orders n</th><th>orders</th>" in tables.table_html(wide)
    series = tables.table_html(pd.Series({"method": "exact", "cost (EUR)": 12.5}))
    assert "<tr><td>method</td><td>exact</td></tr><tr><td>cost (EUR)</td><td>12.5</td></tr>" in series


def test_a_long_table_shows_its_ends_and_counts_what_it_leaves_out():
    shown = tables.table_html(pd.DataFrame({"n": range(1000, 1100)}))
    assert shown.count("<tr>") == 1 + tables.SHOWN_ROWS + 1  # header, rows, the count
    assert "<td>1,000</td>" in shown and "<td>1,099</td>" in shown and "… 80 more rows …" in shown


def test_use_makes_it_the_html_of_every_frame_a_kernel_displays(monkeypatch):
    class Shell:
        display_formatter = DisplayFormatter()

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell)
    frame = pd.DataFrame({"n_orders": [1, 20000]})
    tables.use()
    shown, _ = Shell.display_formatter.format(frame)
    assert shown["text/html"] == tables.table_html(frame) and shown["text/plain"] == repr(frame)
    assert Shell.display_formatter.format(frame.n_orders)[0]["text/html"] == tables.table_html(frame.n_orders)


def test_a_share_column_is_shown_in_percent():
    shown = tables.table_html(pd.DataFrame({"segment": ["a"], "customer_share": [0.696], "shares_held": [3]}))
    assert "<td>a</td><td>69.6%</td><td>3</td>" in shown
