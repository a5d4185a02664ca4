"""``clusterkit test|temps|reboot|poweroff``: the operations on the command line (registered in clusterkit.cli)."""

from __future__ import annotations

import argparse

OPS_EPILOG = """examples:
  clusterkit test                 one row per node: reachable, DNS, disk, load, uptime, time offset
  clusterkit temps                each node's temperature ("n/a" without a sensor)
  clusterkit reboot --yes         workers first, the primary last; waits until every node is back
  clusterkit poweroff --yes       workers first, the primary last
"""


def cmd_test(args) -> int:
    from .. import cli
    from .checks import test_all
    with cli._connect(args) as cluster:
        table = test_all(cluster, nodes=args.nodes)
    print(table.text())
    return 0 if table.ok else cli.EXIT_REMOTE


def cmd_temps(args) -> int:
    from .. import cli
    from .checks import temperatures
    with cli._connect(args) as cluster:
        print(temperatures(cluster, nodes=args.nodes).text())
    return 0


def cmd_power(args) -> int:
    from .. import cli
    from .power import reboot_all, stop_all
    if not args.yes:
        print(f"clusterkit {args.command_name}: add --yes to switch every node "
              f"{'off' if args.command_name == 'poweroff' else 'off and on again'} (workers first, then the primary)")
        return cli.EXIT_USAGE
    with cli._connect(args) as cluster:
        run = reboot_all if args.command_name == "reboot" else stop_all
        report = run(cluster, confirm=True, progress=True)
    print(report.text())
    bad = [s for s in report.steps if s.status != "ok"]
    late = [n for n, t in (report.back or {}).items() if t is None]
    return cli.EXIT_UNREACHABLE if bad or late else 0


def register(subparsers, add_common) -> None:
    """Add the operations to the ``clusterkit`` command."""
    for name, func, text in (("test", cmd_test, "test all: one row per node"),
                             ("temps", cmd_temps, "every node's temperature"),
                             ("reboot", cmd_power, "reboot every node safely (workers first)"),
                             ("poweroff", cmd_power, "switch every node off safely (workers first)")):
        p = subparsers.add_parser(name, help=text, epilog=OPS_EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        add_common(p)
        if name in ("test", "temps"):
            p.add_argument("-w", dest="nodes", metavar="NODESET", help="nodes to ask (default: all)")
        else:
            p.add_argument("--yes", action="store_true", help="really do it (there is no other confirmation)")
        p.set_defaults(func=func)
