"""The VM lab's parts that need no virtual machine: apt sources, the board's card, its QEMU command line."""

import subprocess
from pathlib import Path

import pytest
import yaml

import clusterkit.lab
from clusterkit.errors import ClusterkitError
from clusterkit.lab.image import FRESH, WORKSHOP_PASSWORD
from clusterkit.lab.vm import boards, image, machine, seed


def test_apt_sources_are_this_machines_with_the_release_put_for_the_hosts(tmp_path, monkeypatch):
    host = image.host_codename()
    text = image.apt_sources("trixie")
    assert "trixie" in text
    assert not any(f"{host}" in line.split() or f"{host}-" in line for line in text.splitlines()
                   if line.startswith(("Suites:", "deb ")))
    # The mirrors are the machine's own: every URI in the output is in the machine's sources.
    own = "".join(p.read_text() for p in Path("/etc/apt").rglob("*.sources")) + \
        "".join(p.read_text() for p in Path("/etc/apt").rglob("*.list") if p.is_file())
    for line in text.splitlines():
        if line.startswith("URIs:"):
            assert all(uri in own for uri in line.split()[1:])


def test_an_unknown_release_is_refused_by_name():
    with pytest.raises(ClusterkitError) as e:
        image.image_for("sid")
    assert e.value.field == "release" and "trixie" in str(e.value)


def test_the_image_key_follows_its_recipe():
    a = image.image_for("trixie")
    assert a == image.image_for("trixie")
    assert a.dir != image.image_for("bookworm").dir


def test_fresh_cards_hold_the_image_user_and_no_clear_password():
    card = boards.card_for(FRESH, index=1, count=4, password=WORKSHOP_PASSWORD, uplink_mac="02:63:6b:00:0a:01")
    files = boards.render_card(card)
    assert set(files) >= {"user-data", "network-config", "meta-data"}
    assert b"raspberry-lab" not in b"".join(files.values())
    user_data = yaml.safe_load(files["user-data"])
    users = [u for u in user_data["users"] if isinstance(u, dict)]
    assert users[0]["name"] == FRESH.user and users[0]["uid"] == FRESH.odd_uid
    assert user_data["hostname"] == FRESH.hostname
    # The same board gets the same card (its snapshot is found again).
    again = boards.card_for(FRESH, index=1, count=4, password=WORKSHOP_PASSWORD, uplink_mac="02:63:6b:00:0a:01")
    assert boards.render_card(again) == files
    # The password hash is a real one of the workshop password.
    check = subprocess.run(["openssl", "passwd", "-6", "-salt", card.password_hash.split("$")[2], "-stdin"],
                           input=WORKSHOP_PASSWORD + "\n", capture_output=True, text=True).stdout.strip()
    assert check == card.password_hash


def test_a_card_is_a_fat_disk_labelled_bootfs_holding_the_files(tmp_path):
    files = {"user-data": b"#cloud-config\nhostname: x\n", "meta-data": b"instance-id: x\n"}
    card = seed.write_card(tmp_path / "card.img", files)
    assert seed.read_card(card, "user-data") == files["user-data"]
    assert seed.read_card(card, "config.txt") == seed.MARKERS["config.txt"]
    label = subprocess.run(["mlabel", "-s", "-i", str(card), "::"], capture_output=True, text=True).stdout
    assert "bootfs" in label.lower()
    assert (card.stat().st_mode & 0o777) == 0o600
    with pytest.raises(ClusterkitError):
        seed.read_card(card, "network-config")
    with pytest.raises(ClusterkitError) as e:
        seed.write_card(tmp_path / "bad.img", {"../etc/passwd": b""})
    assert e.value.field == "card"


def test_the_board_boots_its_card_read_only_beside_its_overlay(tmp_path):
    files = machine.Files(tmp_path)
    cmd = machine.command(name="pc1", files=files, kernel=Path("/k"), initrd=Path("/i"), wired_tap="b1c",
                          wired_mac="02:00:00:00:00:01", uplink_tap="b1w", uplink_mac="02:00:00:00:00:02",
                          share=Path("/src/clusterkit"), accelerator="tcg")
    line = " ".join(cmd)
    assert f"file={files.card},if=virtio,format=raw,readonly=on" in line
    assert f"file={files.overlay},if=virtio,format=qcow2" in line
    assert "readonly=on" in next(a for a in cmd if a.startswith("local,path=/src/clusterkit"))
    assert "tcg,tb-size=" in line and "-loadvm" not in cmd
    assert "-loadvm" in machine.command(name="pc1", files=files, kernel=Path("/k"), initrd=Path("/i"),
                                        wired_tap="b1c", wired_mac="m", uplink_tap="b1w", uplink_mac="n",
                                        share=Path("/s"), loadvm="fresh", accelerator="kvm")


def test_kvm_is_used_only_where_it_is_hardware_virtualisation(monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_VM_ACCEL", "tcg")
    assert machine.accel() == "tcg"
    monkeypatch.setenv("CLUSTERKIT_VM_ACCEL", "kvm")
    assert machine.accel() == "kvm"
    monkeypatch.delenv("CLUSTERKIT_VM_ACCEL")
    modules = Path("/proc/modules").read_text() if Path("/proc/modules").exists() else ""
    if "kvm_pvm" in modules:
        assert machine.accel() == "tcg"


def test_link_names_fit_and_stay_within_the_lab():
    names = boards.Names("abcdefgh")
    for link in (names.host_wired, names.host_uplink):
        assert len(link) <= 15 and link.startswith("ckabcdefgh-")
    assert names.ns.startswith("ck-abcdefgh-")
    assert len(names.tap(199, "c")) <= 15


def test_cards_boot_virtual_boards_only():
    with pytest.raises(ClusterkitError) as e:
        clusterkit.lab.up(name="tnever", cards=[])
    assert e.value.field in ("cards", "lab")


def test_each_backend_says_how_long_its_reboot_and_its_engines_take(tmp_path, monkeypatch):
    import json

    from clusterkit.backends import registry
    from clusterkit.inventory import load_inventory
    from clusterkit.lab.backend import LAB
    from clusterkit.ops import power

    assert power.REBOOT_TIMEOUT == registry.get("ssh").reboot_timeout(None) == 180.0
    inv = tmp_path / "inventory.yaml"
    inv.write_text("name: pc\nnodes: pc[0-1]\nprimary: pc0\nbackend: lab\n")
    record = {"name": "pc", "slot": 0, "network": "10.0.0.0/24", "uplink": "172.30.0.0/24", "router": None,
              "nodes": [], "kind": "ns"}
    (tmp_path / "lab.json").write_text(json.dumps(record))
    assert LAB.reboot_timeout(load_inventory(inv)) == 180.0
    assert LAB.engine_timeout(load_inventory(inv)) == registry.get("ssh").engine_timeout(None) == 180.0
    (tmp_path / "lab.json").write_text(json.dumps({**record, "kind": "vm"}))
    monkeypatch.setenv("CLUSTERKIT_VM_ACCEL", "tcg")
    assert LAB.reboot_timeout(load_inventory(inv)) == 900.0
    # Four boards starting Python and ipyparallel on an emulated CPU, two host cores: not the 180 s of a board.
    assert LAB.engine_timeout(load_inventory(inv)) == 600.0
    monkeypatch.setenv("CLUSTERKIT_VM_ACCEL", "kvm")
    assert LAB.reboot_timeout(load_inventory(inv)) == 180.0
    assert LAB.engine_timeout(load_inventory(inv)) == 180.0
