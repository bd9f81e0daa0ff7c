"""Every purchase model's fit and 12-month CLV at scale, and the most frequent customers' values.

    .venv/bin/python benchmarks/clv_models.py [customers...]

Input: the dense retail_fr variant of benchmarks/generate_world.py (about 20 orders per customer;
generation is not timed). In a fresh subprocess: the customer summary with repeat spend, Gamma-Gamma,
then for BG/NBD, Pareto/NBD and MBG/NBD the fit and the 12-month CLV of every customer, with the
number of non-finite values and of customers past the old Gauss-Jacobi limit (b + x > 1,024, where
scipy's rule overflowed and gave NaN). Writes benchmarks/results_clv_models.json.
Target (issue 20): each fit within 3x BG/NBD's time; no NaN.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_world import dense_scenario, dense_world  # noqa: E402
from harness import measure, save  # noqa: E402

CHILD = """
import datetime as dt, json, sys, time
import numpy as np
from helpers.run.memory import tree_peak
from helpers import engine, features
from helpers.models import clv, gamma_gamma
from helpers.models.purchase_models import MODELS
from helpers.world import load_world
world = load_world(sys.argv[1])
as_of = dt.date.fromisoformat(world.parameters["end"])
con = engine.connect()
tx = engine.read_table(con, world.table_path("transactions"), "transactions")
summary = gamma_gamma.with_repeat_spend(features.execute(features.customer_summary(tx, as_of)), tx, as_of)
spend = gamma_gamma.fit(summary)
out = {"customers": len(summary), "max_frequency": int(summary.frequency.max())}
for name, model in MODELS.items():
    t = time.perf_counter()
    fit = model.fit(summary)
    out[f"{name}_fit_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    value = clv.customer_value(summary, fit, spend)
    out[f"{name}_clv_s"] = round(time.perf_counter() - t, 2)
    out[f"{name}_nonfinite"] = int((~np.isfinite(value.clv)).sum())
    out[f"{name}_total_eur"] = round(float(value.clv.sum()))
    if name == "bgnbd":
        out["past_old_limit"] = int((fit.params["b"] + summary.frequency > 1024).sum())
print(json.dumps({**out, "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as root:
        scenario = dense_scenario(Path(root))
        for n in sizes:
            r = measure(CHILD, dense_world(scenario, root, n))
            results.append(r)
            models = ", ".join(
                f"{m}: fit {r[f'{m}_fit_s']:.2f} s, CLV {r[f'{m}_clv_s']:.2f} s, {r[f'{m}_nonfinite']} non-finite"
                for m in ("bgnbd", "pareto_nbd", "mbg_nbd")
            )
            print(
                f"{r['customers']:>10,} customers (max frequency {r['max_frequency']:,}, "
                f"{r['past_old_limit']} past the old limit): {models}; {r['peak_mb']:,} MB peak",
                flush=True,
            )
    save("clv_models", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
