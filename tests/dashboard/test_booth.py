"""The booth on the local backend: real engines render the tiles, real agents light the LEDs."""


import threading

import ipyparallel as ipp
import pytest

import clusterkit
from clusterkit.booth import Booth
from clusterkit.booth.count import COUNT_FILE, RegionCount
from clusterkit.booth.fractal import HOME, tiles
from clusterkit.booth.scheduler import Render
from waiting import wait_for

TILES = len(tiles(HOME))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with clusterkit.connect(backend="local", sandbox=tmp_path_factory.mktemp("booth") / "sandbox") as c:
        yield c


@pytest.fixture(scope="module")
def engines(cluster):
    with cluster.engines(per_node=1) as e:
        yield e


def spy_on_leds(booth):
    """Every command the booth sends each node's agent, in order."""
    sent = {n: [] for n in booth.names}
    for name, feed in booth.dashboard.feeds.items():
        real = feed.send

        def send(command, real=real, name=name):
            sent[name].append(dict(command))
            return real(command)
        feed.send = send
    return sent


def make(cluster, engines, **kw):
    booth = Booth(cluster, engines=engines, page=False, **kw).start()
    wait_for(lambda: booth.ready, 120, "the booth's home picture")
    return booth


def test_a_touch_draws_the_spot_in_tiles_coloured_by_node_and_counts_it(cluster, engines):
    booth = make(cluster, engines, idle=600)
    try:
        before = RegionCount(cluster.primary).value()
        sent = spy_on_leds(booth)
        booth.touch(-0.75, 0.1).join(120)
        report = booth.drawing.reports[-1]
        assert report.complete and booth.picture.region.cx == -0.75
        assert sum(booth.picture.shown.values()) == TILES and len(report.by_node) > 1
        outlines = booth.picture.outlines.data
        assert all(colour == booth.colours[node] for colour, node in zip(outlines["colour"], outlines["node"]))
        for node in report.by_node:   # its LEDs lit in its colour while it worked, then back to the CPU bar
            assert {"fill": booth.colours[node]} in sent[node]
            assert sent[node][-1] == {"pattern": "cpu"}
        assert RegionCount(cluster.primary).value() == before + 1
        assert cluster.primary.local_path(COUNT_FILE).exists()        # kept on the primary, not in the kiosk
        assert f">{before + 1}<" in booth.counter.value
    finally:
        booth.close()


def test_the_count_goes_up_when_the_booth_takes_the_next_touch(cluster, engines):
    """A visitor who sees the count go up may touch at once: that touch is drawn, not refused as "still drawing"
    by the drawing that has just ended (the count once reached the page while that drawing held its lock)."""
    booth = make(cluster, engines, idle=600)
    try:
        real, next_touch = booth.show_count, []

        def show_count(value=None):
            real(value)
            if value is not None and not next_touch:      # the moment the page shows the new count
                next_touch.append(booth.touch(-0.75, 0.1))   # the centre of the picture just drawn
        booth.show_count = show_count
        drawn = len(booth.drawing.reports)
        booth.touch(-0.75, 0.1).join(120)
        assert len(next_touch) == 1 and next_touch[0] is not None, booth.status.value
        next_touch[0].join(120)
        assert len(booth.drawing.reports) == drawn + 2 and booth.drawing.reports[-1].complete
    finally:
        booth.close()


def test_the_race_runs_on_one_node_then_all_and_says_how_it_went(cluster, engines):
    booth = make(cluster, engines, idle=600)
    try:
        booth.touch_race().join(120)
        alone, together = booth.drawing.reports[-2:]
        assert alone.nodes == ("pc0",) and set(alone.by_node) == {"pc0"}
        assert together.nodes == tuple(booth.names) and alone.complete and together.complete
        assert "One computer alone" in booth.race_result.value and "All 4 together" in booth.race_result.value
    finally:
        booth.close()


def test_attract_mode_after_idle_and_the_next_touch_resets(cluster, engines):
    booth = make(cluster, engines, idle=0.5)
    try:
        sent = spy_on_leds(booth)
        booth.touch(-0.75, 0.1).join(120)
        wait_for(lambda: booth.attract.active, 30, "attract mode")
        assert "ck-attract" in booth._dom_classes
        assert all({"pattern": "larson"} in sent[n] for n in booth.names)
        start = booth.picture.root.x_range.end - booth.picture.root.x_range.start
        wait_for(lambda: booth.picture.root.x_range.end - booth.picture.root.x_range.start < start * 0.95, 30,
                 "the idle zoom")
        booth.attract.idle = 600    # the idle timer has done its part: it must not start attract mode again mid-check
        assert booth.touch(0.2, 0.2) is None           # the waking touch draws nothing: it resets
        assert not booth.attract.active and booth.picture.region == HOME
        assert sum(booth.picture.shown.values()) == TILES  # the whole set again, for the next visitor
        assert all(sent[n][-1] == {"pattern": "cpu"} for n in booth.names)
    finally:
        booth.close()


def test_visitors_get_no_instructor_buttons(cluster, engines):
    def classes(widget):
        out = set(getattr(widget, "_dom_classes", ()))
        for child in getattr(widget, "children", ()):
            out |= classes(child)
        return out

    visitor = Booth(cluster, engines=engines)
    try:
        found = classes(visitor)
        assert "ck-booth-race" in found
        assert not {"ck-poweroff", "ck-reboot", "ck-pattern-larson", "ck-booth-unplug"} & found
    finally:
        visitor.close()
    instructor = Booth(cluster, engines=engines, instructor=True)
    try:
        assert {"ck-poweroff", "ck-reboot", "ck-pattern-larson", "ck-booth-unplug"} <= classes(instructor)
    finally:
        instructor.close()


