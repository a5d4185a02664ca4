"""A user-namespace lab's way of sharing a folder: unfs3 (NFSv3) and rpcbind on the primary, the lab's bind on every worker.

In a lab whose nodes run in a user namespace (:mod:`.rootless`), nfs-ganesha
cannot serve files: its VFS back end opens every file by handle
(``open_by_handle_at``), which this kernel allows a user namespace's root for
directories only (notes/issue22-findings.md, 2.1). unfs3's ``unfsd`` serves
NFSv3 by path, from user space, as the node's root (an unprivileged uid of the
host), squashing the clients' root as exports(5) says; ``rpcbind`` beside it
tells clients where its MOUNT and NFS programs listen. Debian has no unfs3:
``scripts/build-unfs3.sh`` builds the vendored source (``vendor/unfs3``) into
:data:`UNFSD`, which every node sees in the host's ``/usr``.

The step's ``/etc/exports`` is what ``unfsd`` reads, with ``insecure`` added:
the lab's NFS client (libnfs's ``nfs-ls``, run by a normal user) sends from a
port above 1023. The export is NFSv3 (unfs3 speaks no NFSv4), so the worker's
check asks ``nfs-ls`` for version 3 and its fstab line says ``nfs``, ``vers=3``.
The node's ``/srv`` is its own folder (a bind, not an overlay), so the export
needs no backing folder elsewhere. A worker's "mount" is the lab's bind of the
primary's folder, as in the root lab (:mod:`.share`).
"""

from __future__ import annotations

from shlex import quote

from ..backends.base import Node
from ..backends.platform import EXPORTS, Do, FstabLine, Platform, Share, Write
from ..errors import ClusterkitError
from .nfsserver import Ganesha

#: Where setup installs unfs3's server (scripts/build-unfs3.sh): the host's /usr, which every node sees.
UNFSD = "/usr/local/sbin/unfsd"
UNFSD_PID = "/run/unfsd.pid"
#: Its systemd unit: the lab's boot starts it when enabled (:mod:`.node`), as systemd would on a board.
UNIT = "/etc/systemd/system/unfs3.service"
UNIT_NAME = "unfs3"
#: RPC program numbers that rpcinfo lists once unfsd is registered: NFS version 3 and MOUNT.
NFS_PROGRAM, MOUNT_PROGRAM = 100003, 100005
NOTE = ("lab in a user namespace: unfs3 (userspace NFSv3, with rpcbind) serves the export on the primary, as the "
        "node's root, which is not the host's (nfs-ganesha cannot open files by handle there); the export says "
        "insecure, since the lab's client (nfs-ls, libnfs) sends from an unprivileged port. Each worker's mount "
        "is a bind of the primary's export directory, made by the lab, and the real server is checked from every "
        "worker with nfs-ls over NFSv3")

UNIT_TEXT = f"""\
# unfs3 on a clusterkit lab node in a user namespace: NFSv3 in user space, reading /etc/exports.
[Unit]
Description=unfs3 user-space NFSv3 server
Wants=rpcbind.service
After=rpcbind.service network.target

[Service]
Type=forking
PIDFile={UNFSD_PID}
ExecStart={UNFSD} -e /etc/exports -i {UNFSD_PID}
ExecReload=/bin/kill -HUP $MAINPID

[Install]
WantedBy=multi-user.target
"""


def registered(program: int = NFS_PROGRAM, version: int = 3) -> str:
    """A shell test: rpcbind lists ``program`` at ``version`` over TCP (rpcinfo asks it on its local socket)."""
    return f"rpcinfo -p 2>/dev/null | grep -Eq '^ *{program} +{version} +tcp '"


def start() -> str:
    """(Re)start unfsd on a lab node, rpcbind first when it is not running, and wait until NFSv3 is registered.

    The same commands as the boot's (:data:`clusterkit.lab.node.BOOT`)."""
    return (f"{{ rpcinfo -p >/dev/null 2>&1 || rpcbind -w; }} && "
            f"if p=$(cat {UNFSD_PID} 2>/dev/null) && kill -0 \"$p\" 2>/dev/null; then kill \"$p\"; "
            "for i in $(seq 50); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi; "
            f"{UNFSD} -e /etc/exports -i {UNFSD_PID} && "
            f"for i in $(seq 100); do {registered()} && {registered(MOUNT_PROGRAM)} && exit 0; sleep 0.1; done; "
            "echo 'unfsd did not register NFSv3 with rpcbind within 10 s' >&2; exit 1")


class Unfs3(Ganesha):
    """A user-namespace lab's way: unfs3 and rpcbind on the primary, the lab's bind on every worker, ``nfs-ls``
    over NFSv3 from each (the worker's check is nfs-ganesha's, at this version)."""

    reads = (EXPORTS, UNIT)
    settled = frozenset({"dir", "serving", "registered", "enabled"})
    note = NOTE
    version = 3
    export_options = ("insecure",)
    unit = UNIT_NAME

    def probe(self, export: str) -> str:
        return (f"test -d {quote(export)} && echo dir; "
                f"p=$(cat {UNFSD_PID} 2>/dev/null) && kill -0 \"$p\" 2>/dev/null && echo serving; "
                f"{registered()} && echo registered; "
                f"systemctl is-enabled --quiet {UNIT_NAME} 2>/dev/null && echo enabled")

    def serve(self, share: Share, *, platform: Platform, found: dict[str, str | None],
              flags: set[str]) -> list[Do | Write | FstabLine]:
        changed = share.exports != (found.get(EXPORTS) or "") or UNIT_TEXT != (found.get(UNIT) or "")
        out: list[Do | Write | FstabLine] = []
        if "dir" not in flags:
            out.append(Do(share.folder, "the shared folder"))
        out += [Write(EXPORTS, share.exports, f"export {share.export} to {share.clients} only (unfsd reads it)"),
                Write(UNIT, UNIT_TEXT, "unfs3's unit: rpcbind first, then unfsd with /etc/exports")]
        if "enabled" not in flags:
            out.append(Do(f"systemctl enable {UNIT_NAME}", "the NFS server, at boot too"))
        if changed or not {"serving", "registered"} <= flags:
            out.append(Do(start(), "(re)start unfsd (rpcbind first) and wait until NFSv3 is registered"))
        return out

    def check_server(self, node: Node, export: str) -> str:
        r = node.sudo(f"kill -0 $(cat {UNFSD_PID}) && {registered()} && {registered(MOUNT_PROGRAM)} && "
                      "ss -Hltn 'sport = :2049' | grep -q 2049", timeout=30)
        if not r.ok:
            raise ClusterkitError("unfsd is not serving NFSv3 (running, registered with rpcbind, port 2049)",
                                  node=node.name, field="server")
        return f"unfs3 serves {export} (NFSv3, port 2049; rpcbind on 111)"


#: A user-namespace lab's way of sharing a folder.
UNFS3 = Unfs3()
