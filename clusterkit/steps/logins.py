"""Who else is logged in as a user on a node, and the one thing to do about it (``usermod`` renames no one logged in).

The workbook's own other connections under that login (an earlier cluster of
this kernel, one whose notebook cell was run again or failed) are closed first.
What is left is named as the learner knows it: another notebook (each
connection the workbook opens says on the node which notebook, kernel or
program holds it: :mod:`clusterkit.backends.session`), else the process.
"""

from __future__ import annotations

import time

from ..backends.session import Login, logins, logins_script


def other_sessions(node, user: str) -> list[Login]:
    """The processes of ``user`` on a node other than the workbook's own connection, with who holds each.

    The workbook's other connections to the node under that login are closed first; the sessions they held
    take a moment to end, so they are looked for again for up to 3 s.
    """
    closed = node.close_twins()
    deadline = time.monotonic() + (3.0 if closed else 0.0)
    while True:
        r = node.run(logins_script(user), timeout=30)
        found = logins(r.stdout) if r.ok else []
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def holders(found: list[Login]) -> list[str]:
    """What holds the logins, once each: a notebook or program by name, else each process."""
    return list(dict.fromkeys(str(login) for login in found))


#: What to do about each kind of holder: a notebook, a kernel without one (Voila's), a program.
ACTIONS = {"notebook": "close {} (Kernel > Shut Down Kernel)",
           "kernel": "shut down {} (JupyterLab's Running Terminals and Kernels)",
           "program": "end {}"}


def what_to_do(user: str, found: list[Login]) -> str:
    """The one thing to do before running the cell again: close those notebooks, or log the user out."""
    if any(x.holder is not None and x.holder.here for x in found):
        return "this kernel still holds an earlier connection: restart it (Kernel > Restart Kernel) and run again"
    kinds: dict[str, list[str]] = {kind: [] for kind in ACTIONS}
    for h in (x.holder for x in found if x.holder is not None):
        kind = "notebook" if h.notebook else "kernel" if h.kernel else "program"
        if f"{h.name}{h.where()}" not in kinds[kind]:
            kinds[kind].append(f"{h.name}{h.where()}")
    steps = [ACTIONS[kind].format(_and(names)) for kind, names in kinds.items() if names]
    if any(x.holder is None for x in found):
        steps.append(f"log {user!r} out of any desktop or terminal")
    return " and ".join(steps) + ", then run this cell again"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def refusal(user: str, found: list[Login]) -> str:
    """One line: who else holds ``user``'s login, why that stops the rename, and what to do."""
    named = holders(found)
    who = named[0] + (f" and {len(named) - 1} more" if len(named) > 1 else "")
    if found[0].holder is None:
        who = f"another program ({who})"
    return (f"{user!r} is also logged in there by {who}, and usermod cannot rename a user who is logged in: "
            f"{what_to_do(user, found)}")


__all__ = ["other_sessions", "holders", "what_to_do", "refusal", "ACTIONS"]
