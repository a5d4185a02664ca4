"""Engines over SSH: the ssh config built from the inventory, and the controller's address."""

import os
import stat

import pytest

from clusterkit.compute import remote
from clusterkit.inventory import parse_inventory

INVENTORY = """
name: pc
nodes: pc[0-2]
primary: pc0
network: 10.0.0.0/24
python: /opt/clusterkit/venv/bin/python
hosts:
  pc2: {port: 2222, user: ada}
"""


@pytest.fixture
def inventory():
    return parse_inventory(INVENTORY, source="test.yaml")


def test_ssh_config_pins_host_keys_and_key(tmp_path, inventory):
    path = remote.write_ssh_config(tmp_path / "ssh_config", inventory, identity="/k/id_ed25519",
                                   known_hosts="/k/known_hosts", nodes=["pc0", "pc2"])
    text = path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    blocks = {b.splitlines()[0]: b for b in text.split("\n\n") if b.startswith("Host ")}
    assert list(blocks) == ["Host pc0", "Host pc2"]
    assert "HostName 10.0.0.1" in blocks["Host pc0"] and "Port 22" in blocks["Host pc0"]
    assert "Port 2222" in blocks["Host pc2"] and "User ada" in blocks["Host pc2"]
    for b in blocks.values():
        for line in ("IdentityFile /k/id_ed25519", "UserKnownHostsFile /k/known_hosts",
                     "StrictHostKeyChecking yes", "BatchMode yes"):
            assert line in b


def test_controller_address_is_on_the_route_to_the_node():
    assert remote.controller_address("127.0.0.1") == "127.0.0.1"
