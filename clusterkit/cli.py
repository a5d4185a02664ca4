"""``clusterkit`` on the command line, with the flags clush users know: ``run``, ``nodes``, the
operations (``test``, ``temps``, ``reboot``, ``poweroff``), ``lab`` (:mod:`clusterkit.lab.cli`) and
``firstboot`` (:mod:`clusterkit.firstboot.cli`).

A subcommand imports what it runs when it runs, so the command starts quickly.

Exit status of ``clusterkit run``:
  0  every node succeeded
  1  the command exited non-zero on at least one node (and every node answered)
  2  bad usage or a bad inventory (nothing was run)
  3  at least one node timed out, was unreachable, or refused the command
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from . import backends, connect
from .errors import ClusterkitError
from .firstboot.cli import register as register_firstboot
from .lab.cli import register as register_lab
from .results import ClusterResult

if TYPE_CHECKING:
    from .cluster import Cluster

EXIT_OK, EXIT_REMOTE, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

RUN_EPILOG = """exit status:
  0  every node succeeded
  1  the command exited non-zero on at least one node (every node answered)
  2  bad usage or a bad inventory (nothing was run)
  3  at least one node timed out, could not be reached, or refused the command

example:
  clusterkit run -b hostname
  clusterkit run -w 'pc[1-3]' -x pc2 -u 5 'uptime'
"""

OPS_EPILOG = """examples:
  clusterkit test                 one row per node: reachable, DNS, disk, load, uptime, time offset
  clusterkit temps                each node's temperature ("n/a" without a sensor)
  clusterkit reboot --yes         workers first, the primary last; waits until every node is back
  clusterkit poweroff --yes       workers first, the primary last
"""


def exit_status(result: ClusterResult) -> int:
    """The CLI's exit status for a cluster result (see the module docstring)."""
    statuses = {r.status for r in result.values()}
    if statuses - {"ok", "failed"}:
        return EXIT_UNREACHABLE
    if "failed" in statuses:
        return EXIT_REMOTE
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--inventory", help="inventory file (default: $CLUSTERKIT_INVENTORY, else the built-in four nodes)")
    p.add_argument("--backend", choices=backends.choices(),
                   help="how to reach the nodes (default: $CLUSTERKIT_BACKEND, else auto)")


def _connect(args) -> Cluster:
    return connect(args.inventory, backend=args.backend,
                   **({"connect_timeout": args.connect_timeout} if getattr(args, "connect_timeout", None) else {}),
                   **({"fanout": args.fanout} if getattr(args, "fanout", None) else {}))


def cmd_run(args) -> int:
    command = " ".join(args.command)
    with _connect(args) as cluster:
        result = cluster.run(command, nodes=args.nodes, exclude=args.exclude, timeout=args.command_timeout)
    if args.gather:
        print(result.text())
    else:
        for node, r in result.items():
            if r.reachable:
                for line in (r.stdout + r.stderr).splitlines():
                    print(f"{node}: {line}")
                if r.status == "failed":
                    print(f"clusterkit: {node}: exited with exit code {r.exit_code}", file=sys.stderr)
            else:
                print(f"clusterkit: {node}: {r.summary()}", file=sys.stderr)
    return exit_status(result)


def cmd_nodes(args) -> int:
    with _connect(args) as cluster:
        inv = cluster.inventory
        print(f"{inv.name}: {inv.nodeset} ({len(inv)} nodes, primary {inv.primary}, backend {cluster.backend})")
        for spec in inv:
            role = "primary" if spec.primary else "worker"
            addr = spec.address or "-"
            user = f"{spec.user}@" if spec.user else ""
            print(f"  {spec.name:<12} {role:<8} {addr:<16} ssh {user}{spec.host}:{spec.port}")
    return EXIT_OK


def cmd_test(args) -> int:
    from .ops.checks import test_all
    with _connect(args) as cluster:
        table = test_all(cluster, nodes=args.nodes)
    print(table.text())
    return 0 if table.ok else EXIT_REMOTE


def cmd_temps(args) -> int:
    from .ops.checks import temperatures
    with _connect(args) as cluster:
        print(temperatures(cluster, nodes=args.nodes).text())
    return 0


def cmd_power(args) -> int:
    from .ops.power import reboot_all, stop_all
    if not args.yes:
        print(f"clusterkit {args.command_name}: add --yes to switch every node "
              f"{'off' if args.command_name == 'poweroff' else 'off and on again'} (workers first, then the primary)")
        return EXIT_USAGE
    with _connect(args) as cluster:
        run = reboot_all if args.command_name == "reboot" else stop_all
        report = run(cluster, confirm=True, progress=True)
    print(report.text())
    bad = [s for s in report.steps if s.status != "ok"]
    late = [n for n, t in (report.back or {}).items() if t is None]
    return EXIT_UNREACHABLE if bad or late else 0


def cmd_join(args) -> int:
    from .carriers import write_joined
    target = write_joined(args.output, args.inventories, name=args.name)
    with connect(str(target), backend=args.backend) as joined:
        print(f"{joined.name}: {len(joined.carriers)} carriers joined in {target}")
        for carrier, nodes in joined.groups.items():
            print(f"  {carrier:<12} {', '.join(nodes)}")
    print(f"use it as any inventory: clusterkit run -i {target} hostname")
    return EXIT_OK


