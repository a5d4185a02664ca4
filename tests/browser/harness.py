"""A JupyterLab started for one test, and headless Debian Chromium driven by Playwright.

Nothing is downloaded: Playwright drives ``/usr/bin/chromium`` with a fresh
profile; JupyterLab listens on 127.0.0.1 with a token, its settings, workspaces
and runtime files in a temporary folder, with the news pop-up turned off.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from waiting import end_group, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: No news pop-up, and every cell kept in the page (not only those scrolled into view).
OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
             "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: its URL, token and REST calls."""

    def __init__(self, proc: subprocess.Popen, port: int, token: str, env: dict):
        self.proc, self.port, self.token, self.env = proc, port, token, env

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def stop_kernels(self) -> None:
        for k in self.api("kernels"):
            self.api(f"kernels/{k['id']}", method="DELETE")


@contextmanager
def jupyterlab(root: Path, *, env: dict, tmp: Path):
    """JupyterLab serving ``root``; stopped (kernels first, then the server's process group) on exit."""
    port, token = free_port(), os.urandom(16).hex()
    settings = tmp / "app-settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
    # A learner's JupyterLab: its kernels must not inherit pytest's marker of an unattended run, so Run All
    # stops where a notebook waits for the learner (clusterkit.workbook.pause), as it does for them.
    env = {k: v for k, v in env.items() if k != "PYTEST_CURRENT_TEST"}
    env = dict(env, JUPYTERLAB_SETTINGS_DIR=str(tmp / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
            "--port-retries", "0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = open(tmp / "jupyterlab.log", "w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(proc, port, token, env)
    try:
        wait_for(lambda: _answers(proc, lambda: lab.api("status"), tmp / "jupyterlab.log"), 60,
                 lambda: "JupyterLab to start:\n" + (tmp / "jupyterlab.log").read_text()[-2000:])
        yield lab
    finally:
        try:
            lab.stop_kernels()
        except OSError:
            pass
        end_group(proc, 15)
        log.close()


@contextmanager
def chromium(tmp: Path):
    """A fresh headless Chromium page (Debian's browser; Playwright downloads nothing).

    The page works offline: any request leaving 127.0.0.1 is refused and listed in ``page.offsite``;
    ``page.requests`` lists every request the page made (its URL), websockets included.
    """
    from playwright.sync_api import sync_playwright

    profile = tmp / "chromium-profile"
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                   args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.offsite = []  # requests to anywhere but this machine: refused, and listed for the test
        page.requests = []  # every request, to check they all went to the page's own server
        ctx.on("request", lambda request: page.requests.append(request.url))
        page.on("websocket", lambda ws: page.requests.append(ws.url))

        def local_only(route):
            url = route.request.url
            if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                page.offsite.append(url)
                route.abort()

        ctx.route("**/*", local_only)
        try:
            yield page
        finally:
            ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def without_cleanup(src: Path, dest: Path) -> Path:
    """A copy of a notebook without its last (cleanup) cell, so its dashboard stays live to be looked at."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    nb.cells = nb.cells[:-1]
    nbformat.write(nb, dest)
    return dest


#: The text a notebook shows where Run All stops for the learner (clusterkit.workbook.pause).
PAUSED = "Run All stops here on purpose"

#: Make the cell that paused Run All the active one; its index (-1 when there is none).
SELECT_PAUSE = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const i = nb.widgets.findIndex(c => c.model.type === 'code' && c.model.sharedModel.getSource().includes('workbook.pause('));
  if (i >= 0) { nb.activeCellIndex = i; }
  return i;
}"""

#: Each solution cell: whether it ran, whether its code is folded away, and whether its output sits in a
#: closed box (``%%solution``: the box is there, what the solution printed inside it takes no room).
SOLUTIONS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => (c.model.getMetadata('tags') || []).includes('solution'))
  .map(c => {
    const box = c.outputArea ? c.outputArea.node.querySelector('.ck-solution') : null;
    const inner = box ? box.querySelector('.widget-output') : null;
    return {ran: c.model.executionCount !== null, inputHidden: c.inputHidden, box: !!box,
            shown: !!inner && inner.getBoundingClientRect().height > 0};
  })"""


def go_on_after_pause(page) -> None:
    """What the learner does after looking: run the paused cell again and every cell below it."""
    assert page.evaluate(SELECT_PAUSE) >= 0
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-below')")


KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""

#: A named bokeh source's row count and last time, from whichever document holds it.
SOURCE_STATE = """(name) => {
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    const m = doc.get_model_by_name(name);
    if (m) { const t = m.data.time; return {length: m.get_length(), last: t ? t[t.length - 1] : null}; }
  }
  return null;
}"""

#: Resolves once the page has painted two more frames: what it shows then is what the kernel sent before.
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"

#: The background colours of one node's virtual LEDs.
LED_COLOURS = """(node) => Array.from(document.querySelectorAll(`.ck-led-row[data-node="${node}"] .ck-led`))
  .slice(0, 8).map(e => getComputedStyle(e).backgroundColor)"""


def _answers(proc: subprocess.Popen, ask, log: Path, *, http_error_answers: bool = False) -> bool:
    """Whether the server ``proc`` answers ``ask()`` (``http_error_answers``: an HTTP error, as a 403/404 for a
    folder, counts as an answer); a server that has ended fails the test at once, with the end of its ``log``."""
    try:
        ask()
    except urllib.error.HTTPError:
        if http_error_answers:
            return True
        return _still_starting(proc, log)
    except OSError:
        return _still_starting(proc, log)
    return True


def _still_starting(proc: subprocess.Popen, log: Path) -> bool:
    """False while the server ``proc`` runs (it does not answer yet); it ended: fail with the end of its ``log``."""
    if proc.poll() is not None:
        raise RuntimeError(f"the server ended (exit {proc.returncode}):\n" + log.read_text()[-2000:])
    return False


@contextmanager
def voila(notebook: Path, *, env: dict, tmp: Path, template: str | None = None, template_root: Path | None = None):
    """Voila serving one notebook with no code shown, as scripts/kiosk.sh does; yields its URL."""
    port = free_port()
    env = dict(env, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    if template_root is not None:
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(template_root), env.get("JUPYTER_PATH")]))
    argv = [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
            "--Voila.port_retries=0", "--VoilaConfiguration.strip_sources=True", str(notebook)]
    if template:
        argv.append(f"--template={template}")
    log = open(tmp / "voila.log", "w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: _answers(proc, lambda: urllib.request.urlopen(url + "voila/static/", timeout=2),
                                  tmp / "voila.log", http_error_answers=True), 60,
                 lambda: "Voila to start:\n" + (tmp / "voila.log").read_text()[-2000:])
        yield url
    finally:
        end_group(proc, 15)
        log.close()
