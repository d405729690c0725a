"""The session browser: saved chats newest first; type to filter, search message text, open, rename, delete."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from botticelli.chat.recording import BROWSE_LIMIT, BrowseRow, SessionKeeper
from botticelli.safety import strip_escapes
from botticelli.tui.screens.confirm import ConfirmScreen
from botticelli.tui.screens.rename import RenameScreen
from botticelli.tui.widgets.footer import CoalescingFooter

SEARCH_FROM = 3
"""Queries this long (or longer) also search the messages' text."""
DATE_WIDTH = 16
MODEL_WIDTH = 26
COUNT_WIDTH = 5
COST_WIDTH = 10
"""`~$0.000123`, `<$0.000001`; the column shows from COST_MIN_WIDTH cells."""
COST_MIN_WIDTH = 64
GAP = 2
MATCH_STYLE = "bold $accent underline"


def local_time(timestamp: str) -> str:
    """`2026-11-24T21:03:00Z` -> `2026-11-24 22:03` in the local time zone (the text itself if unparseable)."""
    from botticelli.sessions.models import parse_timestamp

    try:
        moment: datetime = parse_timestamp(timestamp)
    except ValueError:
        return timestamp[:DATE_WIDTH]
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def columns(width: int, priced: bool = False) -> tuple[int, int, int]:
    """(title, model, cost) widths for a list `width` cells wide; the cost column only when some session is
    `priced`; when narrow the model column goes first, then the cost."""
    cost = COST_WIDTH if priced and width >= COST_MIN_WIDTH else 0
    model = MODEL_WIDTH if width >= 80 + (cost + GAP if cost else 0) else 0
    fixed = DATE_WIDTH + COUNT_WIDTH + GAP * 2 + (model + GAP if model else 0) + (cost + GAP if cost else 0)
    return max(8, width - fixed), model, cost


def header_content(width: int, priced: bool = False) -> Content:
    title_width, model_width, cost_width = columns(width, priced)
    parts: list[Content | str] = [Content("Title").truncate(title_width, pad=True), " " * GAP,
                                  Content("Updated").truncate(DATE_WIDTH, pad=True), " " * GAP]
    if model_width:
        parts += [Content("Model").truncate(model_width, pad=True), " " * GAP]
    parts.append(Content("Msgs").pad_left(COUNT_WIDTH - 4))
    if cost_width:
        parts += [" " * GAP, Content("Cost").pad_left(cost_width - 4)]
    return Content.assemble(*parts).stylize("bold $text-muted")


def row_content(row: BrowseRow, width: int, *, current: bool = False, priced: bool = False) -> Content:
    """One session on one line (title, date, model, message count, total cost), then the matching snippet if
    any.

    Every piece is plain text (never markup) with terminal escapes removed.
    """
    session = row.session
    title_width, model_width, cost_width = columns(width, priced)
    title = Content(strip_escapes(session.display_title))
    if current:
        title = Content.assemble(("● ", "$accent"), title)
    count = f"{session.message_count:,}"
    parts: list[Content | str | tuple[str, str]] = [
        title.truncate(title_width, ellipsis=True, pad=True), " " * GAP,
        (local_time(session.updated_at).ljust(DATE_WIDTH), "$text-muted"), " " * GAP,
    ]
    if model_width:
        model = strip_escapes(f"{session.profile}·{session.model}" if session.profile else (session.model or ""))
        parts += [Content(model).truncate(model_width, ellipsis=True, pad=True).stylize("$text-muted"), " " * GAP]
    parts.append((count.rjust(COUNT_WIDTH), "$text-muted"))
    if cost_width:
        parts += [" " * GAP, ((row.cost.label() if row.cost else "").rjust(cost_width), "$text-muted")]
    line = Content.assemble(*parts)
    hit = row.hit
    if hit is None:
        return line
    snippet = Content(hit.snippet)
    for start, end in hit.spans:
        snippet = snippet.stylize(MATCH_STYLE, start, end)
    match = Content.assemble(("  ↳ ", "$text-muted"), (f"{hit.role}: ", "$text-muted italic"), snippet)
    return Content("\n").join([line, match.truncate(width, ellipsis=True)])


