"""The README's start command brings JupyterLab up on notebooks/, answering with its token."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_start_command_serves_the_notebooks(tmp_path):
    readme = (ROOT / "README.md").read_text()
    assert "scripts/start.sh" in readme
    port, token = free_port(), "t0ken-for-the-test"
    env = dict(os.environ, PORT=str(port), CLUSTERKIT_TOKEN=token, CLUSTERKIT_BACKEND="local",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), CLUSTERKIT_SANDBOX=str(tmp_path / "sb"))
    log = open(tmp_path / "start.log", "w+")
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "start.sh")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                    status = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert status is not None, f"JupyterLab did not answer:\n{output[-3000:]}"
        assert f"open http://127.0.0.1:{port}/lab?token={token}" in output
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
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
