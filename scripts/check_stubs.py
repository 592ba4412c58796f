"""Fails when `python/mite/_native.pyi` and the built `mite._native` disagree: a name the module
has and the stub lacks (or the other way round), at module level or in any class. Dunder methods
named in a stub must exist; other dunders pyo3 adds are not compared.

Usage: python scripts/check_stubs.py [STUB]   (needs the extension built: `make dev`)
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

# Stubbed for type checkers, not attributes of the runtime class.
STUB_ONLY = {"__init__", "__getattr__"}


def stub_names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def public(names) -> set[str]:
    return {n for n in names if not (n.startswith("__") and n.endswith("__"))}


def compare(module, tree: ast.Module) -> list[str]:
    problems: list[str] = []
    top = stub_names(tree.body)
    runtime = public(dir(module)) | ({"__version__"} if hasattr(module, "__version__") else set())
    for name in sorted(runtime - top):
        problems.append(f"{module.__name__}.{name} is missing from the stub")
    for name in sorted(top - runtime):
        problems.append(f"the stub has {name}, which {module.__name__} lacks")
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or not hasattr(module, node.name):
            continue
        cls = getattr(module, node.name)
        stubbed = stub_names(node.body)
        have = public(vars(cls))
        for name in sorted(have - public(stubbed)):
            problems.append(f"{node.name}.{name} is missing from the stub")
        for name in sorted(stubbed - STUB_ONLY):
            if not hasattr(cls, name):
                problems.append(f"the stub has {node.name}.{name}, which the class lacks")
    return problems


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    stub = Path(argv[1]) if len(argv) > 1 else root / "python" / "mite" / "_native.pyi"
    try:
        module = importlib.import_module("mite._native")
    except ImportError as e:
        print(f"check_stubs: cannot import mite._native ({e}); build it first: make dev", file=sys.stderr)
        return 1
    problems = compare(module, ast.parse(stub.read_text()))
    for p in problems:
        print(f"{stub.name}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
