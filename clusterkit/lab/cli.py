"""``clusterkit lab up|status|down``: the lab on the command line (registered by clusterkit.cli)."""

from __future__ import annotations

import argparse
import os
import sys

from . import DEFAULT_NAME, LABS_DIR, Lab, down, find, kinds, link, status, up

LAB_EPILOG = """examples:
  sudo clusterkit lab up            four nodes pc[0-3], as freshly imaged boards
  sudo clusterkit lab up -n 8 --name demo
  sudo clusterkit lab up --vm       four virtual boards (QEMU), booted from their cards
  clusterkit lab status             any user may look
  sudo clusterkit lab down          nothing of the lab is left on this host
  sudo clusterkit lab join kiosa kiosb    two labs as two carriers, kiosb behind a cable (a veth pair)

The lab writes its inventory to /run/clusterkit/labs/NAME/inventory.yaml (readable by
every user); `clusterkit.connect()` finds a running lab by itself. See "The lab" in README.md.
"""


def _table(lab: Lab) -> str:
    from .userlab import owner_of
    lines = [f"lab {lab.name} ({lab.describe()}): owner {owner_of(lab.dir)}, uplink {lab.uplink} (DHCP), "
             f"cluster network {lab.network}",
             f"  inventory {lab.inventory_path}",
             f"  {'node':<10} {'state':<8} {'pid':>7}  {'DHCP address':<15} {'planned eth0':<15} {'login':<8} "
             f"{'uid':>6}  sshd"]
    for s in lab.status():   # the login the inventory uses now (pi, until notebook 01 renames it) and its UID there
        lines.append(f"  {s.name:<10} {s.state:<8} {s.pid or '-':>7}  {s.host:<15} {s.address:<15} {s.login:<8} "
                     f"{'?' if s.uid is None else s.uid:>6}  {'answers' if s.sshd else '-'}")
    return "\n".join(lines)


def cmd_up(args) -> int:
    before = find(args.name)
    was_running = before is not None and before.running
    lab = up(n=args.n, name=args.name, network=args.network, kind=args.kind, release=args.release)
    print(up_message(lab, was_running=was_running))
    print(_table(lab))
    return 0


def up_message(lab: Lab, *, was_running: bool) -> str:
    """What ``lab up`` did: made the lab, powered some nodes on, or nothing."""
    if not was_running:
        return f"lab {lab.name} is up: {len(lab.boards)} nodes {lab.inventory().nodeset}"
    if lab.powered_on:
        return f"lab {lab.name}: powered on {', '.join(lab.powered_on)} (they were off)"
    return f"lab {lab.name} was already up"


def cmd_status(args) -> int:
    found = status(name=args.name)
    if not found:
        print(f"no lab {args.name} is up" if args.name else "no lab is up")
        return 1
    print("\n".join(_table(lab) for lab in found))
    return 0


def cmd_down(args) -> int:
    print(f"lab {args.name} is down" if down(name=args.name) else f"no lab {args.name} was up")
    return 0


def _own_lab(name: str) -> Lab:
    from ..errors import ClusterkitError
    lab = find(name)
    if lab is None or not lab.running:
        raise ClusterkitError(f"no lab {name} is up (`clusterkit lab up --name {name}`)", field="name")
    return lab


def cmd_enter(args) -> int:
    """Run a command on the lab's network, as this user (a normal user's lab has no host side)."""
    from .userlab import enter_command
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    argv, env = enter_command(_own_lab(args.name), command or [os.environ.get("SHELL", "/bin/sh")])
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)


def cmd_kernel(args) -> int:
    """Write the lab's ``python3`` kernelspec (its kernel on the lab's network) and print its JUPYTER_PATH folder."""
    from .userlab import write_kernelspec
    print(write_kernelspec(_own_lab(args.name)))
    return 0


def cmd_join(args) -> int:
    from ..carriers import write_joined
    near, far = link.records(args.near, args.far, LABS_DIR)
    if args.undo:
        link.unjoin(near, far)
        print(f"lab {far.name} is no longer behind {near.name}")
        return 0
    cable = link.join(near, far)
    target = LABS_DIR / near.name / f"joined-{far.name}.yaml"
    write_joined(target, [LABS_DIR / near.name / "inventory.yaml", LABS_DIR / far.name / "inventory.yaml"],
                 name=f"{near.name}-{far.name}")
    target.chmod(0o644)
    print(f"labs {near.name} and {far.name} are joined: {far.name} is reached through {cable} and its twin\n"
          f"  clusterkit run -i {target} hostname      (or CLUSTERKIT_INVENTORY={target})")
    return 0


def register(subparsers, add_common) -> None:
    """Add ``lab`` to the ``clusterkit`` command (``add_common`` is unused: the lab has its own options)."""
    lab = subparsers.add_parser("lab", help="a virtual cluster on this host (needs root to start)",
                                epilog=LAB_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = lab.add_subparsers(dest="lab_command", required=True)
    p_up = sub.add_parser("up", help="bring a lab up (idempotent: a running lab is kept)")
    p_up.add_argument("-n", type=int, default=None, metavar="N", help="number of nodes (default 4)")
    p_up.add_argument("--name", default=DEFAULT_NAME, help=f"the lab's name, also its nodes' prefix (default {DEFAULT_NAME})")
    p_up.add_argument("--network", default=None, metavar="CIDR",
                      help="the cluster network (default 10.0.0.0/24, or the next free 10.0.k.0/24)")
    p_up.set_defaults(kind=None, release=None)
    for kind in kinds.every():   # each kind's own options (--vm, --release)
        kind.add_options(p_up)
    p_up.set_defaults(func=cmd_up)
    p_status = sub.add_parser("status", help="nodes, pids, addresses, whether sshd answers")
    p_status.add_argument("--name", default=None, help="one lab only (default: every lab)")
    p_status.set_defaults(func=cmd_status)
    p_down = sub.add_parser("down", help="stop the lab and remove every trace of it")
    p_down.add_argument("--name", default=DEFAULT_NAME, help=f"the lab's name (default {DEFAULT_NAME})")
    p_down.set_defaults(func=cmd_down)
    p_enter = sub.add_parser("enter", help="run a command on the lab's network, as yourself (a lab started "
                             "without sudo has no host side: the workbook's kernel runs there)")
    p_enter.add_argument("--name", default=DEFAULT_NAME, help=f"the lab's name (default {DEFAULT_NAME})")
    p_enter.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS] (default: $SHELL)")
    p_enter.set_defaults(func=cmd_enter)
    p_kernel = sub.add_parser("kernel", help="write a python3 kernelspec that runs on the lab's network; prints "
                              "the folder for JUPYTER_PATH (JupyterLab with --KernelManager.transport=ipc)")
    p_kernel.add_argument("--name", default=DEFAULT_NAME, help=f"the lab's name (default {DEFAULT_NAME})")
    p_kernel.set_defaults(func=cmd_kernel)
    p_join = sub.add_parser("join", help="join two labs as two carriers: the second behind a link (a veth pair)")
    p_join.add_argument("near", help="the lab this host travels with")
    p_join.add_argument("far", help="the lab reached through the link")
    p_join.add_argument("--undo", action="store_true", help="remove the link (the far lab is reached directly again)")
    p_join.set_defaults(func=cmd_join)

