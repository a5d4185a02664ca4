"""The node agent: one small process per node that samples its load and owns its LEDs.

Run as ``python -m clusterkit.agent [--interval 0.5] [--node NAME] [--leds virtual|blinkt|auto]
[--scope host|node|pidns] [--pid PID ...]``. It writes one JSON line per interval
on stdout and reads JSON command lines on stdin::

    {"pattern": "larson"}      larson | cpu | identify | clear
    {"fill": "#ff7f0e"}        every pixel one colour (the booth: this node is computing a tile)
    {"brightness": 0.5}        0 to 1
    {"clear": true}            every pixel off (the pattern becomes "clear")
    {"pids": [123, 456]}       also measure these processes and their children (scope node)

Each line is a :class:`~clusterkit.sample.Sample` (its fields are declared
there): ``cpu`` (percent of all cores), ``cores`` (percent per core),
``load`` (1, 5, 15 minutes), ``mem``, and, only where they exist, ``net``,
``temp`` (degrees C) and ``battery`` (percent, ``secs_left`` when known; :mod:`clusterkit.battery`) —
a value that cannot be measured is left out, never invented — plus the LED
pixels it shows (``leds``, ``pattern``, ``brightness``). A command is answered
at once by a sample that shows its effect. On SIGTERM, or when stdin closes, the
agent clears the LEDs, writes a last line with ``"bye"`` and exits.

Scopes: ``host`` measures the whole machine (a board); ``node`` measures only the
processes of the agent's own PID namespace whose environment says
``CLUSTERKIT_NODE=<node>`` (and the agent's own ``CLUSTERKIT_ROOT``, the node's
sandbox, when it has one), their children, plus the given pids (the local
backend, where every node shares one machine: a lab node's processes, in a PID
namespace of their own, are never a local node's, even when named alike); ``pidns`` measures
every process it can see (a lab node, whose PID namespace holds only its own).
In the last two the load average is the kernel's damped average of the busy
cores of those processes, and ``net`` is left out on ``node`` (the nodes share
the host's network, so bytes cannot be told apart).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import psutil

from .battery import read_battery
from .errors import ClusterkitError
from .leds import LedController, LedStrip, VirtualStrip, animated, make_strip
from .sample import Sample

#: Seconds between samples unless told.
DEFAULT_INTERVAL = 0.5
#: Frames a second for animated patterns on a real strip.
FRAME_RATE = 20.0
#: Seconds a temperature or battery reading is reused (sensors are slow to read).
SENSOR_TTL = 2.0
SCOPES = ("host", "node", "pidns")
#: Temperature sensors tried first, in order (a Pi's SoC, Intel, AMD, ACPI).
PREFERRED_SENSORS = ("cpu_thermal", "coretemp", "k10temp", "acpitz")


@dataclass
class Sampler:
    """Takes one sample of a node's load at a time; CPU figures cover the time since the last one."""

    scope: str = "host"
    node: str = ""
    pids: set[int] = field(default_factory=set)
    #: The node's sandbox on the local backend: two local clusters may both have a "pc1".
    root: str | None = None

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ClusterkitError(f"unknown scope {self.scope!r}; use {', '.join(SCOPES)}", field="scope")
        self.ncores = psutil.cpu_count() or 1
        self.me = os.getpid()
        self.pidns = _pid_namespace("self")
        self._known: dict[int, psutil.Process | None] = {}
        self._times: dict[int, float] = {}
        self._last = time.monotonic()
        self._last_wall = time.time()
        self._load = [0.0, 0.0, 0.0]
        self._sensors: tuple[float, dict] = (-math.inf, {})
        if self.scope == "host":
            psutil.cpu_percent(percpu=True)
        else:
            self._processes()

    def watch(self, pids) -> None:
        """Also count these processes (and their children) as the node's."""
        self.pids |= {int(p) for p in pids}
        self._known.clear()

    # ------------------------------------------------------------ processes of the node
    def _discover(self, pid: int, members: dict) -> psutil.Process | None:
        """A process met for the first time: the node's (its Process) or not (None)."""
        try:
            proc = psutil.Process(pid)
            if self.scope == "pidns" or pid in self.pids or proc.ppid() in members:
                return proc
            env = proc.environ()
            mine = env.get("CLUSTERKIT_NODE") == self.node and self.root in (None, env.get("CLUSTERKIT_ROOT"))
            return proc if mine and _pid_namespace(pid) == self.pidns else None
        except (psutil.Error, OSError):
            return None

    def _processes(self) -> tuple[float, list[float], int, int]:
        """Busy core-seconds since last time (total and per core), resident bytes, process count.

        Only a new pid is looked at closely (its environment, once); a known
        pid that is not the node's costs nothing, so a sample stays cheap.
        """
        busy, per_core, rss = 0.0, [0.0] * self.ncores, 0
        try:
            pids = sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
        except OSError:
            pids = psutil.pids()
        members: dict[int, psutil.Process] = {}
        known = self._known
        for pid in pids:
            if pid == self.me:
                continue
            if pid in known:
                proc = known[pid]
            else:
                proc = known[pid] = self._discover(pid, members)
            if proc is None:
                continue
            try:
                with proc.oneshot():
                    t = proc.cpu_times()
                    core = proc.cpu_num()
                    rss += proc.memory_info().rss
            except (psutil.Error, OSError):
                known.pop(pid, None)
                continue
            members[pid] = proc
            spent = t.user + t.system
            prev = self._times.get(pid)
            if prev is None:  # new since the last sample: all its time is recent; else we only meet it now
                prev = 0.0 if proc.create_time() >= self._last_wall else spent
            self._times[pid] = spent
            delta = max(0.0, spent - prev)
            busy += delta
            if 0 <= core < self.ncores:
                per_core[core] += delta
        alive = set(pids)
        for pid in [p for p in known if p not in alive]:
            del known[pid]
        for pid in [p for p in self._times if p not in members]:
            del self._times[pid]
        return busy, per_core, rss, len(members)

    # ------------------------------------------------------------ one sample
    def sample(self) -> dict:
        """The measured fields of a :class:`~clusterkit.sample.Sample`, those that exist here."""
        now = time.monotonic()
        dt = max(now - self._last, 1e-3)
        out: dict = {}
        if self.scope == "host":
            cores = psutil.cpu_percent(percpu=True)
            out["cpu"] = round(sum(cores) / len(cores), 1)
            out["cores"] = [round(c, 1) for c in cores]
            out["load"] = [round(x, 2) for x in os.getloadavg()]
            vm = psutil.virtual_memory()
            out["mem"] = {"total": vm.total, "used": vm.total - vm.available, "percent": vm.percent}
        else:
            busy, per_core, rss, count = self._processes()
            out["cpu"] = round(min(100.0, 100.0 * busy / (dt * self.ncores)), 1)
            out["cores"] = [round(min(100.0, 100.0 * c / dt), 1) for c in per_core]
            running = busy / dt
            for i, minutes in enumerate((1, 5, 15)):
                e = math.exp(-dt / (60.0 * minutes))
                self._load[i] = self._load[i] * e + running * (1 - e)
            out["load"] = [round(x, 2) for x in self._load]
            total = psutil.virtual_memory().total
            out["mem"] = {"total": total, "used": rss, "percent": round(100.0 * rss / total, 1)}
            out["procs"] = count
        self._last, self._last_wall = now, time.time()
        if self.scope != "node":
            net = psutil.net_io_counters()
            if net is not None:
                out["net"] = {"sent": net.bytes_sent, "recv": net.bytes_recv}
        out.update(self.sensors(now))
        return out

    def sensors(self, now: float) -> dict:
        """Temperature and battery, only where this machine has them (read at most every SENSOR_TTL s)."""
        at, cached = self._sensors
        if now - at < SENSOR_TTL:
            return cached
        found: dict = {}
        temp = read_temperature()
        if temp is not None:
            found["temp"] = temp
        battery = read_battery()
        if battery is not None:
            found["battery"] = battery
        self._sensors = (now, found)
        return found


