"""No module imports one that imports it back, directly or through others (the layers: pyproject.toml)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp
import pytest

PACKAGES = ("domain", "projections", "consumers", "infra", "api")
ROOT = Path(__file__).resolve().parents[2]


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected, two or more), each sorted."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm; the graph is a few hundred modules deep at most
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in imports.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for module in imports:
        if module not in index:
            visit(module)
    return sorted(groups)


def described(graph: grimp.ImportGraph, groups: list[list[str]]) -> str:
    """Each group with one import loop in it, e.g. `a -> b -> a`."""
    lines = []
    for group in groups:
        first = group[0]
        back = next(m for m in sorted(graph.find_modules_directly_imported_by(first)) if m in group)
        loop = [first, *graph.find_shortest_chain(importer=back, imported=first)]
        lines.append(f"  {', '.join(group)}\n    e.g. {' -> '.join(loop)}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "type_checking", [False, True], ids=["run-time imports", "with imports for type checking"]
)
def test_no_module_imports_one_that_imports_it_back(type_checking):
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=not type_checking, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "modules that import each other, directly or through others:\n" + described(graph, cycles)


def test_the_cycle_finder_finds_a_cycle_through_a_third_module():
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e2")):
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert "e.g. a -> b -> c -> a" in described(graph, import_cycles(graph))


def test_every_infra_module_has_its_place_in_the_layers():
    """infra/ spans the layers from the plumbing to the composition root: a module left out is not checked."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    placed = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    modules = {f"infra.{path.stem}" for path in (ROOT / "infra").glob("*.py") if path.stem != "__init__"}
    assert modules - placed == set(), "name these in a layer of [tool.importlinter] in pyproject.toml"
