"""polars' side: ``polars_side.py summary TX.parquet AS_OF OUT.parquet``, the per-customer summary
of ``features.customer_summary`` as a lazy polars query (amounts summed in whole cents, exact)."""

import datetime as dt
import sys

import polars as pl
from measured import Measured


def summary(tx_path: str, as_of: str, out: str) -> None:
    end = dt.date.fromisoformat(as_of)
    with Measured() as m:
        day = pl.col("order_date").cast(pl.Date)
        purchase = pl.col("amount") >= 0
        table = (
            pl.scan_parquet(tx_path)
            .filter(day <= end)
            .group_by("customer_id")
            .agg(
                n_orders=purchase.sum().cast(pl.Int64),
                cents=(pl.col("amount") * 100).round().cast(pl.Int64).sum(),
                n_days=day.filter(purchase).n_unique(),
                first_order=day.filter(purchase).min(),
                last_order=day.filter(purchase).max(),
            )
            .filter(pl.col("n_orders") > 0)
            .with_columns(
                revenue=pl.col("cents") / 100,
                frequency=pl.col("n_days") - 1,
                recency=(pl.col("last_order") - pl.col("first_order")).dt.total_days() / 7.0,
                T=(pl.lit(end) - pl.col("first_order")).dt.total_days() / 7.0,
            )
            .with_columns(monetary=pl.col("revenue") / pl.col("n_orders"))
            .drop("cents", "n_days")
            .collect()
        )
    table.sort("customer_id").write_parquet(out)
    m.report(customers=table.height)


if __name__ == "__main__":
    {"summary": summary}[sys.argv[1]](*sys.argv[2:])
