"""The kiosk and a second workbook started while a lab runs engines (both run scripts/setup.sh first): the
engines go on working and every node still imports clusterkit; a changed checkout reaches the nodes whole,
while the engines that run go on with the version they started with.

Real processes throughout: a lab (real sshd), engines over SSH, Voila from scripts/kiosk.sh and JupyterLab from
scripts/start.sh, each ended by the test.
"""

from __future__ import annotations

import operator
import os
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from labnames import LAB_MARKS, lab_name, running_lab
from test_setup_versions import copy_checkout
from test_start import free_port
from waiting import end_group, wait_for

pytestmark = LAB_MARKS
ROOT = Path(__file__).resolve().parents[2]
NAME = lab_name("tboth")
#: A fresh process on a node: clusterkit and its layers import, and say which version folder they came from.
IMPORT = "import clusterkit, clusterkit.cluster, clusterkit.compute, clusterkit.booth; print(clusterkit.__path__[0])"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with running_lab(NAME, 2, tmp_path_factory.mktemp("state")) as running:
        yield running


def script_env(lab, tmp: Path, **more) -> dict:
    """The scripts on this test's venv and on this lab (never the default lab), the PATH link in a scratch folder."""
    return dict(os.environ, CLUSTERKIT_VENV=sys.prefix, CLUSTERKIT_BIN=str(tmp / "bin"),
                PATH=f"{tmp / 'bin'}:{os.environ['PATH']}", CLUSTERKIT_BACKEND="lab",
                CLUSTERKIT_INVENTORY=str(lab.inventory_path), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), **more)


@contextmanager
def serving(script: str, env: dict, url: str, log: Path):
    """``scripts/SCRIPT`` running until ``url`` answers; ended (its whole process group) afterwards."""
    with open(log, "w+") as out:
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / script)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        def answers() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    r.read()
            except urllib.error.HTTPError:
                return True                    # it answers
            except OSError:
                if proc.poll() is not None:
                    out.seek(0)
                    raise AssertionError(f"{script} ended:\n{out.read()[-3000:]}") from None
                return False
            return True
        try:
            wait_for(answers, 300, lambda: f"{script} to serve {url}:\n{log.read_text()[-3000:]}", interval=0.5)
            yield proc
        finally:
            end_group(proc, 20)


def imports_on_every_node(cluster) -> dict[str, str]:
    """Each node's answer to a fresh ``import clusterkit``: the version folder (fails the test where it fails)."""
    r = cluster.run(f"cd / && {cluster.python} -c '{IMPORT}'", timeout=120)
    assert r.ok, r.text()
    return {n: row.stdout.strip() for n, row in r.items()}


def test_the_kiosk_and_a_second_workbook_leave_running_engines_alone(lab, tmp_path):
    first = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "test"], env=script_env(lab, tmp_path),
                           capture_output=True, text=True, timeout=600)     # the venv is this checkout's, as
    assert first.returncode == 0, first.stdout + first.stderr                # after the notebooks' own start
    with lab.connect() as cluster, cluster.engines() as engines:
        view = engines.view()
        assert view.apply_sync(operator.mul, 6, 7) == [42] * len(cluster)
        before = imports_on_every_node(cluster)
        kiosk_port, lab_port = free_port(), free_port()
        kiosk = script_env(lab, tmp_path / "kiosk", PORT=str(kiosk_port))
        second = script_env(lab, tmp_path / "second", PORT=str(lab_port), CLUSTERKIT_TOKEN="t0ken-for-the-test")
        with serving("kiosk.sh", kiosk, f"http://127.0.0.1:{kiosk_port}/voila/static/", tmp_path / "kiosk.log"), \
                serving("start.sh", second, f"http://127.0.0.1:{lab_port}/api/status?token=t0ken-for-the-test",
                        tmp_path / "start.log"):
            # start.sh prints its URL once JupyterLab listens, from a waiter beside it: it may come a moment later.
            for log in ("kiosk.log", "start.log"):
                wait_for(lambda: "the lab backend" in (tmp_path / log).read_text(), 60,
                         lambda: f"{log} to name the lab backend: {(tmp_path / log).read_text()[-1500:]}")
            assert view.apply_sync(operator.mul, 6, 7) == [42] * len(cluster)
            assert imports_on_every_node(cluster) == before        # nothing was swapped: nothing had changed
        assert view.apply_sync(operator.mul, 6, 7) == [42] * len(cluster)


#: Evaluated by the engines (a function of this module would be sent by reference, and the engines lack it).
ENGINE_VERSION = "__import__('clusterkit').__path__[0]"
ENGINE_FINDS = "__import__('importlib.util').util.find_spec({!r}) is not None"
ENGINE_IMPORTS = "__import__({!r}).__name__"


def test_a_changed_checkout_reaches_the_nodes_whole_and_running_engines_keep_theirs(lab, tmp_path):
    changed = copy_checkout(tmp_path / "checkout")
    (changed / "clusterkit" / "probe_new.py").write_text("HERE = True\n")
    env = script_env(lab, tmp_path)
    try:
        with lab.connect() as cluster, cluster.engines() as engines:
            view = engines.view()
            started = view.apply_sync(eval, ENGINE_VERSION)
            assert set(started) == set(imports_on_every_node(cluster).values())
            p = subprocess.run(["bash", str(changed / "scripts" / "setup.sh"), "test"], env=env, capture_output=True,
                               text=True, timeout=600)
            assert p.returncode == 0 and "installed (was " in p.stdout, p.stdout + p.stderr
            # Every node sees the new version at once (a fresh process), whole.
            now = imports_on_every_node(cluster)
            assert not set(now.values()) & set(started)
            probe = cluster.run(f"cd / && {cluster.python} -c 'import clusterkit.probe_new as p; print(p.HERE)'",
                                timeout=120)
            assert probe.ok and {r.stdout.strip() for r in probe.values()} == {"True"}, probe.text()
            # The running engines go on with the version they started with: still working, and whole.
            assert view.apply_sync(operator.mul, 6, 7) == [42] * len(cluster)
            assert view.apply_sync(eval, ENGINE_FINDS.format("clusterkit.probe_new")) == [False] * len(cluster)
            assert view.apply_sync(eval, ENGINE_IMPORTS.format("clusterkit.workloads")) == ["clusterkit"] * len(cluster)
            assert view.apply_sync(eval, ENGINE_VERSION) == started
            assert all(Path(s).is_dir() for s in started)
    finally:
        back = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), "test"], env=env, capture_output=True,
                              text=True, timeout=600)
        assert back.returncode == 0, back.stdout + back.stderr
