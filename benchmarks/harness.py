"""What every benchmark does: run the measured code in a fresh Python process and keep the figures
it prints. Each child reports its peak memory with ``helpers.run.memory.tree_peak`` (VmHWM): ru_maxrss
would start at this process's size, which Linux copies into every child it starts."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def measure(child: str, *args) -> dict:
    """Run ``child`` (Python source) with ``args`` in a fresh process; return the JSON object it
    prints last, echoing its other printed lines (progress) as they come. A failing child fails
    the benchmark, with its error."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", child, *map(str, args)], stdout=subprocess.PIPE, stderr=errors, text=True
        )
        lines = []
        for line in process.stdout:
            lines.append(line)
            if not line.startswith("{"):
                print(f"  {line}", end="", flush=True)
        if process.wait() != 0:
            errors.seek(0)
            sys.exit(f"benchmark child failed:\n{errors.read()[-3000:]}")
    return json.loads(lines[-1])


def save(name: str, results: list[dict]) -> None:
    """Write ``results`` to benchmarks/results_<name>.json (git-ignored)."""
    Path(__file__).with_name(f"results_{name}.json").write_text(json.dumps(results, indent=2) + "\n")
