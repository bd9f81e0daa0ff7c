"""Before a playbook runs: do its data hold every table each notebook needs?

A notebook says what it cannot do without in one place, the ``required`` of its ``open_data`` call
(``helpers.run.notebook``; default: the transaction log), which the notebook checks itself when it
runs alone and which is read here from its source, as papermill reads its parameters cell. A
notebook whose tables the data lack refuses the run at once, naming the table and the notebook, or
is left out with a note when its step says ``if_tables_missing: skip``. The tables are found by
their files and the mapping, without reading a row; a synthetic world holds every table.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from helpers.data.contract import LOAD_ORDER, REQUIRED_TABLES
from helpers.data.files import locate_files, permission_denied_is_unreadable
from helpers.data.mapping import read_mapping, repo_path
from helpers.paths import NOTEBOOKS_DIR
from helpers.run.execute import notebooks
from helpers.run.playbook import Playbook, PlaybookError, Step, available, load

NO_CONSENTS = (
    "The data have no consents table: nobody has a recorded opt-in or a phone number screened against "
    "Bloctel, so e-mail, SMS and phone are closed to every customer and only letters may be sent (e-mail "
    "and SMS rules send nothing, contact plans hold letters only). Add a consents table to open them."
)


@dataclass(frozen=True)
class Preflight:
    """What a playbook's data allow: the playbook reduced to the notebooks that can run, the
    notebooks left out (stem -> tables the data lack) and the notes to show."""

    playbook: Playbook
    skipped: dict[str, tuple[str, ...]]
    notes: tuple[str, ...]


def needed_tables(stem: str) -> tuple[str, ...]:
    """The tables notebook ``stem`` cannot do without: the ``required`` of its ``open_data`` calls."""
    path = NOTEBOOKS_DIR / f"{stem}.ipynb"
    return _needed(path, path.stat().st_mtime)


@functools.cache
def _needed(path: Path, mtime: float) -> tuple[str, ...]:
    needed: list[str] = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or "open_data(" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "open_data":
                given = [k.value for k in node.keywords if k.arg == "required"]
                try:
                    tables = ast.literal_eval(given[0]) if given else REQUIRED_TABLES
                except ValueError:
                    raise PlaybookError(f"{path.name}: open_data's required must be a tuple of table names.") from None
                needed += [t for t in tables if t not in needed]
    return tuple(needed)


def tables_found(data_dir: str | Path, mapping: str = "") -> tuple[str, ...]:
    """The contract tables a data folder holds a file for (in load order), by name or mapping."""
    folder = repo_path(data_dir)
    with permission_denied_is_unreadable(folder):
        spec, _ = read_mapping(folder, mapping or None)
        files, _ = locate_files(folder, spec, ())
    return tuple(t for t in LOAD_ORDER if t in files)


def missing_tables(steps: tuple[Step, ...], tables: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Notebook -> the tables it needs that ``tables`` lack, for each step that cannot run."""
    lacking = {s.notebook: tuple(t for t in needed_tables(s.notebook) if t not in tables) for s in steps}
    return {stem: missing for stem, missing in lacking.items() if missing}


def preflight_check(playbook: Playbook) -> Preflight:
    """Check the playbook's data hold the tables of its notebooks (see the module doc). Raises
    PlaybookError naming every notebook that cannot run and the tables it lacks."""
    if not playbook.shared.get("data_dir"):
        return Preflight(playbook, {}, ())
    folder = playbook.shared["data_dir"]
    tables = tables_found(folder, playbook.shared.get("mapping", ""))
    lacking = missing_tables(playbook.steps, tables)
    refused = [s.notebook for s in playbook.steps if s.notebook in lacking and s.if_tables_missing == "refuse"]
    if refused:
        holds = ", ".join(tables) or "no contract table"
        raise PlaybookError(
            f"{playbook.name} cannot run on {Path(folder).name}/ (it holds {holds}): "
            f"{_needs({stem: lacking[stem] for stem in refused})}. Add the missing tables, run a playbook these "
            f"data support (`playbook check --data DIR`), or mark the notebook `if_tables_missing: skip` in "
            f"{playbook.path.name}."
        )
    steps = tuple(s for s in playbook.steps if s.notebook not in lacking)
    if not steps:
        raise PlaybookError(f"{playbook.name}: no notebook can run on {Path(folder).name}/ ({_needs(lacking)}).")
    notes = [
        f"Skipped {stem}: it needs {', '.join(missing)}, which the data lack." for stem, missing in lacking.items()
    ]
    if "consents" not in tables:
        notes.append(NO_CONSENTS)
    return Preflight(replace(playbook, steps=steps), lacking, tuple(notes))


def _needs(lacking: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{stem} needs {', '.join(missing)}" for stem, missing in lacking.items())


def data_support(tables: tuple[str, ...]) -> str:
    """Which playbooks and notebooks data holding ``tables`` support, in words, one a line."""
    lines = ["Playbooks:"]
    for name in available():
        steps = load(name).steps
        lacking = missing_tables(steps, tables)
        refused = {
            s.notebook: lacking[s.notebook] for s in steps if s.notebook in lacking and s.if_tables_missing == "refuse"
        }
        verdict = f"no: {_needs(refused)}" if refused else f"yes, without {', '.join(lacking)}" if lacking else "yes"
        lines.append(f"  {name:<20} {verdict}")
    lines.append("Notebooks:")
    for stem in (p.stem for p in notebooks()):
        missing = missing_tables((Step(stem),), tables).get(stem)
        lines.append(f"  {stem:<34} " + (f"no: needs {', '.join(missing)}" if missing else "yes"))
    return "\n".join(lines)