def _pid_namespace(pid: int | str) -> str | None:
    """The PID namespace a process is in (``pid:[inode]``), or None when it cannot be read."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def read_temperature() -> float | None:
    """The CPU's temperature in degrees C, or None when no sensor exists."""
    try:
        sensors = psutil.sensors_temperatures()
    except (AttributeError, OSError):
        sensors = {}
    for name in PREFERRED_SENSORS + tuple(sorted(sensors)):
        for entry in sensors.get(name, []):
            if entry.current is not None and entry.current > -273:
                return round(entry.current, 1)
    return None


class Agent:
    """The loop: sample every ``interval``, draw the LEDs, obey commands; :meth:`stop` ends it."""

    def __init__(self, *, node: str, interval: float, strip: LedStrip, sampler: Sampler, write,
                 pattern: str = "cpu"):
        if interval <= 0:
            raise ClusterkitError(f"must be positive, not {interval}", field="interval")
        self.node = node
        self.interval = interval
        self.leds = LedController(strip, pattern=pattern)
        self.sampler = sampler
        self.write = write
        self.commands: queue.Queue = queue.Queue()
        self.stopped = threading.Event()
        self.bye = "stopped"
        self.seq = 0
        self.load = 0.0
        self.error: str | None = None

    def stop(self, reason: str) -> None:
        if not self.stopped.is_set():
            self.bye = reason
            self.stopped.set()
            self.commands.put(None)

    def obey(self, line: str) -> None:
        """Apply one command line; a bad one is reported in the next sample's ``error``."""
        try:
            cmd = json.loads(line)
            if not isinstance(cmd, dict):
                raise ValueError("a command is a JSON object")
            if cmd.get("clear"):
                self.leds.set_pattern("clear")
            if "pattern" in cmd:
                self.leds.set_pattern(str(cmd["pattern"]))
            if "fill" in cmd:
                self.leds.fill(str(cmd["fill"]))
            if "brightness" in cmd:
                self.leds.strip.set_brightness(float(cmd["brightness"]))
            if "pids" in cmd:
                self.sampler.watch(cmd["pids"])
        except (ValueError, TypeError, ClusterkitError) as e:
            self.error = f"bad command {line.strip()[:80]!r}: {e}"

    def emit(self) -> None:
        data = self.sampler.sample()
        self.load = data["cpu"]
        self.leds.frame(self.load)
        self.seq += 1
        error, self.error = self.error, None
        self.write(Sample(node=self.node, seq=self.seq, time=round(time.time(), 3), **data,
                          leds=self.leds.report(), pattern=self.leds.pattern,
                          brightness=self.leds.strip.brightness, error=error).to_json())

    def run(self) -> None:
        frames = not isinstance(self.leds.strip, VirtualStrip)  # a real strip animates between samples
        next_sample = time.monotonic()
        try:
            while not self.stopped.is_set():
                now = time.monotonic()
                if now >= next_sample:
                    self.emit()
                    next_sample = max(next_sample + self.interval, now + self.interval / 4)
                wait = next_sample - time.monotonic()
                if frames and animated(self.leds.pattern):
                    wait = min(wait, 1.0 / FRAME_RATE)
                try:
                    cmd = self.commands.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    cmd = None
                    if frames:
                        self.leds.frame(self.load)
                if cmd is not None:
                    self.obey(cmd)
                    while True:
                        try:
                            more = self.commands.get_nowait()
                        except queue.Empty:
                            break
                        if more is not None:
                            self.obey(more)
                    if not self.stopped.is_set():
                        next_sample = time.monotonic()
        except BrokenPipeError:
            self.bye = "output closed"
        finally:
            self.leds.strip.close()
            try:
                self.write(Sample(node=self.node, seq=self.seq + 1, time=round(time.time(), 3), bye=self.bye,
                                  leds=self.leds.report(), pattern="clear").to_json())
            except (BrokenPipeError, OSError, ValueError):
                pass


