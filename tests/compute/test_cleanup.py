"""No engine or controller outlives the process that started them, even when it is killed (as nbval does)."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from waiting import wait_for

STARTER = textwrap.dedent("""
    import json, sys, time, psutil, clusterkit
    cluster = clusterkit.connect(backend="local", sandbox=sys.argv[1])
    engines = cluster.engines(mpi=sys.argv[2] == "mpi")
    assert len(engines) == 4
    print(json.dumps([p.pid for p in psutil.Process().children(recursive=True)]), flush=True)
    time.sleep(300)   # the workbook stays up, as a kernel does, until the test kills it
""")


def alive(pids):
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.parametrize("kind", ["plain", "mpi"])
def test_sigkill_of_the_starter_leaves_nothing(tmp_path, kind):
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path), kind], stdout=subprocess.PIPE,
                               text=True, env=dict(os.environ))
    try:
        line = starter.stdout.readline()
        assert line, "the starter did not start its engines"
        pids = json.loads(line)
        assert len(alive(pids)) >= 5
    finally:
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
    try:
        wait_for(lambda: not alive(pids), 30, lambda: "nothing left running after SIGKILL of the starter: "
                 f"{[psutil.Process(p).cmdline() for p in alive(pids)]} still are")
    finally:
        for pid in alive(pids):  # do not leave them to the next test, but fail
            os.kill(pid, signal.SIGKILL)


def test_leash_forwards_sigterm_and_ends_with_its_parent(tmp_path):
    from clusterkit.compute.launch import LEASH
    # A parent shell that starts a leashed sleep, prints the sleep's pid, then is killed.
    script = f'{sys.executable} {LEASH} $$ -- sleep 60 & echo $!; wait'
    parent = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.PIPE, text=True)
    leash_pid = int(parent.stdout.readline())
    wait_for(lambda: psutil.Process(leash_pid).children(), 60, "the leash to start its command")
    (sleeper,) = psutil.Process(leash_pid).children()
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(5)
    gone, _ = psutil.wait_procs([sleeper], timeout=15)
    assert gone, "the leashed command outlived its parent"


def test_leash_on_stdin_gives_the_command_its_environment_and_ends_it_at_end_of_input(tmp_path):
    from clusterkit.compute.launch import LEASH
    # The form engines are started with over SSH: the first line is the environment, the end of input
    # (the channel closed, or the workbook's connection dropped) is the starter going away.
    out = tmp_path / "out"
    leash = subprocess.Popen([sys.executable, LEASH, "-", "--", "/bin/sh", "-c",
                              f'echo "$SECRET" > {out}; sleep 60 & sleep 60 & wait'],
                             stdin=subprocess.PIPE)
    leash.stdin.write(b'{"SECRET": "s3cret value"}\n')
    leash.stdin.flush()
    wait_for(lambda: len(psutil.Process(leash.pid).children(recursive=True)) >= 3, 60,
             "the leash's shell and its two sleeps")
    family = psutil.Process(leash.pid).children(recursive=True)
    assert len(family) == 3  # the shell and its two sleeps
    assert out.read_text() == "s3cret value\n"
    assert all("s3cret" not in " ".join(p.cmdline()) for p in family)  # never on a command line
    leash.stdin.close()
    gone, alive_ = psutil.wait_procs(family, timeout=15)
    assert not alive_, "the command outlived the end of its leash's input"
    assert leash.wait(10) is not None


def test_leash_on_stdin_refuses_an_environment_that_is_not_an_object():
    from clusterkit.compute.launch import LEASH
    done = subprocess.run([sys.executable, LEASH, "-", "--", "true"], input=b"[1, 2]\n", capture_output=True,
                          timeout=20)
    assert done.returncode == 2 and b"JSON object" in done.stderr
