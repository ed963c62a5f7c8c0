"""The start-up baseline: the smallest sensible Textual app (Header, Static, Footer).

Run it the same way `idconsole --demo` is run (a fresh interpreter under a 120x40 pty); the start-up
benchmark compares the two. Quit with ctrl+q, like any Textual app.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

READY_TEXT = "Minimal benchmark app is ready"


class MinimalApp(App[None]):
    TITLE = "minimal"
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(READY_TEXT)
        yield Footer()


if __name__ == "__main__":
    MinimalApp().run()
