"""How a namespace lab node starts a service now, without systemd.

A lab node's PID 1 is the lab's boot script (:mod:`.node`), which starts at
each boot what ``systemctl enable`` linked. So "start this at boot and now" is
the unit enabled, for the next boot, and the daemon started by hand with the
same commands as the boot script's: its folders made, a running one stopped,
the new one started, then waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from shlex import quote

from ..backends.platform import Service
from ..errors import ClusterkitError

NO_SYSTEMD = ("no systemd on these nodes: the step starts {daemons} itself and enables their units, for a boot "
              "that starts what is enabled")


@dataclass(frozen=True)
class ByHand:
    """How one daemon starts without systemd: what it needs first, its command, and the pid file it writes."""

    prepare: str
    start: str
    pid: str


#: The daemons the lab starts by hand, by systemd unit (the boot script starts them with the same commands).
BY_HAND = {
    "munge": ByHand("install -d -o munge -g munge -m 755 /run/munge", "runuser -u munge -- /usr/sbin/munged",
                    "/run/munge/munged.pid"),
    # A node of a user-namespace lab has /var's folders but not the host's database files: its system tables are
    # made as the package's postinst makes them on a board.
    "mariadb": ByHand("install -d -o mysql -g mysql -m 755 /run/mysqld /var/log/mysql && { [ -e /var/lib/mysql/mysql/db.frm ] || "
                      "mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null; }",
                      "setsid -f /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid "
                      "</dev/null >>/var/log/mysql/error.log 2>&1", "/run/mysqld/mysqld.pid"),
    "slurmdbd": ByHand("install -d -o slurm -g slurm -m 755 /var/log/slurm", "slurmdbd", "/run/slurmdbd.pid"),
    "slurmctld": ByHand("install -d -o slurm -g slurm -m 755 /var/lib/slurm/slurmctld /var/log/slurm", "slurmctld",
                        "/run/slurmctld.pid"),
    "slurmd": ByHand("install -d -m 755 /var/lib/slurm/slurmd /var/lib/slurm/no-cgroup", "slurmd", "/run/slurmd.pid"),
}


def by_hand(service: Service) -> str:
    """The command that enables ``service``'s unit, stops a running one, starts it and waits until it is ready."""
    way = BY_HAND.get(service.unit)
    if way is None:
        raise ClusterkitError(f"the lab cannot start {service.unit} without systemd (it starts "
                              f"{', '.join(BY_HAND)})", field="service")
    pid, unit = quote(way.pid), quote(service.unit)
    return (f"systemctl enable --quiet {unit} 2>/dev/null; {way.prepare} && "
            f"if p=$(cat {pid} 2>/dev/null) && kill -0 \"$p\" 2>/dev/null; then kill \"$p\"; "
            f"for i in $(seq 100); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi; "
            f"{way.start} && {service.wait}")
