"""What the clock table, the checks, the TLS demo, MPI, Slurm and power ask a node's Platform, on each Platform.

A board's Platform (``BOARD_PLATFORM``) is driven with a node that records its commands; the sandbox's with a
real local node in a temporary folder; the namespace lab's (``LAB_PLATFORM``) like a board's where it does the same.
"""

from __future__ import annotations

import socket

import pytest

import clusterkit
from clusterkit import clock, ops, tlsdemo
from clusterkit.backends.base import Node
from clusterkit.backends.local import LocalNode
from clusterkit.backends.platform import BOARD_PLATFORM, POWER_COMMANDS, Reach
from clusterkit.backends.sandboxplatform import SANDBOX
from clusterkit.cluster import Cluster
from clusterkit.compute import mpi, slurm
from clusterkit.inventory import parse_inventory
from clusterkit.lab.platform import LAB_PLATFORM
from clusterkit.results import NodeResult

INVENTORY = "name: boards\nnodes: pc[0-1]\nprimary: pc0\nnetwork: 10.0.0.0/24\n"   # pc0 at 10.0.0.1

TRACKING = """Reference ID    : 0A000001 (10.0.0.1)
Stratum         : 4
System time     : 0.000012000 seconds fast of NTP time
Leap status     : Normal
--- sources
^* 10.0.0.1                      3   6   377    12   +10us[ +12us] +/-  200us
"""


class Recorded(Node):
    """A board that answers from a script of replies and records every command (nothing runs)."""

    backend = "ssh"

    def __init__(self, spec, *, replies: dict[str, NodeResult] | None = None, platform=BOARD_PLATFORM):
        super().__init__(spec)
        self.replies = replies or {}
        self.platform = platform
        self.commands: list[tuple[str, str]] = []

    def _answer(self, how: str, command: str) -> NodeResult:
        self.commands.append((how, command))
        return self.replies.get(command, NodeResult.from_exit(self.name, 0, "", "", 0.0, command=command))

    def run(self, command, *, timeout=None, stdin=None):
        return self._answer("run", command)

    def sudo(self, command, *, timeout=None, stdin=None):
        return self._answer("sudo", command)

    def read_file(self, path, *, privileged=False):
        return None

    def write_file(self, path, data, *, mode=None, privileged=False, backup=True):
        return None


@pytest.fixture
def boards():
    inv = parse_inventory(INVENTORY, source="boards.yaml")
    nodes = {s.name: Recorded(s, replies={clock.TRACKING: NodeResult.from_exit(s.name, 0, TRACKING, "", 0.0)})
             for s in inv}
    return Cluster(inv, nodes, backend="ssh")


@pytest.fixture
def sandbox_node(tmp_path):
    spec = parse_inventory(INVENTORY, source="boards.yaml")["pc0"]
    return LocalNode(spec, root=tmp_path / "pc0")


# ------------------------------------------------------------ clock
def test_a_boards_clock_is_asked_and_a_sandboxs_is_not(boards, local_cluster):
    assert BOARD_PLATFORM.why_clock_unread() is None and LAB_PLATFORM.why_clock_unread() is None
    s = clock.skew(boards)
    assert s.measured == {"pc0": pytest.approx(12e-6), "pc1": pytest.approx(12e-6)} and s.note == ""
    assert all(c.kept and c.synced for c in s.clocks.values())
    local = clock.skew(local_cluster)
    assert [c.note for c in local.clocks.values()] == [SANDBOX.why_clock_unread()] * 4
    assert not any(c.kept for c in local.clocks.values()) and local.note == SANDBOX.clock_note()


def test_the_lab_says_its_clocks_are_the_hosts():
    assert BOARD_PLATFORM.clock_note() is None
    assert "chronyd -x" in LAB_PLATFORM.clock_note() and "no time service" in SANDBOX.clock_note()


def test_wait_for_sync_waits_only_for_clocks_a_service_keeps(boards):
    late = NodeResult.from_exit("pc1", 0, TRACKING.replace("Normal", "Not synchronised"), "", 0.0)
    boards["pc1"].replies[clock.TRACKING] = late
    s = clock.wait_for_sync(boards, timeout=0.2, interval=0.05)
    assert "not synchronised within 0.2 s: pc1" in s.note


# ------------------------------------------------------------ checks
def test_facts_and_sensors_are_a_sandboxs_machine(sandbox_node):
    assert BOARD_PLATFORM.facts_note() is None and LAB_PLATFORM.facts_note() is None
    assert BOARD_PLATFORM.sensor_note() is None and LAB_PLATFORM.sensor_note() is None
    assert "every node is this machine" in SANDBOX.facts_note() and "sensor" in SANDBOX.sensor_note()
    assert BOARD_PLATFORM.look_up(sandbox_node, ["pc0"]) is None
    assert SANDBOX.look_up(sandbox_node, ["pc0", "pc1"]) == "FAIL: pc0,pc1"
    sandbox_node.write_file("/etc/hosts", b"# cluster\n10.0.0.1 pc0\n10.0.0.2 pc1 pc1.lan\n")
    assert SANDBOX.look_up(sandbox_node, ["pc0", "pc1"]) == "ok (/etc/hosts)"


