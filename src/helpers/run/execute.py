"""Refresh the notebooks' stored reference outputs: re-execute them in place with their default
parameters, on the same kernel nbval uses (``playbook refresh`` or ``make notebooks``; commit the
result). Playbook runs are ``helpers.run.runs``."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT

KERNEL = "python3"


def notebooks() -> list[Path]:
    """The stage notebooks in order (NN_verb_topic.ipynb)."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def refresh(path: Path) -> None:
    """Re-execute ``path`` in place with its default parameters; strip volatile metadata and join
    split prints."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL, timeout=900, resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
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
