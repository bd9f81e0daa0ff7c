"""lifetimes' side (its last release, 0.11.3, on pandas 1.5):
``lifetimes_side.py summary TX.parquet AS_OF OUT.parquet``: ``summary_data_from_transaction_data``
on the purchases (lifetimes has no returns), frequency, recency and T in weeks;
``lifetimes_side.py clv SUMMARY.parquet OUT.json``: BetaGeoFitter, GammaGammaFitter on the repeat
buyers' repeat_monetary, then ``customer_lifetime_value`` over 12 months at our discount rate
(10% a year, as a monthly rate; lifetimes takes a month as 4.345 weeks where we take 52/12).
Gamma-Gamma at tol=1e-6: at its default 1e-7, BFGS stops on "precision loss" at the optimum
(gradient 2e-7) and lifetimes raises ConvergenceError."""

import json
import sys

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
from measured import Measured

MONTHLY_DISCOUNT = 1.10 ** (1 / 12) - 1


def summary(tx_path: str, as_of: str, out: str) -> None:
    with Measured() as m:
        tx = pd.read_parquet(tx_path, columns=["customer_id", "order_date", "amount"])
        tx["order_date"] = pd.to_datetime(tx.order_date)
        bought = tx[(tx.amount >= 0) & (tx.order_date <= pd.Timestamp(as_of))]
        table = summary_data_from_transaction_data(bought, "customer_id", "order_date", observation_period_end=as_of)
    table[["recency", "T"]] = table[["recency", "T"]] / 7.0
    table.reset_index().sort_values("customer_id").to_parquet(out, index=False)
    m.report(customers=len(table))


def values(summary_path: str, out: str) -> None:
    table = pd.read_parquet(summary_path)
    with Measured() as m:
        purchases = BetaGeoFitter().fit(table.frequency, table.recency, table["T"])
        repeat = table[(table.frequency > 0) & (table.repeat_monetary > 0)]
        spend = GammaGammaFitter().fit(repeat.frequency, repeat.repeat_monetary, tol=1e-6)
        value = spend.customer_lifetime_value(
            purchases,
            table.frequency,
            table.recency,
            table["T"],
            table.repeat_monetary.fillna(0.0),
            time=12,
            discount_rate=MONTHLY_DISCOUNT,
            freq="W",
        )
    params = {
        "bgnbd": dict(purchases.params_),
        "gamma_gamma": {"p": spend.params_["p"], "q": spend.params_["q"], "gamma": spend.params_["v"]},
    }
    with open(out, "w") as f:
        json.dump({**params, "clv_total": float(value.sum())}, f)
    m.report(customers=len(table))


if __name__ == "__main__":
    {"summary": summary, "clv": values}[sys.argv[1]](*sys.argv[2:])
