"""The library's shape, held by CI: small modules and functions, typed public functions."""

import ast

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
