"""ChatLog: the chat transcript as one line-based scroll view, built for streams of 2,000+ tokens/s.

Messages are split into parts (label, reasoning, Markdown blocks, error, footer). A part is rendered to
compact lines only when it comes near the viewport, and rendered lines are kept in a bounded LRU; a part
not rendered yet has an estimated height, corrected (without moving what is on screen) when it is rendered.
`render_line` maps a screen row to (message, part, line) with two bisects. While the user scrolls, a
screen above and below is rendered in the background, one part per event-loop turn.

A stream only buffers text (`append` is O(1)). Once per frame a task takes the buffer, moves the blocks
that can no longer change out of the tail, renders what will be on screen one block per event-loop turn,
then shows it all at once: the network loop never waits on the UI and no single step blocks it for long.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from botticelli.tui.deferred import after_first_frame
from botticelli.tui.markdown_render import (
    DEFAULT_THEME,
    Block,
    IncrementalMarkdown,
    Line,
    RenderTheme,
    estimate_height,
    last_code_block,
    render_text_lines,
    sanitize,
    split_blocks,
    to_strip,
    unpack,
    warm_up,
)

__all__ = ["ChatLog", "MessageData", "StreamingMessage"]

ROLES = ("user", "assistant", "system", "error")
_DEFAULT_TITLES = {"user": "You", "assistant": "assistant", "system": "system", "error": "error"}
_GUTTER = 2  # "▌ " on the left
_RIGHT = 1  # one blank column before the scrollbar


@dataclass
class MessageData:
    """One message of the transcript, as given by the caller (plain text, never markup)."""

    role: str
    text: str
    title: str | None = None
    footer: str | None = None
    reasoning: str | None = None
    error: str | None = None
    key: str | None = None
    cancelled: bool = False


class _Part:
    """A run of lines of one message: rendered lines, or just a height until it is needed."""

    __slots__ = ("block", "height", "kind", "lines", "shown", "text")

    def __init__(self, kind: str, height: int, *, block: Block | None = None, text: str = "") -> None:
        self.kind = kind
        self.height = height
        self.block = block
        self.text = text
        self.lines: list[Line] | None = None
        self.shown: list[Strip | None] | None = None
        """Displayed Strips, composed on first display and reused by later frames."""


class _Entry:
    """A message in the log, with its parts once built for the current width."""

    __slots__ = ("blocks", "data", "expanded", "height", "n_final", "parts", "starts", "stream")

    def __init__(self, data: MessageData, stream: StreamingMessage | None = None) -> None:
        self.data = data
        self.stream = stream
        self.blocks: list[Block] | None = None
        self.parts: list[_Part] | None = None
        self.starts: list[int] = []
        self.height = 0
        self.expanded = False
        self.n_final = 0

    def restart(self, index: int) -> None:
        """Recompute part offsets from part `index` on."""
        parts, starts = self.parts or [], self.starts
        del starts[index:]
        pos = starts[-1] + parts[index - 1].height if index else 0
        for part in parts[index:]:
            starts.append(pos)
            pos += part.height
        self.height = pos


class StreamingMessage:
    """An assistant answer being streamed into a ChatLog. `append` only buffers; the log renders."""

    def __init__(self, log: ChatLog, entry: _Entry) -> None:
        self._log = log
        self._entry = entry
        self._pending: list[str] = []
        self._reasoning_pending: list[str] = []
        self._reasoning = ""
        self._md = IncrementalMarkdown()
        self._tail: list[Block] = []
        self._published = 0
        """How many of `_md.blocks` the log shows (the rest are being rendered)."""
        self._dirty = False
        self._advancing = False
        self._footer: str | None = None
        self._error: str | None = None
        self._cancelled = False
        self.finished = False
        """`finish()` was called."""
        self.done = False
        """Finished and everything is on screen."""

    def append(self, text: str) -> None:
        """Add answer text. Sync and O(1): never renders."""
        if text and not self.finished:
            self._pending.append(text)
            self._dirty = True

    def append_reasoning(self, text: str) -> None:
        """Add reasoning text (shown collapsed by default)."""
        if text and not self.finished:
            self._reasoning_pending.append(text)
            self._dirty = True

    def finish(self, *, footer: str | None = None, error: str | None = None, cancelled: bool = False) -> None:
        """End the stream; the rest is rendered on the next frame."""
        if self.finished:
            return
        self._footer, self._error, self._cancelled = footer, error, cancelled
        self.finished = True
        self._dirty = True
        self._log._wake()

    @property
    def settled(self) -> bool:
        """True when everything appended so far is on screen (for tests and benchmarks)."""
        return not self._dirty and not self._advancing

    @property
    def text(self) -> str:
        """The answer so far."""
        return self._md.text + sanitize("".join(self._pending))

    @property
    def reasoning(self) -> str:
        """The reasoning so far."""
        return self._reasoning + sanitize("".join(self._reasoning_pending))

    def _take(self) -> tuple[str, bool]:
        text = sanitize("".join(self._pending)) if self._pending else ""
        self._pending.clear()
        reasoning = bool(self._reasoning_pending)
        if reasoning:
            self._reasoning += sanitize("".join(self._reasoning_pending))
            self._reasoning_pending.clear()
        return text, reasoning


def _clean(data: MessageData) -> MessageData:
    """A copy of the message without control characters (defence in depth)."""

    def clean(value: str | None) -> str | None:
        return None if value is None else sanitize(value)

    return replace(
        data,
        text=sanitize(data.text),
        title=clean(data.title),
        footer=clean(data.footer),
        reasoning=clean(data.reasoning),
        error=clean(data.error),
    )


def _chunks(text: str, lines: int = 64) -> list[str]:
    """Split plain text at line ends into pieces of `lines` lines (each wraps on its own, so the pieces
    render to the same lines as the whole, and a huge paste is rendered piece by piece as it scrolls)."""
    rows = text.split("\n")
    return ["\n".join(rows[i : i + lines]) for i in range(0, len(rows), lines)]


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
    CACHE_LINES = 1_500
    """Rendered lines kept for parts away from the viewport (older ones are rendered again if needed)."""
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
        self._entries: list[_Entry] = []
        self._starts: list[int] = []
        self._total = 0
        self._view_width = 0
        self._width = 0
        self._follow = True
        self._streams: list[StreamingMessage] = []
        self._cache: OrderedDict[_Part, int] = OrderedDict()
        self._cached_lines = 0
        self._ensuring = False
        self._ensure_scheduled = False
        self._blank: Strip | None = None
        self._shown: set[_Part] = set()
        """Parts holding composed Strips: only those near the viewport (a Strip is heavy)."""
        self._memo: dict[tuple[str, bool, bool, int, RenderTheme], list[Line]] = {}
        self._memo_old: dict[tuple[str, bool, bool, int, RenderTheme], list[Line]] = {}
        self._render_theme = DEFAULT_THEME
        self._line_styles: dict[str, Style] = {}
        self._gutters: dict[str, Segment] = {}
        self._text_styles: dict[str, Style] = {}
        self._pump: asyncio.Task[None] | None = None
        self._prefetch: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ public API

    @property
    def messages(self) -> list[MessageData]:
        """The messages (a streaming one with its text so far), for copy and export."""
        out = []
        for entry in self._entries:
            stream = entry.stream
            if stream is None:
                out.append(entry.data)
            else:
                out.append(replace(entry.data, text=stream.text, reasoning=stream.reasoning or None))
        return out

    @property
    def content_width(self) -> int:
        """Width (cells) that message text is rendered at."""
        return self._width

    @property
    def render_theme(self) -> RenderTheme:
        """The Markdown theme in use (follows the app theme)."""
        return self._render_theme

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
        data = MessageData(role, text, title, footer, reasoning, error, key)
        return self._append_entry(_Entry(_clean(data)))

    def start_assistant(self, *, title: str | None = None) -> StreamingMessage:
        """Add an assistant message to stream into."""
        entry = _Entry(_clean(MessageData("assistant", "", title)))
        stream = StreamingMessage(self, entry)
        entry.stream = stream
        self._streams.append(stream)
        self._append_entry(entry)
        self._wake()
        return stream

    def set_messages(self, messages: list[MessageData]) -> None:
        """Replace all messages (opening a saved session); the view opens at the bottom."""
        self._reset()
        width = self._width
        pos = 0
        for data in messages:
            entry = _Entry(_clean(data))
            entry.height = self._estimate_entry(entry, bool(self._entries), width)
            self._entries.append(entry)
            self._starts.append(pos)
            pos += entry.height
        self._total = pos
        self._follow = True
        self._changed()

    def clear(self) -> None:
        """Remove all messages."""
        self._reset()
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
        if index is None:
            for i in range(len(self._entries) - 1, -1, -1):
                if self._reasoning_of(self._entries[i]):
                    index = i
                    break
            else:
                return
        entry = self._entries[index]
        entry.expanded = not entry.expanded
        self._invalidate_entry(index)
        self._changed()

    def action_toggle_reasoning(self) -> None:
        """Expand or collapse the reasoning of the last message that has some."""
        self.toggle_reasoning()

    def body_lines(self, index: int) -> list[Strip]:
        """The rendered Markdown/text lines of a message's body (rendering what is missing)."""
        entry = self._entries[index]
        self._ensure_built(index)
        width = self._width
        kinds = ("md", "plain")
        parts = [part for part in entry.parts or [] if part.kind in kinds]
        return [to_strip(line, width) for part in parts for line in self._part_lines(entry, part)]

    def lines_text(self, index: int | None = None) -> list[str]:
        """The plain text of every displayed line (of one message, or all), rendering what is missing."""
        indexes = range(len(self._entries)) if index is None else [index]
        out: list[str] = []
        for i in indexes:
            entry = self._entries[i]
            self._ensure_built(i)
            for part in entry.parts or []:
                for line in self._part_lines(entry, part):
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
        located = self._locate(self.scroll_offset.y + offset.y)
        if located is not None:
            index, part, line = located
            if part.kind == "reasoning" and line == 0:
                self.toggle_reasoning(index)

    def render_line(self, y: int) -> Strip:
        located = self._locate(self.scroll_offset.y + y)
        if located is None:
            if self.scroll_offset.y + y < self._total:  # a message not built yet
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
            strip = shown[line] = self._compose_line(self._entries[index], part, lines[line])
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
        for role in ROLES:
            style = self.get_component_rich_style(f"chat-log--{role}")
            self._line_styles[role] = Style(color=base.color, bgcolor=style.bgcolor or base.bgcolor)
            self._gutters[role] = Segment("▌", Style(color=style.color))
            self._text_styles[role] = Style(color=style.color, bold=True)
        for name in ("footer", "error-text", "reasoning"):
            style = self.get_component_rich_style(f"chat-log--{name}")
            self._text_styles[name] = Style(color=style.color, italic=style.italic, bold=style.bold)
        self._line_styles["gap"] = base
        self._blank = None
        for part in self._shown:
            part.shown = None
        self._shown.clear()
        theme = self._make_render_theme(background)
        if theme != self._render_theme:
            self._render_theme = theme
            self._invalidate_all()
        else:
            self._invalidate_small_parts()
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

    def _compose_line(self, entry: _Entry, part: _Part, line: Line) -> Strip:
        """A displayed line: the role's gutter and background around a rendered line."""
        if part.kind == "gap":
            return Strip.blank(self._view_width, self._line_styles.get("gap"))
        role = entry.data.role
        style = self._line_styles.get(role) or self.rich_style
        segments = [self._gutters.get(role) or Segment("▌"), Segment(" "), *unpack(line), Segment(" ")]
        return Strip(list(Segment.apply_style(segments, style)), self._width + _GUTTER + _RIGHT)

    # ------------------------------------------------------------------ building parts

    @staticmethod
    def _reasoning_of(entry: _Entry) -> str:
        stream = entry.stream
        return stream._reasoning if stream is not None else (entry.data.reasoning or "")

    def _estimate_entry(self, entry: _Entry, gap: bool, width: int) -> int:
        data = entry.data
        text = entry.stream._md.text if entry.stream is not None else data.text
        height = int(gap) + 1 + estimate_height(text, width) if text else int(gap) + 1
        if data.reasoning:
            height += 1
        if data.error:
            height += estimate_height(data.error, width)
        return height + bool(data.footer) + data.cancelled

    def _reasoning_height(self, entry: _Entry) -> int:
        if not entry.expanded:
            return 1
        return 1 + estimate_height(self._reasoning_of(entry), self._width)

    def _block_part(self, block: Block) -> _Part:
        known = block.known_height(self._width, self._render_theme)
        return _Part("md", known if known is not None else block.estimate(self._width), block=block)

    def _build(self, index: int, entry: _Entry) -> None:
        """Split a message into parts (rendering none) for the current width."""
        reuse = {}
        if entry.parts is not None:
            for part in entry.parts:
                if part.block is not None and part.kind == "md":
                    reuse[id(part.block)] = part
                else:
                    self._forget(part)
        data, stream, width = entry.data, entry.stream, self._width
        parts: list[_Part] = []
        if index > 0:
            parts.append(_Part("gap", 1))
        parts.append(_Part("label", 1, text=data.title or _DEFAULT_TITLES.get(data.role, data.role)))
        if self._reasoning_of(entry):
            parts.append(_Part("reasoning", self._reasoning_height(entry)))
        if data.role == "assistant":
            if stream is not None:
                blocks = stream._md.blocks[: stream._published]
            else:
                if entry.blocks is None:
                    entry.blocks = split_blocks(data.text)
                blocks = entry.blocks
            for block in blocks:
                part = reuse.pop(id(block), None)
                parts.append(part if part is not None else self._block_part(block))
        elif data.role == "error":
            if data.text:
                parts.append(_Part("error", estimate_height(data.text, width), text=data.text))
        elif data.text:
            for chunk in _chunks(data.text):
                parts.append(_Part("plain", estimate_height(chunk, width), text=chunk))
        entry.n_final = len(parts)
        if stream is not None and not stream.done:
            parts.extend(self._tail_parts(entry, stream._tail))
        else:
            if data.error and data.role != "error":
                parts.append(_Part("error", estimate_height(data.error, width), text=data.error))
            if data.cancelled:
                parts.append(_Part("note", 1, text="⏹ cancelled"))
            if data.footer:
                parts.append(_Part("footer", estimate_height(data.footer, width), text=data.footer))
        for part in reuse.values():
            self._forget(part)
        entry.parts = parts
        entry.restart(0)

    def _tail_parts(self, entry: _Entry, tail: list[Block]) -> list[_Part]:
        parts = [_Part("tail", block.estimate(self._width), block=block) for block in tail]
        if not parts and not entry.stream._published and not self._reasoning_of(entry):  # type: ignore[union-attr]
            parts.append(_Part("waiting", 1, text="…"))
        return parts

    def _ensure_built(self, index: int) -> None:
        entry = self._entries[index]
        if entry.parts is None:
            self._build(index, entry)
            self._restart(index + 1)

    def _part_lines(self, entry: _Entry, part: _Part) -> list[Line]:
        """A part's lines, rendered now if needed (its height becomes exact)."""
        if part.lines is not None:
            self._cache.move_to_end(part)
            return part.lines
        lines = self._render_part(entry, part)
        part.lines = lines
        if part.height != len(lines):
            part.height = len(lines)
            parts = entry.parts or []
            for j, other in enumerate(parts):
                if other is part:
                    entry.restart(j)
                    break
            index = self._index_of(entry)
            if index is not None:
                self._restart(index + 1)
        self._cache[part] = len(lines)
        self._cached_lines += len(lines)
        return lines

    def _memo_key(self, block: Block, plain: bool) -> tuple[str, bool, bool, int, RenderTheme]:
        # A final newline does not change how a block parses: the tail "…word." and the final "…word.\n"
        # render the same.
        source = block.source
        source = source[:-1] if source.endswith("\n") else source
        return source, block.new_line_before, plain, self._width, self._render_theme

    def _render_block(self, block: Block, tail: bool) -> list[Line]:
        """A block's lines, from the last frames' renders when possible. A code block still streaming is
        not highlighted until its closing fence arrives (it is rendered again every frame until then)."""
        theme = self._render_theme
        plain = tail and block.is_open_fence
        key = self._memo_key(block, plain)
        lines = self._memo.get(key) or self._memo_old.get(key)
        if lines is not None:
            block.remember(self._width, theme, len(lines))
        else:
            lines = block.render_lines(self._width, theme, plain_code=plain)
        if self._streams:
            # A tail block rendered in the last frame is often final in this one: render it once.
            self._memo[key] = lines
        return lines

    def _render_part(self, entry: _Entry, part: _Part) -> list[Line]:
        width, kind, styles = self._width, part.kind, self._text_styles
        if kind in ("md", "tail"):
            assert part.block is not None
            return self._render_block(part.block, kind == "tail")
        if kind == "gap":
            return [((" " * width, 0),)]
        if kind == "label":
            return render_text_lines(Text(part.text, style=styles.get(entry.data.role, "")), width)
        if kind == "plain":
            return render_text_lines(part.text, width)
        if kind == "error":
            style = styles.get("error-text", Style())
            return render_text_lines(Text.assemble(("✖ ", style), (sanitize(part.text), style)), width)
        if kind == "reasoning":
            reasoning = self._reasoning_of(entry)
            size = f"{len(reasoning):,} chars"
            style = styles.get("reasoning", Style())
            if not entry.expanded:
                return render_text_lines(Text(f"▸ reasoning ({size}) — press r to expand", style=style), width)
            head = render_text_lines(Text(f"▾ reasoning ({size}) — press r to collapse", style=style), width)
            return head + render_text_lines(Text(sanitize(reasoning), style=style), width)
        style = styles.get("footer", Style())
        return render_text_lines(Text(part.text, style=style), width)

    # ------------------------------------------------------------------ index

    def _index_of(self, entry: _Entry) -> int | None:
        entries = self._entries
        if entries and entries[-1] is entry:
            return len(entries) - 1
        for i in range(len(entries) - 1, -1, -1):
            if entries[i] is entry:
                return i
        return None

    def _restart(self, index: int) -> None:
        """Recompute message offsets from message `index` on."""
        entries, starts = self._entries, self._starts
        del starts[index:]
        pos = starts[-1] + entries[index - 1].height if index else 0
        for entry in entries[index:]:
            starts.append(pos)
            pos += entry.height
        self._total = pos

    def _locate(self, y: int) -> tuple[int, _Part, int] | None:
        """The message index, part and line within the part at virtual line `y`."""
        if y < 0 or y >= self._total:
            return None
        index = bisect_right(self._starts, y) - 1
        entry = self._entries[index]
        if entry.parts is None:
            return None
        local = y - self._starts[index]
        j = bisect_right(entry.starts, local) - 1
        return index, entry.parts[j], local - entry.starts[j]

    def _append_entry(self, entry: _Entry) -> int:
        index = len(self._entries)
        entry.height = self._estimate_entry(entry, index > 0, self._width)
        self._entries.append(entry)
        self._starts.append(self._total)
        self._total += entry.height
        self._changed()
        return index

    def _reset(self) -> None:
        for stream in self._streams:
            stream.finished = stream.done = True
        self._streams.clear()
        self._entries.clear()
        self._starts.clear()
        self._total = 0
        self._cache.clear()
        self._cached_lines = 0

    def _forget(self, part: _Part) -> None:
        lines = self._cache.pop(part, None)
        if lines is not None:
            self._cached_lines -= lines
        part.lines = part.shown = None

    def _invalidate_entry(self, index: int) -> None:
        entry = self._entries[index]
        for part in entry.parts or []:
            self._forget(part)
        entry.parts = None

    def _invalidate_all(self) -> None:
        self._memo.clear()
        self._memo_old.clear()
        for part in self._cache:
            part.lines = part.shown = None
        self._cache.clear()
        self._cached_lines = 0
        for entry in self._entries:
            entry.parts = None

    def _invalidate_small_parts(self) -> None:
        """Same Markdown theme: rendered Markdown stays; labels, footers etc. take the new colours."""
        for part in list(self._cache):
            if part.kind not in ("md", "tail"):
                self._forget(part)

    # ------------------------------------------------------------------ viewport

    def _relayout(self) -> None:
        view_width = self.scrollable_content_region.width
        if view_width != self._view_width:
            self._view_width = view_width
            self._width = max(8, view_width - _GUTTER - _RIGHT)
            self._invalidate_all()
            for index, entry in enumerate(self._entries):
                entry.height = self._estimate_entry(entry, index > 0, self._width)
            self._restart(0)
        self._changed()

    def _changed(self) -> None:
        """Content or geometry changed: render what became visible, then repaint."""
        if self.is_mounted and self._view_width:
            self._ensure_visible()
            self.refresh()

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
        if self._ensuring or self._width <= 0:
            return False
        self._ensuring = True
        rendered = False
        try:
            view_height = max(1, self.scrollable_content_region.height)
            for _ in range(200):
                top = max(0, self._total - view_height) if self._follow else round(self.scroll_y)
                shift, count = self._render_range(top - margin, top + view_height + margin, top, limit)
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
            self._evict()
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

    def _render_range(self, low: int, high: int, top: int, limit: int | None = None) -> tuple[int, int]:
        """Render up to `limit` parts between virtual lines low and high. Returns the height change of what
        starts above `top` (the view keeps its content by moving that much) and how many messages were
        built or parts rendered."""
        entries = self._entries
        count = 0
        shift = 0
        index = max(0, bisect_right(self._starts, max(0, low)) - 1)
        while index < len(entries) and self._starts[index] < high:
            if limit is not None and count >= limit:
                break
            entry = entries[index]
            start = self._starts[index]
            original_height = entry.height
            if entry.parts is None:
                self._build(index, entry)
                count += 1
                if start < top:  # starts above the view: keep what is below it in place
                    shift += entry.height - original_height
            parts, starts = entry.parts or [], entry.starts
            j = max(0, bisect_right(starts, low - start) - 1)
            first_changed = None
            pos = start + starts[j] if j < len(starts) else start
            while j < len(parts) and pos < high:
                part = parts[j]
                if part.lines is None:
                    if limit is not None and count >= limit:
                        break
                    before = part.height
                    part.lines = self._render_part(entry, part)
                    part.height = len(part.lines)
                    self._cache[part] = part.height
                    self._cached_lines += part.height
                    count += 1
                    if part.height != before:
                        if pos < top:
                            shift += part.height - before
                        if first_changed is None:
                            first_changed = j
                else:
                    self._cache.move_to_end(part)
                pos += part.height
                j += 1
            if first_changed is not None:
                entry.restart(first_changed)
            if entry.height != original_height:
                self._restart(index + 1)
            index += 1
        return shift, count

    def _drop_far_strips(self, view_height: int) -> None:
        if len(self._shown) < 64:
            return
        top = round(self.scroll_y)
        near = set()
        y = max(0, top - view_height)
        while y < min(self._total, top + 2 * view_height):
            located = self._locate(y)
            if located is None:
                break
            _index, part, line = located
            near.add(part)
            y += part.height - line
        for part in self._shown - near:
            part.shown = None
        self._shown = near & self._shown

    def _sync_size(self) -> None:
        size = Size(self._view_width, self._total)
        if self.virtual_size != size:
            self.virtual_size = size

    def _evict(self) -> None:
        cache = self._cache
        while self._cached_lines > self.CACHE_LINES and cache:
            part, lines = cache.popitem(last=False)
            part.lines = part.shown = None
            self._cached_lines -= lines

    # ------------------------------------------------------------------ streaming

    def _wake(self) -> None:
        """Make sure the frame task runs while some stream is open."""
        if self._streams and self.is_mounted and (self._pump is None or self._pump.done()):
            self._pump = asyncio.get_running_loop().create_task(self._pump_streams())

    async def _pump_streams(self) -> None:
        """Once per frame: take what streams buffered, render it in slices, then show it at once."""
        try:
            while self._streams:
                started = time.perf_counter()
                self._memo_old, self._memo = self._memo, {}
                for stream in list(self._streams):
                    if stream._dirty:
                        stream._dirty = False
                        stream._advancing = True
                        try:
                            await self._advance(stream)
                            self._changed()
                        finally:
                            stream._advancing = False
                    if stream.done and stream in self._streams:
                        self._streams.remove(stream)
                await asyncio.sleep(max(0.0, started + self.FRAME_INTERVAL - time.perf_counter()))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug: report it like any other error in the app
            self.app._handle_exception(error)

    def on_unmount(self) -> None:
        for task in (self._pump, self._prefetch):
            if task is not None:
                task.cancel()

    async def _prerender(self, entry: _Entry, blocks: list[Block], tail: list[Block]) -> None:
        """Render the blocks about to be shown at the bottom, one per event-loop turn, from the last one
        up, until the screen is full. Blocks above stay unrendered until they are scrolled to."""
        if not self._follow or not self._entries or self._entries[-1] is not entry:
            return
        room = 2 * max(1, self.scrollable_content_region.height)
        width, theme = self._width, self._render_theme
        for block in reversed([*blocks, *tail]):
            key = self._memo_key(block, block in tail and block.is_open_fence)
            rendered = key in self._memo or key in self._memo_old
            lines = self._render_block(block, block in tail)
            if not rendered:
                await asyncio.sleep(0)
                if (width, theme) != (self._width, self._render_theme):
                    return
            room -= len(lines)
            if room <= 0:
                return

    async def _advance(self, stream: StreamingMessage) -> None:
        """Take the buffered text of a stream, render what will be seen, then update the message's parts."""
        entry = stream._entry
        had_reasoning = bool(stream._reasoning)
        text, reasoning_changed = stream._take()
        md = stream._md
        if text:
            md.append(text)
        finished = stream.finished
        if finished:
            new_blocks = md.close()
            tail: list[Block] = []
        else:
            new_blocks = md.update()
            tail = md.tail() if (text or new_blocks) else stream._tail
        await self._prerender(entry, new_blocks, tail)
        index = self._index_of(entry)
        if index is None:  # cleared meanwhile
            stream.done = True
            return
        published = stream._published
        stream._published = len(md.blocks)
        new_blocks = md.blocks[published:]
        stream._tail = tail
        if finished:
            stream.done = True
            entry.stream = None
            entry.data = _clean(
                replace(
                    entry.data,
                    text=md.text,
                    reasoning=stream._reasoning or None,
                    footer=stream._footer,
                    error=stream._error,
                    cancelled=stream._cancelled,
                )
            )
            entry.blocks = md.blocks
            if entry.parts is not None:
                self._build(index, entry)
            else:
                entry.height = self._estimate_entry(entry, index > 0, self._width)
            self._restart(index + 1)
            return
        if entry.parts is None:
            entry.height = max(entry.height, self._estimate_entry(entry, index > 0, self._width))
            self._restart(index + 1)
            return
        if reasoning_changed and not had_reasoning:
            self._build(index, entry)
            self._restart(index + 1)
            return
        parts = entry.parts
        first = len(parts)
        if reasoning_changed:
            for j, part in enumerate(parts):
                if part.kind == "reasoning":
                    self._forget(part)
                    part.height = self._reasoning_height(entry)
                    first = j
                    break
        if text or new_blocks:
            cut = entry.n_final
            for part in parts[cut:]:
                self._forget(part)
            del parts[cut:]
            parts.extend(self._block_part(block) for block in new_blocks)
            entry.n_final = len(parts)
            parts.extend(self._tail_parts(entry, tail))
            first = min(first, cut)
        if first < len(parts):
            entry.restart(first)
            self._restart(index + 1)