def test_test_all_pings_from_a_boards_primary_only(boards):
    table = ops.test_all(boards)
    pinged = [c for how, c in boards["pc0"].commands if "TARGETS=" in c]
    assert len(pinged) == 1 and not any("TARGETS=" in c for _, c in boards["pc1"].commands)
    assert table.note.startswith("pinged from the primary, pc0")


# ------------------------------------------------------------ TLS demo
def test_a_server_is_reached_at_the_nodes_address_or_on_this_machine(boards, sandbox_node):
    assert BOARD_PLATFORM.reach_server(boards["pc1"], port=None, usual=8443) == Reach("10.0.0.2", 8443, "on pc1")
    assert LAB_PLATFORM.reach_server(boards["pc0"], port=9000, usual=8443) == Reach("10.0.0.1", 9000, "on pc0")
    here = SANDBOX.reach_server(sandbox_node, port=None, usual=8443)
    assert here.host == "127.0.0.1" and here.where == "on this machine (local backend)"
    with socket.socket() as s:    # the port it chose is free
        s.bind(("127.0.0.1", here.port))
    assert SANDBOX.reach_server(sandbox_node, port=9000, usual=8443).port == 9000
    demo = tlsdemo.TlsDemo(boards)
    assert (demo.host, demo.port) == ("10.0.0.1", 8443) and "on pc0" in demo._repr_html_()


# ------------------------------------------------------------ MPI and Slurm
def test_a_folder_is_written_on_the_node_or_in_the_sandbox(boards, sandbox_node):
    node = boards["pc0"]
    assert BOARD_PLATFORM.writable_folder(node, "/shared") == "/shared"
    node.replies["test -d /shared -a -w /shared"] = NodeResult.from_exit("pc0", 1, "", "", 0.0)
    assert BOARD_PLATFORM.writable_folder(node, "/shared") is None
    with pytest.raises(clusterkit.ClusterkitError, match="share it first"):
        mpi.place_program(boards, "x.py", "print(1)\n", folder="/shared")
    where = SANDBOX.writable_folder(sandbox_node, "/shared")
    assert where == str(sandbox_node.local_path("/shared")) and sandbox_node.local_path("/shared").is_dir()


def test_a_program_placed_in_a_sandbox_is_run_from_its_copy_here(local_cluster):
    path = mpi.place_program(local_cluster, "x.py", "print(1)\n")
    assert path == str(local_cluster.primary.local_path(f"{mpi.SHARED}/x.py"))
    assert open(path).read() == "print(1)\n"


def test_ranks_start_here_for_sandboxes_and_over_ssh_for_boards(local_cluster):
    assert BOARD_PLATFORM.start_ranks(mpi.RankWays) is mpi.RankWays.over_ssh
    assert LAB_PLATFORM.start_ranks(mpi.RankWays) is mpi.RankWays.over_ssh
    assert SANDBOX.start_ranks(mpi.RankWays) is mpi.RankWays.here
    argv = mpi.command_for(local_cluster, ["/shared/pi.py"]).argv
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "CLUSTERKIT_NODE"] == ["pc0", "pc1", "pc2", "pc3"]


def test_daemons_run_on_boards_and_the_lab_but_not_in_a_sandbox(boards, local_cluster):
    assert BOARD_PLATFORM.why_no_daemons() is None and LAB_PLATFORM.why_no_daemons() is None
    assert "no root" in SANDBOX.why_no_daemons()
    assert slurm.runs_slurm(boards) and not slurm.runs_slurm(local_cluster)
    assert slurm.run(local_cluster, "sinfo")["pc0"].status == "refused"


# ------------------------------------------------------------ power
@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM], ids=["board", "lab"])
@pytest.mark.parametrize("action", ["poweroff", "reboot"])
def test_a_board_and_a_lab_node_power_off_with_their_own_command(boards, platform, action):
    node = boards["pc1"]
    assert platform.power(node, action, timeout=5).ok
    assert node.commands == [("sudo", POWER_COMMANDS[action])]


def test_a_sandbox_is_never_switched_off(sandbox_node, local_cluster):
    row = SANDBOX.power(sandbox_node, "poweroff", timeout=5)
    assert row.status == "refused" and "sync; poweroff" in row.error
    report = ops.stop_all(local_cluster, confirm=True, progress=False)
    assert [s.now for s in report.steps] == ["still up"] * 4 and not any(s.down for s in report.steps)


# ------------------------------------------------------------ what a node has, with defaults
def test_a_node_without_a_connection_has_no_connect_timeout_and_no_host_keys(sandbox_node, local_cluster):
    assert sandbox_node.connect_timeout == 0.0 and sandbox_node.known_hosts is None
    assert sandbox_node.identity is None and local_cluster.groups == {}
    with pytest.raises(clusterkit.ClusterkitError, match="no SSH host keys"):
        local_cluster.host_keys()
