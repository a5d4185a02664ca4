"""How plans and apply results look: a table of nodes with expandable diffs (notebooks), plain text (terminals)."""

from __future__ import annotations

import html

from ClusterShell.NodeSet import NodeSet

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
        for a in nplan.actions:
            if hasattr(a, "path"):
                out.append(f"  {a.kind} {a.path}" + (f"  ({a.why})" if a.why else ""))
                out += ["    " + line for line in a.diff().splitlines()]
            else:
                out.append(f"  $ sudo {a.command}" + (f"  ({a.why})" if a.why else ""))
    return "\n".join(out)


def _action_html(a) -> str:
    if hasattr(a, "path"):
        why = f" — {html.escape(a.why)}" if a.why else ""
        return (f"<details><summary>{a.kind} <code>{html.escape(a.path)}</code>{why}</summary>"
                f"<pre style='margin:0'>{html.escape(a.diff())}</pre></details>")
    why = f" — {html.escape(a.why)}" if a.why else ""
    return f"<div><code>$ sudo {html.escape(a.command)}</code>{why}</div>"


def plan_html(plan) -> str:
    rows = []
    for name, nplan in _groups(plan):
        if nplan is None:
            rows.append(_ROW.format(node=html.escape(name), body="nothing to change"))
            continue
        notes = "".join(f"<div><i>{html.escape(n)}</i></div>" for n in nplan.notes)
        body = f"<b>{_summary(nplan)}</b>{notes}" + "".join(_action_html(a) for a in nplan.actions)
        rows.append(_ROW.format(node=html.escape(name), body=body))
    notes = "".join(f"<div><i>{html.escape(n)}</i></div>" for n in plan.notes)
    head = "nothing to change" if plan.empty else "click a file to see its diff"
    return (f"<div><b>Plan: {html.escape(plan.title)}</b> on the {plan.backend} backend — {head}{notes}"
            "<table><thead><tr><th>node</th><th style='text-align:left'>changes</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def apply_html(result) -> str:
    rows = []
    for node, r in result.items():
        o = r.value
        colour = "#e6f4ea" if r.ok else "#fce8e6"
        lines = "".join(f"<div>{html.escape(line)}</div>" for line in o.lines()) or "nothing to change"
        rows.append(f"<tr style='background:{colour}'><td style='vertical-align:top'><code>{html.escape(node)}</code>"
                    f"</td><td>{r.status}</td><td style='text-align:left'>{lines}</td></tr>")
    would = sum(len(v) for v in result.would_run.values())
    note = ""
    if would:
        note = (f"<div><i>{would} privileged commands were <b>not</b> run (this backend has no root); "
                "they are listed as “would run”. The files were written into each node's sandbox.</i></div>")
    return (f"<div><b>Applied {html.escape(result.plan.title)}: {len(result.succeeded)}/{len(result)} nodes ok</b>{note}"
            "<table><thead><tr><th>node</th><th>status</th><th style='text-align:left'>what happened</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")
