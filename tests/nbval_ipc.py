"""pytest plugin for the notebook runs (``-p tests.nbval_ipc``): nbval's kernels listen on Unix sockets.

nbval makes its own ``KernelManager`` with no configuration; this plugin hands it one with
:class:`~notebook_run.IpcTransport`, whose docstring says why (a TCP port picked for a kernel can
be taken by another process before the kernel binds it).
"""

import nbval.kernel
from jupyter_client.manager import KernelManager

from tests.notebook_run import IpcTransport


class IpcKernelManager(IpcTransport, KernelManager):
    """nbval's kernel manager, its kernels on Unix sockets."""


nbval.kernel.KernelManager = IpcKernelManager
