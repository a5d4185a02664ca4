"""The kinds of lab: each is one module (or one package) holding a :class:`LabKind` and one :func:`register` call.

A kind says how its labs are made (:meth:`LabKind.build`), which :class:`~clusterkit.lab.base.Lab` class drives
a running one, what its nodes have of their own (:attr:`LabKind.traits`, for the lab backend's nodes), and which
``lab up`` option chooses it. Its name is what ``lab.json`` records (``"kind"``) and what ``up(kind=…)`` takes;
nothing outside the kind's own module compares it. The kind without an option is the default.

The kinds register themselves when :mod:`clusterkit.lab` imports them (its ``from . import …`` line lists them).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends.base import Traits
from ..backends.platform import BOARD_PLATFORM, Platform
from ..errors import ClusterkitError
from .image import FreshImage
from .record import Record

if TYPE_CHECKING:
    from .base import Lab


@dataclass(frozen=True)
class Wanted:
    """What ``lab up`` was asked for beyond a count and a name; each kind takes what applies to it."""

    release: str | None = None   #: a Debian release (virtual boards)
    cards: list | None = None    #: the boards' own first-boot cards, one per board (virtual boards)


@dataclass(frozen=True)
class NewLab:
    """Everything a kind needs to make a new lab in ``labs_dir/name``."""

    name: str
    count: int
    network: str | None
    image: FreshImage
    labs_dir: Path
    password: str
    other_labs: list
    wanted: Wanted
    log: object   #: a callable taking one line: where a kind says what takes long


class LabKind:
    """One kind of lab. Subclass it, set :attr:`name`, :attr:`title` and :attr:`lab_class`, implement
    :meth:`build`, and register an instance."""

    #: Its name in ``lab.json`` and in ``up(kind=…)``.
    name: str = ""
    #: What its nodes are, in messages ("namespaces").
    title: str = ""
    #: The ``lab up`` option that chooses it (``--FLAG``); None for the default kind.
    flag: str | None = None
    #: What its nodes have of their own.
    traits: Traits = Traits()
    #: How its nodes do what a setup step wants (a board's: systemd, apt, a kernel NFS mount).
    platform: Platform = BOARD_PLATFORM
    #: The class that drives one of its labs.
    lab_class: type[Lab]
    #: A normal user (no sudo) may start one (the first such kind is what ``lab up`` makes for a normal user).
    user_ok: bool = False

    def open(self, directory: Path) -> Lab:
        """The running (or partly made) lab recorded in ``directory``."""
        return self.lab_class(directory)

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Add its ``lab up`` options (the flag that chooses it, and any of its own)."""
        if self.flag:
            parser.add_argument(f"--{self.flag}", dest="kind", action="store_const", const=self.name,
                                help=f"{self.title} instead of {default().title}")

    def why_not(self) -> str | None:
        """Why this machine cannot make a lab of this kind, beyond what every lab needs (None when it can)."""
        return None

    def check(self, wanted: Wanted) -> None:
        """Refuse what this kind cannot take (raise, naming the field)."""
        if wanted.cards is not None:
            raise ClusterkitError(f"cards boot virtual boards, not {self.title}", field="cards")

    def ready(self, wanted: Wanted, *, log) -> None:
        """What takes long before a new lab is made, outside the labs' lock (other labs come and go meanwhile)."""

    def refuses(self, lab: Lab, wanted: Wanted) -> tuple[str, str] | None:
        """Why ``lab`` (running, of this kind) is not what ``up`` was asked for, as (field, why), or None."""
        return None

    def build(self, new: NewLab) -> None:
        """Make the lab and start its nodes; on failure, remove what was made."""
        raise NotImplementedError

    def teardown(self, name: str, *, lab, labs_dir: Path) -> None:
        """Remove lab ``name`` of this kind completely, from whatever state it is in (``lab``: its
        :class:`~clusterkit.lab.base.Lab`, its record, or None)."""
        from .build import teardown   # here: build imports what imports this module
        teardown(name, lab=lab, labs_dir=labs_dir)

    def emulated(self) -> bool:
        """Whether its nodes run on an emulated CPU (minutes to boot, not seconds)."""
        return False

    def described(self) -> str:
        """Its title and how ``lab up`` chooses it, for messages."""
        if self.flag:
            return f"{self.title} (--{self.flag})"
        flags = ", ".join(f"--{k.flag}" for k in _KINDS.values() if k.flag)
        return f"{self.title} (no {flags})" if flags else self.title

    def __repr__(self) -> str:
        return f"<LabKind {self.name}>"


#: name -> kind, in the order they registered.
_KINDS: dict[str, LabKind] = {}


def register(kind: LabKind) -> None:
    """Add a kind of lab (one call in the kind's own module)."""
    if not kind.name or (kind.flag is None and any(k.flag is None for k in _KINDS.values() if k is not kind)):
        raise ValueError(f"{kind!r} needs a name, and only one kind may be the default (no flag)")
    _KINDS[kind.name] = kind


def get(name: str | None) -> LabKind:
    """The kind called ``name``; None (a ``lab.json`` that names none) is the default."""
    if name is None:
        return default()
    try:
        return _KINDS[name]
    except KeyError:
        raise ClusterkitError(f"{name!r} is not a kind of lab; choose one of {', '.join(_KINDS)}",
                              field="kind") from None


def default() -> LabKind:
    """The kind ``lab up`` makes without an option."""
    return next(k for k in _KINDS.values() if k.flag is None)


def every() -> list[LabKind]:
    """Every registered kind, in the order they registered."""
    return list(_KINDS.values())


def of(directory: Path) -> LabKind:
    """The kind of the lab recorded in ``directory`` (the default when there is no ``lab.json``)."""
    return get(Record.load(directory).kind) if (directory / "lab.json").is_file() else default()


__all__ = ["LabKind", "Wanted", "NewLab", "register", "get", "default", "every", "of"]
