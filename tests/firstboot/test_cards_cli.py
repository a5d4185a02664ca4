"""``clusterkit firstboot write|copy`` end to end, as an instructor runs it; secrets never on the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from cardtools import PASSWORD, PSK

from clusterkit.firstboot.wifi import psk_hex


def clusterkit(*args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "clusterkit.cli", "firstboot", *map(str, args)],
                          capture_output=True, text=True, input=stdin, timeout=300,
                          env={**os.environ, "CLUSTERKIT_INVENTORY": ""})


@pytest.fixture
def inputs(tmp_path, pubkey):
    (tmp_path / "alice.pub").write_text(pubkey + "\n")
    (tmp_path / "password").write_text(PASSWORD + "\n")
    (tmp_path / "venue.psk").write_text(PSK + "\n")
    return tmp_path


def test_write_then_copy_onto_a_real_boot_partition(inputs, boot_partition):
    out = inputs / "cards"
    done = clusterkit("write", "--user", "alice", "--uid", 1000, "--key", inputs / "alice.pub",
                      "--password-file", inputs / "password", "--wifi-ssid", "Venue", "--wifi-psk-file",
                      inputs / "venue.psk", "--wifi-country", "GB", "--timezone", "Europe/London", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"pc0: {out / 'pc0'} (meta-data, network-config, ssh, user-data)"
    assert "checked with:" in done.stdout or "checked by clusterkit only" in done.stdout
    ud = yaml.safe_load((out / "pc2" / "user-data").read_text())
    assert ud["hostname"] == "pc2" and ud["users"][0]["hashed_passwd"].startswith("$6$")
    net = yaml.safe_load((out / "pc2" / "network-config").read_text())["network"]
    assert net["ethernets"]["eth0"]["addresses"] == ["10.0.0.3/24"]
    assert net["wifis"]["wlan0"]["access-points"]["Venue"]["password"] == psk_hex("Venue", PSK)
    for text in (done.stdout, done.stderr):
        assert PASSWORD not in text and PSK not in text and "$6$" not in text

    copied = clusterkit("copy", out / "pc2", boot_partition.mountpoint)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.strip() == f"{boot_partition.mountpoint}: wrote user-data, network-config, meta-data, ssh"
    boot_partition.unmount()
    assert boot_partition.read_back("user-data") == (out / "pc2" / "user-data").read_bytes()


def test_copy_refuses_a_folder_that_is_not_a_boot_partition(inputs, pubkey):
    out = inputs / "cards"
    assert clusterkit("write", "--user", "alice", "--uid", 1000, "--key", inputs / "alice.pub", out).returncode == 0
    done = clusterkit("copy", out / "pc0", inputs)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"clusterkit: mountpoint: {inputs} is not a mount point: mount the card's boot " \
                          "partition (the small FAT one) there\n"


def test_bad_input_is_one_line_and_writes_nothing(inputs):
    (inputs / "short.psk").write_text("short\n")
    done = clusterkit("write", "--user", "alice", "--uid", 1000, "--key", inputs / "alice.pub", "--wifi-ssid", "V",
                      "--wifi-psk-file", inputs / "short.psk", inputs / "cards")
    assert done.returncode == 2
    assert done.stderr == "clusterkit: node pc0, uplink.psk: must be 8-63 printable ASCII characters or 64 hex " \
                          "digits (it has 5)\n"
    assert not (inputs / "cards").exists()


def test_secrets_are_not_accepted_on_the_command_line(inputs):
    for flag in ("--password", "--wifi-psk"):
        done = clusterkit("write", "--user", "alice", "--uid", 1000, flag, "hunter22", inputs / "cards")
        assert done.returncode == 2 and f"unrecognized arguments: {flag}" in done.stderr
        assert not (inputs / "cards").exists()


def test_password_prompt_reads_it_twice(inputs):
    # getpass falls back to standard input when there is no terminal
    done = clusterkit("write", "--user", "alice", "--uid", 1000, "--key", inputs / "alice.pub", "--ask-password",
                      inputs / "cards", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((inputs / "cards" / "pc0" / "user-data").read_text())["users"][0]["lock_passwd"] is False
    again = clusterkit("write", "--user", "alice", "--uid", 1000, "--key", inputs / "alice.pub", "--ask-password",
                       inputs / "other", stdin=f"{PASSWORD}\nsomething else\n")
    assert again.returncode == 2 and "the two entries differ" in again.stderr
