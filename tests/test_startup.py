"""A notebook starts light (issue 22): its import cell loads neither seaborn nor pyplot (imported by the
first figure), nor scikit-learn, statsmodels or scipy's heavy subpackages (the library imports them in
the functions that use them), and no scipy at all unless it imports the library's models or decisions;
the theme it sets without seaborn is seaborn's. Speed itself is measured by benchmarks/startup.py, not
tested."""

import ast
import json
import subprocess
import sys

import matplotlib as mpl
import pytest

from helpers import plots
from helpers.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OWN_SETTINGS = {"figure.figsize", "figure.dpi", "axes.titleweight", "date.converter"}  # set_theme's beyond seaborn's


def import_cell(notebook) -> tuple[str, str]:
    """The notebook's parameters cell and its import cell: the first code cell after the parameters, up to
    the statement calling ``open_data`` or the first compound statement (00's ``if``)."""
    cells = [
        "".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"
    ]
    kept = []
    for node in ast.parse(cells[1]).body:
        statement = ast.get_source_segment(cells[1], node)
        if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try) or "open_data(" in statement:
            break
        kept.append(statement)
    return cells[0], "\n".join(kept)


def modules_after(cells: list[tuple[str, str]], watched: tuple[str, ...]) -> list[str]:
    """The ``watched`` modules loaded after running each notebook's parameters and import cell, each in
    its own namespace, in one fresh interpreter."""
    probe = (
        "import json, sys\n"
        f"for parameters, imports in {cells!r}:\n"
        "    namespace = {}\n"
        "    exec(parameters, namespace)\n"
        "    exec(imports, namespace)\n"
        f"print(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_import_cell_loads_seaborn_or_pyplot():
    """Every notebook's import cell, ``plots.set_theme()`` included, leaves seaborn (and its scipy.stats)
    and pyplot to the first figure."""
    assert len(NOTEBOOKS) >= 9
    assert modules_after([import_cell(path) for path in NOTEBOOKS], ("seaborn", "matplotlib.pyplot")) == []


def imports_models(imports: str) -> bool:
    """Whether an import cell imports from ``helpers.models`` or ``helpers.decide``."""
    return any(
        isinstance(node, ast.ImportFrom) and node.module.startswith(("helpers.models", "helpers.decide"))
        for node in ast.parse(imports).body
    )


MODEL_NOTEBOOKS = [path for path in NOTEBOOKS if imports_models(import_cell(path)[1])]


def test_import_cells_without_models_load_no_scipy():
    """The import cells that import nothing from ``helpers.models`` or ``helpers.decide`` (the notebooks
    on knowledge and segments) load no scipy: figures, tables, data and the synthetic world's truth
    leave it to the functions that use it."""
    plain = [import_cell(path) for path in NOTEBOOKS if path not in MODEL_NOTEBOOKS]
    assert len(plain) >= 3
    assert modules_after(plain, ("scipy", "sklearn", "statsmodels")) == []


def test_no_import_cell_loads_scikit_learn_or_statsmodels():
    """Every notebook's import cell, the models' and decisions' included, leaves scikit-learn (0.15-0.2 s,
    0.15 s more for the rich progress bars it imports) and statsmodels to the functions that fit."""
    assert len(MODEL_NOTEBOOKS) >= 6
    assert modules_after([import_cell(path) for path in NOTEBOOKS], ("sklearn", "statsmodels")) == []


@pytest.mark.parametrize("notebook", MODEL_NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_model_import_cells_load_no_heavy_scipy(notebook):
    """A notebook importing the library's models or decisions loads none of scipy.stats (0.4-0.85 s),
    scipy.optimize (0.3-0.7 s) or scipy.special (0.2 s) in its import cell: the models import them in the
    functions that fit and score."""
    assert modules_after([import_cell(notebook)], ("scipy.stats", "scipy.optimize", "scipy.special")) == []


@pytest.fixture
def restored_theme():
    """matplotlib's settings and colour codes put back as they were after the test."""
    named = mpl.colors.get_named_colors_mapping()
    codes = {code: named[code] for code in "bgrmyck"}
    with mpl.rc_context():
        yield
    for code, rgb in codes.items():
        named[code] = rgb


def theme_after(set_theme) -> tuple[dict, dict]:
    """matplotlib's settings and the colours of "b" ... "k" after ``set_theme()`` from matplotlib's defaults."""
    mpl.rcdefaults()
    named = mpl.colors.get_named_colors_mapping()
    for code, rgb in mpl.colors.BASE_COLORS.items():
        named[code] = rgb
    set_theme()
    return dict(mpl.rcParams), {code: mpl.colors.to_rgb(code) for code in "bgrmyck"}


def test_set_theme_is_seaborns_whitegrid_theme(restored_theme):
    """``plots.set_theme`` gives every setting seaborn's ``set_theme(style="whitegrid", context="notebook",
    palette="deep")`` gives, and its colour codes, but for the project's own settings and the default
    colormap (seaborn's "rocket" exists only once seaborn is imported; no figure uses the default)."""
    import seaborn as sns

    ours, our_codes = theme_after(plots.set_theme)
    seaborns, seaborn_codes = theme_after(lambda: sns.set_theme(style="whitegrid", context="notebook", palette="deep"))
    assert {key for key in ours if ours[key] != seaborns[key]} == OWN_SETTINGS | {"image.cmap"}
    assert our_codes == seaborn_codes
    assert our_codes["k"] != mpl.colors.BASE_COLORS["k"]  # the comparison sees the colour codes change


def test_the_runner_reads_and_checks_notebooks_without_compiling_rfc3987_grammars():
    """The CLI's modules load nbformat, whose jsonschema would compile rfc3987_syntax's Lark grammars
    (1.1 s a command); a notebook still validates, and a malformed one is still refused."""
    probe = (
        "import sys\n"
        "import helpers.run.cli, helpers.run.runs, helpers.run.preflight\n"
        "import nbformat\n"
        "nb = nbformat.read('notebooks/10_customer_knowledge.ipynb', as_version=4)\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'nonsense'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('refused')\n"
        "print(sorted(m for m in ('rfc3987_syntax', 'lark') if sys.modules.get(m)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["refused", "[]"]
