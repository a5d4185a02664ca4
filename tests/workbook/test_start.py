"""The README's start command brings JupyterLab up on notebooks/, answering with its token."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from waiting import end_group, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script_env(tmp_path) -> dict:
    """start.sh runs setup.sh: on this test's venv, with the clusterkit link in a scratch
    directory (tests/workbook/test_setup.py checks the real one, and restores it)."""
    return {"CLUSTERKIT_VENV": sys.prefix, "CLUSTERKIT_BIN": str(tmp_path / "bin")}


def test_start_command_serves_the_notebooks(tmp_path):
    readme = (ROOT / "README.md").read_text()
    assert "scripts/start.sh" in readme
    port, token = free_port(), "t0ken-for-the-test"
    env = dict(os.environ, PORT=str(port), CLUSTERKIT_TOKEN=token, CLUSTERKIT_BACKEND="local",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), CLUSTERKIT_SANDBOX=str(tmp_path / "sb"),
               **script_env(tmp_path))
    log = open(tmp_path / "start.log", "w+")
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "start.sh")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # The URL is printed only once JupyterLab listens: the first request after it appears is answered.
        url_line = f"open http://127.0.0.1:{port}/lab?token={token}"
        output = wait_for(lambda: _printed(log, proc, url_line), 240, lambda: f"its URL:\n{_printed(log)[-3000:]}")
        assert url_line in output, f"no URL printed:\n{output[-3000:]}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5) as r:
            status = json.load(r)
        assert status is not None
        assert "the local backend" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
            names = {item["name"] for item in json.load(r)["content"]}
        assert "00_welcome.ipynb" in names
        # Without the token the API refuses.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
            raise AssertionError("the API answered without a token")
        except urllib.error.HTTPError as e:
            assert e.code == 403
    finally:
        end_group(proc, 15)


def test_a_busy_port_given_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = dict(os.environ, PORT=str(port), CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=str(tmp_path / "sb"),
                   **script_env(tmp_path))
        p = subprocess.run(["bash", str(ROOT / "scripts" / "start.sh")], env=env, capture_output=True,
                           text=True, timeout=60)
    assert p.returncode == 1
    assert p.stdout == "" and p.stderr.strip() == (
        f"clusterkit: port {port} on 127.0.0.1 is busy (another JupyterLab?); choose a free one with PORT=")


def test_without_port_a_busy_8888_gives_the_next_free_one_and_stop_works(tmp_path):
    """As a second user would: 8888 is taken, so the workbook takes another and says so."""
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        held.bind(("127.0.0.1", 8888))   # busy for the run (if someone else has it, it is busy already)
        held.listen()
    except OSError:
        pass
    token, runtime = "t0ken-for-the-test", tmp_path / "runtime"
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    env.update(CLUSTERKIT_TOKEN=token, CLUSTERKIT_BACKEND="local", JUPYTER_RUNTIME_DIR=str(runtime),
               CLUSTERKIT_SANDBOX=str(tmp_path / "sb"), **script_env(tmp_path))
    log = open(tmp_path / "start.log", "w+")
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "start.sh")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:

        def answer() -> tuple[int, dict] | None:
            assert proc.poll() is None, f"start.sh ended:\n{_printed(log)[-3000:]}"
            found = re.search(r"open http://127\.0\.0\.1:(\d+)/lab\?token=", _printed(log))
            if found is None:
                return None
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{found.group(1)}/api/status?token={token}",
                                            timeout=2) as r:
                    return int(found.group(1)), json.load(r)
            except OSError:
                return None
        port, status = wait_for(answer, 240, lambda: f"JupyterLab to answer:\n{_printed(log)[-3000:]}", interval=0.5)
        output = _printed(log)
        assert port != 8888 and f"clusterkit: port 8888 is busy; using {port} (PORT= chooses one)" in output
        assert f"jupyter server stop {port}" in output
        # The README's way to stop it from another terminal.
        stop = subprocess.run([sys.executable, "-m", "jupyter", "server", "stop", str(port)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert proc.wait(30) == 0
    finally:
        held.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _printed(log, proc: subprocess.Popen | None = None, line: str | None = None) -> str | None:
    """What the script printed so far; with ``line``: that, once it holds ``line`` or ``proc`` ended, else None."""
    log.seek(0)
    text = log.read()
    if line is None or line in text or proc.poll() is not None:
        return text
    return None
