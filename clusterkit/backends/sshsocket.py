"""The socket under a node's SSH connection: a node that dies is noticed, and short messages leave at once."""

from __future__ import annotations

import socket

import paramiko


def tune(transport: paramiko.Transport, seconds: float) -> None:
    """Set up ``transport``'s socket once it is open: :func:`notice_a_dead_peer` within ``seconds`` (the node's
    connect timeout), and :func:`send_at_once`."""
    notice_a_dead_peer(transport, seconds)
    send_at_once(transport)


def notice_a_dead_peer(transport: paramiko.Transport, seconds: float) -> None:
    """Let the kernel end ``transport``'s socket once the node has not acknowledged anything for ``seconds``
    (its connect timeout): a board that lost power, its cable or its kernel mid-command sends no FIN, and a
    command without a timeout would otherwise wait for ever on a channel that no longer answers.

    SSH keepalives every ``seconds`` keep data in flight on an idle connection, TCP keepalive probes an idle
    socket, and ``TCP_USER_TIMEOUT`` ends the socket when what was sent stays unacknowledged that long;
    paramiko then closes every channel, and the command's row fails (see ``SSHNode._exec``). A busy node is
    not dead: its kernel acknowledges while its programs work."""
    whole = max(1, round(seconds))
    transport.set_keepalive(whole)
    sock = transport.sock
    if not isinstance(sock, socket.socket):     # a ProxyJump's channel: the jump host's connection watches
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, whole)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, whole // 3))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(seconds * 1000))


def send_at_once(transport: paramiko.Transport) -> None:
    """Send each SSH message when it is written (``TCP_NODELAY``), as OpenSSH does for its sessions.

    A command is a few short messages each way (open a channel, exec, then the exit status, EOF, close).
    With Nagle's algorithm on, a short message waits for the acknowledgement of the one before, which the
    node's kernel delays by up to 40 ms: every command took about 51 ms on the namespace lab, against 6 ms
    with this set (``benchmarks/bench_ssh_socket.py``)."""
    sock = transport.sock
    if isinstance(sock, socket.socket):           # a ProxyJump's channel has no socket of its own
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


__all__ = ["tune", "notice_a_dead_peer", "send_at_once"]
