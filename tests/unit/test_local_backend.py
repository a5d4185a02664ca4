"""The local backend: sandboxes, commands with the node's name, refusals, atomic writes."""

import threading
import time
from pathlib import Path

import pytest

import clusterkit
from clusterkit.backends.base import BACKUP_SUFFIX, ORIGINAL_SUFFIX
from clusterkit.errors import NodeError
from waiting import returns, wait_for


def test_connect_defaults_to_local_with_four_nodes(local_cluster):
    assert local_cluster.backend == "local"
    assert repr(local_cluster) == "<Cluster(pc: nodes=pc[0-3], primary=pc0, backend=local)>"
    assert [n.name for n in local_cluster.workers] == ["pc1", "pc2", "pc3"]


def test_hostname_is_the_nodes_name(local_cluster):
    r = local_cluster.run("hostname")
    assert r.ok and r.stdout() == {f"pc{i}": f"pc{i}" for i in range(4)}


def test_one_failing_node_does_not_hide_the_others(local_cluster):
    r = local_cluster.run('[ "$CLUSTERKIT_NODE" = pc2 ] && { echo bad >&2; exit 7; }; echo fine')
    assert list(r.failed) == ["pc2"] and r["pc2"].exit_code == 7 and r["pc2"].stderr == "bad\n"
    assert all(r[n].stdout == "fine\n" for n in ("pc0", "pc1", "pc3"))


def test_node_selection(local_cluster):
    r = local_cluster.run("true", nodes="pc[1-3]", exclude="pc2")
    assert list(r) == ["pc1", "pc3"]


def test_command_timeout_kills_and_reports(local_cluster):
    """A command that outlives its timeout is killed with its whole process group, and the row says so. The
    command would run for a minute: the run returns long before (30 s is a hang guard, not a speed check;
    ``benchmarks/bench_faults.py`` prints the figures), and nothing of it is left running."""
    r = returns(lambda: local_cluster.run(f"sleep {SLEEPER}; echo survived", nodes="pc0", timeout=0.3), 30,
                "a run with a 0.3 s timeout of a command that takes a minute")
    assert r["pc0"].status == "timeout" and "killed" in r["pc0"].error
    assert "survived" not in r["pc0"].stdout
    wait_for(lambda: not running(["sleep", SLEEPER]), 30, "the command's sleep to end with its process group")


#: The command's sleep, by an argument no other process uses.
SLEEPER = "61.37"


def running(argv: list[str]) -> list[int]:
    """Live (not zombie) processes whose command line is ``argv``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().split(b"\0")[:-1] == \
                    [a.encode() for a in argv] and (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def test_runs_at_once_with_bounded_fanout(tmp_path):
    with clusterkit.connect(backend="local", sandbox=tmp_path, fanout=2) as c:
        active, peak, lock = [0], [0], threading.Lock()

        def work(node):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.2)    # the behaviour under test: each node's work holds its slot a while, so runs overlap
            with lock:
                active[0] -= 1
        r = c.each(work)
    assert r.ok and peak[0] == 2


def test_privileged_command_is_refused_and_says_so(local_cluster):
    r = local_cluster.sudo("apt-get install -y chrony")
    assert {x.status for x in r.values()} == {"refused"}
    assert "no root" in r["pc0"].error and "apt-get install -y chrony" in r["pc0"].error


def test_atomic_write_keeps_backup_and_original(local_cluster):
    node = local_cluster["pc1"]
    assert node.write_file("/etc/hosts", b"one\n") is None
    assert node.write_file("/etc/hosts", b"two\n") == "/etc/hosts" + BACKUP_SUFFIX
    assert node.write_file("/etc/hosts", b"three\n") == "/etc/hosts" + BACKUP_SUFFIX
    assert node.read_file("/etc/hosts") == b"three\n"
    assert node.read_file("/etc/hosts" + BACKUP_SUFFIX) == b"two\n"
    assert node.read_file("/etc/hosts" + ORIGINAL_SUFFIX) == b"one\n"
    assert node.read_file("/etc/missing") is None
    # Each node has its own root.
    assert local_cluster["pc2"].read_file("/etc/hosts") is None


def test_write_preserves_mode_and_leaves_no_temp(local_cluster):
    node = local_cluster["pc0"]
    node.write_file("/etc/secret", b"a", mode=0o600)
    node.write_file("/etc/secret", b"b")
    p = node.path("/etc/secret")
    assert p.stat().st_mode & 0o777 == 0o600
    assert not [f for f in p.parent.iterdir() if f.name.endswith(".tmp")]


def test_paths_cannot_escape_the_sandbox(local_cluster):
    with pytest.raises(NodeError, match="outside the node's sandbox"):
        local_cluster["pc0"].read_file("/../../../../etc/passwd")


def test_put_get_and_read_across_nodes(local_cluster, tmp_path):
    src = tmp_path / "hello.txt"
    src.write_text("hello\n")
    assert local_cluster.put(src, "/srv/hello.txt").ok
    got = local_cluster.get("/srv/hello.txt", tmp_path / "back")
    assert got.ok and (tmp_path / "back" / "pc3" / "hello.txt").read_text() == "hello\n"
    read = local_cluster.read_file("/srv/hello.txt")
    assert {r.value for r in read.values()} == {b"hello\n"}


def test_an_exception_on_one_node_is_that_nodes_row(local_cluster):
    def boom(node):
        if node.name == "pc1":
            raise RuntimeError("only here")
        return node.name
    r = local_cluster.each(boom)
    assert r["pc1"].status == "error" and "only here" in r["pc1"].error
    assert r["pc0"].value == "pc0"


def test_hung_function_becomes_a_timeout_row(local_cluster):
    stop = threading.Event()
    r = local_cluster.each(lambda n: stop.wait(10) if n.name == "pc3" else "ok", timeout=0.2)
    stop.set()
    assert r["pc3"].status == "timeout" and r["pc0"].ok
