"""A lab node's boot brings back what a board's boot would, and the power operations say what happened.

The lab (the default kind, whose NFS server is unfs3) is set up as notebooks 01-05 do it (one user and UID,
cluster addresses, the NFS share, chrony), through the SSH backend. Then: a node's own reboot, reboot all, the
dashboard's shutdown and `lab up`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import clusterkit.lab
from clusterkit import ops, workbook
from clusterkit.dashboard import Dashboard
from clusterkit.steps import Nfs, TimeSync
from labnames import LAB_MARKS, lab_name
from waiting import wait_for

pytestmark = LAB_MARKS
NAME = lab_name("tbt")
P, W1, W2 = (f"{NAME}{i}" for i in range(3))
#: The lab's NFS server's unit (unfs3 in the default lab; nfs-ganesha in the host-root lab).
SERVER = clusterkit.lab.kinds.default().platform.share_folder().unit


def not_back(lab) -> str:
    """What to show when the nodes are not all back: their services and consoles."""
    return f"every node back: {({n: services(lab, n) for n in lab.boards}, consoles(lab))}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLUSTERKIT_STATE", str(tmp_path_factory.mktemp("state")))
        if clusterkit.lab.find(NAME):
            clusterkit.lab.down(name=NAME)
        running = clusterkit.lab.up(n=3, name=NAME)
        try:
            with running.connect() as c:   # notebooks 01-02
                workbook.reapply(c, "01_users", "02_network").save_inventory()
            with running.connect() as c:
                for step in (Nfs(c), TimeSync(c)):   # notebooks 04 and 05
                    result = step.apply(progress=False)
                    assert result.ok, result.text()
            running.exec(P, "echo from-the-primary > /srv/shared/mark.txt")
            yield running
        finally:
            clusterkit.lab.down(name=NAME)


def services(lab, name: str) -> dict[str, bool]:
    """What runs on the node: chronyd, the NFS server (listening), the worker's share showing the primary's file."""
    script = ("pgrep -x chronyd >/dev/null && echo chronyd; "
              "ss -Hltn 'sport = :2049' | grep -q 2049 && echo server; "
              "grep -qx from-the-primary /srv/shared/mark.txt 2>/dev/null && echo share")
    try:
        words = lab.exec(name, script).stdout.split()
    except clusterkit.ClusterkitError:   # the node is off
        words = []
    return {w: w in words for w in ("chronyd", "server", "share")}


def consoles(lab) -> dict[str, str]:
    """The last lines of every node's console log (what its boot said), for a failure's message."""
    return {n: "".join((lab.node_dir(n) / "console.log").read_text(errors="replace").splitlines(True)[-8:])
            for n in lab.boards if (lab.node_dir(n) / "console.log").exists()}


def all_back(lab) -> bool:
    return (services(lab, P) == {"chronyd": True, "server": True, "share": True}
            and all(services(lab, w) == {"chronyd": True, "server": False, "share": True} for w in (W1, W2)))


def test_the_steps_enable_what_they_start_as_on_a_board(lab):
    for name in lab.boards:
        r = lab.exec(name, f"systemctl is-enabled chrony; systemctl is-enabled --quiet {SERVER} && echo server")
        # a worker has no server: its unit is not enabled (unfs3's unit file is on the primary only)
        assert r.stdout.split() == ["enabled"] + (["server"] if name == P else []), (name, r.stdout)
    assert all_back(lab)


def test_a_node_enables_only_the_images_units_and_the_steps(lab):
    # None of the host's enabled services (its chrony, NFS server, database, …) shows through a node's /etc.
    wants = clusterkit.lab.node.WANTS
    assert lab.exec(W2, f"ls {wants}").stdout.split() == ["chrony.service", "ssh.service"]
    assert lab.exec(P, f"ls {wants}").stdout.split() == sorted(["chrony.service", f"{SERVER}.service", "ssh.service"])


def test_a_nodes_own_reboot_brings_back_its_services_and_share(lab):
    for name in (P, W1):        # the primary first: its workers keep the share they had
        first = lab.pid(name)
        lab.exec(name, "reboot")
        wait_for(lambda: lab.pid(name) not in (None, first), 120, f"{name} to boot again")
    wait_for(lambda: all_back(lab), 120, lambda: not_back(lab))
    assert "mounted " in (lab.node_dir(W1) / "console.log").read_text()


def test_reboot_all_says_every_node_is_back(lab):
    with lab.connect() as c:
        report = ops.reboot_all(c, confirm=True, progress=False, timeout=120)
    assert [s.node for s in report.steps] == [W1, W2, P]
    assert [s.now for s in report.steps] == ["back up"] * 3, report.text()
    assert "3 of 3 nodes are back up" in report.text() and "not back" not in report.text()
    assert all(t is not None for t in report.back.values())
    wait_for(lambda: all_back(lab), 120, lambda: not_back(lab))


def test_the_dashboards_shutdown_reports_every_node_down_workers_first(lab):
    with lab.connect() as c:
        dash = Dashboard(c, interval=0.5)
        try:
            question = dash.request("poweroff")
            assert f"Workers first ({W1}, {W2}), then the primary {P}" in repr(question)
            dash.confirm(wait=True)
            report = dash.power_report
        finally:
            dash.close()
    assert [(s.node, s.role) for s in report.steps] == [(W1, "worker"), (W2, "worker"), (P, "primary")]
    assert [s.now for s in report.steps] == ["down"] * 3, report.text()
    assert "3 of 3 nodes went down" in report.text() and "still up" not in report._repr_html_()
    # The workers were seen down before the primary was asked.
    assert max(s.finished + s.after for s in report.steps[:2]) <= report.steps[2].started
    assert [s.state for s in lab.status()] == ["off"] * 3


def test_lab_up_powers_them_on_says_which_and_they_boot_as_enabled(lab):
    env = dict(os.environ)
    up = subprocess.run([sys.executable, "-m", "clusterkit.cli", "lab", "up", "--name", NAME],
                        capture_output=True, text=True, env=env, timeout=180)
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines()[0] == f"lab {NAME}: powered on {P}, {W1}, {W2} (they were off)"
    again = clusterkit.lab.find(NAME)
    assert all_back(again), {n: services(again, n) for n in again.boards}   # `lab up` waited for the boot
    second = subprocess.run([sys.executable, "-m", "clusterkit.cli", "lab", "up", "--name", NAME],
                            capture_output=True, text=True, env=env, timeout=60)
    assert second.stdout.splitlines()[0] == f"lab {NAME} was already up"


def test_a_worker_waits_for_its_server_and_says_so_in_its_console(lab):
    lab = clusterkit.lab.find(NAME)
    log = lab.node_dir(W1) / "console.log"
    seen = len(log.read_text())
    lab.exec(P, f"systemctl disable {SERVER}")
    try:
        lab.exec(P, "reboot")
        lab.exec(W1, "reboot")
        wait_for(lambda: f"waiting for the NFS server {P}" in log.read_text()[seen:], 60, f"{W1} to wait for {P}")
        assert services(lab, W1) == {"chronyd": True, "server": False, "share": False}
    finally:
        lab.exec(P, f"systemctl enable {SERVER}")
