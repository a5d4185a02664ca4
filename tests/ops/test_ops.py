"""Operations on the local backend: boot target, test all, temperatures, and the order of stop all / reboot all."""

from __future__ import annotations

import os

import pytest

import clusterkit
from clusterkit import ops
from clusterkit.backends.local import LocalNode, run_process
from clusterkit.cluster import Cluster
from clusterkit.cli import main
from clusterkit.steps import Network, sandbox
from notebook_run import run_notebook


@pytest.fixture
def fresh(tmp_path):
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        sandbox.fresh_image(cluster)
        yield cluster


def test_boot_target_twice_and_read_back(fresh):
    step = ops.BootTarget(fresh)
    plan = step.plan()
    assert plan["pc0"].empty and [c.command for c in plan["pc1"].commands] == ["systemctl set-default multi-user.target"]
    assert step.apply(plan, progress=False).ok
    link = fresh["pc1"].root / "etc/systemd/system/default.target"
    assert os.readlink(link) == "/lib/systemd/system/multi-user.target"
    again = ops.BootTarget(fresh)
    assert again.plan().empty and again.apply(progress=False).ok
    back = step.read_back()
    assert back["pc0"].value == "graphical.target"
    assert {back[n].value for n in ("pc1", "pc2", "pc3")} == {"multi-user.target"}
    assert len(back.gathered()) == 2


def test_test_all_never_invents(fresh):
    table = ops.test_all(fresh)
    rows = {r[0]: r for r in table.rows}
    assert set(rows) == {"pc0", "pc1", "pc2", "pc3"}
    for r in rows.values():
        assert r[1] == "yes" and r[2] == r[3] == "not run" and r[8] == "n/a"
        assert r[5].endswith("GiB)") and len(r[6].split()) == 3
    assert "<table>" in table._repr_html_() and "local backend" in table.text()


def test_temperatures_say_na_without_a_sensor():
    assert ops.parse_temperature("") == (None, "no sensor on this node")
    assert ops.parse_temperature("temp=48.3'C\n") == (48.3, "vcgencmd measure_temp")
    assert ops.parse_temperature("zone acpitz 27800\nzone cpu-thermal 51234\n") == (51.234, "thermal zone cpu-thermal")


def test_temperatures_on_this_machine(fresh):
    table = ops.temperatures(fresh)
    for node, value, source in table.rows:
        assert value == "n/a" or value.endswith("°C")
        assert (value == "n/a") == (source == "no sensor on this node")


def test_power_needs_confirmation(fresh):
    for fn in (ops.stop_all, ops.reboot_all):
        report = fn(fresh)
        assert not report.confirmed and report.steps == [] and "not confirmed" in report.text()


class PoweredNode(LocalNode):
    """A local node whose power commands really run as processes: the node 'goes down' after a delay it is given.

    The command runs ``sync`` and then sleeps and leaves a mark; the mark's time is when the node went down.
    Its Platform (the sandbox's) asks it to power off with its ``sudo``; that runs, so the node is watched.
    """

    delay = 0.2

    def sudo(self, command, *, timeout=None, stdin=None):
        assert command in ("sync; poweroff", "sync; reboot"), command
        mark = self.root / "went-down"
        return run_process(["/bin/sh", "-c", f"sync; sleep {self.delay}; touch {mark}"], node=self.name,
                           command=command, timeout=timeout)


def test_stop_all_every_worker_down_before_the_primary(tmp_path):
    inv = clusterkit.load_inventory()
    nodes = {s.name: PoweredNode(s, root=tmp_path / s.name) for s in inv}
    nodes["pc2"].delay = 0.6   # a slow worker still goes down before the primary starts
    cluster = Cluster(inv, nodes, backend="local")
    report = ops.stop_all(cluster, confirm=True, progress=False)
    assert [s.node for s in report.steps][-1] == "pc0" and report.order_ok
    down = {n: (tmp_path / n / "went-down").stat().st_mtime for n in nodes}
    primary = next(s for s in report.steps if s.role == "primary")
    for w in ("pc1", "pc2", "pc3"):
        assert down[w] <= primary.started + 0.05, (w, down[w], primary.started)
    assert all(down[w] < down["pc0"] for w in ("pc1", "pc2", "pc3"))


def test_cli_ops(fresh, capsys, monkeypatch):
    sandbox_dir = fresh["pc0"].root.parent.parent
    monkeypatch.setenv("CLUSTERKIT_SANDBOX", str(sandbox_dir))
    assert main(["temps", "--backend", "local"]) == 0
    assert "Temperatures" in capsys.readouterr().out
    assert main(["poweroff", "--backend", "local"]) == 2
    assert "--yes" in capsys.readouterr().out
    # A fresh image's /etc/hosts names no node: the name check fails, and the exit status says so.
    rc = main(["test", "--backend", "local"])
    out = capsys.readouterr().out
    assert "Test all" in out and "FAIL: pc0,pc1,pc2,pc3" in out and rc == 1
    # Once notebook 02's step has written /etc/hosts on every node, every row passes.
    assert Network(fresh).apply(progress=False).ok
    rc = main(["test", "--backend", "local"])
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("ok (/etc/hosts)") == 4 and rc == 0


def test_in_a_notebook_the_reboot_report_shows_once(tmp_path):
    """The per-node lines show while the reboot goes, then give way to the report (06 showed both)."""
    import nbformat
    
    cells = ["import os, clusterkit\nfrom clusterkit import ops\n"
             f"cluster = clusterkit.connect(backend='local', sandbox={str(tmp_path / 'sandbox')!r})",
             "report = ops.reboot_all(cluster, confirm=True)\nreport"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    run_notebook(nb, cwd=tmp_path, timeout=300)
    outs = nb.cells[1].outputs
    assert not [o for o in outs if o.output_type == "stream"], outs           # no lines printed for good
    lines = [o for o in outs if o.output_type == "display_data"]
    assert lines and all(o.data["text/plain"] == "" for o in lines), lines  # the live lines, emptied at the end
    assert [o.output_type for o in outs][-1] == "execute_result" and "pc1" in outs[-1].data["text/plain"]
