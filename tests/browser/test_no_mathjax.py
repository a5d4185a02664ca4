"""Notebook 04 in a real JupyterLab and Chromium: a `$(…)` in its Applied table is shell, never typeset as LaTeX."""

import os
from pathlib import Path

import nbformat
import pytest

from harness import KERNEL_IDLE, chromium, jupyterlab

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
#: A cell appended to the copy: text MathJax must typeset, so the test knows MathJax runs on this page.
CONTROL = 'from IPython.display import HTML\nHTML("<p class=\'ck-control\'>$x^2 + y^2$</p>")'


def notebook_04_with_control(dest: Path) -> Path:
    nb = nbformat.read(REPO / "notebooks" / "04_nfs.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CONTROL))
    nbformat.write(nb, dest)
    return dest


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_applied_table_is_not_typeset(tmp_path):
    root = tmp_path / "notebooks"
    root.mkdir()
    notebook_04_with_control(root / "04_nfs.ipynb")
    env = dict(os.environ, CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=str(tmp_path / "sandbox"),
               CLUSTERKIT_STATE=str(tmp_path / "state"))
    with jupyterlab(root, env=env, tmp=tmp_path) as lab, chromium(tmp_path) as page:
        page.goto(lab.url("lab/tree/04_nfs.ipynb"))
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        control = page.locator("p.ck-control")
        control.wait_for(timeout=120_000)
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        # MathJax runs on this page: the control's maths is typeset.
        control.locator("mjx-container").first.wait_for(timeout=30_000)

        applied = page.locator(".jp-OutputArea-output", has_text="Applied nfs")
        assert applied.count() >= 1
        text = applied.first.inner_text()
        assert "$(" in text                                   # the shell text is there, as typed
        assert applied.first.locator("mjx-container").count() == 0
        # No output of clusterkit anywhere on the page was typeset.
        assert page.locator(".mathjax_ignore mjx-container").count() == 0
        assert page.offsite == []
