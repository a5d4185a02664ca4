"""How plans and apply results look: a table of nodes with expandable diffs (notebooks), plain text (terminals)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ClusterShell.NodeSet import NodeSet

from ..results import html_block
from .actions import Command, FileChange, first_line, is_long

if TYPE_CHECKING:
    from ..cluster import Cluster

_ROW = "<tr><td style='vertical-align:top'><code>{node}</code></td><td style='text-align:left'>{body}</td></tr>"


def _summary(nplan) -> str:
    files = nplan.files
    cmds = nplan.commands
    parts = []
    if files:
        parts.append(f"{len(files)} file{'s' if len(files) != 1 else ''}")
    if cmds:
        parts.append(f"{len(cmds)} command{'s' if len(cmds) != 1 else ''}")
    return ", ".join(parts) or "nothing to change"


def _groups(plan) -> list[tuple[str, object]]:
    """Nodes with nothing to change folded into one row (pc[1-3]); the others one row each."""
    idle = [n for n, p in plan.nodes.items() if p.empty and not p.notes]
    rows = [(n, p) for n, p in plan.nodes.items() if n not in idle]
    if idle:
        rows.append((str(NodeSet.fromlist(idle)), None))
    return rows


def plan_text(plan) -> str:
    head = f"Plan {plan.title} ({plan.backend} backend): "
    if plan.empty:
        head += "nothing to change"
    else:
        changing = [n for n, p in plan.nodes.items() if not p.empty]
        head += f"changes on {NodeSet.fromlist(changing)}"
    out = [head] + [f"  note: {n}" for n in plan.notes]
    for name, nplan in _groups(plan):
        if nplan is None:
            out.append(f"{name}: nothing to change")
            continue
        out.append(f"{name}: {_summary(nplan)}")
        out += [f"  note: {n}" for n in nplan.notes]
        for a in nplan.steps():
            if isinstance(a, FileChange):
                out.append(f"  {a.kind} {a.path}" + (f"  ({a.why})" if a.why else ""))
                out += ["    " + line for line in a.diff().splitlines()]
            else:
                out.append(f"  $ sudo {a.command}" + (f"  ({a.why})" if a.why else ""))
    return "\n".join(out)


def _action_html(a) -> str:
    if isinstance(a, FileChange):
        why = f" — {html.escape(a.why)}" if a.why else ""
        return (f"<details><summary>{a.kind} <code>{html.escape(a.path)}</code>{why}</summary>"
                f"<pre style='margin:0'>{html.escape(a.diff())}</pre></details>")
    why = f" — {html.escape(a.why)}" if a.why else ""
    if is_long(a.command):
        return _script_html("$ sudo", a.command, a.why)
    return f"<div><code>$ sudo {html.escape(a.command)}</code>{why}</div>"


def _script_html(lead: str, command: str, why: str) -> str:
    """A long command: named by what it does, the script itself folded under that name (click to read it)."""
    name = html.escape(why) if why else f"<code>{html.escape(first_line(command))}</code>"
    return (f"<details><summary>{html.escape(lead)} {name} <i>(a shell script: click to read it)</i></summary>"
            f"<pre style='margin:0;white-space:pre-wrap'><code>{html.escape(command)}</code></pre></details>")


def plan_html(plan) -> str:
    rows = []
    for name, nplan in _groups(plan):
        if nplan is None:
            rows.append(_ROW.format(node=html.escape(name), body="nothing to change"))
            continue
        notes = "".join(f"<div><i>{html.escape(n)}</i></div>" for n in nplan.notes)
        body = f"<b>{_summary(nplan)}</b>{notes}" + "".join(_action_html(a) for a in nplan.steps())
        rows.append(_ROW.format(node=html.escape(name), body=body))
    notes = "".join(f"<div><i>{html.escape(n)}</i></div>" for n in plan.notes)
    head = "nothing to change" if plan.empty else "click a file to see its diff"
    return html_block(f"<b>Plan: {html.escape(plan.title)}</b> on the {plan.backend} backend — {head}{notes}"
                      "<table><thead><tr><th>node</th><th style='text-align:left'>changes</th></tr></thead>"
                      f"<tbody>{''.join(rows)}</tbody></table>")


def _outcome_line(line: str, whys: dict[str, str] | None = None) -> str:
    """One line of what apply did; a command in it is shown as code (a ``$`` in it is shell, never maths),
    and a long one by what it does (``whys``: command -> its plan's reason), the script folded under it."""
    for lead in ("would run (not run: this backend has no root): ", "ran: "):
        if line.startswith(lead):
            command = line[len(lead):]
            if is_long(command):
                return _script_html(lead.rstrip(": ") + ":", command, (whys or {}).get(command, ""))
            return f"<div>{html.escape(lead)}<code>{html.escape(command)}</code></div>"
    return f"<div>{html.escape(line)}</div>"


def _whys(plan) -> dict[str, str]:
    """Every command of a plan and the reason it gives."""
    if plan is None:
        return {}
    return {a.command: a.why for p in plan.nodes.values() for a in p.steps() if isinstance(a, Command) and a.why}


def apply_html(result) -> str:
    rows = []
    whys = _whys(getattr(result, "plan", None))
    for node, r in result.items():
        o = r.value
        colour = "#e6f4ea" if r.ok else "#fce8e6"
        lines = "".join(_outcome_line(line, whys) for line in o.lines()) or "nothing to change"
        rows.append(f"<tr style='background:{colour}'><td style='vertical-align:top'><code>{html.escape(node)}</code>"
                    f"</td><td>{r.status}</td><td style='text-align:left'>{lines}</td></tr>")
    would = sum(len(v) for v in result.would_run.values())
    note = ""
    if would:
        note = (f"<div><i>{would} privileged commands were <b>not</b> run (this backend has no root); "
                "they are listed as “would run”. The files were written into each node's sandbox.</i></div>")
    return html_block(f"<b>Applied {html.escape(result.plan.title)}: {len(result.succeeded)}/{len(result)} nodes ok</b>"
                      f"{note}<table><thead><tr><th>node</th><th>status</th><th style='text-align:left'>what happened"
                      f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


class Matrix:
    """A from-node × to-node table of checks (ping, ssh): ``ok``, ``FAIL`` or ``not run`` in each cell."""

    def __init__(self, title: str, rows: dict[str, dict[str, str]], *, note: str = ""):
        self.title = title
        self.rows = rows
        self.note = note

    @property
    def ok(self) -> bool:
        return all(v == "ok" for row in self.rows.values() for v in row.values())

    @property
    def failures(self) -> list[tuple[str, str]]:
        return [(a, b) for a, row in self.rows.items() for b, v in row.items() if v not in ("ok", "not run")]

    def text(self) -> str:
        cols = list(next(iter(self.rows.values()), {}))
        width = max([len(c) for c in cols + list(self.rows)] + [9]) + 2
        out = [self.title] + ([self.note] if self.note else [])
        out.append("from \\ to".ljust(width) + "".join(c.ljust(width) for c in cols))
        for a, row in self.rows.items():
            out.append(a.ljust(width) + "".join(row[c].ljust(width) for c in cols))
        return "\n".join(out)

    __str__ = text

    def __repr__(self) -> str:
        return f"<Matrix {self.title}: {'all ok' if self.ok else f'{len(self.failures)} failing'}>"

    def _repr_html_(self) -> str:
        cols = list(next(iter(self.rows.values()), {}))
        colour = {"ok": "#e6f4ea", "not run": "#f1f3f4"}
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            f"<tr><th>{html.escape(a)}</th>" + "".join(
                f"<td style='background:{colour.get(row[c], '#fce8e6')}'>{html.escape(row[c])}</td>" for c in cols)
            + "</tr>" for a, row in self.rows.items())
        note = f"<div><i>{html.escape(self.note)}</i></div>" if self.note else ""
        return html_block(f"<b>{html.escape(self.title)}</b>{note}<table><thead><tr><th>from \\ to</th>{head}</tr>"
                          f"</thead><tbody>{body}</tbody></table>")


def matrix(cluster: Cluster, names: list[str], targets: dict[str, str], script: str, *, title: str,
           as_user: str | None = None) -> Matrix:
    """Run ``script`` (``$T`` is each target) on every node against every target; a node that cannot run it: not run."""
    import shlex
    why = next((w for w in (cluster[n].platform.why_no_cluster_network() for n in names) if w), None)
    if why:
        return Matrix(title, {n: {label: "not run" for label in targets} for n in names},
                      note=f"not run: {why} (nothing was sent)")
    loop = "for T in " + " ".join(shlex.quote(t) for t in targets.values()) + \
        f"; do if {script} >/dev/null 2>&1; then echo \"$T ok\"; else echo \"$T FAIL\"; fi; done"
    if as_user:
        res = cluster.each(lambda n: n.sudo(f"runuser -u {as_user} -- sh -c {shlex.quote(loop)}", timeout=120),
                           nodes=names, command=title)
    else:
        res = cluster.run(loop, nodes=names, timeout=120)
    by_target = {t: label for label, t in targets.items()}
    rows, note = {}, ""
    for n in names:
        r = res[n]
        if not r.ok:
            rows[n] = {label: "not run" for label in targets}
            note = f"not run where: {r.summary()}"
            continue
        got = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
        rows[n] = {label: got.get(t, "FAIL") for t, label in by_target.items()}
    return Matrix(title, rows, note=note)
