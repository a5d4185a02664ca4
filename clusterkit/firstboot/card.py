"""What one card's first boot sets: :class:`Card`, with its wired cluster link and its uplink.

A Card holds no clear secret: the password only as a SHA-512 crypt hash, and
the Wi-Fi PSK, which is never shown in a repr (nor is the hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .wifi import psk_hex

#: The groups Raspberry Pi Imager gives the first user, less those only Raspberry Pi OS has
#: (gpio, spi, i2c): every one of these exists on Debian too (cloud-init would make a missing one).
DEFAULT_GROUPS = ("users", "adm", "dialout", "audio", "netdev", "video", "plugdev", "cdrom", "games",
                  "input", "render", "sudo")


@dataclass(frozen=True)
class Wired:
    """The wired cluster link: a fixed address and no default route (that stays on the uplink)."""

    interface: str = "eth0"
    address: str | None = None     #: "10.0.0.1/24"; None: no address (the interface is left alone)


@dataclass(frozen=True)
class Uplink:
    """The link to the outside, on DHCP: Wi-Fi when ``ssid`` is set, else a wired uplink (a virtual board has no radio).

    ``mac``: when set, the interface with this MAC address is matched and named ``interface``.
    ``psk``: the Wi-Fi passphrase (8-63 printable ASCII) or the 64-hex key; None for an open network.
    ``country``: the Wi-Fi regulatory domain (two letters, e.g. GB).
    """

    interface: str = "wlan0"
    ssid: str | None = None
    psk: str | None = field(default=None, repr=False)
    country: str | None = None
    mac: str | None = None


@dataclass(frozen=True)
class Card:
    """What one board's first boot sets, from the files on its card's boot partition.

    ``password_hash`` is a crypt SHA-512 hash (``$6$…``, see :func:`~clusterkit.firstboot.hash_password`),
    never the clear password; None locks the password (keys only). It is never shown in a repr.
    """

    node: str                      #: the inventory's node name (errors name it)
    hostname: str
    user: str
    uid: int
    password_hash: str | None = field(repr=False)
    password_login: bool = False   #: sshd accepts passwords (cloud-init's ssh_pwauth)
    sudo_password: bool = True     #: sudo asks for the password (False: NOPASSWD)
    keys: tuple[str, ...] = ()     #: authorized public keys, one OpenSSH line each
    groups: tuple[str, ...] = DEFAULT_GROUPS
    timezone: str | None = None
    wired: Wired | None = None
    uplink: Uplink | None = None

    def secrets(self) -> tuple[str, ...]:
        """The secret strings this card's files may hold (masked in every output)."""
        out = [self.password_hash] if self.password_hash else []
        if self.uplink and self.uplink.psk:
            out.append(self.uplink.psk)
            if self.uplink.ssid:
                out.append(psk_hex(  # the derived key is as secret as the passphrase
                    self.uplink.ssid, self.uplink.psk))
        return tuple(dict.fromkeys(out))
