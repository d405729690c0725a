"""Markdown and plain text to terminal lines, block by block, for the chat transcript.

An answer is split into top-level Markdown blocks with markdown-it-py (the parser Rich uses). Each block
is rendered on its own with `rich.markdown.Markdown`; the caller caches the lines per block for the current
width and theme (they are the key), so a finished block is rendered once. Joining the blocks gives exactly
the lines Rich would give for the whole text: the blank line Rich puts between two blocks depends only on
the block before it, and that state is replayed when a block is rendered alone.

`IncrementalMarkdown` follows a growing (streamed) text: blocks that can no longer change are final, and
only the tail after them is parsed and rendered again.
"""

from __future__ import annotations

import copy
import io
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.strip import Strip

from botticelli.safety import drop_controls

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from rich.markdown import Markdown

# markdown-it-py, `rich.markdown` and (through it) `rich.syntax` and Pygments are imported on first use
# (`_markdown()`): an empty chat paints its first frame without them.

__all__ = [
    "DEFAULT_THEME",
    "Block",
    "IncrementalMarkdown",
    "Line",
    "RenderTheme",
    "estimate_height",
    "last_code_block",
    "pack",
    "render_markdown",
    "render_text",
    "render_text_lines",
    "sanitize",
    "split_blocks",
    "to_strip",
    "unpack",
    "warm_up",
]

Line = tuple[tuple[str, int], ...]
"""One rendered line, compact: (text, style number) pairs whose cell lengths add up to the width.

Tuples of strings and ints are not tracked by the cyclic garbage collector, so thousands of cached lines
do not make its full collections (which stall the event loop) longer or more frequent.
"""

_style_table: list[Style | None] = [None]
_style_numbers: dict[Style, int] = {}


def pack(segments: list[Segment]) -> Line:
    """Compact Rich Segments into a Line, merging neighbours of the same style (event-loop thread only)."""
    numbers, table = _style_numbers, _style_table
    out: list[tuple[str, int]] = []
    last = -1
    for text, style, _control in segments:
        if style is None:
            number = 0
        else:
            number = numbers.get(style, -1)
            if number < 0:
                number = numbers[style] = len(table)
                table.append(style)
        if number == last:
            out[-1] = (out[-1][0] + text, number)
        elif text:
            out.append((text, number))
            last = number
    return tuple(out)


def unpack(line: Line) -> list[Segment]:
    """The Rich Segments of a Line."""
    table = _style_table
    return [Segment(text, table[number]) for text, number in line]


def to_strip(line: Line, width: int) -> Strip:
    """A Line as a Textual Strip."""
    return Strip(unpack(line), width)


# Defence in depth: the caller strips escape sequences (botticelli.safety); whatever control character
# still arrives (C0 except \t and \n, DEL, C1) is dropped here so it can never reach the terminal.
sanitize = drop_controls


@dataclass(frozen=True)
class RenderTheme:
    """Colours for rendered Markdown: a name (part of every cache key), a Pygments theme and Rich styles."""

    name: str = "default"
    code_theme: str = "monokai"
    styles: tuple[tuple[str, str], ...] = ()


DEFAULT_THEME = RenderTheme()


def _make_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Rich's own configuration, minus raw HTML (Rich drops it, hiding model text) and reference
    # definitions (they link blocks to each other, so a block would no longer render on its own).
    parser = MarkdownIt().enable("strikethrough").enable("table")
    parser.disable(["html_block", "html_inline", "reference"])
    parser.options["html"] = False
    return parser


_parser: MarkdownIt | None = None
_parser_lock = threading.Lock()


def _get_parser() -> MarkdownIt:
    """The shared parser, built on first use."""
    global _parser
    if _parser is None:
        with _parser_lock:
            if _parser is None:
                _parser = _make_parser()
    return _parser


