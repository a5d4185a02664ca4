"""Lab fixtures: one session lab of four nodes for the read-mostly tests.

Tests here need root and namespaces; each module marks itself with
``labnames.LAB_MARKS`` (``lab``): where the lab cannot run, skipped with the check's own reason, or failed
as root (``labnames.require_lab``).
"""

from __future__ import annotations

import pytest

import clusterkit.lab
from labnames import lab_name, require_lab

#: The session lab's name (test labs start with "t").
SESSION_LAB = lab_name("tls")


@pytest.fixture(scope="session")
def lab():
    """A running lab of four nodes, shared by the session, taken down at its end."""
    require_lab()
    running = clusterkit.lab.up(n=4, name=SESSION_LAB)
    yield running
    clusterkit.lab.down(name=SESSION_LAB)


@pytest.fixture(scope="session")
def askpass_path(lab, tmp_path_factory):
    from labtools import askpass
    return askpass(lab, tmp_path_factory.mktemp("askpass"))


@pytest.fixture(scope="module")
def userns_lab():
    """A running lab of four nodes in a user namespace (the default ``lab up``), for one module, then taken down."""
    require_lab()
    name = lab_name("tun")
    running = clusterkit.lab.up(n=4, name=name, kind="userns")
    yield running
    clusterkit.lab.down(name=name)


@pytest.fixture(scope="module")
def userns_askpass(userns_lab, tmp_path_factory):
    from labtools import askpass
    return askpass(userns_lab, tmp_path_factory.mktemp("askpass-userns"))
