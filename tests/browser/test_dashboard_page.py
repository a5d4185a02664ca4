"""Notebook 09 in a real JupyterLab and a real Chromium: the chart is drawn, it moves, the LED buttons work."""

import os
import time
from pathlib import Path

import psutil
import pytest

from harness import KERNEL_IDLE, LED_COLOURS, SOURCE_STATE, chromium, jupyterlab, without_cleanup

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
ARTIFACT = REPO / "artifacts" / "dashboard.png"
BLACK, RED = "rgb(0, 0, 0)", "rgb(255, 0, 0)"


def agents_of(sandbox: Path) -> list[psutil.Process]:
    """Agent processes started for nodes in this test's sandbox."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if "clusterkit.agent" in " ".join(p.info["cmdline"] or []) and \
                    p.environ().get("CLUSTERKIT_ROOT", "").startswith(str(sandbox)):
                found.append(p)
        except psutil.Error:
            pass
    return found


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_notebook_09_in_chromium(tmp_path):
    root = tmp_path / "notebooks"
    root.mkdir()
    without_cleanup(REPO / "notebooks" / "09_dashboard.ipynb", root / "09_dashboard.ipynb")
    sandbox = tmp_path / "sandbox"
    env = dict(os.environ, CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=str(sandbox))
    with jupyterlab(root, env=env, tmp=tmp_path) as lab, chromium(tmp_path) as page:
        page.goto(lab.url("lab/tree/09_dashboard.ipynb"))
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

        # The chart is on the page, and its data changes over time.
        page.locator("div.bk-Figure").first.wait_for(state="visible", timeout=60_000)
        page.wait_for_function(f"({SOURCE_STATE})('cpu_history') !== null", timeout=30_000)
        first = page.evaluate(SOURCE_STATE, "cpu_history")
        page.wait_for_function(f"({SOURCE_STATE})('cpu_history').last !== {first['last']}", timeout=10_000)
        later = page.evaluate(SOURCE_STATE, "cpu_history")
        assert later["length"] >= first["length"] and later["last"] > first["last"]
        assert page.evaluate("(n) => Bokeh.documents.some(d => d.get_model_by_name(n))", "cpu")

        # Every cell has run (the shutdown table is there), then the LED buttons drive the virtual LEDs.
        page.get_by_text("['worker', 'worker', 'worker', 'primary']").wait_for(timeout=60_000)
        page.wait_for_function(KERNEL_IDLE, timeout=30_000)
        page.locator("button.ck-pattern-clear").first.click()
        page.wait_for_function(f"({LED_COLOURS})('pc0').length === 8 && "
                               f"({LED_COLOURS})('pc0').every(c => c === '{BLACK}')", timeout=10_000)
        page.locator("button.ck-pattern-larson").first.click()
        page.wait_for_function(f"({LED_COLOURS})('pc0').includes('{RED}')", timeout=10_000)
        assert page.evaluate(LED_COLOURS, "pc0").count(RED) == 1

        ARTIFACT.parent.mkdir(exist_ok=True)
        time.sleep(1.0)  # let a few more points in, for the picture
        dash = page.locator(".ck-dashboard").first
        dash.scroll_into_view_if_needed()
        dash.screenshot(path=str(ARTIFACT))
        assert agents_of(sandbox)
        assert page.offsite == []                                   # nothing fetched from the internet
    # JupyterLab and the kernel are gone; the agents saw their input close and ended.
    end = time.monotonic() + 15
    while agents_of(sandbox) and time.monotonic() < end:
        time.sleep(0.2)
    assert agents_of(sandbox) == []
