#!/usr/bin/env python3
"""The import graph of the ikmeta package: modules, arrows, floors, circles and the largest files.

    python3 tools/import_graph.py            # the summary
    python3 tools/import_graph.py --arrows   # and every arrow, a line a module
    python3 tools/import_graph.py --check    # exit 1 on a circle or an oversized module

Every import counts, at module level or inside a function (a lazy import still ties the two
modules together). ``from .pkg import name`` counts as an arrow to the submodule ``pkg.name``
when there is one, else to ``pkg``. Floors: the longest chain of arrows from a module down to
one that imports no other module of the package. The limits ``--check`` holds: no circle, no
module over 800 lines (the generated tag table aside), no module of ``ikmeta/cli/`` over 300.
"""

from __future__ import annotations

import argparse
import ast
import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "ikmeta"
MAX_LINES = 800
MAX_CLI_LINES = 300
GENERATED = {"ikmeta.image.exif_tags"}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for every module of the package."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def arrows(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for named in _targets(node, package):
                target = _known_module(named, found)
                if target.startswith(PACKAGE) and target != name:
                    graph[name].add(target)
    return graph


def _known_module(named: str, found: dict[str, Path]) -> str:
    """The longest module of the package that ``named`` lies in (a name in a module is its module)."""
    while named and named not in found:
        named = named.rpartition(".")[0]
    return named


def _targets(node: ast.AST, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    return [f"{base}.{alias.name}" for alias in node.names]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def floors(graph: dict[str, set[str]]) -> int:
    """The longest chain of arrows, counted in modules (a graph with circles has none)."""

    @functools.cache
    def height(node: str) -> int:
        return 1 + max((height(other) for other in graph[node]), default=0)

    return max(height(node) for node in graph)


def oversized(found: dict[str, Path]) -> list[str]:
    """Modules over their line limit, as ``name: lines``."""
    problems = []
    for name, path in found.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = MAX_CLI_LINES if name.startswith(f"{PACKAGE}.cli") else MAX_LINES
        if name not in GENERATED and lines > limit:
            problems.append(f"{name}: {lines} lines (limit {limit})")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrows", action="store_true", help="print every arrow")
    parser.add_argument("--check", action="store_true", help="exit 1 on a circle or an oversized module")
    args = parser.parse_args()
    found = modules()
    graph = arrows(found)
    loops = circles(graph)
    sizes = sorted(
        ((len(p.read_text(encoding="utf-8").splitlines()), n) for n, p in found.items()), reverse=True
    )
    print(f"modules {len(found)}, arrows {sum(map(len, graph.values()))}, circles {len(loops)}")
    if not loops:
        print(f"floors {floors(graph)}")
    for loop in loops:
        print("circle:", " ".join(loop))
    print("largest:", ", ".join(f"{name} {lines}" for lines, name in sizes[:6]))
    if args.arrows:
        for name in sorted(graph):
            print(name, "->", " ".join(sorted(graph[name])))
    problems = oversized(found)
    for problem in problems:
        print("too long:", problem)
    return 1 if args.check and (loops or problems) else 0


if __name__ == "__main__":
    sys.exit(main())
