"""Lazy re-exports (PEP 562) for the subpackages' ``__init__``: each public name is imported from
its module on first use and kept, so a notebook importing one module of a package does not pay for
the others (scikit-learn, statsmodels, scipy, ibis).

A package lists its re-exports once, as the imports of an ``if TYPE_CHECKING:`` block (what type
checkers and editors read) beside its ``__all__``, and ends with::

    __getattr__ = lazy_exports(__name__)
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path


def lazy_exports(package: str) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package``, importing on first use each name its ``__init__``
    imports under ``if TYPE_CHECKING:``. A name that is also its module's name is imported at once:
    importing that module later, from anywhere, would set the package's attribute to the module."""
    namespace = sys.modules[package].__dict__
    origin = {}  # public name -> (module, its name there, or None for a submodule)
    for block in ast.parse(Path(namespace["__file__"]).read_text()).body:
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            for statement in block.body:
                if not isinstance(statement, ast.ImportFrom) or statement.module is None:
                    raise TypeError(f"{package}: only `from module import name` under TYPE_CHECKING")
                for alias in statement.names:
                    submodule = statement.module == package
                    origin[alias.asname or alias.name] = (
                        f"{package}.{alias.name}" if submodule else statement.module,
                        None if submodule else alias.name,
                    )

    def __getattr__(name: str) -> object:
        """A public name, imported from its module on first use and kept."""
        if name not in origin:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = origin[name]
        value = importlib.import_module(module)
        namespace[name] = value if attribute is None else getattr(value, attribute)
        return namespace[name]

    for name, (module, attribute) in origin.items():
        if module.rsplit(".", 1)[-1] == attribute:
            __getattr__(name)
    return __getattr__
