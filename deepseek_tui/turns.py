"""One assistant turn: stream a request into a Message, keeping whatever arrived (no Textual).

Used by the app and by pipe mode. The caller creates the streaming assistant message, builds the
request, and iterates `stream_into_message`, which updates the message as events arrive and yields
each event for display. However the stream ends (finish, error, cancel), the message keeps the
text that arrived and gets a status that says how it ended.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import AsyncIterator, Protocol

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.client.errors import StreamInterrupted
from deepseek_tui.client.events import (
    ContentDelta,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from deepseek_tui.conversation.model import Conversation, Message, ToolCall
from deepseek_tui.conversation.pricing import add_request_usage
from deepseek_tui.conversation.request import ChatRequest
from deepseek_tui.conversation.tokens import estimate_usage


class Autosave(Protocol):
    def due(self) -> bool: ...

    def save(self) -> None: ...


class ChatStreamer(Protocol):
    def stream_chat(self, body: dict, *, beta: bool = False) -> AsyncIterator[StreamEvent]: ...


@dataclass
class TurnProgress:
    """Live figures of the turn for the status line."""

    started: float = field(default_factory=time.monotonic)
    first_reasoning: float | None = None
    first_content: float | None = None
    reasoning_chars: int = 0
    content_chars: int = 0
    keepalives: int = 0

    def thinking_seconds(self, now: float | None = None) -> float:
        if self.first_reasoning is None:
            return 0.0
        end = self.first_content if self.first_content is not None else (now or time.monotonic())
        return end - self.first_reasoning

    def answer_rate(self, now: float | None = None) -> float:
        """Approximate answer tokens per second (≈4 characters per token)."""
        if self.first_content is None:
            return 0.0
        elapsed = (now or time.monotonic()) - self.first_content
        return (self.content_chars / 4) / elapsed if elapsed > 0.2 else 0.0


class _ToolCallBuilder:
    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, delta: ToolCallDelta) -> None:
        call = self._calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
        if delta.id and not call["id"]:
            call["id"] = delta.id
        if delta.name and not call["name"]:
            call["name"] = delta.name
        call["arguments"] += delta.arguments

    def build(self) -> list[ToolCall]:
        return [ToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(self._calls.items())]

    def __bool__(self) -> bool:
        return bool(self._calls)


async def stream_into_message(
    client: ChatStreamer,
    request: ChatRequest,
    conversation: Conversation,
    message: Message,
    catalogue: Catalogue,
    *,
    currency: str,
    progress: TurnProgress | None = None,
    autosave: Autosave | None = None,
) -> AsyncIterator[StreamEvent]:
    """Stream `request` into `message` (appending to any content it already has).

    While it streams, `autosave.save()` is called whenever `autosave.due()` says so, with the
    message's text brought up to date, so that a killed process leaves the partial reply on
    disk. Errors and cancellation propagate after the message is marked partial / failed /
    cancelled with all the text that arrived; the HTTP stream is closed however this ends.
    """
    progress = progress or TurnProgress()
    reasoning_parts = [message.reasoning] if message.reasoning else []
    content_parts = [message.content] if message.content else []
    reasoning_before, content_before = len(message.reasoning), len(message.content)
    tool_calls = _ToolCallBuilder()
    reported: list[Usage] = []

    def sync_text() -> None:
        message.reasoning = "".join(reasoning_parts)
        message.content = "".join(content_parts)
        if tool_calls:
            message.tool_calls = tool_calls.build()
        if progress.first_reasoning is not None:
            message.reasoning_seconds = round(progress.thinking_seconds(), 1)

    def has_output() -> bool:
        return bool(progress.reasoning_chars or progress.content_chars or tool_calls)

    def settle(status: str, error: str | None = None, finish_reason: str | None = None,
               request_id: str | None = None) -> None:
        """End the message; add this request's usage and cost (estimated when DeepSeek sent none)."""
        if message.status != "streaming":
            return
        sync_text()
        conversation.finish_assistant(
            message.id, status=status, error=error, finish_reason=finish_reason, request_id=request_id  # type: ignore[arg-type]
        )
        if reported:
            add_request_usage(message, reported[-1], catalogue, currency)
        elif has_output():
            guess = estimate_usage(
                request.body,
                message.reasoning[reasoning_before:],
                message.content[content_before:],
                "".join(call.arguments for call in message.tool_calls) if tool_calls else "",
                cached_tokens=_previous_prompt_tokens(conversation, message),
            )
            add_request_usage(message, guess, catalogue, currency, estimated=True)

    try:
        async with aclosing(client.stream_chat(request.body, beta=request.beta)) as events:
            async for event in events:
                if isinstance(event, ContentDelta):
                    if progress.first_content is None:
                        progress.first_content = time.monotonic()
                    progress.content_chars += len(event.text)
                    content_parts.append(event.text)
                elif isinstance(event, ReasoningDelta):
                    if progress.first_reasoning is None:
                        progress.first_reasoning = time.monotonic()
                    progress.reasoning_chars += len(event.text)
                    reasoning_parts.append(event.text)
                elif isinstance(event, ToolCallDelta):
                    tool_calls.add(event)
                elif isinstance(event, UsageReport):
                    reported.append(event.usage)
                elif isinstance(event, StreamEnd):
                    if event.model:
                        message.model = event.model if event.model in catalogue else message.model
                    settle("complete", finish_reason=event.finish_reason, request_id=event.request_id)
                if autosave is not None and not isinstance(event, StreamEnd) and autosave.due():
                    sync_text()
                    autosave.save()
                yield event
    except (asyncio.CancelledError, GeneratorExit):
        settle("cancelled", "Cancelled by you")
        raise
    except StreamInterrupted as exc:
        if exc.usage is not None:
            reported.append(exc.usage)
        status = "partial" if has_output() or message.content else "failed"
        settle(status, str(exc), finish_reason=getattr(exc, "reason", None))
        raise
    except Exception as exc:  # DeepSeekError, or anything unexpected: keep what arrived
        settle("partial" if has_output() or message.content else "failed", str(exc) or type(exc).__name__)
        raise
    else:
        # The client always ends with StreamEnd or an error; be safe anyway.
        settle("partial", "The stream ended early")


def _previous_prompt_tokens(conversation: Conversation, message: Message) -> int:
    """The reported prompt size of the last reply before `message` on its branch (0 if none)."""
    path = conversation.path_to(message.id)
    for earlier in reversed(path[:-1]):
        usage = earlier.context_usage
        if earlier.role == "assistant" and usage is not None and not earlier.usage_estimated:
            return usage.prompt_tokens
    return 0
