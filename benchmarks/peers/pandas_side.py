"""pandas' side: ``pandas_side.py summary TX.parquet AS_OF OUT.parquet``, the per-customer summary
of ``features.customer_summary`` with pandas group-bys (amounts summed in whole cents, exact)."""

import sys

import numpy as np
import pandas as pd
from measured import Measured


def summary(tx_path: str, as_of: str, out: str) -> None:
    end = pd.Timestamp(as_of)
    with Measured() as m:
        tx = pd.read_parquet(tx_path, columns=["customer_id", "order_date", "amount"])
        tx["day"] = pd.to_datetime(tx.order_date)
        tx = tx[tx.day <= end]
        tx["cents"] = np.round(tx.amount * 100).astype("int64")
        bought = tx[tx.amount >= 0]
        per = bought.groupby("customer_id").day.agg(
            n_orders="size", n_days="nunique", first_order="min", last_order="max"
        )
        table = per.join(tx.groupby("customer_id").cents.sum()).reset_index()
        table["revenue"] = table.pop("cents") / 100
        table["frequency"] = table.pop("n_days") - 1
        table["recency"] = (table.last_order - table.first_order).dt.days / 7.0
        table["T"] = (end - table.first_order).dt.days / 7.0
        table["monetary"] = table.revenue / table.n_orders
    table.sort_values("customer_id").to_parquet(out, index=False)
    m.report(customers=len(table))


if __name__ == "__main__":
    {"summary": summary}[sys.argv[1]](*sys.argv[2:])
