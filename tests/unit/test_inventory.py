"""The inventory: parsing, NodeSet ranges, address assignment, and every kind of bad input."""

import pytest

from clusterkit.errors import InventoryError
from clusterkit.inventory import DEFAULT_INVENTORY, load_inventory, parse_hosts_file, parse_inventory

GOOD = """
name: pc
nodes: pc[0-3]
primary: pc0
user: alice
network: 10.0.0.0/24
hosts:
  pc3: {address: 10.0.0.20, host: pc3.local, port: 2222, user: bob}
"""


def test_yaml_inventory_expands_ranges_and_assigns_addresses_primary_first():
    inv = parse_inventory(GOOD, source="good.yaml")
    assert list(inv.nodes) == ["pc0", "pc1", "pc2", "pc3"]
    assert inv.primary == "pc0" and inv.workers == ["pc1", "pc2", "pc3"]
    assert [s.address for s in inv] == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.20"]
    pc3 = inv["pc3"]
    assert (pc3.host, pc3.port, pc3.user) == ("pc3.local", 2222, "bob")
    assert inv["pc1"].user == "alice" and inv["pc1"].host == "10.0.0.2"
    assert str(inv.nodeset) == "pc[0-3]"


def test_primary_gets_first_address_even_when_not_first_node():
    inv = parse_inventory("nodes: pc[0-2]\nprimary: pc2\nnetwork: 10.1.0.0/24\n", source="x.yaml")
    assert inv["pc2"].address == "10.1.0.1" and inv["pc0"].address == "10.1.0.2"


def test_default_inventory_has_four_nodes():
    inv = load_inventory(DEFAULT_INVENTORY)
    assert len(inv) == 4 and inv.primary == "pc0" and str(inv.network) == "10.0.0.0/24"


def test_environment_names_the_inventory(tmp_path, monkeypatch):
    p = tmp_path / "mine.yaml"
    p.write_text("nodes: n[1-2]\n")
    monkeypatch.setenv("CLUSTERKIT_INVENTORY", str(p))
    inv = load_inventory()
    assert inv.name == "mine" and list(inv.nodes) == ["n1", "n2"]


def test_hosts_file_like_parallel_ssh():
    inv = parse_hosts_file("# my boards\npi@alpha\nbeta:2200\n\ncarol@gamma:22  # last\n", source="hosts")
    assert list(inv.nodes) == ["alpha", "beta", "gamma"]
    assert inv["alpha"].user == "pi" and inv["beta"].port == 2200 and inv["gamma"].user == "carol"
    assert inv.primary == "alpha"


def test_select_and_exclude_follow_inventory_order():
    inv = parse_inventory(GOOD, source="good.yaml")
    assert inv.select("pc[3,1]") == ["pc1", "pc3"]
    assert inv.select(None, exclude="pc0") == ["pc1", "pc2", "pc3"]
    with pytest.raises(InventoryError, match="pc9"):
        inv.select("pc9")


def test_password_is_never_in_repr():
    inv = parse_inventory("nodes: a\npassword: s3cret-workshop\n", source="x.yaml")
    assert inv.password == "s3cret-workshop"
    assert "s3cret" not in repr(inv) and "s3cret" not in inv._repr_html_()
    assert "password" not in inv.to_dict()
    assert inv.to_dict(include_password=True)["password"] == "s3cret-workshop"


def test_round_trip_through_to_dict():
    import yaml
    inv = parse_inventory(GOOD, source="good.yaml")
    again = parse_inventory(yaml.safe_dump(inv.to_dict()), source="again.yaml")
    assert again.nodes == inv.nodes and again.primary == inv.primary


# (yaml text, field named in the error, node named or None, a word the message holds)
BAD = [
    ("nodes: pc[0-3]\nnodse: x\n", "nodse", None, "did you mean 'nodes'"),
    ("nodes: pc[0-3]\nprimray: pc0\n", "primray", None, "did you mean 'primary'"),
    ("name: pc\n", "nodes", None, "missing"),
    ("nodes: ''\n", "nodes", None, "empty"),
    ("nodes: pc[0-\n", "nodes", None, "malformed"),
    ("nodes: pc[3-1]\n", "nodes", None, "malformed"),
    ("nodes: [pc0, pc1, pc0]\n", "nodes", "pc0", "duplicate"),
    ("nodes: pc[0-3]\nprimary: pc7\n", "primary", "pc7", "not one of the nodes"),
    ("nodes: pc[0-3]\nnetwork: 10.0.0.0/33\n", "network", None, "CIDR"),
    ("nodes: pc[0-3]\nnetwork: 10.0.0.5/24\n", "network", None, "CIDR"),
    ("nodes: pc[0-3]\nnetwork: 10.0.0.0/24\nhosts: {pc1: {address: 10.0.0.300}}\n", "hosts.pc1.address", "pc1", "not an IPv4"),
    ("nodes: pc[0-3]\nnetwork: 10.0.0.0/24\nhosts: {pc1: {address: 10.9.0.3}}\n", "hosts.pc1.address", "pc1", "outside"),
    ("nodes: pc[0-3]\nnetwork: 10.0.0.0/24\nhosts: {pc1: {address: 10.0.0.255}}\n", "hosts.pc1.address", "pc1", "broadcast"),
    ("nodes: pc[0-3]\nnetwork: 10.0.0.0/24\nhosts: {pc1: {address: 10.0.0.0}}\n", "hosts.pc1.address", "pc1", "network address"),
    ("nodes: pc[0-3]\nhosts: {pc1: {address: 10.0.0.7}, pc2: {address: 10.0.0.7}}\n", "hosts.pc2.address", "pc2", "already the address of pc1"),
    ("nodes: pc[0-3]\nport: 70000\n", "port", None, "not a port"),
    ("nodes: pc[0-3]\nhosts: {pc2: {port: ssh}}\n", "hosts.pc2.port", "pc2", "not a port"),
    ("nodes: pc[0-3]\nhosts: {pc2: {adress: 10.0.0.2}}\n", "hosts.pc2.adress", "pc2", "did you mean 'address'"),
    ("nodes: pc[0-3]\nhosts: {pc9: {port: 22}}\n", "hosts", "pc9", "not in nodes"),
    ("nodes: pc[0-3]\nuser: Root!\n", "user", None, "not a valid user name"),
    ("nodes: [pc_0]\n", "nodes", "pc_0", "not a valid host name"),
    ("nodes: pc[0-3]\nuplink: eth0\n", "uplink", None, "must differ"),
    ("nodes: pc[0-3]\nbackend: cloud\n", "backend", None, "not a backend"),
    ("nodes: pc[0-300]\nnetwork: 10.0.0.0/24\n", "network", "pc254", "no free address"),
    ("nodes: pc[0-3]\n  bad: indent\n", "line 2", None, "not valid YAML"),
    ("- just\n- a list\n", "file", None, "mapping"),
]


