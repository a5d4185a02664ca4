"""The steps on the lab: real sshd, real users, addresses and keys, starting from the fresh image.

Each test brings up its own small lab (named ``tpsteps``) and takes it down.
Skipped with a reason where the lab cannot run.
"""

from __future__ import annotations

import subprocess

import pytest

from clusterkit import steps
from clusterkit.lab.image import FRESH
from labnames import LAB_MARKS, lab_name, running_lab

pytestmark = LAB_MARKS
NAME = lab_name("tpsteps")


@pytest.fixture
def lab(tmp_path):
    with running_lab(NAME, 4, tmp_path / "state") as running:
        yield running


def files(lab, paths) -> dict:
    """Every node's copy of ``paths``, read from inside the node (not through the code under test)."""
    out = {}
    for n in lab.boards:
        for p in paths:
            r = lab.exec(n, f"cat {p} 2>/dev/null || echo MISSING")
            out[n, p] = r.stdout
    return out


def users(cluster):
    return steps.Users(cluster, name="alice", uid=1000, root_key=steps.rescue_key(cluster))


def test_users_rename_and_one_uid(lab, cluster):
    odd = list(lab.boards)[FRESH.odd_index]
    assert f"uid={FRESH.odd_uid}(pi)" in lab.exec(odd, "id pi").stdout
    result = users(cluster).apply(progress=False)
    assert result.ok, result.text()
    ids = steps.ids(cluster, "alice")
    assert ids.ok and len(ids.gathered()) == 1, ids.text()
    assert ids[odd].stdout.startswith("uid=1000(alice) gid=1000(alice)")
    assert "27(sudo)" in ids[odd].stdout
    for n in lab.boards:
        assert lab.exec(n, "id pi").returncode != 0
        assert lab.exec(n, "test -d /home/alice && test ! -e /home/pi").returncode == 0
        assert lab.exec(n, "stat -c %u:%g /home/alice").stdout.strip() == "1000:1000"
    before = files(lab, ["/etc/passwd", "/etc/group", "/etc/shadow", "/root/.ssh/authorized_keys"])
    again = users(cluster)
    assert again.plan().empty
    assert again.apply(progress=False).ok
    assert files(lab, ["/etc/passwd", "/etc/group", "/etc/shadow", "/root/.ssh/authorized_keys"]) == before


def test_network_addresses_names_and_routes(lab, cluster):
    result = steps.Network(cluster).apply(progress=False)
    assert result.ok, result.text()
    step = steps.Network(cluster)
    assert step.pings(by="address").ok and step.pings(by="name").ok
    for n, spec in cluster.inventory.nodes.items():
        assert lab.exec(n, "hostname").stdout.strip() == n
        assert "dev wlan0" in lab.exec(n, "ip route show default").stdout
        assert spec.host == spec.address  # the workbook switched to the wired address once it answered
    before = files(lab, ["/etc/hosts", "/etc/hostname"])
    assert step.plan().empty
    assert step.apply(progress=False).ok
    assert files(lab, ["/etc/hosts", "/etc/hostname"]) == before


def test_node_unreachable_on_new_address_is_rolled_back(lab, cluster):
    bad = list(lab.boards)[2]
    old_hosts = lab.exec(bad, "cat /etc/hosts").stdout
    # Unplug its wired cable on the switch's side: the node takes its new address, which never answers.
    subprocess.run(["ip", "link", "set", lab.names.wired_veth(lab.boards[bad].index), "down"], check=True)
    result = steps.Network(cluster).apply(progress=False)
    assert list(result.failed) == [bad], result.text()
    assert "did not answer" in result[bad].error
    assert lab.exec(bad, "cat /etc/hosts").stdout == old_hosts
    assert cluster.inventory[bad].host == lab.boards[bad].host  # still reached on Wi-Fi
    assert cluster.run("true", nodes=bad).ok


def test_keys_passwordless_everywhere_then_no_passwords(lab, cluster):
    assert users(cluster).apply(progress=False).ok
    steps.Network(cluster).apply(progress=False)
    step = steps.Keys(cluster, user="alice")
    result = step.apply(progress=False)
    assert result.ok, result.text()
    assert step.logins().ok
    for n in lab.boards:
        assert lab.exec(n, "stat -c %a /home/alice/.ssh /home/alice/.ssh/authorized_keys").stdout.split() == ["700", "600"]
        assert lab.exec(n, "sshd -T -C user=alice,host=x,addr=10.0.0.9 | grep -i '^passwordauthentication'"
                        ).stdout.strip() == "passwordauthentication no"
    assert step.plan().empty


def test_password_login_stays_where_key_login_fails(lab, cluster):
    assert users(cluster).apply(progress=False).ok
    bad = list(lab.boards)[3]
    lab.exec(bad, "printf 'AuthorizedKeysFile /nonexistent\\n' > /etc/ssh/sshd_config.d/10-broken.conf; "
                  "kill -HUP $(cat /run/sshd.pid)")
    step = steps.Keys(cluster, user="alice")
    result = step.apply(progress=False)
    assert list(result.failed) == [bad], result.text()
    assert "password login stays on" in result[bad].error
    assert lab.exec(bad, "test -e /etc/ssh/sshd_config.d/50-clusterkit.conf").returncode != 0
    for n in list(lab.boards)[:3]:
        assert lab.exec(n, "test -e /etc/ssh/sshd_config.d/50-clusterkit.conf").returncode == 0
