"""What a lab keeps about itself on the host: ``lab.json`` (its networks, router and boards) and its inventory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
    kind: str = "ns"             #: "ns" (namespaces on this host) or "vm" (virtual boards)
    release: str | None = None   #: a VM lab's Debian release
    image: str | None = None     #: a VM lab's image folder (its boards' base disk, kernel and initrd)

    @classmethod
    def load(cls, directory: Path) -> "Record":
        data = json.loads((directory / "lab.json").read_text())
        return cls(name=data["name"], slot=data["slot"], network=data["network"], uplink=data["uplink"],
                   router=procs.Proc.from_dict(data.get("router")),
                   boards={d["name"]: Board.from_dict(d) for d in data["nodes"]},
                   kind=data.get("kind", "ns"), release=data.get("release"), image=data.get("image"))

    def save(self, directory: Path) -> None:
        data = {"name": self.name, "slot": self.slot, "network": self.network, "uplink": self.uplink,
                "router": self.router.to_dict() if self.router else None,
                "nodes": [b.to_dict() for b in self.boards.values()], "kind": self.kind, "release": self.release,
                "image": self.image}
        write_atomic(directory / "lab.json", json.dumps(data, indent=1) + "\n", mode=0o644)


def write_inventory(path: Path, data: dict) -> Inventory:
    """Validate the lab's inventory and write it (readable by every user: JupyterLab runs as one)."""
    text = ("# The inventory of a clusterkit lab, written by `clusterkit lab up`.\n"
            "# `password` is the workshop password of user pi (README.md, 'The lab').\n"
            + yaml.safe_dump(data, sort_keys=False))
    inventory = parse_inventory(text, source=str(path))
    write_atomic(path, text, mode=0o644)
    return inventory
