"""The labs that tests bring up: their names, their marks, and bringing one up and down.

``CLUSTERKIT_TEST_LAB_TAG`` (one lower-case letter) is appended to every test
lab's name, so two test runs on one machine (two developers' work trees) bring
up distinct labs, with distinct namespaces, links and subnets. CI sets none.
"""

import os
import re
from contextlib import contextmanager

import pytest

import clusterkit.lab
from clusterkit.lab import check

TAG = os.environ.get("CLUSTERKIT_TEST_LAB_TAG", "")
if not re.fullmatch(r"[a-z]?", TAG):
    raise ValueError(f"CLUSTERKIT_TEST_LAB_TAG must be one lower-case letter, not {TAG!r}")


def lab_name(base: str) -> str:
    """``base`` with this run's tag (a lab name is at most 8 characters and ends in a letter)."""
    return base + TAG


#: Why the lab cannot run here (None when it can).
REASON = check.reason()
#: The marks of a module of lab tests: ``lab``, the one lab marker. Before each test that has it,
#: ``tests/conftest.py`` calls :func:`require_lab`.
LAB_MARKS = [pytest.mark.lab]


def require_lab() -> None:
    """Nothing where the lab can run. Where it cannot: skip the test with the check's reason, but as root
    fail it (a machine that should run the lab and cannot must fail the run, not pass it with skips)."""
    if REASON is None:
        return
    if os.geteuid() == 0:
        pytest.fail(f"lab: this machine cannot run the lab as root: {REASON}", pytrace=False)
    pytest.skip(f"lab: {REASON}")


@contextmanager
def running_lab(name: str, n: int, state, *, kind: str | None = None):
    """A lab of ``n`` nodes (of ``kind``: None, the default) with its own workbook state (keys, known hosts), taken
    down afterwards whatever happens."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLUSTERKIT_STATE", str(state))
        lab = clusterkit.lab.up(n=n, name=name, kind=kind)
        try:
            yield lab
        finally:
            clusterkit.lab.down(name=name)

