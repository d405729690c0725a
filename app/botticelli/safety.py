"""Terminal-safe text and secret hygiene.

Model, tool and server text can carry terminal control sequences (screen clears, OSC 52 clipboard writes,
OSC 8 links, window titles). `strip_escapes` and its streaming twin `EscapeStripper` remove them before any
renderer sees the text; brackets and all printable text pass through untouched (markup safety is the
renderer's job: never put model text into a markup string). `mask_key` and `RedactingFilter` keep API keys
out of the screen and the logs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

MAX_SEQUENCE_CHARS = 4096
"""An escape sequence longer than this is abandoned: its first part is dropped and what follows is text."""

_TEXT_STOP = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STRING_STOP = re.compile(r"[\x07\x18\x1a\x1b\x9c]")

_ESC = "\x1b"
_C1_STRING_STARTS = frozenset("\x90\x98\x9d\x9e\x9f")  # DCS, SOS, OSC, PM, APC
_ESC_STRING_STARTS = frozenset("]PX^_")  # OSC, DCS, SOS, PM, APC
_CSI_8BIT = "\x9b"
_ST_8BIT = "\x9c"
_ABORTS = frozenset("\x18\x1a")  # CAN and SUB cancel a sequence in progress

_TEXT, _ESCAPE, _ESC_INTER, _CSI, _STRING, _STRING_ESC = range(6)


def _is_intermediate(c: str) -> bool:
    return "\x20" <= c <= "\x2f"


def _is_csi_param(c: str) -> bool:
    return "\x30" <= c <= "\x3f"


def _is_final(c: str) -> bool:
    return "\x40" <= c <= "\x7e"


class EscapeStripper:
    """Strips control sequences from text that arrives in pieces (a stream of deltas).

    A sequence may be split across chunks; the stripper remembers where it is, so for any split,
    `"".join(feed(c) for c in chunks) + flush() == strip_escapes(whole)`. Nothing visible is ever held back:
    the body of a sequence is dropped as it arrives, and a sequence still open after `max_sequence` characters
    is abandoned so that a stray ESC cannot swallow the rest of an answer.
    """

    def __init__(self, max_sequence: int = MAX_SEQUENCE_CHARS) -> None:
        if max_sequence < 1:
            raise ValueError("max_sequence must be at least 1")
        self._max = max_sequence
        self._state = _TEXT
        self._count = 0

    def feed(self, chunk: str) -> str:
        """Return the part of `chunk` that is safe to show."""
        if self._state == _TEXT and _TEXT_STOP.search(chunk) is None:
            return chunk
        out: list[str] = []
        i, n = 0, len(chunk)
        while i < n:
            state = self._state
            if state == _TEXT:
                match = _TEXT_STOP.search(chunk, i)
                if match is None:
                    out.append(chunk[i:])
                    break
                j = match.start()
                if j > i:
                    out.append(chunk[i:j])
                self._enter_from_text(chunk[j])
                i = j + 1
            elif state == _STRING:
                i = self._skip_string_body(chunk, i)
            elif self._step(chunk[i]):
                i += 1
        return "".join(out)

    def flush(self) -> str:
        """End of stream: drop any unfinished sequence and start afresh."""
        self._reset()
        return ""

    def _reset(self) -> None:
        self._state = _TEXT
        self._count = 0

    def _begin(self, state: int) -> None:
        self._state = state
        self._count = 0

    def _enter_from_text(self, c: str) -> None:
        """A control character in text: it is dropped; some start a sequence."""
        if c == _ESC:
            self._begin(_ESCAPE)
        elif c == _CSI_8BIT:
            self._begin(_CSI)
        elif c in _C1_STRING_STARTS:
            self._begin(_STRING)

    def _skip_string_body(self, chunk: str, i: int) -> int:
        """Drop OSC/DCS/APC/PM/SOS body text up to its terminator; return the next index to read."""
        match = _STRING_STOP.search(chunk, i)
        end = match.start() if match else len(chunk)
        budget = self._max - self._count
        if end - i >= budget:
            self._reset()
            return i + budget
        self._count += end - i
        if match is None:
            return end
        c = chunk[end]
        if c == _ESC:
            self._state = _STRING_ESC
        else:  # BEL, 8-bit ST, CAN or SUB: the sequence is over
            self._reset()
        return end + 1

    def _step(self, c: str) -> bool:
        """Advance one character inside an escape, CSI or string-ESC state.

        Returns False when `c` does not belong to the sequence: the sequence is abandoned and `c` must be
        read again as text.
        """
        state = self._state
        if state == _STRING_ESC:
            if c == "\\":
                self._reset()
                return True
            self._begin(_ESCAPE)
            state = _ESCAPE
        if c in _ABORTS:
            self._reset()
            return True
        if state == _ESCAPE:
            if c == "[":
                self._begin(_CSI)
            elif c in _ESC_STRING_STARTS:
                self._begin(_STRING)
            elif _is_intermediate(c):
                self._begin(_ESC_INTER)
            elif "\x30" <= c <= "\x7e":
                self._reset()
            elif c == _ESC:
                self._begin(_ESCAPE)
            else:
                self._reset()
                return False
            return True
        if state == _ESC_INTER and "\x30" <= c <= "\x7e":
            self._reset()
            return True
        if state == _CSI and _is_final(c):
            self._reset()
            return True
        if _is_intermediate(c) or (state == _CSI and _is_csi_param(c)):
            self._count += 1
            if self._count >= self._max:
                self._reset()
            return True
        if c == _ESC:
            self._begin(_ESCAPE)
            return True
        self._reset()
        return False


def strip_escapes(text: str) -> str:
    """Remove terminal control sequences and control characters, keeping `\\n`, `\\t` and all printable text."""
    if _TEXT_STOP.search(text) is None:
        return text
    stripper = EscapeStripper()
    return stripper.feed(text) + stripper.flush()


KEY_PREFIXES = ("sk-proj-", "sk-or-v1-", "sk-ant-", "sk-", "gsk_", "hf_", "xai-", "nvapi-", "csk-", "r8_")
"""How well-known providers' keys begin; kept visible by `mask_key`."""
_MIN_MASKABLE = 16