def __getattr__(name: str) -> Any:
    # `_PARSER` and `_NEW_LINE_TOKEN` stay readable as module attributes, built on first access.
    if name == "_PARSER":
        return _get_parser()
    if name == "_NEW_LINE_TOKEN":
        return _new_line_token()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_consoles: dict[RenderTheme, Console] = {}


def _console(theme: RenderTheme) -> Console:
    console = _consoles.get(theme)
    if console is None:
        console = Console(
            file=io.StringIO(),
            width=80,
            color_system="truecolor",
            force_terminal=True,
            markup=False,
            emoji=False,
            highlight=False,
            legacy_windows=False,
            theme=Theme(dict(theme.styles)) if theme.styles else None,
            _environ={},
        )
        _consoles[theme] = console
    return console


# A token Rich does not know renders as nothing but leaves Rich's "blank line before the next block" flag
# set, which replays the state left by the previous block.
_new_line: list[Token] = []


def _new_line_token() -> Token:
    if not _new_line:
        from markdown_it.token import Token

        _new_line.append(Token("botticelli_new_line", "", 0))
    return _new_line[0]


@dataclass(eq=False)
class Block:
    """One top-level Markdown block: its source, and Rich's blank-line flag before and after it."""

    source: str
    new_line_before: bool
    """Whether Rich puts a blank line before this block (set by the previous block)."""
    new_line_after: bool
    """The flag this block leaves for the next one."""
    tokens: list[Token] | None = field(default=None, repr=False)
    """Parsed tokens kept for the first render only (a block re-parses its source after that)."""
    continues: bool = False
    """More items of the bullet list the previous block ended with, or more lines of the code block the
    previous block showed the start of: rendered without the leading blank line."""
    open_end: bool = False
    """A piece of a code block that more pieces follow: rendered without its closing padding line."""
    _measured: tuple[int, RenderTheme, int] | None = field(default=None, repr=False)

    def render_lines(self, width: int, theme: RenderTheme = DEFAULT_THEME, *, plain_code: bool = False) -> list[Line]:
        """The block's Lines, padded to `width`. The caller caches them; the height is remembered here.

        `plain_code` skips syntax highlighting (same layout and background): for a code block still being
        streamed, which is rendered again on every frame until its closing fence arrives.
        """
        tokens = self.tokens if self.tokens is not None else _get_parser().parse(self.source)
        self.tokens = None
        if plain_code:
            tokens = [token.copy(info="") if token.type == "fence" else token for token in tokens]
        lines = _render_tokens(tokens, self.new_line_before, width, theme)
        if self.continues and lines and not "".join(text for text, _ in lines[0]).strip():
            lines = lines[1:]
        if self.open_end and lines:
            lines = lines[:-1]
        self._measured = (width, theme, len(lines))
        return lines

    @property
    def is_open_fence(self) -> bool:
        """True for a fenced code block whose closing fence has not arrived (yet)."""
        rows = self.source.rstrip("\n").split("\n")
        first = rows[0].lstrip(" ")
        if not first.startswith(("```", "~~~")):
            return False
        fence = first[: len(first) - len(first.lstrip(first[0]))]
        last = rows[-1].strip()
        return len(rows) < 2 or not (last.startswith(fence) and last.strip(fence[0]) == "")

    def render(self, width: int, theme: RenderTheme = DEFAULT_THEME, *, plain_code: bool = False) -> list[Strip]:
        """The block's lines as Strips."""
        return [to_strip(line, width) for line in self.render_lines(width, theme, plain_code=plain_code)]

    def remember(self, width: int, theme: RenderTheme, height: int) -> None:
        """Record the height of lines rendered elsewhere for this block's source."""
        self._measured = (width, theme, height)

    def known_height(self, width: int, theme: RenderTheme = DEFAULT_THEME) -> int | None:
        """The height from the last render, if it was at this width and theme."""
        measured = self._measured
        if measured is not None and measured[0] == width and measured[1] == theme:
            return measured[2]
        return None

    def estimate(self, width: int) -> int:
        """A cheap guess of the rendered height."""
        return estimate_height(self.source, width) + self.new_line_before - self.continues - self.open_end


