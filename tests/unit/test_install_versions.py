"""Which installed versions of clusterkit are in use is read by whole path, not by the version's name.

A version's name is its content hash, so a test's venv and the host's venv hold folders of the same
name when they install the same checkout. A kernel of the host's (a notebook running beside the
tests) held the host's folder open, and setup in the test's venv then kept its own folder of that
name as if it were in use (test_setup_versions failed so, once, in a run of the test command).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install_clusterkit.py"


def load_installer():
    spec = importlib.util.spec_from_file_location("install_clusterkit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_folder_of_the_same_name_in_another_venv_is_not_held(tmp_path):
    installer = load_installer()
    ours, theirs = (tmp_path / venv / installer.VERSIONS for venv in ("ours", "theirs"))
    for versions in (ours, theirs):
        (versions / "abc123").mkdir(parents=True)
        (versions / "abc123" / installer.IN_USE).write_text("")
    held = os.open(theirs / "abc123" / installer.IN_USE, os.O_RDONLY)   # their kernel runs that version
    try:
        assert installer.held_open(ours) == set()
        assert installer.held_open(theirs) == {"abc123"}
    finally:
        os.close(held)
    assert installer.held_open(theirs) == set()
