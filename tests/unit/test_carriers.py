"""Carriers joined (local backend, no network): one cluster of two inventories, its groups, its file, its checks."""

import pytest

import clusterkit
from clusterkit.carriers import Joined, carriers_of, write_joined
from clusterkit.dashboard.carriers import CarrierGroups
from clusterkit.dashboard.feed import NodeState
from clusterkit.errors import ClusterkitError, InventoryError
from clusterkit.sample import Sample


def inventory(path, name, nodes):
    path.write_text(f"name: {name}\nnodes: {nodes}\nnetwork: 10.9.{len(name)}.0/24\n")
    return path


@pytest.fixture
def two(tmp_path):
    return (inventory(tmp_path / "a.yaml", "carrya", "ca[0-1]"), inventory(tmp_path / "b.yaml", "carryb", "cb[0-2]"))


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
