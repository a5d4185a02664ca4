"""Carriers joined (local backend, no network): one cluster of two inventories, its groups, its file, its checks."""

import pytest

import clusterkit
from clusterkit.carriers import Joined, carriers_of, write_joined
from clusterkit.dashboard.carriers import CarrierGroups
from clusterkit.dashboard.feed import NodeState
from clusterkit.errors import ClusterkitError, InventoryError
from clusterkit.sample import Sample


def inventory(path, name, nodes, more="", network=True):
    """An inventory file; carrier ``…b`` on 10.9.2.0/24, the others on 10.9.1.0/24 (``network=False``: none)."""
    net = f"network: 10.9.{2 if name.endswith('b') else 1}.0/24\n" if network else ""
    path.write_text(f"name: {name}\nnodes: {nodes}\n{net}{more}")
    return path


@pytest.fixture
def two(tmp_path):
    return (inventory(tmp_path / "a.yaml", "carrya", "ca[0-1]"), inventory(tmp_path / "b.yaml", "carryb", "cb[0-2]"))


def test_the_joined_inventory_keeps_what_the_carriers_share(tmp_path):
    a = inventory(tmp_path / "a.yaml", "carrya", "ca[0-1]", "interface: end0\nuplink: wlan1\npassword: sesame\n")
    b = inventory(tmp_path / "b.yaml", "carryb", "cb[0-1]", "interface: end0\nuplink: wlan1\npassword: sesame\n")
    with clusterkit.join(a, b, backend="local", sandbox=tmp_path / "sandbox") as joined:
        inv = joined.inventory
        assert (inv.interface, inv.uplink, inv.password) == ("end0", "wlan1", "sesame")
        assert inv.network is None                       # 10.9.1.0/24 and 10.9.2.0/24: each carrier its own
        assert inv["cb1"].address == "10.9.2.2" and inv["ca0"].primary and not inv["cb0"].primary
    c = tmp_path / "c.yaml"
    c.write_text("name: carryc\nnodes: cc[0-1]\nnetwork: 10.9.1.0/24\nhosts:\n  cc0: {address: 10.9.1.10}\n"
                 "  cc1: {address: 10.9.1.11}\ninterface: end0\nuplink: wlan1\npassword: other\n")
    with clusterkit.join(a, c, backend="local", sandbox=tmp_path / "sandbox") as joined:
        assert str(joined.inventory.network) == "10.9.1.0/24"    # one network, shared
        assert joined.inventory.password is None               # each carrier's nodes log in with their own


CONFLICTS = {
    "interface": ("interface: end0\n", "interface", None, "eth0 in carrya, end0 in carryb"),
    "uplink": ("uplink: wlan1\n", "uplink", None, "wlan0 in carrya, wlan1 in carryb"),
    "address": ("network: 10.9.1.0/24\n", "address", "cb0", "10.9.1.1 on 10.9.1.0/24 is also the address of ca0"),
    "network": ("network: 10.9.0.0/16\n", "network", None, "10.9.1.0/24 of carrya overlaps 10.9.0.0/16 of carryb"),
}


@pytest.mark.parametrize("case", list(CONFLICTS))
def test_carriers_that_conflict_are_refused_in_one_line_before_anything_is_written(tmp_path, case):
    more, field, node, said = CONFLICTS[case]
    a = inventory(tmp_path / "a.yaml", "carrya", "ca[0-1]")
    b = inventory(tmp_path / "b.yaml", "carryb", "cb[0-1]", more, network=False)
    with pytest.raises(ClusterkitError) as e:
        clusterkit.join(a, b, backend="local", sandbox=tmp_path / "sandbox")
    assert (e.value.field, e.value.node) == (field, node) and said in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(InventoryError, match=said):
        write_joined(tmp_path / "j.yaml", [a, b])
    assert not (tmp_path / "j.yaml").exists()


