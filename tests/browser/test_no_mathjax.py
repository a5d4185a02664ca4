"""Notebook 04 in a real JupyterLab and Chromium: a `$(…)` in its Applied table is shell, never typeset as LaTeX."""

import os
from pathlib import Path

import nbformat
import pytest

from harness import KERNEL_IDLE, chromium, jupyterlab

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
#: Cells appended to the copy. The control: the lab's chronyd command as plain HTML text, which MathJax typesets
#: (so the test knows MathJax runs on this page and would take that text for maths); then the same command in an
#: apply result, as notebook 05 shows it on the lab.
CONTROL = """import html
from IPython.display import HTML
from clusterkit.lab.platform import LAB_START
HTML("<p class='ck-control'>" + html.escape(LAB_START) + "</p>")"""
APPLIED = """from clusterkit.results import NodeResult
from clusterkit.steps.base import ApplyResult, Command, NodeOutcome, NodePlan, Plan
plan = Plan("time", "lab", {"pc0": NodePlan("pc0", [Command(LAB_START)])}, {"pc0": {}})
ApplyResult({"pc0": NodeResult(node="pc0", status="ok", exit_code=0, value=NodeOutcome(ran=[LAB_START]))},
            plan=plan, command="apply time")"""


def notebook_04_with_control(dest: Path) -> Path:
    nb = nbformat.read(REPO / "notebooks" / "04_nfs.ipynb", as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(CONTROL), nbformat.v4.new_code_cell(APPLIED)]
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
        page.locator(".jp-OutputArea-output", has_text="Applied time").wait_for(timeout=60_000)
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        # MathJax runs on this page, and takes the command's `$(…) … "$p"` for maths when nothing stops it.
        control.locator("mjx-container").first.wait_for(timeout=30_000)

        nfs = page.locator(".jp-OutputArea-output", has_text="Applied nfs")
        assert nfs.count() >= 1 and nfs.first.locator("mjx-container").count() == 0
        applied = page.locator(".jp-OutputArea-output", has_text="Applied time").first
        text = applied.text_content()       # a long command is folded under its name: all of it is in the page
        assert "$(seq 50)" in text and '"$p"' in text          # the shell text is there, as typed
        assert applied.locator("mjx-container").count() == 0
        # No output of clusterkit anywhere on the page was typeset.
        assert page.locator(".mathjax_ignore mjx-container").count() == 0
        assert page.offsite == []