@ipp.interactive   # sent by value: the engines cannot import this test module
def slow_tile(max_iter, *args):
    """A tile that takes a while, so a node can drop out while it holds one."""
    import time
    from clusterkit.booth.fractal import render_tile
    time.sleep(0.3)    # the behaviour under test: a tile held long enough for its node to drop out
    return render_tile(max_iter, *args)


def test_a_node_that_drops_out_mid_render_leaves_its_tiles_to_the_others(cluster):
    with cluster.engines(per_node=1, nodes="pc[0-2]") as engines:
        arrived, lost = [], []

        def on_tile(tile, node, pixels):
            arrived.append(node)
            if len(arrived) == 3:
                engines.kill("pc2")

        report = Render(engines, HOME, on_tile=on_tile, on_lost=lambda node, moved: lost.append((node, len(arrived))),
                        fn=slow_tile).run()
        assert report.complete and report.lost == ["pc2"] and lost[0][0] == "pc2"
        assert "pc2" not in arrived[lost[0][1]:]        # nothing from pc2 once it dropped out
        assert set(report.done) == set(range(TILES))


def test_a_node_that_leaves_as_its_tile_is_sent_is_dropped_not_a_fault(cluster, monkeypatch):
    """ipyparallel's client hears that an engine left on a thread of its own, at any moment. Forced here
    into the narrowest gap: after the render's look at the live engines, before its send to pc2 (whose
    engine is killed, and the client has heard, just as its first tile goes out). The send then refuses the
    engine ("No such engine"): that is pc2 dropping out, and the others draw its tiles."""
    with cluster.engines(per_node=1, nodes="pc[0-2]") as engines:
        client, victim = engines.client, engines.ids("pc2")[0]
        real, sends = client.direct_view, []

        def direct_view(targets="all", **kw):
            if targets == victim:
                sends.append(targets)
                if len(sends) == 1:
                    engines.kill("pc2")
                    wait_for(lambda: victim not in client.ids, 60, "the client to hear that pc2 left")
            return real(targets, **kw)
        monkeypatch.setattr(client, "direct_view", direct_view)
        report = Render(engines, HOME).run()
        assert sends == [victim] and report.error is None, report.error
        assert report.complete and report.lost == ["pc2"] and set(report.by_node) == {"pc0", "pc1"}


def test_the_booth_shows_the_time_left_where_a_node_has_a_battery_and_nothing_where_none(cluster, engines,
                                                                                           tmp_path, monkeypatch):
    supply = tmp_path / "power_supply" / "ups-hat"
    supply.mkdir(parents=True)
    for key, value in dict(type="Battery", capacity=63, status="Discharging", energy_now=15_000_000,
                           power_now=7_200_000).items():
        (supply / key).write_text(f"{value}\n")
    monkeypatch.setenv("CLUSTERKIT_POWER_SUPPLY", str(supply.parent))   # every local agent reads the fake tree
    booth = Booth(cluster, engines=engines, page=False, idle=600).start()
    try:
        wait_for(lambda: booth.battery.value.count("about 2 h 05 min left") == len(booth.names), 30,
                 "every node's battery on the page")
        assert "pc0: battery 63 %" in booth.battery.value
    finally:
        booth.close()
    monkeypatch.setenv("CLUSTERKIT_POWER_SUPPLY", str(tmp_path / "none"))  # no power supply at all
    booth = Booth(cluster, engines=engines, page=False, idle=600).start()
    try:
        looks, real = [], booth._show_battery
        booth._show_battery = lambda: (real(), looks.append(1))
        assert booth.dashboard.wait_for_samples(timeout=30)
        seen = len(looks)
        wait_for(lambda: len(looks) >= seen + 2, 30, "the booth to look at the samples twice more")
        assert booth.battery.value == ""
        assert all(st.sample.battery is None for st in booth.dashboard.states().values())
    finally:
        booth.close()


def test_the_page_says_when_a_node_drops_out_and_the_others_finish(cluster):
    with cluster.engines(per_node=1, nodes="pc[0-2]") as engines:
        booth = Booth(cluster, engines=engines, page=False, idle=600, instructor=True).start()
        try:
            wait_for(lambda: booth.ready, 120, "the booth's home picture")
            real = booth.drawing.tile

            def tile(t, node, pixels):       # the instructor pulls pc2 once the picture has begun
                real(t, node, pixels)
                if sum(booth.picture.shown.values()) == 2:
                    booth.unplug("pc2")
            booth.drawing.tile = tile
            booth.draw(HOME.zoom(-0.745, 0.12).zoom(-0.7436, 0.1318)).join(180)
            report = booth.drawing.reports[-1]
            assert report.complete and report.lost == ["pc2"], (report.error, report.lost, len(report.done), report.seconds)
            assert sum(booth.picture.shown.values()) == TILES
            assert "pc2 dropped out" in booth.status.value and "others took over" in booth.status.value
            assert "ck-chip ck-lost' data-node='pc2'" in booth.legend.value
        finally:
            booth.close()


def test_the_booth_starts_nothing_until_it_is_shown_and_showing_it_starts_it(cluster, engines):
    def booth_threads():
        return [t for t in threading.enumerate() if t.name == "clusterkit-booth"]
    before = len(booth_threads())
    booth = Booth(cluster, engines=engines, page=False, idle=600)
    try:
        assert len(booth_threads()) == before and not booth.ready
        bundle = booth._repr_mimebundle_()            # what a notebook, or Voila, does to show it
        assert "application/vnd.jupyter.widget-view+json" in bundle
        wait_for(lambda: booth.ready, 120, "the booth's home picture, once shown")
        assert len(booth_threads()) == before + 1
        booth.start()                                 # already started: nothing more
        assert len(booth_threads()) == before + 1
    finally:
        booth.close()
