"""Every notebook follows the workbook's shape: title, exercises with hidden solutions, cleanup, stripped outputs."""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"


def test_there_are_notebooks():
    # The cards are written before the boards boot; the welcome is the first notebook on a cluster.
    assert NOTEBOOKS and [p.name for p in NOTEBOOKS[:2]] == ["00_cards.ipynb", "00_welcome.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_shape(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.name[:2]} ")
    assert "learn" in first.source.lower()

    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        if c.source.lstrip().startswith(CHECK):
            assert c.outputs, f"checked cell has no stored output: {c.source[:60]!r}"
        else:
            assert not c.outputs, f"output not stripped: {c.source[:60]!r}"

    # Exercises: a heading, an empty cell for the learner, then a hidden solution that CI runs.
    heads = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("### Exercise")]
    assert heads, "at least one exercise"
    for i in heads:
        empty, sol = nb.cells[i + 1], nb.cells[i + 2]
        assert empty.cell_type == "code" and not empty.source.strip()
        assert sol.cell_type == "code" and "solution" in sol.metadata.get("tags", [])
        # Hidden as dask-tutorial hides it: Run All runs it (later cells may rely on it, CI executes it),
        # but neither its code nor its output shows until the learner opens it, after trying. JupyterLab
        # unfolds a cell's output when the cell runs, so `%%solution` (clusterkit.kernel) folds it into a box.
        assert sol.metadata.get("jupyter", {}).get("source_hidden") is True
        assert sol.source.startswith("%%solution\n"), "the answer shows before the try"
        assert sol.source.strip()

    assert re.search(r"\.(close|stop|down)\(", code[-1].source), "the last cell cleans up"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_test_placeholders_in_what_a_learner_reads(path):
    """A cell prints what the library says, not text rewritten for a test ("ADDRESS is the network address of NETWORK")."""
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        assert not re.search(r'\.replace\([^)]*"[A-Z]{4,}"\)', c.source), c.source[:80]
        for out in c.get("outputs", []):
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"\b(ADDRESS|NETWORK)\b", text), text[:80]
