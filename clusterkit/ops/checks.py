"""Test all, and temperatures: one row per node, with "n/a" wherever a value is not known.

Test all asks each node for what a builder checks first after a change:
reachable by address and by name (pinged from the primary), its name resolves
(DNS or /etc/hosts), free disk space, load, uptime, and its clock's offset
(chronyc). Temperatures come from the node's thermal zone or ``vcgencmd``;
a node with no sensor says "n/a", never a made-up number.
"""

from __future__ import annotations

import html
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..results import html_block

if TYPE_CHECKING:
    from ..cluster import Cluster

NA = "n/a"

FACTS = r"""
echo "disk $(df -P / | awk 'NR==2 {print $5, $4}')"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "uptime $(cut -d' ' -f1 /proc/uptime)"
for n in $NAMES; do if getent hosts "$n" >/dev/null; then echo "dns $n ok"; else echo "dns $n FAIL"; fi; done
t=$(mktemp)
if ! command -v chronyc >/dev/null; then echo "no-offset chrony is not installed"
elif chronyc -n tracking >"$t" 2>&1; then
  sed -n 's/^System time *: \([0-9.]*\) seconds \(fast\|slow\).*/offset \1 \2/p' "$t"
  grep -q '^System time' "$t" || echo "no-offset chronyd gave no estimate yet"
else echo "no-offset chronyd does not answer ($(tail -n 1 "$t"))"; fi
rm -f "$t"
"""
#: Why the time offset may be missing, and what to do about it (shown in test all's note).
NO_OFFSET_HINT = "notebook 05 starts chronyd on every node"
PINGS = 'for T in $TARGETS; do if ping -c 1 -W 2 "$T" >/dev/null 2>&1; then echo "$T ok"; else echo "$T FAIL"; fi; done'
TEMPS = r"""
if command -v vcgencmd >/dev/null; then vcgencmd measure_temp 2>/dev/null; fi
for z in /sys/class/thermal/thermal_zone*; do
  [ -r "$z/temp" ] && echo "zone $(cat "$z/type" 2>/dev/null || echo zone) $(cat "$z/temp" 2>/dev/null)"
done
true
"""
#: Thermal zones that measure the CPU, preferred in this order.
CPU_ZONES = ("cpu-thermal", "cpu_thermal", "x86_pkg_temp", "soc_thermal", "acpitz")


@dataclass
class NodeCheck:
    """One node's row of test all (strings ready to show; "n/a" where not known)."""

    node: str
    answers: str = NA
    by_address: str = NA
    by_name: str = NA
    dns: str = NA
    disk: str = NA
    load: str = NA
    uptime: str = NA
    offset: str = NA
    offset_missing: str = ""  #: why there is no offset ("" when there is one, or the node did not answer)
    problems: list[str] = field(default_factory=list)

    COLUMNS = ("node", "answers", "by address", "by name", "DNS", "disk used (free)", "load 1/5/15", "uptime",
               "time offset")

    def cells(self) -> list[str]:
        return [self.node, self.answers, self.by_address, self.by_name, self.dns, self.disk, self.load, self.uptime,
                self.offset]


class Table:
    """Rows of per-node values with a note, shown as HTML in a notebook and as text elsewhere."""

    def __init__(self, title: str, columns: tuple[str, ...], rows: list[list[str]], *, note: str = "",
                 bad: set[tuple[int, int]] | None = None):
        self.title, self.columns, self.rows, self.note = title, columns, rows, note
        self.bad = bad or set()

    @property
    def ok(self) -> bool:
        return not self.bad

    def text(self) -> str:
        rows = [list(self.columns)] + self.rows
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.columns))]
        out = [self.title] + ([self.note] if self.note else [])
        out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(out)

    __str__ = text

    def __repr__(self) -> str:
        return f"<Table {self.title}: {len(self.rows)} nodes, {'ok' if self.ok else f'{len(self.bad)} problems'}>"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(
            f"<td style='background:{'#fce8e6' if (i, j) in self.bad else 'transparent'}'>{html.escape(v)}</td>"
            for j, v in enumerate(r)) + "</tr>" for i, r in enumerate(self.rows))
        note = f"<div><i>{html.escape(self.note)}</i></div>" if self.note else ""
        return html_block(f"<b>{html.escape(self.title)}</b>{note}<table><tr>{head}</tr>{body}</table>")


