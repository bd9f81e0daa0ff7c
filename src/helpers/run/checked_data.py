"""Data loaded and checked once: the tables as the loader accepted them, written as Parquet with the
data quality report, and opened from there by every notebook instead of reading and checking the
files again: a playbook run's own data in its run folder (``<run>/data/``), a synthetic world's
tables beside the world cache (``.checked/<world>-<key>/``, keyed by the world's files and the loader)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import helpers.data
import helpers.engine
from helpers.data.contract import LOAD_ORDER, PERSONAL_COLUMNS, DataContractError
from helpers.data.dataset import MEMORY_LIMIT, Dataset, load_tables
from helpers.data.quality import DataQualityReport, TableReport
from helpers.engine import connect, read_table
from helpers.paths import relative_to_repo
from helpers.run.cache import digest, mark_used, prune, write_whole
from helpers.world import World

CHECKED = "checked.json"  # the quality report; its presence marks a folder the run wrote


def load_once(data_dir: str | Path, mapping: str = "", progress: Callable[[str], None] = print) -> Dataset:
    """The analyst's data in ``data_dir`` (read with ``mapping``) loaded and checked, every table
    (the notebooks say which they need), with a line through ``progress``."""
    started = time.perf_counter()
    data = load_tables(data_dir, mapping or None, required=())
    progress(f"data: {', '.join(data.tables)} loaded and checked once in {time.perf_counter() - started:.1f} s")
    return data


def shown_path(path: str | Path) -> str:
    """A path as a report may show it: relative to the repository inside it, else its name alone
    (never the analyst's absolute folders)."""
    shown = relative_to_repo(Path(path))
    return Path(path).name if Path(shown).is_absolute() else shown


def write_checked(data: Dataset, folder: Path, shown_as: str, identifiers: bool = False) -> None:
    """Each table of ``data`` as ``folder/<table>.parquet``, without the direct identifiers unless
    ``identifiers`` (no analysis of own data reads them; the run folder is delivered), and its quality
    report as ``folder/checked.json``, the data's folder written ``shown_as`` (its name, never the
    analyst's absolute path)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in data.tables.items():
        dropped = [] if identifiers else [c for c in PERSONAL_COLUMNS if c in table.columns]
        table.drop(*dropped).to_parquet(folder / f"{name}.parquet")
    mapping = data.report.mapping
    report = {
        **dataclasses.asdict(data.report),
        "source": shown_as,
        "mapping": mapping if mapping in ("none", "given") else shown_path(mapping),
    }
    (folder / CHECKED).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def is_checked(folder: str | Path) -> bool:
    """Is ``folder`` a run's checked copy of its data?"""
    return (Path(folder) / CHECKED).is_file()


def open_checked(folder: str | Path, required: tuple[str, ...] = (), source: Path | None = None) -> Dataset:
    """The checked copy in ``folder`` as a Dataset (its tables in a new DuckDB, its quality report as
    written; ``source``: the folder it was read from, default ``folder``), without checking the rows
    again. Refuses a ``required`` table it lacks."""
    folder = Path(folder)
    report = json.loads((folder / CHECKED).read_text(encoding="utf-8"))
    report["tables"] = {name: TableReport(**report["tables"][name]) for name in LOAD_ORDER if name in report["tables"]}
    missing = [name for name in required if name not in report["tables"]]
    if missing:
        raise DataContractError(
            "missing_table",
            f"{report['source']} has no {', '.join(missing)} file, which this analysis needs: name one "
            f"{missing[0]}.csv, .parquet or .xlsx, or set tables.{missing[0]}.file in the mapping.",
        )
    con = connect(memory_limit=MEMORY_LIMIT)
    tables = {}
    for name in report["tables"]:
        con.create_table(name, read_table(con, folder / f"{name}.parquet", f"{name}_parquet"))
        tables[name] = con.table(name)
    quality = DataQualityReport(**report)
    return Dataset(con, tables, quality, source or folder, quality.currency)


def checked_world(world: World, required: tuple[str, ...] = ()) -> Dataset:
    """A synthetic world's contract tables, loaded and checked like any analyst's folder (dates up
    to the world's last day allowed) the first time, then opened from their checked copy (0.2 s
    instead of 3-4 s of checks per notebook). The copy's key is the world's files and the loader's
    code, so a regenerated world or a changed rule is checked again; it is written whole or not at
    all (a folder renamed into place). ``required``: the tables the analysis needs."""
    folder = world.path.parent / ".checked" / f"{world.path.name}-{_copy_key(world.path)}"
    if not is_checked(folder):
        latest = dt.date.fromisoformat(world.parameters["end"])
        data = load_tables(world.path, latest_date=latest, required=required)
        damaged = folder.exists()  # there but not checked: a copy is renamed in whole, so damaged, replaced
        write_whole(folder, lambda partial: write_checked(data, partial, data.report.source, True), damaged)
        prune(folder.parent, keep=folder)  # copies of older worlds and older loaders, least recently used first
    else:
        mark_used(folder)
    return open_checked(folder, required, source=world.path)


def _copy_key(world_dir: Path) -> str:
    """12 hex digits of a hash of the versions of the libraries that read and check the world's tables,
    of its table files and of the loader's source files."""
    loader = [*sorted(Path(helpers.data.__file__).parent.glob("*.py")), Path(helpers.engine.__file__)]
    tables = sorted(p for p in world_dir.iterdir() if p.is_file())
    return digest(packages=("duckdb", "ibis-framework", "pandera", "pyarrow"), files=[*tables, *loader])[:12]
