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
