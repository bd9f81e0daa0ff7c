"""Arrow columns from numpy arrays without a Python object per row (the world has millions of rows)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa


def labels(codes: np.ndarray, names: Iterable[str]) -> pa.Array:
    """A string column: ``names[code]`` per row, null where ``code`` is negative."""
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(names), pa.string())).dictionary_decode()


def masked(values: np.ndarray, missing: np.ndarray, type: pa.DataType | None = None) -> pa.Array:
    """``values`` as an Arrow column, null where ``missing`` is true."""
    return pa.array(values, mask=np.asarray(missing, dtype=bool), type=type)
