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
    """Re-execute ``path`` in place with its default parameters and strip volatile metadata."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL, timeout=900, resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
