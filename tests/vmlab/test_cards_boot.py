"""The first-boot files are what made the board: its host name, user, UID, key and static address come from its
card, with no step of the workbook run before (issue 13)."""

import os
import subprocess

import pytest

import clusterkit.lab
from clusterkit import firstboot
from clusterkit.inventory import parse_inventory
from conftest import VM_MARKS
from labnames import lab_name

pytestmark = VM_MARKS

NETWORK = "10.0.213.0/24"


@pytest.fixture(scope="module")
def carded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("card")
    key = tmp / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@workbook", "-f", str(key)],
                   check=True)
    name = lab_name("tcard")
    inventory = parse_inventory(f"name: {name}\nnodes: {name}0\nprimary: {name}0\nnetwork: {NETWORK}\n",
                                source="test")
    cards = firstboot.cards_for(inventory, user="alice", uid=1234, keys=[key.with_suffix(".pub").read_text()],
                                timezone="Europe/Berlin")
    assert cards[0].password_hash is None and not cards[0].sudo_password
    lab = clusterkit.lab.up(n=1, name=name, kind="vm", cards=cards, network=NETWORK)
    try:
        yield lab, key
    finally:
        clusterkit.lab.down(name=name)


def ssh(lab, key, node, command):
    board = lab.boards[node]
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-i", str(key), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", f"UserKnownHostsFile={lab.known_hosts_path}", "-o", "StrictHostKeyChecking=yes",
         "-o", "ConnectTimeout=10", f"alice@{board.host}", command],
        capture_output=True, text=True, timeout=120)


def test_the_card_made_the_board(carded):
    lab, key = carded
    node = next(iter(lab.boards))
    # The key on the card logs in, against the host key the board made at its first boot (read by the lab).
    r = ssh(lab, key, node, "hostname; id -u; id -g; ip -4 -br addr show eth0; timedatectl show -p Timezone --value;"
                            " sudo -n true && echo sudo-ok; ip route show default")
    assert r.returncode == 0, r.stderr
    hostname, uid, gid, eth0, tz, sudo, route = r.stdout.strip().split("\n")
    assert hostname == node
    assert uid == "1234" and gid == "1234"
    assert "10.0.213.1/24" in eth0
    assert tz == "Europe/Berlin"
    assert sudo == "sudo-ok"
    assert "dev wlan0" in route and "eth0" not in route
    # No password works: password logins are off, and alice has none.
    pw = subprocess.run(["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
                         "-o", f"UserKnownHostsFile={lab.known_hosts_path}", "-o", "ConnectTimeout=10",
                         f"alice@{lab.boards[node].host}", "true"], capture_output=True, text=True, timeout=60)
    assert pw.returncode != 0
    # No step of the workbook ran: the only pieces of clusterkit on the board are the card's.
    marks = lab.exec(node, "grep -rl 'clusterkit' /etc/NetworkManager /etc/hosts /etc/ssh/sshd_config.d "
                           "/etc/chrony 2>/dev/null | wc -l")
    assert marks.stdout.strip() == "0", marks.stdout


def test_lab_down_leaves_no_qemu_namespace_link_mount_or_folder(carded):
    """Issue 13: ``lab down`` leaves nothing of the boards behind. Runs last in this module (it takes the lab
    down; the fixture's own down then finds nothing)."""
    from clusterkit.lab import net, procs
    lab, _key = carded
    supervisors = [b.supervisor for b in lab.boards.values()]
    assert supervisors and all(procs.alive(s) for s in supervisors)
    folder = str(lab.dir)
    assert clusterkit.lab.down(name=lab.name)
    assert not any(procs.alive(s) for s in supervisors)
    assert net.lab_leftovers(lab.name) == []
    with open("/proc/mounts") as f:
        assert folder not in f.read()
    for proc in os.listdir("/proc"):       # no QEMU (or anything) still running from the lab's folder
        if proc.isdigit():
            try:
                with open(f"/proc/{proc}/cmdline", "rb") as f:
                    assert folder.encode() not in f.read(), f"process {proc} still runs from {folder}"
            except OSError:
                pass
    assert not os.path.exists(folder)
    assert clusterkit.lab.find(lab.name) is None
