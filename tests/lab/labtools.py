"""Log in to lab nodes with the OpenSSH client, by password (the lab's own tests, apart from clusterkit's SSH code).

The password goes to ssh through an askpass program that reads it from the
lab's inventory, so it is never on a command line or in any output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ASKPASS = """#!{python}
import yaml
print(yaml.safe_load(open({inventory!r}))["password"])
"""


def askpass(lab, tmp: Path) -> Path:
    path = tmp / f"askpass-{lab.name}"
    path.write_text(ASKPASS.format(python=sys.executable, inventory=str(lab.inventory_path)))
    path.chmod(0o700)
    return path


def ssh(lab, node: str, command: str, *, askpass_path: Path, sudo: bool = False, host: str | None = None,
        timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run ``command`` on ``node`` as pi (as root through ``sudo -S`` with the password when ``sudo``)."""
    host = host or lab.boards[node].host
    stdin = None
    if sudo:
        stdin = subprocess.run([str(askpass_path)], capture_output=True, text=True, check=True).stdout
        command = f"sudo -S -p '' sh -c {_quote(command)}"
    env = dict(os.environ, SSH_ASKPASS=str(askpass_path), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    return subprocess.run(
        ["setsid", "-w", "ssh", "-F", "/dev/null", "-o", f"UserKnownHostsFile={lab.known_hosts_path}",
         "-o", "StrictHostKeyChecking=yes", "-o", "PubkeyAuthentication=no", "-o", "BatchMode=no",
         "-o", "ConnectTimeout=5", "-o", "NumberOfPasswordPrompts=1", f"pi@{host}", command],
        input=stdin, capture_output=True, text=True, env=env, timeout=timeout)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def node_state(lab, node: str) -> str:
    return next(s.state for s in lab.status() if s.name == node)
