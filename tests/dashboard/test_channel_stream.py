"""The agent over one SSH exec channel, against a real sshd on the loopback address that this test starts."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import paramiko
import pytest

from clusterkit.backends.channel import ChannelStream
from waiting import wait_for

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        pytest.skip("needs root and OpenSSH's sshd")
    host_key, user_key = tmp_path / "host_key", tmp_path / "user_key"
    for k in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)], check=True)
    (tmp_path / "authorized_keys").write_text((tmp_path / "user_key.pub").read_text())
    os.makedirs("/run/sshd", exist_ok=True)
    port = free_port()
    config = tmp_path / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile none\nUsePAM no\n"
                      f"AuthorizedKeysFile {tmp_path}/authorized_keys\nStrictModes no\n"
                      "PermitRootLogin prohibit-password\nPasswordAuthentication no\n")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())

    def connected() -> bool:
        try:
            client.connect("127.0.0.1", port=port, username="root", key_filename=str(user_key),
                           look_for_keys=False, allow_agent=False, timeout=5)
        except (OSError, paramiko.SSHException):
            return False
        return True
    try:
        wait_for(connected, 10, "the test's sshd to accept a connection")
    except AssertionError:
        proc.kill()
        raise
    client.port, client.key = port, str(user_key)
    yield client
    client.close()
    proc.send_signal(signal.SIGTERM)
    proc.wait(5)


AGENT = f"{sys.executable} -m clusterkit.agent --node pc1 --interval 0.2"


def test_agent_over_one_channel(sshd):
    stream = ChannelStream.over(sshd, AGENT)
    first = json.loads(stream.readline())
    assert first["node"] == "pc1" and "cpu" in first and stream.reason is None
    stream.send('{"pattern": "larson"}')
    got = json.loads(stream.readline())
    while got["pattern"] != "larson":
        got = json.loads(stream.readline())
    assert got["leds"].count("#ff0000") == 1
    stream.close(timeout=5)                                   # end of input: the agent clears and exits
    rest = [json.loads(l) for l in iter(stream.readline, "")]
    assert rest and rest[-1]["bye"] == "input closed" and rest[-1]["leds"] == ["#000000"] * 8
    assert stream.reason == "exited with status 0"


def test_an_agent_killed_on_the_node_ends_the_stream_with_a_reason(sshd):
    stream = ChannelStream(sshd.get_transport(), f"sh -c 'echo $$; exec {AGENT}'")
    pid = int(stream.readline())          # the agent's own pid (exec keeps it)
    json.loads(stream.readline())
    os.kill(pid, signal.SIGKILL)          # the sshd runs on this machine, so the agent is ours to kill
    list(iter(stream.readline, ""))
    assert stream.reason is not None and "status 0" not in stream.reason
    stream.close()


def test_over_a_fabric_connection(sshd):
    import fabric

    with fabric.Connection("127.0.0.1", user="root", port=sshd.port,
                           connect_kwargs={"key_filename": sshd.key, "look_for_keys": False,
                                           "allow_agent": False}) as conn:
        conn.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        stream = ChannelStream.over(conn, AGENT)
        assert json.loads(stream.readline())["node"] == "pc1"
        stream.close(timeout=5)
        assert [json.loads(l) for l in iter(stream.readline, "")][-1]["bye"] == "input closed"
