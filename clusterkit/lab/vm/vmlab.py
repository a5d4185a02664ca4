"""A running VM lab: the :class:`~clusterkit.lab.Lab` interface over virtual boards.

Powering a board on boots its disk (a real boot: systemd, its fstab, its
default target); pulling its plug ends its QEMU process; a ``poweroff`` inside
ends it too, and a ``reboot`` inside resets the machine. The lab reaches a
board without SSH through its guest agent (:meth:`exec`, for tests and
repairs) and through its serial console (:meth:`console`, :meth:`type`), the
board's screen and keyboard.
"""

from __future__ import annotations

import time
from pathlib import Path

from ...errors import ClusterkitError
from .. import procs
from ..base import Lab, NodeStatus
from ..record import Record
from ..wait import sshd_answers
from . import boards, machine
from . import image as vmimage


class VMLab(Lab):
    """A lab of virtual boards (``lab.json`` names :data:`.boards.NAME` as its kind)."""

    kind = boards.NAME

    def __init__(self, directory):
        super().__init__(directory)
        record = Record.load(directory)
        self.release: str = record.release or vmimage.DEFAULT_RELEASE
        #: The image its boards were made from (a newer build of the same release does not change them).
        self.image = vmimage.Image(self.release, Path(record.image)) if record.image else vmimage.image_for(self.release)
        self.vm_names = boards.Names(self.name)

    def files(self, name: str) -> machine.Files:
        self._board(name)
        return boards.board_files(self.dir, name)

    # ------------------------------------------------------------ nodes
    def pid(self, name: str) -> int | None:
        sup = self._board(name).supervisor
        return sup.pid if procs.alive(sup) else None

    def exec(self, name: str, command: str, *, input: str | None = None, timeout: float = 30.0):
        """Run ``command`` as root on board ``name`` through its guest agent (no SSH)."""
        if self.pid(name) is None:
            raise ClusterkitError("the board is off; `clusterkit lab up` starts it", node=name)
        if input is not None:
            import base64
            import shlex
            command = f"printf %s {shlex.quote(base64.b64encode(input.encode()).decode())} | base64 -d | ({command})"
        return machine.guest_exec(self.files(name), command, timeout=timeout)

    def start_node(self, name: str, *, rtc_base: str = "utc", kernel_args: str = "") -> None:
        """Power board ``name`` on: a real boot of its disk. No-op when it runs.

        ``rtc_base``: its hardware clock (QEMU's ``-rtc base=``: "utc" is this host's time, or a date such as
        "2024-12-02T10:00:00" for a board whose clock is wrong); ``kernel_args``: added to its kernel's command
        line for this boot, as a line added to a Pi's ``cmdline.txt`` (``init=/bin/sh``)."""
        board = self._board(name)
        if procs.alive(board.supervisor):
            return
        built = self.image
        files = self.files(name)
        proc = machine.start(boards.qemu_command(self.dir, self.vm_names, board, files, built, self.slot,
                                                 rtc_base=rtc_base, kernel_args=kernel_args),
                             ns=self.vm_names.ns, files=files)
        self._set_supervisor(name, proc)

    def wait_booted(self, names: list[str], *, timeout: float) -> None:
        """Wait until every board's sshd answers (a board that stopped is not waited for)."""
        deadline = time.monotonic() + max(timeout, boards.BOOT_TIMEOUT)
        left = list(names)
        while left:
            left = [n for n in left if procs.alive(self.boards[n].supervisor)
                    and not sshd_answers(self.boards[n].host, timeout=1.0)]
            if left and time.monotonic() > deadline:
                raise ClusterkitError(f"sshd did not answer on {', '.join(left)} after its boot: "
                                      + boards._tail(self.files(left[0])), field="lab")
            if left:
                time.sleep(0.5)

    def stop_node(self, name: str) -> None:
        """Pull board ``name``'s plug (QEMU quits at once; nothing is shut down cleanly)."""
        board = self._board(name)
        if procs.alive(board.supervisor):
            try:
                machine.qmp(self.files(name), "quit", timeout=5)
            except (OSError, ClusterkitError):
                procs.kill(board.supervisor)
        procs.wait_gone([board.supervisor] if board.supervisor else [], timeout=10)

    def set_clock(self, name: str, when_ns: int | None = None) -> None:
        """Set a board's clock (and its RTC) through its guest agent: the host's time, or ``when_ns``."""
        machine.set_clock(self.files(name), when_ns)

    def console(self, name: str) -> str:
        """Everything board ``name`` has printed on its serial console (its screen)."""
        return machine.console_text(self.files(name))

    def type(self, name: str, text: str) -> None:
        """Type ``text`` on board ``name``'s serial console (its keyboard)."""
        machine.console_type(self.files(name), text)

    # ------------------------------------------------------------ state
    def status(self) -> list[NodeStatus]:
        out = []
        for b in self.boards.values():
            pid = b.supervisor.pid if procs.alive(b.supervisor) else None
            answers = pid is not None and sshd_answers(b.host, timeout=0.5)
            state = "off" if pid is None else ("running" if answers else "booting")
            out.append(NodeStatus(name=b.name, state=state, pid=pid, host=b.host, address=b.address,
                                  uid=b.uid, sshd=answers))
        return out

    def memory(self) -> dict[str, dict[str, int]]:
        """Per board: Rss and Pss in KiB of its QEMU process."""
        out = {}
        for b in self.boards.values():
            m = procs.memory_kib(b.supervisor.pid) if procs.alive(b.supervisor) else {"rss": 0, "pss": 0}
            out[b.name] = {**m, "processes": 1 if procs.alive(b.supervisor) else 0}
        return out

    def describe(self) -> str:
        return f"virtual boards ({self.release}, {machine.accel().upper()})"

    def __repr__(self) -> str:
        on = sum(1 for b in self.boards.values() if procs.alive(b.supervisor))
        return (f"<VMLab {self.name!r} {self.release} nodes={self.inventory().nodeset} on={on}/{len(self.boards)} "
                f"uplink={self.uplink} network={self.network} accel={machine.accel()}>")


__all__ = ["VMLab"]
