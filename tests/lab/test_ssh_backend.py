"""The SSH backend against lab nodes (a real OpenSSH sshd in each): run, sudo, files, host keys, streams.

Uses the session lab of four nodes (``conftest.lab``); the nodes are reached
through clusterkit's own SSH code, as on real boards.
"""

from __future__ import annotations

import posixpath
import shutil
import socket
import subprocess
import threading

import pytest

import clusterkit
from clusterkit.backends import hostkeys
from clusterkit.backends.ssh import Password, SSHNode
from clusterkit.lab.image import FRESH, WORKSHOP_PASSWORD
from labnames import LAB_MARKS, lab_name
from waiting import returns, wait_for

TLS = lab_name("tls")  #: the lab these tests run on

pytestmark = LAB_MARKS


@pytest.fixture
def cluster(lab):
    with lab.connect(connect_timeout=3) as c:
        yield c


def test_run_reaches_every_node_as_pi(lab, cluster):
    r = cluster.run("echo $USER; cat /proc/sys/kernel/hostname")
    assert r.ok and len(r) == 4
    assert {x.stdout for x in r.values()} == {f"{FRESH.user}\n{FRESH.hostname}\n"}


def test_exit_codes_stdout_stderr_and_stdin(cluster):
    r = cluster[TLS + "0"].run("echo out; echo err >&2; exit 3")
    assert (r.status, r.exit_code, r.stdout, r.stderr) == ("failed", 3, "out\n", "err\n")
    assert cluster[TLS + "1"].run("tr a-z A-Z", stdin="hello\n").stdout == "HELLO\n"


def test_sudo_is_root_and_keeps_stdin_for_the_command(cluster):
    r = cluster.sudo("id -u; cat", timeout=20)
    assert r.ok, r.text()
    assert {x.stdout for x in r.values()} == {"0\n"}
    assert cluster[TLS + "2"].sudo("cat", stdin="the command's input\n").stdout == "the command's input\n"


def test_the_sudo_password_is_never_in_any_output(cluster):
    r = cluster.sudo("ps -eo args; cat /proc/self/environ | tr '\\0' '\\n'")
    text = r.text() + "".join(x.stdout + x.stderr for x in r.values())
    assert r.ok and WORKSHOP_PASSWORD not in text
    assert WORKSHOP_PASSWORD not in repr(cluster[TLS + "0"].password) + repr(cluster[TLS + "0"])


def test_wrong_sudo_password_is_refused_by_name(lab):
    spec = lab.inventory()[TLS + "3"]
    node = SSHNode(spec, known_hosts=lab.known_hosts_path, password=Password(WORKSHOP_PASSWORD), ssh_config=False)
    try:
        node.transport()                                         # logged in with the right password
        node.password = Password("not-the-password", prompt=False)
        r = node.sudo("true")
    finally:
        node.close()
    assert r.status == "refused" and r.node == TLS + "3"
    assert "password was refused" in r.error and "not-the-password" not in r.error


def test_atomic_write_keeps_backup_and_original_and_mode(cluster):
    n = cluster[TLS + "1"]
    path = "/etc/clusterkit-test.conf"
    assert n.write_file(path, b"one\n", privileged=True, mode=0o640) is None
    assert n.write_file(path, b"two\n", privileged=True) == path + ".clusterkit.bak"
    assert n.write_file(path, b"three\n", privileged=True) == path + ".clusterkit.bak"
    assert n.read_file(path, privileged=True) == b"three\n"
    assert n.read_file(path + ".clusterkit.bak", privileged=True) == b"two\n"
    assert n.read_file(path + ".clusterkit.orig", privileged=True) == b"one\n"
    assert n.sudo(f"stat -c '%a %U' {path}").stdout == "640 root\n"
    leftovers = n.sudo("ls -a /etc | grep -c clusterkit-.*tmp || true").stdout.strip()
    assert leftovers == "0"
    assert n.read_file("/etc/no-such-file") is None


def test_a_cut_write_leaves_the_old_file(cluster, lab):
    """The connection dies half-way through a large write: the file is still the old one, no temporary left."""
    name = TLS + "2"
    n = cluster[name]
    path = "/home/pi/kept.bin"
    n.write_file(path, b"old\n")
    big = b"x" * (64 << 20)
    box = {}
    writer = threading.Thread(target=lambda: box.setdefault("r", _catch(lambda: n.write_file(path, big))))
    writer.start()
    # The cut comes once the node has the first bytes of the write (its temporary file beside the target),
    # looked at from inside the node, not over this connection.
    sizes = wait_for(lambda: _temp_sizes(lab, name, path), 60, f"the first bytes of the write on {name}")
    n.close()                       # pull the cable, as far as this write is concerned
    writer.join(60)
    assert not writer.is_alive(), "the write hangs after its connection was closed"
    assert max(sizes) < len(big), "the write had finished before the cut: nothing was tested"
    assert isinstance(box["r"], Exception)
    assert n.read_file(path) == b"old\n"
    assert n.run("ls -a /home/pi | grep -c 'clusterkit-.*tmp' || true").stdout.strip() == "0"


def _temp_sizes(lab, node: str, path: str) -> list[int]:
    """Sizes of the write's temporary files beside ``path`` on ``node`` that have bytes in them."""
    head, tail = posixpath.split(path)
    out = lab.exec(node, f"stat -c %s {head}/.{tail}.clusterkit-*.tmp 2>/dev/null || true").stdout
    return [int(x) for x in out.split() if int(x) > 0]


