"""What a learner reads: shell text never typeset as maths, a sane skew chart, why an offset is missing,
and a word when every node shares one machine's cores. No network, no backend."""

from __future__ import annotations

import re

from clusterkit import clock
from clusterkit.compute.enginemap import EngineMap, machine_id
from clusterkit.compute.scaling import Scaling
from clusterkit.ops import checks
from clusterkit.results import NO_MATH, ClusterResult, NodeResult
from clusterkit.steps.base import ApplyResult, Command, NodeOutcome, NodePlan, Plan
from clusterkit.steps.render import Matrix


def _apply_result() -> ApplyResult:
    cmd = 'for p in $(pidof ganesha.nfsd); do kill "$p"; done'
    plan = Plan("nfs", "local", {"pc0": NodePlan("pc0", [Command(cmd)])}, {"pc0": {}})
    outcome = NodeOutcome(would_run=[cmd], ran=["echo $HOME"])
    row = NodeResult(node="pc0", status="ok", exit_code=0, value=outcome)
    return ApplyResult({"pc0": row}, plan=plan, command="apply nfs")


def _outside_no_math(markup: str) -> str:
    """The text of ``markup`` that is not inside the no-maths block (its outer element)."""
    m = re.fullmatch(rf'<div class="{NO_MATH}">(.*)</div>', markup, re.S)
    return "" if m else markup


def test_every_html_view_is_marked_not_maths():
    result = _apply_result()
    views = [result._repr_html_(), result.plan._repr_html_(),
             ClusterResult([NodeResult.from_exit("pc0", 0, "$x$\n", "", 0.1)], command="echo $x")._repr_html_(),
             Matrix("ping", {"pc0": {"pc1": "ok"}})._repr_html_(),
             checks.Table("t", ("a",), [["$p"]])._repr_html_(),
             clock.Skew({"pc0": clock.Clock("pc0", offset=0.0)})._repr_html_(),
             Scaling((1, 2), (1.0, 0.5), cores=1)._repr_html_()]
    for markup in views:
        assert _outside_no_math(markup) == "", markup[:80]
        assert "mathjax_ignore" in NO_MATH and "tex2jax_ignore" in NO_MATH


def test_applied_commands_are_code():
    markup = _apply_result()._repr_html_()
    assert "<code>for p in $(pidof ganesha.nfsd); do kill &quot;$p&quot;; done</code>" in markup
    assert "<code>echo $HOME</code>" in markup


def test_skew_chart_range_is_sane_for_tiny_skews():
    skew = clock.Skew({"pc0": clock.Clock("pc0", offset=0.0), "pc1": clock.Clock("pc1", offset=2e-6),
                       "pc2": clock.Clock("pc2", offset=-5e-7), "pc3": clock.Clock("pc3")})
    fig = skew.chart()
    assert (fig.y_range.start, fig.y_range.end) == (-1.0, 1.0)   # 0.002 ms is a sliver, not full height
    assert fig.yaxis[0].formatter.use_scientific is False        # no −5.000e−4 on the axis
    assert clock.chart_range([0.002, -30.0]) == (-37.5, 37.5)    # a real skew still fits, around zero


def test_test_all_says_why_the_offset_is_missing():
    rows = []
    for node, out in (("pc0", "no-offset chronyd does not answer (506 Cannot talk to daemon)\n"),
                      ("pc1", "no-offset chronyd does not answer (506 Cannot talk to daemon)\n"),
                      ("pc2", "offset 0.000012 slow\n"), ("pc3", "no-offset chrony is not installed\n")):
        row = checks.NodeCheck(node)
        checks._fill(row, out)
        rows.append(row)
    assert rows[2].offset == "-0.012 ms"
    note = checks._offsets_missing(rows)
    assert "pc[0-1]: chronyd does not answer (506 Cannot talk to daemon)" in note
    assert "pc3: chrony is not installed" in note and "notebook 05" in note
    assert checks._offsets_missing(rows[2:3]) == ""


def _map(machines: list[str], cores: int = 2) -> EngineMap:
    answers = {i: {"node": f"pc{i}", "pid": 100 + i, "cores": cores, "machine": m} for i, m in enumerate(machines)}
    return EngineMap.from_answers(answers, [f"pc{i}" for i in range(len(machines))])


def test_engine_map_says_when_the_nodes_share_this_machine():
    here = machine_id()
    assert here                                                  # Linux: the boot id is there
    shared = _map([here] * 4)
    assert shared.shared_cores == 2
    assert "pc[0-3] run on this machine" in shared.note and "shared by all 4 nodes" in shared.note
    assert shared.note in shared.text() and "shared by all 4 nodes" in shared._repr_html_()
    boards = _map(["a", "b", "c", "d"], cores=4)                 # real boards: each its own kernel
    assert boards.shared_cores is None and boards.note == ""
    assert _map(["", "", "", ""]).note == ""                     # engines that could not tell: no claim


def test_speedup_says_the_cores_are_shared():
    s = Scaling((1, 2, 3, 4), (1.0, 0.6, 0.55, 0.5), cores=2)
    assert "share 2 cores" in s.text() and "share 2 cores" in s._repr_html_()
    assert Scaling((1, 2), (1.0, 0.5), cores=None).note == ""


def test_a_long_script_is_named_by_what_it_does_and_folded():
    from clusterkit.steps.actions import Run, is_long
    from clusterkit.lab.nfsserver import ganesha_start
    script = ganesha_start()
    assert is_long(script) and not is_long("exportfs -ra")
    start = Command(script, "(re)start nfs-ganesha and wait until it listens")
    assert start.short == "(re)start nfs-ganesha and wait until it listens"
    assert Command("exportfs -ra", "re-read /etc/exports").short == "exportfs -ra"
    assert Command("x" * 200).short == "x" * 79 + "…"
    # The progress bar: the name, not the script.
    ticks = []

    class Sandbox:   # a node without root: the command is simulated
        privileged = False
    start.simulate(Run(node=Sandbox(), cluster=None, out=NodeOutcome(), tick=ticks.append))
    assert ticks == ["would run: (re)start nfs-ganesha and wait until it listens"]
    # The plan and the apply table: the name, with the script folded under it (still all there, as code).
    plan = Plan("nfs", "lab", {"pc0": NodePlan("pc0", [start])}, {"pc0": {}})
    row = NodeResult(node="pc0", status="ok", exit_code=0, value=NodeOutcome(ran=[script]))
    for markup in (plan._repr_html_(), ApplyResult({"pc0": row}, plan=plan, command="apply nfs")._repr_html_()):
        summary = re.search(r"<summary>(.*?)</summary>", markup).group(1)
        assert "(re)start nfs-ganesha and wait until it listens" in summary and "seq" not in summary
        assert "$(seq 100)" in markup.replace("&quot;", '"')


def test_engine_map_counts_engines_apart_from_their_ids():
    m = _map(["a", "b", "c", "d"], cores=4)
    header, first = m.text().splitlines()[:2]
    assert header.split() == ["node", "engines", "engine", "ids", "cores"]
    assert first.split()[:3] == ["pc0", "1", str(m.ids("pc0")[0])]
    assert "<th>engines</th><th>engine ids</th>" in m._repr_html_()
