"""When to save a conversation while a reply streams (pure logic, injectable clock)."""

from __future__ import annotations

import time
from collections.abc import Callable


class SaveThrottle:
    """Save at most every `interval` seconds while changes keep coming, and at least that often.

    The app calls `changed()` on every streamed delta and saves when it returns True; a timer
    can poll `due()` so a stalled stream's last changes are saved too. After any save, call
    `saved()`. At the end of a reply the app saves unconditionally.
    """

    def __init__(self, interval: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last_save = clock()
        """Counting starts now: create one when a reply starts (the conversation was just saved)."""
        self._dirty = False

    @property
    def pending(self) -> bool:
        """Changes that have not been saved yet."""
        return self._dirty

    def changed(self) -> bool:
        """Note a change; True when it is time to save."""
        self._dirty = True
        return self.due()

    def due(self) -> bool:
        if not self._dirty:
            return False
        return self._clock() - self._last_save >= self.interval

    def saved(self) -> None:
        self._last_save = self._clock()
        self._dirty = False
