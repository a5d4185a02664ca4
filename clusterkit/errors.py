"""One exception base for the package; each error names the node and the field it is about."""

from __future__ import annotations

import os
import sys


class ClusterkitError(Exception):
    """Base of every error clusterkit raises.

    ``node`` and ``field`` say what the error is about (either may be None);
    ``str(err)`` is one line that a learner can act on.
    """

    def __init__(self, message: str, *, node: str | None = None, field: str | None = None):
        self.message = message
        self.node = node
        self.field = field
        super().__init__(self._line())

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error in a notebook: its message alone, no traceback.

        Every clusterkit error is one that clusterkit anticipated and worded for the
        learner (naming the node and the field), so the frames inside the library add
        nothing they can act on; a bug surfaces as any other exception and keeps its
        full traceback. The cell still fails, so Run All stops there.
        """
        return f"{type(self).__name__}: {self}".splitlines()

    def _line(self) -> str:
        where = []
        if self.node:
            where.append(f"node {self.node}")
        if self.field:
            where.append(self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InventoryError(ClusterkitError):
    """An inventory file that cannot describe a cluster; names the file, field and node."""

    def __init__(self, message: str, *, source: str, field: str, node: str | None = None):
        self.source = source
        super().__init__(message, node=node, field=field)

    def _line(self) -> str:
        where = f"{self.source}: {self.field}"
        if self.node:
            where += f" (node {self.node})"
        return f"{where}: {self.message}"


class NodeError(ClusterkitError):
    """Something went wrong on one node (a file that cannot be read, a refused command)."""


class PrivilegeRefused(NodeError):
    """A privileged action that this backend cannot perform (the local backend has no root)."""


class ClusterError(ClusterkitError):
    """Some nodes failed. Raised only after every node has run; carries the whole result.

    Like ipyparallel's CompositeError, the message shows the first few failures
    and then "… N more", never a wall of output.
    """

    shown = 3

    def __init__(self, result):
        self.result = result
        failed = list(result.failed.values())
        lines = [f"{len(failed)} of {len(result)} nodes failed"]
        for r in failed[: self.shown]:
            lines.append(f"  {r.node}: {r.summary()}")
        if len(failed) > self.shown:
            lines.append(f"  … {len(failed) - self.shown} more")
        super().__init__("\n".join(lines))


#: Set to 1 to see the whole traceback of a clusterkit error in plain Python too.
TRACEBACK_ENV = "CLUSTERKIT_TRACEBACK"


def _one_line_hook(kind, value, tb, *, fallback=sys.__excepthook__) -> None:
    """Plain Python's last word on an uncaught error: a clusterkit error as its one line, as a notebook shows it.

    The frames inside the library add nothing a learner can act on (see
    :meth:`ClusterkitError._render_traceback_`); any other exception, and every error
    with ``$CLUSTERKIT_TRACEBACK`` set, keeps Python's own full traceback.
    """
    if isinstance(value, ClusterkitError) and not os.environ.get(TRACEBACK_ENV):
        print(f"{kind.__name__}: {value}", file=sys.stderr)
        print(f"(clusterkit's one-line error; {TRACEBACK_ENV}=1 shows the whole traceback)", file=sys.stderr)
        return
    fallback(kind, value, tb)


def install_excepthook() -> None:
    """Show uncaught clusterkit errors in one line in plain Python (a script, ``python -c``, the REPL).

    Only where nobody has set a hook of their own, and never inside IPython (which
    uses ``_render_traceback_`` instead).
    """
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        return
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _one_line_hook
