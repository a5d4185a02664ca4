"""Names of the labs that tests bring up.

``CLUSTERKIT_TEST_LAB_TAG`` (one lower-case letter) is appended to every test
lab's name, so two test runs on one machine (two developers' work trees) bring
up distinct labs, with distinct namespaces, links and subnets. CI sets none.
"""

import os
import re

TAG = os.environ.get("CLUSTERKIT_TEST_LAB_TAG", "")
if not re.fullmatch(r"[a-z]?", TAG):
    raise ValueError(f"CLUSTERKIT_TEST_LAB_TAG must be one lower-case letter, not {TAG!r}")


def lab_name(base: str) -> str:
    """``base`` with this run's tag (a lab name is at most 8 characters and ends in a letter)."""
    return base + TAG
