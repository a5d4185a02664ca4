"""Waiting for a lab node's sshd to answer on its address."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from ..errors import ClusterkitError


def sshd_answers(host: str, *, port: int = 22, timeout: float = 0.5) -> bool:
    """An SSH server greets us at ``host:port`` (its banner starts with ``SSH-``)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(max(timeout, 2.0))
            return sock.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _wait_one(host: str, deadline: float, running: Callable[[], bool]) -> bool:
    while True:
        if sshd_answers(host, timeout=0.3):
            return True
        if time.monotonic() >= deadline or not running():
            return False
        time.sleep(0.05)


def wait_for_sshd(hosts: dict[str, str], *, timeout: float, logs: dict[str, Path] | None = None,
                  running: dict[str, Callable[[], bool]] | None = None) -> None:
    """Wait until every node's sshd answers; else raise naming the nodes that did not (and their console).

    ``running``: per node, whether it still runs; a node that stopped is not waited for.
    """
    deadline = time.monotonic() + timeout
    running = running or {}
    with ThreadPoolExecutor(max_workers=min(32, max(1, len(hosts)))) as pool:
        answered = dict(zip(hosts, pool.map(
            lambda item: _wait_one(item[1], deadline, running.get(item[0], lambda: True)), hosts.items())))
    silent = [n for n, ok in answered.items() if not ok]
    if not silent:
        return
    detail = ""
    if logs and silent[0] in logs:
        try:
            tail = logs[silent[0]].read_text(errors="replace").strip().splitlines()[-3:]
            detail = f" (console of {silent[0]}: {' | '.join(tail)})" if tail else ""
        except OSError:
            pass
    raise ClusterkitError(f"sshd did not answer (waited up to {timeout:.0f} s) on {', '.join(silent)}{detail}",
                          field="lab")
