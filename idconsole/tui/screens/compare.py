"""The Compare view: before a map or a merge, the two users side by side (`identity.compare`) — the
properties that differ and whose value survives, event counts and last seen on each side, the devices
they share (a shared device flagged: no evidence they are one person), and the vendor's rule in words.

Opened from Lookup (`C`: the selected user vs the looked-up one), the stage dialog and the plan (the change
being staged or planned). Reading costs a few requests (one activity page per side, plus the family's
streams when they share a device not yet known to be shared); the count is shown afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from idconsole.changes.kinds import MAP, MP_ALIAS, MP_IDENTIFY, MP_MERGE
from idconsole.identity.compare import LEFT, MISSING, NEITHER, RIGHT, Comparison, Side, compare_users
from idconsole.tui.errors import route_worker_error
from idconsole.tui.screens.base import ConsoleScreen
from idconsole.tui.staging import forms
from idconsole.tui.text import literal, visible
from idconsole.tui.widgets.property_table import compact

if TYPE_CHECKING:
    from idconsole.changes import Change

OP_WORDS = {MAP: "Amplitude map (left → right)", MP_IDENTIFY: "Mixpanel $identify (left → right)",
            MP_ALIAS: "Mixpanel $create_alias (left → right)", MP_MERGE: "Mixpanel $merge"}
#: the (form kind, left field, right field) of the changes a comparison is about
COMPARABLE = {MAP: ("user_id", "global_user_id"), MP_IDENTIFY: ("anon_id", "identified_id"),
              MP_ALIAS: ("alias", "distinct_id"), MP_MERGE: ("id_a", "id_b")}


def value_cell(value: Any, *, kept: bool = False) -> Text:
    if value is MISSING:
        return Text("(not set)", style="dim")
    return Text(visible(compact(value), limit=60), style="bold green" if kept else "")


def side_rows(left: Side, right: Side) -> list[tuple[str, Text, Text]]:
    def both(name: str, get: Any) -> tuple[str, Text, Text]:
        return name, Text(visible(get(left), limit=60)), Text(visible(get(right), limit=60))

    def or_dash(value: Any) -> str:
        return "—" if value in (None, "", ()) else str(value)

    return [
        both("id", lambda s: s.id),
        both("known", lambda s: "yes" if s.found else "no"),
        both("resolves to", lambda s: or_dash(s.canonical_id)),
        both("mapped into", lambda s: or_dash(s.mapped_into)),
        both("events", lambda s: or_dash(s.events)),
        both("first seen", lambda s: or_dash(s.first_seen)),
        both("last seen", lambda s: or_dash(s.last_seen)),
        both("devices", lambda s: or_dash(", ".join(s.device_ids[:3]) + (" …" if len(s.device_ids) > 3 else ""))),
        both("note", lambda s: or_dash(s.note)),
    ]


class CompareScreen(ConsoleScreen[None]):
    """`CompareScreen(left_id, right_id, op=MAP)`: left is mapped (or merged) into right."""

    HELP_TITLE = "Compare"
    HELP = """\
