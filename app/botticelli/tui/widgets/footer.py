"""Textual's Footer, recomposed once per batch of binding changes, and fitted to the width it has."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["DROP_FIRST", "CoalescingFooter"]

DROP_FIRST = (
    "app.change_theme", "change_theme", "app.open_load", "open_load", "app.open_speed", "open_speed",
    "copy_code", "edit_last", "regenerate", "copy_answer", "new_chat", "settings",  # chat
    "export_json", "export_csv", "toggle_runs", "history", "toggle_setup",  # race
    "reload", "next_source",  # speed
    "app.quit", "quit",
)
"""Keys left out, in this order, when the footer is too narrow for all (f1 lists every key; help, stop,
send and the palette always stay)."""


class CoalescingFooter(Footer):
    """A Footer that queues at most one recompose at a time, and hides its least needed keys when narrow.

    Textual's Footer queues a recompose (after the next refresh) for every change of the bindings; starting
    the app changes them several times in a row (focus, the screen stack, app focus), and each recompose
    rebuilds and restyles every key. The queued one reads the bindings when it runs, so one is enough.
    Textual cuts a footer that is too long at the right edge (half a key, and f1 help off-screen at 80
    columns); this one leaves out whole keys, least needed first.
    """

    _recompose_queued = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_queued:
            self._recompose_queued = True
            self.call_after_refresh(self._queued_recompose)

    async def _queued_recompose(self) -> None:
        self._recompose_queued = False
        await self.recompose()
        self.fit(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.width)

    def fit(self, width: int) -> None:
        """Show as many keys as `width` cells hold, leaving out those of `DROP_FIRST` in its order."""
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        compact = self.compact
        palette = sum(_width(key, compact) + 1 for key in self.query(FooterKey) if key.has_class("-command-palette"))
        room = width - palette
        needed = sum(_width(key, compact) for key in keys)
        shown = {id(key): True for key in keys}
        dropped: list[FooterKey] = []
        for action in DROP_FIRST:
            if needed <= room:
                break
            for key in keys:
                if key.action == action and shown[id(key)]:
                    shown[id(key)] = False
                    needed -= _width(key, compact)
                    dropped.append(key)
        for key in reversed(dropped):  # the last ones left out may fit again in what the others freed
            if needed + _width(key, compact) <= room:
                shown[id(key)] = True
                needed += _width(key, compact)
        for key in keys:
            key.display = shown[id(key)]


def _width(key: FooterKey, compact: bool) -> int:
    """Cells a key takes: `^b Models` and its right margin (compact), or ` ^b Models ` (Textual's default)."""
    described = 1 + cell_len(key.description) if key.description else 0
    return cell_len(key.key_display) + described + (1 if compact else 2)
