"""One assistant turn, from the decision to send to the finished message (no Textual).

The TUI and pipe mode both run their turns through here:

- `prepare_reply` / `prepare_continue` build the request (the JSON-mode hint rule lives here, once)
  and add the streaming assistant message to the conversation;
- `Turn.stream` sends the request and yields typed `TurnEvent`s while it fills the message;
  however the stream ends (finish, API error, drop, cancel) the message keeps the text that
  arrived and gets a status that says how it ended;
- the turn's phase (sending, queued, thinking, answering, retrying, done, cancelled, error; a tool
  loop adds "tool") is
  kept in one place, `Turn.phase`; `Turn.progress` has the live figures for a status line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client.errors import DeepSeekError, StreamInterrupted
from deepseek_tui.client.events import (
    ContentDelta,
    KeepAlive,
    ReasoningDelta,
    RetryScheduled,
    StreamEnd,
    StreamEvent,
    ToolCallDelta,
    UsageReport,
)
from deepseek_tui.conversation.json_mode import JSON_HINT, mentions_json, with_json_hint
from deepseek_tui.conversation.model import Conversation, ConversationError, Message, Status, ToolCall
from deepseek_tui.conversation.pricing import add_request_usage
from deepseek_tui.conversation.request import (
    ChatRequest,
    build_chat_request,
    build_continue_request,
    check_request_size,
)
from deepseek_tui.conversation.throttle import SaveThrottle
from deepseek_tui.conversation.tokens import estimate_request_tokens, estimate_usage
from deepseek_tui.model_choice import current_settings
from deepseek_tui.usage import Usage

Phase = Literal[
    "sending", "queued", "thinking", "answering", "retrying", "asking", "tool", "done", "cancelled", "error"
]
"""`asking` and `tool` are a tool loop's: a call waits for the user's answer / a tool runs."""
""""tool": between the requests of a tool loop, a tool call is asked about or runs."""
FINAL_PHASES: tuple[Phase, ...] = ("done", "cancelled", "error")

CANCELLED_BY_USER = "Cancelled by you"


class ChatStreamer(Protocol):
    def stream_chat(self, body: Mapping[str, Any], *, beta: bool = False) -> AsyncGenerator[StreamEvent, None]: ...


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    phase: Phase


@dataclass(frozen=True, slots=True)
class AnswerText:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningText:
    text: str


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """An attempt failed before any output; the next one starts after `delay` seconds."""

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The last event: the message is finished (its status says how); `error` when the API failed."""

    message: Message
    error: DeepSeekError | None = None


TurnEvent = PhaseChanged | AnswerText | ReasoningText | RetryNotice | TurnEnded


# --- progress ---------------------------------------------------------------------------------


@dataclass
class TurnProgress:
    """Live figures of the turn for the status line (durations, so the monotonic clock)."""

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


# --- preparing --------------------------------------------------------------------------------


