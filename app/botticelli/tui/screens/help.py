"""The help screen: every key binding, where it works, and what to set to reach real providers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.dom import DOMNode

Row = tuple[str, str]
Section = tuple[str, Sequence[Row]]

INPUT_NOTES: tuple[Row, ...] = (
    ("shift+enter", "Only where the terminal sends it (kitty keyboard protocol)"),
    ("end / home", "End / start of line (ctrl+e, ctrl+k and ctrl+y are Botticelli's, even in the input)"),
    ("paste", "Multi-line paste is inserted as is; nothing is sent until enter"),
)
PALETTE_ROW = "Command palette: every action, every model, themes, keys, screenshot"
NARROW = 100
"""Below this many columns the help is one column."""
KEY_NAMES = {"escape": "esc", "question_mark": "?", "pageup": "pgup", "pagedown": "pgdn"}


def key_label(keys: str) -> str:
    """`ctrl+j,alt+enter` → `ctrl+j / alt+enter`, with `escape` shown as `esc`."""
    return " / ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def binding_rows(node: type[DOMNode], *, skip: Collection[str] = ()) -> list[Row]:
    """Every key `node` binds, its own and inherited (Textual's merge of the class's BINDINGS), one row per action:
    described by its tooltip, else its description; the ones with a tooltip (Botticelli's) first."""
    groups: dict[tuple[str, str], list[str]] = {}
    tipped: set[tuple[str, str]] = set()
    for key, bindings in node._merge_bindings().key_to_bindings.items():  # what Textual itself dispatches
        described = [b for b in bindings if not b.system and (b.tooltip or b.description)]
        if key in skip or not described:
            continue
        with_tip = [b for b in described if b.tooltip]
        binding = with_tip[-1] if with_tip else described[0]  # the most derived explanation
        text = binding.tooltip or binding.description.capitalize()  # Textual's own read "Scroll Up"
        group = (binding.action, text)
        groups.setdefault(group, []).append(key)
        if binding.tooltip:
            tipped.add(group)
    ordered = sorted(groups, key=lambda group: group not in tipped)  # stable: keeps the class's own order
    return [(key_label(",".join(groups[group])), group[1]) for group in ordered]


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

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#help-columns").set_class(event.size.width < NARROW, "-narrow")

    def action_close(self) -> None:
        self.dismiss(None)
