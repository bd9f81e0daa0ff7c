"""Run the notebooks: the main job (papermill, outputs to reports/) and the refresh of the
stored reference outputs (in place, the same kernel nbval uses).

    python -m helpers.runner run        # main job: every notebook, default parameters
    python -m helpers.runner refresh    # re-execute notebooks/ in place (commit the result)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers.paths import NOTEBOOKS_DIR, REPO_ROOT, REPORTS_DIR, relative_to_repo

KERNEL = "python3"


def notebooks() -> list[Path]:
    """The stage notebooks in order (NN_verb_topic.ipynb)."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def run_all(output_dir: Path = REPORTS_DIR / "latest") -> None:
    """Execute every notebook with papermill into ``output_dir``; stop at the first failure,
    naming the notebook, keeping the partly executed copy for inspection."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output_dir.mkdir(parents=True, exist_ok=True)
    for nb in notebooks():
        target = output_dir / nb.name
        print(f"running {nb.name} -> {relative_to_repo(target)}", flush=True)
        try:
            pm.execute_notebook(str(nb), str(target), kernel_name=KERNEL, cwd=str(REPO_ROOT), progress_bar=False,
                                parameters={"output_dir": str(output_dir / nb.stem)})
        except PapermillExecutionError as exc:
            sys.exit(f"FAILED: {nb.name}, cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
                     f"The partly executed notebook is kept at {relative_to_repo(target)}.")


def refresh(path: Path) -> None:
    """Re-execute ``path`` in place with its default parameters and strip volatile metadata."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL, timeout=900, resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "refresh"])
    parser.add_argument("notebooks", nargs="*", help="refresh only these notebooks (default: all)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run_all()
        print(f"done: executed notebooks and metrics.json files are in {relative_to_repo(REPORTS_DIR / 'latest')}")
    else:
        for nb in [Path(p) for p in args.notebooks] or notebooks():
            print(f"refreshing {nb.name}", flush=True)
            refresh(nb)


if __name__ == "__main__":
    main()
