"""ChatLog: the chat transcript as one line-based scroll view, built for streams of 2,000+ tokens/s.

A thin widget over `ChatLayout` (tui/chat_layout.py), which holds the messages, their parts and heights,
the visible window and the render cache. This widget scrolls, composes the rendered lines into Strips with
the role's gutter and colours, and runs the frame task: once per frame it takes what streams buffered,
renders what will be on screen one block per event-loop turn, then shows it all at once (one repaint per
frame), so the network loop never waits on the UI and no single step blocks it for long. While the user
scrolls, a screen above and below is rendered in the background, one part per event-loop turn.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from botticelli.tui.chat_layout import ChatLayout, Entry, MessageData, Part, StreamingMessage
from botticelli.tui.deferred import after_first_frame
from botticelli.tui.markdown_render import Line, RenderTheme, last_code_block, to_strip, unpack, warm_up

__all__ = ["ChatLog", "MessageData", "StreamingMessage"]

ROLES = ("user", "assistant", "system", "error")
_GUTTER = 2  # "▌ " on the left
_RIGHT = 1  # one blank column before the scrollbar


def _blend(value: str, background: Color) -> str:
    color = Color.parse(value)
    if color.a < 1:
        color = background + color
    return color.hex6


class ChatLog(ScrollView, can_focus=True):
    """The chat transcript: finished messages rendered once, the streaming tail once per frame."""

    ALLOW_SELECT = False
    FRAME_INTERVAL = 0.05
    """Seconds between two renders of a streaming tail."""
    CODE_THEMES = ("monokai", "friendly")
    """Pygments themes for code blocks: dark, light."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "toggle_reasoning", "Reasoning", show=False, tooltip="Show or hide the answers' reasoning"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "chat-log--user",
        "chat-log--assistant",
        "chat-log--system",
        "chat-log--error",
        "chat-log--footer",
        "chat-log--error-text",
        "chat-log--reasoning",
    }

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model = ChatLayout(wake=self._wake)
        """The layout model (messages, parts, heights, render cache)."""
        self._view_width = 0
        self._follow = True
        self._ensuring = False
        self._ensure_scheduled = False
        self._blank: Strip | None = None
        self._shown: set[Part] = set()
        """Parts holding composed Strips: only those near the viewport (a Strip is heavy)."""
        self._line_styles: dict[str, Style] = {}
        self._gutters: dict[str, Segment] = {}
        self._pump: asyncio.Task[None] | None = None
        self._prefetch: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ public API

    @property
    def messages(self) -> list[MessageData]:
        """The messages (a streaming one with its text so far), for copy and export."""
        return self.model.messages

    @property
    def content_width(self) -> int:
        """Width (cells) that message text is rendered at."""
        return self.model.width

    @property
    def render_theme(self) -> RenderTheme:
        """The Markdown theme in use (follows the app theme)."""
        return self.model.theme

    @property
    def streaming(self) -> bool:
        """True while some answer is still streaming in (or its end is not on screen yet)."""
        return bool(self.model.streams)

    @property
    def is_following(self) -> bool:
        """True while the view sticks to the bottom as content grows."""
        return self._follow

    def add_message(
        self,
        role: str,
        text: str,
        *,
        title: str | None = None,
        footer: str | None = None,
        reasoning: str | None = None,
        error: str | None = None,
        key: str | None = None,
    ) -> int:
        """Add a finished message; returns its index."""
        index = self.model.add(MessageData(role, text, title, footer, reasoning, error, key))
        self._changed()
        return index

    def start_assistant(self, *, title: str | None = None) -> StreamingMessage:
        """Add an assistant message to stream into."""
        stream = self.model.start_stream(title)
        self._changed()
        self._wake()
        return stream

    def set_messages(self, messages: list[MessageData]) -> None:
        """Replace all messages (opening a saved session); the view opens at the bottom."""
        self.model.set_messages(messages)
        self._follow = True
        self._changed()

    def clear(self) -> None:
        """Remove all messages."""
        self.model.clear()
        self._follow = True
        self._changed()

    def last_code_block(self) -> str | None:
        """The last fenced code block of the last assistant message, or None."""
        for message in reversed(self.messages):
            if message.role == "assistant":
                return last_code_block(message.text)
        return None

    def toggle_reasoning(self, index: int | None = None) -> None:
        """Expand or collapse the reasoning of a message (default: the last one that has reasoning)."""
        if self.model.toggle_reasoning(index):
            self._changed()

    def action_toggle_reasoning(self) -> None:
        """Expand or collapse the reasoning of the last message that has some."""
        self.toggle_reasoning()

    def body_lines(self, index: int) -> list[Strip]:
        """The rendered Markdown/text lines of a message's body (rendering what is missing)."""
        model = self.model
        entry = model.ensure_built(index)
        parts = [part for part in entry.parts or [] if part.kind in ("md", "plain")]
        return [to_strip(line, model.width) for part in parts for line in model.part_lines(entry, part)]

    def lines_text(self, index: int | None = None) -> list[str]:
        """The plain text of every displayed line (of one message, or all), rendering what is missing."""
        model = self.model
        indexes = range(len(model.entries)) if index is None else [index]
        out: list[str] = []
        for i in indexes:
            entry = model.ensure_built(i)
            for part in entry.parts or []:
                for line in model.part_lines(entry, part):
                    out.append(self._compose_line(entry, part, line).text)
        self._changed()
        return out

    def scroll_to(self, x=None, y=None, *, animate=True, **kwargs) -> None:  # type: ignore[override]
        """Scroll without animation: heights of parts rendered on the way may change."""
        kwargs.pop("immediate", None)
        self._scroll_to(x, y, animate=False, **kwargs)

    def scroll_end(self, *args, on_complete=None, **kwargs) -> None:  # type: ignore[override]
        """Jump to the bottom (no animation) and follow new content."""
        self._follow = True
        self._changed()
        if on_complete is not None:
            self.call_next(on_complete)

    def scroll_home(self, *args, on_complete=None, **kwargs) -> None:  # type: ignore[override]
        """Jump to the top (no animation)."""
        self._follow = False
        self.scroll_to(y=0, on_complete=on_complete)

    # ------------------------------------------------------------------ Textual hooks

    def on_mount(self) -> None:
        self._refresh_styles()
        # Once the first frame is painted: the warm-up thread would compete with it for the GIL.
        after_first_frame(self, warm_up)
        self._wake()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._refresh_styles()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self._ensuring:
            self._follow = round(new_value) >= self.max_scroll_y
            self._ensure_visible()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        located = self.model.locate(self.scroll_offset.y + offset.y)
        if located is not None:
            index, part, line = located
            if part.kind == "reasoning" and line == 0:
                self.toggle_reasoning(index)

    def render_line(self, y: int) -> Strip:
        located = self.model.locate(self.scroll_offset.y + y)
        if located is None:
            if self.scroll_offset.y + y < self.model.total:  # a message not built yet
                self._schedule_ensure()
            return self._blank_line()
        index, part, line = located
        lines = part.lines
        if lines is None or line >= len(lines):
            self._schedule_ensure()
            return self._blank_line()
        shown = part.shown
        if shown is None or len(shown) != len(lines):
            shown = part.shown = [None] * len(lines)
            self._shown.add(part)
        strip = shown[line]
        if strip is None:
            # Reusing the same Strip while the line stays on screen also reuses Textual's caches on it.
            strip = shown[line] = self._compose_line(self.model.entries[index], part, lines[line])
        return strip

    def _blank_line(self) -> Strip:
        blank = self._blank
        if blank is None or blank.cell_length != self._view_width:
            blank = self._blank = Strip.blank(self._view_width, self.rich_style)
        return blank

    # ------------------------------------------------------------------ styles

    def _refresh_styles(self) -> None:
        base = self.rich_style
        background = Color.from_rich_color(base.bgcolor) if base.bgcolor else Color(0, 0, 0)
        text_styles: dict[str, Style] = {}
        for role in ROLES:
            style = self.get_component_rich_style(f"chat-log--{role}")
            self._line_styles[role] = Style(color=base.color, bgcolor=style.bgcolor or base.bgcolor)
            self._gutters[role] = Segment("▌", Style(color=style.color))
            text_styles[role] = Style(color=style.color, bold=True)
        for name in ("footer", "error-text", "reasoning"):
            style = self.get_component_rich_style(f"chat-log--{name}")
            text_styles[name] = Style(color=style.color, italic=style.italic, bold=style.bold)
        self._line_styles["gap"] = base
        self._blank = None
        for part in self._shown:
            part.shown = None
        self._shown.clear()
        self.model.set_theme(self._make_render_theme(background), text_styles)
        self._changed()

    def _make_render_theme(self, background: Color) -> RenderTheme:
        app = self.app
        variables = app.theme_variables
        dark = app.current_theme.dark if app.current_theme else True

        def color(name: str, fallback: str) -> str:
            try:
                return _blend(variables.get(name, fallback), background)
            except Exception:
                return fallback

        primary = color("primary", "#0178D4")
        accent = color("accent", "#FEA62B")
        muted = color("foreground", "#E0E0E0")
        panel = color("panel", "#242F38")
        styles: dict[str, str] = {
            "markdown.code": f"bold {accent} on {panel}",
            "markdown.block_quote": muted,
            "markdown.list": primary,
            "markdown.item.bullet": f"bold {primary}",
            "markdown.item.number": primary,
            "markdown.link": f"underline {accent}",
            "markdown.link_url": f"underline {primary}",
            "markdown.table.border": primary,
            "markdown.table.header": f"bold {primary}",
            "markdown.hr": f"dim {muted}",
        }
        for level in range(1, 7):
            text_style = variables.get(f"markdown-h{level}-text-style", "bold")
            heading_color = color(f"markdown-h{level}-color", primary)
            styles[f"markdown.h{level}"] = f"{text_style} {heading_color}".strip()
        code_theme = self.CODE_THEMES[0] if dark else self.CODE_THEMES[1]
        return RenderTheme(app.theme or "default", code_theme, tuple(sorted(styles.items())))

    def _compose_line(self, entry: Entry, part: Part, line: Line) -> Strip:
        """A displayed line: the role's gutter and background around a rendered line."""
        if part.kind == "gap":
            return Strip.blank(self._view_width, self._line_styles.get("gap"))
        role = entry.data.role
        style = self._line_styles.get(role) or self.rich_style
        segments = [self._gutters.get(role) or Segment("▌"), Segment(" "), *unpack(line), Segment(" ")]
        return Strip(list(Segment.apply_style(segments, style)), self.model.width + _GUTTER + _RIGHT)

    # ------------------------------------------------------------------ viewport

    def _relayout(self) -> None:
        view_width = self.scrollable_content_region.width
        if view_width != self._view_width:
            self._view_width = view_width
            self.model.set_width(max(8, view_width - _GUTTER - _RIGHT))
        self._changed()

    def _changed(self, changed_from: int | None = None) -> None:
        """Content or geometry changed: render what became visible, then repaint. `changed_from`: only the
        virtual lines from there on changed, so a view above them, not scrolled, is not repainted, and one
        that shows them repaints only its rows from there down."""
        if not (self.is_mounted and self._view_width):
            return
        top = self.scroll_offset.y
        self._ensure_visible()
        if changed_from is None or self.scroll_offset.y != top:
            self.refresh()
            return
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        start = max(changed_from, top)
        if start < top + height:
            self.refresh_lines(start, top + height - start)

    def _schedule_ensure(self) -> None:
        if not self._ensure_scheduled:
            self._ensure_scheduled = True
            self.call_later(self._deferred_ensure)

    def _deferred_ensure(self) -> None:
        self._ensure_scheduled = False
        self._changed()

    def _ensure_visible(self, margin: int = 0, limit: int | None = None) -> bool:
        """Build and render the parts on screen (and `margin` lines around it, at most `limit` parts),
        keeping the visible content in place; returns True if anything was rendered."""
        model = self.model
        if self._ensuring or model.width <= 0:
            return False
        self._ensuring = True
        rendered = False
        try:
            view_height = max(1, self.scrollable_content_region.height)
            for _ in range(200):
                top = max(0, model.total - view_height) if self._follow else round(self.scroll_y)
                shift, count = model.render_window(top - margin, top + view_height + margin, top, limit)
                if not count:
                    break
                rendered = True
                if shift and not self._follow:
                    self._sync_size()
                    self._scroll_to(y=top + shift, animate=False)
                if limit is not None:
                    break
            self._sync_size()
            if self._follow:
                self._scroll_to(y=self.max_scroll_y, animate=False)
            model.evict()
            self._drop_far_strips(view_height)
        finally:
            self._ensuring = False
        if limit is None and not self._follow:
            self._schedule_prefetch()
        return rendered

    def _schedule_prefetch(self) -> None:
        if self._prefetch is None or self._prefetch.done():
            self._prefetch = asyncio.get_running_loop().create_task(self._prefetch_around())

    async def _prefetch_around(self) -> None:
        """While the user scrolls, render a screen above and below the view, one part per event-loop turn,
        so the next page is ready before it is asked for (not while following a stream: the blocks that
        scrolled off the top stay unrendered until someone scrolls to them)."""
        await asyncio.sleep(0)
        margin = max(1, self.scrollable_content_region.height)
        while not self._follow and self.is_mounted and self._ensure_visible(margin, limit=1):
            self.refresh()
            await asyncio.sleep(0)

    def _drop_far_strips(self, view_height: int) -> None:
        if len(self._shown) < 64:
            return
        top = round(self.scroll_y)
        near = self.model.parts_near(top - view_height, top + 2 * view_height)
        for part in self._shown - near:
            part.shown = None
        self._shown = near & self._shown

    def _sync_size(self) -> None:
        size = Size(self._view_width, self.model.total)
        if self.virtual_size != size:
            # Not through the reactive: that would repaint every row whenever the transcript grows, also
            # when the growth is below the view. Scrollbars follow; rows repaint where content changed.
            self.set_reactive(ChatLog.virtual_size, size)
            self._scroll_update(size)

    # ------------------------------------------------------------------ streaming

    def _wake(self) -> None:
        """Make sure the frame task runs while some stream is open."""
        if self.model.streams and self.is_mounted and (self._pump is None or self._pump.done()):
            self._pump = asyncio.get_running_loop().create_task(self._pump_streams())

    async def _pump_streams(self) -> None:
        """Once per frame: take what streams buffered, render it in slices, then show it at once."""
        model = self.model
        try:
            while model.streams:
                started = time.perf_counter()
                model.begin_frame()
                for stream in list(model.streams):
                    if stream._dirty:
                        stream._dirty = False
                        stream._advancing = True
                        try:
                            self._changed(await self._advance(stream))
                        finally:
                            stream._advancing = False
                    if stream.done and stream in model.streams:
                        model.streams.remove(stream)
                await asyncio.sleep(max(0.0, started + self.FRAME_INTERVAL - time.perf_counter()))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug: report it like any other error in the app
            self.app._handle_exception(error)

    def on_unmount(self) -> None:
        for task in (self._pump, self._prefetch):
            if task is not None:
                task.cancel()

    async def _advance(self, stream: StreamingMessage) -> int | None:
        """Take the buffered text of a stream, render what will be seen (yielding to the event loop after
        each block rendered), then update the message's parts."""
        model = self.model
        advance = model.prepare(stream)
        if self._follow:
            width, theme = model.width, model.theme
            for _ in model.prerender(advance, 2 * max(1, self.scrollable_content_region.height)):
                await asyncio.sleep(0)
                if (width, theme) != (model.width, model.theme):
                    break
        return model.publish(advance)
