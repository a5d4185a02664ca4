"""The Wi-Fi key a card carries: the 64-hex WPA key, derived from the passphrase and the SSID as Imager does."""

from __future__ import annotations

import hashlib
import re

HEX_PSK_RE = re.compile(r"^[0-9A-Fa-f]{64}$")


def psk_hex(ssid: str, psk: str) -> str:
    """The WPA-PSK key (PBKDF2-SHA1, 4096 rounds, the SSID as salt); a 64-hex ``psk`` is already one.

    The card carries this key, not the passphrase, so a lost card does not tell the
    passphrase (which may open other networks); it still opens this one.
    """
    if HEX_PSK_RE.match(psk):
        return psk.lower()
    return hashlib.pbkdf2_hmac("sha1", psk.encode(), ssid.encode(), 4096, 32).hex()
