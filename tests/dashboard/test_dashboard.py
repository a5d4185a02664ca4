"""The dashboard on the local backend with real agents: dead agents, confirmation, stop order, quiet updates."""

import os
import signal
import time

import pytest

from clusterkit.dashboard import Dashboard, NodeState
from clusterkit.dashboard.components import CpuBars, CpuSeries, LedRows
from clusterkit.sample import Sample
from waiting import wait_for


@pytest.fixture
def dash(local_cluster):
    d = local_cluster.dashboard(interval=0.25)
    assert d.wait_for_samples(timeout=15)
    yield d
    d.close()


def test_a_killed_agent_greys_its_node_and_the_rest_goes_on(dash):
    feed = dash.feeds["pc2"]
    os.kill(feed.stream.proc.pid, signal.SIGKILL)
    wait_for(lambda: not dash.states()["pc2"].alive, 60, "pc2 seen dead")
    assert "killed by signal 9" in dash.states()["pc2"].reason
    # The others keep streaming, and the page shows the node greyed out with the reason.
    before = {n: dash.states()[n].seq for n in ("pc0", "pc1", "pc3")}
    wait_for(lambda: all(dash.states()[n].seq > before[n] + 2 for n in before), 60, "three more samples of the others")
    wait_for(lambda: "killed by signal 9" in dash.leds.rows["pc2"], 60, "the reason in pc2's LED row")
    assert "grayscale" in dash.leds.rows["pc2"]
    wait_for(lambda: dash.bars.source.data["state"][2].startswith("down: agent killed"), 60, "pc2's bar down")
    # It comes back by itself and its row lives again.
    wait_for(lambda: dash.states()["pc2"].alive, 60, "pc2's agent back")
    assert feed.starts == 2
    wait_for(lambda: "grayscale" not in dash.leds.rows["pc2"], 60, "pc2's LED row in colour again")


def test_led_buttons_reach_the_chosen_nodes_only(dash):
    dash.node_picker.value = ("pc1",)
    dash.pattern_buttons["larson"].click()
    wait_for(lambda: "#ff0000" in dash.leds.rows["pc1"], 60, "the Larson scanner on pc1")
    assert dash.feeds["pc0"].state.sample.pattern == "cpu"
    dash.node_picker.value = ()
    dash.pattern_buttons["identify"].click()
    wait_for(lambda: all(dash.feeds[n].state.sample.pattern == "identify" for n in dash.names), 60,
             "identify on every node")


def test_shutdown_needs_confirmation(dash):
    dash.power_buttons["poweroff"].click()     # its handler runs in the click and only asks: nothing started
    assert dash.power_log == [] and dash.power_result.value == ""
    assert dash.confirm_box.layout.display == "flex" and "Shut down all 4 nodes" in dash.confirm_text.value
    dash.cancel_button.click()
    assert dash.confirm_box.layout.display == "none"
    assert dash.confirm() is None and dash.power_log == []   # a confirm with nothing asked does nothing


def test_stop_order_is_workers_first_and_refusals_are_shown(dash):
    dash.request("poweroff")
    dash.confirm(wait=True)
    log = dash.power_log
    assert [s.node for s in log] == ["pc1", "pc2", "pc3", "pc0"]
    primary = log[-1]
    assert primary.role == "primary" and all(s.role == "worker" for s in log[:-1])
    assert max(s.finished for s in log[:-1]) <= primary.started
    # The local backend has no root: nothing went down, and every row says why.
    assert all(s.status == "refused" and not s.down for s in log)
    assert "0 of 4 nodes went down" in dash.power_result.value
    assert "no root" in dash.power_result.value
    assert all(st.alive for st in dash.states().values())


def test_close_stops_the_agents_and_the_thread(local_cluster):
    d = Dashboard(local_cluster, interval=0.25)
    assert d.wait_for_samples(timeout=15)
    procs = [f.stream.proc for f in d.feeds.values()]
    d.close()
    assert all(p.poll() is not None for p in procs)
    assert not d._thread.is_alive()


def states(cpu: dict, seq: int) -> dict:
    return {n: NodeState(n, sample=Sample(n, seq, time.time(), cpu=c, leds=["#000000"] * 8), alive=True, seq=seq)
            for n, c in cpu.items()}


def test_an_update_that_changes_nothing_sends_nothing():
    from jupyter_bokeh import BokehModel
    from bokeh.layouts import row

    nodes = ["a", "b"]
    bars, series, leds = CpuBars(nodes), CpuSeries(nodes, points=5), LedRows(nodes)
    model = BokehModel(row(bars.root, series.root))
    sent = []
    model.send = lambda content, buffers=None: sent.append(content)
    s1 = states({"a": 10.0, "b": 20.0}, 1)
    assert bars.update(s1) and series.update(s1) and leds.update(s1)
    n = len(sent)
    assert n > 0
    assert not bars.update(s1) and not series.update(s1) and not leds.update(s1)
    assert len(sent) == n
    # New samples are streamed as one row each; the window rolls over.
    for seq in range(2, 10):
        series.update(states({"a": float(seq), "b": 0.0}, seq))
    assert list(series.source.data["a"]) == [5.0, 6.0, 7.0, 8.0, 9.0]


def test_a_sample_older_than_the_newest_drawn_changes_that_moment_instead_of_adding_one():
    """A row's time is its newest sample's: when only a node whose sample is older changes, the series keeps one
    point a moment (the chart test once saw the series grow with its last time unchanged)."""
    nodes = ["a", "b"]
    series = CpuSeries(nodes, points=5)
    t = time.time()
    first = {"a": NodeState("a", sample=Sample("a", 1, t, cpu=10.0, leds=[]), alive=True, seq=1),
             "b": NodeState("b", sample=Sample("b", 1, t + 1, cpu=20.0, leds=[]), alive=True, seq=1)}
    assert series.update(first)
    later_a = {**first, "a": NodeState("a", sample=Sample("a", 2, t + 0.5, cpu=30.0, leds=[]), alive=True, seq=2)}
    assert series.update(later_a)
    assert list(series.source.data["time"]) == [1000.0 * (t + 1)] and list(series.source.data["a"]) == [30.0]
    newer = {**later_a, "b": NodeState("b", sample=Sample("b", 2, t + 2, cpu=5.0, leds=[]), alive=True, seq=2)}
    assert series.update(newer)
    assert list(series.source.data["time"]) == [1000.0 * (t + 1), 1000.0 * (t + 2)]


def test_watched_processes_count_for_their_node(dash):
    """A process started without the node's environment counts once the dashboard is told its pid."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CLUSTERKIT_NODE"}
    burner = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 300\nwhile time.time() < end: pass"],
                              env=env)
    try:
        assert dash.watch({"pc3": [burner.pid]}) == ["pc3"]
        wait_for(lambda: (dash.cpu()["pc3"] or 0) > 10, 60, "the burner's load counted for pc3")
        assert (dash.cpu()["pc2"] or 0) < 10
        assert dash.feeds["pc3"].settings["pids"] == [burner.pid]
    finally:
        burner.kill()
        burner.wait()
