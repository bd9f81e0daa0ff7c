"""Every purchase model's fit and 12-month CLV at scale, and the most frequent customers' values.

    .venv/bin/python benchmarks/clv_models.py [customers...]

Input: the dense retail_fr variant of benchmarks/generate_world.py (about 20 orders per customer;
generation is not timed). In a fresh subprocess: the customer summary with repeat spend, Gamma-Gamma,
then for BG/NBD, Pareto/NBD and MBG/NBD the fit, the 12-month CLV of every customer and its 90%
interval (``clv_intervals.value_intervals``, 200 draws, timed apart), with the number of non-finite
values and of customers past the old Gauss-Jacobi limit (b + x > 1,024, where scipy's rule
overflowed and gave NaN); for BG/BB the log as quarterly opportunities (``opportunities.per_period``,
timed apart) and the fit (its CLV horizon is in opportunities, not months). Fit times are wall and
CPU seconds of this process (the machine may be shared: CPU time is the fairer comparison), with
their ratio to BG/NBD's. Writes benchmarks/results_clv_models.json.
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
from helpers.models import bg_bb, clv, clv_intervals, gamma_gamma, opportunities
from helpers.models.purchase_models import MODELS
from helpers.world import load_world
world = load_world(sys.argv[1])
as_of = dt.date.fromisoformat(world.parameters["end"])
con = engine.connect()
tx = engine.read_table(con, world.table_path("transactions"), "transactions")
summary = gamma_gamma.with_repeat_spend(features.execute(features.customer_summary(tx, as_of)), tx, as_of)
spend = gamma_gamma.fit(summary)
out = {"customers": len(summary), "max_frequency": int(summary.frequency.max())}
def timed(f, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = f(*args)
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)
for name in ("bgnbd", "pareto_nbd", "mbg_nbd"):
    fit, out[f"{name}_fit_s"], out[f"{name}_fit_cpu_s"] = timed(MODELS[name].fit, summary)
    value, out[f"{name}_clv_s"], _ = timed(clv.customer_value, summary, fit, spend)
    out[f"{name}_nonfinite"] = int((~np.isfinite(value.clv)).sum())
    out[f"{name}_total_eur"] = round(float(value.clv.sum()))
    wall, cpu = time.perf_counter(), time.process_time()
    bands = clv_intervals.value_intervals(summary, fit, spend, draws=200, seed=1)
    out[f"{name}_intervals_s"] = round(time.perf_counter() - wall, 2)
    out[f"{name}_intervals_cpu_s"] = round(time.process_time() - cpu, 2)
    out[f"{name}_interval_nonfinite"] = int((~np.isfinite(bands.customers.select_dtypes("number"))).sum().sum())
    if name == "bgnbd":
        out["past_old_limit"] = int((fit.params["b"] + summary.frequency > 1024).sum())
quarters, out["bg_bb_summary_s"], _ = timed(opportunities.per_period, tx, as_of, "quarter")
fit, out["bg_bb_fit_s"], out["bg_bb_fit_cpu_s"] = timed(bg_bb.fit, quarters.summary)
x, t_x, n = (quarters.summary[c] for c in ("frequency", "recency", "T"))
out["bg_bb_nonfinite"] = int((~np.isfinite(bg_bb.expected_purchases(fit.values, x, t_x, n, 4))).sum())
print(json.dumps({**out, "peak_mb": round(tree_peak() / 2**20)}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as root:
        scenario = dense_scenario(Path(root))
        for n in sizes:
            r = measure(CHILD, dense_world(scenario, root, n))
            results.append(r)
            print(
                f"{r['customers']:>10,} customers (max frequency {r['max_frequency']:,}, "
                f"{r['past_old_limit']} past the old limit), {r['peak_mb']:,} MB peak; BG/BB's quarterly "
                f"opportunities built in {r['bg_bb_summary_s']:.2f} s",
                flush=True,
            )
            print(table(r), flush=True)
    save("clv_models", results)
    return results


def table(r: dict) -> str:
    """One row per model: fit wall and CPU seconds, CPU ratio to BG/NBD, CLV seconds, CLV-with-interval
    wall and CPU seconds, non-finite values."""
    head = ("model", "fit s", "fit CPU s", "x BG/NBD", "CLV s", "interval s", "interval CPU s", "non-finite")
    lines = [f"{head[0]:<12}" + "".join(f"{h:>15}" for h in head[1:])]
    for m in ("bgnbd", "pareto_nbd", "mbg_nbd", "bg_bb"):
        ratio = r[f"{m}_fit_cpu_s"] / max(r["bgnbd_fit_cpu_s"], 1e-9)
        cells = [r[f"{m}_fit_s"], r[f"{m}_fit_cpu_s"], ratio, *(r.get(f"{m}_{k}") for k in ("clv_s", "intervals_s"))]
        cells += [r.get(f"{m}_intervals_cpu_s"), r[f"{m}_nonfinite"] + r.get(f"{m}_interval_nonfinite", 0)]
        lines.append(
            f"{m:<12}"
            + "".join(f"{c:>15.2f}" if isinstance(c, float) else f"{c if c is not None else '-':>15}" for c in cells)
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
