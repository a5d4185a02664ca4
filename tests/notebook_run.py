"""Running a notebook from a test (or ``scripts/notebook_outputs.py``): nbclient, whose waits cannot sleep through a reply.

nbclient talks to the kernel with jupyter_client's asyncio client. On a loaded machine that
client's ``await socket.poll(timeout)`` sometimes sleeps through a message that is already
readable: the ZMQ socket's file descriptor is edge-triggered, and the wake-up was missed. Seen
here (2026-12-07, notebook 02 with its solutions twice, run again and again on the namespace lab
beside other test runs): 12 hangs in 287 runs, each at a ``%%solution`` cell (the first cell
whose output goes into an Output widget, or its repeat), for which nbclient sends comm messages
on the same shell socket while it waits there for the reply. Each time the cell's ``execute_reply`` sat in
the client's shell socket (``ZMQ_EVENTS`` = POLLIN), the kernel had sent ``status: idle`` and
answered other clients at once, and the test waited out the whole cell timeout.

A new poll reads ``ZMQ_EVENTS`` when it registers, so waiting in slices of :data:`SLICE`
seconds finds such a message at the next slice: a missed wake-up costs at most a slice, never
the cell's timeout (with slices, 0 hangs in 338 runs of the same loop). Every notebook a test runs
goes through :func:`run_notebook`.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.connect import ConnectionFileMixin
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import CaselessStrEnum, Type, default

#: Seconds one poll may wait before the socket's state is read again.
SLICE = 1.0


class SlicedChannel(AsyncZMQSocketChannel):
    """A channel whose ``get_msg`` polls in slices, so a message whose wake-up was missed is found."""

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = SLICE if deadline is None else max(0.0, deadline - time.monotonic())
            wait = min(SLICE, left)
            if await self.socket.poll(int(wait * 1000)):
                return await self._recv()
            if deadline is not None and wait >= left:
                raise Empty


class SlicedClient(AsyncKernelClient):
    """nbclient's kernel client, with :class:`SlicedChannel` for every channel it waits on."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)
    stdin_channel_class = Type(SlicedChannel)
    control_channel_class = Type(SlicedChannel)


class IpcTransport(ConnectionFileMixin):
    """A kernel manager's part that makes its kernels listen on Unix sockets, not TCP ports.

    jupyter_client picks a kernel's five TCP ports by binding port 0 and letting go of it; the
    kernel binds them a moment later. On a busy machine another process can take one in between,
    and the kernel dies as it starts (``ZMQError: Address already in use``; seen here once in 173
    kernel starts while labs and other tests ran beside). An IPC socket is a file named for its
    kernel: nobody else takes it.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        """An absolute path, one per kernel (the kernel runs in the notebook's folder, the client here)."""
        return os.path.join(tempfile.gettempdir(), f"kernel-{uuid.uuid4().hex[:12]}-ipc")


class SlicedKernelManager(IpcTransport, AsyncKernelManager):
    """A kernel manager whose clients are :class:`SlicedClient` and whose kernels listen on Unix sockets."""

    client_factory = Type(SlicedClient)


def run_notebook(nb, *, cwd: str | Path | None = None, timeout: float = 300):
    """Execute ``nb`` in place in a fresh ``python3`` kernel started in ``cwd``; raises at the first failing cell.

    ``timeout``: seconds one cell may take. Returns ``nb``.
    """
    resources = {"metadata": {"path": str(cwd)}} if cwd is not None else {}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources,
                   kernel_manager_class=SlicedKernelManager).execute()
    return nb
