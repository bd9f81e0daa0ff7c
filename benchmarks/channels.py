"""Contact-plan optimisation at scale: customers x 5 channels under a budget and two capacities.

    .venv/bin/python benchmarks/channels.py [customers...]

Expected incremental margins (one arm per channel: email, SMS, postal, phone, push) and eligibility
(70% per channel) are drawn with numpy (not timed); in a fresh subprocess each method plans under a
budget of 0.12 EUR per customer, a phone capacity of 1% of customers and a print run of 10%: the
Lagrangian alone, and auto (the Lagrangian's prices, then the exact program over the customers at
the margin when it holds up to 3,000 candidate pairs). Prints time, peak memory, method and the
certified gap; writes benchmarks/results_channels.json.
Targets: 1M customers x 5 channels in <= 30 s and <= 3 GB; exact, or a certified gap <= 0.01%.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

CHILD = """
import json, sys, time
from helpers.run.memory import tree_peak
import numpy as np, pandas as pd
from helpers.decide import contact_plan as channels
n, method = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
names = ["email", "sms", "postal", "phone", "push"]
arm_table = pd.DataFrame({"arm": names, "channel": names, "cost_per_contact": [0.005, 0.05, 1.0, 3.0, 0.001]})
index = pd.Index(np.arange(1, n + 1), name="customer_id")
values = pd.DataFrame(rng.gamma(0.8, [0.05, 0.25, 1.0, 2.5, 0.02], size=(n, 5)) - [0.0, 0.05, 0.2, 0.5, 0.0],
                      columns=names, index=index)
eligible = pd.DataFrame(rng.random((n, 5)) < 0.7, columns=names, index=index)
t = time.perf_counter()
plan, diag = channels.optimise_contact_plan(values, arm_table, eligible, budget=0.12 * n,
                                            capacities={"phone": 0.01 * n, "postal": 0.10 * n}, method=method)
wall = time.perf_counter() - t
print(json.dumps({"customers": n, "channels": 5, "method": diag.method, "wall_s": round(wall, 2),
                  "contacts": diag.contacts,
                  "objective_eur": round(diag.objective, 2), "bound_eur": round(diag.bound, 2), "gap": diag.gap,
                  "binding": diag.binding, "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    for n in sizes:
        for method in ("lagrangian", "auto"):
            r = measure(CHILD, n, method)
            results.append(r)
            print(
                f"{r['customers']:>10,} customers x 5 channels, {r['method']}: {r['wall_s']:.1f} s, "
                f"{r['peak_mb']:,} MB peak, {r['contacts']:,} contacts, {r['objective_eur']:,.2f} EUR, certified gap "
                f"{r['gap']:.5%} (binding: {', '.join(r['binding'])})",
                flush=True,
            )
    save("channels", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
