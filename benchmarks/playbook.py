"""Wall time and peak memory of the whole `tour` playbook (every notebook, report.html and
report.pdf) at 10k and 100k customers on the default scenario.

    .venv/bin/python benchmarks/playbook.py [sizes...]

Each size runs in a fresh process into a scratch folder; the world is generated inside the run
(notebook 00) unless already cached. Peak memory is the largest resident set of any process of
the run (the runner or a notebook's kernel: ru_maxrss of the process and of its children).
Prints one table plus the time per notebook, writes benchmarks/results_playbook.json.
Target (issue 8): at most 90 s at 10k customers.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

CHILD = """
import json, re, resource, sys, tempfile, time
from helpers import playbook, runs
n = int(sys.argv[1])
book = playbook.with_settings(playbook.load("tour"), [f"n_customers={n}", f"n_prospects={n // 4}"])
steps = {}
def progress(line):
    done = re.match(r"\\[\\d+/\\d+\\] (\\S+) done in ([\\d.]+) s", line)
    if done:
        steps[done[1]] = float(done[2])
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    runs.run(book, out, progress=progress)
wall = time.perf_counter() - t0
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(json.dumps({"customers": n, "wall_s": round(wall, 1), "peak_mb": round(peak / 1024),
                  "notebooks_s": steps}))
"""


def main(sizes: list[int]) -> list[dict]:
    results = []
    print(f"{'customers':>10} {'wall s':>8} {'peak MB':>8}  per notebook (s)")
    for n in sizes:
        r = measure(CHILD, n)
        results.append(r)
        per = ", ".join(f"{k.split('_')[0]} {v:.1f}" for k, v in r["notebooks_s"].items())
        print(f"{r['customers']:>10,} {r['wall_s']:>8.1f} {r['peak_mb']:>8,}  {per}", flush=True)
    save("playbook", results)
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
