"""Dependencies point one way (docs/ARCHITECTURE.md, "Layers").

- No import cycle between modules of the package, nor between its parts (sub-packages and top-level modules,
  e.g. `stats` and `providers/`). The graph is read statically from every module's source:
  module-level and function-level imports alike (a lazy import inside a function still ties two modules), and
  importing `a.b.c` also imports the packages `a` and `a.b`. Imports under `if TYPE_CHECKING:` are left out:
  they never run.
- Headless code never reaches Textual: the `chat/` package (and the other core packages) import no module that
  imports Textual, directly or through others; inside `tui/`, a module without Textual (a service) never
  imports a screen or a widget.
- At run time, the core imports no Textual and `botticelli --help` stays light.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
PACKAGE = APP / "botticelli"

HEADLESS = ("botticelli.chat", "botticelli.config", "botticelli.providers", "botticelli.sessions", "botticelli.bench",
            "botticelli.simulator", "botticelli.stats", "botticelli.safety", "botticelli.targets", "botticelli.errors",
            "botticelli.format", "botticelli.commands.ask", "botticelli.commands.bench", "botticelli.load",
            "botticelli.history", "botticelli.untrusted_json", "botticelli.commands.load", "botticelli.catalog")
"""Packages and modules that must run without Textual (the CLI, scripts, the network thread)."""

# Modules that break the services rule and are being moved out of tui/. An entry whose module no longer exists
# is ignored. (issue 11 item 1 moved tui/session_keeper.py to chat/recording.py and tui/clients.py to chat/pool.py.)
SERVICES_MOVING_OUT: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def sources() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, name: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(module, imported item or None) for every import statement that runs, at any depth."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, None
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = name.split(".") if is_package else name.split(".")[:-1]
                    package = package[: len(package) - (child.level - 1)]
                    base = ".".join([*package, base] if base else package)
                for alias in child.names:
                    yield base, alias.name
            else:
                stack.append(child)


@cache
def imports_of(name: str) -> frozenset[str]:
    """The package's own modules that importing `name` runs directly (its own parent packages excluded)."""
    path = sources()[name]
    own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
    found: set[str] = set()
    for base, item in _imported_names(ast.parse(path.read_text(encoding="utf-8")), name, path.stem == "__init__"):
        target = f"{base}.{item}" if item and f"{base}.{item}" in sources() else base
        if target not in sources():
            continue
        parts = target.split(".")
        found.update(p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in sources())
    return frozenset(found - own)


@cache
def imports_textual(name: str) -> bool:
    """Whether the module's own source imports Textual (at any depth, TYPE_CHECKING aside)."""
    path = sources()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(base == "textual" or base.startswith("textual.")
               for base, _ in _imported_names(tree, name, path.stem == "__init__"))


def import_cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def describe(cycle: list[str], graph: dict[str, frozenset[str]]) -> str:
    members = set(cycle)
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & members))}" for m in cycle)


def reachable(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for child in imports_of(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_there_is_no_import_cycle() -> None:
    graph = {name: imports_of(name) for name in sources()}
    cycles = import_cycles(graph)
    assert not cycles, "import cycles: " + " | ".join(describe(c, graph) for c in cycles)


def test_there_is_no_cycle_between_the_packages_parts() -> None:
    """Sub-packages and top-level modules as units: `stats` may use `providers/` or be used by it, not both."""

    def part(name: str) -> str:
        return ".".join(name.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name in sources():
        graph.setdefault(part(name), set()).update(part(m) for m in imports_of(name) if part(m) != part(name))
    frozen = {name: frozenset(deps - {"botticelli"}) for name, deps in graph.items()}
    cycles = import_cycles(frozen)
    assert not cycles, "cycles between parts: " + " | ".join(describe(c, frozen) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above can fail: a two-module cycle and a longer one are found, a chain is not."""
    graph = {"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset({"d"}), "d": frozenset({"e"}),
             "e": frozenset({"c", "f"}), "f": frozenset()}
    assert sorted(import_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]
    assert import_cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_graph_sees_function_level_imports_and_parent_packages() -> None:
    assert "botticelli.config" in imports_of("botticelli.targets")
    # open_client imports the provider client lazily, inside the function
    assert "botticelli.providers.client" in imports_of("botticelli.targets")
    assert "botticelli.providers" in imports_of("botticelli.targets")


def test_headless_code_never_reaches_textual() -> None:
    headless = [n for n in sources() if any(n == h or n.startswith(h + ".") for h in HEADLESS)]
    assert "botticelli.config.keys" in headless
    bad = {n: sorted(m for m in reachable(n) | {n} if imports_textual(m)) for n in headless}
    assert not {n: via for n, via in bad.items() if via}


def test_tui_services_never_import_screens_or_widgets() -> None:
    services = [n for n in sources() if n.startswith("botticelli.tui.") and not imports_textual(n)
                and n not in SERVICES_MOVING_OUT]
    assert "botticelli.tui.sessions_demo" in services  # a service: no Textual in it
    ui = ("botticelli.tui.screens", "botticelli.tui.widgets", "botticelli.tui.app")
    bad = {n: sorted(m for m in imports_of(n) if m.startswith(ui)) for n in services}
    assert not {n: via for n, via in bad.items() if via}


CORE_MODULES = [
    "botticelli.providers.client",
    "botticelli.stats",
    "botticelli.config",
    "botticelli.sessions",
    "botticelli.bench.runner",
    "botticelli.bench.summary",
    "botticelli.targets",
    "botticelli.simulator.server",
    "botticelli.simulator.transport",
    "botticelli.safety",
    "botticelli.commands.ask",
    "botticelli.history.charts",
    "botticelli.history.races",
    "botticelli.history.demo",
    "botticelli.history.report",
    "botticelli.history.reference",
    "botticelli.commands.speed",
]


def test_core_modules_do_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_cli_help_stays_light() -> None:
    """`botticelli --help` must not pay for the TUI, httpx or the simulator."""
    code = (
        "import sys\n"
        "from botticelli.cli import build_parser\n"
        "build_parser()\n"
        "heavy = [m for m in ('textual', 'httpx', 'botticelli.simulator.engine') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
