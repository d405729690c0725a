"""Work that can wait until the first frame is on the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

MAX_WAITS = 20
"""Refreshes to wait at most for the footer's keys (it never draws them while the app is not focused)."""


def after_first_frame(node: MessagePump, callback: Callable[..., Any], *args: Any) -> None:
    """Call `callback(*args)` once the screen has painted its first complete frame, footer keys included.

    Call it while mounting (from `on_mount`) for costly work that can wait (imports, clients, threads), so it
    does not delay the first frame. Textual's Footer composes its keys only after the first refresh, and lays
    them out (and draws them) in a later one: the callback runs after that refresh, or after `MAX_WAITS`.
    """
    _wait(node, callback, args, MAX_WAITS)


def _wait(node: MessagePump, callback: Callable[..., Any], args: tuple[Any, ...], waits: int) -> None:
    def check() -> None:
        if waits > 0 and not _footer_drawn(node):
            _wait(node, callback, args, waits - 1)
        else:
            callback(*args)

    node.call_after_refresh(check)


def _footer_drawn(node: MessagePump) -> bool:
    """True when the node's screen has no Footer, or its Footer's keys are laid out (so drawn)."""
    from textual.css.query import NoMatches
    from textual.widgets import Footer

    try:
        footer = node.screen.query_one(Footer)  # type: ignore[attr-defined]
    except NoMatches:
        return True
    keys = [key for key in footer.children if key.display]  # the fitting footer hides some when narrow
    return bool(keys) and all(key.region.area for key in keys)
