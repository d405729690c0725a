"""The one error root: every error a user can act on is a `BotticelliError`.

Provider (network, HTTP), config, session-store and usage errors all derive from it, so every command reports
any of them the same way: `one_line()` on stderr, `exit_code` as the process status and `to_dict()` in JSON.
The message and the hint travel as separate fields, never parsed back out of a string. Exit codes and the
`error` JSON object are specified in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BotticelliError(Exception):
    """What went wrong (`message`), what to do about it (`hint`), its `kind` and the process `exit_code`."""

    kind: str = "internal"
    exit_code: int = 1
    default_hint: ClassVar[str] = "see the message above"
    area: ClassVar[str] = "botticelli"
    """Who reports it in `one_line()`: `error: <area>: ...`."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._hint = hint

    @property
    def hint(self) -> str:
        """What the user can do about it ("" when the message says it all)."""
        return self._hint or self.default_hint

    @property
    def source(self) -> str:
        """The name at the head of `one_line()`: the area, or the profile for provider errors."""
        return self.area

    def summary(self) -> str:
        """What happened, without the hint."""
        return self.message

    def one_line(self) -> str:
        """`error: <source>: <what happened> (<what to do>)`, whitespace folded to one line."""
        text = " ".join(self.summary().split())
        hint = " ".join(self.hint.split())
        return f"error: {self.source}: {text} ({hint})" if hint else f"error: {self.source}: {text}"

    def to_dict(self) -> dict[str, Any]:
        """The `error` object of the JSON output (same keys for every kind)."""
        return {"kind": self.kind, "status": None, "code": None, "message": self.message, "retry_after_s": None}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary()!r})"


class UsageError(BotticelliError):
    """Bad command-line input; exit code 2. Subclasses set `area` to the command (`error: ask: ...`)."""

    kind = "usage"
    exit_code = 2
    default_hint = ""


