"""Work done once and reused, never through notebook order: a result stored under a key, the sha256 of
everything it depends on (its input rows, its parameters, the versions of the libraries and the source
of the modules that compute it), written whole (renamed into place) and read back only if the digest
stored with it checks; a damaged file is computed again and replaced. The world's checked copy
(``checked_data``) is keyed and written the same way; the arm models notebooks 30 and 40 share go
through ``ArmStore``, in the ``CACHE`` folder beside the data (``notebook.arm_store``)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from helpers.models.uplift import ArmModel

CACHE = ".cache"  # the stored results' folder: beside a world (not in it), in a run folder (not in its manifest)
FITTING_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy")  # their versions key every arm model
FITTING_CODE = ("helpers.decide.next_best_offer", "helpers.models.uplift", "helpers.models.effects")  # their source too
T = TypeVar("T")


def digest(parts: Iterable[bytes] = (), packages: Iterable[str] = (), files: Iterable[Path] = ()) -> str:
    """Hex sha256 of the versions of ``packages``, the names and bytes of ``files``, then ``parts``
    (each with its length, so no two lists of parts run together)."""
    key = hashlib.sha256(" ".join(version(p) for p in packages).encode())
    for path in files:
        key.update(path.name.encode() + b"\0" + path.read_bytes())
    for part in parts:
        key.update(len(part).to_bytes(8, "little") + part)
    return key.hexdigest()


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
    next caller: a missing or damaged file costs one computation, never a wrong result."""
    blob = path.read_bytes() if path.is_file() else b""
    head, body = blob[:32], blob[32:]
    if body and hashlib.sha256(body).digest() == head:
        return pickle.loads(body)  # our own file, and intact: the digest checked
    value = compute()
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda partial: partial.write_bytes(hashlib.sha256(body).digest() + body))
    return value


@dataclass(frozen=True)
class ArmStore:
    """``next_best_offer.fit_arms``' store: each arm model in ``folder/arm-<key>.pickle``, the key the
    arm's training rows, the seed, arm, outcome, ``MAX_TRAINING_ROWS``, numpy's CPU features, the fitting
    libraries' versions and the fitting modules' source: the model ``fit`` would give, fitted at most once."""

    folder: Path

    def __call__(self, rows: pd.DataFrame, seed: int, arm: str, outcome: str, fit: Callable[[], ArmModel]) -> ArmModel:
        from helpers.decide.next_best_offer import MAX_TRAINING_ROWS  # loaded already: fit_arms calls this

        settings = f"{seed}\0{arm}\0{outcome}\0{MAX_TRAINING_ROWS}\0{_math_path()}".encode()
        code = [Path(_source(name)) for name in FITTING_CODE]
        return reuse(self.folder / f"arm-{digest([frame_digest(rows), settings], FITTING_PACKAGES, code)}.pickle", fit)


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
