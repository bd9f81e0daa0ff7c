"""The synthetic customer world: a causal simulation whose truth is known and saved apart.

    world = ensure_world("retail_fr", seed=42)      # generate once, then reuse (cached by parameters)
    tx = world.table("transactions")                # the analyst's tables (pandas)
    result = world.play(plan, weeks=8, seed=1)      # play a contact plan forward against the truth

Analysis code reads only the contract tables; ``world.truth()`` is for cells titled
"Check against the truth".
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from helpers.data.contract import LOAD_ORDER
from helpers.paths import SYNTHETIC_DIR, relative_to_repo
from helpers.world.scenario import (
    GENERATOR_VERSION,
    WorldParameterError,
    WorldParameters,
    load_scenario,
    world_parameters,
)

if TYPE_CHECKING:
    from helpers.world.play import PlayResult

T = TypeVar("T")

__all__ = ["World", "WorldParameterError", "ensure_world", "generate_world", "load_world", "world_dir"]


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes (hex), read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_of(table: str) -> str:
    """File of a table inside a world folder (the truth sits apart, in truth/)."""
    return f"truth/{table}.parquet" if table == "truth" else f"{table}.parquet"


def world_dir(params: WorldParameters, spec: dict, root: Path = SYNTHETIC_DIR) -> Path:
    """``synthetic_data/<scenario>-<seed>-<key>/``: the key hashes every parameter and the scenario."""
    return Path(root) / f"{params.scenario}-{params.seed}-{params.key(spec)}"


@dataclass
class World:
    """A generated world on disk: contract tables, hidden truth, manifest and scenario."""

    path: Path
    manifest: dict
    spec: dict
    _kept: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def kept(self, name: str, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``name`` while ``key`` stays the same (one value per name, so
        memory stays bounded): the world's files never change, so what is derived from them (the
        end-of-history eligibility, play's counterfactual) is shared by every play of a notebook."""
        if name not in self._kept or self._kept[name][0] != key:
            self._kept.pop(name, None)
            self._kept[name] = (key, compute())
        return self._kept[name][1]

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One contract table as a pandas frame (dates as datetime64)."""
        if name not in LOAD_ORDER:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(LOAD_ORDER)}")
        return pq.read_table(self.path / f"{name}.parquet", columns=columns).to_pandas(date_as_object=False)

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    def truth(self, name: str = "truth") -> pd.DataFrame:
        """The hidden truth (read it only in cells titled "Check against the truth"); a subscription
        world also holds ``retention``, the true curves per cohort."""
        return pq.read_table(self.path / "truth" / f"{name}.parquet").to_pandas(date_as_object=False)

    def verify(self) -> list[str]:
        """Files whose sha256 differs from the manifest (empty when the world is intact)."""
        return [rel for rel, info in self.manifest["files"].items() if sha256_file(self.path / rel) != info["sha256"]]

    @property
    def parameters(self) -> dict:
        return self.manifest["parameters"]

    def eligibility(self) -> pd.DataFrame:
        """Customers (rows) x channels: True where the channel may legally reach them at the end of
        the history and respects their preference centre; see ``helpers.world.play.playable_channels``."""
        from helpers.world.play import playable_channels

        return playable_channels(self, list(self.spec["channels"])).copy()

    def play(self, plan: pd.DataFrame, weeks: int, seed: int) -> PlayResult:
        """Play a contact plan forward against the truth; see ``helpers.world.play.play``."""
        from helpers.world.play import play

        return play(self, plan, weeks, seed)

    def play_nurture(self, plan: pd.DataFrame, seed: int, touches: int = 3) -> PlayResult:
        """Play a nurturing plan for prospects; see ``helpers.world.nurture.play_nurture``."""
        from helpers.world.nurture import play_nurture

        return play_nurture(self, plan, seed, touches)


def generate_world(scenario: str | Path = "retail_fr", root: Path = SYNTHETIC_DIR, **overrides) -> World:
    """Generate a world from a scenario plus overrides (n_customers, n_prospects, start, end, seed,
    locale) and write it to ``world_dir``, replacing any world there. Parameters are checked before
    any work is done."""
    spec = load_scenario(scenario)
    params = world_parameters(scenario, spec=spec, **overrides)
    target = world_dir(params, spec, root)
    with _generation_lock(target):
        return _generate(spec, params, target)


@contextmanager
def _generation_lock(target: Path) -> Iterator[None]:
    """Held while the world ``target`` is generated, so one process generates it while others wait
    (an exclusive ``flock`` on ``<root>/.locks/<world>.lock``, released when the process ends
    however it ends). The empty lock file stays: removing it would let a waiting process and a
    newcomer lock two different files."""
    locks = target.parent / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{target.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _generate(spec: dict, params: WorldParameters, target: Path) -> World:
    """Write the world into ``.<world>.tmp`` beside ``target``, then publish it with a rename, so a
    reader never sees half a world. Call with the generation lock held: the temporary folder
    belongs to the lock holder (one left by a killed process is removed first)."""
    tmp, old = (target.with_name(f".{target.name}.{suffix}") for suffix in ("tmp", "old"))
    for leftover in (tmp, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        manifest = _write_world(spec, params, tmp)
        if target.exists():  # moved aside, not deleted under a reader, until the new one is in place
            target.rename(old)
        tmp.rename(target)
    finally:
        for leftover in (tmp, old):
            shutil.rmtree(leftover, ignore_errors=True)
    return World(target, manifest, spec)


def _write_world(spec: dict, params: WorldParameters, folder: Path) -> dict:
    """Write the tables, the truth, the manifest, the scenario and the data card into ``folder``;
    returns the manifest."""
    from helpers.world.datacard import data_card
    from helpers.world.generate import build_tables
    from helpers.world.subscriptions import build_subscription_tables, true_parameters

    (folder / "truth").mkdir(parents=True)

    def write_transactions(batches: Iterator[pa.RecordBatch]) -> None:
        first = next(batches)
        with pq.ParquetWriter(folder / "transactions.parquet", first.schema, compression="zstd") as writer:
            writer.write_batch(first)
            for batch in batches:
                writer.write_batch(batch)

    streamed: tuple[str, ...] = ()
    if spec.get("kind") == "subscriptions":
        tables = build_subscription_tables(spec, params)
        known = true_parameters(spec)
    else:
        tables = build_tables(spec, params, write_transactions)
        streamed = ("transactions",)
        known = {
            "bgnbd": {k: spec["purchases"][k] for k in ("r", "alpha", "a", "b")},
            "gamma_gamma": dict(spec["spend"]),
        }

    def write(name: str) -> None:
        pq.write_table(tables[name], folder / _file_of(name), compression="zstd")

    with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow writes outside the GIL
        list(pool.map(write, tables))
    names = (*streamed, *tables)
    files = {
        _file_of(name): {
            "sha256": sha256_file(folder / _file_of(name)),
            "rows": pq.ParquetFile(folder / _file_of(name)).metadata.num_rows,
        }
        for name in names
    }
    schemas = {name: pq.read_schema(folder / _file_of(name)) for name in names}
    manifest = {
        "scenario": params.scenario,
        "generator_version": GENERATOR_VERSION,
        "parameters": params.as_dict(),
        "key": params.key(spec),
        "true_parameters": known,
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (folder / "scenario.json").write_text(json.dumps(spec, indent=2, default=str) + "\n")  # keeps the YAML order
    (folder / "README.md").write_text(data_card(manifest, spec, schemas))
    return manifest


def load_world(path: str | Path) -> World:
    """Open a world written by ``generate_world`` (``World.verify`` checks its file hashes)."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{relative_to_repo(path)} holds no manifest.json: not a generated world.")
    manifest = json.loads(manifest_path.read_text())
    spec = json.loads((path / "scenario.json").read_text())
    return World(path, manifest, spec)


def ensure_world(scenario: str | Path = "retail_fr", root: Path = SYNTHETIC_DIR, **overrides) -> World:
    """The world for these parameters: loaded from its cache folder, generated first if missing.
    Safe across processes: when several ask for a missing world at once, one generates it and the
    others wait for it, then load it."""
    spec = load_scenario(scenario)
    params = world_parameters(scenario, spec=spec, **overrides)
    target = world_dir(params, spec, root)
    if not (target / "manifest.json").exists():
        with _generation_lock(target):
            if not (target / "manifest.json").exists():  # not made by another process while we waited
                return _generate(spec, params, target)
    return load_world(target)
