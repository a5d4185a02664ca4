"""The cards for an inventory: :func:`cards_for` (host names = node names, planned addresses, the uplink)."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from ..errors import ClusterkitError
from ..inventory import Inventory
from .card import DEFAULT_GROUPS, Card, Uplink, Wired
from .checks import check_cards
from .password import hash_password


def Wifi(ssid: str, psk: str | None = None, country: str | None = None) -> Uplink:  # noqa: N802 (reads as a type)
    """The venue's Wi-Fi for every board's uplink: an :class:`Uplink` on DHCP, which :func:`cards_for` puts on
    the inventory's uplink interface. ``psk`` is never shown in a repr."""
    return Uplink(ssid=ssid, psk=psk, country=country)


def cards_for(inventory: Inventory, *, user: str, uid: int, keys: Iterable[str] = (), password: str | None = None,
              password_hash: str | None = None, password_login: bool = False, sudo_password: bool | None = None,
              wifi: Uplink | None = None, timezone: str | None = None, groups: Iterable[str] = DEFAULT_GROUPS,
              nodes: str | Iterable[str] | None = None) -> list[Card]:
    """One checked :class:`Card` per node of ``inventory`` (or of ``nodes``, a node set), in inventory order.

    Host name = node name; wired = the inventory's cluster interface with the node's
    planned static address and the network's prefix (none without a network); uplink =
    ``wifi`` (:func:`Wifi`) on the inventory's uplink interface when given (else left alone).
    ``password`` (clear) is hashed here, once (SHA-512 crypt); or give ``password_hash``.
    ``sudo_password`` defaults to True when there is a password, else False (NOPASSWD).
    """
    if password is not None and password_hash is not None:
        raise ClusterkitError("give password or password_hash, not both", field="password")
    if password is not None:
        password_hash = hash_password(password)
    if sudo_password is None:
        sudo_password = password_hash is not None
    keys = tuple(k.strip() for k in keys)
    cards = []
    for name in inventory.select(nodes):
        spec = inventory[name]
        wired = None
        if inventory.network is not None and spec.address:
            wired = Wired(interface=inventory.interface, address=f"{spec.address}/{inventory.network.prefixlen}")
        uplink = None if wifi is None else replace(wifi, interface=inventory.uplink)
        cards.append(Card(node=name, hostname=name, user=user, uid=uid, password_hash=password_hash,
                          password_login=password_login, sudo_password=sudo_password, keys=keys,
                          groups=tuple(groups), timezone=timezone, wired=wired, uplink=uplink))
    return check_cards(cards)
