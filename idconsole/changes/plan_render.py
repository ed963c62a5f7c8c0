"""A plan as plain text: the lines `idconsole plan` prints (ids appear raw: escape each line to show it)."""

from __future__ import annotations

from idconsole.changes.plan_types import BLOCKING, HELD, INFO, WARNING, Plan


def render_plan(plan: Plan) -> str:
    """The plan as plain text (ids appear raw: escape each line of `render_plan_lines` to print it)."""
    return "\n".join(render_plan_lines(plan))


def render_plan_lines(plan: Plan) -> list[str]:
    """The plan as logical lines (an id holding a newline stays inside its line: escape per line)."""
    lines = [f"Plan for profile {plan.profile} ({plan.region}): {len(plan.changes)} staged change(s), "
             f"{len(plan.to_send)} to send in {len(plan.requests)} request(s)."]
    for p in plan.changes:
        flags = []
        if p.status == HELD:
            flags.append("HELD: outcome unknown")
        if p.change.irreversible:
            flags.append("IRREVERSIBLE")
        if not p.change.idempotent:
            flags.append("not idempotent")
        lines.append(f"  {p.n:>4}. {p.change.description()}" + (f"   [{'; '.join(flags)}]" if flags else ""))
        for e in p.effects:
            lines.append(f"        {e.user_id}: {e.before or '(not mapped)'} → {e.after or '(not mapped)'}")
        for c in p.current:
            lines.append(f"        {c.subject}: {c.before} → {c.after}")
    if plan.requests:
        lines.append("Requests:")
        shown = plan.requests if len(plan.requests) <= 12 else plan.requests[:10]
        for r in shown:
            lines.append("  " + r.describe(len(plan.requests)))
        if len(shown) < len(plan.requests):
            lines.append(f"  ... and {len(plan.requests) - len(shown)} more")
        limit, window, remaining = plan.usermap_budget
        if plan.batch_sizes("usermap"):
            lines.append(f"Rate limit: {limit} mappings per {window:g} s ({remaining} free now) → about "
                         f"{plan.eta_seconds:.0f} s of waiting.")
    if plan.ids:
        lines.append("Ids (does Amplitude know them?):")
        ids = list(plan.ids.items())
        shown_ids = ids if len(ids) <= 30 else ids[:25]
        lines.extend(f"  {value}: {label}" for value, label in shown_ids)
        if len(shown_ids) < len(ids):
            lines.append(f"  ... and {len(ids) - len(shown_ids)} more")
    for severity, title in ((BLOCKING, "BLOCKING (apply refuses)"), (WARNING, "Warnings (need --yes)"),
                            (INFO, "Notes")):
        group = [w for w in plan.warnings if w.severity == severity]
        if group:
            lines.append(f"{title}:")
            shown_w = group if len(group) <= 30 else group[:25]
            lines.extend(f"  - [{w.code}] {w.message}" for w in shown_w)
            if len(shown_w) < len(group):
                lines.append(f"  ... and {len(group) - len(shown_w)} more")
    return lines
