"""Response bodies and stream chunks in DeepSeek's exact layouts (reference §3, §4.2–4.6, §7.1).

The model's output is a list of `Step`s, one token each; limits, faults and usage all work on that
list, so a stream cut after N chunks and its usage always agree.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from .answers import Plan

StepKind = Literal["reasoning", "content", "tool_start", "tool_args", "text", "echo"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    text: str = ""
    call_index: int = 0
    call_id: str = ""
    call_name: str = ""

    @property
    def is_token(self) -> bool:
        return self.kind != "echo"


@dataclass
class Output:
    steps: list[Step]
    finish_reason: str

    def truncated(self, tokens: int, finish_reason: str) -> Output:
        return Output(self.steps[: max(tokens, 0)], finish_reason)

    @property
    def completion_tokens(self) -> int:
        return sum(1 for step in self.steps if step.is_token)

    @property
    def reasoning_tokens(self) -> int:
        return sum(1 for step in self.steps if step.kind == "reasoning")


def _cut_at_stop(pieces: list[str], stop: list[str]) -> tuple[list[str], bool]:
    text = "".join(pieces)
    cut = min((index for index in (text.find(s) for s in stop) if index >= 0), default=-1)
    if cut < 0:
        return pieces, False
    kept: list[str] = []
    length = 0
    for piece in pieces:
        if length + len(piece) > cut:
            if cut > length:
                kept.append(piece[: cut - length])
            break
        kept.append(piece)
        length += len(piece)
    return kept, True


def limit_plan(plan: Plan, max_tokens: int, stop: list[str]) -> Output:
    """Lay the plan out as steps and apply `stop` sequences and the `max_tokens` budget
    (reasoning counts against it, so it can use up the whole budget)."""
    content, _ = _cut_at_stop(plan.content, stop)
    steps = [Step("reasoning", piece) for piece in plan.reasoning]
    steps += [Step("content", piece) for piece in content]
    for index, call in enumerate(plan.tool_calls):
        steps.append(Step("tool_start", "", index, call.id, call.name))
        steps += [Step("tool_args", fragment, index) for fragment in call.fragments]
    if len(steps) > max_tokens:
        return Output(steps[:max_tokens], "length")
    return Output(steps, "tool_calls" if plan.tool_calls else "stop")


def limit_text(pieces: list[str], max_tokens: int, stop: list[str], echo: str | None) -> Output:
    pieces, _ = _cut_at_stop(pieces, stop)
    steps = [Step("echo", echo)] if echo else []
    finish = "length" if len(pieces) > max_tokens else "stop"
    steps += [Step("text", piece) for piece in pieces[:max_tokens]]
    return Output(steps, finish)


def usage(prompt_tokens: int, hit_tokens: int, output: Output, thinking: bool, fim: bool = False) -> dict[str, Any]:
    completion = output.completion_tokens
    body: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
    if not fim:
        body["prompt_tokens_details"] = {"cached_tokens": hit_tokens}
        if thinking:
            body["completion_tokens_details"] = {"reasoning_tokens": output.reasoning_tokens}
    body["prompt_cache_hit_tokens"] = hit_tokens
    body["prompt_cache_miss_tokens"] = prompt_tokens - hit_tokens
    return body


@dataclass
class ResponseIdentity:
    """What every chunk of one response repeats."""

    model: str
    system_fingerprint: str
    id: str = ""
    created: int = 0

    def __post_init__(self) -> None:
        self.id = self.id or str(uuid.uuid4())
        self.created = self.created or int(time.time())


def _tool_calls_message(steps: list[Step]) -> list[dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for step in steps:
        if step.kind == "tool_start":
            calls[step.call_index] = {
                "index": step.call_index,
                "id": step.call_id,
                "type": "function",
                "function": {"name": step.call_name, "arguments": ""},
            }
        elif step.kind == "tool_args" and step.call_index in calls:
            calls[step.call_index]["function"]["arguments"] += step.text
    return [calls[index] for index in sorted(calls)]


def chat_completion(
    identity: ResponseIdentity, output: Output, usage_body: dict[str, Any], thinking: bool
) -> dict[str, Any]:
    content = "".join(step.text for step in output.steps if step.kind == "content")
    tool_calls = _tool_calls_message(output.steps)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls and not content:
        message["content"] = None
    if thinking:
        message["reasoning_content"] = "".join(s.text for s in output.steps if s.kind == "reasoning")
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": identity.id,
        "object": "chat.completion",
        "created": identity.created,
        "model": identity.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": output.finish_reason}],
        "usage": usage_body,
        "system_fingerprint": identity.system_fingerprint,
    }


def text_completion(identity: ResponseIdentity, output: Output, usage_body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": identity.id,
        "object": "text_completion",
        "created": identity.created,
        "model": identity.model,
        "system_fingerprint": identity.system_fingerprint,
        "choices": [
            {
                "index": 0,
                "text": "".join(step.text for step in output.steps),
                "logprobs": None,
                "finish_reason": output.finish_reason,
            }
        ],
        "usage": usage_body,
    }


_NO_USAGE = object()


class ChunkFactory:
    """Builds the `data:` payloads of one stream (chat or FIM)."""

    def __init__(self, identity: ResponseIdentity, thinking: bool, include_usage: bool, fim: bool = False) -> None:
        self.identity = identity
        self.thinking = thinking
        self.include_usage = include_usage
        self.fim = fim

    def _chunk(self, choice: dict[str, Any] | None, usage_body: Any = _NO_USAGE) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.identity.id,
            "object": "text_completion" if self.fim else "chat.completion.chunk",
            "created": self.identity.created,
            "model": self.identity.model,
            "system_fingerprint": self.identity.system_fingerprint,
            "choices": [choice] if choice is not None else [],
        }
        if usage_body is not _NO_USAGE:
            chunk["usage"] = usage_body
        elif self.include_usage:
            chunk["usage"] = None
        return chunk

    def _choice(self, delta_or_text: Any, finish_reason: str | None = None) -> dict[str, Any]:
        if self.fim:
            return {"index": 0, "text": delta_or_text, "logprobs": None, "finish_reason": finish_reason}
        return {"index": 0, "delta": delta_or_text, "logprobs": None, "finish_reason": finish_reason}

    def first(self) -> dict[str, Any] | None:
        """The opening role chunk (chat only)."""
        if self.fim:
            return None
        if self.thinking:
            return self._chunk(self._choice({"role": "assistant", "content": None, "reasoning_content": ""}))
        return self._chunk(self._choice({"role": "assistant", "content": ""}))

    def for_step(self, step: Step) -> dict[str, Any]:
        if self.fim:
            return self._chunk(self._choice(step.text))
        if step.kind == "reasoning":
            delta: dict[str, Any] = {"content": None, "reasoning_content": step.text}
        elif step.kind == "content":
            delta = {"content": step.text, "reasoning_content": None} if self.thinking else {"content": step.text}
        elif step.kind == "tool_start":
            delta = {
                "tool_calls": [
                    {
                        "index": step.call_index,
                        "id": step.call_id,
                        "type": "function",
                        "function": {"name": step.call_name, "arguments": ""},
                    }
                ]
            }
        else:
            delta = {"tool_calls": [{"index": step.call_index, "function": {"arguments": step.text}}]}
        return self._chunk(self._choice(delta))

    def finish(self, finish_reason: str, usage_body: dict[str, Any], separate_usage: bool) -> list[dict[str, Any]]:
        """The finish chunk carrying usage (DeepSeek), or OpenAI's finish + empty-choices usage chunk."""
        if self.fim:
            choice = self._choice("", finish_reason)
        elif self.thinking:
            choice = self._choice({"content": "", "reasoning_content": None}, finish_reason)
        else:
            choice = self._choice({"content": ""}, finish_reason)
        if separate_usage:
            return [self._chunk(choice), self._chunk(None, usage_body)]
        return [self._chunk(choice, usage_body)]

    @staticmethod
    def error(message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "unknown_error", "param": None, "code": "invalid_request_error"}}
