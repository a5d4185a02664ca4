"""Outside the backends' own modules, code asks a node's Platform what to do, never what the node is.

A capability check (``node.privileged``, ``node.sandbox is None``, ``kind.on_this_machine``,
``node.remote``, ``node.traits``, a duck-typed ``getattr(node, …)``, a step's ``rt is None``) is a kind
of node under another name; ``isinstance`` on a node class is one under its own. The backends'
modules (``clusterkit/backends/``) and the lab's (``clusterkit/lab/``) may ask: they are the kinds.
Code is read without its strings and comments, so a docstring that names an attribute does not count.

``LEFT`` is what remains of issue 21's count, file by file: a check may go, none may come (the count
of a file may only fall, and a file not listed must have none). Lower it as checks move to a Platform.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "clusterkit"
KINDS = ("backends", "lab")
CHECK = re.compile(r"[\w)\]]\.(privileged|remote|traits|on_this_machine)\b|\bsandbox is (not )?None\b|\brt is None\b"
                   r"|\bgetattr\(\s*(n|node|cluster|existing)\s*,")
NODE_CLASS = re.compile(r"\bisinstance\([^)]*\b\w*Node\b")

#: Capability checks left, per file: none (issue 21 moved them all to a Platform); a file may not gain one.
LEFT: dict[str, int] = {}


def code_lines(path: Path) -> list[tuple[int, str]]:
    """The module's lines with every string and comment blanked out: (line number, code)."""
    source = path.read_text()
    lines = source.splitlines()
    blank = [list(line) for line in lines]
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            (r0, c0), (r1, c1) = tok.start, tok.end
            for r in range(r0, r1 + 1):
                row = blank[r - 1]
                start, end = (c0 if r == r0 else 0), (c1 if r == r1 else len(row))
                row[start:end] = " " * (end - start)
    return [(no, "".join(row)) for no, row in enumerate(blank, 1)]


def outside_the_kinds() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.split("/")[0] not in KINDS:
            out.append((rel, path))
    return out


def hits(pattern: re.Pattern) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rel, path in outside_the_kinds():
        for no, code in code_lines(path):
            if pattern.search(code):
                found.setdefault(rel, []).append(f"{rel}:{no}: {code.strip()}")
    return found


def test_the_reader_sees_code_and_not_strings(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""node.privileged in a docstring"""\nx = node.privileged  # node.traits\ny = "rt is None"\n')
    assert [code.strip() for _, code in code_lines(sample) if CHECK.search(code)] == ["x = node.privileged"]


def test_no_capability_check_comes_back_outside_the_kinds():
    found = hits(CHECK)
    grown = {rel: lines for rel, lines in found.items() if len(lines) > LEFT.get(rel, 0)}
    assert not grown, "a node's Platform should answer these:\n" + "\n".join(
        line for lines in grown.values() for line in lines)


def test_the_count_left_is_the_count_there():
    found = {rel: len(lines) for rel, lines in hits(CHECK).items()}
    assert found == LEFT, "lower LEFT where checks went: " + str(
        {rel: (LEFT.get(rel, 0), found.get(rel, 0)) for rel in set(LEFT) | set(found)
         if LEFT.get(rel, 0) != found.get(rel, 0)})


def test_no_isinstance_on_node_classes_outside_the_kinds():
    assert hits(NODE_CLASS) == {}
