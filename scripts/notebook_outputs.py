"""Store the expected outputs of a notebook's checked cells, and strip every other output.

    python scripts/notebook_outputs.py notebooks/00_welcome.ipynb [...]

Runs each notebook on the local backend (a throwaway sandbox), then keeps the
outputs only of cells whose first line is ``# NBVAL_CHECK_OUTPUT`` (nbval
compares those in CI; they keep an execution count) and strips the rest.
"""

import os
import sys
import tempfile

import nbformat

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from notebook_run import run_notebook  # noqa: E402

CHECK = "# NBVAL_CHECK_OUTPUT"


def checked(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK)


def refresh(path: str) -> None:
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as sandbox:
        os.environ.update(CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=sandbox, CLUSTERKIT_UNATTENDED="1")
        run_notebook(nb, cwd=os.path.dirname(os.path.abspath(path)), timeout=600)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if checked(cell):
            # nbval compares only cells that look run: they keep an execution count.
            count += 1
            cell.execution_count = count
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
        else:
            cell.execution_count = None
            cell.outputs = []
    nbformat.write(nb, path)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        refresh(p)
        print("stored checked outputs:", p)
