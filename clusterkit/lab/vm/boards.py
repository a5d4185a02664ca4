"""The VM lab: virtual boards booted from their cards, behind a venue router, in a namespace of their own.

``sudo clusterkit lab up --vm -n 3`` makes:

- one network namespace ``ck-NAME-vm`` holding the cluster bridge, the venue
  ("Wi-Fi") bridge, one tap per board on each, and the venue router (dnsmasq,
  addresses reserved by MAC); it has no link out;
- two veths from this host into it, so that the workbook reaches the boards on
  their DHCP addresses with the SSH backend's own code, as it reaches a
  namespace lab's nodes (this host is ``.2`` on the venue network and the last
  address of the cluster network);
- per board a card (:mod:`.seed`) written from :mod:`clusterkit.firstboot`,
  as an instructor flashes a box of cards: every board boots as
  ``raspberrypi`` with the user ``pi`` and the workshop password (one board
  with another UID), no keys, no time service, ``eth0`` without an address, as
  :data:`clusterkit.lab.image.FRESH` describes; and a copy-on-write overlay
  over the image (:mod:`.image`).

A board's first boot under TCG takes a minute or more (cloud-init, host keys).
Once booted, each board is snapshotted (QEMU's ``savevm``) into the image
cache, keyed by its image, its card and its wiring; a later ``lab up`` of the
same boards starts from that snapshot ("fresh boards") in seconds, and the
lab sets each board's clock to this host's through the guest agent, as a board
with a battery-backed clock would have it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...errors import ClusterkitError
from .. import dhcp, net, procs
from ..image import FreshImage
from ..record import Board, Record, set_supervisor, write_inventory
from ..wait import sshd_answers
from . import image as vmimage
from . import machine, seed

#: This kind's name in ``lab.json``.
NAME = "vm"
WIRED, WIFI = 0x0e, 0x0a
#: The snapshot every fresh board starts from.
SNAPSHOT = "fresh"
#: Seconds a board's first boot may take (TCG, one core per board at best).
FIRST_BOOT_TIMEOUT = 900.0
#: Seconds a cold boot (power on, reboot) may take.
BOOT_TIMEOUT = 600.0


class Names:
    """What one VM lab makes: its namespace, the links inside, and the two host-side veths."""

    def __init__(self, lab: str):
        self.lab = lab
        self.ns = f"ck-{lab}-vm"
        self.host_wired = f"ck{lab}-hc"      #: this host on the cluster network
        self.host_uplink = f"ck{lab}-hu"     #: this host on the venue network
        self.cluster_bridge, self.uplink_bridge = "cluster", "venue"

    @staticmethod
    def tap(index: int, kind: str) -> str:
        return f"b{index}{kind}"


def board_files(lab_dir: Path, name: str) -> machine.Files:
    return machine.Files(lab_dir / "nodes" / name)


def card_for(image: FreshImage, *, index: int, count: int, password: str, uplink_mac: str):
    """The card an instructor flashes for board ``index``: the image's first user and the venue's uplink."""
    from ...firstboot import Card, Uplink
    uid = image.uid_of(index, count)
    return Card(node=f"board{index}", hostname=image.hostname, user=image.user, uid=uid,
                password_hash=_lab_hash(password, uid, index), password_login=True,
                sudo_password=image.sudo_needs_password, keys=(), groups=tuple(image.groups),
                wired=None, uplink=Uplink(interface="wlan0", mac=uplink_mac))


def _lab_hash(password: str, uid: int, index: int) -> str:
    """The workshop password's SHA-512 crypt hash with a salt fixed by the board, so that the same board
    gets the same card (and its snapshot is found again); the password itself is public (README)."""
    from ...firstboot.password import hash_password
    return hash_password(password, salt=hashlib.sha256(f"clusterkit-lab/{index}/{uid}".encode()).hexdigest()[:16])


def render_card(card) -> dict[str, bytes]:
    """The card's files. Always cloud-init's: a virtual board of either release is Debian with cloud-init
    (a bookworm Raspberry Pi OS card's userconf.txt is for Pi OS images only)."""
    from ...firstboot import render
    return render(card, release="trixie")


def build(*, name: str, count: int, network: str | None, image: FreshImage, labs_dir: Path, password: str,
          other_labs: list, release: str, log=print, cards: list | None = None) -> None:
    """Make VM lab ``name`` in ``labs_dir/name`` and boot its boards; on failure remove what was made.

    ``cards``: one :class:`clusterkit.firstboot.Card` per board instead of the instructor's fresh cards (for
    example from :func:`clusterkit.firstboot.cards_for`, for the lab's cluster network). A virtual board has
    no radio: its uplink is the venue NIC, on DHCP, whatever the card says about Wi-Fi.
    """
    if cards is not None:
        if len(cards) != count:
            raise ClusterkitError(f"{len(cards)} cards for {count} boards", field="cards")
        users = {c.user for c in cards}
        if len(users) != 1:
            raise ClusterkitError(f"the cards name different users ({', '.join(sorted(users))}); a lab's "
                                  "inventory has one", field="cards")
    from ..build import place, teardown
    names = Names(name)
    cluster, uplink, slot = place(name, network=network, other_labs=other_labs)
    built = vmimage.build(release, log=log)
    directory = labs_dir / name
    directory.mkdir(mode=0o755)
    try:
        _make(directory, names=names, name=name, count=count, cluster=cluster, uplink=uplink, slot=slot,
              image=image, password=password, built=built, log=log, cards=cards)
    except BaseException:
        teardown(name, lab=Record.load(directory) if (directory / "lab.json").exists() else None,
                 labs_dir=labs_dir)
        raise


def _make(directory: Path, *, names: Names, name: str, count: int, cluster: ipaddress.IPv4Network,
          uplink: ipaddress.IPv4Network, slot: int, image: FreshImage, password: str,
          built: vmimage.Image, log, cards: list | None) -> None:
    from ...firstboot import Uplink
    (directory / "nodes").mkdir(mode=0o700)
    hosts = list(cluster.hosts())
    reservations, boards = {}, []
    for i in range(count):
        host = str(net.uplink_address(uplink, net.FIRST_NODE_HOST + i))
        reservations[net.mac(slot, i, WIFI)] = host
        uid = cards[i].uid if cards else image.uid_of(i, count)
        boards.append(Board(name=f"{name}{i}", index=i, uid=uid, host=host, address=str(hosts[i])))
    _wire(names, boards, cluster=cluster, uplink=uplink)
    router = dhcp.start_router(names=net.LabNames(name), uplink=uplink, reservations=reservations,
                               state=directory, ns=names.ns, interface=names.uplink_bridge)
    Record(name, slot, str(cluster), str(uplink), router, {b.name: b for b in boards},
           kind=NAME, release=built.release, image=str(built.dir)).save(directory)
    started = []
    for b in boards:
        files = board_files(directory, b.name)
        files.dir.mkdir(mode=0o700)
        mac = net.mac(slot, b.index, WIFI)
        card = (dataclasses.replace(cards[b.index], uplink=Uplink(interface="wlan0", mac=mac)) if cards
                else card_for(image, index=b.index, count=count, password=password, uplink_mac=mac))
        card_files = render_card(card)
        seed.write_card(files.card, card_files)
        key = _snapshot_key(built, card_files, slot=slot, index=b.index, cluster=cluster, uplink=uplink)
        started.append((b, files, key))

    def boot(item) -> tuple[Board, str]:
        b, files, key = item
        return b, _boot_fresh(directory, names, b, files, key, built, slot, log=log)

    with ThreadPoolExecutor(max_workers=len(started)) as pool:
        keys = dict((b.name, hostkey) for b, hostkey in pool.map(boot, started))
    known = "".join(f"{b.host},{b.address} {keys[b.name]}\n" for b in boards)
    (directory / "known_hosts").write_text(known)
    (directory / "known_hosts").chmod(0o644)
    write_inventory(directory / "inventory.yaml", {
        "name": name, "nodes": f"{name}[0-{count - 1}]" if count > 1 else f"{name}0",
        "primary": f"{name}0", "user": cards[0].user if cards else image.user, "network": str(cluster),
        "backend": "lab", **({} if cards else {"password": password}), "python": vmimage.PYTHON,
        "hosts": {b.name: {"host": b.host} for b in boards}})


def _wire(names: Names, boards: list[Board], *, cluster: ipaddress.IPv4Network,
          uplink: ipaddress.IPv4Network) -> None:
    """The lab's namespace, its two bridges with a pair of taps per board, and this host's two veths into it."""
    ns = names.ns
    net.ip_batch([f"netns add {ns}",
                  f"link add {names.host_wired} type veth peer name hc netns {ns}",
                  f"link add {names.host_uplink} type veth peer name hu netns {ns}"])
    inside = [f"link add {names.cluster_bridge} type bridge forward_delay 0 stp_state 0",
              f"link add {names.uplink_bridge} type bridge forward_delay 0 stp_state 0",
              f"link set hc master {names.cluster_bridge} up",
              f"link set hu master {names.uplink_bridge} up",
              f"link set {names.cluster_bridge} up",
              f"link set {names.uplink_bridge} up"]
    for b in boards:
        for kind, bridge in (("c", names.cluster_bridge), ("w", names.uplink_bridge)):
            tap = names.tap(b.index, kind)
            inside += [f"tuntap add dev {tap} mode tap", f"link set {tap} master {bridge} up"]
    r = subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(inside) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        raise ClusterkitError(f"setting up the VM lab's links failed: {r.stderr.strip()}", field="lab")
    net.ip_batch([f"addr add {list(cluster.hosts())[-1]}/{cluster.prefixlen} dev {names.host_wired}",
                  f"addr add {net.uplink_address(uplink, net.WORKBOOK_HOST)}/{uplink.prefixlen} dev {names.host_uplink}",
                  f"link set {names.host_wired} up", f"link set {names.host_uplink} up"])
    for link in (names.host_wired, names.host_uplink):
        net.set_sysctl(f"net/ipv4/conf/{link}/forwarding", "0")
        net.set_sysctl(f"net/ipv6/conf/{link}/disable_ipv6", "1")


def _snapshot_key(built: vmimage.Image, card: dict[str, bytes], *, slot: int, index: int,
                  cluster: ipaddress.IPv4Network, uplink: ipaddress.IPv4Network) -> str:
    h = hashlib.sha256()
    for part in (built.dir.name, seed.digest(card), slot, index, str(cluster), str(uplink),
                 machine.MEMORY_MIB, machine.KERNEL_ARGS, machine.accel(), _qemu_version()):
        h.update(str(part).encode() + b"\0")
    return h.hexdigest()[:16]


def _qemu_version() -> str:
    return subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]


