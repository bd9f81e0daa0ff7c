"""A notebook run stops its kernel without alarming lines and shows a heartbeat while it runs."""

import json
import re

from helpers.paths import REPO_ROOT
from helpers.run.execute import SETUP, execute_notebook, section_headings
from helpers.run.kernel import SAME_MATH_EVERYWHERE


def _notebook(path):
    cells = [
        {"cell_type": "markdown", "id": "title", "metadata": {}, "source": ["# A notebook\n"]},
        {
            "cell_type": "code",
            "id": "quick",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": ["x = 1"],
        },
        {"cell_type": "markdown", "id": "long", "metadata": {}, "source": ["## 2. A long section\n", "Text."]},
        {
            "cell_type": "code",
            "id": "slow",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": [
                "import time\n",
                "import matplotlib.pyplot as plt\n",
                "plt.plot([1, 2]); plt.show()\n",
                "time.sleep(3)",
            ],
        },
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(
        json.dumps({"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def test_section_headings_name_the_heading_above_each_cell(tmp_path):
    headings = section_headings(_notebook(tmp_path / "a.ipynb"))
    assert headings == {
        "title": "A notebook",
        "quick": "A notebook",
        "long": "2. A long section",
        "slow": "2. A long section",
    }


def test_the_cells_after_the_parameters_are_named_setup_not_parameters(tmp_path):
    """A notebook's data cell sits under its "Parameters" heading: its heartbeat says it is setting up."""
    nb = json.loads(_notebook(tmp_path / "a.ipynb").read_text())
    code = nb["cells"][1]
    nb["cells"][1:2] = [
        {"cell_type": "markdown", "id": "params", "metadata": {}, "source": ["## Parameters"]},
        {**code, "id": "defaults", "metadata": {"tags": ["parameters"]}},
        {**code, "id": "data"},
    ]
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    headings = section_headings(tmp_path / "a.ipynb")
    assert headings["defaults"] == "Parameters" and headings["data"] == SETUP
    assert headings["long"] == headings["slow"] == "2. A long section"


def test_a_run_beats_with_its_section_and_stops_its_kernel_quietly(tmp_path, capfd):
    lines = []
    execute_notebook(_notebook(tmp_path / "a.ipynb"), tmp_path / "out.ipynb", {}, lines.append, "[1/1] a", every=0.5)
    assert any(line.startswith("    [1/1] a: 2. A long section (0 min ") for line in lines), lines
    assert json.loads((tmp_path / "out.ipynb").read_text())["cells"][-1]["outputs"], "the notebook ran"
    shown = "".join(capfd.readouterr())
    assert "KeyboardInterrupt" not in shown and "without encryption" not in shown, shown


def test_every_kernel_takes_the_same_simd_path_on_any_machine(tmp_path):
    """A stored output must not depend on whether the machine has AVX-512 (numpy's exp and log differ
    in the last bit between its paths) or on the BLAS kernels OpenBLAS picks for its CPU: the
    kernel's numpy runs without AVX-512, its OpenBLAS on the Haswell kernels."""
    nb = json.loads(_notebook(tmp_path / "a.ipynb").read_text())
    nb["cells"] = [
        {"cell_type": "code", "id": "simd", "metadata": {}, "execution_count": None, "outputs": [], "source": [
            "import os, threadpoolctl\n", "from numpy._core._multiarray_umath import __cpu_features__\n",
            "blas = [i['architecture'] for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']\n",
            "print(os.environ['NPY_DISABLE_CPU_FEATURES'], __cpu_features__['X86_V4'], blas[0])",
        ]}
    ]  # fmt: skip
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    execute_notebook(tmp_path / "a.ipynb", tmp_path / "out.ipynb", {}, lambda line: None)
    printed = json.loads((tmp_path / "out.ipynb").read_text())["cells"][0]["outputs"][0]["text"]
    assert "".join(printed).strip() == f"{SAME_MATH_EVERYWHERE['NPY_DISABLE_CPU_FEATURES']} False Haswell"


def test_make_test_computes_as_the_kernels_do():
    """``make test`` runs pytest with the kernels' numpy settings, so an in-process test's figures are
    the same on an AVX-512 machine as on an AVX2 one."""
    makefile = (REPO_ROOT / "Makefile").read_text()
    pytest_line = next(line for line in makefile.splitlines() if "-m pytest" in line)
    assert dict(re.findall(r'(\w+)="([^"]*)"', pytest_line)) == SAME_MATH_EVERYWHERE


def test_two_runs_at_once_each_get_their_own_kernel_sockets(tmp_path):
    """Two notebooks executed at the same time (two playbook runs on one machine): before, both kernels
    took ``kernel-ipc-1`` in the repository and one died ("Address already in use")."""
    import shutil
    import tempfile
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from helpers.run.kernel import LocalKernel

    sockets = [Path(LocalKernel().ip) for _ in range(2)]
    assert sockets[0].parent != sockets[1].parent and not any(s.is_relative_to(REPO_ROOT) for s in sockets)
    for socket in sockets:
        shutil.rmtree(socket.parent)  # never started
    nb = json.loads(_notebook(tmp_path / "a.ipynb").read_text())
    nb["cells"] = [{"cell_type": "code", "id": "wait", "metadata": {}, "execution_count": None, "outputs": [],
                    "source": ["import time; time.sleep(2); print('ran')"]}]  # fmt: skip
    (tmp_path / "a.ipynb").write_text(json.dumps(nb))
    before = set(Path(tempfile.gettempdir()).glob("playbook-kernel-*"))
    runs = [(tmp_path / "a.ipynb", tmp_path / f"out{k}.ipynb", {}, lambda line: None) for k in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda run: execute_notebook(*run), runs))
    for k in range(2):
        printed = json.loads((tmp_path / f"out{k}.ipynb").read_text())["cells"][0]["outputs"][0]["text"]
        assert "".join(printed).strip() == "ran"
    assert not list(REPO_ROOT.glob("kernel-ipc*")), "no socket left in the repository"
    assert set(Path(tempfile.gettempdir()).glob("playbook-kernel-*")) == before, "each kernel's socket folder removed"
