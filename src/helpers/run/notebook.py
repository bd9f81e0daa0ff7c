"""What every notebook does: open its data (own folder, the run's checked copy of it, or a synthetic
world), record key figures and headlines, print the versions it ran with.

The data parameters (``DATA_PARAMETERS``: where the data come from and the engine) are the run's:
a playbook passes the ones it sets to every notebook, and ``open_data`` takes the others' defaults,
so a notebook's parameters cell declares only the parameters its own cells read."""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from helpers.data.contract import REQUIRED_TABLES
from helpers.data.dataset import Dataset, load_tables
from helpers.paths import notebook_output_dir, relative_to_repo
from helpers.run.cache import CACHE, ArmStore
from helpers.run.checked_data import checked_world, is_checked, open_checked
from helpers.run.headlines import check_keys
from helpers.world import World, ensure_world
from helpers.world.scenario import world_settings

DATA_PARAMETERS: dict[str, dict] = {  # name -> {type, default (as source text), help}, like a parameters cell
    name: {"type": kind, "default": default, "help": meaning}
    for name, kind, default, meaning in (
        ("scenario", "str", '"retail_fr"', "scenario file in synthetic_data/scenarios/ (name or path)"),
        ("n_customers", "int", "20_000", "customers who bought at least once"),
        ("n_prospects", "int", "5_000", "prospects, not yet buyers"),
        ("start", "str", '"2022-01-01"', "first day of the transaction history"),
        ("end", "str", '"2025-12-31"', 'last day of the history: the "as of" date'),
        ("seed", "int", "42", "drives every random draw"),
        ("locale", "str", '"fr_FR"', "faker locale for identities"),
        ("data_dir", "str", '""', "folder of your own exports (empty: the synthetic world above)"),
        ("mapping", "str", '""', "mapping YAML for data_dir (empty: data_dir/mapping.yml if present)"),
        ("engine", "str", '"duckdb"', "where the transaction log is processed: duckdb, pyspark or an Ibis URL"),
        ("as_of", "str", '""', "analysis date (empty: the world's end, or your last order date)"),
    )
}


WORLD_FOR_TABLE = {
    "subscriptions": "subscription_fr"
}  # the default world of a notebook needing a table retail_fr lacks

KEY_PACKAGES = (
    "relation-playbooks",
    "pandas",
    "numpy",
    "scipy",
    "duckdb",
    "ibis-framework",
    "pyarrow",
    "pandera",
    "faker",
    "scikit-learn",
    "statsmodels",
    "seaborn",
    "matplotlib",
    "papermill",
    "nbval",
)


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def write_metrics(
    notebook: str, metrics: dict, output_dir: str | Path | None = None, headlines: Sequence[dict] = ()
) -> None:
    """Write ``metrics`` (nested dict of numbers and strings) and the notebook's ``headlines`` (each from
    ``helpers.run.headlines.headline``, under the key "headlines") to ``<output_dir>/metrics.json``.

    Floats are rounded to 6 decimals and keys sorted so the file is byte-stable across runs. A headline
    quoting a name missing inside a section of ``metrics`` is refused. Prints the path, relative to the
    repository (the report leaves that line out of the cell tagged "metrics").
    """
    check_keys(list(headlines), metrics)
    folder = notebook_output_dir(notebook, output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.json"
    path.write_text(json.dumps(_clean({**metrics, "headlines": list(headlines)}), indent=2, sort_keys=True) + "\n")
    print(f"Key figures written to {relative_to_repo(path)}")


def versions() -> pd.DataFrame:
    """Versions of the packages behind the results (the notebook's closing 'watermark')."""
    return pd.DataFrame({"package": KEY_PACKAGES, "version": [version(p) for p in KEY_PACKAGES]})


def world_data(world: World, required: tuple[str, ...] = REQUIRED_TABLES) -> Dataset:
    """A synthetic world's contract tables, loaded and checked like any analyst's folder (dates up
    to the world's last day are allowed; checked once, then opened from the checked copy:
    ``checked_data.checked_world``); ``required``: the tables the analysis needs."""
    return checked_world(world, required)


def open_data(parameters: Mapping, required: tuple[str, ...] = REQUIRED_TABLES) -> tuple[Dataset, World | None]:
    """What a notebook analyses, from its parameters (pass ``globals()``; a data parameter it does not
    hold takes its default from ``DATA_PARAMETERS``): the analyst's folder ``data_dir`` (read with
    ``mapping``, or ``mapping.yml`` beside the data; a run's checked copy is opened as it is) if set;
    else the synthetic world of the world parameters (``world.scenario.WORLD_KEYS``; those not given
    take the scenario's defaults; without a scenario, the one of ``WORLD_FOR_TABLE`` holding a
    ``required`` table, else retail_fr), generated first if missing. Both go through the same loader
    and contract; the world comes back too (None for own data), for its truth and play().
    ``required``: the tables the notebook cannot do without (a playbook run checks them before any
    notebook runs); ``engine``: where the transaction log is processed (``engine.connect``: duckdb,
    pyspark or an Ibis URL)."""
    values = {n: parameters.get(n, ast.literal_eval(p["default"])) for n, p in DATA_PARAMETERS.items()}
    if values["data_dir"]:
        if is_checked(values["data_dir"]):
            data = open_checked(values["data_dir"], required)
        else:
            data = load_tables(values["data_dir"], values["mapping"] or None, required=required)
        return data.on_engine(values["engine"]), None
    given = world_settings(parameters)  # the others: the scenario's own defaults
    default = next((WORLD_FOR_TABLE[t] for t in required if t in WORLD_FOR_TABLE), values["scenario"])
    world = ensure_world(given.pop("scenario", default), **given)
    return world_data(world, required).on_engine(values["engine"]), world


def arm_store(data: Dataset, world: World | None) -> ArmStore | None:
    """Where the training table and arm models of ``data`` are kept between notebooks (``next_best_offer``'s store),
    beside the data: ``<world root>/.cache`` for a synthetic world (out of the world's folder), the run
    folder's ``.cache`` for a run's checked copy of own data (out of its manifest); None for another
    folder of own data (nothing is written among an analyst's exports: every notebook fits afresh)."""
    if world is not None:
        return ArmStore(world.path.parent / CACHE)
    source = Path(data.source)
    return ArmStore(source.parent / CACHE) if is_checked(source) else None


def analysis_date(data: Dataset, as_of: str = "", world: World | None = None) -> dt.date:
    """The "as of" date: ``as_of`` if given, else the world's last day, else the last order date,
    else (no transaction log) today."""
    if as_of:
        return dt.date.fromisoformat(as_of)
    if world is not None:
        return dt.date.fromisoformat(world.parameters["end"])
    if not data.has("transactions"):
        return dt.date.today()
    last = data.table("transactions").order_date.max().execute()
    return pd.Timestamp(last).date()
