"""The library's layers: no import cycles, arrows only point down, and a CLI that starts light.

Imports are read with ``ast`` from the source (nothing is imported): those at
module level, those inside functions (an import deferred into a function still
ties the two modules together), and those by string: ``importlib.import_module``,
``__import__`` or ``runpy.run_module`` of a literal name (or of a module-level
name bound to one), and a registry's lazy ``"module:attribute"`` entry
(``backends.register("clusterkit.lab.backend:LAB", …)``), which imports the
module on first use. Only the body of ``if TYPE_CHECKING:`` is left out: its
``else`` runs. A few deferred imports reach up on purpose: they are the
API's front doors (``cluster.dashboard()``), listed in ``FRONT_DOORS`` with the reason.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clusterkit"

#: The layers, lowest first. A module belongs to the layer of the longest name here that is it or
#: contains it; it may import its own layer and the ones below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("clusterkit.errors", "clusterkit.results", "clusterkit.inventory", "clusterkit.kernel",
              "clusterkit.sample", "clusterkit.validate", "clusterkit.workloads", "clusterkit.atomicfile",
              "clusterkit.backends.registry")),  # the backends' names: the inventory checks them
    ("cards", ("clusterkit.firstboot",)),  # the files for each card: the VM lab builds Cards itself
    ("backends", ("clusterkit.backends",)),
    ("lab", ("clusterkit.lab",)),  # the lab's nodes are the ssh backend's, in namespaces it makes
    ("cluster", ("clusterkit", "clusterkit.cluster", "clusterkit.carriers")),  # the package itself: connect()
    ("work", ("clusterkit.steps", "clusterkit.ops", "clusterkit.compute", "clusterkit.agent", "clusterkit.leds",
              "clusterkit.battery",
              "clusterkit.clock", "clusterkit.tlsdemo")),
    ("views", ("clusterkit.dashboard", "clusterkit.workbook", "clusterkit.kiosk", "clusterkit.booth")),
    ("cli", ("clusterkit.cli", "clusterkit.lab.cli", "clusterkit.firstboot.cli")),
]

#: Deferred imports that reach up on purpose (importer, imported): the front doors of the API.
FRONT_DOORS = {
    ("clusterkit.cluster", "clusterkit.dashboard"): "cluster.dashboard()",
    ("clusterkit.cluster", "clusterkit.compute"): "cluster.engines()",
    ("clusterkit.lab.base", "clusterkit.cluster"): "Lab.connect(): a Cluster of the lab's nodes",
}

#: A registry's lazy entry: "clusterkit.module:attribute".
LAZY_ENTRY = re.compile(r"(clusterkit(?:\.\w+)*):\w+")
#: Functions that import the module their first argument names.
IMPORTERS = ("import_module", "__import__", "run_module")


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: its dotted name -> (file, is a package)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def imports(name: str, path: Path, package: bool, known) -> list[tuple[str, int, bool]]:
    """What a module imports from the package: (module, line, at module level)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    deferred, typing_only = set(), set()
    for node in ast.walk(tree):  # what runs only when called; the body of ``if TYPE_CHECKING:`` never runs
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            deferred |= {id(sub) for sub in ast.walk(node) if sub is not node}
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            typing_only |= {id(sub) for stmt in node.body for sub in ast.walk(stmt)}
    names = literal_names(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, (ast.Call, ast.Constant)):
            targets = by_string(node, names)
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - (0 if package else 1)]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # ``from pkg import sub`` imports the module pkg.sub; ``from pkg import name``, pkg itself
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
        else:
            continue
        for t in dict.fromkeys(targets):
            while t and t not in known and "." in t:  # ``import a.b.c`` where c is not a module
                t = t.rsplit(".", 1)[0]
            if t in known and t != name:
                found.append((t, node.lineno, id(node) not in deferred))
    return found


