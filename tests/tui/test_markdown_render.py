"""Markdown → lines: block-wise rendering equals Rich's whole-document rendering, streaming equals fresh."""

from __future__ import annotations

import random

import pytest
from rich.markdown import Markdown

from botticelli.tui import markdown_render as mr

WIDTH = 60

TABLE_LATE = "Intro line.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.\n"
FENCE = "Before.\n\n```python\ndef f(x):\n\n    return x[0]\n```\n\nAfter the fence.\n"
OPEN_FENCE = "Text\n\n```\nnever closed\n\n# not a heading\n"
NESTED = "- one\n  - one.a\n    1. deep\n  - one.b\n- two\n\n  continued\n\n3. three\n4. four\n"
LIST_CONTINUES = "1. a\n\n2. b\n\n10. c\n\nend\n"
SETEXT = "Title\n-----\n\npara\n===\n\n---\n\nlast\n"
CJK = "漢字とかなの混在した文章です。" * 8 + "\n\n| 名前 | 値 |\n|---|---|\n| 絵文字 🎉🚀 | 👍🏽 |\n"
LONG = "word" * 200 + "\n\n" + " ".join(["long"] * 300) + "\n"
MIXED = (
    "# Heading\n\nSome *emph* and **strong** and `code[i]`, a [link](http://x.y/z).\n\n"
    "> quote\nlazy continuation\n\n    indented code\n\n***\n\n"
    "| x | y |\n|:-|-:|\n| 1 | 2 |\n| 3 | 4 |\n\n"
    "- [ ] task\n- item with `[/]` and [INST] hi [/INST]\n\n~~strike~~ done\n"
)
LITERAL = "[INST] hi [/INST] [/] x [/ array[i] [bold]x[/bold] <div>html</div> [a]: /url\n\n[a]: /url\n"
CASES = {
    "table_late": TABLE_LATE,
    "fence": FENCE,
    "open_fence": OPEN_FENCE,
    "nested": NESTED,
    "list_continues": LIST_CONTINUES,
    "setext": SETEXT,
    "cjk": CJK,
    "long": LONG,
    "mixed": MIXED,
    "literal": LITERAL,
}


def texts(strips: list[mr.Strip]) -> list[str]:
    return [strip.text.rstrip() for strip in strips]


def stream(text: str, sizes: list[int], check_every_step: bool = False) -> mr.IncrementalMarkdown:
    """Feed `text` in chunks of the given sizes (cycled); optionally check the view at every step."""
    inc = mr.IncrementalMarkdown()
    pos = 0
    step = 0
    while pos < len(text):
        size = sizes[step % len(sizes)]
        inc.append(text[pos : pos + size])
        pos += size
        step += 1
        inc.update()
        tail = inc.tail()
        if check_every_step:
            shown = [s for b in [*inc.blocks, *tail] for s in b.render(WIDTH)]
            assert shown == mr.render_markdown(inc.text, WIDTH), (step, inc.text)
    inc.close()
    return inc


@pytest.mark.parametrize("name", sorted(CASES))
def test_block_wise_render_equals_rich(name: str) -> None:
    text = CASES[name]
    console = mr._console(mr.DEFAULT_THEME)
    markdown = Markdown("", hyperlinks=False)
    markdown.parsed = mr._PARSER.parse(text)
    whole = console.render_lines(markdown, console.options.update_width(WIDTH), pad=True)
    assert mr.render_markdown(text, WIDTH) == [mr.Strip(list(mr.Segment.simplify(line)), WIDTH) for line in whole]


@pytest.mark.parametrize("name", sorted(CASES))
def test_char_by_char_matches_fresh_render_at_every_step(name: str) -> None:
    text = CASES[name]
    inc = stream(text, [1], check_every_step=len(text) < 600)
    assert inc.text == text
    assert [b.source for b in inc.blocks] == [b.source for b in mr.split_blocks(text)]
    final = [s for b in inc.blocks for s in b.render(WIDTH)]
    assert final == mr.render_markdown(text, WIDTH)


def test_random_chunks_many_documents() -> None:
    rnd = random.Random(3)
    pieces = list(CASES.values())
    for _ in range(25):
        text = "\n".join(rnd.sample(pieces, 4))
        sizes = [rnd.randint(1, 12) for _ in range(7)]
        inc = stream(text, sizes)
        final = [s for b in inc.blocks for s in b.render(WIDTH)]
        assert final == mr.render_markdown(text, WIDTH)


def test_table_appears_when_separator_arrives() -> None:
    inc = mr.IncrementalMarkdown()
    inc.append("Intro.\n\n| a | b |\n")
    inc.update()
    assert [b.source for b in inc.blocks] == ["Intro.\n"]
    assert "| a | b |" in texts([s for b in inc.tail() for s in b.render(WIDTH)])
    inc.append("|---|---|\n| 1 | 2 |\n")
    inc.update()
    shown = texts([s for b in inc.tail() for s in b.render(WIDTH)])
    assert "| a | b |" not in shown and any("─" in line for line in shown)


def test_open_fence_swallows_until_closed() -> None:
    inc = mr.IncrementalMarkdown()
    inc.append("```\ncode\n\n# still code\n\n")
    inc.update()
    assert inc.blocks == []
    inc.append("```\n\n# Heading\n\nafter\n")
    inc.update()
    assert [b.source.splitlines()[0] for b in inc.blocks] == ["```", "# Heading"]


