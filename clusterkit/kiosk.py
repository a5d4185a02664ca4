"""The booth kiosk: the page visitors play with, served by Voila with no code shown.

``scripts/kiosk.sh`` serves the notebook ``NOTEBOOK``, whose one cell is
``booth()``: the fractal activity of :mod:`clusterkit.booth` on the cluster of
``clusterkit.connect()`` (the backend from ``CLUSTERKIT_BACKEND``). Settings
from the environment:

- ``CLUSTERKIT_INSTRUCTOR=1``: the reboot, shutdown, LED and "unplug a node"
  buttons (with their confirmation); visitors never see them otherwise;
- ``CLUSTERKIT_BOOTH_IDLE``: seconds without a touch before attract mode (default 60).
"""

from __future__ import annotations

import os
from pathlib import Path

from .booth import Booth
from .booth.page import IDLE_SECONDS
from .errors import ClusterkitError

#: The notebook Voila serves.
NOTEBOOK = Path(__file__).with_name("data") / "kiosk.ipynb"
#: Voila's template for the kiosk (its lab template minus the stylesheets it links from a CDN),
#: found by Voila when ``JUPYTER_PATH`` includes ``TEMPLATE_ROOT``.
TEMPLATE = "clusterkit-kiosk"
TEMPLATE_ROOT = Path(__file__).with_name("data")


def instructor_mode() -> bool:
    """Whether ``CLUSTERKIT_INSTRUCTOR`` is set to 1/true/yes."""
    return os.environ.get("CLUSTERKIT_INSTRUCTOR", "").strip().lower() in ("1", "true", "yes", "on")


def idle_seconds() -> float:
    """``CLUSTERKIT_BOOTH_IDLE`` (seconds before attract mode), else :data:`~clusterkit.booth.page.IDLE_SECONDS`."""
    raw = os.environ.get("CLUSTERKIT_BOOTH_IDLE", "").strip()
    if not raw:
        return IDLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ClusterkitError(f"is a number of seconds above 0, not {raw!r}", field="CLUSTERKIT_BOOTH_IDLE")
    return value


def booth(*, instructor: bool | None = None) -> Booth:
    """The booth page for the cluster of ``clusterkit.connect()``."""
    from . import connect
    return Booth(connect(), instructor=instructor_mode() if instructor is None else instructor, idle=idle_seconds())
