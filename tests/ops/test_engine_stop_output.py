"""Stopping engines in a notebook prints nothing when nothing failed, and still shows an engine that was killed.

ipyparallel logs to a notebook's output (its kernel's stdout) each process's output and exit code as its
launcher sees it stop; that happens only inside a real kernel, so the cells run in one (nbclient), on the
local backend.
"""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient


def run_cells(tmp_path, middle: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import clusterkit\n"
        f"cluster = clusterkit.connect(backend='local', sandbox={str(tmp_path / 'sandbox')!r})\n"
        "engines = cluster.engines(per_node=1, timeout=60).start()"),
        nbformat.v4.new_code_cell(middle),
        nbformat.v4.new_code_cell("engines.stop()\ncluster.close()\nprint('stopped')")]
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    out = nb.cells[-1].outputs
    return "".join(o.get("text", "") for o in out if o.get("output_type") == "stream")


def test_stop_with_nothing_failed_prints_no_exit_codes(tmp_path):
    text = run_cells(tmp_path, "engines.view().apply_sync(sum, [1, 2])")
    assert text == "stopped\n", text


def test_an_engine_killed_before_stop_is_still_shown(tmp_path):
    text = run_cells(tmp_path, "engines.kill(cluster.workers[-1].name)")
    assert "'exit_code': 137" in text and text.count("exit_code") == 2, text   # its set's line only
    assert text.endswith("stopped\n")
