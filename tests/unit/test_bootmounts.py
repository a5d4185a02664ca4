"""A lab worker's boot-time share mount waits again when the primary reboots between the look and the bind.

The race this covers: the worker sees the primary booted and serving, the primary reboots (its PID 1,
and so ``/proc/PID/ns/mnt``, goes), and the bind fails. A board's NFS mount (or an automount) would
mount once the server is back; the lab's boot does the same. The processes of the lab are stood in
for here (no namespaces, no network): which PID 1 a node has, and whether the bind works.
"""

from __future__ import annotations

import subprocess

from clusterkit.lab import bootmounts

WORKER_INIT, OLD_PRIMARY, NEW_PRIMARY = 100, 200, 300


def boot(monkeypatch, *, primaries: list[int], binds: list[int]):
    """Run the worker's mount_all with the primary's PID 1 going through ``primaries`` (one per look) and the
    binds exiting with ``binds``; returns (problems, what the boot said)."""
    said, looks, calls = [], iter(primaries), iter(binds)
    last = {"primary": None}

    def server_init(lab_dir, server):
        last["primary"] = next(looks, last["primary"])
        return "pc0", last["primary"]

    monkeypatch.setattr(bootmounts, "init_of", lambda supervisor: WORKER_INIT)
    monkeypatch.setattr(bootmounts, "booted", lambda init: True)
    monkeypatch.setattr(bootmounts, "listens", lambda init, port: True)
    monkeypatch.setattr(bootmounts, "mounted", lambda init, path: False)
    monkeypatch.setattr(bootmounts, "nfs_lines", lambda init: [("10.0.0.1", "/srv/shared", "/home/shared")])
    monkeypatch.setattr(bootmounts, "server_init", server_init)
    monkeypatch.setattr(bootmounts, "say", said.append)
    monkeypatch.setattr(bootmounts.time, "sleep", lambda s: None)
    monkeypatch.setattr(bootmounts.subprocess, "run",
                        lambda argv, **kw: subprocess.CompletedProcess(argv, next(calls), "", "no such file"))
    return bootmounts.mount_all("/node", 1, "/lab"), said


def test_a_primary_that_rebooted_during_the_bind_is_waited_for_and_mounted(monkeypatch):
    # look: serving (200); the bind fails; look again: 300 (rebooted), then serving; the bind works
    problems, said = boot(monkeypatch, primaries=[OLD_PRIMARY, NEW_PRIMARY, NEW_PRIMARY, NEW_PRIMARY], binds=[1, 0])
    assert problems == 0, said
    assert said[-1].startswith("mounted 10.0.0.1:/srv/shared at /home/shared"), said
    assert not any(s.startswith("could not mount") for s in said), said


def test_a_bind_that_fails_while_the_primary_runs_on_is_reported(monkeypatch):
    problems, said = boot(monkeypatch, primaries=[OLD_PRIMARY], binds=[1])
    assert problems == 1
    assert said == ["could not mount 10.0.0.1:/srv/shared at /home/shared: no such file"], said


def test_a_workers_own_home_is_not_taken_for_the_primarys(monkeypatch):
    """A lab node's /home is a mount of its own from the start: only the primary's folder on top counts."""
    tables = {WORKER_INIT: {"/home": ("0:31", "/labs/x/nodes/x1/home")},
              OLD_PRIMARY: {"/home": ("0:31", "/labs/x/nodes/x0/home")}}
    monkeypatch.setattr(bootmounts, "top_mount", lambda init, path: tables[init].get(path))
    assert not bootmounts.bound_from(WORKER_INIT, "/home", OLD_PRIMARY, "/home")
    tables[WORKER_INIT]["/home"] = ("0:31", "/labs/x/nodes/x0/home")    # the bind, on top
    assert bootmounts.bound_from(WORKER_INIT, "/home", OLD_PRIMARY, "/home")
    assert not bootmounts.bound_from(WORKER_INIT, "/srv/shared", OLD_PRIMARY, "/srv/shared")   # nothing there yet


def test_top_mount_reads_the_uppermost_mount(tmp_path, monkeypatch):
    info = tmp_path / "mountinfo"
    info.write_text("30 20 0:31 /a /home rw - ext4 /dev/vda rw\n41 30 0:31 /b /home rw - ext4 /dev/vda rw\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(info if p == "/proc/7/mountinfo" else p, *a, **k))
    assert bootmounts.top_mount(7, "/home") == ("0:31", "/b")
    assert bootmounts.top_mount(7, "/srv") is None
