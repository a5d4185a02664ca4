"""Every parameter named ``cluster`` says what it takes, and a ``Cluster`` it names is bound in its module.

Read with ``ast`` from the source (nothing is imported). A function or method in ``clusterkit/``
whose parameter is called ``cluster`` annotates it: a :class:`clusterkit.Cluster` (a joined
cluster, :class:`clusterkit.carriers.Joined`, is one), or whatever else the name means there (the lab's
cluster network is an ``ipaddress.IPv4Network``). The annotations are strings at run time
(``from __future__ import annotations``), so a ``Cluster`` the module never imports would pass unseen:
the module must bind the name, at module level or under ``if TYPE_CHECKING:`` (which keeps the layers'
imports pointing down, see ``test_imports.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "clusterkit"


def untyped(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, function) of each ``def`` whose parameter ``cluster`` has no annotation."""
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = fn.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs:
                if arg.arg == "cluster" and arg.annotation is None:
                    found.append((fn.lineno, fn.name))
    return found


def _bound(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level by class or import, inside ``if`` blocks too (``TYPE_CHECKING``)."""
    names: set[str] = set()
    for stmt in tree.body:
        for node in [stmt] + (stmt.body + stmt.orelse if isinstance(stmt, ast.If) else []):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ClassDef):
                names.add(node.name)
    return names


def unbound_cluster(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, function) of each ``def`` that names ``Cluster`` in a signature its module does not bind."""
    if "Cluster" in _bound(tree):
        return []
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = fn.args
            notes = [arg.annotation for arg in a.posonlyargs + a.args + a.kwonlyargs] + [fn.returns]
            notes = [note for note in notes if note is not None]
            if any(isinstance(n, ast.Name) and n.id == "Cluster" for note in notes for n in ast.walk(note)):
                found.append((fn.lineno, fn.name))
    return found


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(PACKAGE.parent)), ast.parse(p.read_text(), filename=str(p)))
            for p in sorted(PACKAGE.rglob("*.py"))]


def test_every_cluster_parameter_is_annotated():
    missing = [f"{path}:{line} {name}" for path, tree in _modules() for line, name in untyped(tree)]
    assert missing == [], "parameters named cluster without a type:\n" + "\n".join(missing)


def test_every_cluster_annotation_is_bound():
    missing = [f"{path}:{line} {name}" for path, tree in _modules() for line, name in unbound_cluster(tree)]
    assert missing == [], "Cluster named in a signature but not imported (add it under TYPE_CHECKING):\n" + \
        "\n".join(missing)


def test_the_checks_see_a_missing_type_and_a_missing_import():
    bare = ast.parse("def f(x, cluster, *, nodes=None):\n    pass\n"
                     "class C:\n    def g(self, *, cluster):\n        pass\n")
    assert untyped(bare) == [(1, "f"), (4, "g")]
    unimported = ast.parse("from __future__ import annotations\n"
                           "def f(cluster: Cluster) -> None:\n    pass\n"
                           "def g(n: int) -> Cluster | None:\n    pass\n")
    assert untyped(unimported) == []
    assert unbound_cluster(unimported) == [(2, "f"), (4, "g")]
    typed = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .cluster import Cluster\n"
                      "def f(cluster: Cluster) -> None:\n    pass\n")
    assert untyped(typed) == [] and unbound_cluster(typed) == []
