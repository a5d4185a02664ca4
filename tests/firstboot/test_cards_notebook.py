"""Notebook 00_cards shows no secret: no password, no hash, no Wi-Fi passphrase or key in any output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from clusterkit.firstboot.wifi import psk_hex
from notebook_run import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "00_cards.ipynb"


def test_no_secret_in_any_output(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERKIT_BACKEND", "local")
    monkeypatch.setenv("CLUSTERKIT_SANDBOX", str(tmp_path / "sandbox"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    password = re.search(r'password="([^"]+)"', source).group(1)
    ssid, passphrase = re.search(r'Wifi\("([^"]+)", "([^"]+)"', source).groups()
    run_notebook(nb, cwd=NOTEBOOK.parent, timeout=600)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "<hidden>" in outputs                     # the masked files were shown
    for secret in (password, passphrase, psk_hex(ssid, passphrase), "$6$"):
        assert secret not in outputs, secret
