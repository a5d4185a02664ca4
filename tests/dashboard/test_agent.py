"""The node agent as a real process: its JSON lines, its commands, and how it ends."""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading

import psutil

AGENT = [sys.executable, "-m", "clusterkit.agent", "--interval", "0.2"]


def start(*args, env=None):
    return subprocess.Popen(AGENT + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def lines(proc, n):
    return [json.loads(proc.stdout.readline()) for _ in range(n)]


def finish(proc):
    """The rest of the agent's lines once it has ended, and its stderr."""
    if not proc.stdin.closed:
        proc.stdin.close()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait(10)
    return [json.loads(l) for l in out.splitlines()], err


def test_host_sample_fields_and_absent_values_absent():
    proc = start("--node", "pc1")
    try:
        first, second = lines(proc, 2)
    finally:
        finish(proc)
    assert second["node"] == "pc1" and second["seq"] == 2
    assert 0 <= second["cpu"] <= 100 and len(second["cores"]) == psutil.cpu_count()
    assert len(second["load"]) == 3 and second["mem"]["total"] == psutil.virtual_memory().total
    assert {"sent", "recv"} <= set(second["net"])
    assert len(second["leds"]) == 8 and second["pattern"] == "cpu"
    # Only what this machine has: no invented temperature or battery.
    has_temp = bool(psutil.sensors_temperatures())
    assert ("temp" in second) == has_temp
    assert ("battery" in second) == (psutil.sensors_battery() is not None)


def node_env(root, node=None):
    """The environment of a process on a local node (as the local backend sets it), or of none."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLUSTERKIT_NODE", "CLUSTERKIT_ROOT")}
    if node:
        env.update(CLUSTERKIT_NODE=node, CLUSTERKIT_ROOT=str(root))
    return env


def test_node_scope_leaves_out_the_shared_network(tmp_path):
    # The agent of pc2 in a sandbox of its own (as the local backend starts it): nothing else
    # on this machine is that node, whatever other clusters or labs are running.
    proc = start("--node", "pc2", "--scope", "node", env=node_env(tmp_path / "pc2", "pc2"))
    try:
        (sample,) = lines(proc, 1)
    finally:
        finish(proc)
    assert "net" not in sample and sample["procs"] == 0 and sample["cpu"] == 0.0


def test_node_scope_counts_its_own_node_only(tmp_path):
    """Of processes named pc2, only those of the agent's sandbox and PID namespace are its node's."""
    mine, other = tmp_path / "a" / "pc2", tmp_path / "b" / "pc2"
    sleep = ["sleep", "60"]
    helpers = [subprocess.Popen(sleep, env=node_env(mine, "pc2")),        # pc2 of this cluster: counted
               subprocess.Popen(sleep, env=node_env(other, "pc2")),       # pc2 of another local cluster
               subprocess.Popen(sleep, env=node_env(mine.parent / "pc1", "pc1"))]   # another node
    in_other_pidns = os.geteuid() == 0 and shutil.which("unshare")
    if in_other_pidns:   # a lab node's process: another PID namespace, named and rooted alike
        helpers.append(subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "env",
                                         "CLUSTERKIT_NODE=pc2", f"CLUSTERKIT_ROOT={mine}"] + sleep,
                                        env=node_env(mine)))
    try:
        proc = start("--node", "pc2", "--scope", "node", env=node_env(mine, "pc2"))
        try:
            (sample,) = lines(proc, 1)
        finally:
            finish(proc)
    finally:
        for h in helpers:
            h.kill()
            h.wait()
    assert sample["procs"] == 1, sample


def test_commands_change_the_pixels_and_a_bad_one_is_reported():
    proc = start("--node", "pc1")
    try:
        lines(proc, 1)
        proc.stdin.write('{"pattern": "larson"}\n{"brightness": 0.5}\n')
        proc.stdin.flush()
        got = lines(proc, 1)[0]
        while got["pattern"] != "larson" or got["brightness"] != 0.5:
            got = lines(proc, 1)[0]
        assert got["leds"].count("#ff0000") == 1
        proc.stdin.write('{"pattern": "disco"}\n')
        proc.stdin.flush()
        got = lines(proc, 1)[0]
        while "error" not in got:
            got = lines(proc, 1)[0]
        assert "unknown pattern 'disco'" in got["error"] and got["pattern"] == "larson"
        proc.stdin.write('{"clear": true}\n')
        proc.stdin.flush()
        got = lines(proc, 1)[0]
        while got["pattern"] != "clear":
            got = lines(proc, 1)[0]
        assert got["leds"] == ["#000000"] * 8
    finally:
        finish(proc)


def test_sigterm_clears_the_leds_and_exits():
    proc = start("--node", "pc1", "--pattern", "identify")
    lines(proc, 1)
    proc.send_signal(signal.SIGTERM)
    out = [json.loads(line) for line in proc.stdout]   # its input stays open: the signal alone ends it
    assert proc.wait(10) == 0, proc.stderr.read()
    finish(proc)
    assert out[-1]["bye"] == "SIGTERM" and out[-1]["leds"] == ["#000000"] * 8


def test_closed_input_clears_the_leds_and_exits():
    proc = start("--node", "pc1", "--pattern", "larson")
    (sample,) = lines(proc, 1)
    assert "#ff0000" in sample["leds"]
    proc.stdin.close()
    out, err = finish(proc)
    assert proc.returncode == 0, err
    assert out[-1]["bye"] == "input closed" and out[-1]["leds"] == ["#000000"] * 8


def test_each_local_node_shows_its_own_load(local_cluster, tmp_path):
    """A CPU burner on pc1 shows on pc1's agent only (the nodes share one machine).

    How much CPU the burner gets depends on what else this machine runs, so the test
    asserts no share of a core: the burner runs until pc1's agent has seen it busy,
    and no other node's agent ever shows any load meanwhile.
    """
    stop = tmp_path / "stop-burning"
    streams = {n.name: n.open_stream(f"{sys.executable} -m clusterkit.agent --scope node --interval 0.5 "
                                     f"--node {n.name}") for n in local_cluster}
    burn = f"import os\nwhile not os.path.exists({str(stop)!r}): pass"
    burner = threading.Thread(target=local_cluster.run, args=(f"exec {sys.executable} -c {shlex.quote(burn)}",),
                              kwargs={"nodes": "pc1", "timeout": 120})
    seen = {name: [] for name in streams}
    try:
        for s in streams.values():
            json.loads(s.readline())
        burner.start()
        for _ in range(240):          # a bound for a starved machine (2 minutes), not a speed check
            for name, s in streams.items():
                seen[name].append(json.loads(s.readline())["cpu"])
            if max(seen["pc1"]) > 0:
                break
    finally:
        stop.touch()
        burner.join()
        for s in streams.values():
            s.close()
    assert max(seen["pc1"]) > 0, seen
    for other in ("pc0", "pc2", "pc3"):
        assert set(seen[other]) == {0.0}, seen


def test_pidns_scope_sees_only_its_namespace():
    """A lab node is a PID namespace: the agent there counts its own processes only (root only)."""
    import pytest

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare")
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child"] + AGENT
                            + ["--node", "pc1", "--scope", "pidns"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        sample = lines(proc, 2)[1]
    finally:
        finish(proc)
    # In the namespace there is only the agent itself (pid 1 of the namespace is unshare's child).
    assert sample["procs"] <= 1 and "net" in sample and sample["cpu"] < 50


def test_a_fill_lights_every_pixel_in_the_colour_until_a_pattern_replaces_it():
    proc = start("--node", "pc1")
    try:
        lines(proc, 1)
        proc.stdin.write('{"fill": "#2ca02c"}\n')
        proc.stdin.flush()
        got = lines(proc, 1)[0]
        while got["pattern"] != "fill":
            got = lines(proc, 1)[0]
        assert got["leds"] == ["#2ca02c"] * 8
        proc.stdin.write('{"fill": "green"}\n')
        proc.stdin.flush()
        while "error" not in got:
            got = lines(proc, 1)[0]
        assert "#rrggbb" in got["error"] and got["leds"] == ["#2ca02c"] * 8
        proc.stdin.write('{"pattern": "clear"}\n')
        proc.stdin.flush()
        while got["pattern"] != "clear":
            got = lines(proc, 1)[0]
        assert got["leds"] == ["#000000"] * 8
    finally:
        finish(proc)
