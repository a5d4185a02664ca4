"""Why clocks matter, shown for real: a TLS handshake fails when the client's clock is behind.

A TLS server (``openssl s_server``) runs on the primary with a certificate
that is valid *from now*. A client whose clock is two years behind refuses the
handshake: "certificate is not yet valid". The wrong clock is openssl's own
``-attime`` (the client's clock plus the offset, the time its verification then
uses), not libfaketime's preloaded clock: under ``faketime -f -2y`` one handshake
in a notebook's run on a virtual board verified as if the clock were right, and
a demonstration must not depend on a library that can silently not apply.
The virtual boards' tests (``tests/vmlab``) show the same with a board's real clock.
The same client with the right clock succeeds. Everything here really runs:
on the local backend the server and the client are processes on this machine
(on 127.0.0.1); on the lab and real boards, the server on the primary and the
client on a worker.
"""

from __future__ import annotations

import datetime
import html
import ipaddress
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .errors import ClusterkitError
from .results import html_block, html_table

if TYPE_CHECKING:
    from .cluster import Cluster

#: Where the demo keeps its files, relative to the login's home on each node.
DIR = ".clusterkit-tls"
#: Seconds the server lives at most (it is stopped at the end anyway; this bounds a forgotten one).
SERVER_LIFETIME = 120
BEHIND = "-2y"


def make_certificate(name: str, addresses: list[str]) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``name`` valid from this second for 30 days, and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    alt = [x509.DNSName(name)] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


@dataclass(frozen=True)
class Attempt:
    """One handshake: from which node, with which clock, and how it went."""

    client: str
    clock: str            #: "right" or the offset of the client's clock, such as "-2y"
    ok: bool
    verdict: str          #: "Verification: OK" or openssl's verify error
    output: str = ""


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def offset_seconds(offset: str) -> int:
    """``-2y``, ``+30d``, ``-90m``: a clock's offset in seconds (the units of faketime's ``-f``)."""
    m = re.fullmatch(r"([-+])(\d+)([smhdy])", offset)
    if not m:
        raise ClusterkitError(f"{offset!r} is not a clock offset such as -2y or +30d", field="behind")
    return (-1 if m.group(1) == "-" else 1) * int(m.group(2)) * UNITS[m.group(3)]


class TlsDemo:
    """The server on ``server`` (the primary), clients on ``client`` (a worker; the primary on the local backend)."""

    def __init__(self, cluster: Cluster, *, server: str | None = None, client: str | None = None,
                 port: int | None = None):
        self.cluster = cluster
        inv = cluster.inventory
        self.server = server or inv.primary
        self.client = client or (inv.workers[0] if inv.workers else self.server)
        for fld, n in (("server", self.server), ("client", self.client)):
            if n not in inv.nodes:
                raise ClusterkitError(f"not a node of this cluster ({inv.nodeset})", node=n, field=fld)
        server_node = cluster[self.server]
        self.reach = server_node.platform.reach_server(server_node, port=port, usual=8443)
        self.host, self.port = self.reach.host, self.reach.port
        self.pid: str | None = None
        self.attempts: list[Attempt] = []

    def start(self) -> "TlsDemo":
        """Make a certificate valid from now, put it on the nodes, and start the server on the primary."""
        addresses = list(dict.fromkeys([self.host, "127.0.0.1"]))   # and a client on the server itself
        cert, key = make_certificate(self.server, addresses)
        srv = self.cluster[self.server]
        for node in {self.server, self.client}:
            self.cluster[node].write_file(f"{DIR}/cert.pem", cert, mode=0o644, backup=False)
        srv.write_file(f"{DIR}/key.pem", key, mode=0o600, backup=False)
        # `cd` apart from the background command: `a && b &` backgrounds a subshell that keeps the
        # channel's output open (bash, the login shell over SSH, does not exec the last command).
        cmd = (f"cd {DIR} || exit 1; setsid timeout {SERVER_LIFETIME} openssl s_server -quiet -www -accept {self.port} "
               f"-cert cert.pem -key key.pem > server.log 2>&1 < /dev/null & echo $!")
        r = srv.run(cmd, timeout=30)
        if not r.ok or not r.stdout.strip().isdigit():
            raise ClusterkitError(f"the TLS server did not start: {r.summary()}", node=self.server, field="server")
        self.pid = r.stdout.strip()
        wait = (f"for i in $(seq 50); do (exec 3<>/dev/tcp/{self.host}/{self.port}) 2>/dev/null && exit 0; "
                "sleep 0.1; done; exit 1")
        if not srv.run(f"bash -c {shlex.quote(wait)}", timeout=30).ok:
            self.stop()
            raise ClusterkitError(f"the TLS server does not answer on port {self.port}", node=self.server, field="port")
        return self

    def connect(self, *, behind: str | None = None) -> Attempt:
        """One handshake from the client, with its clock off by ``behind`` (e.g. '-2y', '+1y') or right."""
        client = (f"openssl s_client -connect {self.host}:{self.port} -servername {self.server} "
                  f"-CAfile {DIR}/cert.pem -verify_return_error -brief < /dev/null")
        if behind:
            client += f" -attime $(( $(date +%s) {offset_seconds(behind):+d} ))"
        r = self.cluster[self.client].run(f"timeout 20 {client}", timeout=30)
        out = r.stdout + r.stderr
        m = re.search(r"verify error:num=\d+:([^\n]+)", out) or re.search(r"(certificate is not yet valid|"
                                                                           r"certificate has expired)", out)
        ok = r.ok and "Verification: OK" in out
        verdict = "Verification: OK" if ok else (m.group(1).strip() if m else (out.strip().splitlines() or
                                                                                 [r.summary()])[-1])
        attempt = Attempt(self.client, behind or "right", ok, verdict, out[-2000:])
        self.attempts.append(attempt)
        return attempt

    def stop(self) -> None:
        """Stop the server and remove the key."""
        if self.pid:
            self.cluster[self.server].run(f"kill {self.pid} 2>/dev/null; rm -f {DIR}/key.pem", timeout=30)
            self.pid = None

    close = stop

    def __enter__(self) -> "TlsDemo":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<TlsDemo server={self.server}:{self.port} client={self.client} {len(self.attempts)} handshakes>"

    def _repr_html_(self) -> str:
        rows = [([html.escape(a.client), html.escape(a.clock), "ok" if a.ok else "refused", html.escape(a.verdict)], a.ok)
                for a in self.attempts]
        return html_block(f"<b>TLS server {html.escape(self.reach.where)}, port {self.port}</b>, "
                          "certificate valid from when it was made"
                          + html_table(["client", "client's clock", "handshake", "openssl says"], rows))

