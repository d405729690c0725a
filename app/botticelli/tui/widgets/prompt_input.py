"""The multi-line prompt: Enter sends, ctrl+j / alt+enter / shift+enter insert a newline."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

RESERVED_KEYS = frozenset({"ctrl+e", "ctrl+k", "ctrl+y"})
"""TextArea keys given to the chat screen (edit, copy code, copy answer); End, ctrl+shift+k and ctrl+z remain."""


def _text_area_bindings() -> list[BindingType]:
    """TextArea's own bindings without the reserved keys (so they reach the screen)."""
    kept: list[BindingType] = []
    for item in TextArea.BINDINGS:
        binding = item if isinstance(item, Binding) else Binding(*item)
        keys = [k for k in binding.key.split(",") if k.strip() not in RESERVED_KEYS]
        if keys:
            kept.append(Binding(",".join(keys), binding.action, binding.description, show=binding.show,
                                priority=binding.priority))
    return kept


class PromptInput(TextArea, inherit_bindings=False):
    """A `TextArea` that sends on Enter and recalls earlier prompts with up/down when it is empty."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Send", priority=True, tooltip="Send the prompt"),
        Binding("ctrl+j,alt+enter,shift+enter", "newline", "Newline", show=False, key_display="ctrl+j / alt+enter",
                tooltip="Insert a newline"),
        Binding("up", "history_back", "Previous prompt", show=False,
                tooltip="In an empty input: recall the previous prompt (again: older ones)"),
        Binding("down", "history_forward", "Next prompt", show=False, tooltip="Back towards newer prompts"),
        *_text_area_bindings(),
    ]

    class Submitted(Message):
        """The user asked to send `text` (not yet cleared: the receiver decides)."""

        def __init__(self, prompt_input: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt_input = prompt_input
            self.text = text

        @property
        def control(self) -> PromptInput:
            return self.prompt_input

    class Rejected(Message):
        """Enter was pressed on an empty or whitespace-only prompt; nothing was sent."""

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            text,
            id=id,
            classes=classes,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            highlight_cursor_line=False,
        )
        self.prompt_history: list[str] = []
        self._history_index: int | None = None

    def action_submit(self) -> None:
        """Post `Submitted` with the text, or `Rejected` when there is nothing to send.

        Enter is a priority binding, so it runs before keys typed just ahead of it have reached this widget;
        reading the text from this widget's own queue, after them, loses none of a fast typist's last keys.
        """
        self.call_later(self._submit)

    def _submit(self) -> None:
        if not self.text.strip():
            self.post_message(self.Rejected())
            return
        self.post_message(self.Submitted(self, self.text))

    def consume(self, sent: str) -> None:
        """Remove a sent prompt from the input, keeping anything typed since it was submitted."""
        current = self.text
        if current.startswith(sent):
            self.load_text(current[len(sent):])
            self.move_cursor(self.document.end)
        self._history_index = None

    def action_newline(self) -> None:
        self.insert("\n")

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history that up-arrow recalls."""
        if text and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
        self._history_index = None

    def set_prompt(self, text: str) -> None:
        """Replace the whole input with `text`, cursor at the end."""
        self.load_text(text)
        self.move_cursor(self.document.end)
        self._history_index = None

    def action_history_back(self) -> None:
        """Up: recall the previous prompt when the input is empty (or already showing a recalled one)."""
        recalling = self._history_index is not None and self.text == self.prompt_history[self._history_index]
        if self.prompt_history and (not self.text or recalling) and self.cursor_location[0] == 0:
            index = len(self.prompt_history) - 1 if self._history_index is None else max(0, self._history_index - 1)
            self.load_text(self.prompt_history[index])
            self.move_cursor(self.document.end)
            self._history_index = index
            return
        self.action_cursor_up()

    def action_history_forward(self) -> None:
        """Down on the last line of a recalled prompt: the next one, then an empty input again."""
        index = self._history_index
        at_last_line = self.cursor_location[0] == self.document.line_count - 1
        if index is not None and at_last_line and self.text == self.prompt_history[index]:
            if index + 1 < len(self.prompt_history):
                self._history_index = index + 1
                self.load_text(self.prompt_history[index + 1])
                self.move_cursor(self.document.end)
            else:
                self._history_index = None
                self.load_text("")
            return
        self.action_cursor_down()
