"""What a settings file may name, without importing Textual (config/ never does): the console's binding
ids, Textual's built-in theme names, and the grammar of a Textual key string.

The lists are checked against the running console by tests/test_tui_settings.py: a binding added,
renamed or removed in tui/ without updating `BINDING_IDS` fails that test, so `idconsole settings show`
(no Textual) and the console (Textual) refuse the same ids.
"""

from __future__ import annotations

import unicodedata

#: every `Binding(..., id=...)` of the console: `<scope>.<action>`
BINDING_IDS: frozenset[str] = frozenset({
    "app.help", "app.help_f1", "app.palette", "app.connections", "app.staged", "app.journal", "app.quit",
    "app.force_quit", "app.back",
    "apply.cancel", "apply.close", "apply.journal",
    "ask.cancel", "confirm.cancel", "resolve.cancel", "message.close", "help.close", "recent.close",
    "connections.demo", "connections.open", "connections.add", "connections.edit", "connections.test",
    "connections.delete", "connections.reload", "connections.reset_demo",
    "journal.undo", "journal.show", "journal.refresh", "journal.staged", "journal.back", "journal.filter",
    "journal.mark",
    "lookup.focus_input", "lookup.recent", "lookup.copy", "lookup.profile", "lookup.mixpanel_profile",
    "lookup.stage_map", "lookup.stage_unmap", "lookup.back_to_input",
    "lookup.timeline", "lookup.mixpanel_view", "lookup.compare", "lookup.report", "lookup.vendor",
    "timeline.fetch", "timeline.back", "timeline.filter", "timeline.next_page", "timeline.previous_page",
    "mixpanel_view.identify", "mixpanel_view.alias", "mixpanel_view.merge", "mixpanel_view.back",
    "compare.back", "compare_pick.close", "report.copy", "report.export", "report.back", "stage_dialog.compare", "plan.compare",
    "plan.submit", "plan.acknowledge", "plan.rebuild", "plan.back",
    "profile.back", "profile.filter", "profile.export", "profile.copy", "profile.reload", "profile.stage_set",
    "profile.stage_unset", "profile.tab_1", "profile.tab_2", "profile.tab_3", "profile.tab_4", "profile.tab_5",
    "profile.tab_6",
    "profile_form.save", "profile_form.cancel",
    "stage_dialog.cancel", "import_csv.cancel", "export.cancel",
    "staged.add", "staged.edit", "staged.drop", "staged.undo_drop", "staged.move_up", "staged.move_down", "staged.resolve",
    "staged.import", "staged.clear", "staged.plan", "staged.back",
    "tree.expand", "tree.collapse", "tree.find", "tree.after_staged", "tree_find.cancel",
})  # fmt: skip

#: Textual's built-in themes (textual.theme.BUILTIN_THEMES of the pinned version)
THEMES: tuple[str, ...] = (
    "textual-dark", "textual-light", "nord", "gruvbox", "catppuccin-mocha", "dracula", "tokyo-night",
    "monokai", "flexoki", "catppuccin-latte", "catppuccin-frappe", "catppuccin-macchiato", "solarized-light",
    "solarized-dark", "rose-pine", "rose-pine-moon", "rose-pine-dawn", "atom-one-dark", "atom-one-light",
    "ansi-dark", "ansi-light",
)  # fmt: skip
DEFAULT_THEME = "textual-dark"

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_NAMED = {
    "escape", "enter", "tab", "space", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown",
    "up", "down", "left", "right", "return", *(f"f{n}" for n in range(1, 25)),
}
#: keys Textual's own key table spells with a character after a modifier
_WHOLE = {"ctrl+@"}
# Textual names a printable character by its Unicode name in snake case, with a few common words
_REPLACED = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
             "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}


def character_key(character: str) -> str:
    """The key name Textual gives a typed character: `?` -> `question_mark`, `a` -> `a`."""
    if character.isalnum():
        return character
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return _REPLACED.get(name, name)


_CHARACTER_NAMES = {character_key(chr(c)) for c in range(33, 127) if not chr(c).isalnum()}


def _is_character_name(name: str) -> bool:
    if name in _CHARACTER_NAMES:
        return True
    try:  # a non-ASCII character by its name (`section_sign`)
        character = unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return False
    return character_key(character) == name


def key_problem(keys: str) -> str | None:
    """Why `keys` (Textual's form: `f5`, `ctrl+s`, `?`, several joined by commas) can never be pressed,
    or None if every key in it can."""
    if not keys.strip():
        return "no key given"
    for key in (part.strip() for part in keys.split(",")):
        problem = _one_key_problem(key)
        if problem:
            return problem
    return None


def _one_key_problem(key: str) -> str | None:
    if not key:
        return "an empty key between commas"
    if any(c.isspace() or not c.isprintable() for c in key):
        return f"{key!r} holds a space or a control character (write space, tab, enter ...)"
    if len(key) == 1 or key in _WHOLE:  # a typed character: Textual turns `?` into `question_mark` itself
        return None
    *modifiers, base = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            shown = modifier or "+"
            return f"{key!r}: {shown!r} is not a modifier (use {', '.join(MODIFIERS)})"
    if len(set(modifiers)) != len(modifiers):
        return f"{key!r} repeats a modifier"
    if not base:
        return f"{key!r} has no key after the last +"
    if len(base) == 1:
        if not modifiers:
            return None
        if base.isalnum() and base == base.lower():
            return None
        hint = base.lower() if base.isalpha() else character_key(base)
        return f"{key!r} is never pressed: after a modifier write {'+'.join([*modifiers, hint])}"
    if base in _NAMED or _is_character_name(base):
        return None
    return f"{key!r}: {base!r} is not a key name (e.g. f5, ctrl+s, question_mark, pageup, ?)"
