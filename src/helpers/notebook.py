"""What every notebook does at its end: record key figures and print the versions it ran with."""

from __future__ import annotations

import json
import math
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from helpers.paths import notebook_output_dir, relative_to_repo

KEY_PACKAGES = ("relation-playbooks", "pandas", "numpy", "scipy", "duckdb", "ibis-framework", "pyarrow",
                "faker", "scikit-learn", "seaborn", "matplotlib", "papermill", "nbval")


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):          # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def write_metrics(notebook: str, metrics: dict, output_dir: str | Path | None = None) -> None:
    """Write ``metrics`` (nested dict of numbers and strings) to ``<output_dir>/metrics.json``.

    Floats are rounded to 6 decimals and keys sorted so the file is byte-stable across runs.
    Prints the path, relative to the repository.
    """
    folder = notebook_output_dir(notebook, output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.json"
    path.write_text(json.dumps(_clean(metrics), indent=2, sort_keys=True) + "\n")
    print(f"Key figures written to {relative_to_repo(path)}")


def versions() -> pd.DataFrame:
    """Versions of the packages behind the results (the notebook's closing 'watermark')."""
    return pd.DataFrame({"package": KEY_PACKAGES, "version": [version(p) for p in KEY_PACKAGES]})
