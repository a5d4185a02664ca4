"""Engines on the local backend: started once per module where tests only read, anew where they kill."""

import pytest

import clusterkit


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with clusterkit.connect(backend="local", sandbox=tmp_path_factory.mktemp("sandbox")) as c:
        yield c


@pytest.fixture(scope="module")
def engines(cluster):
    with cluster.engines(per_node=1, timeout=60) as e:
        yield e
