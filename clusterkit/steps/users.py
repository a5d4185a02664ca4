"""Notebook 01: one personal user with the same UID and GID on every node.

An image's default user (``pi``) is renamed to the person's own rather than a
second user added, as builders of these clusters do: login, group and home
move with ``usermod -l NEW -d /home/NEW -m pi`` and ``groupmod -n NEW pi``;
then the UID and GID are unified with ``usermod -u`` and ``groupmod -g`` and
the files in the home that kept the old group are fixed. ``usermod`` refuses
to rename a user who is logged in, so these commands run in a second phase
(as root on a real node). Root's login is kept usable as the way back in:
a password (from getpass, stored only as a hash) or a key. A stale
``~/.Xauthority`` (an old name or host) is removed.

The commands edit ``/etc/passwd``, ``/etc/group``, ``/etc/shadow`` and
``/etc/gshadow``; the plan shows what they will look like (password hashes
hidden), and on the local backend those rendered files go into the sandbox.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import struct
import subprocess
import time

from ..results import NodeResult
from .base import Command, FileChange, NodePlan, Reader, Step, StepError, node_home
from .keys import parse_public_key

#: Debian's default NAME_REGEX for user and group names, 32 characters at most.
NAME = re.compile(r"^[a-z][-a-z0-9_]{0,31}$")
#: Debian's UID_MIN and UID_MAX for people (system accounts sit below).
UID_MIN, UID_MAX = 1000, 59999
#: Names that belong to the system or mean something to tools; never a person's login.
RESERVED = frozenset("""root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc
gnats nobody nogroup _apt sshd messagebus systemd-network systemd-resolve systemd-timesync avahi
polkitd statd chrony _chrony dnsmasq admin sudo adm wheel staff users operator ftp halt shutdown""".split())
#: Where a real node keeps the second phase's script and its log.
PHASE2 = "/var/lib/clusterkit/users-phase2"
#: Seconds the second phase waits for the old login's processes to end.
LOGOUT_WAIT = 30
#: The files the user commands change, and whether their second field holds a password hash.
ACCOUNT_FILES = {"/etc/passwd": False, "/etc/group": False, "/etc/shadow": True, "/etc/gshadow": True}


class Users(Step):
    """One personal user, ``name``, with ``uid``/``gid`` on every node, in ``groups``.

    ``rename``: the image's default user to rename into ``name`` where ``name``
    does not exist yet (None: add a new user instead). ``root_password``
    (give it from :func:`getpass.getpass`; stored only as a SHA-512 crypt hash,
    never shown) or ``root_key`` (an OpenSSH public key) keeps root's login
    usable, so a locked-out user can recover.
    """

    title = "users"
    phases = 2

    def __init__(self, cluster, *, name: str, uid: int = 1000, gid: int | None = None,
                 groups: tuple[str, ...] = ("sudo",), full_name: str = "", rename: str | None = "pi",
                 root_password: str | None = None, root_key: str | None = None, nodes=None):
        super().__init__(cluster, nodes=nodes)
        self.name = name
        self.uid = uid
        self.gid = uid if gid is None else gid
        self.groups = tuple(groups)
        self.full_name = full_name
        self.rename = rename
        self._root_password = root_password
        self.root_key = root_key
        self._hash: str | None = None
        self.renamed: list[str] = []  #: nodes whose login was renamed by apply (the workbook follows)

    def __repr__(self) -> str:
        return f"<Users {self.name} uid={self.uid} gid={self.gid} on {self.where}>"

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        where = self.where
        for fld, value in (("name", self.name), ("rename", self.rename)):
            if fld == "rename" and value is None:
                continue
            if not isinstance(value, str) or not NAME.match(value):
                raise StepError(f"{value!r} is not a valid user name (a lower-case letter, then lower case, "
                                "digits, '-' or '_', at most 32)", node=where, field=fld)
        if self.name in RESERVED:
            raise StepError(f"{self.name!r} is reserved for the system; choose a personal name", node=where, field="name")
        if self.rename == self.name:
            raise StepError("is the same as name; give rename=None to keep the user", node=where, field="rename")
        for fld, value in (("uid", self.uid), ("gid", self.gid)):
            if isinstance(value, bool) or not isinstance(value, int) or not UID_MIN <= value <= UID_MAX:
                raise StepError(f"{value!r} is not a personal {fld.upper()} ({UID_MIN}-{UID_MAX})", node=where, field=fld)
        for g in self.groups:
            if not isinstance(g, str) or not NAME.match(g):
                raise StepError(f"{g!r} is not a valid group name", node=where, field="groups")
        if not isinstance(self.full_name, str) or re.search(r"[:,\n=]", self.full_name):
            raise StepError("must not contain ':', ',', '=' or a new line", node=where, field="full_name")
        if self._root_password is not None:
            pw = self._root_password
            if not isinstance(pw, str) or len(pw) < 8 or "\n" in pw or ":" in pw:
                raise StepError("must be at least 8 characters, with no ':' or new line (it is not shown)",
                                node=where, field="root_password")
        if self.root_key is not None:
            parse_public_key(self.root_key, node=where, fld="root_key")

    # ------------------------------------------------------------ reading
    def read(self, node, reader: Reader) -> dict:
        state = {path: reader.text(path) for path in ACCOUNT_FILES}
        if state["/etc/passwd"] is None or state["/etc/group"] is None:
            return state
        users = _table(state["/etc/passwd"])
        for who in (self.name, self.rename):
            if who in users:
                state[f"xauth:{who}"] = reader(users[who][5].rstrip("/") + "/.Xauthority")
        if self.root_key is not None:
            state["root_keys"] = reader.text("/root/.ssh/authorized_keys")
        if node.privileged and self.rename in users and self.name not in users:
            state["others"] = other_sessions(node, self.rename)
        return state

    def check(self, states: dict[str, dict]) -> None:
        busy = {} if self.verifying else {n: s["others"] for n, s in states.items() if s.get("others")}
        if busy:
            from ClusterShell.NodeSet import NodeSet
            first = next(iter(busy.values()))
            raise StepError(f"{self.rename!r} is also logged in there by another program ({first[0]}"
                            + (f" and {len(first) - 1} more" if len(first) > 1 else "") + "), and usermod cannot "
                            f"rename a user who is logged in: close the other notebooks' clusters (their clean-up "
                            f"cell, or shut down their kernels) and log {self.rename!r} out of any desktop or "
                            "terminal, then plan again", node=str(NodeSet.fromlist(busy)), field="rename")
        for n, s in states.items():
            if s["/etc/passwd"] is None or s["/etc/group"] is None:
                raise StepError("has no /etc/passwd or /etc/group to read", node=n, field="/etc/passwd")
            users, groups = _table(s["/etc/passwd"]), _table(s["/etc/group"])
            source = self.name if self.name in users else (self.rename if self.rename in users else None)
            if source is not None and int(users[source][2]) < UID_MIN:
                raise StepError(f"{source!r} is a system account (UID {users[source][2]}) on this node",
                                node=n, field="name" if source == self.name else "rename")
            for user, row in users.items():
                if int(row[2]) == self.uid and user not in (self.name, source):
                    raise StepError(f"UID {self.uid} is already held by user {user!r} on this node",
                                    node=n, field="uid")
            own_group = users[source][3] if source else None
            for group, row in groups.items():
                if int(row[2]) == self.gid and row[2] != own_group and group != self.name:
                    raise StepError(f"GID {self.gid} is already held by group {group!r} on this node",
                                    node=n, field="gid")
            if self.name in groups and source is None:
                raise StepError(f"a group {self.name!r} exists but no user; remove it or choose another name",
                                node=n, field="name")
            for g in self.groups:
                if g not in groups:
                    raise StepError(f"group {g!r} does not exist on this node", node=n, field="groups")
            shadow = _table(s["/etc/shadow"] or "")
            if self._root_password is None and self.root_key is None and not _usable(shadow.get("root")):
                raise StepError("root has no usable login on this node: give root_password (from getpass) "
                                "or root_key, the way back in if you lock yourself out", node=n, field="root_password")

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        files = {p: s[p] or "" for p in ACCOUNT_FILES}
        users = _table(files["/etc/passwd"])
        renaming = self.name not in users and self.rename in users
        source = self.rename if renaming else (self.name if self.name in users else None)
        early: list = []  # phase 0: the way back in, the stale X authority
        late: list[Command] = []  # phase 1: as root, with the user logged out
        if source is None:
            files = self._render_new(files)
            late += [Command(f"groupadd -g {self.gid} {self.name}", "the user's own group", by_file=True),
                     Command(f"useradd -m -u {self.uid} -g {self.gid} -G {','.join(self.groups)} -s /bin/bash"
                             + (f" -c {_sh(self.full_name)}" if self.full_name else "") + f" {self.name}",
                             "a new user (no password yet: log in with keys, notebook 03)", by_file=True)]
            plan.notes.append(f"no {self.rename!r} to rename: adding {self.name!r}")
        else:
            old_uid, old_gid = int(users[source][2]), int(users[source][3])
            files, cmds = self._render_existing(files, source, old_uid, old_gid)
            late += cmds
            if renaming:
                plan.notes.append(f"renaming {source!r} (UID {old_uid}) to {self.name!r}")
            elif old_uid != self.uid:
                plan.notes.append(f"{self.name!r} has UID {old_uid} here; it becomes {self.uid}")
            xauth = s.get(f"xauth:{source}")
            if xauth is not None and (renaming or old_uid != self.uid or _stale_xauth(xauth, node.name)):
                path = users[source][5].rstrip("/") + "/.Xauthority"
                early.append(FileChange(path, xauth, None, why="stale X authority (old user or host name)"))
        shadow = _table(files["/etc/shadow"])
        if self._root_password is not None and not _usable(shadow.get("root")):
            files["/etc/shadow"] = _set_field(files["/etc/shadow"], "root", 1, self._password_hash())
            early.append(Command("chpasswd -e", "root's password: the way back in (hash on stdin, not shown)",
                                 stdin=f"root:{self._password_hash()}\n", by_file=True))
        if self.root_key is not None:
            have = s.get("root_keys") or ""
            key = parse_public_key(self.root_key, node=node.name, fld="root_key")
            if key.blob not in have:
                early += [Command("install -d -m 700 /root/.ssh", "root's SSH directory"),
                          FileChange("/root/.ssh/authorized_keys", None if s.get("root_keys") is None else have.encode(),
                                     _add_line(have, key.line).encode(), mode=0o600,
                                     why="root's key login: the way back in")]
        for path, hidden in ACCOUNT_FILES.items():
            old, new = s[path], files[path]
            if (old or "") != new:
                plan.actions.append(FileChange(path, None if old is None else old.encode(), new.encode(),
                                               why="what the commands below make of it", by_commands=True,
                                               secret=hidden))
        plan.actions += early + [Command(c.command, c.why, check=c.check, phase=1, by_file=c.by_file) for c in late]
        return plan

    def _render_existing(self, files: dict, source: str, old_uid: int, old_gid: int) -> tuple[dict, list]:
        name, cmds = self.name, []
        groups = _table(files["/etc/group"])
        old_group = next((g for g, row in groups.items() if int(row[2]) == old_gid), None)
        home = node_home(name)
        if source != name:
            # The UID changes in the same usermod as the name: once the new name exists, the workbook logs in
            # with it, and usermod refuses to change the UID of a user who is logged in.
            uid = f"-u {self.uid} " if old_uid != self.uid else ""
            cmds.append(Command(f"usermod -l {name} -d {home} -m {uid}{source}",
                                "login and home move" + (f", UID {old_uid} -> {self.uid}" if uid else ""),
                                by_file=True))
            if uid:
                files["/etc/passwd"] = _set_field(_rename(files["/etc/passwd"], source, name, home=home),
                                                  name, 2, str(self.uid))
                old_uid = self.uid
            else:
                files["/etc/passwd"] = _rename(files["/etc/passwd"], source, name, home=home)
            files["/etc/shadow"] = _rename(files["/etc/shadow"], source, name)
            for path in ("/etc/group", "/etc/gshadow"):
                files[path] = _rename_member(files[path], source, name)
            if old_group == source:
                cmds.append(Command(f"groupmod -n {name} {source}", "the user's own group follows", by_file=True))
                for path in ("/etc/group", "/etc/gshadow"):
                    files[path] = _rename(files[path], source, name)
                old_group = name
        if old_uid != self.uid:
            cmds.append(Command(f"usermod -u {self.uid} {name}", f"UID {old_uid} -> {self.uid} (home files follow)",
                                by_file=True))
            files["/etc/passwd"] = _set_field(files["/etc/passwd"], name, 2, str(self.uid))
        if old_gid != self.gid:
            if old_group == name:
                cmds.append(Command(f"groupmod -g {self.gid} {name}", f"GID {old_gid} -> {self.gid}", by_file=True))
                files["/etc/group"] = _set_field(files["/etc/group"], name, 2, str(self.gid))
            else:
                cmds.append(Command(f"groupadd -g {self.gid} {name}", "the user's own group", by_file=True))
                files = self._add_group(files)
            cmds += [Command(f"usermod -g {self.gid} {name}", "primary group", by_file=True),
                     Command(f"find {home} -xdev -gid {old_gid} -exec chgrp -h {self.gid} {{}} +",
                             "files in the home keep the old GID otherwise", by_file=True)]
            files["/etc/passwd"] = _set_field(files["/etc/passwd"], name, 3, str(self.gid))
        groups = _table(files["/etc/group"])
        missing = [g for g in self.groups if name not in _members(groups[g])]
        if missing:
            cmds.append(Command(f"usermod -aG {','.join(missing)} {name}", "admin groups", by_file=True))
            for g in missing:
                for path in ("/etc/group", "/etc/gshadow"):
                    files[path] = _add_member(files[path], g, name)
        return files, cmds

    def _render_new(self, files: dict) -> dict:
        files = self._add_group(files)
        gecos = self.full_name
        files["/etc/passwd"] = _append(files["/etc/passwd"],
                                       f"{self.name}:x:{self.uid}:{self.gid}:{gecos}:{node_home(self.name)}:/bin/bash")
        files["/etc/shadow"] = _append(files["/etc/shadow"], f"{self.name}:!:20000:0:99999:7:::")
        for g in self.groups:
            for path in ("/etc/group", "/etc/gshadow"):
                files[path] = _add_member(files[path], g, self.name)
        return files

    def _add_group(self, files: dict) -> dict:
        files["/etc/group"] = _append(files["/etc/group"], f"{self.name}:x:{self.gid}:")
        files["/etc/gshadow"] = _append(files["/etc/gshadow"], f"{self.name}:!::")
        return files

    def _password_hash(self) -> str:
        if self._hash is None:
            r = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=self._root_password,
                               capture_output=True, text=True, check=False)
            if r.returncode != 0 or not r.stdout.startswith("$6$"):
                raise StepError("openssl could not hash the password", field="root_password")
            self._hash = r.stdout.strip()
        return self._hash

    # ------------------------------------------------------------ applying on a real node
    def gate(self, phase: int, plan, nodes: list[str], outcomes) -> dict[str, str | None]:
        """Before the rename: a node where another program logged in as the old user since the plan stops here."""
        verdict: dict[str, str | None] = {}
        for n in nodes:
            node = self.cluster[n]
            pending = any(c.command.startswith("usermod -l") for c in plan[n].commands)
            others = other_sessions(node, self.rename) if pending and node.privileged else []
            verdict[n] = None if not others else (
                f"{self.rename!r} is logged in here by another program ({others[0]}): usermod cannot rename a "
                "user who is logged in; close it and apply again (nothing of the rename was done)")
        return verdict

    def _run_actions(self, node, nplan, phase, out, bar) -> None:
        if phase == 1 and node.privileged:
            return self._logged_out(node, [a for a in nplan.actions if a.phase == 1], out, bar)
        return super()._run_actions(node, nplan, phase, out, bar)

    def _logged_out(self, node, commands: list[Command], out, bar) -> None:
        """Run phase two as root once the login user has logged out (usermod refuses a busy user).

        The commands go into a script that a detached root process runs once no
        process of the old login is left (the plan refused a node where another
        program is logged in as that user). The workbook logs out, then reads how
        each command went through whichever login works now: the new name first,
        else the old one. What really happened decides: where the rename was
        done, the workbook follows it even if a later command failed.
        """
        from dataclasses import replace
        from .reach import node_at
        spec = node.spec
        login = spec.user or "pi"
        renaming = login == self.rename and any(c.command.startswith("usermod -l") for c in commands)
        # usermod refuses a user who is logged in: when the workbook's login is the user being changed, the
        # script waits for it to log out, and the workbook logs in under the old name again only once the
        # script is surely past that point (a login in between would make usermod fail).
        affected = login in (self.name, self.rename)
        script = []
        if affected:
            script += [f"n=0; while pgrep -u {login} >/dev/null && [ $n -lt {LOGOUT_WAIT * 5} ]; do sleep 0.2; "
                       "n=$((n+1)); done",
                       f"if pgrep -u {login} >/dev/null; then echo \"busy: {login} is still logged in:\" "
                       f"$(pgrep -u {login} -l | head -3 | tr '\\n' ' '); echo end; exit 1; fi"]
        for i, c in enumerate(commands):
            script.append(f"if {c.command}; then echo 'ok {i}'; else echo \"failed {i} $?\"; echo end; exit 1; fi")
        script.append("echo end")
        node.sudo(f"install -d -m 700 {posixpath.dirname(PHASE2)}", timeout=30)
        node.write_file(PHASE2 + ".sh", ("\n".join(script) + "\n").encode(), mode=0o700, privileged=True, backup=False)
        r = node.sudo(f"rm -f {PHASE2}.log; setsid nohup sh {PHASE2}.sh > {PHASE2}.log 2>&1 < /dev/null & echo started",
                      timeout=30)
        if not r.ok:
            out.problem = f"could not start the rename as root: {r.summary()}"
            return
        node.close()
        start = time.monotonic()
        attempts = [(node_at(self.cluster, replace(spec, user=self.name)), start)] if renaming else []
        attempts.append((node_at(self.cluster, spec), start + LOGOUT_WAIT + 5 if affected else start))
        log, why = _read_phase2(attempts, deadline=start + LOGOUT_WAIT + 30)
        lines = log.splitlines()
        done = {int(line.split()[1]) for line in lines if line.startswith("ok ")}
        out.ran += [c.command for i, c in enumerate(commands) if i in done]
        for c in commands:
            bar.tick(node.name, c.command)
        if renaming and 0 in done:
            self.renamed.append(node.name)
        if "end" not in lines:
            out.problem = f"could not read how the rename went (as {self.name!r} or {login!r}): {why}"
        elif len(done) < len(commands):
            failed = next(i for i in range(len(commands)) if i not in done)
            said = "; ".join(ln for ln in lines if not ln.startswith(("ok ", "failed ")) and ln != "end")
            out.problem = f"{commands[failed].command!r} failed" + (f": {said}" if said else "") + \
                f" (log: {PHASE2}.log on the node)"

    def settle(self, plan, outcomes) -> None:
        """Where the login was renamed, the workbook logs in under the new name from now on."""
        from dataclasses import replace
        from .reach import switch
        switch(self.cluster, [replace(self.cluster.inventory[n], user=self.name) for n in self.renamed])

    # ------------------------------------------------------------ checks
    def verify_node(self, node) -> str | None:
        if not node.privileged:
            return None
        r = node.run(f"id {self.name}", timeout=30)
        want = f"uid={self.uid}({self.name}) gid={self.gid}({self.name})"
        if not r.ok or not r.stdout.startswith(want):
            raise StepError(f"id says {r.stdout.strip() or r.summary()!r}, expected {want}", node=node.name, field="uid")
        return r.stdout.strip()

    def ids(self):
        """``id NAME`` on every node: the gathered view shows one block when they are identical."""
        return ids(self.cluster, self.name, nodes=self.names)


def ids(cluster, name: str, *, nodes=None):
    """``id NAME`` on every node (on the local backend, as the sandbox's account files answer it)."""
    if cluster.backend == "local":
        return cluster.each(lambda n: _sandbox_id(n, name), nodes=nodes, command=f"id {name}")
    return cluster.run(f"id {shlex.quote(name)}", nodes=nodes, timeout=30)


def other_sessions(node, user: str) -> list[str]:
    """Processes of ``user`` on a node other than the workbook's own connection, one line each.

    The workbook's other connections to the node under that login (another
    Cluster made earlier in this kernel) are closed first.
    """
    closed = node.close_twins()
    q = shlex.quote(user)
    script = (f"id -u {q} >/dev/null 2>&1 || exit 0; me=$(ps -o ppid= -p $$ | tr -d ' '); "
              f"ps -u {q} -o pid=,ppid=,etimes=,args= | "
              "awk -v me=\"$me\" -v self=$$ '$1!=me && $1!=self && $2!=me && $2!=self'")
    deadline = time.monotonic() + (3.0 if closed else 0.0)
    while True:
        r = node.run(script, timeout=30)
        found = []
        for line in r.stdout.splitlines() if r.ok else []:
            parts = line.split(None, 3)
            if len(parts) == 4:
                found.append(f"process {parts[0]}: {parts[3]}, for {parts[2]} s")
        if not found or time.monotonic() > deadline:   # sessions just closed take a moment to end
            return found
        time.sleep(0.2)


def _read_phase2(attempts: list, *, deadline: float) -> tuple[str, str]:
    """The second phase's log once it says ``end``, read through the first login that works.

    ``attempts``: (node, not before) pairs in order of preference. A login's
    connection is closed again after every read that is not the last, so the
    workbook never stays logged in while the script waits for a logout.
    """
    log, why = "", "no login answered"
    try:
        while True:
            for n, not_before in attempts:
                if time.monotonic() < not_before:
                    continue
                r = n.sudo(f"cat {PHASE2}.log", timeout=30)
                if r.ok and "end" in r.stdout.split():
                    return r.stdout, ""
                n.close()
                if r.ok:
                    log = r.stdout
                    break
                why = r.summary()
            if time.monotonic() > deadline:
                return log, why
            time.sleep(0.3)
    finally:
        for n, _ in attempts:
            n.close()


# ---------------------------------------------------------------- account files

def _table(text: str) -> dict[str, list[str]]:
    """name -> fields of a colon file (passwd, group, shadow, gshadow)."""
    rows = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            fields = line.split(":")
            rows.setdefault(fields[0], fields)
    return rows


def _edit(text: str, name: str, fn) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if line.split(":", 1)[0] == name:
            end = "\n" if line.endswith("\n") else ""
            line = ":".join(fn(line.rstrip("\n").split(":"))) + end
        out.append(line)
    return "".join(out)


def _set_field(text: str, name: str, index: int, value: str) -> str:
    def change(fields):
        fields[index] = value
        return fields
    return _edit(text, name, change)


def _rename(text: str, old: str, new: str, *, home: str | None = None) -> str:
    def change(fields):
        fields[0] = new
        if home is not None:
            fields[5] = home
        return fields
    return _edit(text, old, change)


def _members(fields: list[str]) -> list[str]:
    return [m for m in fields[-1].split(",") if m]


def _rename_member(text: str, old: str, new: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        fields = line.rstrip("\n").split(":")
        if len(fields) >= 4:
            for i in range(2 if len(fields) == 4 and not fields[2].isdigit() else 3, len(fields)):
                fields[i] = ",".join(new if m == old else m for m in fields[i].split(","))
            line = ":".join(fields) + ("\n" if line.endswith("\n") else "")
        out.append(line)
    return "".join(out)


def _add_member(text: str, group: str, user: str) -> str:
    def change(fields):
        members = [m for m in fields[-1].split(",") if m]
        if user not in members:
            fields[-1] = ",".join(members + [user])
        return fields
    return _edit(text, group, change)


def _append(text: str, line: str) -> str:
    return (text if not text or text.endswith("\n") else text + "\n") + line + "\n"


def _add_line(text: str, line: str) -> str:
    return (text if not text or text.endswith("\n") else text + "\n") + line + "\n"


def _usable(row: list[str] | None) -> bool:
    """Whether a shadow row has a password one can log in with."""
    return bool(row) and len(row) > 1 and row[1].startswith("$")


def _sh(text: str) -> str:
    import shlex
    return shlex.quote(text)


def _stale_xauth(data: bytes, node_name: str) -> bool:
    """Whether an X authority file names a host other than ``node_name`` (the host was renamed)."""
    return any(host != node_name for host in xauth_hosts(data))


def xauth_hosts(data: bytes) -> list[str]:
    """The host names of the local entries of an ``.Xauthority`` file (family 256, FamilyLocal)."""
    hosts, i = [], 0
    try:
        while i + 2 <= len(data):
            (family,) = struct.unpack(">H", data[i:i + 2])
            i += 2
            fields = []
            for _ in range(4):
                (n,) = struct.unpack(">H", data[i:i + 2])
                fields.append(data[i + 2:i + 2 + n])
                i += 2 + n
            if family == 256:
                hosts.append(fields[0].decode("ascii", "replace"))
    except struct.error:
        return ["(unreadable)"]
    return hosts


def xauth_entry(host: str, display: str = "0") -> bytes:
    """One FamilyLocal MIT-MAGIC-COOKIE-1 entry, as the desktop writes on login (for tests and the lab image)."""
    parts = [host.encode(), display.encode(), b"MIT-MAGIC-COOKIE-1", bytes(16)]
    return struct.pack(">H", 256) + b"".join(struct.pack(">H", len(p)) + p for p in parts)


def _sandbox_id(node, name: str):
    """``id`` as a node's sandbox files answer it (the local backend cannot run ``id`` there)."""
    users = _table((node.read_file("/etc/passwd") or b"").decode())
    groups = _table((node.read_file("/etc/group") or b"").decode())
    if name not in users:
        return NodeResult.failure(node.name, "error", f"id: '{name}': no such user", command=f"id {name}")
    uid, gid = users[name][2], users[name][3]
    gname = next((g for g, r in groups.items() if r[2] == gid), gid)
    extra = [f"{r[2]}({g})" for g, r in groups.items() if name in _members(r) or g == gname]
    line = f"uid={uid}({name}) gid={gid}({gname}) groups={','.join(extra)}"
    return NodeResult.done(node.name, line, stdout=line + "\n", command=f"id {name}")