def test_list_is_not_final_before_next_line_completes() -> None:
    inc = mr.IncrementalMarkdown()
    inc.append("1. a\n\n2")
    inc.update()
    assert inc.blocks == []
    inc.append(". b\n\nend\n")
    inc.update()
    assert len(inc.blocks) == 1 and inc.blocks[0].source.strip() == "1. a\n\n2. b"


def test_wide_characters_fit_the_width() -> None:
    for strip in mr.render_markdown(CJK, WIDTH):
        assert strip.cell_length == WIDTH


def test_markup_is_literal() -> None:
    shown = "\n".join(texts(mr.render_markdown(LITERAL, WIDTH)))
    for payload in ("[INST] hi [/INST]", "[/]", "x [/", "array[i]", "[bold]x[/bold]", "<div>html</div>"):
        assert payload in shown
    assert "[a]: /url" in shown
    plain = "\n".join(texts(mr.render_text("[bold]x[/bold] [/] [INST]", WIDTH)))
    assert "[bold]x[/bold] [/] [INST]" in plain


def test_control_characters_never_reach_the_output() -> None:
    payload = "a\x1b[31mred\x1b]0;title\x07 b\x08\x9b c\r\n\n```\n\x1b[2Jx\n```\n"
    for strips in (mr.render_markdown(payload, WIDTH), mr.render_text(payload, WIDTH)):
        for strip in strips:
            for segment in strip:
                assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in segment.text)


def test_last_code_block() -> None:
    assert mr.last_code_block(FENCE + "\n```sh\nls -la\n```\n") == "ls -la\n"
    assert mr.last_code_block("no code") is None


def test_heights_are_remembered_per_width() -> None:
    block = mr.split_blocks(LONG)[0]
    assert block.known_height(WIDTH) is None
    lines = block.render(WIDTH)
    assert block.known_height(WIDTH) == len(lines)
    assert block.known_height(WIDTH + 1) is None
    assert len(block.render(WIDTH * 2)) < len(lines)


def test_open_fence_detection_and_plain_code() -> None:
    def block(text: str) -> mr.Block:
        return mr.split_blocks(text)[0]

    assert block("```py\nx = 1\n").is_open_fence
    assert block("```py\nx = 1\n``").is_open_fence
    assert block("````\nx\n```\n").is_open_fence
    assert not block("```py\nx = 1\n```\n").is_open_fence
    assert not block("~~~\nx\n~~~~").is_open_fence
    assert not block("para\n").is_open_fence
    code = block("```python\ndef f(x):\n    return x\n```\n")
    plain, highlighted = code.render(WIDTH, plain_code=True), code.render(WIDTH)
    assert [s.text for s in plain] == [s.text for s in highlighted]
    assert plain != highlighted


def test_long_bullet_list_streams_in_bounded_pieces() -> None:
    """A long open list does not keep the whole list in the tail: complete items become final blocks,
    and the pieces render exactly as Rich renders the whole list (no blank line between pieces)."""
    items = "".join(f"- item {n} with `code` and **bold** words that wrap at sixty columns or so\n"
                    for n in range(100))
    text = "Intro.\n\n" + items + "  continued last item\n\n- loose item\n\nAfter.\n"
    inc = stream(text, [5])
    assert len(inc.blocks) > 5
    assert max(len(b.source.splitlines()) for b in inc.blocks) <= mr.LIST_CHUNK + 2
    final = [s for b in inc.blocks for s in b.render(WIDTH)]
    assert final == mr.render_markdown(text, WIDTH)


def test_long_list_tail_stays_short_while_streaming() -> None:
    inc = mr.IncrementalMarkdown()
    for n in range(200):
        inc.append(f"- item {n}\n")
        inc.update()
        tail = inc.tail()
        assert sum(len(b.source.splitlines()) for b in tail) <= mr.LIST_CHUNK + 1
        shown = [s for b in [*inc.blocks, *tail] for s in b.render(WIDTH)]
        if n % 37 == 0:
            assert shown == mr.render_markdown(inc.text, WIDTH)


def test_list_splitting_matches_rich_at_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mr, "LIST_CHUNK", 2)
    rnd = random.Random(11)
    pieces = [NESTED, "- a\n- b\n- c\n- d\n- e\n", "- x\n\n- y\n\n- z\n\n- w\n", "* s\n* t\n* u\n- v\n", "para\n"]
    for _ in range(6):
        text = "\n".join(rnd.choice(pieces) for _ in range(4))
        inc = stream(text, [rnd.randint(1, 6)], check_every_step=True)
        assert [s for b in inc.blocks for s in b.render(WIDTH)] == mr.render_markdown(text, WIDTH)


def test_long_open_code_block_is_shown_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """While a long code block streams, finished pieces keep their source (rendered once); the pieces
    together show exactly the lines of the whole block."""
    monkeypatch.setattr(mr, "FENCE_CHUNK", 4)
    lines = [f"x_{n} = {n} * 2  # a comment long enough to wrap at sixty columns, twice over" if n % 5 else ""
             for n in range(30)]
    text = "Before.\n\n```\n" + "\n".join(lines) + "\n```\n\nAfter.\n"
    inc = stream(text, [7], check_every_step=True)
    assert [s for b in inc.blocks for s in b.render(WIDTH)] == mr.render_markdown(text, WIDTH)
    inc = mr.IncrementalMarkdown()
    inc.append(text[: text.index("x_29")])
    inc.update()
    tail = inc.tail()
    assert len(tail) > 3
    inc.append("x")
    inc.update()
    assert [b.source for b in inc.tail()[:-1]] == [b.source for b in tail[:-1]]
