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

#: Debian's cloud-init and the pure-Python packages it needs beyond the venv's, unpacked (never installed).
CLOUD_INIT_DEBS = ("cloud-init", "python3-configobj", "python3-jsonpatch", "python3-json-pointer")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "clusterkit" / "cloud-init-deb"


@pytest.fixture(scope="session")
def cloud_init_bin(tmp_path_factory) -> Path:
    """A folder with a ``cloud-init`` that runs Debian's cloud-init from its unpacked .deb with this Python.

    The .debs are fetched once with ``apt-get download`` into a cache and unpacked with
    ``dpkg-deb -x``: nothing is installed, no boot service is enabled.
    """
    tree = CACHE / "root" / "usr" / "lib" / "python3" / "dist-packages"
    if not (tree / "cloudinit").is_dir():
        if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
            pytest.skip("no apt-get/dpkg-deb to fetch Debian's cloud-init")
        CACHE.mkdir(parents=True, exist_ok=True)
        got = subprocess.run(["apt-get", "download", *CLOUD_INIT_DEBS], cwd=CACHE, capture_output=True, text=True)
        debs = sorted(CACHE.glob("*.deb"))
        if got.returncode != 0 or len(debs) < len(CLOUD_INIT_DEBS):
            pytest.skip(f"could not fetch Debian's cloud-init: {got.stderr.strip()[:200]}")
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(CACHE / "root")], check=True)
    bin_dir = tmp_path_factory.mktemp("cloud-init-bin")
    exe = bin_dir / "cloud-init"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={tree} exec {sys.executable} {CACHE}/root/usr/bin/cloud-init \"$@\"\n")
    exe.chmod(0o755)
    if subprocess.run([str(exe), "schema", "--help"], capture_output=True).returncode != 0:
        pytest.skip("the unpacked cloud-init does not run with this Python")
    return bin_dir


def needs_netplan():
    if not shutil.which("netplan"):
        pytest.skip("netplan is not installed (scripts/apt-packages.txt)")


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