def snapshot_dir(key: str) -> Path:
    return vmimage.CACHE / "boards" / key


def qemu_command(directory: Path, names: Names, board: Board, files: machine.Files, built: vmimage.Image,
                 slot: int, *, loadvm: str | None = None, rtc_base: str = "utc", kernel_args: str = "") -> list[str]:
    return machine.command(
        name=board.name, files=files, kernel=built.kernel, initrd=built.initrd,
        wired_tap=names.tap(board.index, "c"), wired_mac=net.mac(slot, board.index, WIRED),
        uplink_tap=names.tap(board.index, "w"), uplink_mac=net.mac(slot, board.index, WIFI),
        share=Path(__file__).resolve().parents[2], loadvm=loadvm, rtc_base=rtc_base, kernel_args=kernel_args)


def _boot_fresh(directory: Path, names: Names, board: Board, files: machine.Files, key: str,
                built: vmimage.Image, slot: int, *, log) -> str:
    """Start one fresh board (from its snapshot, else by a first boot that makes the snapshot); returns its
    host key line (``type base64``)."""
    cached = snapshot_dir(key)
    if (cached / "root.qcow2").is_file() and (cached / "hostkey").is_file():
        subprocess.run(["cp", "--sparse=always", str(cached / "root.qcow2"), str(files.overlay)], check=True)
        proc = machine.start(qemu_command(directory, names, board, files, built, slot, loadvm=SNAPSHOT),
                             ns=names.ns, files=files)
        set_supervisor(directory, board.name, proc)
        if not machine.agent_ready(files, timeout=60):
            raise ClusterkitError("the board's guest agent did not answer after its snapshot", node=board.name,
                                  field="lab")
        machine.set_clock(files)
        _mount_share(files)
        _wait_ssh(board, files, proc, timeout=60)
        return (cached / "hostkey").read_text().strip()
    log(f"{board.name}: first boot from its card (a minute or more under TCG; snapshotted for next time)")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(built.disk),
                    str(files.overlay)], check=True, capture_output=True)
    proc = machine.start(qemu_command(directory, names, board, files, built, slot), ns=names.ns, files=files)
    set_supervisor(directory, board.name, proc)
    deadline = time.monotonic() + FIRST_BOOT_TIMEOUT
    _wait(board, files, proc, lambda: re.search(r"Cloud-init v\. \S+ finished at", machine.console_text(files)),
          "cloud-init did not finish", timeout=FIRST_BOOT_TIMEOUT)
    _wait_ssh(board, files, proc, timeout=max(30.0, deadline - time.monotonic()))
    if not machine.agent_ready(files, timeout=60):
        raise ClusterkitError("the board's guest agent did not answer", node=board.name, field="lab")
    hostkey = machine.guest_exec(files, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
    if len(hostkey) < 2:
        raise ClusterkitError("the board made no ed25519 host key", node=board.name, field="lab")
    line = f"{hostkey[0]} {hostkey[1]}"
    # Settle, then snapshot: the monitor's savevm, with the machine paused while the overlay is copied.
    # QEMU refuses to snapshot while the guest holds the 9p share: unmount it for the snapshot.
    machine.guest_exec(files, f"umount {vmimage.SHARE_MOUNT}; sync")
    machine.qmp(files, "stop")
    try:
        machine.hmp(files, f"savevm {SNAPSHOT}")
        tmp = cached.with_name(f".{cached.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        subprocess.run(["cp", "--sparse=always", str(files.overlay), str(tmp / "root.qcow2")], check=True)
        (tmp / "hostkey").write_text(line + "\n")
        shutil.rmtree(cached, ignore_errors=True)
        os.replace(tmp, cached)
    finally:
        machine.qmp(files, "cont")
        _mount_share(files)
    return line


def _mount_share(files: machine.Files) -> None:
    r = machine.guest_exec(files, f"systemctl start {vmimage.share_unit()}")
    if r.returncode != 0:
        raise ClusterkitError(f"the board could not mount clusterkit from the host: {r.stderr.strip()}",
                              field="lab")


def _wait_ssh(board: Board, files: machine.Files, proc: procs.Proc, *, timeout: float) -> None:
    _wait(board, files, proc, lambda: sshd_answers(board.host, timeout=1.0), f"sshd did not answer on {board.host}",
          timeout=timeout)


def _wait(board: Board, files: machine.Files, proc: procs.Proc, ready, failure: str, *, timeout: float) -> None:
    """Wait until ``ready()``; raise naming the board (and its console's last lines) when its QEMU ends first
    or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not procs.alive(proc):
            raise ClusterkitError(f"the board stopped ({failure}): " + _tail(files), node=board.name, field="lab")
        if time.monotonic() > deadline:
            raise ClusterkitError(f"{failure} within {timeout:.0f} s: " + _tail(files), node=board.name,
                                  field="lab")
        time.sleep(0.5)


def _tail(files: machine.Files) -> str:
    lines = [ln for ln in machine.console_text(files).splitlines() if ln.strip()][-3:]
    return " | ".join(ln.strip()[-160:] for ln in lines) or "(nothing on its console)"


__all__ = ["build", "Names", "board_files", "card_for", "qemu_command", "snapshot_dir", "SNAPSHOT"]
