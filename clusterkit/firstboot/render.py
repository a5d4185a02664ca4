"""One card's files for a Raspberry Pi OS release: :func:`render`, and :func:`masked` to show them."""

from __future__ import annotations

from ..errors import ClusterkitError
from . import cloudinit, userconf
from .card import Card
from .checks import check_card

#: The releases a card can be written for, newest first.
RELEASES = ("trixie", "bookworm")
#: Every file name a card may hold, and whether it holds a secret (written mode 0600).
CARD_FILES = {cloudinit.USER_DATA: True, cloudinit.NETWORK_CONFIG: True, cloudinit.META_DATA: False,
              userconf.USERCONF: True, cloudinit.SSH: False}
HIDDEN = "<hidden>"


def check_release(release: str) -> str:
    if release not in RELEASES:
        raise ClusterkitError(f"{release!r} is not a release: choose {' or '.join(RELEASES)}", field="release")
    return release


def render(card: Card, *, release: str = "trixie") -> dict[str, bytes]:
    """The files for ``card``'s boot partition (name -> bytes), checked first; the same card gives the same bytes.

    trixie: cloud-init's ``user-data``, ``network-config``, ``meta-data`` and an empty ``ssh``;
    bookworm: ``userconf.txt`` and ``ssh`` (see :mod:`clusterkit.firstboot.userconf` for what it leaves out).
    """
    check_release(release)
    check_card(card)
    return cloudinit.files(card) if release == "trixie" else userconf.files(card)


def mask(text: str, secrets) -> str:
    """``text`` with every secret replaced by ``<hidden>``."""
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, HIDDEN)
    return text


def masked(card: Card, *, release: str = "trixie") -> dict[str, str]:
    """The card's files as text, with the password hash and the Wi-Fi key shown as ``<hidden>``."""
    return {name: mask(data.decode(), card.secrets()) for name, data in render(card, release=release).items()}
