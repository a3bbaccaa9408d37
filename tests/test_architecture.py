"""The import graph of the package: no cycles, and the boundaries DESIGN.md draws.

``lint-imports`` (make lint) checks the layer contracts of pyproject.toml; this test
checks what they do not: no cycle of modules at all, a package's ``__init__`` included.
"""

from __future__ import annotations

import pytest

grimp = pytest.importorskip("grimp")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("sitewatch", cache_dir=None)


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(
                        graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_cycles(graph):
    assert _cycles(graph) == []


def test_detect_and_learn_do_not_import_each_other(graph):
    for a, b in (("sitewatch.detect", "sitewatch.learn"), ("sitewatch.learn", "sitewatch.detect")):
        chains = graph.find_shortest_chains(importer=a, imported=b, as_packages=True)
        assert not chains, f"{a} imports {b}: {sorted(chains)}"


def test_the_cycle_finder_finds_cycles():
    class Fake:
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, m):
            return self.edges.get(m, set())

    assert _cycles(Fake()) == [["a", "b", "c"]]
