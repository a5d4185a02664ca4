"""Each kind of node's Platform answers "start this service at boot and now", "what does it boot", "can the
workbook reach it at a new address": a board by systemd, a sandbox by listing what a board would run, the
namespace lab by its boot links and the daemon started by hand (no network, no lab needed here)."""

from __future__ import annotations

import os
import subprocess

import pytest

from clusterkit.backends.platform import BOARD_PLATFORM, Service
from clusterkit.backends.sandboxplatform import SANDBOX
from clusterkit.errors import ClusterkitError
from clusterkit.lab.node import BOOT
from clusterkit.lab.platform import LAB_PLATFORM
from clusterkit.lab.services import BY_HAND
from clusterkit.results import NodeResult
from clusterkit.steps.slurm import DAEMONS, SERVICES

MUNGE = SERVICES["munged"]


def commands(wants):
    return [(w.command, w.why) for w in wants]


@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM], ids=["board", "lab"])
def test_a_service_not_running_or_whose_files_changed_is_enabled_restarted_and_waited_for(platform):
    start = commands(platform.start_service(MUNGE, running=False, enabled=True, changed=False))
    assert len(start) == 1 and start[0][1] == "munged: start"
    assert "systemctl enable --quiet munge" in start[0][0] and start[0][0].endswith(MUNGE.wait)
    again = commands(platform.start_service(MUNGE, running=True, enabled=True, changed=True))
    assert again == [(start[0][0], "munged: read the new files")]


@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM], ids=["board", "lab"])
def test_a_running_service_is_only_enabled_when_it_is_not_and_else_left_alone(platform):
    assert commands(platform.start_service(MUNGE, running=True, enabled=False, changed=False)) == [
        ("systemctl enable --quiet munge", "munged at the next boot too")]
    assert platform.start_service(MUNGE, running=True, enabled=True, changed=False) == []


def test_a_board_restarts_through_systemd_and_says_nothing_more():
    (cmd, _), = commands(BOARD_PLATFORM.start_service(MUNGE, running=False, enabled=False, changed=False))
    assert cmd == f"systemctl enable --quiet munge && systemctl restart munge && {MUNGE.wait}"
    assert BOARD_PLATFORM.services_note(DAEMONS) is None


def test_the_lab_starts_the_daemon_by_hand_as_its_boot_script_does_and_says_so():
    (cmd, _), = commands(LAB_PLATFORM.start_service(MUNGE, running=False, enabled=False, changed=False))
    assert "systemctl restart" not in cmd and "runuser -u munge -- /usr/sbin/munged" in cmd
    assert "kill \"$p\"" in cmd and "/run/munge/munged.pid" in cmd   # a running one is stopped first
    assert "no systemd on these nodes: the step starts munged, slurmctld and slurmd itself" in \
        LAB_PLATFORM.services_note(DAEMONS)
    for unit, way in BY_HAND.items():   # what the step starts now, the boot starts again after a reboot
        assert way.prepare in BOOT and f"{way.start} ||" in BOOT, unit


def test_the_lab_refuses_a_service_it_cannot_start_without_systemd():
    with pytest.raises(ClusterkitError) as e:
        LAB_PLATFORM.start_service(Service("cron", "cron", "true", "/var/log/syslog"), running=False,
                                   enabled=False, changed=False)
    assert "cron" in str(e.value) and "munge" in str(e.value)


def test_a_sandbox_lists_what_a_board_runs_once_the_files_change():
    assert SANDBOX.start_service(MUNGE, running=False, enabled=False, changed=False) == []
    assert commands(SANDBOX.start_service(MUNGE, running=False, enabled=False, changed=True)) == [
        ("systemctl enable munge && systemctl restart munge", "munged reads the new files")]
    assert SANDBOX.services_note(DAEMONS) is None


def test_the_wait_ends_as_soon_as_the_service_is_ready():
    ready = Service("x", "x", "true", "/dev/null")
    assert subprocess.run(["sh", "-c", ready.wait], check=False).returncode == 0


class FakeBoard:
    name = "pc1"

    def __init__(self):
        self.ran = []

    def run(self, command, *, timeout=None, stdin=None):
        self.ran.append(command)
        return NodeResult.done(self.name, stdout="multi-user.target\n", command=command)


def test_a_board_and_the_lab_read_the_boot_target_from_systemctl():
    for platform in (BOARD_PLATFORM, LAB_PLATFORM):
        node = FakeBoard()
        assert platform.boot_target(node).stdout == "multi-user.target\n"
        assert node.ran == ["systemctl get-default"]


def test_a_sandbox_reads_its_own_link_and_boots_systemds_default_without_one(local_cluster):
    node = local_cluster["pc1"]
    assert SANDBOX.boot_target(node).stdout == "graphical.target\n"
    link = node.local_path("/etc/systemd/system") / "default.target"
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("/lib/systemd/system/multi-user.target", link)   # leads outside the sandbox: not followed
    r = SANDBOX.boot_target(node)
    assert r.ok and r.stdout == "multi-user.target\n" and r.command == "systemctl get-default"


def test_only_a_sandbox_cannot_be_reached_at_a_new_address():
    assert BOARD_PLATFORM.why_no_cluster_network() is None and LAB_PLATFORM.why_no_cluster_network() is None
    assert SANDBOX.why_no_cluster_network() == "the local backend has no cluster network"
