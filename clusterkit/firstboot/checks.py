"""Checks before anything is written: each card alone (:func:`check_card`), then the whole set (:func:`check_cards`).

Every refusal is a :class:`~clusterkit.errors.ClusterkitError` naming the node
and the field, in one line; none shows a password, a hash or a Wi-Fi key.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from typing import Iterable

from ..errors import ClusterkitError
from ..validate import HOSTNAME_RE, INTERFACE_RE, USER_RE, split_public_key
from .card import Card, Uplink, Wired
from .password import SHA512_CRYPT_RE
from .wifi import HEX_PSK_RE

#: The UIDs a person gets (below: system accounts; 60000 and up: Debian's reserved ranges).
UID_RANGE = (1000, 59999)
MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
TIMEZONE_RE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def _refuse(card: Card, fld: str, message: str) -> ClusterkitError:
    return ClusterkitError(message, node=card.node, field=fld)


def check_card(card: Card) -> None:
    """Refuse a card that could not boot into what it says, naming its node and the field."""
    if not isinstance(card, Card):
        raise ClusterkitError(f"expected a firstboot.Card, got {type(card).__name__}", field="card")
    if not isinstance(card.node, str) or not card.node:
        raise ClusterkitError("every card names its node", field="node")
    if not isinstance(card.hostname, str) or not HOSTNAME_RE.match(card.hostname):
        raise _refuse(card, "hostname", f"{card.hostname!r} is not a host name (letters, digits and '-', at most 63)")
    if not isinstance(card.user, str) or not USER_RE.match(card.user) or card.user == "root":
        raise _refuse(card, "user", f"{card.user!r} is not a user name for a person (lower case, digits, '_', '-'; not root)")
    if isinstance(card.uid, bool) or not isinstance(card.uid, int) or not UID_RANGE[0] <= card.uid <= UID_RANGE[1]:
        raise _refuse(card, "uid", f"{card.uid!r} is not a person's UID ({UID_RANGE[0]}-{UID_RANGE[1]})")
    _check_login(card)
    for i, g in enumerate(card.groups):
        if not isinstance(g, str) or not USER_RE.match(g):
            raise _refuse(card, f"groups[{i}]", f"{g!r} is not a group name")
    if card.timezone is not None:
        _check_timezone(card)
    if card.wired is not None:
        _check_wired(card, card.wired)
    if card.uplink is not None:
        _check_uplink(card, card.uplink)
    if card.wired and card.uplink and card.wired.interface == card.uplink.interface:
        raise _refuse(card, "uplink.interface", f"{card.uplink.interface} is already the wired cluster interface")


def _check_login(card: Card) -> None:
    h = card.password_hash
    if h is not None and (not isinstance(h, str) or not SHA512_CRYPT_RE.match(h)):
        # Never show the value: it may be a clear password typed in the wrong place.
        raise _refuse(card, "password_hash", "is not a SHA-512 crypt hash ($6$…); give the clear password to "
                      "hash_password() (or cards_for(password=…)), never to the card")
    if card.password_login and h is None:
        raise _refuse(card, "password_login", "password logins need a password: give one, or log in with a key")
    if card.sudo_password and h is None:
        raise _refuse(card, "sudo_password", "sudo would ask for a password this user does not have: give a "
                      "password, or sudo_password=False (NOPASSWD)")
    if not isinstance(card.keys, tuple):
        raise _refuse(card, "keys", "must be a tuple of public-key lines")
    for i, key in enumerate(card.keys):
        try:
            split_public_key(key)
        except ValueError as e:
            raise _refuse(card, f"keys[{i}]", str(e)) from None
    if not card.keys and not card.password_login:
        raise _refuse(card, "keys", "no way in over SSH: give a public key, or password_login=True")


def _check_timezone(card: Card) -> None:
    tz = card.timezone
    if not isinstance(tz, str) or not TIMEZONE_RE.match(tz):
        raise _refuse(card, "timezone", f"{tz!r} is not a time zone name such as Europe/London")
    known = zoneinfo.available_timezones()
    if known and tz not in known:      # no tz database here: the format check is all we can do
        raise _refuse(card, "timezone", f"{tz!r} is not a known time zone (e.g. Europe/London, UTC)")


def _check_wired(card: Card, wired: Wired) -> None:
    if not isinstance(wired.interface, str) or not INTERFACE_RE.match(wired.interface):
        raise _refuse(card, "wired.interface", f"{wired.interface!r} is not an interface name")
    if wired.address is None:
        return
    if not isinstance(wired.address, str) or "/" not in wired.address:
        raise _refuse(card, "wired.address", f"{wired.address!r} must be an address with its prefix, e.g. 10.0.0.1/24")
    try:
        iface = ipaddress.IPv4Interface(wired.address)
    except ValueError as e:
        raise _refuse(card, "wired.address", f"{wired.address!r} is not an IPv4 address/prefix ({e})") from None
    net = iface.network
    if net.prefixlen < 8 or net.prefixlen > 30:
        raise _refuse(card, "wired.address", f"/{net.prefixlen} is not a cluster network's prefix (/8 to /30)")
    if iface.ip in (net.network_address, net.broadcast_address):
        kind = "network" if iface.ip == net.network_address else "broadcast"
        raise _refuse(card, "wired.address", f"{iface.ip} is the {kind} address of {net}")


def _check_uplink(card: Card, up: Uplink) -> None:
    if not isinstance(up.interface, str) or not INTERFACE_RE.match(up.interface):
        raise _refuse(card, "uplink.interface", f"{up.interface!r} is not an interface name")
    if up.mac is not None and (not isinstance(up.mac, str) or not MAC_RE.match(up.mac)):
        raise _refuse(card, "uplink.mac", f"{up.mac!r} is not a MAC address such as 52:54:00:12:34:56")
    if up.ssid is None:
        if up.psk is not None or up.country is not None:
            what = "psk" if up.psk is not None else "country"
            raise _refuse(card, f"uplink.{what}", "is Wi-Fi's, but the uplink has no ssid (a wired uplink)")
        return
    ssid = up.ssid.encode() if isinstance(up.ssid, str) else b""
    if not 1 <= len(ssid) <= 32:
        raise _refuse(card, "uplink.ssid", "must be 1 to 32 bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in up.ssid):
        raise _refuse(card, "uplink.ssid", "holds a control character")
    if up.psk is not None:
        psk = up.psk
        ok = isinstance(psk, str) and (HEX_PSK_RE.match(psk) or (8 <= len(psk) <= 63
                                                                  and all(32 <= ord(c) <= 126 for c in psk)))
        if not ok:   # the reason, never the value
            n = len(psk) if isinstance(psk, str) else 0
            raise _refuse(card, "uplink.psk", f"must be 8-63 printable ASCII characters or 64 hex digits (it has {n})")
    if up.country is not None and (not isinstance(up.country, str) or not COUNTRY_RE.match(up.country)):
        raise _refuse(card, "uplink.country", f"{up.country!r} is not a two-letter country code in capitals, e.g. GB")


def check_cards(cards: Iterable[Card]) -> list[Card]:
    """Check every card, then the set: distinct nodes, hostnames, addresses and MACs, one UID per user."""
    cards = list(cards)
    if not cards:
        raise ClusterkitError("no cards to write", field="cards")
    for c in cards:
        check_card(c)
    seen: dict[tuple[str, object], str] = {}

    def once(c: Card, fld: str, value, what: str) -> None:
        if value is None:
            return
        key = (fld, value)
        if key in seen:
            raise _refuse(c, fld, f"{what} is also {seen[key]}'s")
        seen[key] = c.node

    for c in cards:
        once(c, "node", c.node, f"node name {c.node}")
        once(c, "hostname", c.hostname.lower(), f"host name {c.hostname}")
        if c.wired and c.wired.address:
            once(c, "wired.address", ipaddress.IPv4Interface(c.wired.address).ip, f"address {c.wired.address}")
        if c.uplink and c.uplink.mac:
            once(c, "uplink.mac", c.uplink.mac.lower(), f"MAC address {c.uplink.mac}")
    uids: dict[str, Card] = {}
    for c in cards:
        first = uids.setdefault(c.user, c)
        if first.uid != c.uid:
            raise _refuse(c, "uid", f"{c.user} has UID {c.uid} here but {first.uid} on {first.node}: "
                          "one person, one UID on every node")
    return cards
