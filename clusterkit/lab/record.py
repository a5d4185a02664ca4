"""What a lab keeps about itself on the host: ``lab.json`` (its networks, router and boards) and its inventory.

``lab.json`` has one writer, :func:`update`: under the lab's record lock it reads the record, changes it and
replaces the file in one rename, so that two boards started at once (a VM lab boots its boards in parallel)
never lose each other's supervisor.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from ..atomicfile import write_atomic
from ..inventory import Inventory, parse_inventory
from . import procs


@dataclass(frozen=True)
class Board:
    """One node of a lab as the lab made it."""

    name: str
    index: int
    uid: int           #: pi's UID on this node
    host: str          #: the DHCP address of its wlan0 (where SSH reaches it first)
    address: str       #: its planned static address on the cluster network (notebook 02)
    supervisor: procs.Proc | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "index": self.index, "uid": self.uid, "host": self.host,
                "address": self.address, "supervisor": self.supervisor.to_dict() if self.supervisor else None}

    @classmethod
    def from_dict(cls, d: dict) -> "Board":
        return cls(name=d["name"], index=d["index"], uid=d["uid"], host=d["host"], address=d["address"],
                   supervisor=procs.Proc.from_dict(d.get("supervisor")))


@dataclass
class Record:
    """A lab's ``lab.json``: enough to find, power and remove everything the lab made."""

    name: str
    slot: int
    network: str                 #: the cluster network (wired, eth0)
    uplink: str                  #: the venue Wi-Fi subnet (wlan0, DHCP)
    router: procs.Proc | None
    boards: dict[str, Board]
    kind: str | None = None      #: the name of its kind (:mod:`.kinds`); None: the default kind
    release: str | None = None   #: a VM lab's Debian release
    image: str | None = None     #: a VM lab's image folder (its boards' base disk, kernel and initrd)

    @classmethod
    def load(cls, directory: Path) -> "Record":
        data = json.loads((directory / "lab.json").read_text())
        return cls(name=data["name"], slot=data["slot"], network=data["network"], uplink=data["uplink"],
                   router=procs.Proc.from_dict(data.get("router")),
                   boards={d["name"]: Board.from_dict(d) for d in data["nodes"]},
                   kind=data.get("kind"), release=data.get("release"), image=data.get("image"))

    def save(self, directory: Path) -> None:
        """Write this record as the lab's ``lab.json`` (a new lab's)."""
        update(directory, lambda _: self)

    def with_supervisor(self, name: str, supervisor: procs.Proc | None) -> "Record":
        """This record with board ``name`` powered by ``supervisor``."""
        board = dataclasses.replace(self.boards[name], supervisor=supervisor)
        return dataclasses.replace(self, boards={**self.boards, name: board})

    def to_json(self) -> str:
        data = {"name": self.name, "slot": self.slot, "network": self.network, "uplink": self.uplink,
                "router": self.router.to_dict() if self.router else None,
                "nodes": [b.to_dict() for b in self.boards.values()], "kind": self.kind, "release": self.release,
                "image": self.image}
        return json.dumps(data, indent=1) + "\n"


def update(directory: Path, change: Callable[[Record | None], Record]) -> Record:
    """The one writer of ``directory/lab.json``: under the record lock, ``change`` the record there (None when
    there is none yet) and write what it returns."""
    with open(directory / ".record.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = Record.load(directory) if (directory / "lab.json").is_file() else None
        new = change(old)
        write_atomic(directory / "lab.json", new.to_json(), mode=0o644)
        return new


def set_supervisor(directory: Path, name: str, supervisor: procs.Proc | None) -> Record:
    """Record that board ``name`` of the lab in ``directory`` now runs under ``supervisor``."""
    return update(directory, lambda record: record.with_supervisor(name, supervisor))


def write_inventory(path: Path, data: dict) -> Inventory:
    """Validate the lab's inventory and write it (readable by every user: JupyterLab runs as one)."""
    text = ("# The inventory of a clusterkit lab, written by `clusterkit lab up`.\n"
            "# `password` is the workshop password of user pi (README.md, 'The lab').\n"
            + yaml.safe_dump(data, sort_keys=False))
    inventory = parse_inventory(text, source=str(path))
    write_atomic(path, text, mode=0o644)
    return inventory
