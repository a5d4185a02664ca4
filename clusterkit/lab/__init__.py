"""The lab: a virtual cluster of freshly imaged boards on one Linux host, with real sshd.

``sudo clusterkit lab up`` (or :func:`up` as root) makes N nodes, each in its own
network, mount, UTS, IPC and PID namespaces (see :mod:`.node`), wired to a
cluster bridge (``eth0``, no address yet) and a Wi-Fi uplink bridge (``wlan0``)
where a venue router (:mod:`.dhcp`) hands out addresses. It writes an inventory
that :func:`clusterkit.connect` and the CLI use, readable by every user, so that
JupyterLab as a normal user reaches the nodes. The nodes start in the state
:mod:`.image` describes.

A node shares the host's ``/usr``: a package "installed" on a lab node is one
that the host has (scripts/setup.sh installs them).
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from ..errors import ClusterkitError
from . import check, net, procs
from .base import DEFAULT_COUNT, DEFAULT_NAME, LABS_DIR, UP_TIMEOUT, Lab, NodeStatus
from .build import build, teardown
from .image import FRESH, WORKSHOP_PASSWORD, FreshImage
from .record import Board, Record

_KINDS = {"ns": "namespaces (no --vm)", "vm": "virtual boards (--vm)"}


# ---------------------------------------------------------------- public functions

def _open(directory: Path) -> Lab:
    """The lab recorded in ``directory``, as the class of its kind."""
    if Record.load(directory).kind == "vm":
        from .vm.vmlab import VMLab
        return VMLab(directory)
    return Lab(directory)


def find(name: str = DEFAULT_NAME) -> Lab | None:
    """The lab called ``name`` if its state is on this host (running or partly)."""
    directory = LABS_DIR / name
    return _open(directory) if (directory / "lab.json").is_file() else None


def labs() -> list[Lab]:
    """Every lab recorded on this host."""
    if not LABS_DIR.is_dir():
        return []
    return [_open(d) for d in sorted(LABS_DIR.iterdir()) if (d / "lab.json").is_file()]


def status(*, name: str | None = None) -> list[Lab]:
    """The labs on this host (or just ``name``); each has ``.status()`` per node."""
    found = labs()
    return [lab for lab in found if name is None or lab.name == name]


def up(*, n: int | None = None, name: str = DEFAULT_NAME, network: str | None = None,
       timeout: float = UP_TIMEOUT, image: FreshImage = FRESH, vm: bool = False, release: str | None = None,
       cards: list | None = None, log=print) -> Lab:
    """Bring lab ``name`` up with ``n`` nodes (default 4) and return it; needs root.

    ``vm``: virtual boards (QEMU machines of ``release``, default trixie, booted from their cards; see
    :mod:`clusterkit.lab.vm`) instead of namespaces; ``cards``: the boards' own first-boot cards
    (:class:`clusterkit.firstboot.Card`, one per board) instead of the instructor's fresh ones. ``log``: where
    a VM lab says what takes long.

    When the lab already runs, nodes that were powered off are started again
    (the lab's ``powered_on`` names them) and the lab is returned as it is.
    A node's boot starts what is enabled on it and makes its fstab's mounts
    (:mod:`.node`, :mod:`.bootmounts`); ``up`` waits for that too, within ``timeout``. ``network``: the cluster network (default
    10.0.0.0/24, or the next free 10.0.k.0/24 when another lab has it).
    """
    why = check.reason()
    if why is None and vm:
        from .vm import image as vmimage
        why = vmimage.why_not()
        vmimage.check_release(release or vmimage.DEFAULT_RELEASE)
    if why is not None:
        raise ClusterkitError(why, field="lab")
    if vm and not getattr(find(name), "running", False):
        # A new VM lab's image (minutes when it is not cached) before the labs' lock: other labs come and go meanwhile.
        vmimage.build(release or vmimage.DEFAULT_RELEASE, log=log)
    if cards is not None and not vm:
        raise ClusterkitError("cards boot virtual boards only (vm=True)", field="cards")
    net.check_lab_name(name)
    if n is not None and not 1 <= n <= net.MAX_NODES:
        raise ClusterkitError(f"a lab has 1 to {net.MAX_NODES} nodes, not {n}", field="n")
    with _locked():
        existing = find(name)
        if existing is not None and existing.running and (existing.kind == "vm") != vm:
            raise ClusterkitError(f"lab {name} is already up as {_KINDS[existing.kind]}; "
                                  f"`clusterkit lab down --name {name}` first", field="vm")
        if existing is not None and existing.running and release and getattr(existing, "release", release) != release:
            raise ClusterkitError(f"lab {name} is already up with {existing.release}; "
                                  f"`clusterkit lab down --name {name}` first", field="release")
        if existing is not None and existing.running:
            if n is not None and n != len(existing.boards):
                raise ClusterkitError(f"lab {name} is already up with {len(existing.boards)} nodes; "
                                      f"`clusterkit lab down --name {name}` first", field="n")
            off = [b.name for b in existing.boards.values() if not procs.alive(b.supervisor)]
            for name_ in off:
                existing.start_node(name_)
            existing.powered_on = off
            if off:
                existing.wait_booted(off, timeout=timeout)
            return existing
        teardown(name, lab=existing, labs_dir=LABS_DIR)   # leftovers of a lab that died
        others = [lab for lab in labs() if lab.name != name]
        if vm:
            from .vm import boards
            from .vm.image import DEFAULT_RELEASE
            boards.build(name=name, count=n or DEFAULT_COUNT, network=network, image=image, labs_dir=LABS_DIR,
                         password=WORKSHOP_PASSWORD, other_labs=others, release=release or DEFAULT_RELEASE, log=log,
                         cards=cards)
        else:
            build(name=name, count=n or DEFAULT_COUNT, network=network, image=image, labs_dir=LABS_DIR,
                  password=WORKSHOP_PASSWORD, other_labs=others)
        lab = _open(LABS_DIR / name)
    lab.powered_on = list(lab.boards)
    try:
        lab.wait_booted(lab.powered_on, timeout=timeout)
    except ClusterkitError:
        lab.down()
        raise
    return lab


def down(*, name: str = DEFAULT_NAME) -> bool:
    """Take lab ``name`` down; False when there was nothing of it on this host."""
    net.check_lab_name(name)
    lab = find(name)
    if lab is None and not net.lab_leftovers(name) and not (LABS_DIR / name).exists():
        return False
    teardown(name, lab=lab, labs_dir=LABS_DIR)
    return True


# ---------------------------------------------------------------- making and removing

@contextmanager
def _locked():
    LABS_DIR.mkdir(parents=True, exist_ok=True)
    for d in (LABS_DIR.parent, LABS_DIR):
        d.chmod(0o755)
    with open(LABS_DIR / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


__all__ = ["Lab", "Board", "NodeStatus", "up", "down", "status", "find", "labs", "LABS_DIR",
           "DEFAULT_NAME", "DEFAULT_COUNT", "FRESH", "WORKSHOP_PASSWORD"]
