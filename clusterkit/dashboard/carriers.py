"""Joined carriers on the dashboard: one group per carrier, its nodes, and whether it answers."""

from __future__ import annotations

import html

import ipywidgets as widgets

from .feed import NodeState
from .panel import Panel, alive_sample


def carrier_lines(groups: dict[str, list[str]], states: dict[str, NodeState]) -> list[tuple[str, bool, str]]:
    """(carrier, reachable, words) for each carrier: reachable while one of its nodes' agents answers."""
    out = []
    for carrier, nodes in groups.items():
        up = [n for n in nodes if alive_sample(states, n) is not None]
        if up:
            words = f"{len(up)} of {len(nodes)} nodes answer"
            down = [n for n in nodes if n not in up]
            if down:
                words += f" ({', '.join(down)} down)"
        else:
            reasons = {states[n].reason for n in nodes if n in states and states[n].reason}
            words = "unreachable: no node answers" + (f" ({'; '.join(sorted(reasons))})" if reasons else "")
        out.append((carrier, bool(up), words))
    return out


class CarrierGroups(Panel):
    """One line per carrier: its nodes and whether it answers, in a widget whose ``data-carrier`` rows tests read."""

    def __init__(self, groups: dict[str, list[str]]):
        super().__init__([n for nodes in groups.values() for n in nodes])
        self.groups = groups
        self.source = self.root = widgets.HTML(self._html({}), layout=widgets.Layout(padding="4px"))
        self.root.add_class("ck-carriers")

    def _html(self, states: dict[str, NodeState]) -> str:
        rows = []
        for carrier, up, words in carrier_lines(self.groups, states):
            colour = "#2ca02c" if up else "#d62728"
            rows.append(f'<div class="ck-carrier" data-carrier="{html.escape(carrier)}" data-up="{int(up)}">'
                        f'<b style="color:{colour}">{html.escape(carrier)}</b> '
                        f'<code>{html.escape(", ".join(self.groups[carrier]))}</code>: {html.escape(words)}</div>')
        return "".join(rows)

    def update(self, states: dict[str, NodeState]) -> bool:
        value = self._html(states)
        if value == self.source.value:
            return False
        self.source.value = value
        return True
