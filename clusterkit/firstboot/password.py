"""A clear password hashed on the spot (SHA-512 crypt), and the hash format a card accepts."""

from __future__ import annotations

import re
import shutil
import subprocess

from ..errors import ClusterkitError

#: A SHA-512 crypt hash: ``$6$[rounds=N$]SALT$HASH`` (what ``openssl passwd -6`` and ``mkpasswd -m sha-512`` give).
SHA512_CRYPT_RE = re.compile(r"^\$6\$(rounds=[0-9]{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$")


def hash_password(password: str, *, node: str | None = None, field: str = "password",
                  salt: str | None = None) -> str:
    """The SHA-512 crypt hash of ``password``, made by ``openssl passwd -6 -stdin``: the one place a hash is made.

    The password goes to openssl on its standard input, never on a command line;
    neither it nor the hash is ever in an error (which names ``node`` and ``field``).
    ``salt`` (up to 16 of ``[./A-Za-z0-9]``): a fixed one, for a hash that is the same
    each time; by default openssl draws a random one.
    """
    if not isinstance(password, str) or not password:
        raise ClusterkitError("is empty", node=node, field=field)
    if "\n" in password or "\r" in password:
        raise ClusterkitError("holds a line break (openssl reads one line)", node=node, field=field)
    if salt is not None and not re.fullmatch(r"[./A-Za-z0-9]{1,16}", salt):
        raise ClusterkitError("is not 1 to 16 of [./A-Za-z0-9]", node=node, field="salt")
    if not shutil.which("openssl"):
        raise ClusterkitError("openssl is not installed here: give a hash made elsewhere (openssl passwd -6)",
                              node=node, field=field)
    done = subprocess.run(["openssl", "passwd", "-6", *(("-salt", salt) if salt else ()), "-stdin"],
                          input=password + "\n", capture_output=True, text=True, timeout=30, check=False)
    hashed = done.stdout.strip()
    if done.returncode != 0 or not SHA512_CRYPT_RE.match(hashed):
        raise ClusterkitError(f"openssl passwd -6 failed (exit code {done.returncode})", node=node, field=field)
    return hashed
