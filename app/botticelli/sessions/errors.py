"""What can go wrong with the session store, each with a one-line message and a fix (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from botticelli.errors import BotticelliError


class SessionStoreError(BotticelliError):
    """A session store problem the user can act on. Exit code 2 unless a subclass says otherwise."""

    kind = "session"
    exit_code = 2
    area = "sessions"

    def __init__(self, message: str, hint: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class SessionNotFoundError(SessionStoreError):
    """No session has this id (or id prefix)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"no session matches '{session_id}'", "list them with botticelli sessions list")
        self.session_id = session_id


class AmbiguousSessionError(SessionStoreError):
    """An id prefix matches more than one session."""

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        shown = ", ".join(candidates[:5])
        super().__init__(f"'{prefix}' matches several sessions: {shown}", "give more characters of the id")
        self.candidates = candidates


class MessageNotFoundError(SessionStoreError):
    """No message has this id."""

    exit_code = 1

    def __init__(self, message_id: int) -> None:
        super().__init__(f"no message with id {message_id}", "this is a bug in the caller; please report it")


class SessionImportError(SessionStoreError):
    """An import file was refused; nothing was written. `problems` lists every problem found."""
