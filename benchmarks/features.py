"""Customer features (the BG/NBD / RFM summary) on DuckDB and on Spark local[2], from the same
Parquet file, with a check that both give the same values.

    .venv/bin/python benchmarks/features.py [sizes...]

Input: the dense retail_fr variant of benchmarks/generate_world.py (about 20 orders per customer).
Each engine runs in a fresh process; the Spark figure includes reading the file but not starting
the session (printed apart); its peak memory is the Python driver's plus the JVM's (`memory.tree_peak`;
the session is still alive when it is read). Writes benchmarks/results_features.json.
Target (issue 9): 1M customers / 20M transactions on DuckDB in at most 3 s; Spark identical.
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from generate_world import dense_scenario, dense_world  # noqa: E402
from harness import measure, save  # noqa: E402

CHILD = """
import datetime as dt, json, sys, time
from helpers import features
from helpers.engine import connect, read_table
from helpers.run.memory import tree_peak
engine, tx_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
con = connect(engine)
start_s = time.perf_counter() - t
t = time.perf_counter()
tx = read_table(con, tx_path, "transactions")
summary = features.execute(features.customer_summary(tx, dt.date(2025, 12, 31)))
wall = time.perf_counter() - t
summary.sort_values("customer_id").to_parquet(out)
print(json.dumps({"engine": engine, "customers": len(summary), "transactions": int(tx.count().execute()),
                  "start_s": round(start_s, 1), "wall_s": round(wall, 2), "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as root:
        scenario = dense_scenario(Path(root))
        for n in sizes:
            tx = Path(dense_world(scenario, root, n)) / "transactions.parquet"
            outs = {}
            for engine in ("duckdb", "pyspark"):
                outs[engine] = Path(root) / f"summary_{engine}_{n}.parquet"
                r = measure(CHILD, engine, tx, outs[engine])
                results.append(r)
            same = _identical(*(pd.read_parquet(p) for p in outs.values()))
            for r in results[-2:]:
                r["identical"] = same
                print(
                    f"{r['customers']:>10,} customers {r['transactions']:>12,} orders  {r['engine']:<8} "
                    f"{r['wall_s']:>7.2f} s {r['peak_mb']:>7,} MB peak (session {r['start_s']} s); "
                    f"values identical: {same}",
                    flush=True,
                )
    save("features", results)
    return results


def _identical(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    for col in ("first_order", "last_order"):
        left[col], right[col] = pd.to_datetime(left[col]), pd.to_datetime(right[col])
    try:
        pd.testing.assert_frame_equal(
            left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False, check_exact=False, rtol=1e-12
        )
    except AssertionError:
        return False
    return True


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
