"""The NFS step's export and fstab lines, rendered offline: the kernel server's (a board, the root lab) and a
user-namespace lab's unfs3 (NFSv3, ``insecure``); and the rendered exports read by the real ``unfsd``."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from clusterkit.lab.unfs3 import UNFS3, UNFSD
from clusterkit.steps import StepError, fstab
from clusterkit.steps.nfsconf import export_options, exports_text, fstab_line, mount_options

OLD = "# /etc/exports: the access control list for filesystems which may be exported\n"


def rendered(export: str, *, root_squash: bool = True, extra=(), needs=()) -> str:
    options = export_options(tuple(extra), root_squash=root_squash, where="pc[0-3]", server_needs=needs)
    return exports_text(OLD, export=export, clients="10.0.0.0/24", options=options)


def test_a_board_export_is_the_step_s_own_options():
    text = rendered("/srv/shared")
    assert text.splitlines()[0] == OLD.strip()
    assert "/srv/shared 10.0.0.0/24(rw,sync,no_subtree_check,root_squash)" in text.splitlines()


def test_unfs3_adds_insecure_and_keeps_root_squashed():
    text = rendered("/srv/shared", needs=UNFS3.export_options)
    assert "/srv/shared 10.0.0.0/24(rw,sync,no_subtree_check,root_squash,insecure)" in text.splitlines()
    # Asked for by the step too: once. Without squashing only when asked.
    assert rendered("/srv/shared", extra=("insecure",), needs=("insecure",)).count("insecure") == 1
    assert "(rw,sync,no_subtree_check,no_root_squash,insecure)" in rendered("/srv/shared", root_squash=False,
                                                                            needs=UNFS3.export_options)


def test_asking_for_secure_where_the_server_needs_insecure_is_refused_naming_the_field():
    with pytest.raises(StepError) as caught:
        rendered("/srv/shared", extra=("secure",), needs=UNFS3.export_options)
    assert caught.value.field == "export_options" and "'insecure'" in caught.value.message


def test_an_nfsv3_worker_line_says_nfs_and_vers_3_and_passes_the_guard():
    v4 = fstab_line(server="pc0", export="/srv/shared", mount="/srv/shared", options=mount_options(()))
    v3 = fstab_line(server="pc0", export="/srv/shared", mount="/srv/shared",
                    options=mount_options(("noatime",), version=UNFS3.version), version=UNFS3.version)
    assert v4.split()[2] == "nfs4" and "vers=" not in v4
    assert v3.split()[:3] == ["pc0:/srv/shared", "/srv/shared", "nfs"]
    assert v3.split()[3].split(",")[-2:] == ["vers=3", "noatime"]
    assert [f for f in fstab.own_checks("proc /proc proc defaults 0 0\n" + v3 + "\n")] == []


def test_the_real_unfsd_reads_the_rendered_exports(tmp_path):
    if not os.access(UNFSD, os.X_OK):
        # A failure where scripts/setup.sh builds it (root, Debian), so a broken setup cannot pass as a skip.
        if os.geteuid() == 0 and shutil.which("apt-get"):
            pytest.fail(f"{UNFSD} is missing, though scripts/setup.sh builds it on this machine: run it")
        pytest.skip(f"{UNFSD} is missing (scripts/setup.sh builds it when run as root on Debian)")
    share = tmp_path / "shared"
    share.mkdir()
    good, bad = tmp_path / "exports", tmp_path / "broken"
    good.write_text(rendered(str(share), needs=UNFS3.export_options))
    bad.write_text(rendered(str(share), needs=UNFS3.export_options).replace("insecure)", "insecure"))
    assert subprocess.run([UNFSD, "-T", "-e", str(good)], capture_output=True).returncode == 0
    assert subprocess.run([UNFSD, "-T", "-e", str(bad)], capture_output=True).returncode != 0   # the test can fail
