"""The real consumers' validators: netplan parses the network-config, cloud-init's schema the user-data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cardtools import PSK

from clusterkit.errors import ClusterkitError
from clusterkit.firstboot import Uplink, render, write
from clusterkit.firstboot.external import check_files
from clusterkit.firstboot.wifi import psk_hex

#: Where scripts/setup.sh unpacks Debian's cloud-init (never installed), beside the venv that runs the tests.
UNPACKED = Path(sys.prefix) / "share" / "clusterkit" / "cloud-init" / "root"


def missing(what: str) -> None:
    """A validator is not here: a failure where scripts/setup.sh provides it (root, Debian's apt-get), so that
    a broken setup cannot pass as a skip; a skip elsewhere (a normal user, another system)."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        pytest.fail(f"{what} is missing, though scripts/setup.sh provides it on this machine: run scripts/setup.sh")
    pytest.skip(f"{what} is missing (scripts/setup.sh provides it when run as root on Debian)")


@pytest.fixture(scope="session")
def cloud_init_bin(tmp_path_factory) -> Path:
    """A folder with a ``cloud-init`` that runs the unpacked Debian cloud-init with this Python (no boot
    service of it is enabled here). The tests fetch nothing: setup did, once."""
    tree = UNPACKED / "usr" / "lib" / "python3" / "dist-packages"
    if not (tree / "cloudinit").is_dir():
        missing(f"Debian's cloud-init, unpacked in {UNPACKED}")
    bin_dir = tmp_path_factory.mktemp("cloud-init-bin")
    exe = bin_dir / "cloud-init"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={tree} exec {sys.executable} {UNPACKED}/usr/bin/cloud-init \"$@\"\n")
    exe.chmod(0o755)
    ran = subprocess.run([str(exe), "schema", "--help"], capture_output=True, text=True)
    assert ran.returncode == 0, f"the unpacked cloud-init does not run with this Python: {ran.stderr[-300:]}"
    return bin_dir


def needs_netplan():
    if not shutil.which("netplan"):
        missing("netplan (netplan.io in scripts/apt-packages.txt)")


def test_netplan_parses_every_kind_of_network_config(card):
    needs_netplan()
    for variant in (card, replace(card, uplink=Uplink(mac="52:54:00:00:00:01")), replace(card, wired=None, uplink=None),
                    replace(card, uplink=Uplink(ssid="Open"))):
        assert "netplan generate (network-config)" in check_files(render(variant), node="pc0")


def test_netplan_refusal_names_the_file_and_hides_the_key(card):
    needs_netplan()
    files = render(card)
    key = psk_hex("Venue Wi-Fi", PSK).encode()
    files["network-config"] = files["network-config"].replace(b'password: "' + key + b'"', b'password: ["' + key + b'"]')
    with pytest.raises(ClusterkitError) as e:
        check_files(files, node="pc0", secrets=card.secrets())
    message = str(e.value)
    assert e.value.node == "pc0" and e.value.field == "network-config"
    assert "netplan generate refused it: network-config:" in message and "expected scalar" in message
    assert key.decode() not in message and "<hidden>" in message and "clusterkit-card-" not in message


def test_cloud_init_schema_accepts_the_user_data(card, cloud_init_bin, monkeypatch):
    monkeypatch.setenv("PATH", f"{cloud_init_bin}{os.pathsep}{os.environ['PATH']}")
    ran = check_files(render(card), node="pc0", secrets=card.secrets())
    assert "cloud-init schema (user-data)" in ran


def test_cloud_init_schema_refusal_hides_the_hash(card, cloud_init_bin, monkeypatch, password_hash):
    monkeypatch.setenv("PATH", f"{cloud_init_bin}{os.pathsep}{os.environ['PATH']}")
    files = render(card)
    files["user-data"] = files["user-data"].replace(b"    uid: 1000\n", b"    uid: [1000]\n").replace(
        b'hashed_passwd: "' + password_hash.encode() + b'"', b"hashed_passwd: [" + password_hash.encode() + b"]")
    with pytest.raises(ClusterkitError) as e:
        check_files(files, node="pc0", secrets=card.secrets())
    assert e.value.field == "user-data" and "cloud-init schema refused it" in str(e.value)
    assert password_hash not in str(e.value)


def test_write_runs_the_validators_before_writing(cards, tmp_path, monkeypatch):
    needs_netplan()
    import clusterkit.firstboot.cloudinit as ci
    real = ci.network_config
    monkeypatch.setattr(ci, "network_config", lambda c: real(c).replace("dhcp4: true", "dhcp4: sometimes"))
    with pytest.raises(ClusterkitError, match="invalid boolean") as e:
        write(cards, tmp_path / "out")
    assert e.value.node == "pc0"
    assert not (tmp_path / "out").exists()


def test_debian_cloud_init_renders_a_virtual_boards_network(card, cloud_init_bin, tmp_path):
    """Without netplan (a Debian image), cloud-init renders the network-config itself for NetworkManager:
    the cluster address with no gateway, and the wired uplink found by its MAC address, on DHCP."""
    vm = replace(card, uplink=Uplink(interface="wlan0", mac="52:54:00:AB:CD:EF"))
    (tmp_path / "network-config").write_bytes(render(vm)["network-config"])
    done = subprocess.run([str(cloud_init_bin / "cloud-init"), "devel", "net-convert", "-p",
                           str(tmp_path / "network-config"), "-k", "yaml", "-d", str(tmp_path / "out"), "-D", "debian",
                           "-O", "network-manager"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    conns = tmp_path / "out" / "etc" / "NetworkManager" / "system-connections"
    eth0 = (conns / "cloud-init-eth0.nmconnection").read_text()
    assert "method=manual" in eth0 and "address1=10.0.0.1/24" in eth0 and "gateway" not in eth0
    uplink = (conns / "cloud-init-wlan0.nmconnection").read_text()
    assert "mac-address=52:54:00:AB:CD:EF" in uplink and "method=auto" in uplink
