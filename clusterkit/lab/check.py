"""Can this machine run the lab? ``python -m clusterkit.lab.check`` exits 0 if so, else 1 with one line why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Programs the lab runs, with the Debian package that brings each.
PROGRAMS = {
    "ip": "iproute2", "unshare": "util-linux", "nsenter": "util-linux", "setsid": "util-linux",
    "/usr/sbin/sshd": "openssh-server", "dnsmasq": "dnsmasq-base", "dhclient": "isc-dhcp-client",
    "openssl": "openssl", "sudo": "sudo",
}


def reason(*, user: bool = False) -> str | None:
    """Why the lab cannot run here, or None when it can. ``user``: for a normal user's lab in a user namespace
    (:mod:`.userlab`: no sudo, but a subordinate id range and newuidmap)."""
    if sys.platform != "linux":
        return "the lab needs Linux namespaces; this is not Linux"
    if user and os.geteuid() != 0:
        return user_reason()
    if os.geteuid() != 0:
        return ("the lab needs root: run `sudo clusterkit lab up` once (then use it as a normal user), "
                "or `python -m clusterkit.lab.check --user` for a lab of your own without sudo")
    for program, package in PROGRAMS.items():
        found = os.access(program, os.X_OK) if program.startswith("/") else shutil.which(program)
        if not found:
            return f"{program} is missing: install the Debian package {package} (scripts/setup.sh does)"
    for ns in ("net", "mnt", "uts", "ipc", "pid"):
        if not Path(f"/proc/self/ns/{ns}").exists():
            return f"this kernel has no {ns} namespaces"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "this kernel has no overlay file system (modprobe overlay)"
    probe = subprocess.run(["unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make namespaces here: {probe.stderr.strip() or 'unshare failed'}"
    return None


def user_reason() -> str | None:
    """Why this user cannot start a lab of its own in a user namespace (field and fix named), or None."""
    from ..errors import ClusterkitError
    from . import userns
    for program in ("newuidmap", "newgidmap"):
        if not shutil.which(program):
            return f"userns: {program} is missing: install the Debian package uidmap (as root: apt-get install uidmap)"
    for program in ("ip", "unshare", "nsenter", "dnsmasq", "dhclient", "tar"):
        if not shutil.which(program) and not os.access(f"/usr/sbin/{program}", os.X_OK):
            return f"{program} is missing: install the Debian package {PROGRAMS.get(program, program)}"
    if not os.access("/usr/sbin/sshd", os.X_OK):
        return "/usr/sbin/sshd is missing: install the Debian package openssh-server"
    try:
        userns.for_caller()
    except ClusterkitError as e:
        return str(e)
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "this kernel has no overlay file system (modprobe overlay)"
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return ("userns: this user may not make user namespaces here: "
                f"{probe.stderr.strip() or 'unshare --user failed'} (sysctl user.max_user_namespaces, or an "
                "AppArmor rule restricting unprivileged user namespaces)")
    return None


def main() -> int:
    why = reason(user="--user" in sys.argv[1:])
    if why is not None:
        print(f"clusterkit lab: cannot run here: {why}")
        return 1
    print("clusterkit lab: this machine can run the lab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
