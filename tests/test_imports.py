"""The package's import rules, read from the source (AST), not from a running interpreter:

* only ``envkit/engine/`` imports rattler (the one engine boundary);
* no import cycles between envkit's modules (imports inside functions count; ``if TYPE_CHECKING:`` ones do not).
  ``KNOWN_CYCLES`` lists today's cycles with the change that breaks them; a cycle not listed fails, and a
  listed one that is gone must be removed from the list (the test says so), so the list only ever shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "envkit"
KNOWN_CYCLES: dict[frozenset[str], str] = {}  # none left: a new cycle fails


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imports(name: str, *, runtime_only: bool) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement of module ``name``."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and runtime_only and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub if sub in MODULES else base, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def test_modules_found() -> None:
    assert "envkit.cli" in MODULES and "envkit.engine.solve" in MODULES and "envkit.host.machines" in MODULES


def test_only_the_engine_imports_rattler() -> None:
    leaks = [
        f"{MODULES[name].relative_to(PACKAGE.parent)}:{line} imports {mod}"
        for name in MODULES
        if not (name == "envkit.engine" or name.startswith("envkit.engine."))
        for mod, line in imports(name, runtime_only=False)
        if mod == "rattler" or mod.startswith("rattler.")
    ]
    assert not leaks, "rattler outside envkit/engine/ (call the engine instead):\n" + "\n".join(leaks)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph[name] = {mod for mod, _ in imports(name, runtime_only=True) if mod in MODULES and mod != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
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


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_new_import_cycles() -> None:
    found = [c for c in cycles(_graph()) if frozenset(c) not in KNOWN_CYCLES]
    assert not found, "import cycles (modules that import each other, directly or around a loop):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_known_cycles_still_exist() -> None:
    found = {frozenset(c) for c in cycles(_graph())}
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"no longer a cycle: remove from KNOWN_CYCLES in tests/test_imports.py: {gone}"
