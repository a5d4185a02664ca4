"""clusterkit's own errors show as their message alone in a notebook; others keep their traceback."""

import pytest
from IPython.core.interactiveshell import InteractiveShell

from clusterkit.errors import ClusterError, ClusterkitError, InventoryError, NodeError
from clusterkit.results import ClusterResult, NodeResult


def test_render_traceback_is_the_message_alone():
    err = InventoryError("not valid YAML: mapping values are not allowed here", source="boards.yaml", field="line 3")
    assert err._render_traceback_() == ["InventoryError: boards.yaml: line 3: not valid YAML: "
                                        "mapping values are not allowed here"]
    assert NodeError("cannot read", node="pc1", field="/etc/hosts")._render_traceback_() == [
        "NodeError: node pc1, /etc/hosts: cannot read"]


def test_a_cluster_error_keeps_its_few_lines():
    rows = {f"pc{i}": NodeResult.failure(f"pc{i}", "unreachable", "no route") for i in range(5)}
    lines = ClusterError(ClusterResult(rows, command="true"))._render_traceback_()
    assert lines[0] == "ClusterError: 5 of 5 nodes failed" and lines[-1] == "  … 2 more" and len(lines) == 5


def _shown(shell, capsys, code):
    """What IPython prints for a cell (its stdout and stderr), and whether the cell failed."""
    result = shell.run_cell(code)
    out = capsys.readouterr()
    return out.out + out.err, not result.success


@pytest.fixture
def shell():
    sh = InteractiveShell.instance(colors="nocolor")
    yield sh
    InteractiveShell.clear_instance()


def test_ipython_shows_one_line_for_a_bad_inventory_and_the_cell_fails(shell, capsys, tmp_path):
    bad = tmp_path / "boards.yaml"
    bad.write_text("name: pc\nnodes: pc[0-3]\nprimary:pc0\nuser: pi\n")
    shown, failed = _shown(shell, capsys, f"import clusterkit\nclusterkit.connect({str(bad)!r})")
    assert failed
    assert shown.strip() == (f"InventoryError: {bad}: line 3: not valid YAML: could not find expected ':' "
                             "(in a simple key that starts on this line)"), shown


def test_ipython_keeps_the_traceback_of_an_unexpected_error(shell, capsys):
    shown, failed = _shown(shell, capsys, "from clusterkit.inventory import parse_inventory\nparse_inventory(42)")
    assert failed and "Traceback" in shown and "parse_inventory(42)" in shown


def test_base_class_renders_too():
    assert ClusterkitError("x", field="scope")._render_traceback_() == ["ClusterkitError: scope: x"]


def test_plain_python_shows_an_uncaught_clusterkit_error_in_one_line(tmp_path):
    """A script that connects to a bad inventory: the one line a notebook shows, not the library's frames."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "boards.yaml"
    bad.write_text("name: x\nnodes: pc[0-3]\nprimary: pc9\n")
    code = f"import clusterkit; clusterkit.connect({str(bad)!r})"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    env.pop("CLUSTERKIT_TRACEBACK", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"InventoryError: {bad}: primary (node pc9): 'pc9' is not one of the nodes pc[0-3]"
    assert len(lines) == 2 and "CLUSTERKIT_TRACEBACK=1" in lines[1] and "Traceback" not in done.stderr
    full = subprocess.run([sys.executable, "-c", code], env=dict(env, CLUSTERKIT_TRACEBACK="1"),
                          capture_output=True, text=True, timeout=60)
    assert full.stderr.startswith("Traceback") and "inventory.py" in full.stderr
    other = subprocess.run([sys.executable, "-c", "import clusterkit; 1 / 0"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert other.stderr.startswith("Traceback") and "ZeroDivisionError" in other.stderr   # not ours: untouched
