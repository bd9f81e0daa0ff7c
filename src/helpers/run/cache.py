"""Work done once and reused, never through notebook order: a result stored under a key, the sha256 of
everything it depends on (its input rows, its parameters, the versions of the libraries and the source
of the modules that compute it), written whole (renamed into place) and read back only if the digest
stored with it checks; a damaged file is computed again and replaced. The world's checked copy
(``checked_data``) is keyed and written the same way; the training table, arm models, features and off-policy
scores notebooks 30 and 40 share go through ``ArmStore``, in the ``CACHE`` folder beside the data
(``notebook.arm_store``). A folder of stored results keeps at most ``CACHE_LIMIT`` bytes (``prune``)."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import pandas as pd

if TYPE_CHECKING:
    import numpy as np

    from helpers.data.dataset import Dataset
    from helpers.models.uplift import ArmFit, ArmModel

CACHE = ".cache"  # the stored results' folder: beside a world (not in it), in a run folder (not in its manifest)
FITTING_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy")  # their versions key every arm model
TABLE_PACKAGES = (*FITTING_PACKAGES, "duckdb", "ibis-framework", "pyarrow")  # and the tables ``ArmStore.table`` keeps
FITTING_CODE = ("helpers.decide.next_best_offer", "helpers.models.uplift", "helpers.models.effects")  # their source too
DRAWN_CODE = (*FITTING_CODE, "helpers.models.off_policy")  # the source that keys ``ArmStore.drawn``'s results
LOCKS = ".locks"  # in a cache folder: the lock files of ``alone`` (never pruned)
CACHE_LIMIT = 2**30  # bytes a cache folder keeps (arm models, checked copies); beyond it the least recently used go
IN_USE = 3600  # seconds: an entry used this recently is never pruned (a running notebook may be reading it)
T = TypeVar("T")


def digest(parts: Iterable[bytes] = (), packages: Iterable[str] = (), files: Iterable[Path] = ()) -> str:
    """Hex sha256 of the versions of ``packages``, the names and bytes of ``files``, then ``parts``
    (each with its length, so no two lists of parts run together)."""
    key = hashlib.sha256(" ".join(version(p) for p in packages).encode())
    for path in files:
        key.update(path.name.encode() + b"\0")
        _feed(key, path)
    for part in parts:
        key.update(len(part).to_bytes(8, "little") + part)
    return key.hexdigest()


def _feed(key: hashlib._Hash, path: Path) -> None:
    """Stream ``path``'s bytes into ``key``, 16 MiB at a time (a world's file can hold gigabytes)."""
    with path.open("rb") as file:
        while chunk := file.read(1 << 24):
            key.update(chunk)


def frame_digest(frame: pd.DataFrame) -> bytes:
    """sha256 of a frame's content: column names and types, and every row's values in order (not the index)."""
    key = hashlib.sha256("\0".join(f"{name}:{kind}" for name, kind in frame.dtypes.items()).encode())
    key.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return key.digest()


def write_whole(target: Path, write: Callable[[Path], object], damaged: bool = False) -> None:
    """``write`` a sibling of ``target`` (a file or a folder), then rename it into place, so a reader finds
    all of it or nothing. A file there is replaced; a folder only if ``damaged`` (else another process
    put its copy in place first, the same content, and ours is dropped)."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    _remove(partial)
    write(partial)
    if damaged:
        _remove(target)
    try:
        partial.replace(target)
    except OSError:  # a folder already in place (os.replace moves a folder only onto an empty one)
        _remove(partial)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def reuse(path: Path, compute: Callable[[], T]) -> T:
    """The object stored at ``path`` if its digest checks, else ``compute()``, stored there (whole) for the
    next caller: a missing or damaged file costs one computation, never a wrong result. Two processes
    asking at once compute it once: the second waits for the first's (``alone``)."""
    value = stored(path)
    if value is None:
        with alone(path):
            value = stored(path)  # stored by another process while this one waited
            if value is None:
                value = compute()
                keep(path, value)
    return value  # type: ignore[return-value]  # what compute() gave for this key, stored or now