def cmd_hpc_intro(args) -> int:
    from .compute.hpcintro import NodeHardware, read_hardware, site_files, write_site
    from .inventory import load_inventory
    if (args.cpus is None) != (args.memory is None):
        raise ClusterkitError("give both --cpus and --memory, or neither (then slurm.conf on the primary says)",
                              field="cpus" if args.cpus is None else "memory")
    if args.cpus is not None:
        inventory = load_inventory(args.inventory)
        hardware = {n: NodeHardware(args.cpus, args.memory) for n in inventory.nodes}
    else:
        with _connect(args) as cluster:
            inventory = cluster.inventory
            hardware = read_hardware(cluster)
    files = site_files(inventory, hardware=hardware, user=args.user, site=args.site, partition=args.partition,
                       arch=args.arch)
    site = files["_config_options.yml"].split('snippets: "', 1)[1].split('"', 1)[0]
    folder = args.output or site
    for path in write_site(folder, files):
        print(f"wrote {path}")
    print(f"copy {folder} to the lesson's episodes/files/customization/{site}/, then build it with\n"
          f"  export HPC_CARPENTRY_CUSTOMIZATION=episodes/files/customization/{site}/_config_options.yml")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clusterkit", description="Run and set up a small cluster.")
    sub = parser.add_subparsers(dest="command_name", required=True)

    run = sub.add_parser("run", help="run a command on many nodes at once",
                         epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(run)
    run.add_argument("-w", dest="nodes", metavar="NODESET", help="nodes to run on, e.g. pc[1-3] (default: all)")
    run.add_argument("-x", dest="exclude", metavar="NODESET", help="nodes to leave out")
    run.add_argument("-b", "--dshbak", dest="gather", action="store_true",
                     help="gather identical output under the folded node set (like clush -b)")
    run.add_argument("-t", "--connect_timeout", type=float, metavar="SECONDS",
                     help="seconds to open a connection before a node counts as unreachable (default 10)")
    run.add_argument("-u", "--command_timeout", type=float, metavar="SECONDS",
                     help="seconds a command may run on a node (default: no limit)")
    run.add_argument("-f", "--fanout", type=int, metavar="N", help="nodes worked on at once (default 64)")
    run.add_argument("command", nargs=argparse.REMAINDER, help="the shell command")
    run.set_defaults(func=cmd_run)

    nodes = sub.add_parser("nodes", help="list the inventory's nodes")
    _common(nodes)
    nodes.set_defaults(func=cmd_nodes)

    join = sub.add_parser("join", help="join two or three carriers (clusters) into one: writes a joined inventory")
    join.add_argument("inventories", nargs="+", metavar="INVENTORY", help="each carrier's inventory file")
    join.add_argument("-o", "--output", required=True, metavar="FILE", help="the joined file to write (.yaml)")
    join.add_argument("--name", default=None, help="the joined cluster's name (default: the carriers' names)")
    join.add_argument("--backend", choices=backends.choices(), help="how to reach the nodes (default: auto)")
    join.set_defaults(func=cmd_join)

    hpc = sub.add_parser("hpc-intro-config", help="write HPC Carpentry's hpc-intro site configuration for this cluster")
    _common(hpc)
    hpc.add_argument("-o", "--output", metavar="DIR", help="the site folder to write (default: the site's name)")
    hpc.add_argument("--user", default="alice", help="the learner's user name in the lesson (default: alice)")
    hpc.add_argument("--site", help="the site's folder name (default: clusterkit_NAME_slurm)")
    hpc.add_argument("--partition", default="main", help="the partition jobs go to (default: main)")
    hpc.add_argument("--arch", default="aarch64", help="uname -m of the nodes (default: aarch64, a Raspberry Pi)")
    hpc.add_argument("--cpus", type=int, help="CPUs of every node, instead of reading slurm.conf on the primary")
    hpc.add_argument("--memory", type=int, metavar="MB", help="memory of every node (MB), with --cpus")
    hpc.set_defaults(func=cmd_hpc_intro)

    register_lab(sub, _common)  # ``clusterkit lab up|status|down|join``
    register_firstboot(sub, _common)  # ``clusterkit firstboot write|copy``
    for name, func, text in (("test", cmd_test, "test all: one row per node"),
                             ("temps", cmd_temps, "every node's temperature"),
                             ("reboot", cmd_power, "reboot every node safely (workers first)"),
                             ("poweroff", cmd_power, "switch every node off safely (workers first)")):
        p = sub.add_parser(name, help=text, epilog=OPS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        _common(p)
        if name in ("test", "temps"):
            p.add_argument("-w", dest="nodes", metavar="NODESET", help="nodes to ask (default: all)")
        else:
            p.add_argument("--yes", action="store_true", help="really do it (there is no other confirmation)")
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command_name == "run" and not args.command:
        parser.error("run: give a command to run")
    try:
        return args.func(args)
    except ClusterkitError as e:
        print(f"clusterkit: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
