"""A node's battery, where it has one: psutil first, then the kernel's power-supply class in sysfs.

A laptop's battery shows in ``psutil.sensors_battery()``; a UPS HAT or a
power bank that the kernel knows as a power supply of type ``Battery`` under
another name shows only in ``/sys/class/power_supply``. With
``CLUSTERKIT_POWER_SUPPLY`` set, that folder is read instead (and psutil is not
asked): a test feeds a fake tree that way. Where there is no battery, None: nothing
is invented. A reading is ``percent``, and ``plugged`` and ``secs_left`` when known.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

POWER_SUPPLY = Path("/sys/class/power_supply")


def _read(folder: Path, name: str) -> str | None:
    try:
        return (folder / name).read_text().strip()
    except OSError:
        return None


def _number(folder: Path, name: str) -> float | None:
    text = _read(folder, name)
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def from_sysfs(root: Path) -> dict | None:
    """The first system battery under ``root`` (a power-supply class folder), or None.

    A battery of a device (``scope`` Device: a mouse, a pen) is not the node's.
    Time left while discharging: ``time_to_empty_now``, else energy over power,
    else charge over current.
    """
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return None
    for folder in folders:
        if _read(folder, "type") != "Battery" or _read(folder, "scope") == "Device":
            continue
        if _read(folder, "present") == "0":
            continue
        percent = _number(folder, "capacity")
        if percent is None:
            now, full = _number(folder, "energy_now"), _number(folder, "energy_full")
            if now is None or not full:
                continue
            percent = 100.0 * now / full
        out: dict = {"percent": round(min(max(percent, 0.0), 100.0), 1)}
        status = _read(folder, "status")
        if status in ("Charging", "Full", "Not charging"):
            out["plugged"] = True
        elif status == "Discharging":
            out["plugged"] = False
            left = _number(folder, "time_to_empty_now")
            if left is None:
                for amount, rate in (("energy_now", "power_now"), ("charge_now", "current_now")):
                    a, r = _number(folder, amount), _number(folder, rate)
                    if a is not None and r:
                        left = 3600.0 * a / abs(r)
                        break
            if left is not None and left >= 0:
                out["secs_left"] = int(left)
        return out
    return None


def from_psutil() -> dict | None:
    try:
        b = psutil.sensors_battery()
    except (AttributeError, OSError):
        b = None
    if b is None:
        return None
    out: dict = {"percent": round(b.percent, 1)}
    if b.power_plugged is not None:
        out["plugged"] = bool(b.power_plugged)
    if b.secsleft not in (psutil.POWER_TIME_UNLIMITED, psutil.POWER_TIME_UNKNOWN) and b.secsleft >= 0:
        out["secs_left"] = int(b.secsleft)
    return out


def read_battery() -> dict | None:
    """This machine's battery (see the module), or None without one."""
    chosen = os.environ.get("CLUSTERKIT_POWER_SUPPLY")
    if chosen:
        return from_sysfs(Path(chosen))
    return from_psutil() or from_sysfs(POWER_SUPPLY)


__all__ = ["read_battery", "from_sysfs", "from_psutil", "POWER_SUPPLY"]
