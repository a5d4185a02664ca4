"""A card's files: valid YAML with the expected fields, the same bytes every time, bookworm's two files."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from clusterkit.errors import ClusterkitError
from clusterkit.firstboot import Card, Uplink, Wired, masked, render
from clusterkit.firstboot.wifi import psk_hex

from cardtools import PASSWORD, PSK


def load(files, name):
    return yaml.safe_load(files[name].decode())


def test_trixie_files_and_their_fields(card, password_hash, pubkey):
    files = render(card)
    assert set(files) == {"user-data", "network-config", "meta-data", "ssh"}
    assert files["user-data"].startswith(b"#cloud-config\n")
    assert files["ssh"] == b""
    ud = load(files, "user-data")
    assert ud["hostname"] == "pc0" and ud["manage_etc_hosts"] == "localhost" and ud["timezone"] == "Europe/London"
    (user,) = ud["users"]        # no "default": the image's default user is not made
    assert user["name"] == "alice" and user["uid"] == 1000 and user["primary_group"] == "alice"
    assert user["hashed_passwd"] == password_hash and user["lock_passwd"] is False
    assert user["ssh_authorized_keys"] == [pubkey]
    assert user["sudo"] == "ALL=(ALL:ALL) ALL"
    assert "sudo" in user["groups"] and "gpio" not in user["groups"]
    assert ud["ssh_pwauth"] is False and ud["ssh_genkeytypes"] == ["ed25519"]
    # Once per card, not at every boot (bootcmd's own rhythm): a renamed user's group keeps its number.
    assert ud["bootcmd"] == [["cloud-init-per", "instance", "clusterkit-group", "sh", "-c",
                              "getent group alice >/dev/null || getent group 1000 >/dev/null || "
                              "groupadd --gid 1000 alice"]]
    assert ["systemctl", "enable", "--now", "--no-block", "ssh"] in ud["runcmd"]
    assert "ssh_import_id" not in ud       # skipped without ssh-import-id: keys go in directly
    text = files["user-data"].decode()
    assert "Host keys: ed25519 only" in text and "slow first boot" in text    # the reason is in the file

    net = load(files, "network-config")["network"]
    assert net["version"] == 2 and net["renderer"] == "NetworkManager"
    eth0 = net["ethernets"]["eth0"]
    assert eth0["addresses"] == ["10.0.0.1/24"] and eth0["dhcp4"] is False
    assert "gateway4" not in eth0 and "routes" not in eth0
    assert eth0["networkmanager"]["passthrough"]["ipv4.never-default"] == "true"
    wlan0 = net["wifis"]["wlan0"]
    assert wlan0["dhcp4"] is True and wlan0["regulatory-domain"] == "GB"
    assert wlan0["access-points"] == {"Venue Wi-Fi": {"password": psk_hex("Venue Wi-Fi", PSK)}}

    meta = load(files, "meta-data")
    assert meta["local-hostname"] == "pc0" and meta["instance-id"].startswith("pc0-")


def test_the_card_never_carries_the_clear_secrets(card):
    blob = b"".join(render(card).values())
    assert PSK.encode() not in blob and PASSWORD.encode() not in blob


def test_psk_is_the_wpa_key_of_the_standard():
    # IEEE 802.11i test vector: passphrase "password", SSID "IEEE".
    assert psk_hex("IEEE", "password") == "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
    assert psk_hex("x", "AB" * 32) == "ab" * 32


def test_same_card_same_bytes_and_a_changed_card_is_a_new_instance(card):
    assert render(card) == render(replace(card))
    other = render(replace(card, timezone="UTC"))
    assert load(other, "meta-data")["instance-id"] != load(render(card), "meta-data")["instance-id"]
    moved = render(replace(card, wired=Wired(address="10.0.0.9/24")))
    assert load(moved, "meta-data")["instance-id"] != load(render(card), "meta-data")["instance-id"]


def test_keys_only_locked_password_and_nopasswd_sudo(card):
    ud = load(render(replace(card, password_hash=None, sudo_password=False)), "user-data")
    (user,) = ud["users"]
    assert user["lock_passwd"] is True and "hashed_passwd" not in user
    assert user["sudo"] == "ALL=(ALL) NOPASSWD:ALL"


def test_password_login_turns_on_ssh_pwauth(card):
    assert load(render(replace(card, password_login=True)), "user-data")["ssh_pwauth"] is True


def test_wired_uplink_matched_by_mac_and_renamed(card):
    vm = replace(card, uplink=Uplink(interface="wlan0", mac="52:54:00:AB:CD:EF"))
    net = load(render(vm), "network-config")["network"]
    assert "wifis" not in net
    up = net["ethernets"]["wlan0"]
    assert up == {"match": {"macaddress": "52:54:00:ab:cd:ef"}, "set-name": "wlan0", "dhcp4": True, "optional": True}


def test_no_network_is_an_empty_version_2(card):
    net = load(render(replace(card, wired=None, uplink=None)), "network-config")["network"]
    assert net == {"version": 2, "renderer": "NetworkManager"}


def test_open_wifi_has_no_password(card):
    net = load(render(replace(card, uplink=Uplink(ssid="Open Venue"))), "network-config")["network"]
    assert net["wifis"]["wlan0"]["access-points"] == {"Open Venue": {}}


def test_a_strange_ssid_stays_one_yaml_string(card):
    ssid = 'caf\u00e9 "x": #y'
    net = load(render(replace(card, uplink=Uplink(ssid=ssid, psk=PSK))), "network-config")["network"]
    assert list(net["wifis"]["wlan0"]["access-points"]) == [ssid]


def test_bookworm_carries_the_user_and_ssh(card, password_hash):
    files = render(replace(card, uplink=None), release="bookworm")
    assert files == {"userconf.txt": f"alice:{password_hash}\n".encode(), "ssh": b""}


@pytest.mark.parametrize("change, fld", [
    (dict(password_hash=None, sudo_password=False), "password_hash"),
    (dict(uid=1001), "uid"),
    ({}, "uplink.ssid"),                       # the fixture card has Wi-Fi
])
def test_bookworm_refuses_what_it_cannot_carry(card, change, fld):
    with pytest.raises(ClusterkitError) as e:
        render(replace(card, **change), release="bookworm")
    assert e.value.node == "pc0" and e.value.field == fld


def test_unknown_release(card):
    with pytest.raises(ClusterkitError, match="bullseye.*trixie or bookworm"):
        render(card, release="bullseye")


def test_masked_hides_hash_and_wifi_key(card, password_hash):
    shown = masked(card)
    text = "".join(shown.values())
    assert password_hash not in text and psk_hex("Venue Wi-Fi", PSK) not in text
    assert 'hashed_passwd: "<hidden>"' in shown["user-data"] and '"<hidden>"' in shown["network-config"]


def test_card_repr_hides_secrets(card, password_hash):
    text = repr(card) + str(card) + repr(card.uplink)
    assert password_hash not in text and PSK not in text
    assert isinstance(card, Card) and "Venue Wi-Fi" in text
