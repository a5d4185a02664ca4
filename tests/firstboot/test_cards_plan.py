"""The cards for an inventory: names, planned addresses with the network's prefix, the uplink, one hash."""

from __future__ import annotations

import pytest
from cardtools import PASSWORD, PSK

from clusterkit.errors import ClusterkitError
from clusterkit.firstboot import Uplink, Wifi, Wired, cards_for
from clusterkit.inventory import parse_inventory

INVENTORY = """
name: pc
nodes: pc[0-3]
primary: pc0
network: 10.1.0.0/16
interface: eth1
uplink: wlan1
hosts:
  pc3: {address: 10.1.0.20}
"""


def test_cards_from_the_inventory(pubkey):
    inv = parse_inventory(INVENTORY)
    cards = cards_for(inv, user="alice", uid=1000, keys=[pubkey + "\n"], password=PASSWORD,
                      wifi=Wifi("Venue", PSK, "GB"), timezone="UTC")
    assert [c.node for c in cards] == [c.hostname for c in cards] == ["pc0", "pc1", "pc2", "pc3"]
    assert [c.wired for c in cards] == [Wired("eth1", "10.1.0.1/16"), Wired("eth1", "10.1.0.2/16"),
                                        Wired("eth1", "10.1.0.3/16"), Wired("eth1", "10.1.0.20/16")]
    assert {c.uplink for c in cards} == {Uplink("wlan1", "Venue", PSK, "GB")}
    assert len({c.password_hash for c in cards}) == 1 and cards[0].password_hash.startswith("$6$")
    assert all(c.sudo_password and not c.password_login and c.keys == (pubkey,) for c in cards)
    assert PSK not in repr(Wifi("Venue", PSK, "GB"))


def test_keys_only_by_default_no_network_no_uplink(pubkey):
    inv = parse_inventory("name: n\nnodes: n[1-2]\n")
    cards = cards_for(inv, user="bob", uid=2000, keys=[pubkey], nodes="n2")
    (card,) = cards
    assert card.node == "n2" and card.password_hash is None and card.sudo_password is False
    assert card.wired is None and card.uplink is None


def test_bad_input_names_node_and_field(pubkey):
    inv = parse_inventory(INVENTORY)
    with pytest.raises(ClusterkitError) as e:
        cards_for(inv, user="alice", uid=1000, keys=[pubkey], wifi=Wifi("Venue", "short"))
    assert (e.value.node, e.value.field) == ("pc0", "uplink.psk")
    with pytest.raises(ClusterkitError, match="not both"):
        cards_for(inv, user="alice", uid=1000, password="x" * 8, password_hash="$6$x")
    with pytest.raises(ClusterkitError) as e:
        cards_for(inv, user="alice", uid=1000)
    assert e.value.field == "keys"
