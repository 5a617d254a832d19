"""Incremental Server-Sent Events decoder for DeepSeek's `text/event-stream` bodies.

Feed it raw bytes as they arrive (any split, including inside a UTF-8 sequence or between the
CR and LF of a CRLF); it returns the complete items found so far: each `data` payload as `str`
(multi-line data joined with "\\n", `[DONE]` included verbatim) and `KEEP_ALIVE` for every
comment line such as `: keep-alive`. `event:`, `id:` and `retry:` fields are accepted and ignored
(DeepSeek sends none).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .events import KeepAlive

KEEP_ALIVE = KeepAlive()
DONE = "[DONE]"

SSEItem = str | KeepAlive

_BOM = b"\xef\xbb\xbf"
_CR = 13


class SSEDecoder:
    """Turns a byte stream into SSE data payloads and keep-alive markers."""

    __slots__ = ("_buffer", "_data", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._skip_lf = False
        self._started = False

    def feed(self, chunk: bytes) -> list[SSEItem]:
        """Consume `chunk`; return the items completed by it (possibly none)."""
        if not chunk:
            return []
        if self._skip_lf:
            # The previous chunk ended with CR; a LF starting this one belongs to that CRLF.
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
                if not chunk:
                    return []
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(buffer) < 3 and _BOM.startswith(buffer):
                self._buffer = buffer
                return []
            self._started = True
            if buffer.startswith(_BOM):
                buffer = buffer[3:]
        end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
        if end < 0:
            self._buffer = buffer
            return []
        if end == len(buffer) - 1:
            self._buffer = b""
            self._skip_lf = buffer[end] == _CR
            complete = buffer
        else:
            self._buffer = buffer[end + 1 :]
            complete = buffer[: end + 1]
        return self._lines(complete.splitlines())

    def feed_lines(self, lines: Iterable[str]) -> list[SSEItem]:
        """Consume already split lines (without their terminators), e.g. from `aiter_lines()`."""
        return self._lines([line.encode("utf-8") for line in lines])

    def close(self) -> list[SSEItem]:
        """End of stream: dispatch data that lacked its closing blank line.

        An unterminated last line is an incomplete read and is dropped.
        """
        self._buffer = b""
        self._skip_lf = False
        if self._data:
            return self._lines([b""])
        return []

    def _lines(self, lines: list[bytes]) -> list[SSEItem]:
        items: list[SSEItem] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    data.clear()
                    items.append(payload.decode("utf-8", "replace"))
            elif line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
            elif line[0] == 58:  # ":" comment
                items.append(KEEP_ALIVE)
            elif line == b"data":
                data.append(b"")
            # Any other field (event, id, retry, unknown) carries nothing we use.
        return items


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEItem]:
    """Decode a whole byte stream given as an iterable of chunks."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()
