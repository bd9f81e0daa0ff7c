"""pymc-marketing's side: ``pymc_side.py clv SUMMARY.parquet OUT.json``, BetaGeoModel and
GammaGammaModel fitted by MAP (their point estimate, under the library's default priors, so not
quite the maximum likelihood), then ``expected_customer_lifetime_value`` over 12 months at our
discount rate. The models' graphs are compiled inside the measured block, as a user's first fit
compiles them (pytensor keeps its compiled C in a cache: later runs are warm)."""

import json
import sys

import pandas as pd
from measured import Measured
from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

MONTHLY_DISCOUNT = 1.10 ** (1 / 12) - 1


def values(summary_path: str, out: str) -> None:
    table = pd.read_parquet(summary_path)
    rfm = table[["customer_id", "frequency", "recency", "T"]]
    repeat = table[(table.frequency > 0) & (table.repeat_monetary > 0)]
    with Measured() as m:
        purchases = BetaGeoModel(data=rfm)
        purchases.fit(method="map")
        spend = GammaGammaModel(data=repeat[["customer_id", "frequency"]].assign(monetary_value=repeat.repeat_monetary))
        spend.fit(method="map")
        everyone = rfm.assign(monetary_value=table.repeat_monetary.fillna(0.0))
        value = spend.expected_customer_lifetime_value(
            transaction_model=purchases, data=everyone, future_t=12, discount_rate=MONTHLY_DISCOUNT, time_unit="W"
        )
    bg, gg = purchases.fit_summary(), spend.fit_summary()
    params = {
        "bgnbd": {k: float(bg[k]) for k in ("r", "alpha", "a", "b")},
        "gamma_gamma": {"p": float(gg["p"]), "q": float(gg["q"]), "gamma": float(gg["v"])},
    }
    with open(out, "w") as f:
        json.dump({**params, "clv_total": float(value.mean(("chain", "draw")).sum())}, f)
    m.report(customers=len(table))


if __name__ == "__main__":
    {"clv": values}[sys.argv[1]](*sys.argv[2:])
