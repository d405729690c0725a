"""Textual's Footer, recomposed once per batch of binding changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["CoalescingFooter"]


class CoalescingFooter(Footer):
    """A Footer that queues at most one recompose at a time.

    Textual's Footer queues a recompose (after the next refresh) for every change of the bindings; starting
    the app changes them several times in a row (focus, the screen stack, app focus), and each recompose
    rebuilds and restyles every key. The queued one reads the bindings when it runs, so one is enough.
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
