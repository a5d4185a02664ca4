"""Network on the local backend: formats detected per node, the managed hosts block, rollback."""

from __future__ import annotations

import shutil

import pytest

from clusterkit.steps import Network

WIRED = """[connection]
id=Wired connection 1
uuid=0b6c2a5e-8c1d-4d9e-9f0a-1b2c3d4e5f60
type=ethernet
interface-name=eth0

[ethernet]

[ipv4]
method=auto

[ipv6]
method=auto
"""


def test_hostname_hosts_and_keyfile(fresh, snapshot):
    result = Network(fresh).apply(progress=False)
    assert result.ok, result.text()
    assert fresh["pc2"].read_file("/etc/hostname") == b"pc2\n"
    hosts = fresh["pc2"].read_file("/etc/hosts").decode()
    assert "10.0.0.1\tpc0" in hosts and "10.0.0.4\tpc3" in hosts and "127.0.1.1" not in hosts
    keyfile = fresh["pc2"].read_file("/etc/NetworkManager/system-connections/cluster-eth0.nmconnection").decode()
    assert "address1=10.0.0.3/24" in keyfile and "never-default=true" in keyfile
    wifi = fresh["pc2"].read_file("/etc/NetworkManager/system-connections/preconfigured.nmconnection").decode()
    assert "method=auto" in wifi  # the uplink stays on DHCP
    assert "ip addr replace 10.0.0.3/24 dev eth0" in result.outcome("pc2").would_run
    first = snapshot(fresh)
    assert Network(fresh).plan().empty
    Network(fresh).apply(progress=False)
    assert snapshot(fresh) == first


def test_profile_found_by_device_not_by_name(fresh):
    path = "/etc/NetworkManager/system-connections/Wired connection 1.nmconnection"
    fresh["pc1"].write_file(path, WIRED.encode(), mode=0o600)
    plan = Network(fresh).plan()
    assert [f.path for f in plan["pc1"].files][-1] == path
    Network(fresh).apply(plan, progress=False)
    text = fresh["pc1"].read_file(path).decode()
    assert "method=manual" in text and "address1=10.0.0.2/24" in text and "never-default=true" in text
    assert "id=Wired connection 1" in text
    assert fresh["pc1"].read_file("/etc/NetworkManager/system-connections/cluster-eth0.nmconnection") is None


