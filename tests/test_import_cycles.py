"""No import circles inside a causaltrust package (issue 29).

Every ``import`` that runs (module level or inside a function; ``if TYPE_CHECKING:`` blocks excluded) is an
edge between two modules of the same subpackage; ``from pkg import _submodule`` is an edge to the submodule,
not to the package's ``__init__``. A strongly connected component with more than one module is a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import causaltrust

ROOT = Path(causaltrust.__file__).parent


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(x) for stmt in node.body for x in ast.walk(stmt))
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules of the same top-level package it imports at run time."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        skip = _type_checking_nodes(tree)
        deps: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in files]
                deps.update(subs if len(subs) == len(node.names) else [target, *subs])
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[mod] = {d for d in deps if d in files and d != mod}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan) of more than one module, edges inside one subpackage only."""

    def sub(m: str) -> str:
        parts = m.split(".")
        return parts[1] if len(parts) > 1 else ""

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if not sub(v) or sub(w) != sub(v):
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles_inside_packages() -> None:
    assert circles(import_graph(ROOT)) == []


def test_the_check_finds_a_circle(tmp_path: Path) -> None:
    # A function-level import back into a sibling is a circle; a TYPE_CHECKING import is not.
    pkg = tmp_path / "causaltrust" / "demo"
    pkg.mkdir(parents=True)
    (tmp_path / "causaltrust" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from causaltrust.demo._a import f\n")
    (pkg / "_a.py").write_text(
        "from causaltrust.demo import _c\n\n\ndef f():\n    from causaltrust.demo._b import g\n    return g\n"
    )
    (pkg / "_b.py").write_text("from causaltrust.demo import _a\n")
    (pkg / "_c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from causaltrust.demo._a import f\n"
    )
    graph = import_graph(tmp_path / "causaltrust")
    assert circles(graph) == [["causaltrust.demo._a", "causaltrust.demo._b"]]
