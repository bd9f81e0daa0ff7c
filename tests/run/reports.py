"""What the report tests read from a run folder."""

import nbformat


def code_lines(run_dir) -> list[str]:
    """The code lines (20 characters or more) of a run's executed notebooks: none may show in its report."""
    return [
        line.strip()
        for nb in run_dir.glob("*.ipynb")
        for cell in nbformat.read(nb, as_version=4).cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line.strip()) >= 20
    ]
