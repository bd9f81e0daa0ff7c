"""Wall time and peak memory of world generation at 10k, 100k and 1M customers.

    .venv/bin/python benchmarks/generate_world.py [sizes...]

The issue sizes the benchmark at about 20 orders per customer over the history. The calibrated
retail_fr world makes about 4 over ten years (a fashion retailer's rhythm), so the benchmark runs
a denser variant: the same scenario with purchases.alpha = 1.3 (mean rate 0.23 a week) and
drop-out p ~ Beta(1, 30), over 2016-2025. Each size runs in a fresh subprocess; peak memory
(`memory.tree_peak`) is its own. Prints one table and writes benchmarks/results_generate_world.json.
Target (issue 2): 1M customers <= 30 s, <= 3 GB.
"""

import sys
import tempfile
from pathlib import Path

import yaml

from helpers.paths import SCENARIOS_DIR, SYNTHETIC_DIR

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

DENSE_PURCHASES = {"alpha": 1.3, "a": 1.0, "b": 30.0}

CHILD = """
import json, sys, time
from helpers.run.memory import tree_peak
from helpers.world import generate_world
n, scenario, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
w = generate_world(scenario, root=root, n_customers=n, n_prospects=n // 4, start="2016-01-01", seed=1)
wall = time.perf_counter() - t0
rows = w.manifest["files"]["transactions.parquet"]["rows"]
print(json.dumps({"customers": n, "transactions": rows, "wall_s": round(wall, 2),
                  "peak_mb": round(tree_peak() / 2**20)}))
"""


def dense_scenario(folder: Path) -> Path:
    """retail_fr with DENSE_PURCHASES, written to ``folder``."""
    spec = yaml.safe_load((SCENARIOS_DIR / "retail_fr.yml").read_text())
    spec["purchases"].update(DENSE_PURCHASES)
    path = folder / "retail_fr_dense.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


MAKE = """
import json, sys
from helpers.world import generate_world
w = generate_world(sys.argv[1], root=sys.argv[2], n_customers=int(sys.argv[3]), n_prospects=0, start="2016-01-01",
                   seed=int(sys.argv[4]))
print(json.dumps({"path": str(w.path)}))
"""


def dense_world(scenario: Path, root: str, n: int, seed: int = 1) -> str:
    """Generate a dense world of ``n`` customers in a fresh process (untimed); return its folder."""
    return measure(MAKE, scenario, root, n, seed)["path"]


CACHED = """
import json, sys
from helpers.world import ensure_world
w = ensure_world(sys.argv[1], root=sys.argv[2], n_customers=int(sys.argv[3]), n_prospects=0, start="2016-01-01",
                 seed=int(sys.argv[4]))
print(json.dumps({"path": str(w.path)}))
"""
BENCH_WORLDS = SYNTHETIC_DIR / "bench"  # git-ignored, like every generated world


def cached_dense_world(n: int, seed: int = 1) -> Path:
    """The dense world of ``n`` customers from the world cache (synthetic_data/bench/), generated in a
    fresh process the first time (untimed; a 1M world takes minutes and several GB)."""
    BENCH_WORLDS.mkdir(parents=True, exist_ok=True)
    return Path(measure(CACHED, dense_scenario(BENCH_WORLDS), BENCH_WORLDS, n, seed)["path"])


def main(sizes: list[int]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as root:
        scenario = dense_scenario(Path(root))
        for n in sizes:
            r = measure(CHILD, n, scenario, root)
            results.append(r)
            print(
                f"{r['customers']:>10,} customers {r['transactions']:>12,} orders "
                f"({r['transactions'] / r['customers']:.1f} each) {r['wall_s']:>7.2f} s {r['peak_mb']:>7,} MB peak",
                flush=True,
            )
    save("generate_world", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
