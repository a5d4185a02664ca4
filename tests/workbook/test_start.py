"""The README's start command brings JupyterLab up on notebooks/, answering with its token."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from waiting import end_group

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
        output = ""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and url_line not in output:
            time.sleep(0.1)
            log.seek(0)
            output = log.read()
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
        port, status = None, None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and status is None:
            time.sleep(0.5)
            log.seek(0)
            found = re.search(r"open http://127\.0\.0\.1:(\d+)/lab\?token=", log.read())
            if found:
                port = int(found.group(1))
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                        status = json.load(r)
                except OSError:
                    pass
        log.seek(0)
        output = log.read()
        assert status is not None, f"JupyterLab did not answer:\n{output[-3000:]}"
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