def drop_controls(text: str) -> str:
    """Drop every control character but newline and tab (C0, DEL, C1), without parsing sequences.

    For text that was already stripped of escape sequences, as a last line of defence before a renderer.
    """
    return _TEXT_STOP.sub("", text)


def secret_forms(secret: str) -> set[str]:
    """`secret` as it may appear in text: itself, and escaped as repr() and JSON (ASCII-only or not) write it.

    A key with a line break or a non-ASCII character shows up as `gsk_…\\nx` or `gsk_…\\u00e9` in a repr or
    a JSON document; each of those spellings is masked too.
    """
    return {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}


def mask_key(key: str | None) -> str:
    """`gsk_…abcd`: a known prefix and the last four characters; short or unknown-length keys give `…`."""
    if not key or len(key) < _MIN_MASKABLE:
        return "…"
    prefix = next((p for p in KEY_PREFIXES if key.startswith(p)), "")
    return f"{prefix}…{key[-4:]}"


_MIN_SECRET = 8
_HEADER_VALUE_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=:-]+)"),
    re.compile(r"""(?i)((?:x-)?api[-_]?key['"]?\s*[:=,]\s*(?:b?['"])?)([^\s'",;}\])]+)"""),
)


class RedactingFilter(logging.Filter):
    """Replaces known secrets, bearer tokens and `api-key` values in log records with masks.

    The record's message is formatted once (msg % args) and the result redacted, so a secret passed as an
    argument is caught too. Tracebacks are formatted and redacted the same way.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redact these, and their escaped forms (`secret_forms`); strings shorter than 8 characters are
        ignored: they would mask ordinary words."""
        self._secrets.update(f for s in secrets if s and len(s) >= _MIN_SECRET for f in secret_forms(s))
        if self._secrets:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        """`text` with every secret masked."""
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: mask_key(m.group(0)), text)
        for pattern in _HEADER_VALUE_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + mask_key(m.group(2)), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: redact what we can and let logging report it
            record.msg = self.redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(self.redact(str(a)) for a in record.args)
            return True
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTED_LOGGERS = ("httpx", "httpcore", "botticelli")


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact `secrets` (and any bearer token) in everything logged.

    Attaches one `RedactingFilter` to the root logger's handlers and to the httpx, httpcore and botticelli
    loggers and their handlers. Calling it again adds secrets to the filter already installed.
    """
    secrets = list(secrets)
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        targets.append(logger)
        targets.extend(logger.handlers)
    installed = [f for t in targets for f in t.filters if isinstance(f, RedactingFilter)]
    shared = installed[0] if installed else RedactingFilter()
    for redacting in {id(f): f for f in [shared, *installed]}.values():
        redacting.add_secrets(secrets)
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(shared)
