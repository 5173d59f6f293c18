"""The shape of the code: layers in the order data flows, no import cycle, a pure core, small connectors.

Read from the source with `ast`, so that an import hidden inside a function counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"
# Lowest first: a module may import its own layer and the layers before it, never one after it.
LAYERS = ("bridge.basics", "bridge.config", "bridge.rewards", "bridge.storage", "bridge.connectors", "bridge.ledger",
          "bridge.facts", "bridge.sharing", "bridge.delivery", "bridge.schedule", "bridge.web", "bridge.demo",
          "bridge.cli")
CONNECTOR_LINES = 250  # a platform's module (its pure mapping may live beside it, in <platform>_orders.py)
PURE_ALLOWED = ("bridge.rewards", "bridge.config.model", "bridge.basics.money", "disposable_email_domains", "__future__",
                "dataclasses", "datetime", "decimal", "collections", "typing", "re", "unicodedata", "itertools",
                "functools", "math", "heapq")


def module_name(path: Path) -> str:
    parts = path.relative_to(BRIDGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """The bridge modules (and packages) a file imports."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@lru_cache(maxsize=2)
def graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in BRIDGE.rglob("*.py")}
    return {name: {i for i in imports(path, top_level_only) if i in modules and i != name}
            for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), set(), [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.add(frozenset(component))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def without_packages(edges):
    """A package's __init__ importing its own submodules is not a cycle of code."""
    return {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in edges.items()}


def test_no_import_cycle_between_modules_at_import_time():
    assert cycles(without_packages(graph(top_level_only=True))) == set()


def test_imports_inside_functions_close_no_cycle_either():
    assert cycles(without_packages(graph(top_level_only=False))) == set()


def test_no_bridge_module_is_imported_inside_a_function():
    """Lazy imports of bridge's own modules hide the real dependencies (and used to dodge cycles)."""
    late = {name: sorted(set(graph(False)[name]) - set(graph(True)[name])) for name in graph(False)}
    assert {name: found for name, found in late.items() if found} == {}


def layer_of(module: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if module == layer or module.startswith(layer + ".")), None)


def test_every_module_belongs_to_a_layer():
    loose = [m for m in graph(False) if m != "bridge" and layer_of(m) is None]
    assert loose == [], "put these modules in one of the layers' packages"


def test_no_layer_imports_a_layer_above_it():
    upward = sorted(f"{module} imports {target}" for module, targets in graph(False).items()
                    for target in targets
                    if module != "bridge" and layer_of(target) is not None and layer_of(target) > layer_of(module))
    assert upward == []


def test_each_layer_says_what_it_owns_and_may_import():
    for layer in LAYERS:
        doc = ast.get_docstring(ast.parse((BRIDGE.parent / layer.replace(".", "/") / "__init__.py").read_text()))
        assert doc and "Imports:" in doc, f"{layer}/__init__.py: say what it owns and, after 'Imports:', what it may import"


def test_connector_modules_are_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (BRIDGE / "connectors").glob("*.py")
             if p.stem not in ("__init__", "base", "errors", "parsing") and not p.stem.endswith("_orders")}
    assert sizes and all(lines <= CONNECTOR_LINES for lines in sizes.values()), sizes


def test_the_rewards_core_is_pure():
    """No I/O, no Flask, no peewee, no clock: only the standard library's values and bridge's own types."""
    for path in (BRIDGE / "rewards").rglob("*.py"):
        text = path.read_text()
        for name in imports(path, top_level_only=False):
            assert name.startswith(PURE_ALLOWED), f"{path.name} imports {name}"
        assert "datetime.now" not in text and "time.time" not in text and "utcnow" not in text, path.name


def test_every_public_function_has_type_hints():
    """Module-level functions and methods whose names do not start with `_`: every parameter and the return."""
    missing = []
    for path in BRIDGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            functions += [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for fn in functions:
            if fn.name.startswith("_"):
                continue
            bare = [a.arg for a in fn.args.args + fn.args.kwonlyargs if a.annotation is None and a.arg not in ("self", "cls")]
            if bare or fn.returns is None:
                missing.append(f"{path.relative_to(BRIDGE.parent)}:{fn.lineno} {fn.name}")
    assert missing == []


def test_the_architecture_page_lists_the_modules_as_they_are():
    script = BRIDGE.parent / "scripts" / "architecture.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
