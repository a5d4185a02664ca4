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

import re
import shlex
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from . import accounts as acc
from .accounts import NAME, RESERVED, UID_MAX, UID_MIN, xauth_entry, xauth_hosts
from ..firstboot.password import hash_password
from ..results import NodeResult
from .actions import Rendered
from .base import Command, FileChange, NodePlan, Reader, Step, StepError, node_home
from .detached import DetachedScript
from .keys import parse_public_key
from .logins import holders, other_sessions, refusal, what_to_do

if TYPE_CHECKING:
    from ..cluster import Cluster

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

    def __init__(self, cluster: Cluster, *, name: str, uid: int = 1000, gid: int | None = None,
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
        users = acc.table(state["/etc/passwd"])
        for who in (self.name, self.rename):
            if who in users:
                state[f"xauth:{who}"] = reader(users[who][5].rstrip("/") + "/.Xauthority")
        if self.root_key is not None:
            state["root_keys"] = reader.text("/root/.ssh/authorized_keys")
        if self.rename in users and self.name not in users:
            state["others"] = node.platform.live(partial(other_sessions, node, self.rename), otherwise=[])
        return state

    def check(self, states: dict[str, dict]) -> None:
        busy = {} if self.verifying else {n: s["others"] for n, s in states.items() if s.get("others")}
        if busy:
            from ClusterShell.NodeSet import NodeSet
            every = [login for found in busy.values() for login in found]
            raise StepError(refusal(self.rename, every), node=str(NodeSet.fromlist(busy)), field="rename")
        for n, s in states.items():
            if s["/etc/passwd"] is None or s["/etc/group"] is None:
                raise StepError("has no /etc/passwd or /etc/group to read", node=n, field="/etc/passwd")
            users, groups = acc.table(s["/etc/passwd"]), acc.table(s["/etc/group"])
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
            shadow = acc.table(s["/etc/shadow"] or "")
            if self._root_password is None and self.root_key is None and not acc.usable(shadow.get("root")):
                raise StepError("root has no usable login on this node: give root_password (from getpass) "
                                "or root_key, the way back in if you lock yourself out", node=n, field="root_password")

    # ------------------------------------------------------------ planning
    def node_plan(self, node, s: dict, states) -> NodePlan:
        plan = NodePlan(node.name)
        files = {p: s[p] or "" for p in ACCOUNT_FILES}
        users = acc.table(files["/etc/passwd"])
        renaming = self.name not in users and self.rename in users
        source = self.rename if renaming else (self.name if self.name in users else None)
        early: list = []  # phase 0: the way back in, the stale X authority
        late: list[Command] = []  # phase 1: as root, with the user logged out
        if source is None:
            files = self._render_new(files)
            late += [Command(f"groupadd -g {self.gid} {self.name}", "the user's own group"),
                     Command(f"useradd -m -u {self.uid} -g {self.gid} -G {','.join(self.groups)} -s /bin/bash"
                             + (f" -c {shlex.quote(self.full_name)}" if self.full_name else "") + f" {self.name}",
                             "a new user (no password yet: log in with keys, notebook 03)")]
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
            if xauth is not None and (renaming or old_uid != self.uid or acc.stale_xauth(xauth, node.name)):
                path = users[source][5].rstrip("/") + "/.Xauthority"
                early.append(FileChange(path, xauth, None, why="stale X authority (old user or host name)"))
        shadow = acc.table(files["/etc/shadow"])
        if self._root_password is not None and not acc.usable(shadow.get("root")):
            files["/etc/shadow"] = acc.set_field(files["/etc/shadow"], "root", 1, self._password_hash())
            early.append(Command("chpasswd -e", "root's password: the way back in (hash on stdin, not shown)",
                                 stdin=f"root:{self._password_hash()}\n"))
        if self.root_key is not None:
            have = s.get("root_keys") or ""
            key = parse_public_key(self.root_key, node=node.name, fld="root_key")
            if key.blob not in have:
                early += [Command("install -d -m 700 /root/.ssh", "root's SSH directory"),
                          FileChange("/root/.ssh/authorized_keys", None if s.get("root_keys") is None else have.encode(),
                                     acc.append_line(have, key.line).encode(), mode=0o600,
                                     why="root's key login: the way back in")]
        for path, hidden in ACCOUNT_FILES.items():
            old, new = s[path], files[path]
            if (old or "") != new:
                plan.actions.append(Rendered(path, None if old is None else old.encode(), new.encode(),
                                             why="what the commands below make of it", secret=hidden))
        plan.actions += early
        if late:
            plan.actions.append(self._as_root(node, renaming, [replace(c, phase=1) for c in late]))
        return plan

    def _as_root(self, node, renaming: bool, commands: list[Command]) -> DetachedScript:
        """Phase two: the commands as root, once the login user has logged out (usermod refuses a busy user).

        A detached root process runs them once no process of the workbook's
        login is left (the plan refused a node where another program is logged
        in as that user). The workbook logs out, then reads how each command
        went through whichever login works now: the new name first, else the old
        one, but only once the script is surely past usermod (a login in between
        would make usermod fail). Where the rename was done, the workbook
        follows it even if a later command failed.
        """
        spec = node.spec
        login = spec.user or "pi"
        renaming = renaming and login == self.rename
        affected = login in (self.name, self.rename)
        new = replace(spec, user=self.name)
        logins = ((new, 0.0),) if renaming else ()
        logins += ((spec, LOGOUT_WAIT + 5.0 if affected else 0.0),)
        return DetachedScript(commands=tuple(commands), path=PHASE2, wait_for=login if affected else None,
                              wait=LOGOUT_WAIT, logins=logins, follow=new if renaming else None,
                              what="the rename", phase=1)

    def _render_existing(self, files: dict, source: str, old_uid: int, old_gid: int) -> tuple[dict, list]:
        name, cmds = self.name, []
        groups = acc.table(files["/etc/group"])
        old_group = next((g for g, row in groups.items() if int(row[2]) == old_gid), None)
        home = node_home(name)
        if source != name:
            # The UID changes in the same usermod as the name: once the new name exists, the workbook logs in
            # with it, and usermod refuses to change the UID of a user who is logged in.
            uid = f"-u {self.uid} " if old_uid != self.uid else ""
            cmds.append(Command(f"usermod -l {name} -d {home} -m {uid}{source}",
                                "login and home move" + (f", UID {old_uid} -> {self.uid}" if uid else "")))
            if uid:
                files["/etc/passwd"] = acc.set_field(acc.rename(files["/etc/passwd"], source, name, home=home),
                                                     name, 2, str(self.uid))
                old_uid = self.uid
            else:
                files["/etc/passwd"] = acc.rename(files["/etc/passwd"], source, name, home=home)
            files["/etc/shadow"] = acc.rename(files["/etc/shadow"], source, name)
            for path in ("/etc/group", "/etc/gshadow"):
                files[path] = acc.rename_member(files[path], source, name)
            if old_group == source:
                cmds.append(Command(f"groupmod -n {name} {source}", "the user's own group follows"))
                for path in ("/etc/group", "/etc/gshadow"):
                    files[path] = acc.rename(files[path], source, name)
                old_group = name
        if old_uid != self.uid:
            cmds.append(Command(f"usermod -u {self.uid} {name}", f"UID {old_uid} -> {self.uid} (home files follow)"))
            files["/etc/passwd"] = acc.set_field(files["/etc/passwd"], name, 2, str(self.uid))
        if old_gid != self.gid:
            if old_group == name:
                cmds.append(Command(f"groupmod -g {self.gid} {name}", f"GID {old_gid} -> {self.gid}"))
                files["/etc/group"] = acc.set_field(files["/etc/group"], name, 2, str(self.gid))
            else:
                cmds.append(Command(f"groupadd -g {self.gid} {name}", "the user's own group"))
                files = self._add_group(files)
            cmds += [Command(f"usermod -g {self.gid} {name}", "primary group"),
                     Command(f"find {home} -xdev -gid {old_gid} -exec chgrp -h {self.gid} {{}} +",
                             "files in the home keep the old GID otherwise")]
            files["/etc/passwd"] = acc.set_field(files["/etc/passwd"], name, 3, str(self.gid))
        groups = acc.table(files["/etc/group"])
        missing = [g for g in self.groups if name not in acc.members(groups[g])]
        if missing:
            cmds.append(Command(f"usermod -aG {','.join(missing)} {name}", "admin groups"))
            for g in missing:
                for path in ("/etc/group", "/etc/gshadow"):
                    files[path] = acc.add_member(files[path], g, name)
        return files, cmds

    def _render_new(self, files: dict) -> dict:
        files = self._add_group(files)
        gecos = self.full_name
        files["/etc/passwd"] = acc.append_line(files["/etc/passwd"],
                                               f"{self.name}:x:{self.uid}:{self.gid}:{gecos}:{node_home(self.name)}:/bin/bash")
        files["/etc/shadow"] = acc.append_line(files["/etc/shadow"], f"{self.name}:!:20000:0:99999:7:::")
        for g in self.groups:
            for path in ("/etc/group", "/etc/gshadow"):
                files[path] = acc.add_member(files[path], g, self.name)
        return files

    def _add_group(self, files: dict) -> dict:
        files["/etc/group"] = acc.append_line(files["/etc/group"], f"{self.name}:x:{self.gid}:")
        files["/etc/gshadow"] = acc.append_line(files["/etc/gshadow"], f"{self.name}:!::")
        return files

    def _password_hash(self) -> str:
        if self._hash is None:
            self._hash = hash_password(self._root_password, field="root_password")
        return self._hash

    # ------------------------------------------------------------ applying on a real node
    def gate(self, phase: int, plan, nodes: list[str], outcomes) -> dict[str, str | None]:
        """Before the rename: a node where another program logged in as the old user since the plan stops here."""
        verdict: dict[str, str | None] = {}
        for n in nodes:
            node = self.cluster[n]
            pending = any(c.command.startswith("usermod -l") for c in plan[n].commands)
            others = node.platform.live(partial(other_sessions, node, self.rename), otherwise=[]) if pending else []
            verdict[n] = None if not others else (
                f"{self.rename!r} is logged in here by {holders(others)[0]}: usermod cannot rename a user who is "
                f"logged in (nothing of the rename was done); {what_to_do(self.rename, others)}")
        return verdict

    # ------------------------------------------------------------ checks
    def verify_node(self, node) -> str | None:
        r = node.run(f"id {self.name}", timeout=30)
        want = f"uid={self.uid}({self.name}) gid={self.gid}({self.name})"
        if not r.ok or not r.stdout.startswith(want):
            raise StepError(f"id says {r.stdout.strip() or r.summary()!r}, expected {want}", node=node.name, field="uid")
        return r.stdout.strip()

    def ids(self):
        """``id NAME`` on every node: the gathered view shows one block when they are identical."""
        return ids(self.cluster, self.name, nodes=self.names)


def ids(cluster: Cluster, name: str, *, nodes=None, renamed_to: str | None = None):
    """``id NAME`` on every node (on the local backend, as the sandbox's account files answer it).

    ``renamed_to``: where ``name`` is gone and that user is there (notebook 01 run a second time,
    after it renamed the image's ``pi``), the node answers with that user's ``id`` and says so,
    rather than failing with "no such user".
    """
    def id_of(node, who: str):
        live = node.platform.live(partial(node.run, f"id {shlex.quote(who)}", timeout=30), otherwise=None)
        return acc.sandbox_id(node, who) if live is None else live     # nothing live: the node's files answer

    def one(node):
        r = id_of(node, name)
        if r.ok or not renamed_to or renamed_to == name:
            return r
        now = id_of(node, renamed_to)
        if not now.ok:
            return r
        line = f"no {name} any more: renamed to {renamed_to} (an earlier run of notebook 01); {now.stdout.strip()}"
        return NodeResult.done(node.name, line, stdout=line + "\n", command=f"id {name}")
    return cluster.each(one, nodes=nodes, timeout=30, command=f"id {name}")


__all__ = ["Users", "ids", "other_sessions", "xauth_entry", "xauth_hosts", "NAME", "RESERVED", "UID_MIN", "UID_MAX"]
