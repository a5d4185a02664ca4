"""The namespace lab's way of sharing a folder: nfs-ganesha on the primary, the lab's bind on every worker.

The lab's kernel is the host's and has no NFS client (and its kernel server is
the host's too), so the primary serves the export with nfs-ganesha (userspace
NFSv4, VFS back end), configured from the same export and started by the step.
The node's ``/srv`` is an overlay, which nfs-ganesha cannot serve (no file
handles), so the folder lives in the node's own ``/home`` layer, bound at the
export path now and at every boot (a line in its fstab). A worker's "mount" is
a bind of the primary's folder made from the host (:mod:`.share`), and the real
server is checked from every worker with libnfs-utils (``nfs-ls``).
"""

from __future__ import annotations

from shlex import quote

from ..backends.base import Node
from ..backends.platform import EXPORTS, Do, FstabLine, KernelNfs, Platform, Share, Write, managed_exports
from ..errors import ClusterkitError

GANESHA_CONF = "/etc/ganesha/ganesha.conf"
GANESHA_PID = "/run/ganesha.pid"
FSTAB = "/etc/fstab"
#: Where a lab primary keeps the exported folder (a plain directory: overlayfs has no NFS file handles).
LAB_BACKING = "/home/.clusterkit-export"
LAB_NOTE = ("lab: nfs-ganesha (userspace NFSv4) serves the export on the primary; this kernel has no NFS client, "
            "so each worker's mount is a bind of the primary's export directory, made by the lab, and the real "
            "server is checked from every worker with nfs-ls (libnfs)")


class Ganesha(KernelNfs):
    """The lab's way: nfs-ganesha on the primary, the folder bound from the /home layer, nfs-ls from workers."""

    reads = (EXPORTS, GANESHA_CONF, FSTAB)
    settled = frozenset({"dir", "backed", "serving", "enabled"})
    note = LAB_NOTE
    unit = "nfs-ganesha"

    def probe(self, export: str) -> str:
        return (f"test -d {quote(export)} && echo dir; "
                f"findmnt -n --mountpoint {quote(export)} >/dev/null && echo backed; "
                f"p=$(cat {GANESHA_PID} 2>/dev/null) && kill -0 \"$p\" 2>/dev/null && echo serving; "
                f"systemctl is-enabled --quiet {self.unit} 2>/dev/null && echo enabled")

    def serve(self, share: Share, *, platform: Platform, found: dict[str, str | None],
              flags: set[str]) -> list[Do | Write | FstabLine]:
        export = share.export
        conf = ganesha_conf(share.exports)
        changed = (share.exports != (found.get(EXPORTS) or "") or conf != (found.get(GANESHA_CONF) or ""))
        out: list[Do | Write | FstabLine] = []
        own_layer = export == "/home" or export.startswith("/home/")   # the node's own /home layer: servable
        if "backed" not in flags and not own_layer:
            backing = LAB_BACKING + export
            out.append(Do(f"mkdir -p {quote(backing)} {quote(export)} && mount --bind {quote(backing)} {quote(export)}",
                          "lab: the node's /srv is an overlay, which nfs-ganesha cannot serve (no file handles); "
                          "the folder lives in the node's own /home layer"))
        if "dir" not in flags or "backed" not in flags:
            out.append(Do(share.folder, "the shared folder"))
        out += [Write(EXPORTS, share.exports, f"export {export} to {share.clients} only"),
                Write(GANESHA_CONF, conf, "nfs-ganesha's exports: the same folders, clients and squashing")]
        if not own_layer:
            out.append(FstabLine(f"{LAB_BACKING}{export} {export} none bind,nofail 0 0", export,
                                 "lab: the folder is bound from the /home layer at every boot"))
        if "enabled" not in flags:
            out.append(Do(f"systemctl enable {self.unit}", "the NFS server, at boot too"))
        if changed or "serving" not in flags:
            out.append(Do(ganesha_start(), "(re)start nfs-ganesha and wait until it listens"))
        return out

    def check_server(self, node: Node, export: str) -> str:
        r = node.sudo(f"kill -0 $(cat {GANESHA_PID}) && ss -Hltn 'sport = :2049' | grep -q 2049", timeout=30)
        if not r.ok:
            raise ClusterkitError("nfs-ganesha is not listening on port 2049", node=node.name, field="server")
        return f"nfs-ganesha serves {export} (NFSv4, port 2049)"

    def check_mount(self, node: Node, *, mounted: str, mount: str, server: str, export: str, nfs_ls: str) -> str:
        ls = node.run(nfs_ls, timeout=30)
        if not ls.ok:
            raise ClusterkitError(f"nfs-ls cannot list the server's export: {ls.summary()}", node=node.name,
                                  field="server")
        return (f"{mount} is a lab bind of {server}:{export}; the real server answers nfs-ls "
                f"from here ({len(ls.stdout.splitlines())} entries)")


def ganesha_start() -> str:
    """(Re)start nfs-ganesha on a lab node and wait until it listens on 2049."""
    return ("mkdir -p /var/lib/nfs/ganesha /var/log/ganesha /run/ganesha; "
            f"if p=$(cat {GANESHA_PID} 2>/dev/null) && kill -0 \"$p\" 2>/dev/null; then kill \"$p\"; "
            "for i in $(seq 50); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi; "
            f"ganesha.nfsd -f {GANESHA_CONF} -L /var/log/ganesha/ganesha.log -p {GANESHA_PID} && "
            "for i in $(seq 100); do ss -Hltn 'sport = :2049' | grep -q 2049 && exit 0; sleep 0.1; done; "
            "echo 'nfs-ganesha did not listen on 2049 within 10 s' >&2; tail -5 /var/log/ganesha/ganesha.log >&2; exit 1")


def ganesha_conf(exports: str) -> str:
    """nfs-ganesha's configuration for the lab: NFSv4 only, the VFS back end, one export for each export line
    of clusterkit's blocks in ``exports`` (the whole ``/etc/exports``), with the same clients and squashing."""
    blocks = []
    for number, (path, clients, options) in enumerate(managed_exports(exports), 1):
        squash = "no_root_squash" if "no_root_squash" in options else "root_squash"
        blocks.append(f"""EXPORT {{
    Export_Id = {number};
    Path = {path};
    Pseudo = {path};
    Protocols = 4;
    Transports = TCP;
    SecType = sys;
    Squash = {squash};
    Access_Type = None;
    CLIENT {{
        Clients = {clients};
        Access_Type = RW;
    }}
    FSAL {{
        Name = VFS;
    }}
}}
""")
    return """# nfs-ganesha on a clusterkit lab node: the same exports as /etc/exports, served in userspace.
# NFSv4 only (no rpcbind or mountd needed); the VFS FSAL serves a local directory.
NFS_CORE_PARAM {
    Protocols = 4;
    NFS_Port = 2049;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Enable_UDP = false;
}
NFSV4 {
    Graceless = true;
    # Owners as numbers (1000), as the kernel's server sends them with sec=sys: not user@domain
    # names, which a client without the same idmapping shows as nobody (65534).
    Only_Numeric_Owners = true;
}
EXPORT_DEFAULTS {
    Access_Type = None;
}
""" + "".join(blocks)


#: The lab's way of sharing a folder.
GANESHA = Ganesha()
