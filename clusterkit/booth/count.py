"""How many regions visitors rendered today, kept in a small file on the cluster's primary.

The file is ``~/.local/state/clusterkit/booth-count.json`` in the login user's
home on the primary (on the local backend, the primary's sandbox home): the
kiosk may restart, the count stays with the cluster. It holds one count per
day, ``{"2026-12-02": 17, …}``; only the last :data:`KEEP_DAYS` days are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Callable

from ..errors import ClusterkitError

#: Where the count lives, relative to the login user's home on the primary.
COUNT_FILE = ".local/state/clusterkit/booth-count.json"
KEEP_DAYS = 30


class RegionCount:
    """Regions rendered today on the cluster whose primary is ``node``; :meth:`add` counts one more."""

    def __init__(self, node, *, path: str = COUNT_FILE, today: Callable[[], dt.date] = dt.date.today):
        self.node, self.path, self.today = node, path, today
        self._lock = threading.Lock()

    def _read(self) -> dict[str, int]:
        raw = self.node.read_file(self.path)
        if raw is None:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise ClusterkitError(f"{self.path} is not JSON; move it away to start counting again",
                                  node=self.node.name, field="count") from None
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def value(self) -> int:
        """Regions rendered today (0 for a new day, or a new cluster)."""
        return self._read().get(self.today().isoformat(), 0)

    def add(self, n: int = 1) -> int:
        """Count ``n`` more regions today; the new count."""
        with self._lock:
            data = self._read()
            day = self.today().isoformat()
            data[day] = data.get(day, 0) + n
            kept = dict(sorted(data.items())[-KEEP_DAYS:])
            self.node.write_file(self.path, json.dumps(kept, sort_keys=True).encode() + b"\n", backup=False)
            return kept[day]


__all__ = ["RegionCount", "COUNT_FILE"]
