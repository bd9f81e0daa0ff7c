"""The library's shape, held by CI: small modules and functions, typed public functions."""

import ast
import importlib
import subprocess
import sys

import pytest

from helpers.paths import REPO_ROOT

MODULES = sorted((REPO_ROOT / "src" / "helpers").rglob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def _functions(tree: ast.Module):
    """Every function and method of a module, with whether it is public (no leading underscore on
    it or on its class)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, not node.name.startswith("_")
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield item, not node.name.startswith("_") and not item.name.startswith("_")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO_ROOT / "src")))
def test_modules_and_functions_stay_small(path):
    lines = path.read_text().count("\n")
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split the module by idea"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{node.name} is {length} lines"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO_ROOT / "src")))
def test_public_functions_are_typed(path):
    untyped = []
    for func, public in _functions(ast.parse(path.read_text())):
        arguments = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
        missing = [a.arg for a in arguments if a.annotation is None and a.arg not in ("self", "cls")]
        if public and (missing or (func.returns is None and func.name != "__init__")):
            untyped.append(f"{func.name}({', '.join(missing)}){'' if func.returns else ' -> ?'}")
    assert not untyped, "public functions without type hints: " + "; ".join(untyped)


LAZY_PACKAGES = sorted(
    path.parent for path in (REPO_ROOT / "src" / "helpers").rglob("__init__.py") if "lazy_exports(" in path.read_text()
)


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: str(p.relative_to(REPO_ROOT / "src")))
def test_lazy_packages_re_export_every_public_name(package):
    """``__all__`` names exactly the imports under ``if TYPE_CHECKING:`` (the lazy table), each one
    the object its module defines (a submodule re-exported: the module itself)."""
    name = ".".join(package.relative_to(REPO_ROOT / "src").parts)
    module = importlib.import_module(name)
    tree = ast.parse((package / "__init__.py").read_text())
    imported = {
        alias.asname or alias.name: statement.module
        for block in tree.body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for alias in statement.names
    }
    assert sorted(imported) == sorted(module.__all__)
    for public, origin in imported.items():
        expected = importlib.import_module(f"{name}.{public}" if origin == name else origin)
        assert getattr(module, public) is (expected if origin == name else getattr(expected, public)), public


def test_lazy_packages_load_no_heavy_library_until_used():
    """Importing the packages a notebook starts with loads neither scikit-learn, statsmodels nor scipy."""
    probe = (
        "import sys, helpers.data, helpers.decide, helpers.describe, helpers.exercises, helpers.models;"
        "print(sorted(m for m in ('sklearn', 'statsmodels', 'scipy') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_reading_data_in_a_notebook_loads_neither_papermill_nor_nbformat():
    """``from helpers.run import open_data`` (every notebook's first cell) leaves the report's and the
    executor's libraries unloaded: no re-exported name shares a module's name, which would import it."""
    probe = (
        "import sys; from helpers.run import open_data;"
        "print(sorted(m for m in ('nbformat', 'papermill') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
