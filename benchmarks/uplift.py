"""Uplift fitting and scoring at scale: customers x 3 offers.

    .venv/bin/python benchmarks/uplift.py [customers...]

A campaign history of N customers spread over 3 arms (85% treated, 15% control) with 24 numeric
features and known heterogeneous effects is simulated with numpy (not timed); then, in a fresh
subprocess: the per-arm learner selection by held-out Qini and refit (helpers.decide.next_best_offer.fit_arms,
conversion and margin outcomes), and the scoring of all N customers on every arm and outcome.
Prints the breakdown, writes benchmarks/results_uplift.json.
Target (issue 5): 1M customers x 3 offers, fit + score in <= 60 s and <= 4 GB.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

CHILD = """
import json, sys, time
from helpers.run.memory import tree_peak
import numpy as np, pandas as pd
from helpers.decide import next_best_offer as nbo
n = int(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.normal(size=(n, 24)).astype(np.float64)
arm = rng.integers(0, 3, n)
w = (rng.random(n) < 0.85).astype(int)
p0 = 0.05 + 0.2 / (1 + np.exp(-X[:, 0]))
tau = np.clip(0.01 * (arm + 1) + 0.03 * np.tanh(X[np.arange(n), 1 + arm]) - 0.2 * (p0 - 0.15), -p0, 1 - p0)
converted = (rng.random(n) < p0 + w * tau).astype(float)
table = pd.DataFrame(X, columns=[f"x{i}" for i in range(24)])
table = table.assign(campaign_id=arm, customer_id=np.arange(n),
                     arm=pd.Series(["email", "sms", "postal"]).to_numpy()[arm], w=w,
                     converted=converted, margin=converted * rng.gamma(6, 6, n), window_revenue=0.0)
t = time.perf_counter()
models = nbo.fit_arms(table, np.random.default_rng(1))
fit_s = time.perf_counter() - t; t = time.perf_counter()
features = table[nbo.feature_columns(table)]
scores = [nbo.score_customers(models, features, list(features.columns), outcome) for outcome in ("converted", "margin")]
score_s = time.perf_counter() - t
print(json.dumps({"customers": n, "arms": 3, "fit_s": round(fit_s, 2), "score_s": round(score_s, 2),
                  "total_s": round(fit_s + score_s, 2),
                  "chosen": {f"{a}/{o}": m.learner.name for (a, o), m in models.items()},
                  "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    for n in sizes:
        r = measure(CHILD, n)
        results.append(r)
        print(
            f"{r['customers']:>10,} customers x 3 offers: fit {r['fit_s']:.1f} s, score {r['score_s']:.1f} s, "
            f"total {r['total_s']:.1f} s, {r['peak_mb']:,} MB peak",
            flush=True,
        )
    save("uplift", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