@pytest.mark.parametrize("text,field,node,words", BAD, ids=[b[1] + ":" + b[3] for b in BAD])
def test_bad_inventory_is_refused_in_one_line_naming_the_field(text, field, node, words):
    with pytest.raises(InventoryError) as info:
        parse_inventory(text, source="cluster.yaml")
    err = info.value
    line = str(err)
    assert "\n" not in line
    assert line.startswith(f"cluster.yaml: {field}")
    assert err.field == field and err.node == node
    assert words in line


BAD_HOSTS = [
    ("pi@alpha\npi@alpha\n", "line 2", "alpha", "duplicate"),
    ("alpha:99999\n", "line 1", "alpha", "not a port"),
    ("Bad User@alpha\n", "line 1", None, "expected [user@]host[:port]"),
    ("# nothing\n\n", "nodes", None, "no hosts"),
]


@pytest.mark.parametrize("text,field,node,words", BAD_HOSTS, ids=[b[3] for b in BAD_HOSTS])
def test_bad_hosts_file_is_refused(text, field, node, words):
    with pytest.raises(InventoryError) as info:
        parse_hosts_file(text, source="hosts")
    assert str(info.value).startswith(f"hosts: {field}") and info.value.node == node
    assert words in str(info.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(InventoryError, match=r"nope.yaml: file: no such file"):
        load_inventory(tmp_path / "nope.yaml")


# A mistake on line 3 is reported on line 3, wherever PyYAML noticed it (its marks count from 0
# and it often notices an unclosed quote, bracket or key only on the next line).
YAML_LINES = [
    ("name: pc\nnodes: pc[0-3]\nprimary:pc0\nuser: pi\n", 3, "could not find expected ':'"),
    ("name: pc\nnodes: pc[0-3]\nprimary: 'pc0\n", 3, "quoted scalar"),
    ("name: pc\nnodes: pc[0-3]\nprimary: 'pc0\nuser: pi\n", 3, "quoted scalar"),
    ("name: pc\nprimary: pc0\nnodes: [pc0, pc1\n", 3, "flow sequence"),
    ("name: pc\nnodes: pc[0-1]\nhosts: {pc0: {port: 2}\nuser: pi\n", 3, "flow mapping"),
    ("name: pc\nnodes: pc[0-3]\n- pc4\n", 3, "expected <block end>"),
    ("name: pc\nnodes: pc[0-3]\nprimary: pc0: x\n", 3, "mapping values are not allowed"),
    ("name: pc\nnodes: pc[0-3]\n\tprimary: pc0\n", 3, "'\\t'"),
    ("name: pc\nnodes: pc[0-3]\nprimary: *pc0\n", 3, "undefined alias"),
    ("name: pc\nnodes: pc[0-3]\nhosts:\n  pc0: {port: 2}\n   pc1: {port: 3}\n", 5, "expected <block end>"),
]


@pytest.mark.parametrize("text,line,words", YAML_LINES, ids=[f"line{c[1]}:{c[2]}" for c in YAML_LINES])
def test_yaml_error_names_the_line_of_the_mistake(text, line, words):
    with pytest.raises(InventoryError) as info:
        parse_inventory(text, source="cluster.yaml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"cluster.yaml: line {line}: not valid YAML"), msg
    assert info.value.field == f"line {line}" and words in msg


@pytest.mark.parametrize("name", ["boards.yaml", "hosts"])
@pytest.mark.parametrize("data,words", [
    (bytes(range(256)) * 4, "not a text file (it holds NUL bytes)"),
    (b"name: pc\nnodes: \xff\xfepc[0-3]\n", "not a UTF-8 text file (byte 0xff at offset 16)"),
    ("name: pc\nnodes: pc[0-3]\n".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
], ids=["binary", "latin-1 bytes", "utf-16"])
def test_binary_or_non_utf8_inventory_is_refused_in_one_line(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: file: {words}"), msg


@pytest.mark.parametrize("name", ["café.yaml", "hosts"])
def test_utf8_inventory_still_loads(tmp_path, name):
    path = tmp_path / name
    path.write_text("# the café's cluster\nname: pc\nnodes: pc[0-1]\n", encoding="utf-8-sig")  # with a BOM
    if name == "hosts":
        path.write_text("# the café's boards\npc0\npc1\n", encoding="utf-8-sig")
    assert list(load_inventory(path).nodes) == ["pc0", "pc1"]
