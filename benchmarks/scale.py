"""A 10M-customer, 200M-transaction log, generated in chunks to Parquet, aggregated to customer
features on DuckDB under a memory limit.

    .venv/bin/python benchmarks/scale.py [chunks] [customers_per_chunk]

Each chunk is a dense retail_fr world (benchmarks/generate_world.py, about 20 orders per customer)
with its own seed; its transactions are copied to tx/part-NN.parquet with customer ids moved past
the previous chunks, then the world is deleted (about 3 GB of Parquet in all for 10 chunks). The
measured run, in a fresh process: customer features (features.customer_summary) over the whole
folder on DuckDB with memory_limit 6GB, written to Parquet. Needs about 5 GB of free disk.
Target (issue 9): within 8 GB peak memory; prints the time. Writes benchmarks/results_scale.json.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from generate_world import dense_scenario, dense_world  # noqa: E402
from harness import measure, save  # noqa: E402

CHILD = """
import datetime as dt, json, sys, time
from helpers.run.memory import tree_peak
from helpers import engine, features
folder, out = sys.argv[1], sys.argv[2]
con = engine.connect(memory_limit="6GB")              # spills to the system temp folder past the limit
t = time.perf_counter()
tx = con.read_parquet(f"{folder}/*.parquet", table_name="transactions")
summary = features.customer_summary(tx, dt.date(2025, 12, 31))
summary.to_parquet(out)
wall = time.perf_counter() - t
rows = con.raw_sql(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0]
print(json.dumps({"customers": rows, "transactions": int(tx.count().execute()), "wall_s": round(wall, 1),
                  "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(chunks: int = 10, per_chunk: int = 1_000_000) -> list[dict]:
    with tempfile.TemporaryDirectory() as root:
        scenario = dense_scenario(Path(root))
        parts = Path(root) / "tx"
        parts.mkdir()
        started = time.perf_counter()
        for k in range(chunks):
            world = Path(dense_world(scenario, root, per_chunk, seed=100 + k))
            duckdb.sql(
                f"COPY (SELECT * REPLACE (customer_id + {k * per_chunk} AS customer_id) "
                f"FROM read_parquet('{world / 'transactions.parquet'}')) "
                f"TO '{parts / f'part-{k:02d}.parquet'}' (FORMAT parquet, COMPRESSION zstd)"
            )
            shutil.rmtree(world)
        generation = time.perf_counter() - started
        r = measure(CHILD, parts, Path(root) / "summary.parquet")
        r["generation_s"] = round(generation, 1)
        print(
            f"{r['customers']:>12,} customers {r['transactions']:>14,} orders: generated in {chunks} chunks in "
            f"{generation:.0f} s; features on DuckDB {r['wall_s']:.1f} s, {r['peak_mb']:,} MB peak",
            flush=True,
        )
    save("scale", [r])
    return [r]


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
