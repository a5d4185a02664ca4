"""The one shape of a dashboard panel: every panel (a chart, the LED rows, a table) follows it.

A panel has three members:

``source``
    What the page is sent: one bokeh ``ColumnDataSource`` for a chart, or one
    ipywidget whose value is the panel's content. :meth:`Panel.update` changes
    only this.
``root``
    What the dashboard lays out: one bokeh model (a figure) or one ipywidget.
    It may be ``source`` itself.
``update(data) -> bool``
    Bring ``source`` up to date from what the panel shows: for the load
    panels, every node's :class:`~.feed.NodeState` by name (its latest
    :class:`~clusterkit.sample.Sample`, or why it is down); for a panel fed by
    something else (a queue of jobs), that. True when something was sent; an
    update that changes nothing sends nothing.

A new panel subclasses :class:`Panel`, calls ``super().__init__(nodes)``, sets
``source`` and ``root``, and implements ``update``; the widget that shows it
lays out its ``root`` and calls its ``update`` (the load panels:
:class:`~.app.Dashboard`). BokehJS for the page: :func:`clusterkit.kernel.load_bokehjs`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from jupyter_bokeh import BokehModel

from .feed import NodeState


class PageModel(BokehModel):
    """The widget that shows bokeh models on a page, hearing only the page's events (a tap, ``DocumentReady``).

    jupyter_bokeh 4.1's page sends every change it applied back to the kernel,
    where a streamed row is then streamed a second time (the booth's picture had
    33 outlines for 24 tiles, ``tests/browser/test_booth_page.py``): this widget
    drops those echoes. Nothing here lets the page change the kernel's models.
    """

    def close(self) -> None:
        """Close once (a second close, as the garbage collector makes, finds nothing to remove)."""
        if getattr(self, "_closed_once", False):
            return
        self._closed_once = True
        super().close()

    def _sync_model(self, model, content: dict, buffers: list) -> None:
        if content.get("event") == "jsevent" and content.get("kind") != "MessageSent":
            return
        super()._sync_model(model, content, buffers)


class Panel(ABC):
    """One part of the dashboard: ``source`` (what the page is sent), ``root`` (what is laid out), ``update``."""

    source: Any
    root: Any

    def __init__(self, nodes: list[str]):
        self.nodes = list(nodes)

    @abstractmethod
    def update(self, data) -> bool:
        """Bring ``source`` up to date from ``data``; True when something was sent (nothing when nothing changed)."""


def alive_sample(states: dict[str, NodeState], node: str):
    """The node's latest sample while its agent is alive, else None."""
    st = states.get(node)
    return st.sample if st is not None and st.alive and st.sample is not None else None
