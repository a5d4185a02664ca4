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

That is the default kind of lab (:mod:`.ns`). Each kind is one module or package
with a :class:`~.kinds.LabKind` and one :func:`.kinds.register` call, imported
below; ``up(kind=…)`` and the CLI's options choose one through that registry, and
:class:`~.base.Lab` holds what every kind shares. The virtual boards (:mod:`.vm`)
are the other kind.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from ..errors import ClusterkitError
from . import check, kinds, net, procs
from . import ns, rootless, vm  # noqa: F401  (the kinds of lab: each registers itself)
from .base import DEFAULT_COUNT, DEFAULT_NAME, LABS_DIR, SHARED_LABS_DIR, UP_TIMEOUT, Lab, NodeStatus
from .image import FRESH, WORKSHOP_PASSWORD, FreshImage
from .record import Board, Record

# The lab runs the system's tools (ip, dnsmasq, pivot_root, sshd, chronyd) by name, also in the processes it
# starts. A normal user's PATH on Debian has no sbin folder, where they live: add those it lacks, at its end.
os.environ["PATH"] = ":".join([p for p in os.environ.get("PATH", "").split(":") if p] + [
    d for d in ("/usr/local/sbin", "/usr/sbin", "/sbin") if d not in os.environ.get("PATH", "").split(":")])


# ---------------------------------------------------------------- public functions

def _open(directory: Path) -> Lab:
    """The lab recorded in ``directory``, as the class of its kind."""
    return kinds.get(Record.load(directory).kind).open(directory)


def _dirs() -> list[Path]:
    """Where this user's labs are, then root's (a normal user sees root's labs too, as before)."""
    return [LABS_DIR] + ([SHARED_LABS_DIR] if SHARED_LABS_DIR != LABS_DIR else [])


def find(name: str = DEFAULT_NAME) -> Lab | None:
    """The lab called ``name`` if its state is on this host (running or partly): this user's own, else root's."""
    for labs_dir in _dirs():
        directory = labs_dir / name
        try:
            if (directory / "lab.json").is_file():
                return _open(directory)
        except PermissionError:
            continue
    return None


def labs() -> list[Lab]:
    """Every lab recorded on this host that this user may see (its own, then root's of other names)."""
    found, names = [], set()
    for labs_dir in _dirs():
        try:
            entries = sorted(labs_dir.iterdir()) if labs_dir.is_dir() else []
        except PermissionError:
            continue
        for d in entries:
            if d.name not in names and (d / "lab.json").is_file():
                found.append(_open(d))
                names.add(d.name)
    return found


def status(*, name: str | None = None) -> list[Lab]:
    """The labs on this host (or just ``name``); each has ``.status()`` per node."""
    found = labs()
    return [lab for lab in found if name is None or lab.name == name]


