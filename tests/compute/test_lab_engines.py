"""Engines on lab nodes over SSH (ipyparallel's SSH launcher), on a lab set up as notebooks 01-03 leave it."""

from __future__ import annotations

import socket
import time

import pytest

import clusterkit.lab
from clusterkit.lab import check

REASON = check.reason()
pytestmark = [pytest.mark.lab, pytest.mark.skipif(REASON is not None, reason=f"lab: {REASON}")]
NAME = "teng"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLUSTERKIT_STATE", str(tmp_path_factory.mktemp("state")))
        running = clusterkit.lab.up(n=3, name=NAME)
        try:
            running.prepare(keys=True)      # notebooks 01-03
            yield running
        finally:
            clusterkit.lab.down(name=NAME)


def test_each_engines_hostname_is_its_node_and_none_is_left(lab):
    with lab.connect() as cluster:
        with cluster.engines() as e:
            view = e.view()
            names = view.apply_sync(socket.gethostname)
            assert sorted(names) == sorted(cluster.nodes)
            assert all(e.map.node(i) == h for i, h in zip(view.targets, names))
        # Stopped engines end within a few seconds (a bound, not a speed check); none is left on any node.
        deadline = time.monotonic() + 20
        while True:
            left = cluster.run("pgrep -af '[i]pyparallel.engine' || true", timeout=30)
            if all(not r.stdout.strip() for r in left.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert left.ok and all(not r.stdout.strip() for r in left.values()), left.text()
