"""The kiosk: its notebook shows no code, its settings come from the environment and are checked."""

import nbformat
import pytest

from clusterkit.errors import ClusterkitError
from clusterkit.kiosk import NOTEBOOK, idle_seconds, instructor_mode


def test_the_kiosk_notebook_is_one_short_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = nb.cells
    assert "booth()" in cell.source and not cell.outputs


def test_instructor_mode_and_idle_time_from_the_environment(monkeypatch):
    monkeypatch.delenv("CLUSTERKIT_INSTRUCTOR", raising=False)
    monkeypatch.delenv("CLUSTERKIT_BOOTH_IDLE", raising=False)
    assert not instructor_mode() and idle_seconds() == 60.0
    monkeypatch.setenv("CLUSTERKIT_INSTRUCTOR", "1")
    monkeypatch.setenv("CLUSTERKIT_BOOTH_IDLE", "2.5")
    assert instructor_mode() and idle_seconds() == 2.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("CLUSTERKIT_BOOTH_IDLE", bad)
        with pytest.raises(ClusterkitError, match="CLUSTERKIT_BOOTH_IDLE"):
            idle_seconds()
