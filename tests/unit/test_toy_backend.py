"""A fourth kind of node, registered by this test alone: one module's worth of code, one registry entry.

The toy's nodes are folders of this machine whose commands run as subprocesses there (their own
``systemctl`` and ``hostname`` on the PATH, like an image's); in their own world they read as root.
The node says nothing of what it is (no ``privileged``, ``remote``, ``traits`` or ``sandbox``): its
Platform is all a step asks, and it is its own: a setup step's changes are made in the node's folder (its files written,
its commands listed, never run on this machine), the image carries its packages, services are
started by hand, there is no NFS server, and its clock is not its own to set. Through it
go ``connect``, ``Cluster.run``, the plan and apply of Users, Time and NFS, and the node agent, with
nothing in clusterkit told about the toy but the registry.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import clusterkit
from clusterkit import backends
from clusterkit import steps
from clusterkit.backends.base import Node
from clusterkit.backends.local import ProcessStream, run_process
from clusterkit.backends.platform import Do, Platform
from clusterkit.backends.sandboxplatform import SandboxPlatform
from clusterkit.dashboard.feed import AgentFeed, agent_command
from clusterkit.errors import NodeError
from clusterkit.inventory import parse_inventory
from clusterkit.results import NodeResult
from waiting import wait_for

try:
    from clusterkit.steps import BootTarget
except ImportError:  # before BootTarget moved to the steps
    from clusterkit.ops.boot import BootTarget

#: The toy image's own programs: what a step asks a node, answered from the node's folder.
SYSTEMCTL = """#!/bin/sh
link="$TOY_ROOT/etc/systemd/system/default.target"
case "$1" in
  get-default) if [ -L "$link" ]; then basename "$(readlink "$link")"; else echo graphical.target; fi ;;
  *) echo "toy systemctl: $1 is not here" >&2; exit 1 ;;