@pytest.mark.skipif(shutil.which("nmcli") is None, reason="nmcli (Debian network-manager) is not installed")
def test_keyfile_passes_nmcli_offline(fresh):
    import subprocess
    Network(fresh).apply(progress=False)
    text = fresh["pc0"].read_file("/etc/NetworkManager/system-connections/cluster-eth0.nmconnection").decode()
    r = subprocess.run(["nmcli", "--offline", "connection", "modify", "ipv4.never-default", "yes"], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "address1=10.0.0.1/24" in r.stdout


def test_hosts_block_replaced_never_duplicated(fresh):
    fresh["pc0"].write_file("/etc/hosts", b"127.0.0.1 localhost\n# BEGIN clusterkit\n10.0.0.9 old\n# END clusterkit\n"
                            b"192.168.1.5 printer\n")
    Network(fresh).apply(progress=False)
    Network(fresh, hostnames={"pc3": "node3"}).apply(progress=False)
    hosts = fresh["pc0"].read_file("/etc/hosts").decode()
    assert hosts.count("# BEGIN clusterkit") == 1 and hosts.count("# END clusterkit") == 1
    assert "old" not in hosts and "192.168.1.5 printer" in hosts and "10.0.0.4\tnode3" in hosts


def test_dhcpcd_format_detected(fresh):
    for node in fresh:
        node.path("/etc/NetworkManager/system-connections/preconfigured.nmconnection").unlink()
        node.write_file("/etc/dhcpcd.conf", b"hostname\nclientid\npersistent\n")
    result = Network(fresh).apply(progress=False)
    assert result.ok
    text = fresh["pc3"].read_file("/etc/dhcpcd.conf").decode()
    assert "interface eth0\nstatic ip_address=10.0.0.4/24\nnogateway" in text
    assert Network(fresh).plan().empty


def test_netplan_format_detected(fresh):
    for node in fresh:
        node.path("/etc/NetworkManager/system-connections/preconfigured.nmconnection").unlink()
        node.write_file("/etc/netplan/50-cloud-init.yaml", b"network:\n  version: 2\n  wifis: {}\n")
    result = Network(fresh).apply(progress=False)
    assert result.ok, result.text()
    text = fresh["pc1"].read_file("/etc/netplan/60-clusterkit.yaml").decode()
    assert "addresses: [10.0.0.2/24]" in text and "gateway" not in text
    assert Network(fresh).plan().empty


def test_node_unreachable_on_its_new_address_is_rolled_back(fresh):
    before = {n.name: {p: n.read_file(p) for p in ("/etc/hosts", "/etc/hostname")} for n in fresh}
    step = Network(fresh, probe=lambda node, address: node != "pc2")
    result = step.apply(progress=False)
    assert not result.ok
    assert list(result.failed) == ["pc2"]
    assert "10.0.0.3 did not answer" in result["pc2"].error and result.outcome("pc2").rolled_back
    for path, data in before["pc2"].items():
        assert fresh["pc2"].read_file(path) == data
    assert fresh["pc2"].read_file("/etc/NetworkManager/system-connections/cluster-eth0.nmconnection") is None
    assert fresh["pc1"].read_file("/etc/hostname") == b"pc1\n"
    assert step.rolled_back == {"pc2": "10.0.0.3"}


def test_inventory_switches_to_the_new_address_once_it_answers(tmp_path):
    import clusterkit
    from clusterkit.inventory import load_inventory
    from clusterkit.steps import sandbox
    inv = tmp_path / "boards.yaml"
    inv.write_text("name: pc\nnodes: pc[0-3]\nnetwork: 10.0.0.0/24\nhosts:\n"
                   + "".join(f"  pc{i}: {{host: 192.168.1.{20 + i}}}\n" for i in range(4)))
    with clusterkit.connect(inv, backend="local", sandbox=tmp_path / "sb") as cluster:
        sandbox.fresh_image(cluster)
        step = Network(cluster, probe=lambda node, address: node != "pc3")
        result = step.apply(progress=False)
        assert list(result.failed) == ["pc3"]
        assert step.switched == {"pc0": "10.0.0.1", "pc1": "10.0.0.2", "pc2": "10.0.0.3"}
        assert cluster.inventory["pc1"].host == "10.0.0.2" and cluster.inventory["pc3"].host == "192.168.1.23"
        assert result.inventory_changes["pc2"] == {"host": ("192.168.1.22", "10.0.0.3")}
        assert set(result.inventory_changes) == {"pc0", "pc1", "pc2"}
        assert load_inventory(inv)["pc2"].host == "192.168.1.22"   # the file changes only when asked
        saved = result.save_inventory()
        assert saved.path == str(inv) and "pc[0-2]" in repr(saved)
    again = load_inventory(inv)
    assert again["pc2"].host == "10.0.0.3" and again["pc3"].host == "192.168.1.23"
    assert again["pc2"].address == "10.0.0.3"
    assert (tmp_path / "boards.yaml.clusterkit.bak").read_text().count("192.168.1.") == 4


def test_networkmanager_activates_the_profile_it_was_given():
    """The profile written is brought up by its UUID: ``device reapply`` re-read only the profile already active,
    and on a switch with no DHCP server that is the image's "Wired connection 1", still waiting for a lease (the
    new profile then came up on its own only when that request timed out, after the rollback's wait)."""
    from clusterkit.steps.netconf import apply_command, render
    existing = {"profiles": {"/etc/NetworkManager/system-connections/Wired connection 1.nmconnection": WIRED}}
    changes = render("nm", existing, interface="eth0", cidr="10.0.0.2/24", node="pc1", cluster="pc")
    assert apply_command("nm", "eth0", changes) == \
        "nmcli connection reload && nmcli connection up uuid 0b6c2a5e-8c1d-4d9e-9f0a-1b2c3d4e5f60"
    new = render("nm", {"profiles": {}}, interface="eth0", cidr="10.0.0.2/24", node="pc1", cluster="pc")
    uuid = next(line.split("=", 1)[1] for line in new[0].new.decode().splitlines() if line.startswith("uuid="))
    assert apply_command("nm", "eth0", new) == f"nmcli connection reload && nmcli connection up uuid {uuid}"
    assert "reapply" not in apply_command("nm", "eth0", new)