def test_the_joined_cluster_owns_its_nodes_and_closes_those_it_has_now(two, tmp_path, monkeypatch):
    closed = []
    with clusterkit.join(*two, backend="local", sandbox=tmp_path / "sandbox") as joined:
        carrier_b = joined.carriers["carryb"]
        assert all(joined[n] is not carrier_b[n] for n in carrier_b.nodes)     # its own, not the carrier's
        stale = joined["cb1"]
        fresh = joined.node_for(joined.inventory["cb1"])
        for node in (stale, fresh, carrier_b["cb1"]):
            monkeypatch.setattr(node, "close", lambda node=node: closed.append(node))
        joined.reconnect([fresh])                         # as an apply does when a node is reached anew
        assert closed == [stale] and joined["cb1"] is fresh
        assert joined.run("echo $CLUSTERKIT_NODE", nodes="cb1")["cb1"].stdout.strip() == "cb1"
    assert closed == [stale, fresh, carrier_b["cb1"]]    # the new node first, then the carrier's own


def test_one_call_joins_two_carriers_and_run_spans_both(two, tmp_path):
    with clusterkit.join(*two, backend="local", sandbox=tmp_path / "sandbox") as joined:
        assert isinstance(joined, Joined) and len(joined) == 5
        assert joined.groups == {"carrya": ["ca0", "ca1"], "carryb": ["cb0", "cb1", "cb2"]}
        assert joined.inventory.primary == "ca0" and joined.carrier_of("cb2") == "carryb"
        assert joined.carriers["carryb"].inventory.primary == "cb0"      # each keeps its own primary
        result = joined.run("echo $CLUSTERKIT_NODE")
        assert result.ok and {n: r.stdout.strip() for n, r in result.items()} == {n: n for n in joined.nodes}


def test_the_joined_file_is_an_inventory_path_and_one_cli_command_writes_it(two, tmp_path, capsys):
    from clusterkit.cli import main
    target = tmp_path / "joined.yaml"
    assert main(["join", str(two[0]), str(two[1]), "-o", str(target), "--backend", "local"]) == 0
    assert "2 carriers joined" in capsys.readouterr().out
    assert carriers_of(target) == [two[0].resolve(), two[1].resolve()] and carriers_of(two[0]) is None
    with clusterkit.connect(target, backend="local", sandbox=tmp_path / "sandbox") as joined:
        assert joined.name == "carrya-carryb" and set(joined.groups) == {"carrya", "carryb"}


def test_a_node_in_two_carriers_is_refused_before_anything_is_written(tmp_path):
    a = inventory(tmp_path / "a.yaml", "carrya", "pc[0-1]")
    b = inventory(tmp_path / "b.yaml", "carryb", "pc[1-2]")
    with pytest.raises(InventoryError, match="both carrya and carryb") as e:
        write_joined(tmp_path / "j.yaml", [a, b])
    assert e.value.node == "pc1" and not (tmp_path / "j.yaml").exists()
    with pytest.raises(ClusterkitError, match="both carrya and carryb"):
        clusterkit.join(a, b, backend="local", sandbox=tmp_path / "sandbox")
    (tmp_path / "one.yaml").write_text(f"carriers: [{a}]\n")
    with pytest.raises(InventoryError, match="two or more"):
        carriers_of(tmp_path / "one.yaml")


def test_the_dashboard_shows_each_carrier_and_which_one_is_unreachable():
    panel = CarrierGroups({"carrya": ["ca0", "ca1"], "carryb": ["cb0"]})
    up = {n: NodeState(n, sample=Sample(n, 1, 0.0, cpu=1.0), alive=True, seq=1) for n in ("ca0", "ca1", "cb0")}
    assert panel.update(up) and not panel.update(up)
    assert 'data-carrier="carrya" data-up="1"' in panel.source.value and "2 of 2 nodes answer" in panel.source.value
    cut = dict(up, cb0=NodeState("cb0", alive=False, reason="agent silent for 4 s"))
    assert panel.update(cut)
    assert 'data-carrier="carryb" data-up="0"' in panel.source.value
    assert "unreachable: no node answers (agent silent for 4 s)" in panel.source.value
