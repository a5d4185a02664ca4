"""The mark every lab test module carries: ``lab``, skipped with the check's reason where the lab cannot run."""

import pytest

from clusterkit.lab import check

REASON = check.reason()
LAB = [pytest.mark.lab, pytest.mark.skipif(REASON is not None, reason=f"lab: {REASON}")]
