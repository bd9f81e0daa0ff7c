"""Our side: ``ours.py summary TX.parquet AS_OF OUT.parquet`` (the per-customer summary on DuckDB
from Parquet, ``connect()`` included; the import of Ibis's DuckDB backend, 0.5 s that loads every SQL
compiler Ibis ships, is counted with the imports, like polars' own) or ``ours.py clv SUMMARY.parquet
OUT.json`` (BG/NBD and Gamma-Gamma fits, then every customer's 12-month CLV; its input from
``ours.py spend TX.parquet AS_OF OUT.parquet``, untimed), run with the project's .venv."""

import datetime as dt
import json
import sys

import ibis.backends.duckdb  # noqa: F401  (imported, not timed: see above)
import pandas as pd
import scipy.optimize  # noqa: F401  (imported, not timed: see above)
import scipy.special  # noqa: F401
from measured import Measured

from helpers import engine, features
from helpers.models import bg_nbd, clv, gamma_gamma


def summary(tx_path: str, as_of: str, out: str) -> None:
    with Measured() as m:
        con = engine.connect()
        tx = engine.read_table(con, tx_path, "transactions")
        table = features.execute(features.customer_summary(tx, dt.date.fromisoformat(as_of)))
    table.sort_values("customer_id").to_parquet(out, index=False)
    m.report(customers=len(table))


def spend(tx_path: str, as_of: str, out: str) -> None:
    """The summary with repeat_monetary (``gamma_gamma.with_repeat_spend``): the CLV stage's input."""
    with Measured() as m:
        end = dt.date.fromisoformat(as_of)
        tx = engine.read_table(engine.connect(), tx_path, "transactions")
        table = gamma_gamma.with_repeat_spend(
            features.execute(features.customer_summary(tx, end), "customer_id"), tx, end
        )
    table.to_parquet(out, index=False)
    m.report(customers=len(table))


def values(summary_path: str, out: str) -> None:
    table = pd.read_parquet(summary_path)
    with Measured() as m:
        purchases, spend = bg_nbd.fit(table), gamma_gamma.fit(table)
        value = clv.customer_value(table, purchases, spend)
    result = {"bgnbd": purchases.params, "gamma_gamma": spend.params, "clv_total": float(value.clv.sum())}
    with open(out, "w") as f:
        json.dump(result, f)
    m.report(customers=len(table))


if __name__ == "__main__":
    {"summary": summary, "spend": spend, "clv": values}[sys.argv[1]](*sys.argv[2:])
