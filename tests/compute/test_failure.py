"""A node that dies mid-run: its tasks are reported, the load-balanced view retries them, the rest finish.

The node to be killed never finishes a task (it hangs, like a board that stops
answering): whatever the machine's load, it still holds work when the test
pulls its plug, so "mid-run" is a fact and not a race against the clock.
"""

import ipyparallel as ipp
import pytest

from clusterkit import workloads
from waiting import wait_for

RANGES = workloads.prime_ranges(1_200_000, 24)
EXPECTED = 92938  # primes below 1 200 000


@pytest.fixture
def engines(cluster):
    with cluster.engines() as e:
        yield e


@ipp.interactive   # sent by value: the engines cannot import this test module
def count_primes_unless_on(stuck, lo, hi):
    """``count_primes(lo, hi)``, except on node ``stuck``, which never answers (until it is killed)."""
    import os
    import time
    if os.environ.get("CLUSTERKIT_NODE") == stuck:
        time.sleep(3600)    # the behaviour under test: a task that never answers
    from clusterkit.workloads import count_primes
    return count_primes(lo, hi)


def submit_under_way(engines, stuck, **kw):
    """The job on every node, once a task has come back and ``stuck`` holds one (the controller says so)."""
    job = engines.submit(count_primes_unless_on, [(stuck, *r) for r in RANGES], **kw)

    def under_way() -> bool:
        held = [engines.client.queue_status(eid) for eid in engines.ids(stuck)]
        return any(t.ready() for t in job.tasks) and any(h["queue"] + h["tasks"] for h in held)
    wait_for(under_way, 60, f"a first task to finish and {stuck} to hold one")
    return job


def test_direct_view_reports_the_lost_nodes_tasks_and_keeps_the_rest(engines):
    job = submit_under_way(engines, "pc3", balanced=False)
    killed = engines.kill("pc3")
    report = job.report(timeout=120)    # a hang guard: the client fails a dead engine's tasks when it hears
    assert report.lost == ("pc3",) and killed == engines.map.ids("pc3")
    assert [r.index for r in report.failed] == [r.index for r in report.rows if r.node == "pc3"] == \
        list(range(18, 24)), report.text()       # pc3's share: the last quarter
    assert all("EngineError" in r.error for r in report.failed)
    assert [r.status for r in report.rows[:18]] == ["ok"] * 18, report.text()
    for row, value in zip(report.rows[:18], report.results):
        assert value == workloads.count_primes(*row.args[1:])
    assert "lost during the run: pc3" in report.text()
    # The notebook goes on with the rest.
    assert len(engines.view()) == 3
    assert str(engines.refresh().empty_nodes) == "pc3"
    assert engines.view().apply_sync(ipp.interactive(lambda: 1)) == [1, 1, 1]


def test_balanced_view_retries_elsewhere_and_every_task_finishes(engines):
    job = submit_under_way(engines, "pc2", balanced=True, retries=2)
    engines.kill("pc2")
    report = job.report(timeout=120)    # a hang guard: the scheduler retries a dead engine's tasks after 5 s
    assert report.ok, report.text()
    assert sum(report.results) == EXPECTED
    assert report.lost == ("pc2",) and "pc2" not in report.by_node     # its task was finished elsewhere
    # The task pc2 held when it died is named in the report: retried on another node, and finished.
    assert report.retried and all(r.retried_from == "pc2" and r.node != "pc2" for r in report.retried)
    assert "was on pc2 when it was lost; retried on" in report.text()


def test_the_booth_tells_an_engine_that_died_from_a_tile_that_failed():
    """The controller fails a dead engine's task as a RemoteError wrapping EngineError: that is a node
    dropping out (its tiles go to the others), not a fault in the tile."""
    from ipyparallel.error import EngineError, RemoteError

    from clusterkit.booth.scheduler import _engine_died
    assert _engine_died(EngineError("Engine 2 died while running task 'x'"))
    assert _engine_died(RemoteError("EngineError", "Engine 2 died while running task 'x'", ""))
    assert not _engine_died(RemoteError("ZeroDivisionError", "division by zero", ""))
    assert not _engine_died(ValueError("bad tile"))
