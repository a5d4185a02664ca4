"""A password asked for at most once and shared by a cluster's nodes (the SSH backend's sudo password)."""

from __future__ import annotations

import getpass
import os
import threading

#: Where a sudo password may come from when the inventory has none.
SUDO_PASSWORD_ENV = "CLUSTERKIT_SUDO_PASSWORD"


class Password:
    """A password asked for at most once and shared by a cluster's nodes; its repr never shows it."""

    def __init__(self, value: str | None = None, *, env: str = SUDO_PASSWORD_ENV, prompt: bool = True):
        self._value = value
        self._env = env
        self._prompt = prompt
        self._lock = threading.Lock()

    def known(self) -> str | None:
        """The password if it is already given (inventory or environment), without asking."""
        with self._lock:
            if self._value is None:
                self._value = os.environ.get(self._env) or None
            return self._value

    def get(self, why: str) -> str | None:
        """The password, asking once when it is not given; None when there is none to be had."""
        with self._lock:
            if self._value is None:
                self._value = os.environ.get(self._env) or None
            if self._value is None and self._prompt:
                self._prompt = False            # ask once; a refused prompt is not asked again
                try:
                    self._value = getpass.getpass(f"{why}: ") or None
                except (Exception, KeyboardInterrupt):
                    self._value = None
            return self._value

    def __repr__(self) -> str:
        return "<Password set>" if self._value else "<Password not set>"