esac
"""
TOY_INVENTORY = "name: toy\nnodes: toy[0-2]\nbackend: toy\n"
HOSTNAME = '#!/bin/sh\ncat "$TOY_ROOT/etc/hostname"\n'
#: The toy image's accounts: root, and the admin group a person joins.
ACCOUNTS = (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", "root:x:0:\nsudo:x:27:\n"),
            ("etc/shadow", "root:$6$toy$notahash:19000:0:99999:7:::\n"), ("etc/gshadow", "root:*::\nsudo:*::\n"))


class ToyPlatform(SandboxPlatform):
    """The toy's ways: a sandbox's (changes written into its folder, commands listed, never run here), but
    services started by hand, no NFS server, and a clock it may not set (chronyd measures and serves with -x)."""

    note = "toy: apply writes these files into each node's folder and lists the commands; it runs none of them"

    def keep_time(self, *, conf, flags, changed):
        return [Do(f"chronyd -x -f {conf}", "started by hand: the toy's clock is not its own to set")] if changed else []

    def time_note(self):
        return "toy: chronyd runs with -x, started by hand"

    def why_no_nfs_server(self):
        return "the toy image has no NFS server"

    def why_no_cluster_network(self):
        return "toy nodes have no network between them"

    boot_target = Platform.boot_target   # its image's own systemctl answers, from the node's folder


class ToyNode(Node):
    backend = "toy"
    platform = ToyPlatform()

    def __init__(self, spec, *, root: Path):
        super().__init__(spec)
        self.root = root
        for name, text in (("usr/bin/systemctl", SYSTEMCTL), ("usr/bin/hostname", HOSTNAME),
                           ("etc/hostname", spec.name + "\n"), *ACCOUNTS):
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            target.chmod(0o755)

    def env(self) -> dict[str, str]:
        return dict(os.environ, TOY_ROOT=str(self.root), CLUSTERKIT_NODE=self.name,
                    PATH=f"{self.root}/usr/bin:{os.environ['PATH']}")

    def run(self, command, *, timeout=None, stdin=None) -> NodeResult:
        return run_process(["/bin/sh", "-c", command], node=self.name, command=command, timeout=timeout,
                           stdin=stdin, env=self.env(), cwd=self.root)

    sudo = run

    def _file(self, path: str) -> Path:
        if not path.startswith("/"):
            raise NodeError("toy paths are absolute", node=self.name, field="path")
        return self.root / path.lstrip("/")

    def read_file(self, path, *, privileged=False):
        f = self._file(path)
        return f.read_bytes() if f.exists() else None

    def write_file(self, path, data, *, mode=None, privileged=False, backup=True):
        f = self._file(path)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        return None

    def open_stream(self, command):
        return ProcessStream(["/bin/sh", "-c", f"exec {command}"], env=self.env(), cwd=self.root)


class ToyBackend(backends.Backend):
    name = "toy"
    on_this_machine = True
    agent_scope = "node"
    agent_leds = "virtual"

    def make_nodes(self, inventory, *, connect_timeout, sandbox=None):
        return {s.name: ToyNode(s, root=sandbox / "toy" / s.name) for s in inventory}


@pytest.fixture
def toy(tmp_path):
    backends.register(ToyBackend())
    inv = parse_inventory(TOY_INVENTORY, source="toy.yaml")
    with clusterkit.connect(inv, sandbox=tmp_path) as cluster:
        yield cluster
    backends.unregister("toy")


def test_the_registry_gives_the_toy_its_name_everywhere(toy):
    assert "toy" in backends.names() and backends.get("toy") is toy.kind
    assert toy.backend == "toy" and "backend=toy" in repr(toy)
    assert toy.python == backends.get("toy").python(toy.inventory)


def test_cluster_run_goes_through_the_toy(toy):
    result = toy.run("hostname")
    assert result.ok
    assert {n: r.stdout.strip() for n, r in result.items()} == {"toy0": "toy0", "toy1": "toy1", "toy2": "toy2"}


def test_a_step_plans_through_the_toy(toy):
    plan = BootTarget(toy).plan()
    assert plan["toy0"].empty                       # the primary keeps its desktop
    assert not plan["toy1"].empty and not plan["toy2"].empty
    assert "systemctl set-default multi-user.target" in plan.text() and "toy backend" in plan.text()


def test_users_plan_and_apply_through_the_toy(toy):
    users = steps.Users(toy, name="alice", uid=1000, rename=None)
    plan = users.plan()
    assert "useradd -m -u 1000 -g 1000" in plan.text() and not plan["toy1"].empty
    result = users.apply(plan, progress=False)
    assert result.ok
    assert any(c.startswith("useradd -m -u 1000 -g 1000") for c in result["toy1"].value.would_run)
    assert "alice:x:1000:1000:" in (toy["toy1"].root / "etc/passwd").read_text()
    ids = users.ids()      # nothing runs live on the toy: its own account files answer, not this machine's
    assert ids.ok and {r.stdout.split()[0] for r in ids.values()} == {"uid=1000(alice)"}


def test_time_plan_and_apply_through_the_toy_platform(toy):
    time = steps.TimeSync(toy, allow="10.0.0.0/24")
    plan = time.plan()
    text = plan.text()
    assert "chronyd -x -f /etc/chrony/chrony.conf" in text and "toy: chronyd runs with -x" in text
    assert "toy: apply writes these files" in text
    assert "apt-get" not in text and "systemctl" not in text      # its image has chrony; no init system runs it
    result = time.apply(plan, progress=False)
    assert result.ok
    assert "allow 10.0.0.0/24" in (toy["toy0"].root / "etc/chrony/chrony.conf").read_text()
    assert result["toy2"].value.would_run == ["chronyd -x -f /etc/chrony/chrony.conf"]


def test_nfs_is_refused_in_one_line_naming_the_node_and_why(toy):
    with pytest.raises(clusterkit.ClusterkitError) as caught:
        steps.Nfs(toy, clients="10.0.0.0/24").plan()
    assert str(caught.value).splitlines() == [
        "node toy0, server: cannot serve the shared folder: the toy image has no NFS server"]


def test_logins_between_toy_nodes_are_not_tried_and_say_why(toy):
    table = steps.Keys(toy, user="alice").logins()
    assert {cell for row in table.rows.values() for cell in row.values()} == {"not run"}
    assert table.note == "not run: toy nodes have no network between them (nothing was sent)"


def test_the_agent_runs_through_the_toy(toy):
    node = toy["toy1"]
    command = agent_command(node, python=toy.python, interval=0.2)
    assert "--scope node" in command
    feed = AgentFeed(node, command=command).start()
    try:
        wait_for(lambda: feed.state.seq >= 2, 60, lambda: f"two samples through the toy ({feed.state.reason})")
    finally:
        feed.close()
    assert feed.state.sample.node == "toy1"


def test_another_backend_cannot_bind_from_the_host(toy):
    with pytest.raises(clusterkit.ClusterkitError, match="not supported on the toy backend"):
        toy.kind.host_bind(toy.inventory, source="toy0", path="/srv", target_node="toy1", target="/mnt")


def test_an_unregistered_backend_is_refused_in_one_line(tmp_path):
    with pytest.raises(clusterkit.InventoryError, match="'toy' is not a backend; choose one of auto, local, lab, ssh"):
        parse_inventory(TOY_INVENTORY, source="toy.yaml")
