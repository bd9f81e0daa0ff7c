"""What every benchmark does: run the measured code in a fresh Python process (so the peak memory,
ru_maxrss, is that run's own) and keep the figures it prints."""

import json
import subprocess
import sys
from pathlib import Path


def measure(child: str, *args) -> dict:
    """Run ``child`` (Python source) with ``args`` in a fresh process; return the JSON object it
    prints last. A failing child fails the benchmark, with its error."""
    out = subprocess.run([sys.executable, "-c", child, *map(str, args)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def save(name: str, results: list[dict]) -> None:
    """Write ``results`` to benchmarks/results_<name>.json (git-ignored)."""
    Path(__file__).with_name(f"results_{name}.json").write_text(json.dumps(results, indent=2) + "\n")