@contextmanager
def alone(entry: Path) -> Iterator[None]:
    """While the block runs, no other process runs a block ``alone`` with the same ``entry``: an exclusive
    ``flock`` on ``<folder>/.locks/<entry>.lock``, released however the process ends. Two notebooks side by
    side (``lanes``) then fit a model once, one waiting for the other's file instead of fitting it too.
    Nested blocks follow the computations' own calls (a key's computation only asks for keys below it),
    so no two processes wait on each other. The empty lock file stays, as ``helpers.world``'s does."""
    locks = entry.parent / LOCKS
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{entry.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def stored(path: Path) -> object | None:
    """The object ``keep`` stored at ``path`` if the file is there and its digest checks (a read marks it
    used), else None (None itself is never stored)."""
    try:
        blob = memoryview(path.read_bytes())  # sliced without copies: a stored table can hold gigabytes
    except FileNotFoundError:  # never stored, or pruned by another process since
        return None
    head, body = blob[:32], blob[32:]
    if not body or hashlib.sha256(body).digest() != head:
        return None
    mark_used(path)
    return pickle.loads(body)  # our own file, and intact: the digest checked


def keep(path: Path, value: object) -> None:
    """Store ``value`` at ``path`` (whole: a reader finds all of it or nothing), then prune the folder (``prune``)."""
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda partial: _write_parts(partial, hashlib.sha256(blob).digest(), blob))
    prune(path.parent, keep=path)


def _write_parts(path: Path, *parts: bytes) -> None:
    with path.open("wb") as file:
        for part in parts:
            file.write(part)


def mark_used(entry: Path) -> None:
    """Record that ``entry`` (a stored file or folder) was just read: ``prune`` removes the least recently used."""
    try:
        os.utime(entry)
    except FileNotFoundError:  # pruned by another process since: the reader already holds it
        pass


def prune(folder: Path, limit: int = CACHE_LIMIT, keep: Path | None = None) -> list[Path]:
    """Remove ``folder``'s stored entries (files or folders), least recently used first, until they
    hold at most ``limit`` bytes. Kept: ``keep``, entries used in the last ``IN_USE`` seconds (another
    notebook may be reading them) and partial writes. Returns the removed entries. A removed entry
    costs its next reader one computation, never a different result."""
    now = time.time()
    entries = []
    for entry in folder.iterdir() if folder.is_dir() else ():
        try:
            entries.append((entry.stat().st_mtime, _size(entry), entry))
        except FileNotFoundError:  # removed meanwhile
            continue
    total = sum(size for _, size, _ in entries)
    removed = []
    for used, size, entry in sorted(entries):
        if total <= limit:
            break
        if entry == keep or now - used < IN_USE or entry.name.endswith(".partial") or entry.name == LOCKS:
            continue
        try:
            _remove(entry)
        except FileNotFoundError:  # another process pruned it first
            pass
        total -= size
        removed.append(entry)
    return removed


def _size(entry: Path) -> int:
    """Bytes in ``entry``: a file's size, or the sum of a folder's files."""
    if not entry.is_dir():
        return entry.stat().st_size
    return sum(path.stat().st_size for path in entry.rglob("*") if path.is_file())


