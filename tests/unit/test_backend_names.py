"""Outside the backends, nothing compares a backend's name or checks a node's class: callers ask the
Backend object (``cluster.kind``) or the node's Platform (``node.platform``: what a step wants done, each
kind saying how), so a new kind of node changes no caller. Likewise a kind of lab's name ("ns", "vm") is written only in that kind's own module
(:mod:`clusterkit.lab.kinds`): everything else asks the kind."""

from __future__ import annotations

import ast
from pathlib import Path


import clusterkit.backends.local  # noqa: F401  (the node classes, to know their names)
import clusterkit.backends.ssh  # noqa: F401
import clusterkit.lab.backend  # noqa: F401
from clusterkit.backends.base import Node

PACKAGE = Path(clusterkit.__file__).parent
#: Where a backend's name and its node classes belong.
OWNERS = ("backends", "lab")
NAMES = {"local", "lab", "ssh"}
#: The kinds of lab, each with the files that may name it.
LAB_KINDS = {"ns": ("lab/ns.py",), "vm": ("lab/vm/",)}


def node_classes() -> set[str]:
    found, todo = set(), [Node]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return found


def _names_in(node: ast.AST) -> set[str]:
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}


def leaks(source: str, classes: set[str]) -> list[tuple[int, str]]:
    """(line, what) for every comparison of a backend's name and every isinstance check on a node class."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "backend" for s in sides):
                found.append((node.lineno, "compares .backend"))
            elif any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops) and \
                    any(_names_in(s) & NAMES for s in sides):
                found.append((node.lineno, "compares a backend's name"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                and len(node.args) == 2:
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            named = {k.id if isinstance(k, ast.Name) else getattr(k, "attr", "") for k in kinds}
            if named & classes:
                found.append((node.lineno, f"isinstance on {', '.join(sorted(named & classes))}"))
    return found


def test_the_check_finds_what_it_looks_for():
    classes = node_classes()
    assert {"Node", "LocalNode", "SSHNode", "LabNode"} <= classes
    source = ('a = cluster.backend == "local"\nb = node.backend in ("lab", "ssh")\nc = isinstance(n, LocalNode)\n'
              'd = kind == "lab"\ne = isinstance(n, (int, SSHNode))\nf = isinstance(r, NodeResult)\n'
              'g = scope == "host"\n')
    assert [line for line, _ in leaks(source, classes)] == [1, 2, 3, 4, 5]


def test_no_backend_names_or_node_classes_outside_the_backends():
    classes = node_classes()
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {what}"
             for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] not in OWNERS
             for line, what in leaks(path.read_text(), classes)]
    assert found == []


def lab_kind_names(source: str) -> list[tuple[int, str]]:
    """(line, name) for every string literal that is a kind of lab's name."""
    return [(node.lineno, node.value) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in LAB_KINDS]


def test_the_lab_kind_check_finds_what_it_looks_for():
    source = 'a = kind == "vm"\nb = {"ns": 1}\nc = "a vm lab"\nd = f"--{flag}"\ne = "vmlab"\n'
    assert lab_kind_names(source) == [(1, "vm"), (2, "ns")]


def test_a_lab_kind_is_named_only_in_its_own_module():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        for line, name in lab_kind_names(path.read_text()):
            if not where.startswith(LAB_KINDS[name]):
                found.append(f"{where}:{line}: {name!r}")
    assert found == []
