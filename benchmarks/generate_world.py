"""Wall time and peak memory of world generation at 10k, 100k and 1M customers.

    .venv/bin/python benchmarks/generate_world.py [sizes...]

Each size runs in a fresh subprocess so peak memory (ru_maxrss) is its own. Prints one table and
writes benchmarks/results_generate_world.json. Target (issue 2): 1M customers <= 30 s, <= 3 GB.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from helpers.world import generate_world
n, root = int(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
w = generate_world("retail_fr", root=root, n_customers=n, n_prospects=n // 4, start="2016-01-01", seed=1)
wall = time.perf_counter() - t0
rows = w.manifest["files"]["transactions.parquet"]["rows"]
print(json.dumps({"customers": n, "transactions": rows, "wall_s": round(wall, 2),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def main(sizes: list[int]) -> None:
    results = []
    with tempfile.TemporaryDirectory() as root:
        for n in sizes:
            out = subprocess.run([sys.executable, "-c", CHILD, str(n), root], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(f"{r['customers']:>10,} customers {r['transactions']:>12,} orders "
                  f"({r['transactions'] / r['customers']:.1f} each) {r['wall_s']:>7.2f} s {r['peak_mb']:>7,} MB peak", flush=True)
    Path(__file__).with_name("results_generate_world.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
