"""The dashboard's costs and speed, as medians.

    python benchmarks/bench_dashboard.py [--seconds 10] [--no-browser]

1. Agent CPU per node at 2 samples a second (target < 1 % of a core): four
   local agents (``--scope node``, which reads every process's table) and one
   ``--scope host`` agent, each process's CPU time over ``--seconds``.
2. Kernel-side cost of updating a dashboard of 64 nodes at 2 Hz (target < 5 %
   of a core): the real Dashboard and its BokehModel fed with changing samples,
   the update thread's CPU time per second of wall time (serialising the bokeh
   patches included; the ZMQ send is not, there is no kernel here).
3. Bytes sent towards the browser per update: the BokehModel's patch messages,
   for a streamed update against the same data replaced whole.
4. Time from a sample taken on a node to the change on the page in Chromium
   (target < 500 ms): a JupyterLab and Debian's Chromium; on the page, the time
   at which a new row of the named ``cpu_history`` source is seen (after the
   next animation frame) minus the time the agent took the row's sample.
No asserts: figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

import clusterkit
from clusterkit.dashboard import Dashboard, NodeState
from clusterkit.sample import Sample
from clusterkit.inventory import parse_inventory

REPO = Path(__file__).resolve().parents[1]


def cluster_of(n: int, sandbox: str) -> clusterkit.Cluster:
    inv = parse_inventory(f"name: bench{n}\nnodes: n[0-{n - 1}]\n", source=f"bench{n}.yaml")
    return clusterkit.connect(inv, backend="local", sandbox=sandbox)


def agent_cpu(seconds: float, sandbox: str) -> dict[str, float]:
    """Percent of a core used by each agent at 2 samples a second, after a second of warm-up."""
    cluster = cluster_of(4, sandbox)
    streams = {n.name: n.open_stream(f"{sys.executable} -m clusterkit.agent --scope node --interval 0.5 "
                                     f"--node {n.name}") for n in cluster}
    host = subprocess.Popen([sys.executable, "-m", "clusterkit.agent", "--interval", "0.5"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    procs = {name: psutil.Process(s.proc.pid) for name, s in streams.items()}
    procs["host scope"] = psutil.Process(host.pid)
    readers = [threading.Thread(target=lambda s=s: [None for _ in iter(s.readline, "")], daemon=True)
               for s in streams.values()]
    readers.append(threading.Thread(target=lambda: [None for _ in host.stdout], daemon=True))
    for r in readers:
        r.start()
    time.sleep(1.0)
    before = {k: sum(p.cpu_times()[:2]) for k, p in procs.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    used = {k: 100.0 * (sum(p.cpu_times()[:2]) - before[k]) / wall for k, p in procs.items()}
    for s in streams.values():
        s.close()
    host.stdin.close()
    host.wait(5)
    return used


class FakeFeed:
    def __init__(self, name: str):
        self.state = NodeState(name, alive=True, reason="")

    def close(self) -> None:
        pass


def dashboard_cost(seconds: float, sandbox: str, nodes: int = 64) -> tuple[float, float, float, int, int]:
    """CPU percent of one core to update a ``nodes``-node dashboard at 2 Hz; bytes per update (streamed, whole)."""
    cluster = cluster_of(nodes, sandbox)
    dash = Dashboard(cluster, interval=0.5, agents=False)
    dash.feeds = {n: FakeFeed(n) for n in dash.names}
    sizes: list[int] = []

    def count(content, buffers=None):
        sizes.append(len(json.dumps(content)) + sum(len(b) for b in buffers or []))

    dash.chart.send = count
    ticks = int(seconds * 2)
    cpu, per_update = [], []
    seq = 0
    for i in range(ticks + 4):
        seq += 1
        for k, f in enumerate(dash.feeds.values()):
            load = 50 + 45 * ((i + k) % 7) / 6 - 20
            f.state.sample = Sample(f.state.name, seq, time.time(), cpu=round(load, 1), cores=[load, load],
                                    leds=["#00ff00"] * (1 + (i + k) % 8) + ["#000000"] * (7 - (i + k) % 8),
                                    brightness=0.2, pattern="cpu")
            f.state.seq = seq
            f.state.received = time.monotonic()
        sizes.clear()
        t0 = time.thread_time()
        dash.series.update(dash.states())          # the streamed part alone, for its bytes
        streamed = sum(sizes)
        dash.update()                              # the bars, sensors and LED rows as the thread does
        spent = time.thread_time() - t0
        if i >= 4:
            cpu.append(spent)
            per_update.append(streamed)
        time.sleep(0.5)
    sizes.clear()
    dash.series.source.data = dict(dash.series.source.data)   # the same window, replaced whole
    whole = sum(sizes)
    rows = len(dash.series.source.data["time"])
    dash.close()
    return 100.0 * sum(cpu) / (0.5 * len(cpu)), statistics.median(cpu) * 1000, statistics.median(per_update), whole, rows


LATENCY_JS = """() => new Promise((resolve) => {
  let src = null;
  for (const d of Bokeh.documents) { src = src || d.get_model_by_name('cpu_history'); }
  const out = []; let last = null;
  const timer = setInterval(() => {
    const t = src.data.time; const now = t.length ? t[t.length - 1] : null;
    if (now !== null && now !== last) {
      last = now;
      requestAnimationFrame(() => { out.push(Date.now() - now); if (out.length >= %d) { clearInterval(timer); resolve(out); } });
    }
  }, 2);
})"""


def page_latency(samples: int) -> list[float]:
    """Milliseconds from a sample on a node to the new row on the page, in Chromium."""
    sys.path.insert(0, str(REPO / "tests" / "browser"))
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    from harness import KERNEL_IDLE, chromium, jupyterlab

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = tmp / "nb"
        root.mkdir()
        nb = new_notebook(cells=[new_code_cell("import clusterkit\ncluster = clusterkit.connect()\n"
                                               "dash = cluster.dashboard()\ndash")],
                          metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
        nbformat.write(nb, root / "latency.ipynb")
        env = dict(os.environ, CLUSTERKIT_BACKEND="local", CLUSTERKIT_SANDBOX=str(tmp / "sandbox"))
        with jupyterlab(root, env=env, tmp=tmp) as lab, chromium(tmp) as page:
            page.goto(lab.url("lab/tree/latency.ipynb"))
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function("() => window.Bokeh && Bokeh.documents.some(d => d.get_model_by_name('cpu_history'))",
                                   timeout=60_000)
            time.sleep(2)
            return page.evaluate(LATENCY_JS % samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium latency")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as sandbox:
        used = agent_cpu(args.seconds, sandbox)
        node = [v for k, v in used.items() if k != "host scope"]
        print(f"agent CPU at 2 samples/s: median {statistics.median(node):.2f} % of a core per node "
              f"(scope node, {len(node)} agents; max {max(node):.2f} %); host scope {used['host scope']:.2f} % "
              f"(target < 1 %)")
        pct, ms, streamed, whole, rows = dashboard_cost(args.seconds, sandbox)
        print(f"dashboard of 64 nodes at 2 Hz: {pct:.2f} % of a core in the kernel "
              f"(median {ms:.1f} ms per update; target < 5 %)")
        print(f"bytes towards the browser per update: median {streamed:.0f} B streamed for the time series "
              f"(the same {rows}-row window replaced whole: {whole} B)")
    if not args.no_browser:
        lat = page_latency(30)
        print(f"sample on a node to the page in Chromium: median {statistics.median(lat):.0f} ms "
              f"(min {min(lat):.0f}, max {max(lat):.0f}, {len(lat)} updates; target < 500 ms)")


if __name__ == "__main__":
    main()
