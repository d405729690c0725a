"""Terminal-safe text, key masks and log redaction."""

from __future__ import annotations

import io
import logging
import random

import pytest

from botticelli.safety import EscapeStripper, RedactingFilter, install_redaction, mask_key, strip_escapes

HOSTILE = [
    ("\x1b]52;c;aGVsbG8=\x07after", "after"),
    ("\x1b]52;c;aGVsbG8=\x1b\\after", "after"),
    ("see \x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\ here", "see click here"),
    ("\x1b[2Jclean", "clean"),
    ("\x1b[1;1Hhome", "home"),
    ("\x9b31mred\x9b0m", "red"),
    ("\x9d0;title\x9cbody", "body"),
    ("\x1bPq#0;2;0;0;0\x1b\\ok", "ok"),
    ("\x1b_apc body\x1b\\ok", "ok"),
    ("\x1b^pm\x1b\\ok", "ok"),
    ("\x1bXsos\x1b\\ok", "ok"),
    ("\x1b]0;window title\x07text", "text"),
    ("\x1b(Bascii", "ascii"),
    ("\x1b7saved\x1b8", "saved"),
    ("ding\x07", "ding"),
    ("Total: $100\rTotal: $999", "Total: $100Total: $999"),
    ("a\x08b\x0bc\x0cd\x00e\x7ff", "abcdef"),
    ("c1 \x85 \x8d gone", "c1   gone"),
    ("keep\nnew\tlines", "keep\nnew\tlines"),
]

MARKUP = [
    "[INST] hi [/INST]",
    "use [/] here",
    "x [/",
    "array[i] = [1, 2]",
    "[bold]x[/bold]",
    "[type=x, v={'a[0]'}]",
    "日本語のテキスト 🎨 émoji ✓",
]


@pytest.mark.parametrize(("raw", "shown"), HOSTILE)
def test_strip_escapes_removes_control_sequences(raw: str, shown: str) -> None:
    assert strip_escapes(raw) == shown


@pytest.mark.parametrize("text", MARKUP)
def test_printable_text_and_brackets_pass_unchanged(text: str) -> None:
    assert strip_escapes(text) == text


def test_nothing_dangerous_survives_the_whole_corpus() -> None:
    cleaned = strip_escapes("".join(raw for raw, _ in HOSTILE))
    assert not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in cleaned)


def test_unterminated_sequence_does_not_swallow_a_long_answer() -> None:
    answer = "word " * 2000
    shown = strip_escapes("\x1b]52;c;" + answer)
    assert len(shown) > len(answer) - 4200
    assert shown.endswith("word word ")


def _random_splits(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(1, 12))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def test_streaming_matches_whole_text_for_any_split() -> None:
    rng = random.Random(20260805)
    corpus = "".join(raw for raw, _ in HOSTILE) + "".join(MARKUP) + "\x1b]8;;" + "x" * 5000 + "tail"
    pieces = [raw for raw, _ in HOSTILE] + MARKUP
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(2, 8)))
        stripper = EscapeStripper()
        streamed = "".join(stripper.feed(c) for c in _random_splits(text, rng)) + stripper.flush()
        assert streamed == strip_escapes(text)
    for _ in range(20):
        stripper = EscapeStripper()
        streamed = "".join(stripper.feed(c) for c in _random_splits(corpus, rng)) + stripper.flush()
        assert streamed == strip_escapes(corpus)


def test_streaming_char_by_char_shows_text_without_holding_it_back() -> None:
    stripper = EscapeStripper()
    shown = [stripper.feed(c) for c in "ab\x1b[31mcd"]
    assert shown == ["a", "b", "", "", "", "", "", "c", "d"]


def test_flush_forgets_an_unfinished_sequence() -> None:
    stripper = EscapeStripper()
    assert stripper.feed("one\x1b]52;c;") == "one"
    assert stripper.flush() == ""
    assert stripper.feed("two") == "two"


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("gsk_" + "A" * 48 + "wxyz", "gsk_…wxyz"),
        ("hf_" + "b" * 30 + "1234", "hf_…1234"),
        ("sk-proj-" + "c" * 40 + "9876", "sk-proj-…9876"),
        ("zzzz" * 8, "…zzzz"),
        ("short", "…"),
        ("", "…"),
    ],
)
def test_mask_key_keeps_only_a_known_prefix_and_the_last_four(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def _capture() -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    return root, stream, handler


def _remove_filters(*targets: logging.Filterer) -> None:
    for target in targets:
        for f in list(target.filters):
            if isinstance(f, RedactingFilter):
                target.removeFilter(f)


def test_a_key_logged_by_httpx_never_reaches_the_output() -> None:
    key = "gsk_" + "S3cr3t" * 8
    root, stream, handler = _capture()
    loggers = [logging.getLogger(n) for n in ("httpx", "httpcore", "botticelli")]
    try:
        install_redaction([key])
        logging.getLogger("httpx").warning("Authorization: Bearer %s", key)
        logging.getLogger("httpcore.http11").warning("headers=%r", [(b"authorization", f"Bearer {key}".encode())])
        logging.getLogger("botticelli.client").warning("key is %s", key)
        logging.getLogger("other").warning("api-key: %s", "plain-secret-value-123")
    finally:
        root.removeHandler(handler)
        _remove_filters(handler, *loggers, *root.handlers)
    output = stream.getvalue()
    assert key not in output
    assert "S3cr3t" not in output
    assert "plain-secret-value-123" not in output
    assert "gsk_…" in output


def test_install_redaction_is_idempotent_and_accepts_more_secrets() -> None:
    first, second = "first-secret-" + "x" * 20, "second-secret-" + "y" * 20
    root, stream, handler = _capture()
    loggers = [logging.getLogger(n) for n in ("httpx", "httpcore", "botticelli")]
    try:
        install_redaction([first])
        install_redaction([second])
        install_redaction([second])
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logging.getLogger("botticelli").warning("%s and %s", first, second)
    finally:
        root.removeHandler(handler)
        _remove_filters(handler, *loggers, *root.handlers)
    output = stream.getvalue()
    assert first not in output and second not in output


def test_tracebacks_are_redacted_too() -> None:
    key = "hf_" + "T0ken" * 8
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([key]))
    logger = logging.getLogger("botticelli.test_tracebacks")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"bad key {key}")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    assert "request failed" in stream.getvalue()
    assert key not in stream.getvalue()
