"""Dialogs that stage one change: by hand (any operation) or prefilled from context (Lookup, Profile).

`StageChangeDialog(kind=None, values=None, ...)` dismisses with the engine Change, or None on Cancel.
Nothing is sent from here: the change only joins the staged set, which is reviewed in a plan first.
`ImportCsvDialog()` dismisses with a path (str) or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from idconsole.tui.screens.base import ConsoleModal
from idconsole.tui.staging import forms
from idconsole.tui.staging import operations as ops
from idconsole.tui.staging.describe import value_text
from idconsole.tui.text import literal, visible

if TYPE_CHECKING:
    from idconsole.changes import Change


class StageChangeDialog(ConsoleModal["Change | None"]):
    """Stage one change. Enter in the last field (or the Stage button) stages; Esc cancels."""

    CSS_PATH = "../styles/changes.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="stage_dialog.cancel"),
        Binding("ctrl+r", "compare", "Compare", id="stage_dialog.compare",
                tooltip="The two users of this map or merge side by side (nothing is staged)"),
    ]
    HELP = """\
## Stage a change

Pick the operation, fill in the ids, then **Stage** (or Enter in the last field).
Nothing is sent: the change joins the staged set, and you review the plan before anything is submitted.

- **Amplitude map / unmap** — User Mapping API.
- **Amplitude set / unset property** — the Identify API with an operation (`$set`, `$setOnce`, `$add`, …).
- **Mixpanel identify / alias / merge** — merge is **irreversible** and needs the ids typed again at submit.

