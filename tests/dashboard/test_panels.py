"""Every panel has the one shape (source, root, update); the agent's sample is one typed record."""

import json

import pytest

from clusterkit.dashboard import NodeState, components
from clusterkit.dashboard.panel import Panel
from clusterkit.sample import Sample

PANELS = [components.CpuBars, components.CpuSeries, components.Temperatures, components.Batteries,
          components.LedRows]


@pytest.mark.parametrize("kind", PANELS, ids=lambda k: k.__name__)
def test_every_panel_has_one_source_one_root_and_a_quiet_update(kind):
    panel = kind(["a", "b"])
    assert isinstance(panel, Panel)
    assert not isinstance(panel.source, (tuple, list, dict)) and not isinstance(panel.root, (tuple, list, dict))
    states = {n: NodeState(n, sample=Sample(n, 1, 1.0, cpu=50.0, temp=40.0, battery={"percent": 80.0},
                                            leds=["#00ff00"] * 8, brightness=0.5), alive=True, seq=1)
              for n in "ab"}
    assert panel.update(states) is True
    assert panel.update(states) is False          # nothing changed: nothing sent


def test_a_sample_goes_out_and_comes_back_the_same_and_leaves_out_what_was_not_measured():
    s = Sample("pc1", 3, 1700000000.5, cpu=12.5, cores=[10.0, 15.0], leds=["#000000"] * 8, pattern="cpu")
    line = s.to_json()
    assert json.loads(line) == {"node": "pc1", "seq": 3, "time": 1700000000.5, "cpu": 12.5, "cores": [10.0, 15.0],
                                "leds": ["#000000"] * 8, "pattern": "cpu"}
    assert Sample.from_json(line) == s
    assert Sample.from_json('{"node": "pc1", "seq": 4, "time": 2.0, "bye": "SIGTERM", "new": 1}').bye == "SIGTERM"


@pytest.mark.parametrize("line", ["not json", "[1, 2]", '{"cpu": 5}'])
def test_a_line_that_is_not_a_sample_is_a_value_error(line):
    with pytest.raises(ValueError):
        Sample.from_json(line)
