"""Every exercise's solution runs a second time without raising: right after itself, and in a second Run All.

Each notebook runs twice on the local backend in one sandbox (a learner who runs
it again), with every solution cell repeated right after itself; both runs must
finish, clean-up included (nbclient raises at the first cell that fails).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from notebook_run import run_notebook

NOTEBOOKS = sorted(p for p in (Path(__file__).resolve().parents[2] / "notebooks").glob("0[0-8]_*.ipynb"))


def with_solutions_twice(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = []
    for c in nb.cells:
        cells.append(c)
        if c.cell_type == "code" and "solution" in c.metadata.get("tags", []):
            again = nbformat.v4.new_code_cell(c.source)
            again.metadata["tags"] = ["solution-again"]
            cells.append(again)
    nb.cells = cells
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_solutions_run_twice(path, tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_BACKEND", "local")
    monkeypatch.setenv("CLUSTERKIT_SANDBOX", str(tmp_path / "sandbox"))
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    for _ in range(2):
        nb = with_solutions_twice(path)
        assert any("solution-again" in c.metadata.get("tags", []) for c in nb.cells)
        run_notebook(nb, cwd=path.parent, timeout=600)
