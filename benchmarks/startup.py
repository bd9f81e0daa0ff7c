"""CPU a notebook spends starting: its parameters cell and first code cells, up to the statement
that assigns ``open_data``'s result (00, generating a world instead, up to that), each in a fresh
interpreter, and the CLI's ``playbook list`` and ``playbook check``.

    .venv/bin/python benchmarks/startup.py [--repeat 3] [NN ...]

Prints the median process CPU (``time.process_time``, seconds) of each over the repetitions, and
the machine's load average beside it; writes benchmarks/results_startup.json. Target (issue 22):
a notebook starts in at most 1.5 s.
"""

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import measure, save  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("00", "10", "20", "21", "30", "35", "40", "45", "50")
CHILD = """
import json, sys, time
start = time.process_time()
namespace = {"__name__": "__main__"}
imported = None
for kind, source in json.loads(sys.argv[1]):
    exec(compile(source, "<cell>", "exec"), namespace)
    if kind == "imports":
        imported = time.process_time() - start
print(json.dumps({"imports": imported, "open_data": time.process_time() - start}))
"""


def start_statements(notebook: Path) -> list[tuple[str, str]]:
    """The parameters cell, then the first code cells' statements, each tagged ``imports`` (an
    import) or ``open_data`` (the rest), up to the assignment from ``open_data``; they stop before
    the first compound statement (an ``if``, a loop: the notebook's work, as 00 generating a world)."""
    cells = [
        "".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"
    ]
    statements = [("parameters", cells[0])]
    for source in cells[1:]:
        for node in ast.parse(source).body:
            if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try):
                return statements
            kind = "imports" if isinstance(node, ast.Import | ast.ImportFrom) else "open_data"
            statements.append((kind, ast.get_source_segment(source, node)))
            if isinstance(node, ast.Assign) and "open_data(" in statements[-1][1]:
                return statements
    return statements


def cli_cpu(*args: str) -> float:
    """Process CPU (user + system, seconds) of one ``playbook`` command."""
    before = os.times()
    subprocess.run([str(Path(sys.executable).with_name("playbook")), *args], check=True, capture_output=True)
    after = os.times()
    return after.children_user - before.children_user + after.children_system - before.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=NOTEBOOKS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = []
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.repeat}; process CPU (s)")
    print(f"{'notebook':<40} {'imports':>8} {'open_data':>10}")
    for number in args.notebooks:
        notebook = next((REPO / "notebooks").glob(f"{number}_*.ipynb"))
        statements = json.dumps(start_statements(notebook))
        runs = [measure(CHILD, statements) for _ in range(args.repeat)]
        row = {key: statistics.median(run[key] for run in runs) for key in ("imports", "open_data")}
        results.append({"name": notebook.stem, **row, "load": os.getloadavg()[0]})
        print(f"{notebook.stem:<40} {row['imports']:>8.2f} {row['open_data']:>10.2f}", flush=True)
    for command in (["list"], ["check", "--data", "tests/exports/clean_fr"]):
        cpu = statistics.median(cli_cpu(*command) for _ in range(args.repeat))
        results.append({"name": f"playbook {' '.join(command)}", "cpu": cpu, "load": os.getloadavg()[0]})
        print(f"{'playbook ' + ' '.join(command):<40} {cpu:>8.2f}", flush=True)
    save("startup", results)
    print(f"done at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
