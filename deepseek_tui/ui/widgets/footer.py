"""The footer, rebuilt once per burst of binding changes.

Textual's Footer rebuilds all its keys after every binding change (a focus change, a keymap, a
pane shown): six times in a row at start-up here, ~0.1 s before the keys showed. This one
schedules a single rebuild for all the changes before the next refresh.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class CoalescingFooter(Footer):
    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        await self.recompose()