def literal_names(tree: ast.Module) -> dict[str, str]:
    """The module-level names bound once to a string literal (``MODULE = "clusterkit.x"``)."""
    bound: dict[str, list[str | None]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            value = stmt.value.value if isinstance(stmt.value, ast.Constant) else None
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(value if isinstance(value, str) else None)
    return {name: values[0] for name, values in bound.items() if len(values) == 1 and values[0] is not None}


def by_string(node: ast.AST, names: dict[str, str] | None = None) -> list[str]:
    """The module a call imports by its literal name (or a module-level name bound to one), or a lazy
    registry entry names."""
    if isinstance(node, ast.Constant):
        entry = LAZY_ENTRY.fullmatch(node.value) if isinstance(node.value, str) else None
        return [entry.group(1)] if entry else []
    func = node.func
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    first = node.args[0] if node.args else None
    if called not in IMPORTERS:
        return []
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return [first.value]
    if isinstance(first, ast.Name) and first.id in (names or {}):
        return [names[first.id]]
    return []


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    return {name: imports(name, path, package, known) for name, (path, package) in known.items()}


def layer(name: str) -> int:
    best = (-1, -1)
    for rank, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if name == p or name.startswith(p + "."):
                best = max(best, (len(p), rank))
    if best[1] < 0:
        raise AssertionError(f"{name} is in no layer: add it to LAYERS in {Path(__file__).name}")
    return best[1]


def cycles(edges: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w, _, _ in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def upward(edges: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    """Imports of a higher layer by a lower one, but for the front doors."""
    out = []
    for name, targets in sorted(edges.items()):
        for t, line, top in targets:
            if layer(t) > layer(name) and (top or (name, t) not in FRONT_DOORS):
                out.append(f"{name}:{line} -> {t} ({LAYERS[layer(name)][0]} -> {LAYERS[layer(t)][0]})")
    return out


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_arrows_point_down():
    assert upward(graph()) == []


def test_front_doors_are_still_there():
    """Each allowed upward import exists (an entry nothing uses any more goes)."""
    edges = graph()
    used = {(n, t) for n, targets in edges.items() for t, _, top in targets if not top}
    assert set(FRONT_DOORS) <= used


def test_the_graph_sees_what_it_should():
    """The walk itself: relative imports, submodules, names from a package, deferred imports."""
    edges = {n: {t for t, _, _ in ts} for n, ts in graph().items()}
    assert "clusterkit.errors" in edges["clusterkit.inventory"]     # from .errors import InventoryError
    assert "clusterkit.lab.procs" in edges["clusterkit.lab"]        # from . import procs
    assert "clusterkit.dashboard" in edges["clusterkit.cluster"]    # deferred, inside a method
    assert "clusterkit.cluster" not in edges["clusterkit.results"]  # none at all
    assert "clusterkit.lab.backend" in edges["clusterkit"]          # register("clusterkit.lab.backend:LAB", …)
    assert "clusterkit.lab.backend" not in edges["clusterkit.backends"]
    assert cycles({"a": [("b", 1, True)], "b": [("a", 2, False)], "c": [("a", 3, True)]}) == [["a", "b"]]


def test_imports_by_string_are_seen(tmp_path):
    """A literal import_module, __import__ and a lazy entry count as imports; other strings do not."""
    source = tmp_path / "probe.py"
    source.write_text("import importlib\n"
                      "register('clusterkit.lab.backend:LAB', name='lab')\n"
                      "def f():\n"
                      "    importlib.import_module('clusterkit.workbook')\n"
                      "    __import__('clusterkit.dashboard')\n"
                      "    run('python -m clusterkit.agent', 'clusterkit.cli')\n"
                      "KIOSK = 'clusterkit.kiosk'\n"
                      "runpy.run_module(KIOSK)\n"
                      "if TYPE_CHECKING:\n"
                      "    import clusterkit.cli\n"
                      "else:\n"
                      "    import clusterkit.booth\n")
    found = imports("clusterkit.errors", source, False, modules())
    assert sorted((t, top) for t, _, top in found) == [
        ("clusterkit.booth", True), ("clusterkit.dashboard", False), ("clusterkit.kiosk", True),
        ("clusterkit.lab.backend", True), ("clusterkit.workbook", False)]
    assert sorted(upward({"clusterkit.errors": found}), key=lambda line: int(line.split(":")[1].split()[0])) == [
        "clusterkit.errors:2 -> clusterkit.lab.backend (base -> lab)",
        "clusterkit.errors:4 -> clusterkit.workbook (base -> views)",
        "clusterkit.errors:5 -> clusterkit.dashboard (base -> views)",
        "clusterkit.errors:8 -> clusterkit.kiosk (base -> views)",
        "clusterkit.errors:12 -> clusterkit.booth (base -> views)"]


def test_the_cli_imports_neither_bokeh_nor_ipyparallel():
    code = ("import clusterkit.cli, sys; "
            "assert 'bokeh' not in sys.modules and 'ipyparallel' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('bokeh', 'ipyparallel'))[:5]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