def test_all(cluster: Cluster, *, nodes=None) -> Table:
    """One row per node: answers, reachable by address and by name (from the primary), DNS, disk, load, uptime, offset."""
    names = cluster.inventory.select(nodes)
    inv = cluster.inventory
    rows = {n: NodeCheck(n) for n in names}
    facts = cluster.run(f"NAMES={shlex.quote(' '.join(inv.nodes))}\n{FACTS}", nodes=names, timeout=30)
    for n, r in facts.items():
        row = rows[n]
        if not r.ok:
            row.answers = r.status
            row.problems.append(r.summary())
            continue
        row.answers = "yes"
        _fill(row, r.stdout)
    primary = cluster[inv.primary]
    for row in rows.values():
        node = cluster[row.node]
        if row.answers == "yes" and (found := node.platform.look_up(node, list(inv.nodes))) is not None:
            row.dns = found
    targets = {n: (inv[n].address or inv[n].host) for n in names}
    loop = f"TARGETS={shlex.quote(' '.join(list(targets.values()) + names))}\n{PINGS}"
    pr = primary.platform.live(lambda: cluster.run(loop, nodes=inv.primary, timeout=60)[inv.primary], otherwise=None)
    ran = pr is not None and pr.ok
    got = dict(line.split(" ", 1) for line in pr.stdout.splitlines() if " " in line) if ran else {}
    for n in names:
        rows[n].by_address = got.get(targets[n], "FAIL" if ran else "not run")
        rows[n].by_name = got.get(n, "FAIL" if ran else "not run")
    note = primary.platform.facts_note()
    if note is None:
        note = f"pinged from the primary, {inv.primary}"
        missing = _offsets_missing(rows.values())
        note = f"{note}; {missing}" if missing else note
    table_rows = [rows[n].cells() for n in names]
    bad = {(i, j) for i, r in enumerate(table_rows) for j, v in enumerate(r)
           if v in ("FAIL", "timeout", "unreachable", "error", "failed") or v.startswith("FAIL")}
    return Table("Test all", NodeCheck.COLUMNS, table_rows, note=note, bad=bad)


def _fill(row: NodeCheck, out: str) -> None:
    dns = []
    for line in out.splitlines():
        key, _, rest = line.partition(" ")
        if key == "disk" and rest.strip():
            used, free_kib = (rest.split() + ["", ""])[:2]
            row.disk = f"{used} ({int(free_kib) / 1048576:.1f} GiB)" if free_kib.isdigit() else used
        elif key == "load":
            row.load = rest.strip() or NA
        elif key == "uptime":
            try:
                row.uptime = _duration(float(rest))
            except ValueError:
                pass
        elif key == "dns":
            dns.append(rest.split())
        elif key == "offset":
            value, way = rest.split()
            row.offset = f"{float(value) * 1e3 * (1 if way == 'fast' else -1):+.3f} ms"
        elif key == "no-offset":
            row.offset_missing = rest.strip()
    if dns:
        failed = [d[0] for d in dns if d[1] != "ok"]
        row.dns = "ok" if not failed else "FAIL: " + ",".join(failed)


def _offsets_missing(rows) -> str:
    """One sentence saying why the time offset is n/a, and on which nodes ("" when every node has one)."""
    from ClusterShell.NodeSet import NodeSet
    why: dict[str, list[str]] = {}
    for row in rows:
        if row.offset == NA and row.offset_missing:
            why.setdefault(row.offset_missing, []).append(row.node)
    if not why:
        return ""
    parts = [f"{NodeSet.fromlist(nodes)}: {reason}" for reason, nodes in why.items()]
    return f"time offset n/a on {'; '.join(parts)} ({NO_OFFSET_HINT})"


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return (f"{days} d " if days else "") + f"{hours:02d}:{rest // 60:02d}"


def temperatures(cluster: Cluster, *, nodes=None) -> Table:
    """Each node's CPU temperature from vcgencmd or its thermal zone; "n/a" where it has no sensor."""
    res = cluster.run(TEMPS, nodes=nodes, timeout=30)
    rows = []
    for n, r in res.items():
        if not r.ok:
            rows.append([n, NA, f"no answer: {r.summary()}"])
            continue
        value, source = parse_temperature(r.stdout)
        rows.append([n, NA if value is None else f"{value:.1f} °C", source])
    notes = dict.fromkeys(note for n in res if (note := cluster[n].platform.sensor_note()))
    note = "; ".join(notes)
    return Table("Temperatures", ("node", "temperature", "sensor"), rows, note=note)


def parse_temperature(out: str) -> tuple[float | None, str]:
    """(degrees C, where from) from vcgencmd's ``temp=48.3'C`` or thermal zone lines; (None, why) when none."""
    m = re.search(r"temp=([\d.]+)'C", out)
    if m:
        return float(m.group(1)), "vcgencmd measure_temp"
    zones = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "zone" and re.fullmatch(r"-?\d+", parts[2]):
            zones.setdefault(parts[1], int(parts[2]) / 1000)
    for name in CPU_ZONES + tuple(zones):
        if name in zones and -40 < zones[name] < 150:
            return zones[name], f"thermal zone {name}"
    return None, "no sensor on this node"
