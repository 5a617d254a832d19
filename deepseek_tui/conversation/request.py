"""Turn the active branch of a conversation into a `/chat/completions` request body.

Reference: deepseek-api.md §2 (fields), §6 (multi-round rules), §12 (V4.1 rules, which win).
Model differences come from the catalogue (`ModelSpec.reasoning_passback`, `thinking_params`,
`thinking_ignores`, `thinking_top_p_floor`, ...). A retired model name is never sent: the request
goes to its successor, in the successor's thinking mode.

What is sent for assistant messages that did not end normally (decided here):
- a `streaming` message is never sent (the caller may build the request before or after
  `start_assistant`);
- `partial` / `cancelled` / `failed` replies are sent with the content they got, so the next turn
  reads as the user saw it; their tool calls are dropped (they were never run) and a reply left
  with no content at all is skipped;
- any tool call without a tool result on the branch is dropped, together with results that answer
  no remaining call: the API rejects unanswered tool calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deepseek_tui.catalogue import SAMPLING_PARAMETERS, Catalogue, ModelSpec
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.conversation.attachments import size_label, user_content
from deepseek_tui.conversation.model import Conversation, ConversationError, Message
from deepseek_tui.model_choice import current_settings


@dataclass(frozen=True)
class ChatRequest:
    body: dict[str, Any]
    beta: bool = False
    """True when the request needs the `/beta` base URL (chat prefix completion)."""
    notes: tuple[str, ...] = ()
    """What was sent differently from what the caller asked, and why (for the user)."""


@dataclass
class _Outgoing:
    """A message on its way into `messages`, before the reasoning rule is applied."""

    source: Message
    payload: dict[str, Any]
    tool_call_ids: list[str] = field(default_factory=list)


def build_chat_request(
    conversation: Conversation,
    catalogue: Catalogue,
    settings: ChatSettings | None = None,
    *,
    tools: Sequence[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
) -> ChatRequest:
    """The request for the next reply on the active branch (`settings` default: the conversation's)."""
    settings = settings or conversation.settings
    return build_request_for_path(conversation.active_path(), catalogue, settings, tools=tools, tool_choice=tool_choice)


def build_request_for_path(
    path: Sequence[Message],
    catalogue: Catalogue,
    settings: ChatSettings,
    *,
    tools: Sequence[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
) -> ChatRequest:
    """The request that answers `path`, a root-to-leaf list of messages that need not be a branch
    of one conversation (compaction asks about the earlier turns of another branch)."""
    settings = current_settings(settings, catalogue).settings
    spec = catalogue.get(settings.model)
    thinks = spec.thinks(settings.thinking, settings.reasoning_effort)
    sends_tools = bool(tools) and spec.tools
    notes: list[str] = []
    messages = _messages_for(path, settings.system_prompt, spec, thinks, sends_tools, notes)
    body = _body(spec, settings, messages, tools, tool_choice, notes)
    return ChatRequest(body=body, notes=tuple(notes))


def build_continue_request(
    conversation: Conversation,
    message_id: str,
    catalogue: Catalogue,
    *,
    tools: Sequence[dict[str, Any]] | None = None,
) -> ChatRequest:
    """Ask the model to continue an assistant reply (chat prefix completion, `/beta`).

    The history up to the reply is sent as usual and the reply itself last, with `prefix: true`
    and its content so far. The reply's own model, thinking mode and effort are used; in
    thinking mode its reasoning goes along as `reasoning_content` (the CoT prefix, V4 docs) unless
    the model never accepts `reasoning_content`. The caller appends the continuation to the same
    message.
    """
    target = conversation.get(message_id)
    if target.role != "assistant":
        raise ConversationError("only an assistant reply can be continued")
    if target.tool_calls and target.status == "complete":
        raise ConversationError("a reply that called tools cannot be continued")
    model = target.model or conversation.settings.model
    spec = catalogue.get(model)  # a retired name: its successor
    if not spec.prefix_completion:
        raise ConversationError(f"{model} does not support continuing a reply")
    settings = conversation.settings.updated(model=spec.id, thinking=target.thinking, reasoning_effort=target.effort)
    thinks = spec.thinks(target.thinking, target.effort)
    history = conversation.path_to(message_id)[:-1]
    sends_tools = bool(tools) and spec.tools
    notes: list[str] = []
    messages = _messages_for(history, settings.system_prompt, spec, thinks, sends_tools, notes)
    prefix: dict[str, Any] = {"role": "assistant", "content": target.content, "prefix": True}
    if thinks and spec.reasoning_passback != "never" and target.reasoning:
        prefix["reasoning_content"] = target.reasoning  # the CoT prefix (V4 reference)
    messages.append(prefix)
    body = _body(spec, settings, messages, tools, None, notes)
    return ChatRequest(body=body, beta=True, notes=tuple(notes))


class RequestTooLarge(ConversationError):
    """The request would be larger than the API accepts (catalogue `max_request_bytes`)."""


def request_bytes(body: dict[str, Any]) -> int:
    """The size of the body as the client sends it (httpx: compact JSON, UTF-8)."""
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8"))


def check_request_size(request: ChatRequest, spec: ModelSpec) -> int:
    """The request's size in bytes; raises RequestTooLarge when the API would refuse it."""
    size = request_bytes(request.body)
    limit = spec.max_request_bytes
    if limit is not None and size > limit:
        raise RequestTooLarge(too_large_text(size, limit, spec.id))
    return size


def too_large_text(size: int, limit: int, model: str) -> str:
    return (
        f"This request would be {size_label(size)}; {model} takes {size_label(limit)} at most. "
        "Nothing was sent: remove an attachment (images count a third more, base64), or start a new "
        "conversation if earlier messages carry large files."
    )


def inert_settings(settings: ChatSettings, catalogue: Catalogue) -> dict[str, str]:
    """Settings that will have no effect on the next request, each with the reason (for the UI)."""
    settings = current_settings(settings, catalogue).settings
    return catalogue.get(settings.model).inert_settings(settings.thinking, settings.reasoning_effort)


def adjusted_settings(settings: ChatSettings, catalogue: Catalogue) -> dict[str, str]:
    """Settings that will be sent with another value than the one set, each with why (for the UI)."""
    settings = current_settings(settings, catalogue).settings
    spec = catalogue.get(settings.model)
    thinks = spec.thinks(settings.thinking, settings.reasoning_effort)
    adjusted: dict[str, str] = {}
    if settings.max_tokens is not None and settings.max_tokens > spec.max_output_tokens:
        adjusted["max_tokens"] = f"above this model's maximum; {spec.max_output_tokens} is sent"
    top_p = spec.sent_top_p(settings.top_p, thinks)
    if top_p is not None and top_p != settings.top_p:
        adjusted["top_p"] = f"{top_p:g} is sent: the API's lowest top_p in thinking mode"
    return adjusted


# --- messages ---------------------------------------------------------------------------------


def _messages_for(
    path: Sequence[Message],
    system_prompt: str,
    spec: ModelSpec,
    thinks: bool,
    sends_tools: bool,
    notes: list[str],
) -> list[dict[str, Any]]:
    outgoing = _answered_only([_outgoing(m) for m in path if _is_sendable(m)])
    _apply_reasoning_rule(outgoing, spec, thinks, sends_tools)
    for item in outgoing:
        if item.source.role == "user" and item.source.attachments:
            item.payload["content"] = user_content(item.source, spec, notes)
    messages = [item.payload for item in outgoing]
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


def _is_sendable(message: Message) -> bool:
    if message.status == "streaming":
        return False
    if message.role == "assistant" and message.status != "complete":
        return bool(message.content)
    return True


def _outgoing(message: Message) -> _Outgoing:
    payload: dict[str, Any] = {"role": message.role, "content": message.content}
    item = _Outgoing(message, payload)
    if message.role == "assistant" and message.status == "complete" and message.tool_calls:
        item.tool_call_ids = [call.id for call in message.tool_calls]
    if message.role == "tool":
        payload["tool_call_id"] = message.tool_call_id
    return item


def _answered_only(items: list[_Outgoing]) -> list[_Outgoing]:
    """Drop tool calls that got no result and results that answer no call; attach the rest."""
    answered = {i.source.tool_call_id for i in items if i.source.role == "tool"}
    kept_calls: set[str] = set()
    for item in items:
        item.tool_call_ids = [cid for cid in item.tool_call_ids if cid in answered]
        kept_calls.update(item.tool_call_ids)
        if item.tool_call_ids:
            item.payload["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in item.source.tool_calls
                if call.id in item.tool_call_ids
            ]
    result = []
    for item in items:
        if item.source.role == "tool" and item.source.tool_call_id not in kept_calls:
            continue
        if item.source.role == "assistant" and not item.tool_call_ids and not item.payload["content"]:
            continue  # e.g. a reply whose only tool calls were dropped
        result.append(item)
    return result


def _apply_reasoning_rule(items: list[_Outgoing], spec: ModelSpec, thinks: bool, sends_tools: bool) -> None:
    """Add `reasoning_content` exactly where the model's pass-back rule wants it (§6, §12).

    with_tools (V4.1): a request with `tools` replays the full reasoning of every earlier
    assistant turn; a request without tools sends none (the API would ignore it).

    A message the rule selects that has no reasoning (it was written without thinking, e.g.
    before the user switched thinking on) gets `""` when this request thinks, because the
    thinking-mode API checks that the field is there; otherwise it is left out. (Whether the
    real API takes `""` there is unverified, reference §6; it is the closest thing to the truth.)
    """
    rule = spec.reasoning_passback
    if rule == "never" or (rule == "with_tools" and not sends_tools):
        return
    last_user = max((i for i, item in enumerate(items) if item.source.role == "user"), default=-1)
    for index, item in enumerate(items):
        message = item.source
        if message.role != "assistant" or not (message.reasoning or message.thinking or thinks):
            continue
        if rule == "tool_loop":
            keep = index > last_user
        elif rule == "tool_turns":
            keep = bool(item.tool_call_ids)
        else:  # with_tools
            keep = True
        if keep:
            item.payload["reasoning_content"] = message.reasoning


# --- top-level fields -------------------------------------------------------------------------


def _body(
    spec: ModelSpec,
    settings: ChatSettings,
    messages: list[dict[str, Any]],
    tools: Sequence[dict[str, Any]] | None,
    tool_choice: str | dict[str, Any] | None,
    notes: list[str],
) -> dict[str, Any]:
    thinks = spec.thinks(settings.thinking, settings.reasoning_effort)
    body: dict[str, Any] = {"model": spec.id, "messages": messages}
    body.update(spec.thinking_params(settings.thinking, settings.reasoning_effort))
    max_tokens = spec.clamp_max_tokens(settings.max_tokens)
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    silent = set(spec.thinking_ignores) | set(spec.thinking_rejects) if thinks else set()
    for name in SAMPLING_PARAMETERS:
        value = getattr(settings, name)
        if name == "top_p":
            value = spec.sent_top_p(value, thinks)  # floored in thinking mode, fixed without
        if value is not None and name not in silent:
            body[name] = value
    if settings.json_output and spec.json_output:
        body["response_format"] = {"type": "json_object"}
    if tools and spec.tools:
        body["tools"] = list(tools)
        if tool_choice is not None:
            if not spec.allows_tool_choice(tool_choice, thinks):
                # Thinking mode answers a forced choice ("required" or a named function) with
                # 400 "Thinking mode does not support this tool_choice" (reference §12): the
                # model decides for itself instead.
                notes.append(
                    f"tool_choice {_choice_label(tool_choice)} is not allowed in thinking mode; "
                    "sent as auto (the model decides whether to call a tool)"
                )
                tool_choice = "auto"
            body["tool_choice"] = tool_choice
    # `stream_options` only ever goes with `"stream": true` (without it the API answers 400).
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    return body


def _choice_label(choice: str | dict[str, Any]) -> str:
    if isinstance(choice, str):
        return repr(choice)
    name = (choice.get("function") or {}).get("name")
    return f"function {name!r}" if name else "(a named function)"
