"""A notebook that connects to a bad inventory shows one line and Run All stops there (a real kernel)."""

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from notebook_run import run_notebook


def _notebook(inventory):
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"import clusterkit\ncluster = clusterkit.connect({str(inventory)!r})"),
        nbformat.v4.new_code_cell("print('after')"),
    ])


def test_bad_inventory_in_a_notebook_is_one_line_and_stops_run_all(tmp_path):
    bad = tmp_path / "boards.yaml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    nb = _notebook(bad)
    with pytest.raises(CellExecutionError):
        run_notebook(nb, cwd=tmp_path, timeout=120)
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "InventoryError"
    assert error.traceback == [f"InventoryError: {bad}: file: not a text file (it holds NUL bytes): "
                               "is this the inventory?"]
    assert nb.cells[1].outputs == []      # Run All stopped at the error
