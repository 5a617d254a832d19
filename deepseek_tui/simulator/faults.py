"""Failures the simulator can be told to produce on the next completion request."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal[
    "status", "drop", "stall", "hold", "blank_200", "insufficient_resource", "aborted", "stream_error", "raw"
]


@dataclass(frozen=True)
class Fault:
    """One injected failure. Build it with the classmethods; `after_chunks` counts `data:` events,
    including the first (role) chunk."""

    kind: FaultKind
    status_code: int = 200
    message: str | None = None
    after_chunks: int = 0
    seconds: float = 0.0
    lines: int = 0
    headers: Mapping[str, str] | None = None
    chunks: Sequence[bytes] = field(default_factory=tuple)
    delay: float = 0.0
    release: threading.Event | None = None

    @classmethod
    def status(cls, code: int, message: str | None = None) -> Fault:
        """An HTTP error with DeepSeek's envelope (401 gets the `****last4` wording)."""
        return cls("status", status_code=code, message=message)

    @classmethod
    def drop(cls, after_chunks: int = 0) -> Fault:
        """Close the connection abruptly after N data chunks: no finish chunk, no [DONE]."""
        return cls("drop", after_chunks=after_chunks)

    @classmethod
    def stall(cls, after_chunks: int = 0, seconds: float = 30.0) -> Fault:
        """Send nothing for `seconds` with the connection open, then close it abruptly."""
        return cls("stall", after_chunks=after_chunks, seconds=seconds)

    @classmethod
    def hold(cls, after_chunks: int, release: threading.Event) -> Fault:
        """Pause the stream after N data chunks until `release` is set, then go on normally.

        Tests use it to look at the app mid-stream without depending on the machine's speed;
        `Simulator.held_content` is the answer text sent before the pause, while it lasts.
        """
        return cls("hold", after_chunks=after_chunks, release=release)

    @classmethod
    def blank_200(cls, lines: int = 5) -> Fault:
        """HTTP 200 whose whole body is blank lines, then close (the server gave up while queued)."""
        return cls("blank_200", lines=lines)

    @classmethod
    def insufficient_resource(cls, after_chunks: int = 3) -> Fault:
        """Finish with `insufficient_system_resource` after N chunks, keeping usage and [DONE]."""
        return cls("insufficient_resource", after_chunks=after_chunks)

    @classmethod
    def aborted(cls, after_chunks: int = 3) -> Fault:
        """Finish with `finish_reason: "aborted"` (V4.1) after N chunks, keeping usage and [DONE]."""
        return cls("aborted", after_chunks=after_chunks)

    @classmethod
    def stream_error(cls, after_chunks: int = 1, message: str = "Server Error") -> Fault:
        """A `data: {"error": {...}}` event inside a 200 stream, then the stream ends."""
        return cls("stream_error", after_chunks=after_chunks, message=message)

    @classmethod
    def raw(
        cls,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        chunks: Sequence[bytes] = (),
        delay: float = 0.0,
    ) -> Fault:
        """Write exactly these body bytes (no chunked framing, connection closed at the end),
        flushing each chunk separately with `delay` seconds between them."""
        return cls("raw", status_code=status, headers=headers, chunks=tuple(chunks), delay=delay)

    @property
    def replaces_response(self) -> bool:
        """True when the fault answers before the request is even validated."""
        return self.kind in ("status", "blank_200", "raw")
