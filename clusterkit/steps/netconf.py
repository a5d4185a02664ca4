"""Where a node keeps its wired address, detected per node, rendered, and checked offline.

- ``nm``: NetworkManager keyfiles in ``/etc/NetworkManager/system-connections``
  (Raspberry Pi OS Bookworm and later). The profile is found by its device
  (``interface-name``), never by a fixed name; a new one is added when none
  exists. Checked with ``nmcli --offline``, which parses a keyfile with no daemon.
- ``dhcpcd``: a managed block in ``/etc/dhcpcd.conf`` (older Raspberry Pi OS).
- ``netplan``: ``/etc/netplan/60-clusterkit.yaml`` (Ubuntu), checked with
  ``netplan generate --root-dir``.
In every format the wired profile never takes the default route.
"""

from __future__ import annotations

import posixpath
import shlex
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from .base import FileChange, Reader, StepError
from .blocks import BEGIN, END, without_block

FORMATS = {
    "nm": "NetworkManager keyfile",
    "dhcpcd": "dhcpcd.conf",
    "netplan": "netplan",
}
NM_DIR = "/etc/NetworkManager/system-connections"
NETPLAN_DIR = "/etc/netplan"
NETPLAN_FILE = NETPLAN_DIR + "/60-clusterkit.yaml"
DHCPCD = "/etc/dhcpcd.conf"


def detect(reader: Reader, interface: str) -> tuple[str, dict]:
    """The node's format and what it holds now. NetworkManager wins where its files exist; none found: NetworkManager."""
    profiles = {}
    for name in reader.listdir(NM_DIR):
        if name.endswith(".nmconnection"):
            path = posixpath.join(NM_DIR, name)
            profiles[path] = reader.text(path) or ""
    nm_conf = reader.text("/etc/NetworkManager/NetworkManager.conf")
    if profiles or nm_conf is not None:
        return "nm", {"profiles": profiles}
    dhcpcd = reader.text(DHCPCD)
    if dhcpcd is not None:
        return "dhcpcd", {"text": dhcpcd}
    yamls = [n for n in reader.listdir(NETPLAN_DIR) if n.endswith(".yaml")]
    if yamls:
        return "netplan", {"ours": reader.text(NETPLAN_FILE), "others": yamls}
    return "nm", {"profiles": {}, "default": True}


def render(fmt: str, config: dict, *, interface: str, cidr: str, node: str, cluster: str) -> list[FileChange]:
    """The file changes that give ``interface`` the address ``cidr``, never the default route."""
    if fmt == "nm":
        return _nm(config, interface, cidr, node, cluster)
    if fmt == "dhcpcd":
        return _dhcpcd(config["text"], interface, cidr)
    return _netplan(config["ours"], interface, cidr, node)


def apply_command(fmt: str, interface: str, changes: list[FileChange]) -> str:
    """The command that makes the running network manager take ``changes`` (from :func:`render`) now.

    NetworkManager activates the very profile written, by its UUID: ``device reapply`` would
    re-read only the profile active on the device, and on a cluster switch with no DHCP server
    that is the image's "Wired connection 1", still asking for a lease; the new profile would then
    wait for that request to time out (45 s) before NetworkManager picked it on its own.
    """
    if fmt == "nm":
        text = changes[-1].new.decode()
        key, value = next(((k, v) for k in ("uuid", "id") if (v := _ini_get(text, "connection", k))),
                          ("ifname", interface))
        return f"nmcli connection reload && nmcli connection up {key} {shlex.quote(value)}"
    return {"dhcpcd": "dhcpcd --rebind " + shlex.quote(interface), "netplan": "netplan apply"}[fmt]


# ---------------------------------------------------------------- NetworkManager

def _nm(config: dict, interface: str, cidr: str, node: str, cluster: str) -> list[FileChange]:
    mine = [(p, t) for p, t in sorted(config["profiles"].items())
            if _ini_get(t, "connection", "interface-name") == interface and _ini_get(t, "connection", "type") != "wifi"]
    if mine:
        path, old = mine[0]
        new = old
        for key, value in (("method", "manual"), ("address1", cidr), ("never-default", "true")):
            new = _ini_set(new, "ipv4", key, value)
        for key in ("gateway", "dns"):
            new = _ini_del(new, "ipv4", key)
        why = f"the profile bound to {interface}, made static"
    else:
        path, old = f"{NM_DIR}/cluster-{interface}.nmconnection", None
        uid = uuid.uuid5(uuid.NAMESPACE_DNS, f"{node}.{cluster}.{interface}.clusterkit")
        new = (f"[connection]\nid=cluster-{interface}\nuuid={uid}\ntype=ethernet\ninterface-name={interface}\n\n"
               f"[ethernet]\n\n[ipv4]\naddress1={cidr}\nmethod=manual\nnever-default=true\n\n"
               "[ipv6]\naddr-gen-mode=default\nmethod=disabled\n\n[proxy]\n")
        why = f"no profile was bound to {interface}: a new one"
    if new == old:
        return []
    _check_nm(new, node, path)
    return [FileChange(path, None if old is None else old.encode(), new.encode(), mode=0o600, why=why)]


