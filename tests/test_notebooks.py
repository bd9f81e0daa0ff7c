"""Notebook hygiene: thin, parameterised, fully executed, python3 kernel. nbval checks outputs."""

import re

import nbformat
import pytest

from helpers.runner import notebooks

NOTEBOOKS = notebooks()


def test_there_are_notebooks():
    assert [nb.name for nb in NOTEBOOKS][:2] == ["00_generate_world.ipynb", "10_customer_knowledge.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_parameterised_and_executed(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert not [c.source[:60] for c in code if re.search(r"^\s*(def|class)\s", c.source, re.M)], \
        "functions and classes belong in src/helpers/"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert "output_dir" in params[0].source and "seed" in params[0].source
    assert all(c.execution_count is not None for c in code if c.source.strip()), "every code cell executed"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "executed top to bottom in one run"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or getattr(o, "name", "") == "stderr"]
    assert not [o for o in outputs if "0x7f" in str(o.get("data", {}).get("text/plain", ""))], "no memory addresses"
