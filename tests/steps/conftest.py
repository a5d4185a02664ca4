"""Fixtures for the setup steps: a local cluster whose sandboxes look like freshly imaged boards."""

from __future__ import annotations

import pytest

import clusterkit
from clusterkit.steps import sandbox


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """The default four nodes on the local backend, each sandbox a fresh image (one node's pi has another UID)."""
    monkeypatch.setenv("CLUSTERKIT_STATE", str(tmp_path / "state"))
    with clusterkit.connect(backend="local", sandbox=tmp_path / "sandbox") as cluster:
        sandbox.fresh_image(cluster)
        yield cluster


@pytest.fixture
def snapshot():
    """A function: every file under every node's sandbox, by node and path."""
    return take_snapshot


def take_snapshot(cluster) -> dict[str, dict[str, bytes | None]]:
    """Every file under every node's sandbox, by node and path."""
    out = {}
    for node in cluster:
        files = {}
        for p in sorted(node.root.rglob("*")):
            if p.is_file():
                files[str(p.relative_to(node.root))] = p.read_bytes()
        out[node.name] = files
    return out


@pytest.fixture
def cluster(lab):
    """A cluster on the module's ``lab`` fixture (lab tests), closed afterwards."""
    with lab.connect() as c:
        yield c
