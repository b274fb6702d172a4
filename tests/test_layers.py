"""The package stays layered: each part imports only parts below it, and nothing imports in a cycle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cmp"

#: part -> parts it must never import (directly).
FORBIDDEN = {
    "kserve": {"source", "spec", "unit", "derive", "expand", "transforms", "pipeline", "explain", "diff", "argocd",
               "cli", "validate", "catalog", "llmisvc"},
    "llmisvc": {"source", "spec", "unit", "derive", "expand", "transforms", "pipeline", "explain", "diff", "argocd",
                "cli"},
    "problems": {"source", "spec", "unit", "transforms", "pipeline", "cli", "llmisvc"},
    "catalog": {"llmisvc"},
    "source": {"spec", "unit", "expand", "transforms", "pipeline", "explain", "diff", "argocd", "cli"},
    "spec": {"unit", "expand", "transforms", "pipeline", "explain", "diff", "argocd", "cli"},
    "expand": {"transforms", "pipeline", "diff", "argocd", "cli"},
    "transforms": {"pipeline", "diff", "argocd", "cli"},
    "pipeline": {"diff", "argocd", "cli"},
    "explain": {"transforms", "pipeline", "diff", "argocd", "cli"},
    "scaffold": {"diff", "argocd", "cli"},
    "explain_llm": {"transforms", "pipeline", "diff", "argocd", "cli", "explain", "spec"},
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        if module.endswith(".__init__"):
            module = module[: -len(".__init__")]
            package = module
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                    names = [f"{target}.{a.name}" for a in node.names] if node.module is None else [target]
                else:
                    names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("cmp.") and _part(name) != _part(module):
                    graph[_part(module)].add(_part(name))
    return graph


GRAPH = _imports()


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_part_imports_nothing_above_it(part: str) -> None:
    assert not GRAPH.get(part, set()) & FORBIDDEN[part]


def test_no_import_cycles_between_parts() -> None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(trail + [node, nxt])
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node, [])


def test_graph_is_read() -> None:
    assert {"expand", "transforms", "validate", "source"} <= GRAPH["pipeline"]
    assert "kserve" in GRAPH["transforms"]
