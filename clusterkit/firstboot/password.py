"""A clear password hashed on the spot (SHA-512 crypt), and the hash format a card accepts."""

from __future__ import annotations

import re
import shutil
import subprocess

from ..errors import ClusterkitError

#: A SHA-512 crypt hash: ``$6$[rounds=N$]SALT$HASH`` (what ``openssl passwd -6`` and ``mkpasswd -m sha-512`` give).
SHA512_CRYPT_RE = re.compile(r"^\$6\$(rounds=[0-9]{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$")


def hash_password(password: str, *, node: str | None = None) -> str:
    """The SHA-512 crypt hash of ``password``, made by ``openssl passwd -6 -stdin``.

    The password goes to openssl on its standard input, never on a command line;
    neither it nor the hash is ever in an error.
    """
    if not isinstance(password, str) or not password:
        raise ClusterkitError("is empty", node=node, field="password")
    if "\n" in password or "\r" in password:
        raise ClusterkitError("holds a line break (openssl reads one line)", node=node, field="password")
    if not shutil.which("openssl"):
        raise ClusterkitError("openssl is not installed here: give a hash made elsewhere (openssl passwd -6)",
                              node=node, field="password")
    done = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n",
                          capture_output=True, text=True, timeout=30, check=False)
    hashed = done.stdout.strip()
    if done.returncode != 0 or not SHA512_CRYPT_RE.match(hashed):
        raise ClusterkitError(f"openssl passwd -6 failed (exit code {done.returncode})", node=node, field="password")
    return hashed
