"""Customer features + BG/NBD + Gamma-Gamma (+ 12-month CLV) at scale, with a breakdown.

    .venv/bin/python benchmarks/clv.py [customers...]

Input: the dense retail_fr variant of benchmarks/generate_world.py (about 20 orders per customer;
generation is not timed). The measured run, in a fresh subprocess: customer features on DuckDB
from the Parquet file (Ibis, with the repeat occasions' spend), BG/NBD fit, Gamma-Gamma fit, then
12-month CLV for every customer.
Prints the breakdown, writes benchmarks/results_clv.json.
Target (issue 4): 1M customers / 20M transactions, features + both fits in <= 20 s and <= 3 GB.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate_world import dense_scenario, dense_world  # noqa: E402
from harness import measure, save  # noqa: E402

CHILD = """
import datetime as dt, json, sys, time
from helpers.run.memory import tree_peak
from helpers import engine, features
from helpers.models import bg_nbd, clv, gamma_gamma
from helpers.world import load_world
world = load_world(sys.argv[1])
as_of = dt.date.fromisoformat(world.parameters["end"])
times = {}
t = time.perf_counter()
con = engine.connect()
tx = engine.read_table(con, world.table_path("transactions"), "transactions")
summary = gamma_gamma.with_repeat_spend(features.execute(features.customer_summary(tx, as_of)), tx, as_of)
times["features_s"] = time.perf_counter() - t; t = time.perf_counter()
bgnbd = bg_nbd.fit(summary)
times["bgnbd_s"] = time.perf_counter() - t; t = time.perf_counter()
spend = gamma_gamma.fit(summary)
times["gamma_gamma_s"] = time.perf_counter() - t; t = time.perf_counter()
value = clv.customer_value(summary, bgnbd, spend)
times["clv_12m_s"] = time.perf_counter() - t
print(json.dumps({"customers": len(summary), "transactions": world.manifest["files"]["transactions.parquet"]["rows"],
                  **{k: round(v, 2) for k, v in times.items()},
                  "features_and_fits_s": round(times["features_s"] + times["bgnbd_s"] + times["gamma_gamma_s"], 2),
                  "converged": bgnbd.converged and spend.converged, "clv_nan": int(value.clv.isna().sum()),
                  "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as root:
        scenario = dense_scenario(Path(root))
        for n in sizes:
            r = measure(CHILD, dense_world(scenario, root, n))
            results.append(r)
            print(
                f"{r['customers']:>10,} customers {r['transactions']:>12,} orders: features {r['features_s']:.2f} s, "
                f"BG/NBD {r['bgnbd_s']:.2f} s, Gamma-Gamma {r['gamma_gamma_s']:.2f} s "
                f"-> {r['features_and_fits_s']:.2f} s; "
                f"CLV 12m {r['clv_12m_s']:.2f} s; {r['peak_mb']:,} MB peak",
                flush=True,
            )
    save("clv", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