_templates: dict[RenderTheme, Markdown] = {}


def _render_tokens(tokens: list[Token], new_line_before: bool, width: int, theme: RenderTheme) -> list[Line]:
    _wait_for_warm_up()
    template = _templates.get(theme)
    if template is None:
        from rich.markdown import Markdown

        template = _templates[theme] = Markdown("", code_theme=theme.code_theme, hyperlinks=False)
    # A copy skips Markdown.__init__, which builds a new MarkdownIt parser every time (about 1 ms).
    markdown = copy.copy(template)
    markdown.parsed = [_new_line_token(), *tokens] if new_line_before else tokens
    console = _console(theme)
    lines = console.render_lines(markdown, console.options.update_width(max(1, width)), pad=True)
    return [pack(line) for line in lines]


_elements: list[Any] = []


def _new_line_after(token: Token) -> bool:
    if not _elements:
        from rich.markdown import Markdown, UnknownElement

        _elements.extend((Markdown.elements, UnknownElement))
    elements, unknown = _elements
    return elements.get(token.type, unknown).new_line


def _split_tokens(tokens: list[Token]) -> list[tuple[list[Token], int, int]]:
    """Group tokens into top-level blocks: (tokens, first source line, end source line)."""
    blocks: list[tuple[list[Token], int, int]] = []
    start = 0
    count = len(tokens)
    while start < count:
        token = tokens[start]
        end = start + 1
        if token.nesting == 1:
            depth = 1
            while end < count and depth:
                depth += tokens[end].nesting
                end += 1
        line_map = token.map or (0, 0)
        blocks.append((tokens[start:end], line_map[0], line_map[1]))
        start = end
    return blocks


def _line_offsets(text: str, lines: list[int]) -> dict[int, int]:
    """Character offsets of the given line numbers (sorted) in `text`."""
    offsets: dict[int, int] = {}
    line = 0
    pos = 0
    for wanted in lines:
        while line < wanted:
            pos = text.index("\n", pos) + 1
            line += 1
        offsets[wanted] = pos
    return offsets


def _make_blocks(
    text: str,
    new_line_before: bool,
    groups: list[tuple[list[Token], int, int]] | None = None,
    keep_tokens: bool = True,
    continues: bool = False,
) -> list[Block]:
    """Split `text` into blocks; `new_line_before` is the flag left by whatever precedes `text`, `continues`
    says `text` starts with more items of a bullet list split off before it."""
    if groups is None:
        groups = _split_tokens(_get_parser().parse(text))
    if not groups:
        return []
    wanted = sorted({n for _, a, b in groups for n in (a, b)})
    offsets = _line_offsets(text + "\n", wanted)
    blocks: list[Block] = []
    flag = new_line_before
    for tokens, first, end in groups:
        source = text[offsets[first] : offsets[end]]
        after = _new_line_after(tokens[0])
        blocks.append(Block(source, flag, after, tokens if keep_tokens else None, continues and not blocks))
        flag = after
    return blocks


def split_blocks(text: str, *, keep_tokens: bool = False) -> list[Block]:
    """Split Markdown into top-level blocks (`keep_tokens` saves a parse when all are rendered at once)."""
    return _make_blocks(sanitize(text), False, keep_tokens=keep_tokens)


def render_markdown(text: str, width: int, theme: RenderTheme = DEFAULT_THEME) -> list[Strip]:
    """Render a whole Markdown text at `width`: the reference the streaming path must match."""
    strips: list[Strip] = []
    for block in split_blocks(text, keep_tokens=True):
        strips.extend(block.render(width, theme))
    return strips


