"""Notebook 10: Slurm on the cluster. Munge on every node, slurmctld on the primary, slurmd on the compute nodes.

Munge authenticates every Slurm message with a key that must be the same bytes
on every node (mode 0400, owner ``munge``). The cluster's key is the primary's
(the one its munge package made), or a new random one (128 bytes, like
``mungekey``) when the primary has none; it is copied to every node and never
shown: the plan says "secret content, not shown".

``slurm.conf`` is rendered from the inventory and from what each node reports
(``slurmd -C``: CPUs and memory), checked (see :mod:`.slurmconf`), and installed
on every node. By default the primary computes too: on a cluster of four small
boards, leaving one idle would give up a quarter of it, and its controller is a
light process (``compute_on_primary=False`` keeps it for the controller).

How the daemons start at boot and now is the node's platform's
(:meth:`~clusterkit.backends.platform.Platform.start_service`): on a board
systemd enables and restarts the units; a lab node, with no systemd, enables
them for its boot script and starts munged, slurmctld and slurmd by hand. With
no cgroup file system (a lab node) jobs are tracked by parent pid
(``proctrack/linuxproc``, ``task/none``); with one (a board) they live in cgroups.

Refused before any node is touched: a partition naming a node that does not
exist, a person or the ``slurm`` account with another UID on some node, a node
whose host name is not its inventory name (slurmd finds its line by host name).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ClusterShell.NodeSet import NodeSet

from ..backends.platform import Service
from .actions import wanted
from .base import Command, FileChange, NodePlan, Reader, Step, StepError
from .slurmconf import (CGROUP_CONF, CONF, DBD_CONF, KEY, KEY_BYTES, KEY_MIN, SLURM_UID, SLURMD_TIMEOUT, Hardware,
                        cgroup_conf, check_partitions, dbd_password, grant_sql, own_checks, parse_slurmd_c,
                        parse_with_slurm, slurm_conf, slurmdbd_conf, this_machine)
from .accounts import UID_MAX, UID_MIN, table as _table

if TYPE_CHECKING:
    from ..cluster import Cluster

#: The daemons, by the name plans give them. After a start each must answer (slurmctld) or be alive (the
#: others) within 10 s, else its log's tail says why.
SERVICES = {
    "munged": Service("munged", "munge", "munge -n </dev/null | unmunge >/dev/null 2>&1", "/var/log/munge/munged.log"),
    "slurmctld": Service("slurmctld", "slurmctld", "scontrol ping 2>/dev/null | grep -q 'is UP'",
                         "/var/log/slurm/slurmctld.log"),
    "mariadb": Service("mariadb", "mariadb", "mariadb-admin ping >/dev/null 2>&1", "/var/log/mysql/error.log"),
    "slurmdbd": Service("slurmdbd", "slurmdbd", "ss -Hltn 'sport = :6819' | grep -q 6819", "/var/log/slurm/slurmdbd.log"),
    "slurmd": Service("slurmd", "slurmd", "p=$(cat /run/slurmd.pid 2>/dev/null) && kill -0 \"$p\" 2>/dev/null",
                      "/var/log/slurm/slurmd.log"),
}
#: Every daemon in words, as a plan's note names them.
DAEMONS = "munged, slurmctld and slurmd"
RUNTIME = r"""
for d in slurmd slurmctld munged scontrol slurmdbd mariadbd; do command -v $d >/dev/null && echo have $d; done
case "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" in cgroup2fs|tmpfs) echo flag cgroups ;; esac
for d in munged:/run/munge/munged.pid slurmctld:/run/slurmctld.pid slurmd:/run/slurmd.pid \
         mariadb:/run/mysqld/mysqld.pid slurmdbd:/run/slurmdbd.pid; do
    p=$(cat "${d#*:}" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo run "${d%%:*}"
done
for u in munged:munge slurmctld:slurmctld slurmd:slurmd mariadb:mariadb slurmdbd:slurmdbd; do
    systemctl is-enabled --quiet "${u#*:}" 2>/dev/null && echo enabled "${u%%:*}"
done
echo keyowner $(stat -c '%U %a' /etc/munge/munge.key 2>/dev/null)
echo dbdowner $(stat -c '%U %a' /etc/slurm/slurmdbd.conf 2>/dev/null)
command -v slurmd >/dev/null && echo hw $(slurmd -C 2>/dev/null | head -n1)
echo nproc $(nproc --all) $(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
echo plugins $(ls /usr/lib/*/slurm-wlm/ 2>/dev/null | sed -n 's/\.so$//p')
"""


class Slurm(Step):
    """Slurm on the nodes: one Munge key everywhere, slurmctld on the primary, slurmd on the compute nodes.

    ``partitions``: partition name -> node set (``{"main": "pc[0-3]"}``), the first
    is the default; by default one partition ``main`` with every compute node.
    ``compute_on_primary``: the primary runs jobs too (default). ``slurmd_timeout``:
    seconds of silence before Slurm calls a node DOWN. ``accounting``: every job is recorded (``sacct``) by
    slurmdbd on the primary, in MariaDB there, with a generated database password that no plan or output shows
    (notebook 11; off by default: it adds a database to start).
    """

    title = "slurm"
    phases = 2  # munge, the files and slurmctld first; slurmd once the controller answers

    def __init__(self, cluster: Cluster, *, partitions: dict[str, str] | None = None, compute_on_primary: bool = True,
                 slurmd_timeout: int = SLURMD_TIMEOUT, accounting: bool = False, nodes=None):
        super().__init__(cluster, nodes=nodes)
        self.accounting = accounting
        self._new_password: str | None = None
        self.primary = cluster.inventory.primary
        self.compute_on_primary = compute_on_primary
        self.compute = [n for n in self.names if compute_on_primary or n != self.primary]
        self.partitions_arg = partitions
        self.slurmd_timeout = slurmd_timeout
        self._new_key: bytes | None = None
        self._notes: list[str] = []

    def __repr__(self) -> str:
        return f"<Slurm controller={self.primary} compute={NodeSet.fromlist(self.compute)}>"

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        where = self.where
        if self.primary not in self.names:
            raise StepError("the primary runs slurmctld: it must be one of the nodes this step works on",
                            node=self.primary, field="nodes")
        if not isinstance(self.compute_on_primary, bool):
            raise StepError("must be True or False", node=self.primary, field="compute_on_primary")
        if not isinstance(self.accounting, bool):
            raise StepError("must be True or False", node=self.primary, field="accounting")
        t = self.slurmd_timeout
        if isinstance(t, bool) or not isinstance(t, int) or not 5 <= t <= 3600:
            raise StepError(f"{t!r} is not a number of seconds from 5 to 3600", node=where, field="slurmd_timeout")
        if not self.compute:
            raise StepError("no node is left to compute", node=where, field="compute_on_primary")
        wanted = {"main": str(NodeSet.fromlist(self.compute))} if self.partitions_arg is None else self.partitions_arg
        self.partitions = check_partitions(wanted, nodes=self.compute, all_nodes=list(self.cluster.inventory.nodes),
                                           where=where)

    # ------------------------------------------------------------ reading
    def read(self, node, reader: Reader) -> dict:
        state = {"passwd": reader.text("/etc/passwd") or "", "hostname": (reader.text("/etc/hostname") or "").strip(),
                 "key": reader(KEY), "conf": reader.text(CONF), "cgroup": reader.text(CGROUP_CONF)}
        if node.name == self.primary:
            dbd = reader(DBD_CONF)
            state["dbd"] = None if dbd is None else dbd.decode(errors="replace")
        state["runtime"] = node.platform.live(lambda: _read_runtime(node), otherwise=unseen())
        return state

    def check(self, states: dict[str, dict]) -> None:
        """Same people with the same UIDs, the slurm account's one UID, names that match; then render and check."""
        order = [self.primary] + [n for n in self.names if n != self.primary]
        for n in order:
            if states[n]["hostname"] != n:
                raise StepError(f"this node calls itself {states[n]['hostname'] or '(nothing)'!r}, but slurmd finds "
                                f"its NodeName line by host name: give every node its name first (notebook 02)",
                                node=n, field="hostname")
        people = {n: _people(states[n]["passwd"]) for n in order}
        first: dict[str, tuple[int, str]] = {}
        for n in order:
            for user, uid in people[n].items():
                if user == "slurm" and uid != first.get(user, (uid,))[0]:
                    raise StepError(f"the slurm account has UID {uid} here but {first[user][0]} on {first[user][1]}: "
                                    "slurmctld and slurmd trust messages from one SlurmUser UID; make it the same "
                                    f"(Debian's is {SLURM_UID})", node=n, field="slurm account")
                if user in first and first[user][0] != uid:
                    raise StepError(f"{user!r} has UID {uid} here but {first[user][0]} on {first[user][1]}: Slurm "
                                    "runs a job under its UID on every node, like NFS it needs one UID per person "
                                    "(notebook 01)", node=n, field="uid")
                first.setdefault(user, (uid, n))
        for n in self.compute:
            for user, (uid, there) in first.items():
                if user not in people[n] and user != "slurm":
                    raise StepError(f"{user!r} (UID {uid} on {there}) has no account here: their jobs could not "
                                    "run on this node (notebook 01)", node=n, field="uid")
        self._render(states)

    def _render(self, states: dict[str, dict]) -> None:
        hardware = {n: self._hardware(states[n], n) for n in self.compute}
        self.cgroups = all("cgroups" in states[n]["runtime"]["flags"] for n in self.names)
        inv = self.cluster.inventory
        self.conf = slurm_conf(cluster_name=inv.name, controller=self.primary,
                               controller_address=inv[self.primary].address,
                               nodes={n: (inv[n].address, hardware[n]) for n in self.compute},
                               partitions=self.partitions, cgroups=self.cgroups, slurmd_timeout=self.slurmd_timeout,
                               accounting=self.accounting)
        if self.accounting:
            password = dbd_password(states[self.primary].get("dbd"))
            if password is None:
                self._new_password = self._new_password or secrets.token_urlsafe(24)
                password = self._new_password
            self.password = password
            self.dbd = slurmdbd_conf(host=self.primary, password=password)
        self.cgroup = cgroup_conf(cgroups=self.cgroups)
        for n in self.names:
            rt = states[n]["runtime"]
            problems = own_checks(self.conf, plugins=rt["plugins"] or None)
            if problems:
                raise StepError(problems[0], node=n, field=CONF)
        primary = self.cluster[self.primary]
        text = self.conf
        if primary.platform.live(lambda: "slurm" not in _people(states[self.primary]["passwd"]), otherwise=False):
            text = self.conf.replace("SlurmUser=slurm", "SlurmUser=root")  # the account comes with this plan
        checked = parse_with_slurm(text, node=primary, nodes=str(NodeSet.fromlist(self.compute))) \
            if "scontrol" in states[self.primary]["runtime"]["have"] else None
        self._notes = [f"{CONF} was parsed by {checked} and passed clusterkit's own checks (partitions, "
                       "controller, plugins)" if checked else
                       f"{CONF} passed clusterkit's own checks; no scontrol here to parse it (Slurm is not "
                       "installed yet)"]
        if not self.cgroups:
            self._notes.append("these nodes have no cgroup file system: jobs are tracked by parent pid "
                               "(proctrack/linuxproc, task/none); a real board uses proctrack/cgroup and "
                               "task/cgroup,task/affinity")
        if self.accounting:
            self._notes.append(f"accounting: slurmdbd and MariaDB on {self.primary}; the database password is "
                               f"{'kept from' if self._new_password is None else 'generated into'} {DBD_CONF} "
                               "(mode 600, owner slurm) and never shown")
        daemons = DAEMONS.replace(" and slurmd", ", slurmd, MariaDB and slurmdbd") if self.accounting else DAEMONS
        ways = dict.fromkeys(self.cluster[n].platform.services_note(daemons) for n in self.names)
        self._notes += [note for note in ways if note]
        self.key = self._cluster_key(states[self.primary]["key"])

    def _hardware(self, s: dict, name: str) -> Hardware:
        rt = s["runtime"]
        return parse_slurmd_c(rt["hw"], node=name) if rt["hw"] else rt["counted"]

    def _cluster_key(self, primary_key: bytes | None) -> bytes:
        if primary_key is not None and len(primary_key) >= KEY_MIN:
            self._notes.append(f"the Munge key is {self.primary}'s, copied to every node (never shown)")
            return primary_key
        if self._new_key is None:
            self._new_key = secrets.token_bytes(KEY_BYTES)
        self._notes.append(f"{self.primary} has no Munge key: a new random one ({KEY_BYTES} bytes) goes to every "
                           "node (never shown)")
        return self._new_key

    def plan_notes(self) -> list[str]:
        return self._notes + super().plan_notes()

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        rt = s["runtime"]
        name = node.name
        act = plan.actions.append
        needed = {"slurmd", "munged"} | ({"slurmctld"} if name == self.primary else set())
        # Where changes are simulated, a board's first setup is shown: the packages come with new files.
        if not node.platform.live(lambda: needed <= rt["have"], otherwise=s["conf"] == self.conf):
            pkgs = "munge slurmd slurm-client" + (" slurmctld" if name == self.primary else "")
            act(Command(f"DEBIAN_FRONTEND=noninteractive apt-get install -y {pkgs}",
                        "Slurm and Munge from Debian (the package makes the slurm account)"))
        elif node.platform.live(lambda: "slurm" not in _people(s["passwd"]), otherwise=False):
            act(Command(f"groupadd -r -g {SLURM_UID} slurm && useradd -r -u {SLURM_UID} -g slurm -d /nonexistent "
                        "-M -s /usr/sbin/nologin slurm", f"the slurm account, UID {SLURM_UID} as Debian's package "
                        "makes it (this node has Slurm's files but not the account)"))
        key_changed = s["key"] != self.key
        if key_changed:
            act(FileChange(KEY, s["key"], self.key, mode=0o400, secret=True,
                           why="the cluster's Munge key: the same bytes on every node"))
        if key_changed or rt["keyowner"] != "munge 400":
            act(Command(f"chown munge:munge {KEY} && chmod 400 {KEY}", "only munged may read the key"))
        conf_changed = False
        for path, old, new in ((CONF, s["conf"], self.conf), (CGROUP_CONF, s["cgroup"], self.cgroup)):
            if old != new:
                conf_changed = True
                act(FileChange(path, None if old is None else old.encode(), new.encode(), mode=0o644,
                               why="the same file on every node"))
        self._daemon(plan, node, rt, "munged", changed=key_changed, phase=0)
        if name == self.primary and self.accounting:
            self._accounting(plan, node, s, rt)
        if name == self.primary:
            self._daemon(plan, node, rt, "slurmctld", changed=conf_changed, phase=0)
        if name in self.compute:
            self._daemon(plan, node, rt, "slurmd", changed=conf_changed or key_changed, phase=1)
        return plan

    def _accounting(self, plan: NodePlan, node, s: dict, rt: dict) -> None:
        """On the primary: MariaDB, the database and its user, slurmdbd.conf (secret), slurmdbd; then the
        cluster registered, before slurmctld (re)starts to report to it."""
        act = plan.actions.append
        for package, program in (("mariadb-server", "mariadbd"), ("slurmdbd", "slurmdbd")):
            plan.actions += wanted(node.platform.have_package(
                package, installed=node.platform.live(lambda p=program: p in rt["have"], otherwise=True),
                why=f"{package} from Debian (accounting)"))
        old = s.get("dbd")
        dbd_changed = old != self.dbd
        if dbd_changed:
            act(FileChange(DBD_CONF, None if old is None else old.encode(), self.dbd.encode(), mode=0o600,
                           secret=True, why="slurmdbd's file: it holds the database password"))
        if dbd_changed or rt.get("dbdowner") != "slurm 600":
            act(Command(f"chown slurm:slurm {DBD_CONF} && chmod 600 {DBD_CONF}",
                        "only slurmdbd (user slurm) may read the password"))
        self._daemon(plan, node, rt, "mariadb", changed=False, phase=0)
        first = dbd_changed or node.platform.live(lambda: "slurmdbd" not in rt["run"], otherwise=False)
        if first:
            act(Command("mariadb -u root", "the accounting database and its user (the password goes on stdin, "
                        "never on a command line)", stdin=grant_sql(self.password)))
        self._daemon(plan, node, rt, "slurmdbd", changed=dbd_changed, phase=0)
        cluster = self.cluster.inventory.name.lower()
        if first:
            act(Command(f"sacctmgr -n list cluster format=cluster | grep -qx ' *{cluster} *' || "
                        f"sacctmgr -i add cluster {cluster}", "the cluster, known to the accounting database"))

    def _daemon(self, plan: NodePlan, node, rt: dict, daemon: str, *, changed: bool, phase: int) -> None:
        wants = node.platform.start_service(SERVICES[daemon], running=daemon in rt["run"],
                                            enabled=daemon in rt["enabled"], changed=changed)
        plan.actions += wanted(wants, phase=phase)

    def gate(self, phase, plan, nodes, outcomes) -> dict[str, str | None]:
        return self.after(self.primary, "the controller", nodes, outcomes)

    # ------------------------------------------------------------ checks
    def verify_node(self, node) -> str | None:
        self.must(node, "munge -n </dev/null | unmunge >/dev/null", field="munged",
                  failing="munge cannot encode and decode here")
        if node.name == self.primary and self.accounting:
            self.must(node, "sacct -n -X -S now-1minutes >/dev/null", field="slurmdbd",
                      failing="sacct cannot read the accounting database")
        if node.name not in self.compute:
            return "munged answers"
        script = (f"for i in $(seq 100); do s=$(sinfo -h -N -n {node.name} -o %T 2>/dev/null | head -n1); "
                  "case \"$s\" in ''|*'*'|down*|unknown*) sleep 0.2 ;; *) echo \"$s\"; exit 0 ;; esac; done; "
                  "echo \"${s:-no answer}\"; exit 1")
        r = node.run(script, timeout=60)
        if not r.ok:
            raise StepError(f"slurmd did not register with {self.primary} within 20 s (sinfo: {r.stdout.strip()})",
                            node=node.name, field="slurmd")
        return f"slurmd registered with {self.primary}: {r.stdout.strip()}"


def _read_runtime(node) -> dict:
    r = node.sudo(RUNTIME, timeout=60)
    if not r.ok:
        raise StepError(f"cannot read the node's Slurm state: {r.summary()}", node=node.name, field="read")
    return _runtime(r.stdout, node=node.name)


def unseen() -> dict:
    """What stands for a node whose changes are simulated (nothing live is read there): a board with Slurm's
    programs, cgroups and the key's right owner, but no daemon running, and this machine's CPUs and memory."""
    return {"have": {"slurmd", "slurmctld", "munged", "scontrol"}, "flags": {"cgroups"}, "run": set(),
            "enabled": set(), "keyowner": "munge 400", "dbdowner": "slurm 600", "hw": "", "counted": this_machine(), "plugins": set()}


def _runtime(text: str, *, node: str) -> dict:
    rt: dict = {"have": set(), "flags": set(), "run": set(), "enabled": set(), "keyowner": "", "dbdowner": "", "hw": "",
                "counted": Hardware(cpus=1, memory=1024, source="nproc and /proc/meminfo"), "plugins": set()}
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("have", "flag", "run", "enabled"):
            rt[{"flag": "flags"}.get(word, word)].add(rest.strip())
        elif word in ("keyowner", "dbdowner"):
            rt[word] = rest.strip()
        elif word == "hw":
            rt["hw"] = rest.strip()
        elif word == "nproc":
            try:
                cpus, mem = (int(x) for x in rest.split())
                rt["counted"] = Hardware(cpus=cpus, memory=mem, source="nproc and /proc/meminfo")
            except ValueError:
                raise StepError(f"cannot read the CPUs and memory: {rest!r}", node=node, field="nproc") from None
        elif word == "plugins":
            rt["plugins"] = set(rest.split())
    return rt


def _people(passwd: str) -> dict[str, int]:
    """name -> UID of the people in a passwd file (UID_MIN..UID_MAX), plus the ``slurm`` account."""
    out = {}
    for user, row in _table(passwd).items():
        try:
            uid = int(row[2])
        except (IndexError, ValueError):
            continue
        if UID_MIN <= uid <= UID_MAX or user == "slurm":
            out[user] = uid
    return out
