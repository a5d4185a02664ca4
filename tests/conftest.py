"""Shared fixtures. Unit tests touch no network; lab tests need root and namespaces."""

import pytest

import clusterkit


@pytest.fixture
def local_cluster(tmp_path):
    """The default four-node inventory on the local backend, in a fresh sandbox."""
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        yield cluster
