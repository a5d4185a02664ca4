"""Notebook 05: the primary as the cluster's time server (chrony), the workers following it.

The primary serves the cluster subnet (``allow``) and keeps serving with no
internet (``local stratum``): the cluster stays consistent with itself even
where no NTP server can be reached. Workers follow the primary (``server …
iburst``) and may step their clock during the first updates (``makestep``).
A worker asks the primary at least every ``2**MAXPOLL`` seconds, also while
it does not answer: chronyd lengthens its polling interval while a source is
silent (up to 1024 s by default), so a worker powered before its primary,
as a case unpacked in a hurry is, would otherwise wait many minutes after the
primary serves before it asks again, its clock wrong all the while.
Every rendered configuration is parsed by ``chronyd -p`` (which only prints it
and exits) and by our own checks for what chronyd accepts but means nothing
(``allow 10.0.0.0/33``).

On Debian and Raspberry Pi OS, chrony replaces systemd-timesyncd (the
packages conflict). How chrony is installed, started and kept is the node's
platform's (:meth:`~clusterkit.backends.platform.Platform.keep_time`): on a board
it sets the clock; in the namespace lab, whose nodes share the host's clock,
chronyd runs with ``-x`` and the plan says so; chronyd never runs on the
workbook host.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING

from .actions import wanted
from .base import FileChange, NodePlan, Reader, Step, StepError

if TYPE_CHECKING:
    from ..cluster import Cluster

CONF = "/etc/chrony/chrony.conf"
#: A host name (labels of letters, digits, '-') or an IPv4 address: what a ``server``/``pool`` line may name.
HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                  r"[A-Za-z0-9])?)*$")
#: The workers' polling interval of the primary, as powers of two seconds: 16 s to 32 s, on a LAN where a
#: request costs nothing (chrony's defaults, 64 s to 1024 s, suit a server on the internet).
MINPOLL, MAXPOLL = 4, 5


class TimeSync(Step):
    """chrony on every node: ``server`` (the primary) serves ``allow``; the others follow it.

    ``upstream``: NTP servers or pools the primary follows when it is online
    (none by default: the cluster is offline). ``stratum``: the stratum the
    primary claims from its own clock when no upstream answers.
    """

    title = "time"
    phases = 2  # the server first, then the workers

    def __init__(self, cluster: Cluster, *, server: str | None = None, allow: str | None = None, stratum: int = 10,
                 makestep: tuple[float, int] = (1.0, 3), upstream: tuple[str, ...] = (), nodes=None):
        super().__init__(cluster, nodes=nodes)
        inv = cluster.inventory
        self.server = inv.primary if server is None else server
        self.allow = allow if allow is not None else (str(inv.network) if inv.network else None)
        self.stratum = stratum
        self.makestep = makestep
        self.upstream = (upstream,) if isinstance(upstream, str) else tuple(upstream)

    def __repr__(self) -> str:
        return f"<TimeSync server={self.server} allow={self.allow} on {self.where}>"

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        where = self.where
        if self.server not in self.cluster.inventory.nodes:
            raise StepError(f"{self.server!r} is not a node of this cluster ({self.cluster.nodeset})",
                            node=str(self.server), field="server")
        if self.allow is None:
            raise StepError("the inventory has no cluster network; give allow='10.0.0.0/24'", node=where, field="allow")
        self.allow = str(check_subnet(self.allow, node=self.server, fld="allow"))
        if isinstance(self.stratum, bool) or not isinstance(self.stratum, int) or not 1 <= self.stratum <= 15:
            raise StepError(f"{self.stratum!r} is not a stratum (1-15; 10 says 'a local clock, trust it little')",
                            node=self.server, field="stratum")
        try:
            threshold, limit = self.makestep
            ok = float(threshold) > 0 and int(limit) == limit and (limit == -1 or limit > 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise StepError(f"{self.makestep!r} is not (threshold seconds > 0, number of updates > 0 or -1)",
                            node=where, field="makestep")
        for name in self.upstream:
            if not isinstance(name, str) or not HOST.match(name) or name.replace(".", "").isdigit() and not _ipv4(name):
                raise StepError(f"{name!r} is not an NTP server name or address", node=self.server, field="upstream")
        if self.server not in self.names:
            raise StepError("the server must be one of the nodes this step works on", node=self.server, field="server")

    # ------------------------------------------------------------ reading and planning
    def read(self, node, reader: Reader) -> dict:
        script = ("command -v chronyd >/dev/null && echo installed; "
                  "p=$(cat /run/chrony/chronyd.pid 2>/dev/null) && kill -0 \"$p\" 2>/dev/null && echo running; "
                  "systemctl is-active --quiet systemd-timesyncd 2>/dev/null && echo timesyncd; "
                  "systemctl is-enabled --quiet chrony 2>/dev/null && echo enabled")
        return {"conf": reader.text(CONF), "runtime": node.platform.probe(node, script, timeout=30)}

    def render(self, node: str) -> str:
        """The chrony.conf for ``node``."""
        threshold, limit = self.makestep
        head = "# chrony on a clusterkit node; replaced when the time step runs.\n"
        common = (f"driftfile /var/lib/chrony/chrony.drift\nmakestep {float(threshold):g} {int(limit)}\n"
                  "rtcsync\nlogdir /var/log/chrony\n")
        if node == self.server:
            lines = [f"pool {u} iburst" if not _ipv4(u) else f"server {u} iburst" for u in self.upstream]
            return (head + "# The cluster's time server.\n" + "".join(line + "\n" for line in lines) + common
                    + f"# Serve the cluster network, and keep serving from this clock when nothing upstream answers.\n"
                    f"allow {self.allow}\nlocal stratum {self.stratum}\n")
        spec = self.cluster.inventory[self.server]
        return (head + f"# Follow the cluster's time server, {self.server}.\n"
                "# Ask it every 16-32 s, also while it does not answer (a worker powered before its primary).\n"
                f"server {spec.address or self.server} iburst minpoll {MINPOLL} maxpoll {MAXPOLL}\n" + common)

    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        phase = 0 if node.name == self.server else 1
        new = self.render(node.name)
        validate_conf(new, node=node)
        changed = new != (s["conf"] or "")
        flags = s["runtime"]
        wants = node.platform.have_package("chrony", installed="installed" in flags,
                                           why="chrony (this removes systemd-timesyncd)")
        plan.actions += wanted(wants, phase=phase)
        if changed:
            why = "serve the cluster, even offline" if phase == 0 else f"follow {self.server}"
            plan.actions.append(FileChange(CONF, None if s["conf"] is None else s["conf"].encode(), new.encode(),
                                           mode=0o644, why=why, phase=phase))
        plan.actions += wanted(node.platform.keep_time(conf=CONF, flags=flags, changed=changed), phase=phase)
        return plan

    def plan_notes(self) -> list[str]:
        notes = ["chrony replaces systemd-timesyncd (the Debian packages conflict: one time client per node)"]
        clocks = dict.fromkeys(self.cluster[n].platform.time_note() for n in self.names)
        return notes + [note for note in clocks if note] + super().plan_notes()

    def gate(self, phase, plan, nodes, outcomes) -> dict[str, str | None]:
        return self.after(self.server, "the time server", nodes, outcomes)

    def verify_node(self, node) -> str | None:
        self.must(node, "chronyc -n tracking", field="chronyd", failing="chronyc cannot reach chronyd")
        return "chronyd answers chronyc"

    def skew(self):
        """Each node's offset, stratum and sources, from chronyc (see :mod:`clusterkit.clock`)."""
        from ..clock import skew
        return skew(self.cluster, nodes=self.names)


