"""The cards for an inventory: :func:`cards_for` (host names = node names, planned addresses, the uplink)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..errors import ClusterkitError
from ..inventory import Inventory
from .card import DEFAULT_GROUPS, Card, Uplink, Wired
from .checks import check_cards
from .password import hash_password


@dataclass(frozen=True)
class Wifi:
    """The venue's Wi-Fi for every board's uplink; ``psk`` is never shown in a repr."""

    ssid: str
    psk: str | None = field(default=None, repr=False)
    country: str | None = None


def cards_for(inventory: Inventory, *, user: str, uid: int, keys: Iterable[str] = (), password: str | None = None,
              password_hash: str | None = None, password_login: bool = False, sudo_password: bool | None = None,
              wifi: Wifi | None = None, timezone: str | None = None, groups: Iterable[str] = DEFAULT_GROUPS,
              nodes: str | Iterable[str] | None = None) -> list[Card]:
    """One checked :class:`Card` per node of ``inventory`` (or of ``nodes``, a node set), in inventory order.

    Host name = node name; wired = the inventory's cluster interface with the node's
    planned static address and the network's prefix (none without a network); uplink =
    the inventory's uplink interface on Wi-Fi when ``wifi`` is given (else left alone).
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
        uplink = None
        if wifi is not None:
            uplink = Uplink(interface=inventory.uplink, ssid=wifi.ssid, psk=wifi.psk, country=wifi.country)
        cards.append(Card(node=name, hostname=name, user=user, uid=uid, password_hash=password_hash,
                          password_login=password_login, sudo_password=sudo_password, keys=keys,
                          groups=tuple(groups), timezone=timezone, wired=wired, uplink=uplink))
    return check_cards(cards)
