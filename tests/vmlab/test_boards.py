"""What must be real on virtual boards: the path of real boards, run for real (issue 13).

In file order: poweroff of every board and ``lab up`` starting them again; a reboot of one worker (NetworkManager's wired profile, the
default route on the uplink, the kernel NFS mount from fstab, text mode); a
broken fstab that really drops a board into emergency mode, mended at its
console; a board started two years ahead, set right by chrony from the
primary, with TLS failing before and passing after (no faketime); engines on
the boards.
"""

import datetime
import os
import time

import clusterkit.lab
from clusterkit import ops
from clusterkit.lab.wait import sshd_answers
from clusterkit.tlsdemo import TlsDemo
from conftest import VM_MARKS

pytestmark = VM_MARKS

BOOT = 600.0   # seconds a board's boot may take under TCG on a loaded 2-core machine


def boot_id(cluster, node: str) -> str:
    r = cluster.run("cat /proc/sys/kernel/random/boot_id", nodes=[node], timeout=30)[node]
    return r.stdout.strip() if r.ok else ""


def wait_new_boot(cluster, node: str, before: str, timeout: float = BOOT) -> float:
    """Seconds until ``node`` answers over SSH with another boot id."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        now = boot_id(cluster, node)
        if now and now != before:
            return time.monotonic() - t0
        time.sleep(2)
    raise AssertionError(f"{node} did not come back within {timeout:.0f} s")


def test_poweroff_ends_every_board_and_lab_up_starts_them_again(vmlab):
    """06/09: stop all, workers first, ends each board's QEMU process (scripts/test.sh runs notebook 09 first,
    whose shutdown button does it); ``lab up`` then boots every board from its disk, in text mode."""
    if any(vmlab.pid(n) for n in vmlab.boards):
        with vmlab.connect() as cluster:
            report = ops.stop_all(cluster, confirm=True, progress=False)
        assert report.order_ok and all(s.now == "down" for s in report.steps), report.headline()
    deadline = time.monotonic() + 120
    while any(vmlab.pid(n) for n in vmlab.boards) and time.monotonic() < deadline:
        time.sleep(1)
    assert not any(vmlab.pid(n) for n in vmlab.boards), "a board's QEMU kept running after poweroff"
    t0 = time.monotonic()
    lab = clusterkit.lab.up(name=vmlab.name, vm=True)
    print(f"lab up after poweroff: {time.monotonic() - t0:.0f} s for {len(lab.powered_on)} boards")
    assert sorted(lab.powered_on) == sorted(vmlab.boards)
    with lab.connect() as again:
        r = again.run("systemctl get-default; hostname")
        assert r.ok, r
        for node in again.inventory.workers:
            assert r[node].stdout.split() == ["multi-user.target", node]


def test_the_boards_run_their_own_kernel_under_systemd(cluster):
    host_kernel = os.uname().release
    r = cluster.run("uname -r; ps -o comm= -p 1; systemctl is-system-running || true")
    assert r.ok, r
    for node, res in r.items():
        kernel, pid1, state = res.stdout.split("\n")[:3]
        assert kernel != host_kernel and pid1 == "systemd", (node, res.stdout)
        assert state in ("running", "degraded"), (node, res.stdout)
    assert all(n.traits.own_kernel and n.traits.own_clock and n.traits.init_system for n in cluster.nodes.values())


def test_a_worker_comes_back_from_a_real_reboot_as_the_notebooks_left_it(vmlab, cluster):
    """02: NetworkManager loads the wired profile, the static address answers, the default route stays on the
    uplink. 04: the NFS share is a kernel mount again. 06: text mode, no display manager."""
    primary, worker = cluster.inventory.primary, cluster.inventory.workers[0]
    address = cluster.inventory[worker].address
    probe = f"/srv/shared/reboot-probe-{os.getpid()}"
    assert cluster.run(f"echo from-the-primary > {probe}", nodes=[primary]).ok
    before = boot_id(cluster, worker)
    cluster.sudo("systemctl reboot", nodes=[worker], timeout=30)
    took = wait_new_boot(cluster, worker, before)
    print(f"{worker} rebooted in {took:.0f} s")
    r = cluster.run("nmcli -t -f NAME,DEVICE connection show --active; echo ---; ip -4 -br addr show eth0; "
                    "echo ---; ip route show default; echo ---; cat " + probe + "; echo ---; "
                    "findmnt -n -o FSTYPE,SOURCE --target /srv/shared; echo ---; systemctl get-default; "
                    "systemctl is-active display-manager || true", nodes=[worker], timeout=60)[worker]
    assert r.ok, r
    nm, eth0, route, shared, mount, target = r.stdout.split("---\n")
    assert any(line.endswith(":eth0") for line in nm.splitlines()), nm
    assert f"{address}/" in eth0
    assert "dev wlan0" in route and "eth0" not in route
    assert shared.strip() == "from-the-primary"
    # The automount point (autofs), and beneath it the kernel NFS mount that reading the probe made.
    assert any(line.split()[0] == "nfs4" and line.split()[1].endswith(":/srv/shared")
               for line in mount.splitlines() if line.strip()), mount
    assert target.split()[0] == "multi-user.target" and target.split()[1] != "active"
    # The static address answers from this host (on the cluster network) and from the primary.
    assert sshd_answers(address, timeout=3)
    assert cluster.run(f"ping -c1 -W3 {address}", nodes=[primary]).ok
    cluster.run(f"rm -f {probe}", nodes=[primary])


def test_a_broken_fstab_drops_a_board_into_emergency_mode_and_its_console_mends_it(vmlab, cluster):
    """A typo in fstab written around the step's guard stops the boot for real; at the board's console,
    booted with init=/bin/sh (a line added to cmdline.txt), the kept fstab goes back, and the board boots."""
    worker = cluster.inventory.workers[-1]
    host = vmlab.boards[worker].host
    # Around the guard: one typo (vfatt) on a line without nofail, as a hand edit would make it.
    r = vmlab.exec(worker, "cp /etc/fstab /etc/fstab.good && mkdir -p /mnt/card && "
                           "printf 'LABEL=bootfs /mnt/card vfatt defaults 0 2\\n' >> /etc/fstab && sync")
    assert r.returncode == 0, r.stderr
    mark = len(vmlab.console(worker))
    cluster.sudo("systemctl reboot", nodes=[worker], timeout=30)
    deadline = time.monotonic() + BOOT
    while "emergency mode" not in vmlab.console(worker)[mark:] and time.monotonic() < deadline:
        time.sleep(2)
    screen = vmlab.console(worker)[mark:]
    assert "emergency mode" in screen, screen[-800:]
    assert "mnt-card.mount" in screen or "/mnt/card" in screen
    assert not sshd_answers(host, timeout=3), "a board in emergency mode has no network"
    # Mend it at the console: boot with init=/bin/sh, put the good fstab back, power off, boot normally.
    vmlab.stop_node(worker)
    vmlab.start_node(worker, kernel_args="init=/bin/sh")
    files = vmlab.files(worker)
    from clusterkit.lab.vm import machine
    start = len(vmlab.console(worker))
    # The shell answers once it runs: type until it computes (the typed text echoes "$((6*7))", not 42).
    deadline = time.monotonic() + BOOT
    while "SHELL42" not in vmlab.console(worker)[start:] and time.monotonic() < deadline:
        vmlab.type(worker, "echo SHELL$((6*7))\n")
        time.sleep(3)
    assert "SHELL42" in vmlab.console(worker)[start:], vmlab.console(worker)[-500:]
    vmlab.type(worker, "mount -o remount,rw / && cp /etc/fstab.good /etc/fstab && sync && echo MENDED$((1+1))\n")
    assert machine.wait_console(files, "MENDED2", after=start, timeout=60), vmlab.console(worker)[-500:]
    vmlab.type(worker, "poweroff -f\n")
    deadline = time.monotonic() + 60
    while vmlab.pid(worker) is not None and time.monotonic() < deadline:
        time.sleep(1)
    vmlab.stop_node(worker)
    vmlab.start_node(worker)
    vmlab.wait_booted([worker], timeout=BOOT)
    r = cluster.run("systemctl is-system-running; grep -c vfatt /etc/fstab || true", nodes=[worker], timeout=60)
    assert r[worker].stdout.split()[-1] == "0", r[worker].stdout


def test_a_board_started_two_years_wrong_is_set_right_by_chrony_and_tls_follows(vmlab, cluster):
    """05: no internet, the primary's chrony the only source; the board's own clock is two years ahead.

    (Two years *behind* does not survive the boot: systemd moves a clock that is earlier than its own build
    date up to that date, so such a board starts months behind, not years.)"""
    primary, worker = cluster.inventory.primary, cluster.inventory.workers[1]
    # The primary's time service is down while the worker boots (the case was packed and the worker came up first).
    assert cluster.sudo("systemctl stop chrony", nodes=[primary], timeout=60).ok
    try:
        vmlab.stop_node(worker)
        ahead = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=730))
        vmlab.start_node(worker, rtc_base=ahead.strftime("%Y-%m-%dT%H:%M:%S"))
        vmlab.wait_booted([worker], timeout=BOOT)
        offset = int(cluster.run("date +%s", nodes=[worker])[worker].stdout) - time.time()
        print(f"{worker} booted {offset / 86400:.0f} days off")
        assert offset > 700 * 86400, "the board's clock should start two years ahead"
        with TlsDemo(cluster, client=worker) as demo:
            before = demo.connect()     # the real clock of the board, no faketime
        assert not before.ok and "expired" in before.verdict, before.output
        assert cluster.sudo("systemctl restart chrony", nodes=[primary], timeout=60).ok
        t0 = time.monotonic()
        deadline = t0 + 300
        while time.monotonic() < deadline:
            now = cluster.run("date +%s", nodes=[worker])[worker]
            if now.ok and abs(int(now.stdout) - time.time()) < 5:
                break
            time.sleep(3)
        off = int(cluster.run("date +%s", nodes=[worker])[worker].stdout) - time.time()
        assert abs(off) < 5, f"chrony did not set {worker}'s clock right: {off:.0f} s off"
        print(f"chrony set {worker}'s clock right {time.monotonic() - t0:.0f} s after the primary served")
        with TlsDemo(cluster, client=worker) as demo:     # the server's lifetime is short: a new one
            after = demo.connect()
        assert after.ok, after.output
        tracking = cluster.run("chronyc -n tracking | head -1", nodes=[worker])[worker].stdout
        assert cluster.inventory[primary].address in tracking, tracking
    finally:
        cluster.sudo("systemctl restart chrony", nodes=[primary], timeout=60)


def test_engines_start_on_the_boards(cluster):
    """07: one ipyparallel engine per board, each on its own board; the boards' Python (3.13 on trixie) differs
    from this kernel's, and the engines say what that means."""
    with cluster.engines(per_node=1) as engines:
        assert sorted(e.node for e in engines.map.engines) == sorted(cluster.inventory.nodes)
        view = engines.view()
        hosts = view.apply_sync(eval, "__import__('socket').gethostname()")
        assert sorted(hosts) == sorted(cluster.inventory.nodes)
        import sys
        if sys.version_info[:2] != (3, 13):
            assert engines.python_warning and "3.13" in engines.python_warning