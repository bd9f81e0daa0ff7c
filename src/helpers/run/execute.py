"""Executing notebooks: on a local kernel that starts and stops quietly, with a heartbeat on long
ones. ``refresh`` re-executes the stored reference notebooks in place with their default
parameters (``playbook refresh`` or ``make notebooks``; commit the result); ``execute_notebook``
runs one with parameters through papermill (playbook runs, ``helpers.run.runs``)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT

KERNEL = "python3"
HEARTBEAT_SECONDS = 30.0
SETUP = "setting up (libraries, then the data)"  # the heartbeat's section between the parameters and the first heading


class _KernelStoppedOnPurpose(logging.Filter):
    """A Ctrl-C stops the kernel in the middle of a cell: the client's task waiting on that cell then
    ends with "Kernel died", which asyncio logs when the task is collected, after the run's own one-line
    message (tests/run/test_runs.py's Ctrl-C saw it printed last, in one run of two)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from nbclient.exceptions import DeadKernelError

        return not (record.exc_info and isinstance(record.exc_info[1], DeadKernelError))


logging.getLogger("asyncio").addFilter(_KernelStoppedOnPurpose())


def notebooks() -> list[Path]:
    """The stage notebooks in order (NN_verb_topic.ipynb)."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def section_headings(path: Path) -> dict[str, str]:
    """Cell id -> the section heading (a markdown line starting with "#") above the cell; ``SETUP`` for
    the code cells after the ``parameters`` cell and before the next heading (imports, the data)."""
    heading, found, after_parameters = "", {}, False
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            titles = [line.lstrip("#").strip() for line in "".join(cell["source"]).splitlines() if line.startswith("#")]
            heading, after_parameters = (titles[-1], False) if titles else (heading, after_parameters)
        found[cell.get("id", "")] = SETUP if after_parameters and cell["cell_type"] == "code" else heading
        after_parameters = after_parameters or "parameters" in cell.get("metadata", {}).get("tags", [])
    return found


class Heartbeat:
    """Every ``every`` seconds while a notebook runs, one line through ``progress``: the label, the
    section of the cell being executed and the elapsed time. Use as a context manager; give
    ``cell_started`` to the notebook client as its ``on_cell_start`` hook."""

    def __init__(self, label: str, headings: dict[str, str], progress: Callable[[str], None], every: float) -> None:
        self.label, self.headings, self.progress, self.every = label, headings, progress, every
        self.section = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def cell_started(self, cell: Any, cell_index: int) -> None:
        self.section = self.headings.get(cell.get("id", ""), self.section)

    def _beat(self) -> None:
        started = time.perf_counter()
        while not self._stop.wait(self.every):
            elapsed = int(time.perf_counter() - started)
            where = f": {self.section}" if self.section else ""
            self.progress(f"    {self.label}{where} ({elapsed // 60} min {elapsed % 60:02d} s)")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def execute_notebook(
    source: Path,
    target: Path,
    parameters: dict,
    progress: Callable[[str], None] = print,
    label: str = "",
    every: float = HEARTBEAT_SECONDS,
) -> None:
    """Execute ``source`` with ``parameters`` into ``target`` (papermill, from the repository's
    root) on a ``kernel.LocalKernel``, with a ``Heartbeat`` through ``progress`` every ``every`` seconds.
    Raises papermill's PapermillExecutionError when a cell fails."""
    import papermill as pm

    from helpers.run.kernel import LocalKernel, killed_on_ctrl_c

    with killed_on_ctrl_c(), Heartbeat(label or source.stem, section_headings(source), progress, every) as heartbeat:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(REPO_ROOT),
            progress_bar=False,
            kernel_manager_class=LocalKernel,
            on_cell_start=heartbeat.cell_started,
        )


def refresh(path: Path) -> None:
    """Re-execute ``path`` in place with its default parameters; strip volatile metadata and join
    split prints."""
    import nbformat
    from nbclient import NotebookClient

    from helpers.run.kernel import LocalKernel

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=900,
        resources={"metadata": {"path": str(REPO_ROOT)}},
        kernel_manager_class=LocalKernel,
    ).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


def coalesce_streams(outputs: list) -> list:
    """Adjacent stdout (or stderr) outputs as one: the kernel splits a print's text into messages
    at random times, which must not change the notebook's bytes."""
    merged: list = []
    for out in outputs:
        if (
            merged
            and out.output_type == "stream"
            and merged[-1].output_type == "stream"
            and out.name == merged[-1].name
        ):
            merged[-1].text += out.text
        else:
            merged.append(out)
    return merged
