"""A one-line modal to rename a saved session."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

TITLE_LIMIT = 200


class RenameScreen(ModalScreen[str | None]):
    """Edit a title: Enter saves (an empty title is refused), escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.original = title

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-dialog", classes="dialog"):
            yield Static(Content("Rename session"), classes="dialog-title")
            yield Input(self.original, placeholder="A title for this chat", id="rename-input",
                        max_length=TITLE_LIMIT)
            yield Static(Content("enter saves · esc cancels"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        title = " ".join(event.value.split())
        if not title:
            self.notify("A title cannot be empty.", severity="warning", markup=False)
            return
        self.dismiss(None if title == self.original else title)

    def action_cancel(self) -> None:
        self.dismiss(None)
