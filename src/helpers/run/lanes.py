"""Executing a playbook's notebooks, side by side where the machine allows it.

Each notebook reads its data and writes its own folder; the work two notebooks share (the world,
the arm models) goes through caches keyed by content and written whole, under a lock where it is
generated (``helpers.run.cache``, ``helpers.world``). No notebook reads another's output, so the
notebooks can run in any order or at once, and their outputs are the same either way: the number of
lanes changes the wall time, never a result. A kernel mostly keeps one core busy (pandas, the
kernel's start and imports), so on two cores two lanes take about half the time; each lane holds
one notebook's memory, so a large data set runs in one lane (``lanes``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.data.dataset import Dataset
from helpers.errors import Failure
from helpers.models.parallel import workers
from helpers.paths import NOTEBOOKS_DIR, relative_to_repo
from helpers.run.execute import coalesce_streams, execute_notebook
from helpers.run.memory import PeakMemory
from helpers.run.playbook import Playbook, Step

CHECKED_DATA = "data"  # the run folder's checked copy of an analyst's data
SIDE_BY_SIDE_CUSTOMERS = 250_000  # above this many customers a notebook's kernel needs gigabytes: one lane
MAX_LANES = 2  # the default's ceiling: measured on two cores only (beyond, try --jobs)


class RunFailed(Failure):
    """A notebook failed, or a run could not be reproduced; the message names the notebook or file."""


def lanes(playbook: Playbook, data: Dataset | None = None) -> int:
    """How many notebooks run at once by default: one per core up to ``MAX_LANES``, and one alone when
    the data hold more than ``SIDE_BY_SIDE_CUSTOMERS`` customers (the largest world a step asks
    for, or the rows of the analyst's customers table, else of its largest table)."""
    if data is not None:
        tables = data.report.tables
        largest = max(table.rows_kept for table in tables.values())
        customers = tables["customers"].rows_kept if "customers" in tables else largest
    else:
        asked = [playbook.parameters_for(step) for step in playbook.steps]
        customers = max(int(p.get("n_customers", 0)) + int(p.get("n_prospects", 0)) for p in asked)
    return 1 if customers > SIDE_BY_SIDE_CUSTOMERS else max(1, min(MAX_LANES, workers()))


@dataclass
class Executed:
    """Where a run's notebooks are: the ones finished, in the order they finished, and the ones that
    had started when the run stopped (a failure, a Ctrl-C)."""

    finished: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)


def execute(
    playbook: Playbook, run_dir: Path, executed: Executed, progress: Callable[[str], None] = print, jobs: int = 1
) -> None:
    """Execute the notebooks into ``run_dir``, ``jobs`` at a time in the playbook's order, recording
    in ``executed`` each one finished. At the first failure no other notebook starts, those running are
    stopped (recorded in ``executed.stopped``) and RunFailed names the notebook, the cell and the error,
    keeping the partly executed notebook; a Ctrl-C stops them the same way and raises KeyboardInterrupt.
    Reports each notebook's wall time and peak memory, and the lanes' together, through ``progress``."""
    from helpers.run.kernel import kill_running_kernels, killed_on_ctrl_c, threads_each

    threads = threads_each(max(1, workers() // jobs)) if jobs > 1 else nullcontext()
    with killed_on_ctrl_c(), threads, PeakMemory() as memory, ThreadPoolExecutor(jobs, "notebook") as pool:
        pending = {
            pool.submit(_execute_step, playbook, step, number, run_dir, progress): step.notebook
            for number, step in enumerate(playbook.steps, 1)
        }
        try:
            while pending:
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)  # a Ctrl-C lands within 0.5 s
                for future in sorted(done, key=list(pending).index):  # in the playbook's order
                    future.result()
                    executed.finished.append(pending.pop(future))
        except BaseException:
            executed.stopped = [stem for future, stem in pending.items() if not future.cancel()]  # started ones
            kill_running_kernels()
            raise
    if jobs > 1:
        progress(f"{len(playbook.steps)} notebooks, {jobs} at a time: peak memory together {memory.peak // 2**20:,} MB")


def _execute_step(playbook: Playbook, step: Step, number: int, run_dir: Path, progress: Callable[[str], None]) -> None:
    """Execute one notebook into ``run_dir`` (from the calling thread, whose kernel ``PeakMemory``
    follows); raise RunFailed naming its failed cell."""
    from papermill.exceptions import PapermillExecutionError

    from helpers.run.kernel import kernel_pid

    label = f"[{number}/{len(playbook.steps)}] {step.notebook}"
    target = run_dir / f"{step.notebook}.ipynb"
    started = time.perf_counter()
    progress(f"{label} ...")
    parameters = {**playbook.parameters_for(step), "output_dir": str(run_dir / step.notebook)}
    if parameters.get("data_dir") and parameters["data_dir"] == playbook.shared.get("data_dir"):
        parameters.update(data_dir=str(run_dir / CHECKED_DATA), mapping="")  # checked once, by run()
    thread = threading.get_ident()
    try:
        with PeakMemory(root=lambda: kernel_pid(thread)) as memory:
            execute_notebook(NOTEBOOKS_DIR / f"{step.notebook}.ipynb", target, parameters, progress, label)
    except PapermillExecutionError as exc:
        error = " ".join(exc.evalue.split())  # one line, whatever the notebook raised
        raise RunFailed(
            f"{step.notebook} failed at cell {exc.exec_count}: {exc.ename}: {error} "
            f"(the partly executed notebook is kept at {relative_to_repo(target)})"
        ) from exc
    clean_notebook(target)
    if not (run_dir / step.notebook / "metrics.json").exists():
        raise RunFailed(f"{step.notebook} ran but wrote no metrics.json to {relative_to_repo(target.with_suffix(''))}.")
    progress(f"{label} done in {time.perf_counter() - started:.1f} s, peak memory {memory.peak // 2**20:,} MB")


def clean_notebook(path: Path) -> None:
    """Drop what papermill records about time and paths and the random id it gives the cell it
    injects, and join split prints, so two runs differ only in the run folder."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["papermill"] = {
        k: v for k, v in nb.metadata.get("papermill", {}).items() if k in ("parameters", "default_parameters")
    }
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, path)
