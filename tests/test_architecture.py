"""The structure docs/architecture.md promises, checked on the source itself.

- No import cycle between the package's modules (imports that only type checkers see
  excluded), and none between the two packages: ``session_middleware`` never imports
  ``sessions_api``, which uses only public names of ``session_middleware``.
- The core never touches a private member of ``Session``, and nothing looks a store
  method up by name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("session_middleware", "sessions_api")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _runtime_imports(path: Path, module: str) -> Iterator[tuple[str, list[str]]]:
    """(imported module, names) of every import that runs when the module is imported or
    a function of it is called; ``if TYPE_CHECKING:`` blocks are skipped."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> Iterator[tuple[str, list[str]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from (item for stmt in child.orelse for item in visit_one(stmt))
                continue
            yield from visit_one(child)

    def visit_one(node: ast.AST) -> Iterator[tuple[str, list[str]]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            yield base, [alias.name for alias in node.names]
        else:
            yield from visit(node)

    yield from visit(tree)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, names in _runtime_imports(path, name):
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # A package's __init__ re-exports its modules: an edge into the package itself is
    # an edge into whatever module defines the name, already in the graph.
    return {
        node: {n for n in edges if not (ROOT / n.replace(".", "/") / "__init__.py").exists()}
        for node, edges in graph.items()
    }


def test_no_module_imports_itself_back() -> None:
    assert _cycle(_without_package_inits(_graph())) is None


def test_session_middleware_never_imports_sessions_api() -> None:
    graph = _graph()
    offenders = [
        m
        for m, edges in graph.items()
        if m.startswith("session_middleware") and any(e.startswith("sessions_api") for e in edges)
    ]
    assert offenders == []


def test_sessions_api_uses_only_public_names_of_session_middleware() -> None:
    private = []
    for name, path in _modules().items():
        if not name.startswith("sessions_api"):
            continue
        for target, names in _runtime_imports(path, name):
            if target.startswith("session_middleware"):
                hidden = [p for p in target.split(".") if p.startswith("_")] + [n for n in names if n.startswith("_")]
                if hidden:
                    private.append(f"{name}: {target} {names}")
    assert private == []


def test_the_core_touches_no_private_member_of_a_session() -> None:
    tree = ast.parse((ROOT / "session_middleware" / "_core.py").read_text())
    session_names = {"session", "opened.session"}
    touched = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and ast.unparse(node.value) in session_names
    ]
    assert touched == []


def test_no_store_method_is_looked_up_by_name() -> None:
    offenders = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                target = ast.unparse(node.args[0]) if node.args else ""
                if "store" in target.lower() or "client" in target.lower():
                    offenders.append(f"{name}: {ast.unparse(node)}")
    assert offenders == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
