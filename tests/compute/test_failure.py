"""A node that dies mid-run: its tasks are reported, the load-balanced view retries them, the rest finish."""

import time

import ipyparallel as ipp
import pytest

from clusterkit import workloads

RANGES = workloads.prime_ranges(1_200_000, 24)
EXPECTED = 92938  # primes below 1 200 000


@pytest.fixture
def engines(cluster):
    with cluster.engines() as e:
        yield e


def wait_started(job, timeout=30):
    deadline = time.monotonic() + timeout
    while not any(t.ready() for t in job.tasks) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_direct_view_reports_the_lost_nodes_tasks_and_keeps_the_rest(engines):
    job = engines.submit(workloads.count_primes, RANGES, balanced=False)
    wait_started(job)
    killed = engines.kill("pc3")
    report = job.report(timeout=60)
    assert report.lost == ("pc3",) and killed == engines.map.ids("pc3")
    assert report.failed, "pc3's share cannot all have finished before it was killed"
    assert {r.node for r in report.failed} == {"pc3"}
    assert all("EngineError" in r.error for r in report.failed)
    for row, value in zip(report.rows, report.results):
        if row.status == "ok":
            assert value == workloads.count_primes(*row.args)
    assert "lost during the run: pc3" in report.text()
    # The notebook goes on with the rest.
    assert len(engines.view()) == 3
    assert str(engines.refresh().empty_nodes) == "pc3"
    assert engines.view().apply_sync(ipp.interactive(lambda: 1)) == [1, 1, 1]


def test_balanced_view_retries_elsewhere_and_every_task_finishes(engines):
    job = engines.submit(workloads.count_primes, RANGES, balanced=True, retries=2)
    assert job.wait_busy("pc2"), "pc2's engine never held a task"
    engines.kill("pc2")
    report = job.report(timeout=90)
    assert report.ok, report.text()
    assert sum(report.results) == EXPECTED
    assert report.lost == ("pc2",)
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
