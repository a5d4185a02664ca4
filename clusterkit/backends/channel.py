"""A long-lived process over one SSH exec channel, as a :class:`~clusterkit.backends.base.Stream`.

The SSH backend opens the node agent this way: one channel per node, no
terminal, the agent's stdin and stdout as the channel's. Closing the channel's
write side is the agent's end of input, so it clears its LEDs and exits.
"""

from __future__ import annotations

import time

from .base import Stream


class ChannelStream(Stream):
    """A paramiko channel on which ``command`` runs."""

    def __init__(self, transport, command: str, *, timeout: float = 10.0):
        self.channel = transport.open_session(timeout=timeout)
        self.channel.exec_command(command)
        self._in = self.channel.makefile_stdin("wb")
        self._out = self.channel.makefile("rb")
        self._err = self.channel.makefile_stderr("rb")
        self._lost = False

    @classmethod
    def over(cls, connection, command: str, *, timeout: float = 10.0) -> "ChannelStream":
        """Open ``command`` over a fabric ``Connection`` (opened if need be) or a paramiko ``SSHClient``."""
        if hasattr(connection, "open") and hasattr(connection, "client"):   # fabric
            if not connection.is_connected:
                connection.open()
            connection = connection.client
        return cls(connection.get_transport(), command, timeout=timeout)

    def send(self, line: str) -> None:
        if self.channel.closed:
            raise OSError("the channel is closed")
        self._in.write((line.rstrip("\n") + "\n").encode())
        self._in.flush()

    def readline(self) -> str:
        try:
            raw = self._out.readline()
        except (OSError, EOFError):
            raw = b""
        if not raw and not self.channel.exit_status_ready():
            self._lost = True
        return raw.decode(errors="replace")

    @property
    def reason(self) -> str | None:
        if self.channel.exit_status_ready():
            status = self.channel.recv_exit_status()
            why = "was ended by a signal" if status == -1 else f"exited with status {status}"
            try:
                err = self._err.read().decode(errors="replace").strip().splitlines()[-1:] if status else []
            except OSError:
                err = []
            return f"{why}: {err[0]}" if err else why
        if self._lost or self.channel.closed:
            return "lost its connection"
        return None

    def close(self, *, timeout: float = 2.0) -> None:
        try:
            self.channel.shutdown_write()
        except (OSError, EOFError):
            pass
        end = time.monotonic() + timeout
        while not self.channel.exit_status_ready() and not self.channel.closed and time.monotonic() < end:
            time.sleep(0.02)
        self.channel.close()
