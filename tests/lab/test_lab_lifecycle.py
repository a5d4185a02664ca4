"""A running lab of four nodes: real sshd on every DHCP address, the fresh-image state, status, inventory."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

import clusterkit
import clusterkit.lab
from clusterkit.errors import ClusterkitError
from clusterkit.lab import WORKSHOP_PASSWORD, backend
from clusterkit.lab.image import FRESH
from clusterkit.lab.wait import sshd_answers
from labnames import LAB_MARKS
from labtools import ssh

pytestmark = LAB_MARKS


def test_sshd_answers_on_every_nodes_dhcp_address(lab, askpass_path):
    assert [s.state for s in lab.status()] == ["running"] * 4
    for name, board in lab.boards.items():
        r = ssh(lab, name, "hostname", askpass_path=askpass_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == FRESH.hostname


def test_pi_uids_are_as_the_image_says(lab, askpass_path):
    uids = {name: int(ssh(lab, name, "id -u", askpass_path=askpass_path).stdout) for name in lab.boards}
    expected = {name: FRESH.uid_of(b.index, len(lab.boards)) for name, b in lab.boards.items()}
    assert uids == expected
    assert len(set(uids.values())) == 2   # one node is the odd one out, as notebook 01 expects


def test_reachable_only_at_the_dhcp_address(lab):
    for name, board in lab.boards.items():
        wired = lab.exec(name, "ip -4 -o addr show dev eth0").stdout
        assert wired.strip() == ""                     # a fresh board's eth0 has no address
        route = lab.exec(name, "ip route show default").stdout
        assert route.startswith(f"default via {lab.uplink.rsplit('.', 1)[0]}.1 dev wlan0")
        assert not sshd_answers(board.address, timeout=0.3)


def test_fresh_image_has_no_keys_no_time_service_and_sudo_asks(lab, askpass_path):
    for name in lab.boards:
        r = ssh(lab, name, "ls -A ~/.ssh 2>/dev/null | wc -l; sudo -n true 2>/dev/null; echo sudo=$?; "
                "id -nG", askpass_path=askpass_path)
        keys, sudo_rc, groups = r.stdout.split("\n")[:3]
        assert keys.strip() == "0"
        assert sudo_rc == "sudo=1"                     # sudo asks for the password
        assert "sudo" in groups.split()
        procs = lab.exec(name, "ps -e -o comm=").stdout.split()
        assert not {"chronyd", "systemd-timesyncd", "ntpd"} & set(procs)
        assert "sshd" in procs


def test_sudo_with_the_password_is_root(lab, askpass_path):
    r = ssh(lab, f"{lab.name}0", "id -u", askpass_path=askpass_path, sudo=True)
    assert r.returncode == 0 and r.stdout.strip() == "0"


def test_poweroff_needs_root(lab, askpass_path):
    r = ssh(lab, f"{lab.name}1", "/usr/sbin/poweroff", askpass_path=askpass_path)
    assert r.returncode != 0
    assert lab.pid(f"{lab.name}1") is not None


def test_inventory_is_for_every_user_and_never_shows_the_password(lab):
    inv = lab.inventory()
    assert inv.backend == "lab" and str(inv.network) == lab.network
    assert [s.user for s in inv] == ["pi"] * 4
    assert {s.name: s.host for s in inv} == {n: b.host for n, b in lab.boards.items()}
    assert inv.password == WORKSHOP_PASSWORD
    assert WORKSHOP_PASSWORD not in repr(inv) + inv._repr_html_() + repr(lab) + lab._repr_html_()
    mode = stat.S_IMODE(os.stat(lab.inventory_path).st_mode)
    assert mode == 0o644
    assert stat.S_IMODE(os.stat(lab.dir / "nodes").st_mode) == 0o700


def test_known_hosts_holds_every_nodes_own_key(lab):
    lines = lab.known_hosts_path.read_text().splitlines()
    assert len(lines) == 4
    for line, (name, board) in zip(lines, lab.boards.items()):
        hosts, kind, key = line.split()
        assert hosts == f"{board.host},{board.address}" and kind == "ssh-ed25519"
        served = lab.exec(name, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]
        assert served == key
    host_keys = {open(p).read().split()[1] for p in
                 (f"/etc/ssh/{f}" for f in os.listdir("/etc/ssh") if f.endswith(".pub"))}
    assert not host_keys & {line.split()[2] for line in lines}


def test_cli_status_and_up_when_up(lab):
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "clusterkit.cli", "lab", "status", "--name", lab.name],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0
    for name, board in lab.boards.items():
        assert name in r.stdout and board.host in r.stdout
    assert r.stdout.count("answers") == 4
    again = subprocess.run([sys.executable, "-m", "clusterkit.cli", "lab", "up", "--name", lab.name],
                           capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "already up" in again.stdout
    assert WORKSHOP_PASSWORD not in r.stdout + r.stderr + again.stdout + again.stderr


def test_up_with_another_size_is_refused(lab):
    with pytest.raises(ClusterkitError, match="already up with 4 nodes"):
        clusterkit.lab.up(n=3, name=lab.name)


def test_connect_picks_the_lab_for_its_inventory(lab):
    inv = clusterkit.load_inventory(lab.inventory_path)
    assert clusterkit.backends.resolve("auto", inv).name == "lab"
    assert backend.known_hosts_for(inv) == lab.known_hosts_path


def test_memory_of_an_idle_node_is_counted(lab):
    memory = lab.memory()
    assert set(memory) == set(lab.boards)
    assert all(m["processes"] >= 4 and m["pss"] > 0 for m in memory.values())
