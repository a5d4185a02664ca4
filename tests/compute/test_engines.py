"""Engines on every local node: the map is each engine's own answer, they compute, they stop clean."""

import os

import psutil
import ipyparallel as ipp
import pytest

from clusterkit import workloads
from clusterkit.compute import ComputeError, Engines



def descendants() -> set[int]:
    """Live (not zombie) descendants of this test process."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.add(p.pid)
        except psutil.NoSuchProcess:
            pass
    return out


@ipp.interactive
def where_am_i():
    import os
    import socket
    return os.environ.get("CLUSTERKIT_NODE"), os.getcwd(), socket.gethostname()


def test_one_engine_per_node_and_the_map_says_which(engines, cluster):
    assert len(engines) == 4
    assert [n for n, ids, _ in engines.map.rows()] == ["pc0", "pc1", "pc2", "pc3"]
    assert all(len(ids) == 1 for _, ids, _ in engines.map.rows())
    # Ask each engine directly, by id, and check the map's claim against it.
    for node, ids, cores in engines.map.rows():
        env_node, cwd, _ = engines.client[ids[0]].apply_sync(where_am_i)
        assert env_node == node
        assert cwd == str(cluster[node].home)  # the node's sandbox home
        assert cores == os.cpu_count()


def test_engine_pids_are_the_engines_and_carry_their_node(engines):
    pids = engines.pids
    assert sorted(pids) == ["pc0", "pc1", "pc2", "pc3"]
    for node, (pid,) in pids.items():
        env = psutil.Process(pid).environ()
        assert env["CLUSTERKIT_NODE"] == node
        assert "ipyparallel.engine" in " ".join(psutil.Process(pid).cmdline())


def test_engines_compute(engines):
    assert engines.view().apply_sync(ipp.interactive(lambda x: x * 2), 21) == [42] * 4
    squares = engines.balanced().map_sync(ipp.interactive(lambda x: x * x), range(20))
    assert squares == [x * x for x in range(20)]


def test_views_by_node(engines):
    pc1 = engines.view("pc1")
    assert pc1.targets == engines.map.ids("pc1")
    assert pc1.apply_sync(where_am_i)[0][0] == "pc1"
    assert engines.ids(spread=True) == engines.ids()  # one engine per node: the same order


def test_repr_and_tables(engines):
    assert repr(engines) == "<Engines(nodes=pc[0-3], backend=local, engines=4 running)>"
    text = engines.map.text().splitlines()
    assert text[0].split() == ["node", "engines", "engine", "ids", "cores"]
    assert [line.split()[0] for line in text[1:5]] == ["pc0", "pc1", "pc2", "pc3"]
    # A count, then the ids: engine 0 on pc0 reads as one engine, never as none.
    assert [line.split()[1] for line in text[1:5]] == ["1", "1", "1", "1"]
    assert sorted(int(line.split()[2]) for line in text[1:5]) == [0, 1, 2, 3]
    assert text[5:] == [engines.map.note] and "share" in engines.map.note   # local nodes share this machine's cores
    html = engines._repr_html_()
    assert "<table>" in html and "pc3" in html


def test_bad_arguments(cluster):
    with pytest.raises(ComputeError, match="per_node"):
        Engines(cluster, per_node=0)
    with pytest.raises(ComputeError, match="timeout"):
        Engines(cluster, timeout=0)


def test_two_per_node_on_two_nodes_then_nothing_left(cluster):
    before = descendants()
    with cluster.engines(per_node=2, nodes="pc[1-2]") as e:
        assert repr(e) == "<Engines(nodes=pc[1-2], backend=local, engines=4 running)>"
        assert {n: len(ids) for n, ids, _ in e.map.rows()} == {"pc1": 2, "pc2": 2}
        assert e.ids(spread=True)[:2] == [e.map.ids("pc1")[0], e.map.ids("pc2")[0]]
        started = descendants() - before
        assert len(started) >= 5  # controller and four engines (plus leashes and nannies)
        assert workloads.estimate_pi(e.view(), samples=400_000).engines == 4
    assert not (descendants() & started), "processes left after the with block"
    assert repr(e) == "<Engines(nodes=pc[1-2], backend=local, engines=stopped)>"


def test_stop_is_idempotent_and_a_stopped_engines_says_so(cluster):
    e = cluster.engines(nodes="pc0")
    e.stop()
    e.stop()
    with pytest.raises(ComputeError, match="not running"):
        e.view()
