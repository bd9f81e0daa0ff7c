"""What a notebook costs before its work starts, measured in the kernel it runs on (``run.kernel.LocalKernel``,
as ``playbook run`` starts it): the kernel's start, then its import cell (the statements of the first code
cell after the parameters, up to the call of ``open_data``: the imports, ``plots.set_theme()``, display
options), then ``open_data`` (00, generating a world instead, has none); and the CLI's ``playbook list``
and ``playbook check``.

    .venv/bin/python benchmarks/startup.py [--repeat 3] [NN ...]

Prints, for each notebook, the medians over the repetitions of the kernel's start (wall from launch to
ready, and the kernel process's CPU by then), the import cell's CPU and wall and ``open_data``'s CPU (in
seconds), and where the import cell's time goes: the libraries it loads that a kernel has not loaded
yet, by their own import time (``python -X importtime``, wall, one run), largest first; the machine's
load average beside them. Writes benchmarks/results_startup.json. Target (issue 22): a notebook starts
in at most 1.5 s.
"""

import argparse
import ast
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import save  # noqa: E402

from helpers.run.kernel import LocalKernel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("00", "10", "20", "21", "22", "30", "35", "40", "45", "50")
TIMED = """import json as _json, time as _time
_cpu, _wall = _time.process_time(), _time.perf_counter()
{code}
print(_json.dumps({{"cpu": _time.process_time() - _cpu, "wall": _time.perf_counter() - _wall}}))"""
KERNEL_HAS = "import ipykernel.kernelapp, IPython"  # loaded before a notebook's first cell


def start_statements(notebook: Path) -> dict[str, str]:
    """The notebook's ``parameters`` cell, its ``imports`` (the first code cell after it, up to the
    statement calling ``open_data`` or the first compound statement, as 00's ``if``) and its ``open_data``
    (the statements from the end of the imports up to the one assigning ``open_data``'s result; empty
    when the notebook has none before its first compound statement)."""
    cells = [
        "".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"
    ]
    parts: dict[str, list[str]] = {"imports": [], "open_data": []}
    for index, source in enumerate(cells[1:]):
        for node in ast.parse(source).body:
            statement = ast.get_source_segment(source, node)
            if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try):
                return {"parameters": cells[0], "imports": "\n".join(parts["imports"]), "open_data": ""}
            opens = "open_data(" in statement
            parts["open_data" if opens or index or parts["open_data"] else "imports"].append(statement)
            if opens:
                return {"parameters": cells[0], **{part: "\n".join(lines) for part, lines in parts.items()}}
    raise ValueError(f"{notebook.name}: no call of open_data and no compound statement in its code cells")


async def timed(client, code: str) -> dict:
    """Run ``code`` in the kernel of ``client``; its CPU and wall (s) there. A failing cell fails the
    benchmark with the kernel's error."""
    printed: list[str] = []

    def keep(message: dict) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            sys.exit("benchmark cell failed:\n" + "\n".join(message["content"]["traceback"])[-3000:])

    await client.execute_interactive(TIMED.format(code=code), output_hook=keep, timeout=600)
    return json.loads("".join(printed).strip().splitlines()[-1])


async def start_once(statements: dict[str, str]) -> dict:
    """One fresh kernel: its start (wall to ready, its CPU then), the import cell's and open_data's figures."""
    manager = LocalKernel(kernel_name="python3")
    launched = time.perf_counter()
    await manager.start_kernel(cwd=str(REPO))
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        ready = time.perf_counter() - launched
        kernel_cpu = (await timed(client, "_cpu = 0.0"))["cpu"]  # the process's CPU since its launch
        await timed(client, statements["parameters"])
        imports = await timed(client, statements["imports"])
        opened = await timed(client, statements["open_data"]) if statements["open_data"] else {"cpu": float("nan")}
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
    return {"kernel_wall": ready, "kernel_cpu": kernel_cpu, "imports_cpu": imports["cpu"]} | {
        "imports_wall": imports["wall"],
        "open_data_cpu": opened["cpu"],
    }


def import_costs(statements: dict[str, str]) -> dict[str, float]:
    """Own import time (s, wall) of each top-level library the import cell loads beyond what a kernel has
    loaded (``helpers`` by subpackage), largest first, in an interpreter run as a kernel runs it."""
    code = "\n".join((KERNEL_HAS, statements["parameters"], statements["imports"]))
    environment = os.environ | {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=REPO, env=environment
    )
    rows = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")][1:]
    names = [row[2].rstrip() for row in rows]
    cell = max(i for i, name in enumerate(names) if name in (" ipykernel.kernelapp", " IPython")) + 1
    costs: dict[str, float] = {}
    for row, name in zip(rows[cell:], names[cell:], strict=True):
        parts = name.strip().split(".")
        library = ".".join(parts[:2]) if parts[0] == "helpers" else parts[0]
        costs[library] = costs.get(library, 0.0) + int(row[0].split(":")[1]) / 1e6
    return dict(sorted(costs.items(), key=lambda item: -item[1]))


def cli_cpu(*args: str) -> float:
    """Process CPU (user + system, seconds) of one ``playbook`` command."""
    before = os.times()
    subprocess.run([str(Path(sys.executable).with_name("playbook")), *args], check=True, capture_output=True)
    after = os.times()
    return after.children_user - before.children_user + after.children_system - before.children_system


COLUMNS = ("kernel_wall", "kernel_cpu", "imports_cpu", "imports_wall", "open_data_cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=NOTEBOOKS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = []
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.repeat}; seconds")
    print(
        f"{'notebook':<36} {'kernel wall':>11} {'kernel CPU':>10} {'import CPU':>10} {'import wall':>11} "
        f"{'open_data CPU':>13}  where the import cell goes (s)"
    )
    for number in args.notebooks:
        notebook = next((REPO / "notebooks").glob(f"{number}_*.ipynb"))
        statements = start_statements(notebook)
        runs = [asyncio.run(start_once(statements)) for _ in range(args.repeat)]
        row = {key: statistics.median(run[key] for run in runs) for key in COLUMNS}
        row["import_costs"] = import_costs(statements)
        results.append({"name": notebook.stem, **row, "load": os.getloadavg()[0]})
        where = ", ".join(f"{library} {cost:.2f}" for library, cost in list(row["import_costs"].items())[:6])
        print(
            f"{notebook.stem:<36} {row['kernel_wall']:>11.2f} {row['kernel_cpu']:>10.2f} {row['imports_cpu']:>10.2f} "
            f"{row['imports_wall']:>11.2f} {row['open_data_cpu']:>13.2f}  {where}",
            flush=True,
        )
    for command in (["list"], ["check", "--data", "tests/exports/clean_fr"]):
        cpu = statistics.median(cli_cpu(*command) for _ in range(args.repeat))
        results.append({"name": f"playbook {' '.join(command)}", "cpu": cpu, "load": os.getloadavg()[0]})
        print(f"{'playbook ' + ' '.join(command):<36} {cpu:>10.2f} CPU", flush=True)
    save("startup", results)
    print(f"done at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