def up(*, n: int | None = None, name: str = DEFAULT_NAME, network: str | None = None,
       timeout: float = UP_TIMEOUT, image: FreshImage = FRESH, kind: str | None = None, release: str | None = None,
       cards: list | None = None, log=print) -> Lab:
    """Bring lab ``name`` up with ``n`` nodes (default 4) and return it: as root, a lab every user may reach;
    as a normal user, a lab of their own (:mod:`.userlab`).

    ``kind``: the kind of lab (:mod:`.kinds`), by default namespaces on this host, each node in the lab's user
    namespace (:mod:`.rootless`); ``"vm"`` is virtual boards
    (QEMU machines of ``release``, default trixie, booted from their cards; see :mod:`clusterkit.lab.vm`), which
    take ``cards``: the boards' own first-boot cards (:class:`clusterkit.firstboot.Card`, one per board)
    instead of the instructor's fresh ones. ``log``: where a kind says what takes long.

    When the lab already runs, nodes that were powered off are started again
    (the lab's ``powered_on`` names them) and the lab is returned as it is.
    A node's boot starts what is enabled on it and makes its fstab's mounts
    (:mod:`.node`, :mod:`.bootmounts`); ``up`` waits for that too, within ``timeout``. ``network``: the cluster network (default
    10.0.0.0/24, or the next free 10.0.k.0/24 when another lab has it).
    """
    as_user = os.geteuid() != 0
    # A normal user's lab is a user-namespace lab with no host side (:mod:`.userlab`).
    chosen = kinds.get(kind)
    wanted = kinds.Wanted(release=release, cards=cards)
    why = check.reason(user=as_user and chosen.user_ok)
    if why is None:
        why = chosen.why_not()
        chosen.check(wanted)
    if why is not None:
        raise ClusterkitError(why, field="lab")
    before = find(name)
    if before is None or not before.running:
        chosen.ready(wanted, log=log)   # before the labs' lock: other labs come and go meanwhile
    net.check_lab_name(name)
    if n is not None and not 1 <= n <= net.MAX_NODES:
        raise ClusterkitError(f"a lab has 1 to {net.MAX_NODES} nodes, not {n}", field="n")
    with _locked():
        existing = _open(LABS_DIR / name) if (LABS_DIR / name / "lab.json").is_file() else None
        if existing is not None and existing.running:
            return _power_on(existing, chosen, wanted, n=n, timeout=timeout)
        kinds.of(LABS_DIR / name).teardown(name, lab=existing, labs_dir=LABS_DIR)   # leftovers of a lab that died
        others = [lab for lab in labs() if lab.name != name]
        chosen.build(kinds.NewLab(name=name, count=n or DEFAULT_COUNT, network=network, image=image,
                                  labs_dir=LABS_DIR, password=WORKSHOP_PASSWORD, other_labs=others, wanted=wanted,
                                  log=log))
        lab = _open(LABS_DIR / name)
    lab.powered_on = list(lab.boards)
    try:
        lab.wait_booted(lab.powered_on, timeout=timeout)
    except ClusterkitError:
        lab.down()
        raise
    return lab


def _power_on(lab: Lab, chosen: kinds.LabKind, wanted: kinds.Wanted, *, n: int | None, timeout: float) -> Lab:
    """``up`` of a running lab: refused when it is not what was asked for, else its powered-off nodes started."""
    again = f"`clusterkit lab down --name {lab.name}` first"
    if lab.kind != chosen.name:
        raise ClusterkitError(f"lab {lab.name} is already up as {kinds.get(lab.kind).described()}; {again}",
                              field="kind")
    refused = chosen.refuses(lab, wanted)
    if refused is not None:
        field, why = refused
        raise ClusterkitError(f"lab {lab.name} {why}; {again}", field=field)
    if n is not None and n != len(lab.boards):
        raise ClusterkitError(f"lab {lab.name} is already up with {len(lab.boards)} nodes; {again}", field="n")
    off = [b.name for b in lab.boards.values() if not procs.alive(b.supervisor)]
    for name in off:
        lab.start_node(name)
    lab.powered_on = off
    if off:
        lab.wait_booted(off, timeout=timeout)
    return lab


def down(*, name: str = DEFAULT_NAME) -> bool:
    """Take lab ``name`` down; False when there was nothing of it on this host."""
    net.check_lab_name(name)
    lab = _open(LABS_DIR / name) if (LABS_DIR / name / "lab.json").is_file() else None   # this user's own only
    if lab is None and not net.lab_leftovers(name) and not (LABS_DIR / name).exists():
        return False
    kinds.of(LABS_DIR / name).teardown(name, lab=lab, labs_dir=LABS_DIR)
    return True


# ---------------------------------------------------------------- making and removing

@contextmanager
def _locked():
    if os.geteuid() == 0:
        LABS_DIR.mkdir(parents=True, exist_ok=True)
        for d in (LABS_DIR.parent, LABS_DIR):
            d.chmod(0o755)
    else:   # a normal user's labs: nobody else may look in (the inventories hold the lab's password)
        LABS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        LABS_DIR.chmod(0o700)
    with open(LABS_DIR / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


__all__ = ["Lab", "Board", "NodeStatus", "up", "down", "status", "find", "labs", "LABS_DIR",
           "DEFAULT_NAME", "DEFAULT_COUNT", "FRESH", "WORKSHOP_PASSWORD"]