def _read_commands(agent: Agent, stream) -> None:
    for line in stream:
        if line.strip():
            agent.commands.put(line)
    agent.stop("input closed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clusterkit.agent", description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between samples")
    parser.add_argument("--node", default=os.environ.get("CLUSTERKIT_NODE") or os.uname().nodename,
                        help="the node's name (default: $CLUSTERKIT_NODE, else the host name)")
    parser.add_argument("--leds", default="virtual", choices=("virtual", "blinkt", "auto"),
                        help="the LED strip: virtual, a Blinkt! board, or auto (a Blinkt! when one is found)")
    parser.add_argument("--scope", default="host", choices=SCOPES, help="which processes count as the node")
    parser.add_argument("--pid", type=int, action="append", default=[], help="also measure this process")
    parser.add_argument("--pattern", default="cpu", help="the LED pattern to start with")
    args = parser.parse_args(argv)
    try:
        strip = make_strip(args.leds)
        sampler = Sampler(scope=args.scope, node=args.node, pids=set(args.pid),
                          root=os.environ.get("CLUSTERKIT_ROOT") if args.scope == "node" else None)
    except ClusterkitError as e:
        print(f"clusterkit.agent: {e}", file=sys.stderr)
        return 2
    out = sys.stdout

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    try:
        agent = Agent(node=args.node, interval=args.interval, strip=strip, sampler=sampler, write=write,
                      pattern=args.pattern)
    except ClusterkitError as e:
        strip.close()
        print(f"clusterkit.agent: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: agent.stop("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: agent.stop("SIGINT"))
    threading.Thread(target=_read_commands, args=(agent, sys.stdin), daemon=True).start()
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