@dataclass(frozen=True)
class ArmStore:
    """``next_best_offer.fit_arms``' store: each arm model in ``folder/arm-<key>.pickle``, the key the
    arm's training rows, the seed, arm, outcome, ``MAX_TRAINING_ROWS``, numpy's CPU features, the fitting
    libraries' versions and the fitting modules' source: the model ``fit`` would give, fitted at most once."""

    folder: Path

    def models(self, fits: list[ArmFit], fit: Callable[[list[ArmFit]], list[ArmModel]]) -> list[ArmModel]:
        """The model of each of ``fits``: read if stored, the others from one call of ``fit`` (which may
        fit them side by side), then stored."""
        from helpers.decide.next_best_offer import MAX_TRAINING_ROWS  # loaded already: fit_arms calls this

        code, math = [Path(_source(name)) for name in FITTING_CODE], _math_path()
        rows: dict[int, bytes] = {}  # each arm's rows hashed once for all its outcomes (they share one positions array)
        paths = []
        for arm_fit in fits:
            settings = f"{arm_fit.seed}\0{arm_fit.arm}\0{arm_fit.outcome}\0{MAX_TRAINING_ROWS}\0{math}"
            if id(arm_fit.positions) not in rows:
                rows[id(arm_fit.positions)] = frame_digest(arm_fit.rows())
            key = digest([rows[id(arm_fit.positions)], settings.encode()], FITTING_PACKAGES, code)
            paths.append(self.folder / f"arm-{key}.pickle")
        models = [stored(path) for path in paths]
        if any(model is None for model in models):
            batch = hashlib.sha256("".join(path.name for path in paths).encode()).hexdigest()
            with alone(self.folder / f"arms-{batch}"):  # the same arms asked by a notebook beside this one
                models = [m if m is not None else stored(p) for m, p in zip(models, paths, strict=True)]
                missing = [i for i, model in enumerate(models) if model is None]
                for i, model in zip(missing, fit([fits[i] for i in missing]), strict=True):
                    keep(paths[i], model)
                    models[i] = model
        return models  # type: ignore[return-value]  # each stored by this method, or just fitted

    def drawn(
        self, name: str, inputs: list[pd.DataFrame | str], rng: np.random.Generator, compute: Callable[[], T]
    ) -> T:
        """``compute()``, which reads ``inputs`` (frames and strings) and draws from ``rng``, computed at most
        once: ``folder/<name>-<key>.pickle``, the key the inputs, ``rng``'s state, the math path, the fitting
        libraries' versions and ``DRAWN_CODE``'s source; kept with the state ``compute`` left ``rng`` in,
        which a stored result restores, so the draws after it are those computing it would have left."""
        parts = [frame_digest(part) if isinstance(part, pd.DataFrame) else part.encode() for part in inputs]
        state = json.dumps(rng.bit_generator.state, sort_keys=True)
        code = [Path(_source(module)) for module in DRAWN_CODE]
        key = digest([*parts, state.encode(), _math_path().encode()], FITTING_PACKAGES, code)
        path = self.folder / f"{name}-{key}.pickle"
        kept = reuse(path, lambda: (compute(), rng.bit_generator.state))
        result, rng.bit_generator.state = cast(tuple[T, dict], kept)  # the pair this method stores
        return result

    def table(self, data: Dataset, name: str, parameters: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``build()``, a table computed from ``data`` (``name`` and ``parameters`` say which), built at most
        once: ``folder/<name>-<key>.pickle``, the key the data's files, its tables' columns and engine,
        ``parameters``, the math path, the versions of the libraries that read and compute it and the
        source of every helpers module (whatever the table's code calls)."""
        shape = [(table, tuple(data.tables[table].columns)) for table in sorted(data.tables)]
        settings = f"{parameters}\0{shape}\0{data.con.name}\0{_math_path()}".encode()
        parts = [_folder_digest(Path(data.source)), _folder_digest(Path(__file__).parents[1], "*.py"), settings]
        return reuse(self.folder / f"{name}-{digest(parts, TABLE_PACKAGES)}.pickle", build)


def _folder_digest(folder: Path, pattern: str = "*") -> bytes:
    """sha256 of the relative paths, sizes and bytes of ``folder``'s files matching ``pattern``, at any depth."""
    key = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        key.update(str(path.relative_to(folder)).encode() + b"\0" + path.stat().st_size.to_bytes(8, "little"))
        _feed(key, path)
    return key.digest()


def _math_path() -> str:
    """The CPU features numpy's math runs with here and the OpenBLAS kernels asked for (AVX-512 or
    not, Haswell or the CPU's own change the last bit of exp, log and products): a model fitted in a
    notebook's kernel (``kernel.SAME_MATH_EVERYWHERE``) is not the one an in-process audit fits on an
    AVX-512 machine."""
    from numpy._core._multiarray_umath import __cpu_features__

    blas = os.environ.get("OPENBLAS_CORETYPE", "the CPU's own")
    return " ".join([*sorted(name for name, on in __cpu_features__.items() if on), f"OpenBLAS: {blas}"])


def _source(module: str) -> str:
    """The file of ``module``, found without importing it (scikit-learn stays unloaded at a notebook's start)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(module)
    return spec.origin
