"""The decision audit against the truth: every decision and its baselines against its oracle, over
seeds and the world variants of src/helpers/audit/variants.yml.

    .venv/bin/python benchmarks/audit.py [SEEDS] [CUSTOMERS]

SEEDS per variant (default 20); CUSTOMERS overrides every variant's size (default: the YAML's). In
a fresh subprocess: ``helpers.audit.audit_report`` (worlds generated first when missing, and timed
with the rest). Writes benchmarks/audit.json (committed: a change that makes a decision worse
shows up in its diff) with the wall time and the peak memory of the run, and reports/audit/
(audit.md, audit.png, audit_rows.csv).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure  # noqa: E402

CHILD = """
import json, sys, time
from helpers.audit import audit_report, load_variants
from helpers.paths import REPORTS_DIR
from helpers.run.memory import tree_peak
seeds, customers = int(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
audit_report(load_variants(), seeds, REPORTS_DIR / "audit", world={"n_customers": customers} if customers else None)
print(json.dumps({"wall_s": round(time.perf_counter() - t, 1), "peak_mb": round(tree_peak() / 2**20)}))
"""

if __name__ == "__main__":
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    customers = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    figures = measure(CHILD, seeds, customers)
    report = json.loads((Path(__file__).parents[1] / "reports" / "audit" / "audit.json").read_text())
    Path(__file__).with_name("audit.json").write_text(json.dumps({**report, **figures}, indent=1) + "\n")
    print(f"{seeds} seeds per variant: {figures['wall_s']:,.0f} s, peak {figures['peak_mb']:,} MB")
