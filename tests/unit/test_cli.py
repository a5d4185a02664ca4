"""The command line, run as a user would: a separate process on the default inventory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path):
    env = dict(os.environ, CLUSTERKIT_SANDBOX=str(tmp_path / "sb"), CLUSTERKIT_BACKEND="local")
    env.pop("CLUSTERKIT_INVENTORY", None)

    def run(*args, timeout=60):
        return subprocess.run([sys.executable, "-m", "clusterkit.cli", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=timeout)
    return run


def test_gathered_hostname(cli):
    p = cli("run", "-b", "echo hello from $(hostname | cut -c1-2)")
    assert p.returncode == 0
    assert p.stdout.splitlines() == ["-" * 15, "pc[0-3] (exit 0)", "-" * 15, "hello from pc"]


def test_prefixed_output_and_remote_failure_status(cli):
    p = cli("run", "-w", "pc[1-3]", "-x", "pc2", 'echo hi; [ "$(hostname)" = pc3 ] && exit 4; true')
    assert p.returncode == 1
    assert p.stdout.splitlines() == ["pc1: hi", "pc3: hi"]
    assert "pc3: exited with exit code 4" in p.stderr


def test_timeout_gives_status_3(cli):
    p = cli("run", "-w", "pc0", "-u", "0.2", "sleep 5")
    assert p.returncode == 3 and "pc0: timeout" in p.stderr


def test_bad_node_set_is_a_usage_error_before_running(cli, tmp_path):
    p = cli("run", "-w", "pc[1-", f"touch {tmp_path}/ran")
    assert p.returncode == 2 and "malformed node set" in p.stderr
    assert not (tmp_path / "ran").exists()


def test_bad_inventory_names_file_and_field(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes: pc[0-3]\nprimray: pc0\n")
    p = cli("run", "-i", str(bad), "true")
    assert p.returncode == 2
    assert p.stderr.strip() == f"clusterkit: {bad}: primray: unknown key; did you mean 'primary'?"


def test_nodes_lists_the_inventory(cli):
    p = cli("nodes")
    assert p.returncode == 0 and p.stdout.startswith("pc: pc[0-3] (4 nodes, primary pc0, backend local)")


def test_help_documents_exit_status(cli):
    p = cli("run", "--help")
    for code in ("0  every node", "1  the command exited", "2  bad usage", "3  at least one node"):
        assert code in p.stdout


def test_readme_example_works(cli):
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"^\$ clusterkit (run -b hostname)$", readme, re.M)
    assert example, "the README shows `clusterkit run -b hostname`"
    p = cli(*example.group(1).split())
    assert p.returncode == 0
    assert "pc0 (exit 0)" in p.stdout and "pc3 (exit 0)" in p.stdout


def test_binary_inventory_is_refused_in_one_line(cli, tmp_path):
    bad = tmp_path / "boards.yaml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xd8\xff\xe0")
    p = cli("nodes", "-i", str(bad))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.splitlines() == [f"clusterkit: {bad}: file: not a UTF-8 text file (byte 0x89 at offset 0): "
                                     "is this the inventory?"]


def test_yaml_error_line_on_the_command_line(cli, tmp_path):
    bad = tmp_path / "boards.yaml"
    bad.write_text("name: pc\nnodes: pc[0-3]\nprimary:pc0\nuser: pi\n")
    p = cli("nodes", "-i", str(bad))
    assert p.returncode == 2 and p.stderr.startswith(f"clusterkit: {bad}: line 3: not valid YAML")
    assert len(p.stderr.splitlines()) == 1
