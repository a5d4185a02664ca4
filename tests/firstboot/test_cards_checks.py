"""Every bad input is refused before anything is written, in one line naming the node and the field, showing no secret."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cardtools import PASSWORD, PSK

from clusterkit.errors import ClusterkitError
from clusterkit.firstboot import Uplink, Wired, check_card, check_cards, hash_password, render, write
from clusterkit.firstboot.wifi import psk_hex

RSA_AS_ED25519 = "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 x"


def bad_cases(pubkey):
    """(change to the fixture card, field named)."""
    return [
        (dict(hostname="pc_0"), "hostname"),
        (dict(hostname="-pc0"), "hostname"),
        (dict(hostname="x" * 64), "hostname"),
        (dict(user="Alice"), "user"),
        (dict(user="root"), "user"),
        (dict(user="1alice"), "user"),
        (dict(uid=999), "uid"),
        (dict(uid=60000), "uid"),
        (dict(uid=True), "uid"),
        (dict(uid="1000"), "uid"),
        (dict(password_hash=PASSWORD), "password_hash"),               # the clear password in the hash's place
        (dict(password_hash="$5$abc$" + "x" * 43), "password_hash"),   # SHA-256, not SHA-512
        (dict(password_hash=None), "sudo_password"),
        (dict(password_hash=None, sudo_password=False, password_login=True), "password_login"),
        (dict(keys=("ssh-ed25519 AAAA",)), "keys[0]"),
        (dict(keys=(pubkey, RSA_AS_ED25519)), "keys[1]"),
        (dict(keys=("-----BEGIN OPENSSH PRIVATE KEY-----",)), "keys[0]"),
        (dict(keys=[pubkey]), "keys"),
        (dict(keys=()), "keys"),                                        # no way in over SSH
        (dict(groups=("users", "Bad Group")), "groups[1]"),
        (dict(timezone="Europe/Londn"), "timezone"),
        (dict(timezone="../etc/passwd"), "timezone"),
        (dict(wired=Wired(interface="eth 0", address="10.0.0.1/24")), "wired.interface"),
        (dict(wired=Wired(address="10.0.0.1")), "wired.address"),
        (dict(wired=Wired(address="10.0.0.300/24")), "wired.address"),
        (dict(wired=Wired(address="10.0.0.0/24")), "wired.address"),
        (dict(wired=Wired(address="10.0.0.255/24")), "wired.address"),
        (dict(wired=Wired(address="10.0.0.1/32")), "wired.address"),
        (dict(uplink=Uplink(interface="wlan0/x", ssid="V", psk=PSK)), "uplink.interface"),
        (dict(uplink=Uplink(interface="eth0", ssid="V", psk=PSK)), "uplink.interface"),
        (dict(uplink=Uplink(ssid="")), "uplink.ssid"),
        (dict(uplink=Uplink(ssid="x" * 33)), "uplink.ssid"),
        (dict(uplink=Uplink(ssid="\u00e9" * 17)), "uplink.ssid"),        # 17 characters, 34 bytes
        (dict(uplink=Uplink(ssid="a\nb")), "uplink.ssid"),
        (dict(uplink=Uplink(ssid="V", psk="short")), "uplink.psk"),
        (dict(uplink=Uplink(ssid="V", psk="x" * 64)), "uplink.psk"),     # 64 but not hex
        (dict(uplink=Uplink(ssid="V", psk="caf\u00e9 passphrase")), "uplink.psk"),
        (dict(uplink=Uplink(ssid="V", psk=PSK, country="gb")), "uplink.country"),
        (dict(uplink=Uplink(psk=PSK)), "uplink.psk"),                    # a key with no Wi-Fi
        (dict(uplink=Uplink(ssid="V", mac="52:54:00:12:34")), "uplink.mac"),
    ]


def test_every_bad_field_is_named_with_its_node(card, pubkey, password_hash):
    for change, fld in bad_cases(pubkey):
        bad = replace(card, **change)
        with pytest.raises(ClusterkitError) as e:
            render(bad)
        err = e.value
        assert (err.node, err.field) == ("pc0", fld), (change, str(err))
        line = str(err)
        assert "\n" not in line and line.startswith(f"node pc0, {fld}: ")
        for secret in (PASSWORD, PSK, password_hash, psk_hex("V", PSK)):
            assert secret not in line, (change, line)


def test_a_good_card_passes(card):
    check_card(card)
    check_card(replace(card, timezone=None, wired=None, uplink=None))
    check_card(replace(card, uplink=Uplink(ssid="V", psk="ab" * 32)))      # the 64-hex key itself


def test_the_set_distinct_names_addresses_macs(cards):
    check_cards(cards)
    a, b, c = cards
    for others, fld in [
        ([a, replace(b, hostname="PC0")], "hostname"),
        ([a, replace(b, node="pc0", hostname="pcx")], "node"),
        ([a, replace(b, wired=Wired(interface="eth1", address="10.0.0.1/16"))], "wired.address"),
        ([replace(a, uplink=Uplink(mac="52:54:00:00:00:01")), replace(b, uplink=Uplink(mac="52:54:00:00:00:01"))],
         "uplink.mac"),
        ([a, b, replace(c, uid=1001)], "uid"),
    ]:
        with pytest.raises(ClusterkitError) as e:
            check_cards(others)
        assert e.value.field == fld and e.value.node == others[-1].node, str(e.value)
    with pytest.raises(ClusterkitError, match="no cards"):
        check_cards([])


def test_nothing_is_written_when_one_card_is_bad(cards, tmp_path):
    bad = [*cards[:2], replace(cards[2], uplink=Uplink(ssid="V", psk="short"))]
    with pytest.raises(ClusterkitError) as e:
        write(bad, tmp_path / "out", validate=False)
    assert e.value.node == "pc2" and e.value.field == "uplink.psk"
    assert not (tmp_path / "out").exists()


def test_hash_password_is_sha512_crypt_and_salted():
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a.startswith("$6$") and a != b
    import subprocess
    salt = a.split("$")[2]
    again = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=PASSWORD + "\n",
                           capture_output=True, text=True, check=True).stdout.strip()
    assert again == a
    assert hash_password(PASSWORD, salt=salt) == a          # a fixed salt: the same hash each time


@pytest.mark.parametrize("password, reason", [("", "is empty"), ("two\nlines", "line break")])
def test_hash_password_refuses(password, reason):
    with pytest.raises(ClusterkitError, match=reason) as e:
        hash_password(password)
    assert e.value.field == "password"
    with pytest.raises(ClusterkitError, match=reason) as e:
        hash_password(password, node="pc1", field="root_password")
    assert (e.value.node, e.value.field) == ("pc1", "root_password")


def test_hash_password_refuses_a_salt_openssl_would_not_take():
    with pytest.raises(ClusterkitError, match="1 to 16") as e:
        hash_password(PASSWORD, salt="no$dollars")
    assert e.value.field == "salt"
