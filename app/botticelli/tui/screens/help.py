"""The help screen: every key binding, where it works, and what to set to reach real providers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

Row = tuple[str, str]
Section = tuple[str, Sequence[Row]]

INPUT_NOTES: tuple[Row, ...] = (
    ("shift+enter", "newline too, where the terminal sends it (kitty protocol)"),
    ("End / Home", "end / start of line (ctrl+e, ctrl+k and ctrl+y are Botticelli's, even in the input)"),
    ("ctrl+z", "undo in the input"),
    ("ctrl+shift+k", "delete the current line in the input"),
    ("paste", "multi-line paste is inserted as is, nothing is sent until Enter"),
)
PICKER_NOTES: tuple[Row, ...] = (
    ("enter", "on a profile: expand it (loads its models); on a model: talk to it from now on"),
    ("r", "reload the highlighted profile's models"),
)
PALETTE_NOTES: tuple[Row, ...] = (
    ("ctrl+p", "command palette: every action, every model, themes, keys, screenshot"),
    ("tab / shift+tab", "move focus between input, picker and chat"),
)
KEY_NAMES = {"escape": "esc", "question_mark": "?"}


def key_label(keys: str) -> str:
    """`ctrl+j,alt+enter` → `ctrl+j / alt+enter`, with `escape` shown as `esc`."""
    return " / ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def binding_rows(bindings: Iterable[BindingType]) -> list[Row]:
    """One row per binding that is shown in the footer or has a tooltip (inherited editing keys are left out)."""
    rows: list[Row] = []
    for item in bindings:
        binding = item if isinstance(item, Binding) else Binding(*item)
        description = binding.tooltip or (binding.description if binding.show else "")
        if description:
            rows.append((binding.key_display or key_label(binding.key), description))
    return rows


def help_table(sections: Sequence[Section]) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(justify="right", style="bold", max_width=18)
    table.add_column(ratio=1)
    for index, (title, rows) in enumerate(sections):
        if index:
            table.add_row("", "")
        table.add_row("", Text(title, style="bold underline"))
        for key, description in rows:
            table.add_row(Text(key), Text(description))
    return table


def split_columns(sections: Sequence[Section]) -> tuple[list[Section], list[Section]]:
    """Two columns of whole sections with about the same number of rows."""
    total = sum(len(rows) + 2 for _, rows in sections)
    left: list[Section] = []
    count = 0
    for section in sections:
        if count and count + len(section[1]) / 2 > total / 2:
            break
        left.append(section)
        count += len(section[1]) + 2
    return left, list(sections[len(left):])


class HelpScreen(ModalScreen[None]):
    """A scrollable list of every binding; esc, q, f1 or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1,question_mark", "close", "Close", priority=True)]

    def __init__(self, sections: Sequence[Section], footer_note: str = "") -> None:
        super().__init__()
        self.sections = sections
        self.footer_note = footer_note

    def compose(self) -> ComposeResult:
        left, right = split_columns(self.sections)
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static(Text("Botticelli — keys"), classes="dialog-title")
            with Horizontal(id="help-columns"):
                yield Static(help_table(left), classes="help-column")
                yield Static(help_table(right), classes="help-column")
            if self.footer_note:
                yield Static(Text(self.footer_note), id="help-note")
            yield Static(Text("esc closes", style="dim"), classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
