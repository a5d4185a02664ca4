"""What a node agent says, one JSON line at a time: the one declaration of its fields.

The agent (:mod:`clusterkit.agent`) writes a :class:`Sample` per interval and a
last one with ``bye``; the dashboard's feed reads each line back with
:meth:`Sample.from_json` and its panels read the fields. A value that cannot be
measured on a node is None and is left out of the line, never invented.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Sample:
    """One line of a node agent's output."""

    node: str
    seq: int                         #: counts the agent's lines, from 1
    time: float                      #: wall-clock seconds on the node when it was taken
    cpu: float | None = None         #: percent of all cores
    cores: list[float] | None = None  #: percent per core
    load: list[float] | None = None  #: load average over 1, 5 and 15 minutes
    mem: dict | None = None          #: ``total``, ``used`` (bytes) and ``percent``
    procs: int | None = None         #: processes counted as the node's (scopes ``node`` and ``pidns``)
    net: dict | None = None          #: bytes ``sent`` and ``recv`` (not on scope ``node``)
    temp: float | None = None        #: degrees C, where a sensor exists
    battery: dict | None = None      #: ``percent``, and ``plugged`` and ``secs_left`` when known
    leds: list[str] | None = None    #: the eight pixels as ``#rrggbb``
    pattern: str | None = None       #: the LED pattern shown
    brightness: float | None = None  #: the LEDs' brightness, 0 to 1
    error: str | None = None         #: why the last command was refused
    bye: str | None = None           #: on the last line: why the agent stopped

    def to_json(self) -> str:
        """The line the agent writes (fields that are None are left out)."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> "Sample":
        """A line read back; ValueError when it is not a sample (keys it does not know are ignored)."""
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("a sample is a JSON object")
        try:
            return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
        except TypeError as e:  # node, seq or time missing
            raise ValueError(f"not a sample: {e}") from None


__all__ = ["Sample"]
