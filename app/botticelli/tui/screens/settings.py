"""The system prompt and sampling parameters of the conversation, in a modal."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import Function, Validator
from textual.widgets import Button, Input, Label, TextArea

from botticelli.chat.conversation import ChatSettings, parse_max_tokens, parse_temperature

SHORT = 32
"""Below this many rows the dialog is compact."""


def _accepts(parse: object) -> Validator:
    def check(text: str) -> bool:
        try:
            parse(text)  # type: ignore[operator]
        except ValueError:
            return False
        return True

    return Function(check, "not a valid value")


class SettingsScreen(ModalScreen[ChatSettings | None]):
    """Edit the system prompt, temperature and max tokens; ctrl+s saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, settings: ChatSettings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-dialog", classes="dialog"):
            yield Label("Conversation settings", classes="dialog-title")
            yield Label("System prompt (sent first with every request; empty for none)")
            # Empty temperature or max tokens: the provider's default (the boxes say "default").
            yield TextArea(self.settings.system_prompt, id="system-prompt", soft_wrap=True, compact=True)
            with Horizontal(classes="settings-row"):
                with Vertical():
                    yield Label("Temperature (0–2)")
                    yield Input(
                        "" if self.settings.temperature is None else f"{self.settings.temperature:g}",
                        placeholder="default",
                        id="temperature",
                        validators=[_accepts(parse_temperature)],
                    )
                with Vertical():
                    yield Label("Max tokens")
                    yield Input(
                        "" if self.settings.max_tokens is None else str(self.settings.max_tokens),
                        placeholder="default",
                        id="max-tokens",
                        type="integer",
                        validators=[_accepts(parse_max_tokens)],
                    )
            yield Label("", id="settings-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#system-prompt", TextArea).focus()

    def on_resize(self, event: events.Resize) -> None:
        # A short terminal (24 rows) gets a smaller system prompt box, so that Save and Cancel stay on screen.
        self.query_one("#settings-dialog").set_class(event.size.height < SHORT, "-short")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        error = self.query_one("#settings-error", Label)
        temperature_input = self.query_one("#temperature", Input)
        max_tokens_input = self.query_one("#max-tokens", Input)
        try:
            temperature = parse_temperature(temperature_input.value)
        except ValueError:
            error.update("Temperature: a number from 0 to 2, or empty for the provider's default")
            temperature_input.focus()
            return
        try:
            max_tokens = parse_max_tokens(max_tokens_input.value)
        except ValueError:
            error.update("Max tokens: a whole number of at least 1, or empty for the provider's default")
            max_tokens_input.focus()
            return
        system_prompt = self.query_one("#system-prompt", TextArea).text.strip()
        self.dismiss(ChatSettings(system_prompt, temperature, max_tokens))
