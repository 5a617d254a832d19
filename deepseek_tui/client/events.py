"""Typed events of a streamed chat completion (no Textual, no httpx)."""

from __future__ import annotations

from dataclasses import dataclass

from deepseek_tui.usage import Usage

__all__ = [
    "ContentDelta",
    "KeepAlive",
    "ReasoningDelta",
    "RetryScheduled",
    "StreamEnd",
    "StreamEvent",
    "ToolCallDelta",
    "Usage",
    "UsageReport",
]


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of `reasoning_content` (the model's thinking)."""

    text: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of the answer (`content`)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call; `id`/`name` only on the first fragment of each index."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """An SSE `: keep-alive` comment: the request is queued, the server is busy."""


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The request's token usage (arrives on the finish chunk with DeepSeek)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """A failed attempt (before any output) will be retried after `delay` seconds."""

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The stream finished properly: a finish_reason and `[DONE]` arrived."""

    finish_reason: str
    model: str
    request_id: str | None
    """The `x-ds-trace-id` response header (DeepSeek's request id)."""
    completion_id: str | None
    usage: Usage | None


StreamEvent = ReasoningDelta | ContentDelta | ToolCallDelta | KeepAlive | UsageReport | RetryScheduled | StreamEnd