def _check_nm(text: str, node: str, path: str) -> None:
    nmcli = shutil.which("nmcli")
    if nmcli is None:
        return
    r = subprocess.run([nmcli, "--offline", "connection", "modify", "ipv4.never-default", "yes"],
                       input=text, capture_output=True, text=True, timeout=30, check=False)
    if r.returncode != 0:
        raise StepError(f"nmcli --offline rejects the rendered profile: {r.stderr.strip()}", node=node, field=path)


def _ini_sections(text: str) -> list[tuple[str | None, list[str]]]:
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            sections.append((s[1:-1], []))
        else:
            sections[-1][1].append(line)
    return sections


def _ini_join(sections) -> str:
    out = []
    for name, lines in sections:
        if name is not None:
            out.append(f"[{name}]")
        out += lines
    return "\n".join(out) + "\n"


def _ini_get(text: str, section: str, key: str) -> str | None:
    for name, lines in _ini_sections(text):
        if name == section:
            for line in lines:
                k, sep, v = line.partition("=")
                if sep and k.strip() == key:
                    return v.strip()
    return None


def _ini_set(text: str, section: str, key: str, value: str) -> str:
    sections = _ini_sections(text)
    for name, lines in sections:
        if name == section:
            for i, line in enumerate(lines):
                k, sep, _ = line.partition("=")
                if sep and k.strip() == key:
                    lines[i] = f"{key}={value}"
                    return _ini_join(sections)
            end = len(lines)
            while end and not lines[end - 1].strip():
                end -= 1
            lines.insert(end, f"{key}={value}")
            return _ini_join(sections)
    if sections[-1][1] and sections[-1][1][-1].strip():
        sections[-1][1].append("")
    sections.append((section, [f"{key}={value}", ""]))
    return _ini_join(sections)


def _ini_del(text: str, section: str, key: str) -> str:
    sections = _ini_sections(text)
    for name, lines in sections:
        if name == section:
            lines[:] = [ln for ln in lines if ln.partition("=")[0].strip() != key or "=" not in ln]
    return _ini_join(sections)


# ---------------------------------------------------------------- dhcpcd

def _dhcpcd(text: str, interface: str, cidr: str) -> list[FileChange]:
    keep = without_block(text, BEGIN, END)
    block = [BEGIN + " (the wired cluster address; nogateway keeps the default route on Wi-Fi)",
             f"interface {interface}", f"static ip_address={cidr}", "nogateway", END]
    new = "\n".join(keep + [""] + block) + "\n"
    if new == text:
        return []
    return [FileChange(DHCPCD, text.encode(), new.encode(), mode=0o644, why="a static address for the wired interface")]


# ---------------------------------------------------------------- netplan

def _netplan(old: str | None, interface: str, cidr: str, node: str) -> list[FileChange]:
    new = (f"# The wired cluster address (clusterkit). No routes: the default route stays on Wi-Fi.\n"
           f"network:\n  version: 2\n  ethernets:\n    {interface}:\n      dhcp4: false\n"
           f"      addresses: [{cidr}]\n")
    if new == old:
        return []
    _check_netplan(new, node)
    return [FileChange(NETPLAN_FILE, None if old is None else old.encode(), new.encode(), mode=0o600,
                       why="a static address for the wired interface")]


def _check_netplan(text: str, node: str) -> None:
    netplan = shutil.which("netplan") or ("/usr/sbin/netplan" if Path("/usr/sbin/netplan").exists() else None)
    if netplan is None:
        return
    with tempfile.TemporaryDirectory(prefix="clusterkit-netplan-") as root:
        target = Path(root) / NETPLAN_FILE.lstrip("/")
        target.parent.mkdir(parents=True)
        target.write_text(text)
        target.chmod(0o600)
        r = subprocess.run([netplan, "generate", "--root-dir", root], capture_output=True, text=True,
                           timeout=60, check=False)
    if r.returncode != 0:
        raise StepError(f"netplan generate rejects the rendered file: {r.stderr.strip()}", node=node, field=NETPLAN_FILE)
