"""Shared fixtures. Unit tests touch no network; lab tests need root and namespaces."""

import pytest

import clusterkit


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test marked ``lab`` (``labnames.LAB_MARKS``) runs only where the lab can: see ``labnames.require_lab``."""
    if item.get_closest_marker("lab") is not None:
        from labnames import require_lab    # imported here: it asks the machine whether the lab can run
        require_lab()


@pytest.fixture
def local_cluster(tmp_path):
    """The default four-node inventory on the local backend, in a fresh sandbox."""
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        yield cluster
