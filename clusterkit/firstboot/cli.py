"""``clusterkit firstboot write|copy``: the cards on the command line (registered by clusterkit.cli).

Passwords and Wi-Fi keys come from a file or a prompt, never from the command line
(which every user of the machine can read in the process list).
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from ..errors import ClusterkitError
from ..inventory import load_inventory
from . import RELEASES, Wifi, cards_for, copy_to_boot, read, write
from .external import available
from .userconf import LEFT_TO_NOTEBOOKS

EPILOG = """examples:
  clusterkit firstboot write --user alice --uid 1000 --key ~/.ssh/id_ed25519.pub cards
  clusterkit firstboot write -i boards.yaml --user alice --uid 1000 --key alice.pub \\
      --ask-password --wifi-ssid Venue --wifi-psk-file venue.psk --wifi-country GB --timezone Europe/London cards
  sudo mount /dev/sdX1 /mnt/boot && sudo clusterkit firstboot copy cards/pc0 /mnt/boot && sudo umount /mnt/boot

write makes one folder per node (files holding a secret are mode 0600); copy puts one node's
files onto its card's mounted boot partition, and refuses any folder that is not one.
"""


def _secret_file(path: str, what: str) -> str:
    try:
        text = Path(path).expanduser().read_text()
    except OSError as e:
        raise ClusterkitError(f"cannot read {path}: {e.strerror}", field=what) from None
    value = text.rstrip("\r\n")
    if not value:
        raise ClusterkitError(f"{path} is empty", field=what)
    return value


def _prompt(what: str) -> str:
    first = getpass.getpass(f"{what}: ")
    if not first:
        raise ClusterkitError("nothing was typed", field=what)
    if getpass.getpass(f"{what} (again): ") != first:
        raise ClusterkitError("the two entries differ", field=what)
    return first


def _keys(paths: list[str]) -> list[str]:
    keys = []
    for p in paths:
        try:
            text = Path(p).expanduser().read_text()
        except OSError as e:
            raise ClusterkitError(f"cannot read {p}: {e.strerror}", field="key") from None
        keys += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return keys


def cmd_write(args) -> int:
    inventory = load_inventory(args.inventory)
    password = None
    if args.password_file:
        password = _secret_file(args.password_file, "password")
    elif args.ask_password:
        password = _prompt("password for " + args.user)
    wifi = None
    if args.wifi_ssid:
        psk = _secret_file(args.wifi_psk_file, "wifi-psk") if args.wifi_psk_file else _prompt(
            f"Wi-Fi passphrase for {args.wifi_ssid}")
        wifi = Wifi(args.wifi_ssid, psk, args.wifi_country)
    elif args.wifi_psk_file or args.wifi_country:
        raise ClusterkitError("give --wifi-ssid with the Wi-Fi's key and country", field="wifi-ssid")
    cards = cards_for(inventory, user=args.user, uid=args.uid, keys=_keys(args.key), password=password,
                      password_login=args.password_login, wifi=wifi, timezone=args.timezone, nodes=args.nodes)
    written = write(cards, args.out, release=args.release, force=args.force)
    for node, folder in written.items():
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        print(f"{node}: {folder} ({', '.join(names)})")
    tools = available()
    print(f"checked with: {', '.join(tools)}" if tools else
          "checked by clusterkit only (no cloud-init or netplan on this host)")
    if args.release == "bookworm":
        print("bookworm cards carry the user, its password hash and SSH on; left to the notebooks: "
              + ", ".join(f"{k} ({v})" for k, v in LEFT_TO_NOTEBOOKS.items()))
    return 0


def cmd_copy(args) -> int:
    names = copy_to_boot(read(args.node_dir), args.mountpoint)
    print(f"{args.mountpoint}: wrote {', '.join(names)}")
    return 0


def register(subparsers, add_common) -> None:
    """Add ``firstboot`` to the ``clusterkit`` command."""
    fb = subparsers.add_parser("firstboot", help="the files that go on each card's boot partition",
                               epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = fb.add_subparsers(dest="firstboot_command", required=True)
    # No abbreviations: "--wifi-psk SECRET" must not pass as --wifi-psk-file.
    w = sub.add_parser("write", help="write each node's card files to OUT/NODE/", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    w.add_argument("-i", "--inventory", help="inventory file (default: $CLUSTERKIT_INVENTORY, else the built-in four nodes)")
    w.add_argument("-w", dest="nodes", metavar="NODESET", help="only these nodes (default: all)")
    w.add_argument("--user", required=True, help="the person's login name (no default user exists)")
    w.add_argument("--uid", required=True, type=int, help="the person's UID, the same on every node (1000-59999)")
    w.add_argument("--key", action="append", default=[], metavar="FILE",
                   help="a public key file to authorise (repeat for more); e.g. ~/.ssh/id_ed25519.pub")
    pw = w.add_mutually_exclusive_group()
    pw.add_argument("--password-file", metavar="FILE", help="the password, first line of FILE (hashed here)")
    pw.add_argument("--ask-password", action="store_true", help="prompt for the password (hashed here)")
    w.add_argument("--password-login", action="store_true", help="let sshd accept the password too (default: keys only)")
    w.add_argument("--wifi-ssid", metavar="SSID", help="the Wi-Fi for the uplink (its key: --wifi-psk-file, else a prompt)")
    w.add_argument("--wifi-psk-file", metavar="FILE", help="the Wi-Fi passphrase, first line of FILE")
    w.add_argument("--wifi-country", metavar="CC", help="the Wi-Fi regulatory domain, e.g. GB")
    w.add_argument("--timezone", metavar="ZONE", help="e.g. Europe/London")
    w.add_argument("--release", choices=RELEASES, default="trixie", help="the Raspberry Pi OS release (default trixie)")
    w.add_argument("--force", action="store_true", help="replace different card files already in OUT")
    w.add_argument("out", metavar="OUT", help="the folder to write NODE/ folders into")
    w.set_defaults(func=cmd_write)
    c = sub.add_parser("copy", help="copy one node's files onto its card's mounted boot partition")
    c.add_argument("node_dir", metavar="NODE_DIR", help="a folder written by 'firstboot write', e.g. cards/pc0")
    c.add_argument("mountpoint", metavar="MOUNTPOINT", help="where the card's boot partition (FAT) is mounted")
    c.set_defaults(func=cmd_copy)


