"""Stopping engines in a notebook prints nothing when nothing failed, and still shows an engine that was killed.

ipyparallel logs to a notebook's output (its kernel's stdout) each process's output and exit code as its
launcher sees it stop; that happens only inside a real kernel, so the cells run in one (nbclient), on the
local backend.
"""

from __future__ import annotations

import nbformat

from notebook_run import run_notebook


def run_cells(tmp_path, middle: str) -> tuple[str, str]:
    """The text the middle cell and the last cell (stop) printed."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import clusterkit\n"
        f"cluster = clusterkit.connect(backend='local', sandbox={str(tmp_path / 'sandbox')!r})\n"
        "engines = cluster.engines(per_node=1, timeout=60).start()"),
        nbformat.v4.new_code_cell(middle),
        nbformat.v4.new_code_cell("engines.stop()\ncluster.close()\nprint('stopped')")]
    run_notebook(nb, timeout=300)
    return tuple("".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
                 for cell in nb.cells[1:])


def test_stop_with_nothing_failed_prints_no_exit_codes(tmp_path):
    middle, text = run_cells(tmp_path, "engines.view().apply_sync(sum, [1, 2])")
    assert middle == "" and text == "stopped\n", (middle, text)


def test_an_engine_killed_before_stop_is_still_shown(tmp_path):
    """kill returns once the launcher has seen the engine end, so its warning shows in that very cell
    (not in whichever cell runs when the launcher happens to notice); stop then adds nothing."""
    middle, text = run_cells(tmp_path, "engines.kill(cluster.workers[-1].name)")
    assert "'exit_code': 137" in middle and middle.count("exit_code") == 2, middle   # its set's line only
    assert text == "stopped\n", text
