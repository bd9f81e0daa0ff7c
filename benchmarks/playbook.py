"""Wall time and peak memory of the whole `tour` playbook (every notebook, report.html and
report.pdf) at 10k, 100k and 1M customers on the default scenario, and of each notebook.

    .venv/bin/python benchmarks/playbook.py [sizes...]

Each size runs in a fresh process into a scratch folder; the world is generated inside the run
(notebook 00) unless already cached. A notebook's peak memory is the runner's own figure for that
notebook's kernel and its children (`memory.PeakMemory`); the whole run's is the largest of those,
the notebooks' together when two run at once (`lanes`), and the runner's (`memory.tree_peak`). Prints one table
with a line per notebook, writes benchmarks/results_playbook.json.
Targets: at most 90 s at 10k customers (issue 8); completes at 1M on a 2-core, 24 GB machine (issue 9).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

CHILD = """
import json, re, sys, tempfile, time
from helpers.run import playbook, runs
from helpers.run.memory import tree_peak
n = int(sys.argv[1])
tour = playbook.load("tour")  # a quarter as many prospects, except where a step sets its own (22: subscribers only)
prospects = [f"{s.notebook}.n_prospects={n // 4}" for s in tour.steps if "n_prospects" not in s.parameters]
book = playbook.with_settings(tour, [f"n_customers={n}", *prospects])
steps, lanes = {}, []
def progress(line):
    print(line, flush=True)
    done = re.match(r"\\[\\d+/\\d+\\] (\\S+) done in ([\\d.]+) s, peak memory ([\\d,]+) MB", line)
    if done:
        steps[done[1]] = {"wall_s": float(done[2]), "peak_mb": int(done[3].replace(",", ""))}
    together = re.search(r"peak memory together ([\\d,]+) MB", line)
    if together:
        lanes.append(int(together[1].replace(",", "")))
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    runs.run(book, out, progress=progress)
wall = time.perf_counter() - t0
peak = max([tree_peak() // 2**20, *lanes, *(s["peak_mb"] for s in steps.values())])
print(json.dumps({"customers": n, "wall_s": round(wall, 1), "peak_mb": peak,
                  "notebooks": steps}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    print(f"{'customers':>10} {'step':<36} {'wall s':>8} {'peak MB':>8}")
    for n in sizes:
        r = measure(CHILD, n)
        results.append(r)
        for name, step in r["notebooks"].items():
            print(f"{n:>10,} {name:<36} {step['wall_s']:>8.1f} {step['peak_mb']:>8,}")
        print(f"{n:>10,} {'whole run (notebooks + report)':<36} {r['wall_s']:>8.1f} {r['peak_mb']:>8,}", flush=True)
    save("playbook", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
