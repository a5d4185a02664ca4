"""A full lab cycle leaves the host as it was; power commands in a node reach that node only.

The module brings its own lab up (after a snapshot of the host), changes users,
hostnames, files, addresses and routes on the nodes, powers one node off and
reboots another from inside, takes the lab down, compares, and brings it up again.
The tests run in file order and share the module's lab.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import clusterkit.lab
from clusterkit.lab import procs
from clusterkit.lab.wait import sshd_answers
from labtools import askpass, node_state, ssh
from labnames import LAB_MARKS, lab_name
from waiting import wait_for

pytestmark = LAB_MARKS

NAME = lab_name("tlc")
WATCHED = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")


@dataclass
class HostState:
    files: dict
    root_ssh: dict
    hostname: str
    clock: float
    links: set
    routes: set
    addrs: set
    mounts: set
    netns: set


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot() -> HostState:
    root_ssh = Path("/root/.ssh")
    links = {e["ifname"] for e in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True,
                                                             text=True).stdout)}
    return HostState(
        files={p: _digest(Path(p)) for p in WATCHED if Path(p).exists()},
        root_ssh={str(p): _digest(p) for p in root_ssh.rglob("*") if p.is_file()} if root_ssh.is_dir() else {},
        hostname=socket.gethostname(),
        clock=time.time() - time.monotonic(),
        links=links,
        routes=set(subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True,
                                  text=True).stdout.splitlines()),
        addrs=set(subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout.splitlines()),
        mounts=set(Path("/proc/mounts").read_text().splitlines()),
        netns=set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()),
    )


def _ours(line: str) -> bool:
    return f"ck{NAME}-" in line or f"ck-{NAME}-" in line or f"/labs/{NAME}" in line


def _on_host_links(lines: set, links: set) -> set:
    """Lines about the host's own links (those it had before), so helpers working beside us do not count."""
    return {line for line in lines if any(f"dev {l} " in line + " " or f": {l} " in line or
                                          line.split()[1:2] == [l] for l in links)}


def assert_host_as_before(before: HostState) -> None:
    after = snapshot()
    assert after.files == before.files
    assert after.root_ssh == before.root_ssh
    assert after.hostname == before.hostname
    assert abs(after.clock - before.clock) < 1.0
    assert _on_host_links(after.routes, before.links) == _on_host_links(before.routes, before.links)
    assert _on_host_links(after.addrs, before.links) == _on_host_links(before.addrs, before.links)
    for lines in (after.routes, after.addrs, after.mounts, after.netns, after.links):
        assert not [line for line in lines if _ours(line)]
    netns_mount = {m for m in before.mounts ^ after.mounts if m.split()[1] == "/run/netns"}
    assert after.mounts - netns_mount == before.mounts - netns_mount
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline_is_ours(pid)]
    assert left == []


def _cmdline_is_ours(pid: str) -> bool:
    try:
        return f"/labs/{NAME}/" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") \
            and procs.alive(procs.proc_of(int(pid)))
    except OSError:
        return False


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    if clusterkit.lab.find(NAME):
        clusterkit.lab.down(name=NAME)
    before = snapshot()
    lab = clusterkit.lab.up(n=4, name=NAME)
    state = {"before": before, "lab": lab, "askpass": askpass(lab, tmp_path_factory.mktemp("askpass"))}
    yield state
    if clusterkit.lab.find(NAME):
        clusterkit.lab.down(name=NAME)


def test_commands_that_change_users_hostnames_and_files_stay_in_the_node(cycle):
    lab, ap = cycle["lab"], cycle["askpass"]
    change = ("useradd -m -u 1500 alice && echo alice:secret | chpasswd && usermod -aG sudo alice; "
              "hostname changed; echo changed > /etc/hostname; echo '10.9.9.9 elsewhere' >> /etc/hosts; "
              "mkdir -p /root/.ssh && echo 'ssh-ed25519 AAAA test' >> /root/.ssh/authorized_keys; "
              "ip addr add 10.9.9.1/24 dev eth0; ip route add 10.9.8.0/24 via 10.9.9.9; "
              "date -s '2001-01-01' >/dev/null 2>&1; echo date=$?; "
              "touch /usr/lib/clusterkit-was-here 2>/dev/null; echo usr=$?; "
              "mkdir -p /srv/share && echo srv=ok")
    for name in lab.boards:
        r = ssh(lab, name, change, askpass_path=ap, sudo=True)
        assert "date=1" in r.stdout and "usr=1" in r.stdout and "srv=ok" in r.stdout, r.stdout + r.stderr
        seen = ssh(lab, name, "hostname; getent passwd alice | cut -d: -f3; ip -4 -o addr show eth0 | wc -l",
                   askpass_path=ap).stdout.split()
        assert seen == ["changed", "1500", "1"]
    assert not Path("/usr/lib/clusterkit-was-here").exists()
    assert "alice" not in Path("/etc/passwd").read_text()
    assert "elsewhere" not in Path("/etc/hosts").read_text()
    assert socket.gethostname() == cycle["before"].hostname


def test_poweroff_in_a_node_stops_that_node_only(cycle):
    lab, ap = cycle["lab"], cycle["askpass"]
    ssh(lab, f"{NAME}3", "poweroff", askpass_path=ap, sudo=True)
    wait_for(lambda: node_state(lab, f"{NAME}3") == "off", 60, f"{NAME}3 off")
    assert [node_state(lab, n) for n in (f"{NAME}0", f"{NAME}1", f"{NAME}2")] == ["running"] * 3
    assert socket.gethostname() == cycle["before"].hostname


def test_reboot_in_a_node_brings_it_back_with_its_files(cycle):
    lab, ap = cycle["lab"], cycle["askpass"]
    first = lab.pid(f"{NAME}2")
    ssh(lab, f"{NAME}2", "touch /tmp/gone-after-reboot; systemctl reboot", askpass_path=ap, sudo=True)
    wait_for(lambda: lab.pid(f"{NAME}2") not in (None, first) and sshd_answers(lab.boards[f"{NAME}2"].host), 60,
             f"{NAME}2 back with its sshd")
    r = ssh(lab, f"{NAME}2", "hostname; getent passwd alice >/dev/null && echo alice; ls /tmp", askpass_path=ap)
    assert r.stdout.split() == ["changed", "alice"]     # /etc kept like an SD card, /tmp fresh
    assert [node_state(lab, n) for n in (f"{NAME}0", f"{NAME}1", f"{NAME}2")] == ["running"] * 3
    assert node_state(lab, f"{NAME}3") == "off"


def test_up_powers_an_off_node_on_again(cycle):
    lab = clusterkit.lab.up(name=NAME)
    assert [s.state for s in lab.status()] == ["running"] * 4
    assert lab.powered_on == [f"{NAME}3"]
    cycle["lab"] = lab


def test_down_leaves_nothing_and_the_host_as_it_was(cycle):
    lab = cycle["lab"]
    supervisors = [b.supervisor for b in lab.boards.values()] + [lab.router]
    lab.down()
    assert not any(procs.alive(p) for p in supervisors)
    assert clusterkit.lab.find(NAME) is None
    assert_host_as_before(cycle["before"])


def test_a_second_up_right_after_works(cycle):
    lab = clusterkit.lab.up(n=2, name=NAME)
    try:
        assert [s.state for s in lab.status()] == ["running"] * 2
        r = ssh(lab, f"{NAME}0", "hostname", askpass_path=askpass(lab, Path(cycle["askpass"]).parent))
        assert r.stdout.strip() == "raspberrypi"          # a fresh image again
    finally:
        lab.down()
    assert_host_as_before(cycle["before"])
