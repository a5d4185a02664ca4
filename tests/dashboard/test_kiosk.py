"""The booth kiosk: shutdown only for an instructor, one workload at a time, the page's notebook shows no code."""

import nbformat

from clusterkit.kiosk import NOTEBOOK, Kiosk


def test_visitors_get_no_power_buttons_and_instructors_do(local_cluster, monkeypatch):
    monkeypatch.delenv("CLUSTERKIT_INSTRUCTOR", raising=False)
    k = Kiosk(local_cluster)
    try:
        assert not k.instructor and not hasattr(k.dashboard, "power_buttons")
    finally:
        k.close()
    monkeypatch.setenv("CLUSTERKIT_INSTRUCTOR", "1")
    k = Kiosk(local_cluster)
    try:
        assert k.instructor and set(k.dashboard.power_buttons) == {"reboot", "poweroff"}
    finally:
        k.close()


def test_one_workload_at_a_time(local_cluster):
    k = Kiosk(local_cluster, instructor=False, seconds=1)
    try:
        run = k.start()
        assert run is not None and k.start_button.disabled
        assert k.start() is None
        run.join(20)
        assert not k.start_button.disabled and k.note.value == "Done. Press again!"
    finally:
        k.close()


def test_the_kiosk_notebook_is_one_short_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = nb.cells
    assert "booth()" in cell.source and not cell.outputs
