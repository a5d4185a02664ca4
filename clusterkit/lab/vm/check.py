"""Can this machine run the VM lab? ``python -m clusterkit.lab.vm.check`` exits 0 if so, else 1 with one line why."""

from __future__ import annotations

import sys

from .. import check
from .image import why_not
from .machine import accel


def reason() -> str | None:
    """Why the VM lab cannot run here (the lab's own reasons first), or None when it can."""
    return check.reason() or why_not()


def main() -> int:
    why = reason()
    if why is not None:
        print(f"clusterkit VM lab: cannot run here: {why}")
        return 1
    print(f"clusterkit VM lab: this machine can run virtual boards ({accel().upper()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
