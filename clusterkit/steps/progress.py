"""Per-node progress while a step applies: an ipywidget in a notebook, lines on stderr elsewhere."""

from __future__ import annotations

import html
import sys
import threading

from ..kernel import in_kernel


class Progress:
    """Counts each node's actions done out of its total; ``tick`` after each one."""

    def __init__(self, title: str, totals: dict[str, int], *, enabled: bool = True):
        self.title = title
        self.totals = totals
        self.done = {n: 0 for n in totals}
        self.last = {n: "" for n in totals}
        self.lock = threading.Lock()
        self.widget = None
        self.enabled = enabled and any(totals.values())
        if self.enabled and in_kernel():
            import ipywidgets
            from IPython.display import display
            self.widget = ipywidgets.HTML(self._html())
            display(self.widget)

    def tick(self, node: str, what: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.done[node] += 1
            self.last[node] = what
            if self.widget is not None:
                self.widget.value = self._html()
            else:
                print(f"{self.title}: {node} {self.done[node]}/{self.totals[node]} {what}", file=sys.stderr)

    def close(self) -> None:
        if self.widget is not None:
            with self.lock:
                self.widget.value = self._html()

    def _html(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(n)}</code></td>"
            f"<td><progress max='{max(t, 1)}' value='{self.done[n] if t else 1}'></progress></td>"
            f"<td>{self.done[n]}/{t}</td><td style='text-align:left'>{html.escape(self.last[n])}</td></tr>"
            for n, t in self.totals.items())
        return f"<b>{html.escape(self.title)}</b><table>{rows}</table>"
