"""Notebook 09 in a real JupyterLab and a real Chromium, run with Run All as a learner runs it.

Run All stops before the shutdown and the clean up (``workbook.pause``): the chart is drawn and
moves, the LED buttons work, the solution is folded away. Going on from there powers the nodes
off, and the closed dashboard stays on the page as a still picture. On the local backend, and on
a lab of namespaces (whose nodes really go down).
"""

import os
from pathlib import Path

import psutil
import pytest

from harness import (KERNEL_IDLE, LED_COLOURS, PAUSED, SOLUTIONS, SOURCE_STATE, chromium, go_on_after_pause,
                     jupyterlab)
from clusterkit import workbook
from labnames import lab_name, running_lab
from waiting import wait_for

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
ARTIFACT = ARTIFACTS / "dashboard.png"
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


def run_all_until_the_pause(page, lab) -> None:
    page.goto(lab.url("lab/tree/09_dashboard.ipynb"))
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.get_by_text(PAUSED).wait_for(timeout=180_000)
    page.wait_for_function(KERNEL_IDLE, timeout=30_000)


def assert_chart_drawn_and_moving(page) -> None:
    """The chart is on the page, and its time series grows after Run All has stopped."""
    page.locator("div.bk-Figure").first.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(f"({SOURCE_STATE})('cpu_history') !== null", timeout=30_000)
    first = page.evaluate(SOURCE_STATE, "cpu_history")
    page.wait_for_function(f"({SOURCE_STATE})('cpu_history').length > {first['length']}", timeout=15_000)
    later = page.evaluate(SOURCE_STATE, "cpu_history")
    assert later["length"] > first["length"] and later["last"] > first["last"]
    assert page.evaluate("(n) => Bokeh.documents.some(d => d.get_model_by_name(n))", "cpu")


def assert_solutions_folded(page) -> None:
    """Run All ran the solution, and shows neither its code nor its output until the learner opens it."""
    solutions = page.evaluate(SOLUTIONS)
    assert solutions and all(s["ran"] and s["inputHidden"] and s["box"] for s in solutions), solutions
    assert not any(s["shown"] for s in solutions), solutions


def go_on_and_see_the_still_picture(page, roles: str) -> None:
    """The learner goes on: the shutdown runs in order, and the closed dashboard stays as a still picture."""
    go_on_after_pause(page)
    page.get_by_text(roles).wait_for(timeout=300_000)
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)
    dash = page.locator(".ck-dashboard").first
    dash.get_by_text("no longer live").wait_for(timeout=30_000)
    assert dash.locator("div.bk-Figure").first.is_visible()
    assert dash.locator("button.ck-pattern-larson").first.is_disabled()


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_notebook_09_in_chromium(tmp_path):
    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "09_dashboard.ipynb").write_bytes((REPO / "notebooks" / "09_dashboard.ipynb").read_bytes())
    sandbox = tmp_path / "sandbox"
    env = dict(os.environ, CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=str(sandbox))
    with jupyterlab(root, env=env, tmp=tmp_path) as lab, chromium(tmp_path) as page:
        run_all_until_the_pause(page, lab)
        assert_chart_drawn_and_moving(page)
        assert_solutions_folded(page)
        ARTIFACTS.mkdir(exist_ok=True)
        for name, text in (("run-all-paused.png", PAUSED), ("solution-folded.png", "The solution's output")):
            cell = page.locator(".jp-Cell", has_text=text).last
            cell.scroll_into_view_if_needed()
            cell.screenshot(path=str(ARTIFACTS / name))
        # The shutdown has not run: Run All stopped before it.
        assert page.get_by_text("['worker', 'worker', 'worker', 'primary']").count() == 0

        # The LED buttons drive the virtual LEDs.
        page.locator("button.ck-pattern-clear").first.click()
        page.wait_for_function(f"({LED_COLOURS})('pc0').length === 8 && "
                               f"({LED_COLOURS})('pc0').every(c => c === '{BLACK}')", timeout=10_000)
        page.locator("button.ck-pattern-larson").first.click()
        page.wait_for_function(f"({LED_COLOURS})('pc0').includes('{RED}')", timeout=10_000)
        assert page.evaluate(LED_COLOURS, "pc0").count(RED) == 1

        ARTIFACTS.mkdir(exist_ok=True)
        for _ in range(2):   # a few more points in, for the picture
            last = page.evaluate(SOURCE_STATE, "cpu_history")["last"]
            page.wait_for_function(f"({SOURCE_STATE})('cpu_history').last > {last}", timeout=30_000)
        dash = page.locator(".ck-dashboard").first
        dash.scroll_into_view_if_needed()
        dash.screenshot(path=str(ARTIFACT))
        assert agents_of(sandbox)

        go_on_and_see_the_still_picture(page, "['worker', 'worker', 'worker', 'primary']")
        wait_for(lambda: agents_of(sandbox) == [], 15, "the agents to end")   # dash.close() ended them
        assert page.offsite == []                                   # nothing fetched from the internet
    # JupyterLab and the kernel are gone; the agents saw their input close and ended.
    wait_for(lambda: agents_of(sandbox) == [], 15, "the agents to end with JupyterLab")


@pytest.mark.lab    # tests/conftest.py skips it, or fails it as root, where the lab cannot run
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_notebook_09_run_all_on_a_lab(tmp_path):
    """On a lab as notebooks 01-03 leave it: Run All shows the charts moving before anything closes them."""
    state = tmp_path / "state"
    with running_lab(lab_name("tdash"), 3, state) as running:
        with running.connect() as c:
            workbook.reapply(c, "01_users", "02_network", "03_keys").save_inventory()
        root = tmp_path / "notebooks"
        root.mkdir()
        (root / "09_dashboard.ipynb").write_bytes((REPO / "notebooks" / "09_dashboard.ipynb").read_bytes())
        env = dict(os.environ, CLUSTERKIT_BACKEND="lab", CLUSTERKIT_INVENTORY=str(running.inventory_path),
                   CLUSTERKIT_STATE=str(state))
        with jupyterlab(root, env=env, tmp=tmp_path) as lab, chromium(tmp_path) as page:
            run_all_until_the_pause(page, lab)
            assert_chart_drawn_and_moving(page)
            assert_solutions_folded(page)
            # Every node is still up: the shutdown waits for the learner.
            assert all(running.pid(n) is not None for n in running.boards)
            ARTIFACTS.mkdir(exist_ok=True)
            dash = page.locator(".ck-dashboard").first
            dash.scroll_into_view_if_needed()
            dash.screenshot(path=str(ARTIFACTS / "dashboard-lab.png"))

            go_on_and_see_the_still_picture(page, "['worker', 'worker', 'primary']")
            dash.screenshot(path=str(ARTIFACTS / "dashboard-lab-closed.png"))
            assert all(running.pid(n) is None for n in running.boards)   # the learner's shutdown, done
            assert page.offsite == []
