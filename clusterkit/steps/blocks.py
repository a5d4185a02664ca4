"""Managed blocks: the lines clusterkit owns in a file that is otherwise the user's, between two marker lines.

A step replaces its block (or adds it) and keeps every other line; running it
again replaces the block, never duplicates it.
"""

from __future__ import annotations

#: The markers of the network steps' blocks (``/etc/hosts``, ``dhcpcd.conf``); other blocks add a word.
BEGIN, END = "# BEGIN clusterkit", "# END clusterkit"


def without_block(text: str, begin: str = BEGIN, end: str = END) -> list[str]:
    """The lines of ``text`` outside the block that starts at the line ``begin`` (or ``begin`` and a remark)
    and ends at the line ``end``, with the blank lines at its end dropped."""
    keep, inside = [], False
    for line in text.splitlines():
        if line.strip() == begin or line.startswith(begin + " "):
            inside = True
            continue
        if inside:
            inside = line.strip() != end
            continue
        keep.append(line)
    while keep and not keep[-1].strip():
        keep.pop()
    return keep
