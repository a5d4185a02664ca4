"""Where each notebook starts: `workbook.needs` says in one line which notebook to run, before anything starts.

The lab test brings up its own lab (``tpreq``) in the state notebook 00 leaves it
(fresh boards), runs each notebook's first cells as a learner would, and checks
the one-line message, that it names notebook 03, and that no node was changed.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import clusterkit
import clusterkit.lab
from clusterkit import workbook
from labnames import lab_name, require_lab

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAME = lab_name("tpreq")


def first_cells_until_needs(notebook: str) -> list[str]:
    """The code cells of a notebook up to and including its ``workbook.needs`` call."""
    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)
    cells = []
    for c in nb.cells:
        if c.cell_type == "code":
            cells.append(c.source)
            if "workbook.needs(" in c.source:
                return cells
    raise AssertionError(f"{notebook} never calls workbook.needs")


def run_first_cells(notebook: str):
    """Run the notebook's first cells in one namespace; the exception the needs cell raised (or None)."""
    scope: dict = {}
    cells = first_cells_until_needs(notebook)
    try:
        for source in cells:
            exec(compile(source, notebook, "exec"), scope)
    except workbook.NotReady as e:
        return e
    finally:
        if "cluster" in scope:
            scope["cluster"].close()
    return None


# ---------------------------------------------------------------- local backend (no root needed)

@pytest.mark.parametrize("notebook", ["03_keys", "04_nfs", "05_time", "06_operations", "07_parallel", "08_mpi"])
def test_each_notebook_checks_before_anything_starts(notebook):
    """The needs call comes before any step is applied and before any engine starts."""
    cells = first_cells_until_needs(notebook)
    assert f'workbook.needs(cluster, "{notebook}"' in cells[-1]
    assert not any(word in "".join(cells) for word in (".apply(", ".engines(", "mpiexec", "reapply("))


def test_local_needs_applies_into_the_sandboxes_and_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        first = workbook.needs(cluster, "08_mpi")
        assert [s.notebook for s in first.stages] == ["01_users", "02_network", "03_keys"]
        assert all(s.outcome.startswith("changed ") for s in first.stages), first.text()
        assert "local backend" in first.text() and "applied" in first._repr_html_()
        passwd = cluster.primary.read_file("/etc/passwd").decode()
        assert any(line.startswith("alice:x:1000:") for line in passwd.splitlines())
        again = workbook.needs(cluster, "08_mpi")
        assert [s.outcome for s in again.stages] == ["nothing to change"] * 3, again.text()


def test_reapply_shows_per_step_what_it_did(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        clusterkit.steps.sandbox.prepare(cluster)
        first = workbook.reapply(cluster, "02_network", "01_users")
        assert [s.notebook for s in first.stages] == ["01_users", "02_network"]   # chain order, not call order
        users = first.stages[0].outcome
        assert users.startswith("changed ") and "files" in users and "pc" in users, users
        again = workbook.reapply(cluster, "01_users", "02_network")
        assert "01_users: users: nothing to change" in again.text()
        assert "02_network: network: nothing to change" in again.text()


def test_one_entry_per_notebook_gives_the_chain_and_what_each_needs():
    assert workbook.CHAIN == ("01_users", "02_network", "03_keys", "04_nfs", "05_time")
    assert workbook.NEEDS["04_nfs"] == ("01_users", "02_network", "03_keys") and "01_users" not in workbook.NEEDS
    for notebook, needed in workbook.NEEDS.items():   # what a notebook needs is checked, and comes before it
        assert all(workbook.NOTEBOOKS[n].check is not None for n in needed), notebook
        assert all(n in workbook.CHAIN and n < notebook for n in needed), notebook


def test_bad_notebook_names_are_refused():
    with pytest.raises(clusterkit.ClusterkitError, match="notebook"):
        workbook.needs(None, "02_network")
    with pytest.raises(clusterkit.ClusterkitError, match="notebooks"):
        workbook.reapply(None, "07_parallel")


# ---------------------------------------------------------------- lab: fresh boards, real sshd

@pytest.fixture
def lab(tmp_path, monkeypatch):
    require_lab()
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    running = clusterkit.lab.up(n=4, name=NAME)
    monkeypatch.setenv("CLUSTERKIT_BACKEND", "lab")
    monkeypatch.setenv("CLUSTERKIT_INVENTORY", str(running.inventory_path))
    try:
        yield running
    finally:
        clusterkit.lab.down(name=NAME)


def node_state(lab) -> dict:
    """What a step or an engine would change, read from inside every node (not through the code under test)."""
    return {n: lab.exec(n, "cat /etc/passwd /etc/hosts /etc/hostname; ip -o -4 addr; "
                           "pgrep -fc 'ipyparallel[.]engine|hydra_pmi_prox[y]' || true").stdout for n in lab.boards}


@pytest.mark.lab
def test_out_of_order_says_run_03_in_one_line(lab):
    before = node_state(lab)
    for notebook in ("04_nfs", "05_time", "07_parallel", "08_mpi"):
        error = run_first_cells(notebook)
        assert isinstance(error, workbook.NotReady), notebook
        line = str(error)
        assert "\n" not in line
        assert "03_keys" in line and line.endswith("first"), line
        assert error.node == f"{NAME}[0-3]" and error.field == "01_users", line
        assert "no user alice" in line
    assert node_state(lab) == before                     # nothing was changed, nothing started

    before_save = lab.inventory()
    with lab.connect() as cluster:
        shown = workbook.reapply(cluster, "01_users", "02_network")
        assert [s.outcome.split(" ")[0] for s in shown.stages] == ["changed", "changed"], shown.text()
        assert lab.inventory() == before_save                     # saved only when asked
        assert shown.save_inventory().path == str(lab.inventory_path)
        assert lab.inventory() != before_save
    error = run_first_cells("08_mpi")
    assert isinstance(error, workbook.NotReady)
    assert error.field == "03_keys" and str(error).endswith("run 03_keys first"), str(error)

    with lab.connect() as cluster:
        shown = workbook.reapply(cluster, "01_users", "02_network", "03_keys")
        assert [s.outcome for s in shown.stages][:2] == ["nothing to change"] * 2, shown.text()
        assert shown.stages[2].outcome.startswith("changed"), shown.text()
        ready = workbook.needs(cluster, "08_mpi")
        assert [s.notebook for s in ready.stages] == ["01_users", "02_network", "03_keys"]
        # One node loses the key: the check names that node and notebook 03.
        odd = f"{NAME}2"
        lab.exec(odd, ": > /home/alice/.ssh/authorized_keys")
        with pytest.raises(workbook.NotReady) as caught:
            workbook.needs(cluster, "07_parallel")
    assert str(caught.value) == f"node {odd}, 03_keys: refuses alice's key: run 03_keys first"
