"""Before the boards boot: the files that go on each card's boot partition.

Raspberry Pi OS has no default user: the first boot makes the one the card
says. Trixie images (from October 2025) read cloud-init's NoCloud files
(``user-data``, ``network-config``, ``meta-data``); bookworm images read
``userconf.txt`` and an empty ``ssh`` file. A :class:`Card` is what one board's
first boot sets; :func:`render` gives its files, :func:`cards_for` makes the cards
for an inventory, :func:`write` puts them in one folder per node and
:func:`copy_to_boot` onto a mounted card.

Modules: ``card`` (the dataclasses), ``checks`` (each card and the set),
``cloudinit`` (trixie's files), ``userconf`` (bookworm's, and what they leave to
the notebooks), ``render`` (release dispatch, masking), ``wifi`` (the WPA key),
``password`` (hashing), ``plan`` (from an inventory), ``external`` (cloud-init
schema and netplan, where present), ``files`` (writing and copying), ``cli``.
This package imports only the base layer (errors, validate, inventory).
"""

from __future__ import annotations

from .card import DEFAULT_GROUPS, Card, Uplink, Wired
from .checks import check_card, check_cards
from .files import boot_partition_problem, copy_to_boot, read, write
from .password import hash_password
from .plan import Wifi, cards_for
from .render import CARD_FILES, RELEASES, masked, render

__all__ = ["Card", "Wired", "Uplink", "Wifi", "DEFAULT_GROUPS", "RELEASES", "CARD_FILES", "render", "masked",
           "check_card", "check_cards", "cards_for", "hash_password", "write", "read", "copy_to_boot",
           "boot_partition_problem"]