Two users side by side **before** a map or merge: how each id resolves, event counts, first and last seen,
devices, and the **properties that differ** with **whose value survives** (green). Amplitude does not merge
user properties (the global user keeps its own); Mixpanel shows the canonical profile and hides the other.
**Devices in common** are listed; a device seen under many user ids is **shared** and is no evidence that
the two are one person. **Esc** back.
"""
    DEFAULT_CSS = """
    CompareScreen #compare-rule { height: auto; padding: 0 1; }
    CompareScreen #compare-sides { height: auto; max-height: 12; }
    CompareScreen #compare-props { height: 1fr; }
    CompareScreen #compare-devices { height: auto; max-height: 8; padding: 0 1; }
    CompareScreen #compare-warnings { height: auto; padding: 0 1; color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="compare.back"),
    ]

    def __init__(self, left_id: str, right_id: str, *, op: str = MAP) -> None:
        super().__init__()
        self.left_id, self.right_id, self.op = left_id, right_id, op
        self.comparison: Comparison | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content.assemble((f"{OP_WORDS.get(self.op, self.op)}: reading ", "dim"),
                                      literal(self.left_id, limit=60), (" and ", "dim"),
                                      literal(self.right_id, limit=60), ("…", "dim")),
                     id="compare-rule", markup=False)
        yield DataTable(id="compare-sides", cursor_type="none", show_cursor=False)
        yield DataTable(id="compare-props", cursor_type="row", zebra_stripes=True)
        yield Static(id="compare-devices", markup=False)
        yield Static(id="compare-warnings", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Compare before you merge"
        self.query_one("#compare-sides", DataTable).add_columns("", "left", "right")
        self.query_one("#compare-props", DataTable).add_columns("property that differs", "left", "right",
                                                                "survives")
        self.load()

    @work(group="compare", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        try:
            comparison = await compare_users(self.app.active_workspace.client, self.left_id, self.right_id,
                                             op=self.op)
        except Exception as exc:
            self.app.show_error(exc, context="Compare failed")
            self.query_one("#compare-rule", Static).update(
                Content.assemble(("Compare failed: ", "bold"), literal(str(exc), limit=400)))
            return
        self.show_comparison(comparison)

    def show_comparison(self, c: Comparison) -> None:
        self.comparison = c
        kept = c.right.id if c.kept == RIGHT else c.left.id
        self.query_one("#compare-rule", Static).update(Content.assemble(
            (f"{OP_WORDS.get(c.op, c.op)}. ", "bold"), "The merged user shows ", (c.kept, "bold"), " (",
            literal(kept, limit=60), f"). {c.rule}", (f"  ({c.requests} requests read)", "dim")))
        sides = self.query_one("#compare-sides", DataTable)
        sides.clear()
        sides.add_rows(side_rows(c.left, c.right))
        props = self.query_one("#compare-props", DataTable)
        props.clear()
        for row in c.differing:
            survives = Text(row.survives if row.survives != NEITHER else "neither (not set on the kept side)",
                            style="dim" if row.survives == NEITHER else "bold")
            props.add_row(Text(visible(row.key, limit=40)), value_cell(row.left, kept=row.survives == LEFT),
                          value_cell(row.right, kept=row.survives == RIGHT), survives)
        if not c.differing:
            props.add_row(Text(f"no property differs ({c.same} the same)", style="dim"), "", "", "")
        devices = [Content.assemble(literal(d.device_id, limit=60),
                                    (f"  shared: seen under {d.user_count} user ids" if d.shared else "  in common",
                                     "bold yellow" if d.shared else "dim")) for d in c.devices]
        self.query_one("#compare-devices", Static).update(
            Content.assemble(("Devices in common: ", "bold"), Content("\n").join(devices)) if devices
            else Content("No device in common.").stylize("dim"))
        self.query_one("#compare-warnings", Static).update(
            Content("\n").join(literal("⚠ " + w, limit=400) for w in c.warnings))

    def action_back(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        route_worker_error(event, context="Compare")


def compare_for(kind: str, values: dict[str, str]) -> CompareScreen | None:
    """The Compare view for a change being staged or planned (its form kind and fields), or None when it
    is no map or merge, or an id is still missing."""
    fields = COMPARABLE.get(kind)
    if fields is None:
        return None
    left, right = (values.get(f, "").strip() for f in fields)
    return CompareScreen(left, right, op=kind) if left and right else None


def open_compare(app: Any, kind: str, values: dict[str, str]) -> bool:
    """The stage dialog's key: compare the two ids of the change being staged (or say why not)."""
    screen = compare_for(kind, values)
    if screen is None:
        app.notify("Compare is for a map, identify, alias or merge with both ids filled in.",
                   title="Nothing to compare", severity="warning", markup=False)
        return False
    app.push_screen(screen)
    return True


def open_compare_for_changes(app: Any, changes: Iterable[Change], numbers: Iterable[int] | None = None) -> bool:
    """The plan's key: compare the two ids of its map or merge — asking which when there are several
    (or saying there is none). `numbers`: the changes' positions in the plan (default 1, 2, ...)."""
    from idconsole.tui.screens.compare_pick import pick_then
    from idconsole.tui.staging.describe import describe_change

    choices: list[tuple[int, str]] = []
    screens: list[CompareScreen] = []
    for n, change in zip(numbers if numbers is not None else itertools.count(1), changes, strict=False):
        kind, form, _ = forms.form_from_change(change)
        if (screen := compare_for(kind, form)) is not None:
            row = describe_change(change)
            choices.append((n, f"{row.op} {row.subject} {row.detail}".rstrip()))
            screens.append(screen)
    if not screens:
        app.notify("This plan has no map or merge to compare.", title="Nothing to compare", severity="warning",
                   markup=False)
        return False
    if len(screens) == 1:
        app.push_screen(screens[0])
    else:
        pick_then(app, choices, screens)
    return True
