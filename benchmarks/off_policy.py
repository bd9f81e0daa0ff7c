"""Does the off-policy estimate's 95% interval hold the played truth? The next best offer and the
optimised contact plan of the default audit world, each learned with every customer's own history
held out and valued from the campaign history alone (``helpers.audit.off_policy_check``), over
seeds FIRST..LAST of small worlds.

    .venv/bin/python benchmarks/off_policy.py [LAST | FIRST..LAST] [CUSTOMERS]

Seeds default 1..20, CUSTOMERS default 2,000 (the audit's default world; at 1,000 a fold of
customers holds too few push controls); worlds generated when missing, timed with the rest.
Writes benchmarks/off_policy.json (committed) after every seed, merged with the rows it already
holds for other seeds of the same size (so seeds can run in parts), and prints the coverage per
decision and method over all the seeds it holds.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure  # noqa: E402

CHILD = """
import json, sys, time
from pathlib import Path
import pandas as pd
from helpers.audit import load_variants, off_policy_check, variant_world
from helpers.run.memory import tree_peak
from helpers.run.notebook import world_data
first, last, customers = (int(a) for a in sys.argv[1:4])
out = Path(sys.argv[4])
old = json.loads(out.read_text()) if out.exists() else {"customers": None}
kept = [r for r in old.get("rows", []) if old["customers"] == customers and not first <= r["seed"] <= last]
variant = load_variants(only=["default"])[0]
t, rows, walls = time.perf_counter(), [pd.DataFrame(kept)], old.get("wall_s_per_seed", {})
for seed in range(first, last + 1):
    start = time.perf_counter()
    world = variant_world(variant, seed, n_customers=customers, n_prospects=max(customers // 20, 10))
    check = off_policy_check(world, world_data(world), seed)
    rows.append(check)
    print(check[check.method == "DR"][["seed", "decision", "estimate", "low", "high", "played_eur"]].to_string(
        index=False, header=seed == first), flush=True)
    walls[str(seed)] = round(time.perf_counter() - start, 1)
    table = pd.concat(rows, ignore_index=True).sort_values(["seed", "decision", "method"], kind="stable")
    coverage = table.groupby(["decision", "method"], sort=False).covers_played.mean().unstack().round(3)
    figures = {"wall_s": round(time.perf_counter() - t, 1), "peak_mb": round(tree_peak() / 2**20)}
    out.write_text(json.dumps({"seeds": sorted(table.seed.unique().tolist()), "customers": customers, **figures,
                               "wall_s_per_seed": walls,
                               "coverage_of_played": coverage.to_dict("index"), "rows": table.to_dict("records")},
                              indent=1) + "\\n")  # after every seed: a run cut short keeps what it measured
print(json.dumps({**figures, "seeds": table.seed.nunique(), "coverage": coverage.to_dict("index")}))
"""

if __name__ == "__main__":
    span = sys.argv[1] if len(sys.argv) > 1 else "20"
    first, last = (int(part) for part in span.split("..")) if ".." in span else (1, int(span))
    customers = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    figures = measure(CHILD, first, last, customers, Path(__file__).with_name("off_policy.json"))
    seeds = figures["seeds"]
    for decision, methods in figures["coverage"].items():
        shares = ", ".join(f"{method} {share:.0%}" for method, share in methods.items())
        print(f"{decision}: the 95% interval holds the played truth in {shares} of {seeds} seeds")
    wall, peak = figures["wall_s"], figures["peak_mb"]
    print(f"seeds {first}..{last} of {customers:,} customers: {wall:,.0f} s, peak {peak:,} MB")