**Esc** cancels.
"""

    def __init__(
        self,
        kind: str | None = None,
        *,
        values: Mapping[str, str] | None = None,
        lock_kind: bool = False,
        title: str | None = None,
        change: Change | None = None,
    ) -> None:
        super().__init__()
        self._extra: dict[str, Any] = {}
        self._change_id: str | None = None
        if change is not None:  # editing: same id, same place in the staged set
            kind, form, self._extra = forms.form_from_change(change)
            values = form
            self._change_id = change.id
        self._kind = kind if kind in ops.OPS_BY_KIND else ops.OPS[0].kind
        self._values = {k: str(v) for k, v in (values or {}).items() if v is not None}
        self._lock_kind = lock_kind
        self._editing = change is not None
        self._title = title or ("Edit a staged change" if self._editing else "Stage a change")

    def compose(self) -> ComposeResult:
        with Vertical(id="stage-dialog", classes="changes-dialog"):
            yield Static(self._title, id="stage-title", classes="changes-dialog-title", markup=False)
            yield Label("Operation", classes="changes-field-label")
            yield Select(
                [(op.label, op.kind) for op in ops.OPS],
                value=self._kind,
                allow_blank=False,
                id="stage-kind",
                disabled=self._lock_kind,
            )
            yield Static("", id="stage-help", classes="changes-help")
            # every field the operations use; only the current operation's fields are shown
            names: dict[str, ops.FieldSpec] = {}
            for op in ops.OPS:
                for spec in op.fields:
                    names.setdefault(spec.name, spec)
            for name, spec in names.items():
                with Vertical(id=f"field-{name}", classes="changes-field"):
                    yield Label(spec.label, id=f"label-{name}", classes="changes-field-label")
                    if name == "value":
                        with Horizontal(id="property-op-row"):
                            yield Select(
                                [(op, op) for op in ops.PROPERTY_OPS],
                                value=self._values.get("op", "$set")
                                if self._values.get("op", "$set") in ops.PROPERTY_OPS
                                else "$set",
                                allow_blank=False,
                                id="stage-property-op",
                            )
                            yield Input(self._values.get(name, ""), placeholder=spec.placeholder,
                                        id=f"input-{name}")
                            yield Checkbox("JSON", self._values.get("json") == "1", id="stage-json",
                                           tooltip="Parse the value as JSON (numbers, true/false, lists)")
                    else:
                        yield Input(self._values.get(name, ""), placeholder=spec.placeholder, id=f"input-{name}")
            if self._extra:
                yield Static(
                    literal(
                        "Also in this change (kept): "
                        + ", ".join(f"{k} = {value_text(v)}" for k, v in self._extra.items()),
                        limit=300,
                    ),
                    id="stage-extra",
                    classes="changes-help",
                )
            yield Static("", id="stage-error", classes="changes-error")
            with Horizontal(classes="changes-dialog-buttons"):
                yield Button("Cancel", id="stage-cancel")
                yield Button("Save" if self._editing else "Stage", id="stage-ok", variant="primary")

    def on_mount(self) -> None:
        self._show_fields()
        self._focus_first_empty()

    # -- layout ------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        value = self.query_one("#stage-kind", Select).value
        return value if isinstance(value, str) else self._kind

    def _show_fields(self) -> None:
        spec = ops.OPS_BY_KIND[self.kind]
        wanted = {f.name: f for f in spec.fields}
        for container in self.query(".changes-field"):
            name = (container.id or "").removeprefix("field-")
            container.display = name in wanted
            if name in wanted:
                self.query_one(f"#label-{name}", Label).update(wanted[name].label)
        self._update_value_field()
        text = spec.help
        if spec.irreversible:
            text = "⚠ " + text
        help_widget = self.query_one("#stage-help", Static)
        help_widget.update(text)
        help_widget.set_class(spec.irreversible, "-irreversible")

    def _update_value_field(self) -> None:
        op = self.query_one("#stage-property-op", Select).value
        value_input = self.query_one("#input-value", Input)
        valueless = op in ops.VALUELESS_OPS
        value_input.disabled = valueless
        self.query_one("#stage-json", Checkbox).disabled = valueless
        value_input.placeholder = "(no value for this operation)" if valueless else "value"

    def _focus_first_empty(self) -> None:
        if self._lock_kind:
            self.query_one("#stage-ok", Button).focus()
            return
        for spec in ops.OPS_BY_KIND[self.kind].fields:
            field = self.query_one(f"#input-{spec.name}", Input)
            if not field.value and not field.disabled:
                field.focus()
                return
        value = self.query_one("#input-value", Input) if self.kind == "identify" else None
        if value is not None and not value.disabled:
            # a property prefilled with its current value: the next keys replace it (select on focus)
            value.focus()
            return
        self.query_one("#stage-ok", Button).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "stage-kind":
            self._show_fields()
            self._error("")
        elif event.select.id == "stage-property-op":
            self._update_value_field()

    # -- values ------------------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        """The fields of the current operation, stripped of surrounding whitespace."""
        spec = ops.OPS_BY_KIND[self.kind]
        out: dict[str, str] = {}
        for field in spec.fields:
            widget = self.query_one(f"#input-{field.name}", Input)
            if not widget.disabled:
                out[field.name] = widget.value.strip()
        if self.kind == "identify":
            op = self.query_one("#stage-property-op", Select).value
            out["op"] = op if isinstance(op, str) else "$set"
            out["json"] = "1" if self.query_one("#stage-json", Checkbox).value else ""
        return out

    def _error(self, message: str) -> None:
        # the message may quote an id the user typed: shown literally
        self.query_one("#stage-error", Static).update(literal(message))

    def _validate(self, values: Mapping[str, str]) -> str:
        # ids (blank, control characters, too long, the same id twice) are the engine's to refuse, in
        # the words the CLI and the CSV import use (changes.validate.staging_refusal, reached through
        # change_from_form); only the property name is checked here
        if self.kind == "identify" and "key" in values and not values["key"]:
            return "Property is required."
        return ""

    def _stage(self) -> None:
        values = self.values()
        problem = self._validate(values)
        if problem:
            self._error(problem)
            return
        try:
            change = forms.change_from_form(self.kind, values, change_id=self._change_id,
                                            extra_properties=self._extra if self.kind == "identify" else None)
        except Exception as exc:  # the engine's validation: its words, shown literally
            self._error(visible(getattr(exc, "message", None) or str(exc) or type(exc).__name__))
            return
        self.dismiss(change)

    # -- events ------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fields = [f.name for f in ops.OPS_BY_KIND[self.kind].fields]
        current = (event.input.id or "").removeprefix("input-")
        # Enter moves to the next empty field; in the last field it stages
        if current in fields:
            for name in fields[fields.index(current) + 1 :]:
                widget = self.query_one(f"#input-{name}", Input)
                if not widget.disabled and not widget.value.strip():
                    widget.focus()
                    return
        self._stage()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "stage-ok":
            self._stage()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_compare(self) -> None:
        from idconsole.tui.screens.compare import open_compare

        open_compare(self.app, self.kind, self.values())


class ImportCsvDialog(ConsoleModal[str | None]):
    """Ask for the path of a CSV to stage (columns op,user_id,global_user_id[,key,value])."""

    CSS_PATH = "../styles/changes.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="import_csv.cancel"),
    ]
    HELP = """\
## Import a CSV

Type the path of a CSV file and press **Enter**. Columns: `op,user_id,global_user_id[,key,value]`.
Every row is validated before anything is staged; a bad row stages nothing and says which row.
**Esc** cancels.
"""

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog", classes="changes-dialog"):
            yield Static("Import staged changes from a CSV", classes="changes-dialog-title", markup=False)
            yield Static("Columns: op,user_id,global_user_id[,key,value]", classes="changes-help", markup=False)
            yield Input(self._path, placeholder="path/to/changes.csv", id="import-path")
            yield Static("", id="import-error", classes="changes-error")
            with Horizontal(classes="changes-dialog-buttons"):
                yield Button("Cancel", id="import-cancel")
                yield Button("Import", id="import-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def _submit(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        if not path:
            self.query_one("#import-error", Static).update("Type the path of a CSV file.")
            return
        self.dismiss(path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "import-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