def _catch(fn):
    try:
        return fn()
    except Exception as e:
        return e


def test_put_and_get_copy_bytes_exactly(cluster, tmp_path):
    blob = bytes(range(256)) * 4096     # 1 MiB with every byte value
    src = tmp_path / "blob.bin"
    src.write_bytes(blob)
    assert cluster.put(src, "/home/pi/blob.bin", mode=0o600).ok
    r = cluster.get("/home/pi/blob.bin", tmp_path / "back")
    assert r.ok
    for name in cluster.nodes:
        assert (tmp_path / "back" / name / "blob.bin").read_bytes() == blob
    assert {x.stdout for x in cluster.run("stat -c %a blob.bin").values()} == {"600\n"}


def test_connections_are_kept_between_calls(cluster):
    cluster.run("true")
    transports = {n.name: n.transport() for n in cluster}
    cluster.run("true")
    assert all(n.transport() is transports[n.name] for n in cluster)


def test_the_connection_sends_short_messages_at_once_and_notices_a_dead_node(cluster):
    """The socket under each node's connection: TCP_NODELAY, as OpenSSH sets it (without it a command took
    about 51 ms on this lab instead of 6: Nagle's algorithm waited on the node's delayed ACK), and the
    kernel's keepalive and user timeout at the connect timeout (a dead node fails its row)."""
    cluster.run("true")
    for node in cluster:
        sock = node.transport().sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1, node.name
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1, node.name
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 3000, node.name


def test_command_timeout_stops_the_command(cluster):
    # The command would take two minutes: a run that returns within one did stop it (a hang guard, not a speed check).
    r = returns(lambda: cluster.run("sleep 120; echo never", timeout=1), 60, "a run with a 1 s command timeout")
    assert all(x.status == "timeout" and "never" not in x.stdout for x in r.values())
    assert cluster.run("echo still here").ok   # the kept connections still work


def test_stream_runs_over_one_channel(cluster):
    s = cluster[TLS + "0"].open_stream("while read l; do echo got $l; done")
    try:
        s.send("a")
        s.send("b")
        assert [s.readline(), s.readline()] == ["got a\n", "got b\n"]
    finally:
        s.close()
    assert s.readline() == "" and s.reason == "exited with status 0"


def test_unknown_host_key_is_refused_until_trusted(lab, tmp_path):
    """Trust on first use: an empty known_hosts refuses every node, naming it; after trust they answer."""
    known = tmp_path / "known_hosts"
    inv = lab.inventory()
    with clusterkit.Cluster(inv, {s.name: SSHNode(s, known_hosts=known, password=Password(inv.password),
                                                  ssh_config=False) for s in inv},
                            backend="ssh", connect_timeout=3) as c:
        r = c.run("true")
        assert not r.ok and all("not trusted yet" in x.error for x in r.values())
        table = c.host_keys()
        assert [k.state for k in table] == ["new"] * 4
        assert all(k.fingerprint.startswith("SHA256:") for k in table)
        assert len(c.trust_host_keys()) == 4
        assert [k.state for k in c.host_keys()] == ["trusted"] * 4
        assert c.run("true").ok
    # The keys recorded are the ones the lab made for its nodes.
    assert {l.split()[2] for l in known.read_text().splitlines()} == \
        {l.split()[2] for l in lab.known_hosts_path.read_text().splitlines()}


def test_changed_host_key_is_refused_naming_the_node(lab, tmp_path):
    inv = lab.inventory()
    spec = inv[TLS + "2"]
    fake = tmp_path / "fake"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(fake)], check=True)
    known = tmp_path / "known_hosts"
    known.write_text(f"{spec.host} {' '.join((tmp_path / 'fake.pub').read_text().split()[:2])}\n")
    before = known.read_text()
    node = SSHNode(spec, known_hosts=known, password=Password(inv.password), ssh_config=False, connect_timeout=3)
    with clusterkit.Cluster(inv, {**{s.name: None for s in []}, spec.name: node}, backend="ssh",
                            connect_timeout=3) as c:
        r = c.run("true", nodes=TLS + "2")
        row = r[TLS + "2"]
        assert row.status == "error" and "CHANGED" in row.error and TLS + "2" in r.text()
        table = c.host_keys(nodes=TLS + "2")
        assert table[0].state == "changed"
        assert len(c.trust_host_keys(nodes=TLS + "2")) == 0          # never replaced by trust
    assert known.read_text() == before


def test_password_is_asked_once_and_never_shown(monkeypatch):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "s3cret")
    monkeypatch.delenv("CLUSTERKIT_SUDO_PASSWORD", raising=False)
    p = Password()
    assert p.known() is None
    assert p.get("sudo password") == "s3cret" and p.get("again") == "s3cret"
    assert len(asked) == 1 and "s3cret" not in repr(p)


def test_the_openssh_client_agrees_with_the_pinned_keys(lab):
    """The lab's known_hosts (what the SSH backend pins) is what OpenSSH's own client accepts."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("no ssh-keygen")
    for b in lab.boards.values():
        out = subprocess.run(["ssh-keygen", "-F", b.host, "-f", str(lab.known_hosts_path)], capture_output=True,
                             text=True).stdout
        assert b.host in out
    known = hostkeys.load(lab.known_hosts_path)
    assert all(known.lookup(b.host) for b in lab.boards.values())
