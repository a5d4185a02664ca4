"""Temperature and battery: reported only where a sensor exists (psutil faked: unit tests, no network)."""

from collections import namedtuple

import psutil

from clusterkit import agent
from clusterkit.dashboard import NodeState
from clusterkit.dashboard.components import Batteries, Temperatures
from clusterkit.sample import Sample

Temp = namedtuple("Temp", "label current high critical")
Battery = namedtuple("Battery", "percent secsleft power_plugged")


def test_a_pi_temperature_and_a_power_bank(monkeypatch):
    monkeypatch.setattr(psutil, "sensors_temperatures",
                        lambda: {"other": [Temp("", 30.0, None, None)], "cpu_thermal": [Temp("", 51.234, None, None)]})
    monkeypatch.setattr(psutil, "sensors_battery", lambda: Battery(76.54, 5400, False))
    sample = agent.Sampler(scope="host").sample()
    assert sample["temp"] == 51.2                                   # the SoC sensor comes first
    assert sample["battery"] == {"percent": 76.5, "plugged": False, "secs_left": 5400}


def test_unknown_time_left_is_left_out(monkeypatch):
    monkeypatch.setattr(psutil, "sensors_temperatures", lambda: {})
    monkeypatch.setattr(psutil, "sensors_battery", lambda: Battery(100.0, psutil.POWER_TIME_UNLIMITED, True))
    sample = agent.Sampler(scope="host").sample()
    assert "temp" not in sample and sample["battery"] == {"percent": 100.0, "plugged": True}


def test_sensor_charts_appear_only_where_there_are_sensors():
    temps, batteries = Temperatures(["a", "b"]), Batteries(["a", "b"])
    bare = {n: NodeState(n, sample=Sample(n, 1, 0.0, cpu=1.0), alive=True, seq=1) for n in "ab"}
    assert not temps.update(bare) and not batteries.update(bare)
    assert not temps.root.visible and not batteries.root.visible
    hot = dict(bare, b=NodeState("b", sample=Sample("b", 2, 0.0, cpu=1.0, temp=60.0,
                                                    battery={"percent": 40.0, "secs_left": 3900}), alive=True, seq=2))
    assert temps.update(hot) and batteries.update(hot)
    assert temps.root.visible and dict(temps.source.data) == {"node": ["b"], "value": [60.0], "note": [""]}
    assert batteries.root.visible and batteries.source.data["note"] == ["1 h 05 min"]


def fake_supply(root, name, **files):
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in files.items():
        (folder / key).write_text(f"{value}\n")
    return root


def test_a_battery_the_kernel_knows_by_another_name(tmp_path, monkeypatch):
    from clusterkit import battery
    monkeypatch.setattr(psutil, "sensors_battery", lambda: None)
    root = fake_supply(tmp_path / "a", "AC", type="Mains", online=0)
    fake_supply(root, "hid-mouse-battery", type="Battery", scope="Device", capacity=12, status="Discharging")
    fake_supply(root, "ups-hat", type="Battery", capacity=63, status="Discharging", energy_now=15_000_000,
                power_now=7_200_000)                       # 15 Wh at 7.2 W: 2 h 05 min
    assert battery.from_sysfs(root) == {"percent": 63.0, "plugged": False, "secs_left": 7500}
    charge = fake_supply(tmp_path / "b", "BAT0", type="Battery", capacity=40, status="Discharging",
                         charge_now=2_000_000, current_now=-1_000_000)
    assert battery.from_sysfs(charge)["secs_left"] == 7200
    charging = fake_supply(tmp_path / "c", "BAT0", type="Battery", capacity=90, status="Charging")
    assert battery.from_sysfs(charging) == {"percent": 90.0, "plugged": True}
    monkeypatch.setenv("CLUSTERKIT_POWER_SUPPLY", str(tmp_path / "a"))
    assert agent.Sampler(scope="host").sample()["battery"]["secs_left"] == 7500


def test_no_battery_no_reading(tmp_path, monkeypatch):
    from clusterkit import battery
    root = fake_supply(tmp_path, "AC", type="Mains", online=1)
    monkeypatch.setenv("CLUSTERKIT_POWER_SUPPLY", str(root))
    monkeypatch.setattr(psutil, "sensors_battery", lambda: Battery(50.0, 100, False))  # not asked: the tree is
    assert battery.read_battery() is None and "battery" not in agent.Sampler(scope="host").sample()
