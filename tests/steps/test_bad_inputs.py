"""Bad input is refused before any node is touched, with an error naming the field and the node."""

from __future__ import annotations

import pytest

from clusterkit.steps import Keys, Network, StepError, Users

GOOD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINRnhutemah0bFtpSIRYS/h1ibXcWOSD6pC5v5V0IWNA a@b"
ALL = "pc[0-3]"


def add_user(cluster, node, line):
    """Give one node a user (and group) that the image does not have."""
    name = line.split(":")[0]
    cluster[node].write_file("/etc/passwd", cluster[node].read_file("/etc/passwd") + line.encode() + b"\n")
    gid = line.split(":")[3]
    cluster[node].write_file("/etc/group", cluster[node].read_file("/etc/group") + f"{name}:x:{gid}:\n".encode())


def users(**kw):
    args = dict(name="alice", uid=1000, root_password="backup-door-1")
    args.update(kw)
    return lambda c: Users(c, **args)


CASES = {
    # users
    "user name with a capital": (users(name="Alice"), "name", ALL),
    "user name starting with a digit": (users(name="1alice"), "name", ALL),
    "user name with a space": (users(name="al ice"), "name", ALL),
    "user name too long": (users(name="a" * 33), "name", ALL),
    "reserved user name": (users(name="root"), "name", ALL),
    "reserved group-like name": (users(name="sudo"), "name", ALL),
    "UID below the range": (users(uid=999), "uid", ALL),
    "UID above the range": (users(uid=65534), "uid", ALL),
    "UID not a number": (users(uid="1000"), "uid", ALL),
    "GID out of range": (users(gid=0), "gid", ALL),
    "bad group name": (users(groups=("sudo", "Wheel!")), "groups", ALL),
    "full name with a colon": (users(full_name="Alice: admin"), "full_name", ALL),
    "short root password": (users(root_password="short"), "root_password", ALL),
    "no way back in": (users(root_password=None), "root_password", "pc0"),
    "malformed root key": (users(root_password=None, root_key="ssh-ed25519 AAAA"), "root_key", ALL),
    "rename is the name": (users(rename="alice"), "rename", ALL),
    # network
    "address outside the network": (lambda c: Network(c, addresses={"pc1": "10.0.1.2"}), "address", "pc1"),
    "address taken twice": (lambda c: Network(c, addresses={"pc2": "10.0.0.1"}), "address", "pc2"),
    "network address": (lambda c: Network(c, addresses={"pc3": "10.0.0.0"}), "address", "pc3"),
    "broadcast address": (lambda c: Network(c, addresses={"pc3": "10.0.0.255"}), "address", "pc3"),
    "not an address": (lambda c: Network(c, addresses={"pc1": "10.0.0.300"}), "address", "pc1"),
    "bad hostname": (lambda c: Network(c, hostnames={"pc2": "pc_2"}), "hostname", "pc2"),
    "hostname ending in a dash": (lambda c: Network(c, hostnames={"pc2": "pc-"}), "hostname", "pc2"),
    "all-digit hostname": (lambda c: Network(c, hostnames={"pc0": "1234"}), "hostname", "pc0"),
    "hostname taken twice": (lambda c: Network(c, hostnames={"pc1": "pc0"}), "hostname", "pc1"),
    "uplink is the wired interface": (lambda c: Network(c, uplink="eth0"), "uplink", ALL),
    "bad interface name": (lambda c: Network(c, interface="eth 0"), "interface", ALL),
    # keys
    "malformed public key": (lambda c: Keys(c, user="pi", import_keys=("ssh-ed25519 AAAA!!",)), "import_keys", ALL),
    "truncated public key": (lambda c: Keys(c, user="pi", import_keys=(GOOD_KEY[:60],)), "import_keys", ALL),
    "key type and data disagree": (lambda c: Keys(c, user="pi", import_keys=(
        "ssh-rsa " + GOOD_KEY.split()[1],)), "import_keys", ALL),
    "a private key": (lambda c: Keys(c, user="pi", import_keys=(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",)), "import_keys", ALL),
    "unknown key type": (lambda c: Keys(c, user="pi", import_keys=("ssh-dss AAAAB3NzaC1kc3M=",)), "import_keys", ALL),
    "GitHub user while offline": (lambda c: Keys(c, user="pi", import_keys=("gh:octocat",)), "import_keys", ALL),
    "missing key file": (lambda c: Keys(c, user="pi", import_keys=("/nonexistent/bob.pub",)), "import_keys", ALL),
    "user missing on the nodes": (lambda c: Keys(c, user="zoe"), "user", "pc0"),
    "bad key user name": (lambda c: Keys(c, user="Zoe!"), "user", ALL),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_before_any_node_changes(fresh, snapshot, case):
    make, fld, node = CASES[case]
    before = snapshot(fresh)
    step = make(fresh)
    with pytest.raises(StepError) as err:
        step.apply(progress=False)
    assert err.value.field == fld, str(err.value)
    assert err.value.node == node, str(err.value)
    assert fld in str(err.value) and node in str(err.value)
    assert snapshot(fresh) == before


@pytest.mark.parametrize("case", ["uid held by another user", "gid held by another group", "missing admin group",
                                  "a system account under the name"])
def test_conflicts_found_on_one_node(fresh, snapshot, case):
    if case == "uid held by another user":
        add_user(fresh, "pc3", "carol:x:1500:1500::/home/carol:/bin/bash")
        make, fld, msg = users(uid=1500), "uid", "held by user 'carol'"
    elif case == "gid held by another group":
        fresh["pc3"].write_file("/etc/group", fresh["pc3"].read_file("/etc/group") + b"lab:x:1600:\n")
        make, fld, msg = users(uid=1600), "gid", "held by group 'lab'"
    elif case == "missing admin group":
        make, fld, msg = users(groups=("sudo", "gpio")), "groups", "group 'gpio' does not exist"
    else:
        add_user(fresh, "pc3", "alice:x:998:998::/home/alice:/bin/sh")
        make, fld, msg = users(), "name", "system account"
    before = snapshot(fresh)
    with pytest.raises(StepError, match=msg) as err:
        make(fresh).apply(progress=False)
    assert err.value.field == fld
    assert err.value.node == ("pc0" if case == "missing admin group" else "pc3")
    assert snapshot(fresh) == before
