"""Batching of streamed text before it reaches a MarkdownLines view."""

from __future__ import annotations

import asyncio
import time

from deepseek_tui.ui.widgets.markdown_lines import MarkdownLines


class Coalescer:
    """Append streamed deltas to a `MarkdownLines` a few times per second, not per token.

    Each append re-parses the growing last block and schedules a layout, so deltas are joined
    here and written at most once per `INTERVAL`. Text that waits is flushed by a timer, so a
    pause in the stream never hides the tail; `close()` flushes the rest.
    """

    INTERVAL = 0.25

    def __init__(self, view: MarkdownLines) -> None:
        self._view = view
        self._pending: list[str] = []
        self._last_write = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def write(self, text: str) -> None:
        if not text:
            return
        self._pending.append(text)
        wait = self.INTERVAL - (time.monotonic() - self._last_write)
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self._view.append("".join(self._pending))
            self._pending.clear()
        self._last_write = time.monotonic()

    def close(self) -> None:
        self.flush()
