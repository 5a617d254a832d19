"""Maps decoded stream chunks (chat or FIM) to stream events and accumulates the answer so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import StreamInterrupted
from .events import ContentDelta, ReasoningDelta, StreamEvent, ToolCallDelta, Usage
from .results import ToolCall


class StreamAssembler:
    """Feed it each chunk object in order; it returns the events of that chunk.

    `null` and `""` text deltas produce no event. Usage may come on any chunk; the last non-null
    one wins. The finish chunk's own delta is applied like any other.
    """

    __slots__ = (
        "_reasoning",
        "_content",
        "_tool_calls",
        "finish_reason",
        "usage",
        "model",
        "completion_id",
        "chunks",
    )

    def __init__(self, fallback_model: str = "") -> None:
        self._reasoning: list[str] = []
        self._content: list[str] = []
        self._tool_calls: dict[int, list[Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model = fallback_model
        self.completion_id: str | None = None
        self.chunks = 0

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    @property
    def content(self) -> str:
        return "".join(self._content)

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [ToolCall(index, call[0], call[1], "".join(call[2])) for index, call in sorted(self._tool_calls.items())]

    @property
    def has_output(self) -> bool:
        return bool(self._reasoning or self._content or self._tool_calls)

    def feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        self.chunks += 1
        model = chunk.get("model")
        if model:
            self.model = model
        if self.completion_id is None:
            self.completion_id = chunk.get("id") or None
        usage = chunk.get("usage")
        if usage:
            self.usage = Usage.from_api(usage)
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            if delta:
                reasoning = delta.get("reasoning_content")
                if reasoning:
                    self._reasoning.append(reasoning)
                    events.append(ReasoningDelta(reasoning))
                content = delta.get("content")
                if content:
                    self._content.append(content)
                    events.append(ContentDelta(content))
                tool_calls = delta.get("tool_calls")
                if tool_calls:
                    self._add_tool_calls(tool_calls, events)
            text = choice.get("text")  # FIM completions
            if text:
                self._content.append(text)
                events.append(ContentDelta(text))
            finish_reason = choice.get("finish_reason")
            if finish_reason:
                self.finish_reason = finish_reason
        return events

    def _add_tool_calls(self, fragments: list[Mapping[str, Any]], events: list[StreamEvent]) -> None:
        for position, fragment in enumerate(fragments):
            index = fragment.get("index")
            if index is None:
                index = position
            function = fragment.get("function") or {}
            call_id = fragment.get("id") or None
            name = function.get("name") or None
            arguments = function.get("arguments") or ""
            call = self._tool_calls.get(index)
            if call is None:
                self._tool_calls[index] = [call_id, name, [arguments]]
            else:
                if call[0] is None:
                    call[0] = call_id
                if call[1] is None:
                    call[1] = name
                call[2].append(arguments)
            events.append(ToolCallDelta(index=index, id=call_id, name=name, arguments=arguments))

    def interrupted(
        self,
        reason: str,
        message: str = "",
        *,
        request_id: str | None = None,
    ) -> StreamInterrupted:
        """The error for a stream that broke off now, carrying everything received so far."""
        return StreamInterrupted(
            reason,
            message,
            partial_reasoning=self.reasoning,
            partial_content=self.content,
            partial_tool_calls=self.tool_calls,
            usage=self.usage,
            model=self.model or None,
            completion_id=self.completion_id,
            request_id=request_id,
        )
