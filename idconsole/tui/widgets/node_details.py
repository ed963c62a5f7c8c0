"""The side panel of the Lookup screen: everything about the selected tree node, ids in full.

Ids are shown through `literal()` (escaped, never markup) and not shortened here: the tree truncates
long ids, this panel is where the full id can be read (and `c` copies it).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from idconsole.changes.shared_devices import DeviceSightings, sightings_for
from idconsole.identity import graph as g
from idconsole.identity.devices import is_shared
from idconsole.identity.ids import junk_reason
from idconsole.tui.text import literal, visible

#: ids in chain summaries and "maps into" lines are shortened to this; the full id is at the top
SHORT = 40


def _short(user_id: str) -> str:
    return visible(user_id, limit=SHORT)


def _field(name: str, value: Content | str, style: str = "") -> Content:
    value = value if isinstance(value, Content) else Content(value)
    return Content.assemble((f"{name:<13}", "bold"), value.stylize(style) if style else value)


def _amp(amplitude_id: int | None) -> str:
    return str(amplitude_id) if amplitude_id is not None else "unknown"


def _device_lines(user_id: str, sightings: DeviceSightings | None) -> list[Content]:
    """The devices this session's streams showed for the user (nothing is read for the panel), each
    shared one flagged (`identity.devices`' rule). None until a stream of the user was read (t: timeline)."""
    devices = sightings.devices_of(user_id) if sightings is not None else ()
    if not devices:
        return []
    lines = []
    for device in devices[:8]:
        users = len(sightings.users_of(device)) if sightings is not None else 0
        flag = (f"  shared: seen under {users} user ids", "bold $warning") if is_shared(users) else ("", "")
        lines.append(_field("Device", Content.assemble(literal(device, limit=SHORT), flag)))
    if len(devices) > 8:
        lines.append(Content(f"… and {len(devices) - 8} more devices").stylize("dim"))
    return lines


def describe(node: g.IdNode | None, sightings: DeviceSightings | None = None) -> Content:
    """The panel's text for `node` (pure: easy to test); `sightings` adds the devices seen so far."""
    if node is None:
        return Content.assemble(("Nothing selected.", "dim"), "\n\nLook a user up, then move in the tree.")
    lines: list[Content] = []
    if node.kind in (g.USER, g.CYCLE):
        lines += [Content.assemble(("User id", "bold")), literal(node.user_id, style="$accent")]
        lines.append(Content(f"({len(node.user_id)} characters)").stylize("dim"))
        lines.append(Content(""))
        lines.append(_field("Amplitude id", _amp(node.amplitude_id)))
    if node.kind == g.USER:
        role = {
            g.ROOT: "looked up",
            g.CHAIN: "chain step (above it maps into it)",
            g.FROM: "maps into the node above",
        }.get(node.role, node.role)
        lines.append(_field("Role", role))
        mapped_to = node.mapped_to
        if mapped_to is None:
            lines.append(_field("Maps into", "not loaded (expand the node: space or →)", "dim"))
        elif not mapped_to:
            lines.append(_field("Maps into", "nothing (a global id)"))
        else:
            for target in mapped_to:
                lines.append(
                    _field("Maps into", Content.assemble(literal(_short(target.user_id)),
                                                         (f"  #{_amp(target.amplitude_id)}", "dim")))
                )
        if mapped_to:
            lines.append(Content.assemble(
                ("⇒ ", "bold"), "Its events are also counted in the stream of ",
                literal(_short(mapped_to[0].user_id), style="bold"),
                "; this id's own stream keeps only its own events. Properties are not merged.",
            ).stylize("dim"))
        if node.mappings is None:
            lines.append(_field("Mapped from", "not loaded", "dim"))
        else:
            count = g.distinct_count(node.mappings)  # walked once per answer, however big
            lines.append(_field("Mapped from", f"{count} user{'s' if count != 1 else ''}"))
        lines += _device_lines(node.user_id, sightings)
        chain = node.chain
        if chain is not None and (chain.steps or chain.cycle_to is not None):
            lines.append(Content(""))
            lines.append(_field("Chain", literal(chain.describe(_short))))
            if chain.cycle_to is not None:
                lines.append(Content("↻ The chain is a cycle; it is shown once and not followed again.")
                             .stylize("$warning"))
            elif chain.is_chain:
                lines.append(Content(
                    "⚠ Chain: Amplitude resolves nothing transitively. Each id's events go only one hop "
                    "(into the id it maps into directly)."
                ).stylize("$warning"))
            if chain.truncated:
                lines.append(Content(f"Stopped following after {g.MAX_CHAIN_HOPS} hops.").stylize("dim"))
        junk = junk_reason(node.user_id)
        if junk:
            lines.append(Content(""))
            lines.append(Content.assemble(
                ("⚠ Junk id: ", "bold $error"),
                (f"{junk}. A broken client sending it collects unrelated people into one user.", "$error"),
            ))
    elif node.kind == g.CYCLE:
        lines.append(Content(""))
        lines.append(Content(f"↻ cycle: {node.reason}. Not followed again (Enter jumps to it).")
                     .stylize("$warning"))
    elif node.kind == g.GROUP:
        lines.append(Content(node.title.capitalize()).stylize("bold"))
        if node.chain is not None:
            lines.append(literal(node.chain.describe(_short)))
        if node.count is not None:
            lines.append(Content(f"{node.count} entr{'ies' if node.count != 1 else 'y'}"))
    elif node.kind == g.MORE:
        lines.append(Content(f"{node.count} more users are mapped into"))
        lines.append(literal(node.user_id))
        lines.append(Content(f"Enter shows the next {g.PAGE_SIZE}.").stylize("dim"))
    else:
        lines.append(literal(node.title))
    return Content("\n").join(lines)


class NodeDetails(VerticalScroll):
    """`NodeDetails(id=...)`; `show(node)` replaces what it shows."""

    can_focus = False

    def compose(self) -> ComposeResult:
        yield Static(describe(None), id="node-details-body", markup=False)

    def show(self, node: g.IdNode | None) -> None:
        ws = getattr(self.app, "workspace", None)
        sightings = sightings_for(ws.client) if ws is not None and node is not None else None
        self.query_one("#node-details-body", Static).update(describe(node, sightings))
        self.scroll_home(animate=False)
