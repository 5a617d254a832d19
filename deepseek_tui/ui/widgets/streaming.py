"""Batching of streamed text before it reaches a MarkdownStream."""

from __future__ import annotations

import asyncio
import time

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class CoalescedMarkdown:
    """Feed a `Markdown` widget through a `MarkdownStream`, a few writes per second.

    Every write costs a re-parse of the last Markdown block, and a long open code fence is
    re-highlighted on each write, so small deltas are joined here and written at most once per
    interval. The interval grows with the size of the text so that one huge fence stays cheap.
    Text that waits is flushed by a timer, so a pause in the stream never hides the tail.
    """

    BASE_INTERVAL = 0.05
    MAX_INTERVAL = 0.5

    def __init__(self, markdown: Markdown) -> None:
        self._markdown = markdown
        self._stream: MarkdownStream | None = None
        self._pending: list[str] = []
        self._last_write = 0.0
        self._written = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_task: asyncio.Task | None = None

    @property
    def interval(self) -> float:
        # ~50 ms for short answers, rising by 50 ms per 20k characters already shown.
        return min(self.BASE_INTERVAL * (1 + self._written / 20_000), self.MAX_INTERVAL)

    async def write(self, text: str) -> None:
        if not text:
            return
        self._pending.append(text)
        wait = self.interval - (time.monotonic() - self._last_write)
        if wait <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        self._timer_task = asyncio.ensure_future(self.flush())

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        if self._stream is None:
            self._stream = Markdown.get_stream(self._markdown)
        chunk = "".join(self._pending)
        self._pending.clear()
        self._written += len(chunk)
        self._last_write = time.monotonic()
        await self._stream.write(chunk)

    async def close(self) -> None:
        """Flush what is pending and stop the stream (always call this, e.g. in `finally`)."""
        await self.flush()
        if self._timer_task is not None and not self._timer_task.done():
            await self._timer_task
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
