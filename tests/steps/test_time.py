"""The time step on the local backend (chrony configs checked by chronyd -p), the skew table, the TLS demo."""

from __future__ import annotations

import pytest

from clusterkit import clock, tlsdemo
from clusterkit.steps import StepError
from clusterkit.steps.timesync import CONF, TimeSync, validate_conf


def test_server_and_followers_then_nothing_left(fresh, snapshot):
    step = TimeSync(fresh)
    plan = step.plan()
    primary = plan["pc0"].file(CONF).new.decode()
    assert "allow 10.0.0.0/24" in primary and "local stratum 10" in primary
    for w in ("pc1", "pc2", "pc3"):
        conf = plan[w].file(CONF).new.decode()
        assert "makestep 1 3" in conf and "allow" not in conf
        # A worker keeps asking a silent primary every 32 s at most (chrony's default backs off to 1024 s).
        assert "server 10.0.0.1 iburst minpoll 4 maxpoll 5" in conf
    assert any("replaces systemd-timesyncd" in n for n in plan.notes)
    assert step.apply(plan, progress=False).ok
    after = snapshot(fresh)
    again = TimeSync(fresh)
    assert again.plan().empty and again.apply(progress=False).ok
    assert snapshot(fresh) == after


def test_upstream_pool_when_online(fresh):
    conf = TimeSync(fresh, upstream=("2.debian.pool.ntp.org",)).plan()["pc0"].file(CONF).new.decode()
    assert "pool 2.debian.pool.ntp.org iburst" in conf


def test_chronyd_rejects_a_bad_directive(fresh):
    with pytest.raises(StepError) as err:
        validate_conf("server 10.0.0.1 iburst\nmakestepp 1 3\n", node=fresh["pc1"])
    assert err.value.field == CONF and err.value.node == "pc1" and "chronyd -p" in err.value.message


def test_own_check_catches_what_chronyd_passes(fresh):
    with pytest.raises(StepError) as err:
        validate_conf("allow 10.0.0.0/33\n", node=fresh["pc0"])
    assert "prefix 0-32" in err.value.message


def test_skew_is_never_invented_on_the_local_backend(fresh):
    s = clock.skew(fresh)
    assert s.measured == {} and s.spread is None
    assert all(row[1] == "n/a" for row in s.rows())
    assert "no time service" in s.text()
    fig = s.chart()
    assert fig.select_one({"name": "skew"}).data["label"] == ["n/a"] * 4
    assert clock.wait_for_sync(fresh, timeout=1).clocks.keys() == s.clocks.keys()


def test_parse_tracking():
    text = ("Reference ID    : 0A000001 (10.0.0.1)\nStratum         : 11\n"
            "System time     : 0.000012345 seconds slow of NTP time\nLeap status     : Normal\n--- sources\n"
            "MS Name/IP address         Stratum Poll Reach LastRx Last sample\n"
            "===============================================================================\n"
            "^* 10.0.0.1                     10   6   377    12   -3us[  -5us] +/-  120us\n")
    c = clock.parse_tracking("pc1", text)
    assert c.offset == pytest.approx(-12.345e-6) and c.stratum == 11 and c.reference == "10.0.0.1"
    assert c.synced and c.sources == 1 and c.selected == "10.0.0.1"


def test_tls_fails_with_a_clock_behind_and_works_with_the_right_one(fresh):
    with tlsdemo.TlsDemo(fresh) as demo:
        behind = demo.connect(behind="-2y")
        right = demo.connect()
    assert not behind.ok and behind.verdict == "certificate is not yet valid"
    assert right.ok and right.verdict == "Verification: OK"
    assert "key.pem" not in "".join(p.name for p in (fresh["pc0"].home / tlsdemo.DIR).iterdir())
