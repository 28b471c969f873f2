"""Write a self-contained copy of a model's code next to its weights (transformers' `trust_remote_code` format).

transformers copies a class's module and its `from .x import` siblings, but our families import shared modules from
the parent package (`from ..heads import ...`), which a flat remote-code folder cannot resolve. This exporter
follows every relative import, copies each module into the folder under its own file name and rewrites the imports
to the flat `from .module import ...` form. Imports of third-party packages are left untouched.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import sys
from pathlib import Path


def _relative_imports(module_name: str) -> list[tuple[ast.ImportFrom, str]]:
    """(node, absolute module name) for every relative `from ... import` in a module."""
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    package = module.__package__ or module_name.rpartition(".")[0]
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            if node.module is None:
                raise ValueError(
                    f"{module.__file__}:{node.lineno}: use `from .module import name`, not `from . import`"
                )
            found.append((node, importlib.util.resolve_name("." * node.level + node.module, package)))
    return found


def export_remote_code(classes: list[type], save_directory: str | os.PathLike) -> dict[str, str]:
    """Copy the modules defining `classes`, and everything they import relatively, flat into `save_directory`.

    Returns a mapping from each copied module's full name to its flat name (the file name without `.py`), which is
    what `auto_map` entries refer to.
    """
    pending = [cls.__module__ for cls in classes]
    names: dict[str, str] = {}
    while pending:
        module_name = pending.pop()
        if module_name in names:
            continue
        flat = module_name.rpartition(".")[2]
        if flat in names.values():
            raise ValueError(f"two modules named {flat}.py would collide in the exported code ({module_name})")
        names[module_name] = flat
        pending.extend(target for _, target in _relative_imports(module_name))

    for module_name, flat in names.items():
        source = Path(sys.modules[module_name].__file__).read_text(encoding="utf-8").splitlines(keepends=True)
        # rewrite bottom-up so that earlier line numbers stay valid
        for node, target in sorted(_relative_imports(module_name), key=lambda item: -item[0].lineno):
            imported = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names)
            indent = " " * node.col_offset
            source[node.lineno - 1 : node.end_lineno] = [f"{indent}from .{names[target]} import {imported}\n"]
        Path(save_directory, f"{flat}.py").write_text("".join(source), encoding="utf-8")
    return names
