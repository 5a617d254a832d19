"""Request checking with the real API's statuses and messages (reference §2, §5.3, §7.1, §12).

The rules are V4.1's (reference §12): two models, retired names answered with the list of the
supported ones, reasoning pass-back whenever a thinking request carries tools, no forced
tool_choice in thinking mode, image parts for deepseek-flash only.

Type errors are reported the way DeepSeek's serde/axum layer words them ("Failed to deserialize
the JSON body into the target type: <path>: <reason> at line L column C"); rule violations use
the 400 messages captured from the real service.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from .models import DEFAULT_EFFORT, EFFORT_ALIASES, EFFORTS, FIM_MAX_TOKENS, MODEL_IDS, ModelRules, rules_for
from .tokens import count_text_tokens, prompt_text

ROLES = ("system", "user", "assistant", "tool")

_DEFAULT_MESSAGES = {
    400: "Invalid Format",
    402: "Insufficient Balance",
    422: "Invalid Parameters",
    429: "Rate Limit Reached",
    500: "Server Error",
    503: "Server Overloaded",
}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 422: "invalid_request_error"}

COMPLETIONS_OFF_BETA = (
    'completions api is only available when using beta api (set base_url="https://api.deepseek.com/beta")'
)
MISSING_AUTH_TEXT = "Authentication Fails (governor)"
SUPPORTED_MODELS = "The supported API model names are {names}, but you passed {model}"
PASSBACK = "The `reasoning_content` in the thinking mode must be passed back to the API."
TOOL_CHOICE_IN_THINKING = "Thinking mode does not support this tool_choice"
IMAGE_TOKENS = 384
"""What one image costs in prompt tokens (the documented maximum)."""
MAX_BODY_BYTES = 48 * 1024 * 1024
"""The largest request body (§12, "request body ≤ 48 MiB")."""
IMAGE_DATA_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
TOOL_WITHOUT_CALL = "Messages with role 'tool' must be a response to a preceding message with 'tool_calls'"
UNANSWERED_TOOL_CALLS = (
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
    "'tool_call_id'. (insufficient tool messages following tool_calls message)"
)
# The next wordings were never captured from the real service; they are our best guess (the
# tool-name ones are OpenAI's, whose rules DeepSeek's reference repeats, with §12's 128).
STREAM_OPTIONS_WITHOUT_STREAM = "stream_options should be set along with stream = true"
NO_VISION = "{model} does not support image input"
BAD_IMAGE_URL = "Invalid image_url: expected a data URL of a PNG, JPEG, WebP or GIF image in base64"


def body_too_large_message(limit: int) -> str:
    """Wording unverified: §12 gives the limit, not the error (413 is HTTP's status for it)."""
    amount = f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"
    return f"Request body too large: the limit is {amount}"


PREFIX_OFF_BETA = 'prefix mode is only available when using beta api (set base_url="https://api.deepseek.com/beta")'
PREFIX_NOT_LAST = "prefix mode is only supported on the last message, which must be an assistant message"
TOOL_NAME_PATTERN = (
    "Invalid 'tools[{index}].function.name': string does not match pattern. Expected a string that "
    "matches the pattern '^[a-zA-Z0-9_-]+$'."
)
TOOL_NAME_LENGTH = (
    "Invalid 'tools[{index}].function.name': string too long. Expected a string with maximum length "
    "{limit}, but got a string with length {length} instead."
)
TOOL_NAME_TWICE = "Duplicate function name in tools: '{name}'. Function names must be unique."
TOOL_NAME_MAX = 128
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")


class ApiError(Exception):
    """An error response: `status`, envelope `message` and `type`, or a plain-text body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        error_type: str | None = None,
        plain_text: bool = False,
    ) -> None:
        message = message or _DEFAULT_MESSAGES.get(status) or _status_phrase(status)
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type or _ERROR_TYPES.get(status, "unknown_error")
        self.plain_text = plain_text

    def body(self) -> bytes:
        if self.plain_text:
            return self.message.encode()
        return json.dumps(error_envelope(self.message, self.error_type), ensure_ascii=False).encode()


def error_envelope(message: str, error_type: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": None, "code": "invalid_request_error"}}


def invalid_key_error(api_key: str) -> ApiError:
    return ApiError(401, f"Authentication Fails, Your api key: ****{api_key[-4:]} is invalid")


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass
class ChatRequest:
    rules: ModelRules
    thinking: bool
    effort: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    tool_choice: Any
    stream: bool
    include_usage: bool
    max_tokens: int
    stop: list[str]
    json_mode: bool
    prefix: str | None
    prompt: str
    prompt_tokens: int
    images: int = 0


@dataclass
class FimRequest:
    rules: ModelRules
    prompt: str
    suffix: str
    echo: bool
    stream: bool
    include_usage: bool
    max_tokens: int
    stop: list[str] = field(default_factory=list)
    prompt_tokens: int = 0


class _Deserializer:
    """Builds serde-style 422 errors (status as for the `thinking` type error), located in the raw body."""

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def fail(self, path: str, reason: str, key: str | None = None, value: Any = None) -> ApiError:
        index = self._locate(key, value)
        line = self.raw.count("\n", 0, index) + 1
        column = index - (self.raw.rfind("\n", 0, index) + 1)
        prefix = f"{path}: " if path else ""
        return ApiError(
            422,
            f"Failed to deserialize the JSON body into the target type: {prefix}{reason} "
            f"at line {line} column {max(column, 1)}",
        )

    def _locate(self, key: str | None, value: Any) -> int:
        """Index just past the offending value (serde's error position), else the end of the body."""
        if key is not None:
            pattern = rf'"{re.escape(key)}"\s*:\s*{re.escape(json.dumps(value, ensure_ascii=False))}'
            found = re.search(pattern, self.raw)
            if found:
                return found.end()
        return len(self.raw.rstrip())


def serde_unexpected(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return "null"


def parse_body(raw: bytes) -> tuple[Any, str]:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text), text
    except json.JSONDecodeError as error:
        raise ApiError(
            400, f"Failed to parse the request body as JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def _stop_list(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    return [item for item in stop if isinstance(item, str) and item]


def _max_tokens(body: dict[str, Any], serde: _Deserializer, upper: int, default: int) -> int:
    value = body.get("max_tokens")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise serde.fail("max_tokens", f"invalid type: {serde_unexpected(value)}, expected u32", "max_tokens", value)
    if not 1 <= value <= upper:
        raise ApiError(400, f"Invalid max_tokens value, the valid range of max_tokens is [1, {upper}]")
    return value


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return bool(body.get("stream")) and isinstance(options, dict) and bool(options.get("include_usage"))


def supported_models_message(model: str) -> str:
    names = list(MODEL_IDS)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return SUPPORTED_MODELS.format(names=listed, model=model)


def _model_rules(body: dict[str, Any], serde: _Deserializer) -> ModelRules:
    if "model" not in body:
        raise serde.fail("", "missing field `model`")
    model = body["model"]
    if not isinstance(model, str):
        raise serde.fail("model", f"invalid type: {serde_unexpected(model)}, expected a string", "model", model)
    rules = rules_for(model)
    if rules is None:  # retired names (deepseek-chat, deepseek-reasoner) and unknown ones alike
        raise ApiError(400, supported_models_message(model))
    return rules


def _content(content: Any, role: str, path: str, serde: _Deserializer, rules: ModelRules) -> tuple[str | None, int]:
    """The text of a message's content and how many images it carries."""
    if content is None or isinstance(content, str):
        return content, 0
    if not isinstance(content, list) or not all(isinstance(part, dict) for part in content):
        raise serde.fail(path, "data did not match any variant of untagged enum ChatCompletionRequestContent")
    texts, images = [], 0
    for part in content:
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif (
            part.get("type") == "image_url"
            and role in ("user", "tool")
            and isinstance((part.get("image_url") or {}).get("url"), str)
        ):
            _check_image_url(part["image_url"]["url"])
            images += 1
        else:
            raise serde.fail(path, "data did not match any variant of untagged enum ChatCompletionRequestContent")
    if images and not rules.vision:
        raise ApiError(400, NO_VISION.format(model=rules.name))
    return "".join(texts), images


def _check_image_url(url: str) -> None:
    """A `data:` URL must name an image type and carry valid base64 (other URLs are not checked:
    whether DeepSeek fetches http(s) images is not documented)."""
    if not url.startswith("data:"):
        return
    header, comma, payload = url[len("data:") :].partition(",")
    media_type, _, encoding = header.partition(";")
    if not comma or encoding != "base64" or media_type not in IMAGE_DATA_TYPES:
        raise ApiError(400, BAD_IMAGE_URL)
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, BAD_IMAGE_URL) from None


def _check_messages(body: dict[str, Any], serde: _Deserializer, rules: ModelRules) -> tuple[list[dict[str, Any]], int]:
    if "messages" not in body:
        raise serde.fail("", "missing field `messages`")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise serde.fail("messages", f"invalid type: {serde_unexpected(messages)}, expected a sequence")
    if not messages:
        raise ApiError(400, "Invalid messages: the messages array must not be empty")
    normalized: list[dict[str, Any]] = []
    images = 0
    for index, message in enumerate(messages):
        path = f"messages[{index}]"
        if not isinstance(message, dict):
            raise serde.fail(path, f"invalid type: {serde_unexpected(message)}, expected internally tagged enum")
        if "role" not in message:
            raise serde.fail(path, "missing field `role`")
        role = message["role"]
        if role not in ROLES:
            variants = ", ".join(f"`{name}`" for name in ROLES)
            shown = role if isinstance(role, str) else serde_unexpected(role)
            raise serde.fail(f"{path}.role", f"unknown variant `{shown}`, expected one of {variants}", "role", role)
        if role != "assistant" and "content" not in message:
            raise serde.fail(path, "missing field `content`")
        if role == "tool" and "tool_call_id" not in message:
            raise serde.fail(path, "missing field `tool_call_id`")
        copy = dict(message)
        copy["content"], count = _content(message.get("content"), role, path, serde, rules)
        images += count
        normalized.append(copy)
    return normalized, images


def _check_tools(body: dict[str, Any], serde: _Deserializer) -> list[dict[str, Any]]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise serde.fail("tools", f"invalid type: {serde_unexpected(tools)}, expected a sequence")
    for index, tool in enumerate(tools):
        path = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise serde.fail(path, f"invalid type: {serde_unexpected(tool)}, expected struct Tool")
        kind = tool.get("type")
        if kind != "function":
            if kind is None:
                raise serde.fail(path, "missing field `type`")
            raise serde.fail(f"{path}.type", f"unknown variant `{kind}`, expected `function`", "type", kind)
        function = tool.get("function")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise serde.fail(f"{path}.function", "missing field `name`")
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        name = tool["function"]["name"]
        if not _TOOL_NAME.match(name):
            raise ApiError(400, TOOL_NAME_PATTERN.format(index=index))
        if len(name) > TOOL_NAME_MAX:
            raise ApiError(400, TOOL_NAME_LENGTH.format(index=index, limit=TOOL_NAME_MAX, length=len(name)))
        if name in seen:
            raise ApiError(400, TOOL_NAME_TWICE.format(name=name))
        seen.add(name)
    return tools


def _thinking_enabled(body: dict[str, Any], rules: ModelRules, serde: _Deserializer) -> bool:
    thinking = body.get("thinking")
    if thinking is None:
        return rules.thinking_by_default
    if not isinstance(thinking, dict):
        raise serde.fail(
            "thinking",
            f"invalid type: {serde_unexpected(thinking)}, expected struct ThinkingOptions",
            "thinking",
            thinking,
        )
    kind = thinking.get("type")
    if kind not in ("enabled", "disabled"):
        raise serde.fail("thinking.type", f"unknown variant `{kind}`, expected `enabled` or `disabled`", "type", kind)
    return kind == "enabled"


def _effort(body: dict[str, Any], serde: _Deserializer) -> str:
    """The effort the request runs at (aliases resolved); `none` means no thinking."""
    effort = body.get("reasoning_effort")
    if effort is None:
        return DEFAULT_EFFORT
    effort = EFFORT_ALIASES.get(effort, effort) if isinstance(effort, str) else effort
    if effort not in EFFORTS:
        variants = ", ".join(f"`{name}`" for name in (*EFFORTS, *EFFORT_ALIASES))
        shown = effort if isinstance(effort, str) else serde_unexpected(effort)
        raise serde.fail(
            "reasoning_effort",
            f"unknown variant `{shown}`, expected one of {variants}",
            "reasoning_effort",
            body.get("reasoning_effort"),
        )
    return effort


def _json_mode(body: dict[str, Any], serde: _Deserializer) -> bool:
    response_format = body.get("response_format")
    if response_format is None:
        return False
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object"):
        raise serde.fail(
            "response_format.type", f"unknown variant `{kind}`, expected `text` or `json_object`", "type", kind
        )
    return kind == "json_object"


def _has_reasoning(message: dict[str, Any]) -> bool:
    return isinstance(message.get("reasoning_content"), str)


def _check_reasoning_passback(messages: list[dict[str, Any]]) -> None:
    """A thinking request with tools must carry `reasoning_content` on every earlier assistant
    turn (reference §12); the continued (prefix) message may leave it out."""
    for message in messages:
        if message["role"] == "assistant" and not message.get("prefix") and not _has_reasoning(message):
            raise ApiError(400, f"{PASSBACK} [trace_id={uuid.uuid4().hex[:16]}]")


def _check_tool_choice(choice: Any) -> None:
    if choice is None or choice in ("auto", "none"):
        return
    raise ApiError(400, TOOL_CHOICE_IN_THINKING)  # "required", a named function, anything forced


def _check_tool_pairing(messages: list[dict[str, Any]]) -> None:
    """Tool messages answer the assistant tool_calls right before them, and every call is answered."""
    open_calls: set[str] | None = None  # ids awaiting results, None outside a run of tool messages
    for message in messages:
        if message["role"] == "tool":
            if open_calls is None or message.get("tool_call_id") not in open_calls:
                raise ApiError(400, TOOL_WITHOUT_CALL)
            open_calls.discard(message["tool_call_id"])
            continue
        if open_calls:
            raise ApiError(400, UNANSWERED_TOOL_CALLS)
        calls = message.get("tool_calls") if message["role"] == "assistant" else None
        open_calls = {str(call.get("id")) for call in calls if isinstance(call, dict)} if calls else None
    if open_calls and not messages[-1].get("prefix"):
        raise ApiError(400, UNANSWERED_TOOL_CALLS)


def _prefix(messages: list[dict[str, Any]], beta: bool) -> str | None:
    prefixed = [i for i, m in enumerate(messages) if m.get("prefix")]
    if not prefixed:
        return None
    if not beta:
        raise ApiError(400, PREFIX_OFF_BETA)
    last = len(messages) - 1
    if prefixed != [last] or messages[last]["role"] != "assistant":
        raise ApiError(400, PREFIX_NOT_LAST)
    return messages[last].get("content") or ""


def validate_chat(body: Any, raw: str, beta: bool) -> ChatRequest:
    serde = _Deserializer(raw)
    if not isinstance(body, dict):
        raise serde.fail("", f"invalid type: {serde_unexpected(body)}, expected struct ChatCompletionRequest")
    rules = _model_rules(body, serde)
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise ApiError(400, STREAM_OPTIONS_WITHOUT_STREAM)
    messages, images = _check_messages(body, serde, rules)
    tools = _check_tools(body, serde)
    effort = _effort(body, serde)
    thinking = _thinking_enabled(body, rules, serde) and effort != "none"
    json_mode = _json_mode(body, serde)
    max_tokens = _max_tokens(body, serde, rules.max_output_tokens, rules.default_budget(thinking, effort))

    n = body.get("n")
    if n is not None and n != 1:
        raise ApiError(400, "Invalid n value (currently only n = 1 is supported)")
    prefix = _prefix(messages, beta)
    _check_tool_pairing(messages)
    if thinking:
        _check_tool_choice(body.get("tool_choice"))
        if tools:
            _check_reasoning_passback(messages)

    prompt = prompt_text(messages, tools)
    prompt_tokens = count_text_tokens(prompt) + images * IMAGE_TOKENS
    requested_completion = body.get("max_tokens") or 0
    if prompt_tokens + requested_completion > rules.context_tokens:
        raise ApiError(
            400,
            f"This model's maximum context length is {rules.context_tokens} tokens. However, you requested "
            f"{prompt_tokens + requested_completion} tokens ({prompt_tokens} in the messages, "
            f"{requested_completion} in the completion). Please reduce the length of the messages or completion.",
        )
    return ChatRequest(
        rules=rules,
        thinking=thinking,
        effort=effort,
        messages=messages,
        tools=tools,
        tool_choice=body.get("tool_choice"),
        stream=bool(body.get("stream")),
        include_usage=_include_usage(body),
        max_tokens=max_tokens,
        stop=_stop_list(body),
        json_mode=json_mode,
        prefix=prefix,
        prompt=prompt,
        prompt_tokens=prompt_tokens,
        images=images,
    )


def validate_fim(body: Any, raw: str) -> FimRequest:
    serde = _Deserializer(raw)
    if not isinstance(body, dict):
        raise serde.fail("", f"invalid type: {serde_unexpected(body)}, expected struct CompletionRequest")
    rules = _model_rules(body, serde)
    if not rules.supports_fim:
        raise ApiError(400, f"{rules.name} does not support FIM completion")  # wording unverified
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise ApiError(400, STREAM_OPTIONS_WITHOUT_STREAM)
    if "prompt" not in body:
        raise serde.fail("", "missing field `prompt`")
    prompt = body["prompt"]
    if not isinstance(prompt, str):
        raise serde.fail("prompt", f"invalid type: {serde_unexpected(prompt)}, expected a string", "prompt", prompt)
    suffix = body.get("suffix") or ""
    max_tokens = _max_tokens(body, serde, FIM_MAX_TOKENS, FIM_MAX_TOKENS)
    return FimRequest(
        rules=rules,
        prompt=prompt,
        suffix=suffix if isinstance(suffix, str) else "",
        echo=bool(body.get("echo")),
        stream=bool(body.get("stream")),
        include_usage=_include_usage(body),
        max_tokens=max_tokens,
        stop=_stop_list(body),
        prompt_tokens=count_text_tokens(prompt + suffix if isinstance(suffix, str) else prompt),
    )
