"""What each kind of node's Platform answers for the steps that reach across nodes, and for a notebook's start.

``why_no_cluster_network``: a key login or a ping from node to node is tried, or said not to be and why.
``why_apply_earlier_steps``: a notebook applies the earlier steps again, or checks them and stops.
"""

from __future__ import annotations

import pytest

from clusterkit.backends.platform import BOARD_PLATFORM
from clusterkit.backends.sandboxplatform import SANDBOX
from clusterkit.lab.platform import LAB_PLATFORM
from clusterkit.steps.render import matrix


@pytest.mark.parametrize("platform", [BOARD_PLATFORM, LAB_PLATFORM], ids=["board", "lab"])
def test_boards_and_the_lab_have_a_cluster_network_and_check_earlier_steps(platform):
    assert platform.why_no_cluster_network() is None
    assert platform.why_apply_earlier_steps() is None


def test_a_sandbox_says_why_it_sends_nothing_and_applies_earlier_steps_again():
    assert SANDBOX.why_no_cluster_network() == "the local backend has no cluster network"
    assert "applied into them again (only files; nothing runs)" in SANDBOX.why_apply_earlier_steps()


def test_a_matrix_on_sandboxes_runs_nothing_and_says_why(local_cluster):
    names = ["pc0", "pc1"]
    marker = local_cluster["pc0"].local_path("/tmp/ran")
    got = matrix(local_cluster, names, {"pc0": "pc0", "pc1": "pc1"}, f'touch {marker}; true "$T"', title="probe")
    assert got.rows == {n: {"pc0": "not run", "pc1": "not run"} for n in names}
    assert got.note == "not run: the local backend has no cluster network (nothing was sent)"
    assert not marker.exists()
