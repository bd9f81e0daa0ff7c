"""Every path the project uses, anchored at the repository root (never the caller's directory)."""

import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
PLAYBOOKS_DIR = REPO_ROOT / "playbooks"
SYNTHETIC_DIR = REPO_ROOT / "synthetic_data"
SCENARIOS_DIR = SYNTHETIC_DIR / "scenarios"
REPORTS_DIR = REPO_ROOT / "reports"
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"  # reference tables shipped with the package


def notebook_output_dir(notebook: str, output_dir: str | Path | None = None) -> Path:
    """Folder a notebook writes its ``metrics.json`` to: ``output_dir`` if given, else
    ``reports/latest/<notebook>/``. Relative paths are taken from the repository root."""
    path = Path(output_dir) if output_dir else REPORTS_DIR / "latest" / notebook
    return path if path.is_absolute() else REPO_ROOT / path


def relative_to_repo(path: Path) -> str:
    """``path`` as shown to a reader: relative to the repository root when inside it."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def duckdb_spill_dir() -> str:
    """Where DuckDB spills past its memory limit: the system's temporary folder, not DuckDB's
    default ``.tmp`` in the working directory (the repository root, where it got committed)."""
    folder = Path(tempfile.gettempdir()) / "relation-playbooks-duckdb"
    folder.mkdir(exist_ok=True)
    return str(folder)