class SessionBrowser(ModalScreen[str | None]):
    """Saved sessions, newest first. Type to filter by title (3+ characters also search the messages);
    Enter opens the highlighted one, f2 renames it, d deletes it (after asking); escape closes."""

    # Enter and the arrows act on the list even while typing in the filter, hence `priority`.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", tooltip="Close the session browser"),
        Binding("enter", "open", "Open", priority=True, tooltip="Open the highlighted session and continue it"),
        Binding("f2", "rename", "Rename", tooltip="Rename the highlighted session"),
        Binding("f8", "delete", "Delete", tooltip="Delete the highlighted session, after asking"),
        Binding("r", "rename", "Rename", show=False, tooltip="Rename (when the list has the focus)"),
        Binding("d,delete", "delete", "Delete", show=False, tooltip="Delete (when the list has the focus)"),
        Binding("down", "move(1)", "Next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
    ]

    class Deleted(Message):
        """A session was deleted from the browser."""

        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, keeper: SessionKeeper, current: str | None = None) -> None:
        """`current`: the id of the session the chat shows (marked in the list)."""
        super().__init__()
        self.keeper = keeper
        self.current = current
        self.rows: list[BrowseRow] = []
        self.query_text = ""
        self.loaded = 0
        """How many times the list was filled (tests wait on it)."""
        self.shown_query: str | None = None
        """The (stripped) filter the list shows the result of; None before the first."""
        self._width = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions-dialog", classes="dialog"):
            yield Static(Content("Sessions"), classes="dialog-title")
            yield Input(placeholder=f"Filter by title · {SEARCH_FROM}+ characters also search the messages",
                        id="sessions-filter")
            yield Static(id="sessions-header")
            yield OptionList(id="sessions-list")
            yield Static(Content("Loading…"), id="sessions-status")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self.filter_input = self.query_one("#sessions-filter", Input)
        self.option_list = self.query_one("#sessions-list", OptionList)
        self.status = self.query_one("#sessions-status", Static)
        self.header = self.query_one("#sessions-header", Static)
        self.filter_input.focus()
        self.refresh_list()

    # -- the list ------------------------------------------------------------------------------------------

    @property
    def list_width(self) -> int:
        """Cells an option's text can use (the list keeps a gutter for its scrollbar, and one blank column)."""
        return max(20, self.option_list.scrollable_content_region.width - 1)

    @on(Input.Changed, "#sessions-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.refresh_list()

    @work(exclusive=True, group="sessions-browse", exit_on_error=False)
    async def refresh_list(self, keep: str | None = None) -> None:
        """Query the store for the current filter and show the result (keeping `keep` highlighted)."""
        from botticelli.sessions import SessionStoreError

        query = self.query_text.strip()
        try:
            rows = await self.keeper.browse(query, messages=len(query) >= SEARCH_FROM)
        except SessionStoreError as exc:
            self.rows = []
            self.option_list.clear_options()
            self.status.update(Content(exc.one_line()))
            self.shown_query = query
            self.loaded += 1
            return
        highlighted = keep or self.highlighted_id
        self.rows = rows
        self._fill(highlighted)
        self.status.update(self._status_content(query))
        self.shown_query = query
        self.loaded += 1

    def _fill(self, highlighted: str | None = None) -> None:
        width = self._width = self.list_width
        priced = any(row.cost is not None for row in self.rows)
        self.header.update(header_content(width, priced))
        self.option_list.clear_options()
        self.option_list.add_options(
            Option(row_content(row, width, current=row.session.id == self.current, priced=priced),
                   id=row.session.id)
            for row in self.rows
        )
        ids = [row.session.id for row in self.rows]
        if ids:
            self.option_list.highlighted = ids.index(highlighted) if highlighted in ids else 0

    def _status_content(self, query: str) -> Content:
        count = len(self.rows)
        if not query:
            if not count:
                return Content("No saved chats yet: every chat is saved as you go.")
            shown = f"the newest {count:,}" if count >= BROWSE_LIMIT else f"{count:,}"
            return Content(f"{shown} session{'s' if count != 1 else ''} · newest first · type to filter, "
                           f"{SEARCH_FROM}+ characters search the messages too")
        matched = sum(1 for row in self.rows if row.hit is not None)
        text = f"{count:,} match{'es' if count != 1 else ''} for “{strip_escapes(query)}”"
        if len(query) >= SEARCH_FROM:
            text += f" · {matched} by their messages"
        else:
            text += f" · type {SEARCH_FROM}+ characters to search the messages too"
        return Content(text)

    def on_resize(self, event: Resize) -> None:
        if self.rows and self.list_width != self._width:
            self._fill(self.highlighted_id)

    @property
    def highlighted_id(self) -> str | None:
        index = self.option_list.highlighted if self.is_mounted else None
        if index is None or not 0 <= index < len(self.rows):
            return None
        return self.rows[index].session.id

    def _highlighted_row(self) -> BrowseRow | None:
        index = self.option_list.highlighted
        if index is None or not 0 <= index < len(self.rows):
            self.notify("No session selected.", severity="warning", markup=False)
            return None
        return self.rows[index]

    # -- actions -------------------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        """Move the highlight by `step` rows (also while typing in the filter)."""
        if not self.rows:
            return
        current = self.option_list.highlighted
        index = 0 if current is None else current + step
        self.option_list.highlighted = max(0, min(len(self.rows) - 1, index))

    @on(OptionList.OptionSelected, "#sessions-list")
    def _option_selected(self) -> None:  # a click
        self.action_open()

    def action_open(self) -> None:
        """Close the browser and open the highlighted session."""
        row = self._highlighted_row()
        if row is not None:
            self.dismiss(row.session.id)

    def action_close(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="sessions-edit", exit_on_error=False)
    async def action_rename(self) -> None:
        """Ask for a new title and store it."""
        from botticelli.sessions import SessionStoreError

        row = self._highlighted_row()
        if row is None:
            return
        title = await self.app.push_screen_wait(RenameScreen(strip_escapes(row.session.display_title)))
        if not title:
            return
        try:
            await self.keeper.rename(row.session.id, title)
        except (SessionStoreError, ValueError) as exc:
            message = exc.one_line() if isinstance(exc, SessionStoreError) else str(exc)
            self.notify(message, title="Rename failed", severity="error", markup=False)
            return
        self.notify(f"Renamed to “{title}”.", markup=False)
        self.refresh_list(keep=row.session.id)

    @work(exclusive=True, group="sessions-edit", exit_on_error=False)
    async def action_delete(self) -> None:
        """Delete the highlighted session after a confirmation."""
        from botticelli.sessions import SessionStoreError

        row = self._highlighted_row()
        if row is None:
            return
        session = row.session
        question = Content.assemble(
            "Delete ", (strip_escapes(session.display_title), "bold"),
            f" and its {session.message_count:,} message{'s' if session.message_count != 1 else ''}? "
            "This cannot be undone.",
        )
        if not await self.app.push_screen_wait(ConfirmScreen("Delete session", question)):
            return
        try:
            await self.keeper.delete(session.id)
        except SessionStoreError as exc:
            self.notify(exc.one_line(), title="Delete failed", severity="error", markup=False)
            return
        self.post_message(self.Deleted(session.id))
        self.notify(f"Deleted “{strip_escapes(session.display_title)}”.", markup=False)
        index = self.option_list.highlighted or 0
        following = self.rows[index + 1].session.id if index + 1 < len(self.rows) else None
        self.refresh_list(keep=following)
