"""Where a notebook waits for the learner (workbook.pause) and how a solution's output is folded away (%%solution)."""

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from clusterkit import workbook
from clusterkit.kernel import SOLUTION_TITLE
from notebook_run import run_notebook


def test_a_test_run_is_unattended_and_goes_straight_on(monkeypatch, capsys):
    monkeypatch.delenv(workbook.UNATTENDED, raising=False)
    assert not workbook.attended()           # pytest sets PYTEST_CURRENT_TEST, as under nbval
    workbook.pause("The dashboard above is live.")
    assert "not stopping" in capsys.readouterr().out


def test_with_a_learner_run_all_stops_once_then_goes_on(monkeypatch, capsys):
    monkeypatch.setenv(workbook.UNATTENDED, "0")
    assert workbook.attended()
    with pytest.raises(workbook.Paused) as stop:
        workbook.pause("The panel above is live.", key="test-once")
    lines = stop.value._render_traceback_()
    assert lines[0].startswith("Run All stops here on purpose. The panel above is live.")
    assert "run this cell again" in " ".join(lines) and "Traceback" not in " ".join(lines)
    workbook.pause("The panel above is live.", key="test-once")   # the learner runs it again
    assert capsys.readouterr().out.strip() == "Going on."
    monkeypatch.setenv(workbook.UNATTENDED, "1")
    assert not workbook.attended()


def _run(cells, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    run_notebook(nb, cwd=tmp_path, timeout=120)
    return nb


def test_a_solution_runs_and_its_output_waits_in_a_closed_box(tmp_path):
    nb = _run(["import clusterkit", "%%solution\nanswer = 6 * 7\nprint('the answer is', answer)\nanswer",
               "assert answer == 42"], tmp_path)
    outs = nb.cells[1].outputs
    assert [o.output_type for o in outs] == ["display_data"]
    assert "application/vnd.jupyter.widget-view+json" in outs[0].data   # the box, closed
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    box = next(m["state"] for m in state.values() if m["model_name"] == "AccordionModel")
    assert box["titles"] == [SOLUTION_TITLE] and box["selected_index"] is None


def test_a_failing_solution_fails_its_cell(tmp_path):
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        _run(["import clusterkit", "%%solution\nprint('trying')\n1 / 0"], tmp_path)