def estimate_height(text: str, width: int) -> int:
    """Guess the number of lines `text` takes when wrapped at `width` (no rendering)."""
    width = max(1, width)
    return sum((len(line) - 1) // width + 1 if line else 1 for line in text.split("\n"))


def render_text_lines(text: str | Text, width: int, style: Style | None = None) -> list[Line]:
    """Render plain text literally (never as markup), word-wrapped at `width`, as Lines."""
    console = _console(DEFAULT_THEME)
    if isinstance(text, Text):
        content = text.copy()
        content.plain = sanitize(content.plain)
        content.end = ""
    else:
        content = Text(sanitize(text), style=style or "", end="")
    width = max(1, width)
    if "\n" not in content.plain and "\t" not in content.plain:
        length = content.cell_len
        if length <= width:
            segments = list(content.render(console))
            if content.style:
                # Text.render leaves out the base style (Rich applies it while wrapping).
                segments = list(Segment.apply_style(segments, console.get_style(content.style)))
            if length < width:
                segments.append(Segment(" " * (width - length)))
            return [pack(segments)]
    lines = console.render_lines(content, console.options.update_width(width), pad=True)
    return [pack(line) for line in lines]


def render_text(text: str | Text, width: int, style: Style | None = None) -> list[Strip]:
    """Render plain text literally (never as markup), word-wrapped at `width`."""
    return [to_strip(line, width) for line in render_text_lines(text, width, style)]


_warm_up: threading.Thread | None = None


def warm_up() -> None:
    """Load Pygments lexers and compile their rules in a background thread (the first highlighted code
    block otherwise costs tens of milliseconds on the event loop). Runs once per process; a render that
    starts before it is done waits for it, so lexers are never initialised by two threads at once."""
    global _warm_up
    if _warm_up is not None:
        return

    def run() -> None:
        from rich.markdown import Markdown

        console = Console(file=io.StringIO(), width=40, force_terminal=True, color_system="truecolor")
        langs = ("python", "bash", "json", "js", "ts", "rust", "go", "sql", "text")
        console.render_lines(Markdown("".join(f"```{lang}\nx = 1\n```\n\n" for lang in langs)), console.options)

    _warm_up = threading.Thread(target=run, name="botticelli-warm-up", daemon=True)
    _warm_up.start()


def _wait_for_warm_up() -> None:
    if _warm_up is not None and _warm_up.is_alive():
        _warm_up.join(1.0)


def last_code_block(text: str) -> str | None:
    """The content of the last fenced code block in a Markdown text, or None."""
    found = None
    for token in _get_parser().parse(text):
        if token.type == "fence":
            found = token.content
    return found


FENCE_CHUNK = 32
"""Lines per piece of a code block still streaming (its finished pieces are not rendered again)."""
LIST_CHUNK = 16
"""Complete items an open bullet list gathers before they are split off as a final block."""


def _list_split(group: tuple[list[Token], int, int]) -> int | None:
    """The line where the last item of an open bullet list starts, once enough items came before it."""
    tokens = group[0]
    if tokens[0].type != "bullet_list_open":
        return None
    starts = [t.map[0] for t in tokens if t.type == "list_item_open" and t.level == 1 and t.map]
    if len(starts) <= LIST_CHUNK:
        return None
    return starts[-1]


def _fence_pieces(blocks: list[Block]) -> list[Block]:
    """`blocks` with a long open code block at the end cut into pieces of FENCE_CHUNK lines.

    Each piece is a code block of its own, rendered without the padding line where it meets the next one,
    so the pieces show exactly the lines of the whole (unhighlighted) block, and a finished piece keeps its
    source from frame to frame (its render is reused). A cut is only made between two lines that are not
    blank (Rich strips blank lines at the ends of a code block).
    """
    if not blocks or not blocks[-1].is_open_fence:
        return blocks
    block = blocks[-1]
    rows = block.source.split("\n")
    head = rows[0]
    fence = head[: len(head) - len(head.lstrip(head[:1]))]
    if len(rows) <= FENCE_CHUNK + 1 or not fence or head[0] not in "`~":
        return blocks
    body = rows[1:]
    pieces: list[Block] = []
    start = 0
    while len(body) - start > FENCE_CHUNK:
        end = start + FENCE_CHUNK
        while end > start and not (body[end - 1].strip() and body[end].strip()):
            end -= 1
        if end == start:
            break
        source = "\n".join([fence, *body[start:end], fence]) + "\n"
        first = not pieces
        pieces.append(Block(source, block.new_line_before if first else False, False, None, not first, True))
        start = end
    if not pieces:
        return blocks
    rest = Block("\n".join([fence, *body[start:]]), False, block.new_line_after, None, True)
    return [*blocks[:-1], *pieces, rest]


class IncrementalMarkdown:
    """A growing Markdown text split into final blocks and a tail that may still change.

    Only complete lines decide which blocks are final: in a parse of the text up to its last newline,
    every block but the last is final (a later line can change only the block it continues, and an
    unfinished line could still turn into anything, e.g. `2` into `2. item` continuing a list).
    """

    def __init__(self) -> None:
        self.text = ""
        self.blocks: list[Block] = []
        """Final blocks, in order."""
        self._stable = 0
        self._scanned = 0
        self._continues = False
        self._tail: tuple[int, list[Block]] | None = None

    @property
    def stable_offset(self) -> int:
        """Character offset where the tail (the part that may still change) starts."""
        return self._stable

    def _flag(self) -> bool:
        return self.blocks[-1].new_line_after if self.blocks else False

    def append(self, text: str) -> None:
        """Add text (already sanitized)."""
        self.text += text

    def update(self) -> list[Block]:
        """Move blocks that can no longer change to `blocks`; returns the new final blocks."""
        complete = self.text.rfind("\n") + 1
        if complete <= self._scanned:
            return []
        self._scanned = complete
        segment = self.text[self._stable : complete]
        groups = _split_tokens(_get_parser().parse(segment))
        new: list[Block] = []
        cut: int | None = None
        if len(groups) >= 2:
            new = _make_blocks(segment, self._flag(), groups[:-1], keep_tokens=False, continues=self._continues)
            cut = groups[-1][1]
            groups = groups[-1:]
        split = _list_split(groups[-1]) if groups else None
        if split is not None:
            # A long bullet list stays open while items arrive: its complete items become a final block of
            # their own, so the tail (rendered every frame) is only the last items. Rich renders each bullet
            # item on its own, and no blank line is put between the two halves (new_line_after False).
            first = groups[-1][1]
            offsets = _line_offsets(segment + "\n", sorted({first, split}))
            flag = new[-1].new_line_after if new else self._flag()
            new.append(Block(segment[offsets[first] : offsets[split]], flag, False, None, self._continues and not new))
            cut = split
        if cut is not None:
            self.blocks.extend(new)
            self._stable += _line_offsets(segment, [cut])[cut]
            self._continues = split is not None
        if split is None and complete == len(self.text):
            # No unfinished line: this parse is also the tail's.
            self._tail = (complete, _fence_pieces(_make_blocks(segment, self._flag(), groups,
                                                               continues=self._continues)))
        return new

    def tail(self) -> list[Block]:
        """The blocks after the final ones (parsed again when the text has changed)."""
        cached = self._tail
        if cached is not None and cached[0] == len(self.text):
            return cached[1]
        blocks = _fence_pieces(_make_blocks(self.text[self._stable :], self._flag(), continues=self._continues))
        self._tail = (len(self.text), blocks)
        return blocks

    def close(self) -> list[Block]:
        """The text is complete: every block is final. Returns the new final blocks."""
        new = _make_blocks(self.text[self._stable :], self._flag(), keep_tokens=False, continues=self._continues)
        self.blocks.extend(new)
        self._stable = self._scanned = len(self.text)
        return new