def prepare_reply(
    conversation: Conversation,
    catalogue: Catalogue,
    settings: ChatSettings | None = None,
    *,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> "Turn":
    """A turn that answers the active branch (`settings` for this turn only; default: the conversation's),
    offering `tools` (function definitions) when given.

    JSON mode needs the word "json" in the request: when no message says it, the hint goes into
    this request's system prompt only, never into the stored settings.

    Raises RequestTooLarge (a ConversationError) when the request would be over the API's size
    limit; nothing is added to the conversation then.
    """
    settings = current_settings(settings or conversation.settings, catalogue).settings  # a retired model: its successor
    offered = [dict(tool) for tool in tools] if tools else None
    request = build_chat_request(conversation, catalogue, settings, tools=offered)
    notes: list[str] = list(request.notes)
    if settings.json_output and not mentions_json(request.body):
        hinted = settings.updated(system_prompt=with_json_hint(settings.system_prompt))
        request = build_chat_request(conversation, catalogue, hinted, tools=offered)
        notes.append(
            f'JSON mode needs the word "json" in a message; added to this request\'s system prompt: "{JSON_HINT}"'
        )
    spec = catalogue.get(settings.model)
    check_request_size(request, spec)  # RequestTooLarge before anything is added or sent
    thinking = spec.thinks(settings.thinking, settings.reasoning_effort)
    message = conversation.start_assistant(settings.model, thinking, settings.reasoning_effort if thinking else None)
    return Turn(conversation, message, request, catalogue, notes=tuple(notes), json_output=settings.json_output)


def prepare_continue(conversation: Conversation, message_id: str, catalogue: Catalogue) -> "Turn":
    """A turn that continues a cut-off or interrupted answer (chat prefix completion).

    Raises ConversationError when the message cannot be continued (RequestTooLarge when the
    request would be over the API's size limit).
    """
    target = conversation.get(message_id)
    if target.role == "assistant" and target.status == "complete" and target.finish_reason != "length":
        raise ConversationError("That answer is complete; continuing works on cut-off or interrupted answers.")
    request = build_continue_request(conversation, message_id, catalogue)
    check_request_size(request, catalogue.get(target.model or conversation.settings.model))
    message = conversation.resume_assistant(message_id)
    return Turn(
        conversation, message, request, catalogue, continued=True, json_output=conversation.settings.json_output
    )


# --- the turn ---------------------------------------------------------------------------------


class Turn:
    """One request streamed into one assistant message of one conversation."""

    def __init__(
        self,
        conversation: Conversation,
        message: Message,
        request: ChatRequest,
        catalogue: Catalogue,
        *,
        notes: tuple[str, ...] = (),
        continued: bool = False,
        json_output: bool = False,
    ) -> None:
        self.conversation = conversation
        self.message = message
        self.request = request
        self.catalogue = catalogue
        self.notes = notes
        """What the user should be told about this request before it goes out."""
        self.continued = continued
        """True when the turn appends to an answer that already had text."""
        self.json_output = json_output
        self.progress = TurnProgress()
        self.phase: Phase = "sending"
        self.error: DeepSeekError | None = None

    @property
    def thinking(self) -> bool:
        return self.message.thinking

    @property
    def is_over(self) -> bool:
        return self.phase in FINAL_PHASES

    @cached_property
    def estimated_prompt_tokens(self) -> int:
        """The request's size by the offline estimate (until DeepSeek reports the real one)."""
        return estimate_request_tokens(self.request.body, self._image_tokens)

    @property
    def _image_tokens(self) -> int:
        return self.catalogue.get(str(self.request.body.get("model", self.message.model or ""))).image_tokens

    async def stream(
        self,
        client: ChatStreamer,
        *,
        currency: str,
        save: Callable[[], None] | None = None,
        throttle: SaveThrottle | None = None,
    ) -> AsyncGenerator[TurnEvent, None]:
        """Send the request and yield what happens, ending with `TurnEnded`.

        While it streams, `save()` is called as often as the throttle allows (default: every 2 s),
        with the message's text brought up to date, so that a killed process leaves the partial
        reply on disk. API errors end the turn with `TurnEnded(error=…)`; cancellation and
        unexpected errors propagate after the message is marked cancelled / partial. The HTTP
        stream is closed however this ends.
        """
        stream = _MessageStream(self, currency)
        throttle = throttle or SaveThrottle()
        yield PhaseChanged(self.phase)
        try:
            async with aclosing(client.stream_chat(self.request.body, beta=self.request.beta)) as events:
                async for event in events:
                    for turn_event in stream.take(event):
                        yield turn_event
                    if save is not None and not isinstance(event, StreamEnd) and throttle.changed():
                        stream.sync_text()
                        save()
                        throttle.saved()
        except (asyncio.CancelledError, GeneratorExit):
            stream.settle("cancelled", CANCELLED_BY_USER)
            self.phase = "cancelled"
            raise
        except DeepSeekError as exc:
            if isinstance(exc, StreamInterrupted) and exc.usage is not None:
                stream.reported.append(exc.usage)
            stream.settle(stream.status_when_stopped(), str(exc), finish_reason=getattr(exc, "reason", None))
            self.phase, self.error = "error", exc
            yield PhaseChanged(self.phase)
            yield TurnEnded(self.message, exc)
            return
        except Exception as exc:  # a bug or the unexpected: keep what arrived, let it surface
            stream.settle(stream.status_when_stopped(), str(exc) or type(exc).__name__)
            self.phase = "error"
            raise
        if self.message.status == "streaming":  # the client ends with StreamEnd or an error; be safe
            stream.settle("partial", "The stream ended early")
            self.phase = "done"
            yield PhaseChanged(self.phase)
            yield TurnEnded(self.message)

    def end_by_error(self, reason: str) -> None:
        """The caller failed while it showed the turn (closing the stream made it "cancelled"):
        the message says what stopped it instead."""
        message = self.message
        if message.status == "streaming":
            self.conversation.finish_assistant(message.id, status="partial", error=reason)
        elif message.status == "cancelled":
            message.status, message.error = "partial", reason
        self.phase = "error"

    def end_unfinished(self, reason: str = CANCELLED_BY_USER) -> None:
        """Mark the message cancelled if the turn was stopped before its stream could (e.g. a
        cancel before the first event). Callers run this when they are done with the turn."""
        if self.message.status == "streaming":
            self.conversation.finish_assistant(self.message.id, status="cancelled", error=reason)
        if not self.is_over:
            self.phase = "cancelled"


class _MessageStream:
    """The state of one stream into the turn's message: text parts, tool calls, usage."""

    def __init__(self, turn: Turn, currency: str) -> None:
        self.turn, self.currency = turn, currency
        message = turn.message
        self.reasoning_parts = [message.reasoning] if message.reasoning else []
        self.content_parts = [message.content] if message.content else []
        self.reasoning_before, self.content_before = len(message.reasoning), len(message.content)
        self.tool_calls = _ToolCallBuilder()
        self.reported: list[Usage] = []

    def take(self, event: StreamEvent) -> list[TurnEvent]:
        """Apply one client event to the message; the turn events it means."""
        turn, progress = self.turn, self.turn.progress
        if isinstance(event, ContentDelta):
            if progress.first_content is None:
                progress.first_content = time.monotonic()
            progress.content_chars += len(event.text)
            self.content_parts.append(event.text)
            return [*self._enter("answering"), AnswerText(event.text)]
        if isinstance(event, ReasoningDelta):
            if progress.first_reasoning is None:
                progress.first_reasoning = time.monotonic()
                if self.reasoning_parts and not self.reasoning_parts[-1][-1:].isspace():
                    self.reasoning_parts.append("\n\n")  # a continuation's thinking starts afresh
            progress.reasoning_chars += len(event.text)
            self.reasoning_parts.append(event.text)
            return [*self._enter("thinking"), ReasoningText(event.text)]
        if isinstance(event, ToolCallDelta):
            self.tool_calls.add(event)
        elif isinstance(event, UsageReport):
            self.reported.append(event.usage)
        elif isinstance(event, KeepAlive):
            progress.keepalives += 1
            if turn.phase == "sending":
                return self._enter("queued")
        elif isinstance(event, RetryScheduled):
            return [*self._enter("retrying"), RetryNotice(event.attempt, event.delay, event.reason)]
        elif isinstance(event, StreamEnd):
            if event.model and event.model in turn.catalogue:
                turn.message.model = event.model
            self.settle("complete", finish_reason=event.finish_reason, request_id=event.request_id)
            turn.phase = "done"
            return [PhaseChanged("done"), TurnEnded(turn.message)]
        return []

    def _enter(self, phase: Phase) -> list[TurnEvent]:
        if self.turn.phase == phase:
            return []
        self.turn.phase = phase
        return [PhaseChanged(phase)]

    def sync_text(self) -> None:
        message, progress = self.turn.message, self.turn.progress
        message.reasoning = "".join(self.reasoning_parts)
        message.content = "".join(self.content_parts)
        if self.tool_calls:
            message.tool_calls = self.tool_calls.build()
        if progress.first_reasoning is not None:
            message.reasoning_seconds = round(progress.thinking_seconds(), 1)

    def has_output(self) -> bool:
        progress = self.turn.progress
        return bool(progress.reasoning_chars or progress.content_chars or self.tool_calls)

    def status_when_stopped(self) -> Status:
        return "partial" if self.has_output() or self.turn.message.content else "failed"

    def settle(
        self, status: Status, error: str | None = None, finish_reason: str | None = None, request_id: str | None = None
    ) -> None:
        """End the message; add this request's usage and cost (estimated when DeepSeek sent none)."""
        turn, message = self.turn, self.turn.message
        if message.status != "streaming":
            return
        self.sync_text()
        turn.conversation.finish_assistant(
            message.id, status=status, error=error, finish_reason=finish_reason, request_id=request_id
        )
        if self.reported:
            add_request_usage(message, self.reported[-1], turn.catalogue, self.currency)
        elif self.has_output():
            guess = estimate_usage(
                turn.request.body,
                message.reasoning[self.reasoning_before :],
                message.content[self.content_before :],
                "".join(call.arguments for call in message.tool_calls) if self.tool_calls else "",
                cached_tokens=_previous_prompt_tokens(turn.conversation, message),
                image_tokens=turn._image_tokens,
            )
            add_request_usage(message, guess, turn.catalogue, self.currency, estimated=True)


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


def _previous_prompt_tokens(conversation: Conversation, message: Message) -> int:
    """The reported prompt size of the last reply before `message` on its branch (0 if none)."""
    path = conversation.path_to(message.id)
    for earlier in reversed(path[:-1]):
        usage = earlier.context_usage
        if earlier.role == "assistant" and usage is not None and not earlier.usage_estimated:
            return usage.prompt_tokens
    return 0
