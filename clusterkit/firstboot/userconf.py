"""The bookworm card: ``userconf.txt`` (the user and its password hash) and an empty ``ssh`` file.

Bookworm images read only these two from the boot partition (anything more went
through Raspberry Pi Imager's ``firstrun.sh``, Imager's private mechanism that
changes with its versions, so clusterkit does not write one). What a bookworm
card carries: the user's name and password hash (``userconf`` renames the image's
first user, UID 1000) and sshd switched on, with password logins. What it leaves
to the notebooks: the host name and static address (02), keys and key-only
logins (03), the UID (01), the time zone (05). Refused, rather than dropped: a
card with no password (the only way in), a UID other than 1000, and Wi-Fi (a
board reached only over Wi-Fi would be unreachable).
"""

from __future__ import annotations

from ..errors import ClusterkitError
from .card import Card

USERCONF, SSH = "userconf.txt", "ssh"
#: What a bookworm card leaves to the notebooks (shown by the CLI and the notebook).
LEFT_TO_NOTEBOOKS = {"hostname": "02_network", "wired.address": "02_network", "keys": "03_keys",
                     "password_login": "03_keys", "timezone": "05_time"}


def check(card: Card) -> None:
    def refuse(fld: str, message: str) -> ClusterkitError:
        return ClusterkitError(message, node=card.node, field=fld)
    if card.password_hash is None:
        raise refuse("password_hash", "bookworm's userconf.txt needs a password (its only way in); give one, "
                     "or use a trixie image with keys")
    if card.uid != 1000:
        raise refuse("uid", f"bookworm's userconf renames the image's first user, UID 1000; {card.uid} is "
                     "given in notebook 01 instead (or use a trixie image)")
    if card.uplink is not None and card.uplink.ssid is not None:
        raise refuse("uplink.ssid", "bookworm takes Wi-Fi only through Imager's firstrun.sh: set Wi-Fi in Imager, "
                     "or use a trixie image")


def files(card: Card) -> dict[str, bytes]:
    check(card)
    return {USERCONF: f"{card.user}:{card.password_hash}\n".encode(), SSH: b""}