def check_subnet(value, *, node: str, fld: str) -> ipaddress.IPv4Network:
    """A subnet chrony may serve: CIDR, prefix 0-32 (chronyd itself takes /33), host bits clear, private."""
    text = str(value)
    m = re.fullmatch(r"(\d{1,3}(?:\.\d{1,3}){3})/(\d{1,2})", text)
    if not m or int(m.group(2)) > 32:
        raise StepError(f"{text!r} is not a subnet such as 10.0.0.0/24 (prefix 0-32)", node=node, field=fld)
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError as e:
        raise StepError(f"{text!r} is not a subnet: {e}", node=node, field=fld) from None
    if net.is_global:
        raise StepError(f"{net} is a public range: serve only the cluster network", node=node, field=fld)
    return net


def validate_conf(text: str, *, node) -> None:
    """``chronyd -p`` on the configuration (on the node where it has root, else here), then our own checks."""
    for no, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if words[:1] in (["allow"], ["deny"]) and len(words) > 1:
            check_subnet(words[1], node=node.name, fld=f"{CONF} line {no}")
    script = 't=$(mktemp) || exit 9; cat > "$t"; chronyd -x -p -f "$t" >/dev/null; rc=$?; rm -f "$t"; exit $rc'
    r = node.platform.check_on_node(node, script, stdin=text, timeout=30)
    if r is not None:
        if r.status == "failed" and r.exit_code != 127:
            raise StepError(f"chronyd -p rejects it: {r.summary()}", node=node.name, field=CONF)
        return
    chronyd = shutil.which("chronyd") or ("/usr/sbin/chronyd" if os.path.exists("/usr/sbin/chronyd") else None)
    if chronyd is None:
        return
    with tempfile.NamedTemporaryFile("w", prefix="clusterkit-chrony-", suffix=".conf") as f:
        f.write(text)
        f.flush()
        # -p only parses and prints the configuration, then exits; -x as well, so it could never set the clock.
        r = subprocess.run([chronyd, "-x", "-p", "-f", f.name], capture_output=True, text=True, timeout=30,
                           check=False)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["rc " + str(r.returncode)])[-1]
        raise StepError(f"chronyd -p rejects it: {last}", node=node.name, field=CONF)


def _ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False
