"""The booth kiosk: one page where visitors start a workload and watch the load and the LEDs.

Served by Voila with no code shown (``scripts/kiosk.sh``), from the notebook
``NOTEBOOK``. Reboot and shutdown appear only with an instructor setting:
``CLUSTERKIT_INSTRUCTOR=1`` in the environment (or ``instructor=True``).
"""

from __future__ import annotations

import html
import os
import threading
from pathlib import Path

import ipywidgets as widgets

from .dashboard import Dashboard, burn

#: The notebook Voila serves.
NOTEBOOK = Path(__file__).with_name("data") / "kiosk.ipynb"
#: Voila's template for the kiosk (its lab template minus the stylesheets it links from a CDN),
#: found by Voila when ``JUPYTER_PATH`` includes ``TEMPLATE_ROOT``.
TEMPLATE = "clusterkit-kiosk"
TEMPLATE_ROOT = Path(__file__).with_name("data")
#: Seconds a visitor's workload runs.
WORKLOAD_SECONDS = 20.0
#: Seconds between whole resends of the time series (Voila drops points streamed before the page drew).
RESYNC = 5.0


def instructor_mode() -> bool:
    """Whether ``CLUSTERKIT_INSTRUCTOR`` is set to 1/true/yes."""
    return os.environ.get("CLUSTERKIT_INSTRUCTOR", "").strip().lower() in ("1", "true", "yes", "on")


class Kiosk(widgets.VBox):
    """A big "start a workload" button above a live dashboard; power buttons only for an instructor."""

    def __init__(self, cluster, *, instructor: bool | None = None, seconds: float = WORKLOAD_SECONDS):
        self.cluster = cluster
        self.seconds = seconds
        self.instructor = instructor_mode() if instructor is None else instructor
        self.dashboard = Dashboard(cluster, power=self.instructor, resync=RESYNC,
                                   title=f"A {len(cluster)}-node cluster, live")
        self.start_button = widgets.Button(description="Start a workload", button_style="success",
                                           icon="play", layout=widgets.Layout(width="16em", height="3em"))
        self.start_button.add_class("ck-start-workload")
        self.start_button.on_click(lambda _b: self.start())
        self.note = widgets.HTML("Press the button: every node computes for "
                                 f"{seconds:g} seconds. Watch the bars climb and the LEDs follow the load.")
        self.run: threading.Thread | None = None
        super().__init__([widgets.HTML("<h2>Build a cluster, then make it work</h2>"),
                          widgets.HBox([self.start_button, self.note]), self.dashboard])
        self.add_class("ck-kiosk")

    def start(self) -> threading.Thread | None:
        """Start the workload on every node (once at a time); None while one runs."""
        if self.run is not None and self.run.is_alive():
            return None
        self.start_button.disabled = True
        self.dashboard.set_pattern("cpu")
        load = burn(self.cluster, seconds=self.seconds)

        def finished() -> None:
            load.join()
            self.start_button.disabled = False
            failed = [] if load.result is None else list(load.result.failed)
            self.note.value = ("Done. Press again!" if not failed else
                               f"Done; the workload failed on {html.escape(', '.join(failed))}.")

        self.note.value = f"Computing on {len(self.cluster)} nodes…"
        self.run = threading.Thread(target=finished, daemon=True, name="clusterkit-kiosk")
        self.run.start()
        return self.run

    def close(self) -> None:
        self.dashboard.close()
        super().close()


def booth(*, instructor: bool | None = None) -> Kiosk:
    """The kiosk for the cluster of ``clusterkit.connect()`` (the backend from ``CLUSTERKIT_BACKEND``)."""
    from . import connect
    return Kiosk(connect(), instructor=instructor)
