"""The chat transcript's layout model, without a widget: messages, their parts, heights, the render cache.

Messages are split into parts (gap, label, reasoning, Markdown blocks, plain text, error, footer). A part
is rendered to compact lines only when asked for (`render_window`, `part_lines`), and rendered lines are kept
in a bounded LRU; a part not rendered yet has an estimated height, corrected when it is rendered. `locate`
maps a virtual line to (message, part, line) with two bisects. Streams only buffer text; `prepare` and
`publish` move what a stream buffered into the message's parts once per frame: the blocks that can no
longer change are rendered once, only the open tail is rendered again.

`ChatLog` (tui/widgets/chat_log.py) is the thin widget on top: scrolling, styles, composing Strips, the
frame task. Tests drive this model directly, with no app running.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from rich.style import Style
from rich.text import Text

from botticelli.tui.markdown_render import (
    DEFAULT_THEME,
    Block,
    IncrementalMarkdown,
    Line,
    RenderTheme,
    estimate_height,
    render_text_lines,
    sanitize,
    split_blocks,
)

__all__ = ["Advance", "ChatLayout", "Entry", "MessageData", "Part", "StreamingMessage"]

DEFAULT_TITLES = {"user": "You", "assistant": "assistant", "system": "system", "error": "error"}
MemoKey = tuple[str, bool, bool, bool, int, RenderTheme]


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


class Part:
    """A run of lines of one message: rendered lines, or just a height until it is needed."""

    __slots__ = ("block", "height", "kind", "lines", "shown", "text")

    def __init__(self, kind: str, height: int, *, block: Block | None = None, text: str = "") -> None:
        self.kind = kind
        self.height = height
        self.block = block
        self.text = text
        self.lines: list[Line] | None = None
        self.shown: list[Any] | None = None
        """What the widget composed from `lines` (its Strips), kept while on screen; reset with `lines`."""


class Entry:
    """A message in the log, with its parts once built for the current width."""

    __slots__ = ("blocks", "data", "expanded", "height", "n_final", "parts", "starts", "stream")

    def __init__(self, data: MessageData, stream: StreamingMessage | None = None) -> None:
        self.data = data
        self.stream = stream
        self.blocks: list[Block] | None = None
        self.parts: list[Part] | None = None
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
    """An assistant answer being streamed into a transcript. `append` only buffers; the layout renders."""

    def __init__(self, layout: ChatLayout, entry: Entry) -> None:
        self._layout = layout
        self._entry = entry
        self._pending: list[str] = []
        self._reasoning_pending: list[str] = []
        self._reasoning = ""
        self._md = IncrementalMarkdown()
        self._tail: list[Block] = []
        self._published = 0
        """How many of `_md.blocks` the layout shows (the rest are being rendered)."""
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
        self._layout.wake()

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


@dataclass
class Advance:
    """What one frame takes from a stream (`ChatLayout.prepare`), to render and then `publish`."""

    stream: StreamingMessage
    text: str
    reasoning_changed: bool
    had_reasoning: bool
    finished: bool
    new_blocks: list[Block]
    tail: list[Block] = field(default_factory=list)


def clean(data: MessageData) -> MessageData:
    """A copy of the message without control characters (defence in depth)."""

    def cleaned(value: str | None) -> str | None:
        return None if value is None else sanitize(value)

    return replace(
        data,
        text=sanitize(data.text),
        title=cleaned(data.title),
        footer=cleaned(data.footer),
        reasoning=cleaned(data.reasoning),
        error=cleaned(data.error),
    )


def chunks(text: str, lines: int = 64) -> list[str]:
    """Split plain text at line ends into pieces of `lines` lines (each wraps on its own, so the pieces
    render to the same lines as the whole, and a huge paste is rendered piece by piece as it scrolls)."""
    rows = text.split("\n")
    return ["\n".join(rows[i : i + lines]) for i in range(0, len(rows), lines)]


class ChatLayout:
    """Messages laid out at one width: parts, heights, offsets, the visible window and the render cache."""

    CACHE_LINES = 1_500
    """Rendered lines kept for parts away from the viewport (older ones are rendered again if needed)."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self.entries: list[Entry] = []
        self.starts: list[int] = []
        """The virtual line each message starts at."""
        self.total = 0
        """Height of the whole transcript (estimated where not rendered)."""
        self.width = 0
        """Width (cells) that message text is rendered at; 0 until known."""
        self.theme = DEFAULT_THEME
        self.text_styles: dict[str, Style] = {}
        """Styles of labels (by role), footers, error text and reasoning."""
        self.streams: list[StreamingMessage] = []
        self._wake = wake
        self._cache: OrderedDict[Part, int] = OrderedDict()
        self._cached_lines = 0
        self._memo: dict[MemoKey, list[Line]] = {}
        self._memo_old: dict[MemoKey, list[Line]] = {}

    def wake(self) -> None:
        """A stream has something new (the widget schedules a frame)."""
        if self._wake is not None:
            self._wake()

    # -- messages --------------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[MessageData]:
        """The messages (a streaming one with its text so far)."""
        out = []
        for entry in self.entries:
            stream = entry.stream
            if stream is None:
                out.append(entry.data)
            else:
                out.append(replace(entry.data, text=stream.text, reasoning=stream.reasoning or None))
        return out

    def add(self, data: MessageData) -> int:
        """Add a finished message; returns its index."""
        return self._append(Entry(clean(data)))

    def start_stream(self, title: str | None = None) -> StreamingMessage:
        """Add an assistant message to stream into."""
        entry = Entry(clean(MessageData("assistant", "", title)))
        stream = StreamingMessage(self, entry)
        entry.stream = stream
        self.streams.append(stream)
        self._append(entry)
        return stream

    def set_messages(self, messages: list[MessageData]) -> None:
        """Replace all messages (their heights estimated, nothing rendered)."""
        self.clear()
        pos = 0
        for data in messages:
            entry = Entry(clean(data))
            entry.height = self._estimate_entry(entry, bool(self.entries))
            self.entries.append(entry)
            self.starts.append(pos)
            pos += entry.height
        self.total = pos

    def clear(self) -> None:
        """Remove all messages; open streams end."""
        for stream in self.streams:
            stream.finished = stream.done = True
        self.streams.clear()
        self.entries.clear()
        self.starts.clear()
        self.total = 0
        self._cache.clear()
        self._cached_lines = 0

    def toggle_reasoning(self, index: int | None = None) -> bool:
        """Expand or collapse a message's reasoning (default: the last one that has some); False if none."""
        if index is None:
            for i in range(len(self.entries) - 1, -1, -1):
                if self.reasoning_of(self.entries[i]):
                    index = i
                    break
            else:
                return False
        entry = self.entries[index]
        entry.expanded = not entry.expanded
        self._invalidate_entry(index)
        return True

    @staticmethod
    def reasoning_of(entry: Entry) -> str:
        stream = entry.stream
        return stream._reasoning if stream is not None else (entry.data.reasoning or "")

    def _append(self, entry: Entry) -> int:
        index = len(self.entries)
        entry.height = self._estimate_entry(entry, index > 0)
        self.entries.append(entry)
        self.starts.append(self.total)
        self.total += entry.height
        return index

    # -- geometry and theme ----------------------------------------------------------------------------------

    def set_width(self, width: int) -> bool:
        """Lay out at a new text width (everything is estimated again); False if unchanged."""
        if width == self.width:
            return False
        self.width = width
        self.invalidate_all()
        for index, entry in enumerate(self.entries):
            entry.height = self._estimate_entry(entry, index > 0)
        self.restart(0)
        return True

    def set_theme(self, theme: RenderTheme, text_styles: dict[str, Style]) -> None:
        """New colours: a new Markdown theme renders everything again, else only labels, footers etc."""
        self.text_styles = text_styles
        if theme != self.theme:
            self.theme = theme
            self.invalidate_all()
        else:
            for part in list(self._cache):
                if part.kind not in ("md", "tail"):
                    self._forget(part)

    def invalidate_all(self) -> None:
        self._memo.clear()
        self._memo_old.clear()
        for part in self._cache:
            part.lines = part.shown = None
        self._cache.clear()
        self._cached_lines = 0
        for entry in self.entries:
            entry.parts = None

    def _forget(self, part: Part) -> None:
        lines = self._cache.pop(part, None)
        if lines is not None:
            self._cached_lines -= lines
        part.lines = part.shown = None

    def _invalidate_entry(self, index: int) -> None:
        entry = self.entries[index]
        for part in entry.parts or []:
            self._forget(part)
        entry.parts = None

    # -- the index -------------------------------------------------------------------------------------------

    def index_of(self, entry: Entry) -> int | None:
        entries = self.entries
        if entries and entries[-1] is entry:
            return len(entries) - 1
        for i in range(len(entries) - 1, -1, -1):
            if entries[i] is entry:
                return i
        return None

    def restart(self, index: int) -> None:
        """Recompute message offsets from message `index` on."""
        entries, starts = self.entries, self.starts
        del starts[index:]
        pos = starts[-1] + entries[index - 1].height if index else 0
        for entry in entries[index:]:
            starts.append(pos)
            pos += entry.height
        self.total = pos

    def locate(self, y: int) -> tuple[int, Part, int] | None:
        """The message index, part and line within the part at virtual line `y` (None: not built yet)."""
        if y < 0 or y >= self.total:
            return None
        index = bisect_right(self.starts, y) - 1
        entry = self.entries[index]
        if entry.parts is None:
            return None
        local = y - self.starts[index]
        j = bisect_right(entry.starts, local) - 1
        return index, entry.parts[j], local - entry.starts[j]

    def parts_near(self, low: int, high: int) -> set[Part]:
        """The built parts between virtual lines low and high."""
        near: set[Part] = set()
        y = max(0, low)
        while y < min(self.total, high):
            located = self.locate(y)
            if located is None:
                break
            _index, part, line = located
            near.add(part)
            y += part.height - line
        return near

    # -- rendering -------------------------------------------------------------------------------------------

    def render_window(self, low: int, high: int, top: int, limit: int | None = None) -> tuple[int, int]:
        """Build messages and render parts between virtual lines low and high (at most `limit`). Returns the
        height change of what starts above `top` (a view keeps its content by scrolling that much) and how
        many messages were built or parts rendered."""
        entries = self.entries
        count = 0
        shift = 0
        index = max(0, bisect_right(self.starts, max(0, low)) - 1)
        while index < len(entries) and self.starts[index] < high:
            if limit is not None and count >= limit:
                break
            entry = entries[index]
            start = self.starts[index]
            original_height = entry.height
            if entry.parts is None:
                self.build(index, entry)
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
                self.restart(index + 1)
            index += 1
        return shift, count

    def evict(self) -> None:
        """Drop the least recently used rendered lines beyond CACHE_LINES."""
        cache = self._cache
        while self._cached_lines > self.CACHE_LINES and cache:
            part, lines = cache.popitem(last=False)
            part.lines = part.shown = None
            self._cached_lines -= lines

    def ensure_built(self, index: int) -> Entry:
        entry = self.entries[index]
        if entry.parts is None:
            self.build(index, entry)
            self.restart(index + 1)
        return entry

    def part_lines(self, entry: Entry, part: Part) -> list[Line]:
        """A part's lines, rendered now if needed (its height becomes exact)."""
        if part.lines is not None:
            self._cache.move_to_end(part)
            return part.lines
        lines = self._render_part(entry, part)
        part.lines = lines
        if part.height != len(lines):
            part.height = len(lines)
            for j, other in enumerate(entry.parts or []):
                if other is part:
                    entry.restart(j)
                    break
            index = self.index_of(entry)
            if index is not None:
                self.restart(index + 1)
        self._cache[part] = len(lines)
        self._cached_lines += len(lines)
        return lines

    def _memo_key(self, block: Block, plain: bool) -> MemoKey:
        # A final newline does not change how a block parses: the tail "…word." and the final "…word.\n"
        # render the same.
        source = block.source
        source = source[:-1] if source.endswith("\n") else source
        return source, block.new_line_before, block.continues, plain, self.width, self.theme

    def render_block(self, block: Block, tail: bool) -> tuple[list[Line], bool]:
        """A block's lines, from the last frames' renders when possible, and whether it was rendered now.
        A code block still streaming is not highlighted until its closing fence arrives (it is rendered
        again every frame until then)."""
        plain = tail and block.is_open_fence
        key = self._memo_key(block, plain)
        lines = self._memo.get(key) or self._memo_old.get(key)
        rendered = lines is None
        if lines is not None:
            block.remember(self.width, self.theme, len(lines))
        else:
            lines = block.render_lines(self.width, self.theme, plain_code=plain)
        if self.streams:
            # A tail block rendered in the last frame is often final in this one: render it once.
            self._memo[key] = lines
        return lines, rendered

    def _render_part(self, entry: Entry, part: Part) -> list[Line]:
        width, kind, styles = self.width, part.kind, self.text_styles
        if kind in ("md", "tail"):
            assert part.block is not None
            return self.render_block(part.block, kind == "tail")[0]
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
            reasoning = self.reasoning_of(entry)
            size = f"{len(reasoning):,} chars"
            style = styles.get("reasoning", Style())
            if not entry.expanded:
                return render_text_lines(Text(f"▸ reasoning ({size}) — press r to expand", style=style), width)
            head = render_text_lines(Text(f"▾ reasoning ({size}) — press r to collapse", style=style), width)
            return head + render_text_lines(Text(sanitize(reasoning), style=style), width)
        style = styles.get("footer", Style())
        return render_text_lines(Text(part.text, style=style), width)

    # -- building parts --------------------------------------------------------------------------------------

    def _estimate_entry(self, entry: Entry, gap: bool) -> int:
        data, width = entry.data, self.width
        text = entry.stream._md.text if entry.stream is not None else data.text
        height = int(gap) + 1 + estimate_height(text, width) if text else int(gap) + 1
        if data.reasoning:
            height += 1
        if data.error:
            height += estimate_height(data.error, width)
        return height + bool(data.footer) + data.cancelled

    def _reasoning_height(self, entry: Entry) -> int:
        if not entry.expanded:
            return 1
        return 1 + estimate_height(self.reasoning_of(entry), self.width)

    def _block_part(self, block: Block) -> Part:
        known = block.known_height(self.width, self.theme)
        return Part("md", known if known is not None else block.estimate(self.width), block=block)

    def build(self, index: int, entry: Entry) -> None:
        """Split a message into parts (rendering none) for the current width."""
        reuse = {}
        if entry.parts is not None:
            for part in entry.parts:
                if part.block is not None and part.kind == "md":
                    reuse[id(part.block)] = part
                else:
                    self._forget(part)
        data, stream, width = entry.data, entry.stream, self.width
        parts: list[Part] = []
        if index > 0:
            parts.append(Part("gap", 1))
        parts.append(Part("label", 1, text=data.title or DEFAULT_TITLES.get(data.role, data.role)))
        if self.reasoning_of(entry):
            parts.append(Part("reasoning", self._reasoning_height(entry)))
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
                parts.append(Part("error", estimate_height(data.text, width), text=data.text))
        elif data.text:
            for piece in chunks(data.text):
                parts.append(Part("plain", estimate_height(piece, width), text=piece))
        entry.n_final = len(parts)
        if stream is not None and not stream.done:
            parts.extend(self._tail_parts(entry, stream._tail))
        else:
            if data.error and data.role != "error":
                parts.append(Part("error", estimate_height(data.error, width), text=data.error))
            if data.cancelled:
                parts.append(Part("note", 1, text="⏹ cancelled"))
            if data.footer:
                parts.append(Part("footer", estimate_height(data.footer, width), text=data.footer))
        for part in reuse.values():
            self._forget(part)
        entry.parts = parts
        entry.restart(0)

    def _tail_parts(self, entry: Entry, tail: list[Block]) -> list[Part]:
        parts = [Part("tail", block.estimate(self.width), block=block) for block in tail]
        stream = entry.stream
        if not parts and stream is not None and not stream._published and not self.reasoning_of(entry):
            parts.append(Part("waiting", 1, text="…"))
        return parts

    # -- streaming -------------------------------------------------------------------------------------------

    def begin_frame(self) -> None:
        """A new frame: renders older than the last frame's are dropped from the memo."""
        self._memo_old, self._memo = self._memo, {}

    def prepare(self, stream: StreamingMessage) -> Advance:
        """Take what a stream buffered and split it into blocks: the new final ones and the open tail."""
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
        return Advance(stream, text, reasoning_changed, had_reasoning, finished, new_blocks, tail)

    def prerender(self, advance: Advance, room: int) -> Iterator[None]:
        """Render the blocks about to be shown at the bottom, from the last one up, until `room` lines are
        filled; yields after each block that had to be rendered (the caller lets other work run there).
        Blocks above stay unrendered until they are scrolled to."""
        if not self.entries or self.entries[-1] is not advance.stream._entry:
            return
        tail = advance.tail
        for block in reversed([*advance.new_blocks, *tail]):
            lines, rendered = self.render_block(block, block in tail)
            if rendered:
                yield
            room -= len(lines)
            if room <= 0:
                return

    def publish(self, advance: Advance) -> int | None:
        """Show what `prepare` took: the message's parts and heights are updated. Returns the first virtual
        line that changed (None: nothing did)."""
        stream = advance.stream
        entry = stream._entry
        index = self.index_of(entry)
        if index is None:  # cleared meanwhile
            stream.done = True
            return None
        md = stream._md
        published = stream._published
        stream._published = len(md.blocks)
        new_blocks = md.blocks[published:]
        stream._tail = tail = advance.tail
        if advance.finished:
            stream.done = True
            entry.stream = None
            entry.data = clean(
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
                self.build(index, entry)
            else:
                entry.height = self._estimate_entry(entry, index > 0)
            self.restart(index + 1)
            return self.starts[index]
        if entry.parts is None:
            entry.height = max(entry.height, self._estimate_entry(entry, index > 0))
            self.restart(index + 1)
            return self.starts[index]
        if advance.reasoning_changed and not advance.had_reasoning:
            self.build(index, entry)
            self.restart(index + 1)
            return self.starts[index]
        parts = entry.parts
        first = len(parts)
        if advance.reasoning_changed:
            for j, part in enumerate(parts):
                if part.kind == "reasoning":
                    self._forget(part)
                    part.height = self._reasoning_height(entry)
                    first = j
                    break
        if advance.text or new_blocks:
            cut = entry.n_final
            for part in parts[cut:]:
                self._forget(part)
            del parts[cut:]
            parts.extend(self._block_part(block) for block in new_blocks)
            entry.n_final = len(parts)
            parts.extend(self._tail_parts(entry, tail))
            first = min(first, cut)
        if first >= len(parts):
            return None
        entry.restart(first)
        self.restart(index + 1)
        return self.starts[index] + entry.starts[first]
