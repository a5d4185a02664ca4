"""The booth kiosk in Voila and Chromium: no code, a workload button, load and LEDs live, no shutdown for visitors."""

import os
import time
from pathlib import Path

import pytest

from clusterkit.kiosk import NOTEBOOK, TEMPLATE, TEMPLATE_ROOT
from harness import LED_COLOURS, SOURCE_STATE, chromium, voila
from test_dashboard_page import agents_of

pytestmark = pytest.mark.browser

CPU_OF = """(node) => { for (const d of Bokeh.documents) { const m = d.get_model_by_name('cpu');
  if (m) { return m.data.cpu[m.data.node.indexOf(node)]; } } return null; }"""


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_kiosk_for_visitors(tmp_path):
    sandbox = tmp_path / "sandbox"
    env = dict(os.environ, CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=str(sandbox))
    env.pop("CLUSTERKIT_INSTRUCTOR", None)
    with voila(NOTEBOOK, env=env, tmp=tmp_path, template=TEMPLATE, template_root=TEMPLATE_ROOT) as url, chromium(tmp_path) as page:
        page.goto(url, timeout=120_000)
        page.locator("div.bk-Figure").first.wait_for(state="visible", timeout=120_000)
        assert "import" not in page.inner_text("body")                # no code on the page
        assert page.locator("button.ck-poweroff").count() == 0        # visitors cannot shut it down
        page.wait_for_function(f"({SOURCE_STATE})('cpu_history') && ({SOURCE_STATE})('cpu_history').length > 2",
                               timeout=30_000)
        page.locator("button.ck-start-workload").click()
        page.wait_for_function(f"({CPU_OF})('pc1') > 5", timeout=30_000)
        page.wait_for_function(f"({LED_COLOURS})('pc1')[0] === 'rgb(0, 255, 0)'", timeout=10_000)
        time.sleep(1)
        page.screenshot(path=str(Path(__file__).resolve().parents[2] / "artifacts" / "kiosk.png"))
        assert page.offsite == []                  # nothing fetched from the internet (the kiosk's own template)
    end = time.monotonic() + 15
    while agents_of(sandbox) and time.monotonic() < end:
        time.sleep(0.2)
    assert agents_of(sandbox) == []
