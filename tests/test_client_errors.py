"""Typed errors, their messages and remedies, key redaction; chunk-to-event mapping."""

from __future__ import annotations

import pytest

from deepseek_tui.client import (
    AuthenticationFailed,
    BadRequest,
    ContentDelta,
    DeepSeekError,
    InsufficientBalance,
    InvalidParameters,
    RateLimited,
    ReasoningDelta,
    ServerError,
    ServerOverloaded,
    StreamAssembler,
    StreamInterrupted,
    ToolCallDelta,
    UnexpectedStatus,
    error_for_status,
    root_url,
)
from deepseek_tui.client.errors import redact, register_secret, unregister_secret
from deepseek_tui.client.policy import RetryPolicy

ENVELOPE = '{"error":{"message":"%s","type":"invalid_request_error","param":null,"code":"invalid_request_error"}}'


@pytest.mark.parametrize(
    ("status", "cls", "retryable", "remedy_word"),
    [
        (400, BadRequest, False, "Fix the request body"),
        (401, AuthenticationFailed, False, "API key"),
        (402, InsufficientBalance, False, "Top up"),
        (422, InvalidParameters, False, "Fix the parameters"),
        (429, RateLimited, True, "Pace"),
        (500, ServerError, True, "Retry"),
        (503, ServerOverloaded, True, "Retry"),
        (418, UnexpectedStatus, False, "base URL"),
    ],
)
def test_status_maps_to_typed_error_with_message_and_remedy(status, cls, retryable, remedy_word) -> None:
    error = error_for_status(status, (ENVELOPE % "server says no").encode(), request_id="trace-1")
    assert type(error) is cls
    assert error.status == status
    assert error.message == "server says no"
    assert error.retryable is retryable
    assert error.request_id == "trace-1"
    assert remedy_word in error.remedy
    assert error.cause
    text = str(error)
    assert "\n" not in text
    assert str(status) in text and "server says no" in text and error.remedy in text


def test_plain_text_body_is_the_message() -> None:
    error = error_for_status(401, b"Authentication Fails (governor)")
    assert isinstance(error, AuthenticationFailed)
    assert error.message == "Authentication Fails (governor)"


def test_empty_body_falls_back_to_the_cause() -> None:
    error = error_for_status(503, b"")
    assert error.message == ""
    assert "overloaded" in str(error)


def test_registered_key_is_scrubbed_from_every_message() -> None:
    key = "sk-0123456789abcdef0123456789abcdef"
    register_secret(key)
    try:
        error = DeepSeekError(f"boom {key} Authorization: Bearer {key}")
        for text in (str(error), repr(error), error.message, *map(str, error.args)):
            assert key not in text
        assert "****abcd" in redact("Your api key: ****abcd is invalid")
    finally:
        unregister_secret(key)


def test_unregistered_key_shapes_and_bearer_tokens_are_scrubbed_anyway() -> None:
    text = redact("key sk-abcdefghijklmnopqrstuvwxyz and Bearer short-token")
    assert "abcdefghijklmnop" not in text and "short-token" not in text


def test_stream_interrupted_carries_partials_and_is_retryable_only_without_output() -> None:
    with_output = StreamInterrupted("eof", partial_content="Hel", partial_reasoning="think")
    assert (with_output.partial_content, with_output.partial_reasoning) == ("Hel", "think")
    assert not with_output.retryable
    assert with_output.reason == "eof"
    assert "kept" in str(with_output)
    assert StreamInterrupted("eof").retryable
    assert not StreamInterrupted("stream_error").retryable


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://api.deepseek.com", "https://api.deepseek.com"),
        ("https://api.deepseek.com/", "https://api.deepseek.com"),
        ("https://api.deepseek.com/v1", "https://api.deepseek.com"),
        ("https://api.deepseek.com/v1/", "https://api.deepseek.com"),
        ("http://127.0.0.1:8080/beta", "http://127.0.0.1:8080"),
    ],
)
def test_root_url(given: str, root: str) -> None:
    assert root_url(given) == root


def test_backoff_is_exponential_capped_and_jittered() -> None:
    plain = RetryPolicy(base_delay=0.5, max_delay=3, jitter=False)
    assert [plain.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 3, 3]
    jittered = RetryPolicy(base_delay=1, max_delay=8, jitter=True)
    delays = {jittered.delay(3) for _ in range(20)}
    assert all(2 <= d <= 4 for d in delays) and len(delays) > 1
    assert plain.delay(1, retry_after=2.5) == 2.5
    assert plain.delay(1, retry_after=100) == 3


def chunk(delta=None, finish=None, usage=None, model="deepseek-reasoner", choices=True):
    data = {"id": "c1", "object": "chat.completion.chunk", "model": model}
    data["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if choices else []
    if usage is not False:
        data["usage"] = usage
    return data


def test_assembler_maps_deltas_ignoring_null_and_empty() -> None:
    asm = StreamAssembler("requested")
    events = []
    for data in [
        chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
        chunk({"content": None, "reasoning_content": "think"}),
        chunk({"content": "", "reasoning_content": None}),
        chunk({"content": "Hi", "reasoning_content": None}),
        chunk(
            {"content": "!", "reasoning_content": None},
            finish="stop",
            usage={"prompt_tokens": 3, "completion_tokens": 4},
        ),
    ]:
        events += asm.feed(data)
    assert events == [ReasoningDelta("think"), ContentDelta("Hi"), ContentDelta("!")]
    assert (asm.reasoning, asm.content, asm.finish_reason, asm.model) == ("think", "Hi!", "stop", "deepseek-reasoner")
    assert asm.usage is not None and asm.usage.completion_tokens == 4
    assert asm.completion_id == "c1"


def test_assembler_usage_on_separate_empty_choices_chunk_last_non_null_wins() -> None:
    asm = StreamAssembler()
    asm.feed(chunk({"content": "a"}, usage={"prompt_tokens": 1}))
    asm.feed(chunk({}, finish="stop", usage=None))
    asm.feed(chunk(choices=False, usage={"prompt_tokens": 9, "completion_tokens": 2}))
    assert asm.usage.prompt_tokens == 9


def test_assembler_tool_calls_accumulate_by_index() -> None:
    asm = StreamAssembler()
    events = []
    events += asm.feed(
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_00_a", "type": "function", "function": {"name": "f", "arguments": ""}}
                ]
            }
        )
    )
    events += asm.feed(
        chunk(
            {
                "tool_calls": [
                    {"index": 1, "id": "call_01_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}
                ]
            }
        )
    )
    events += asm.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x"'}}]}))
    events += asm.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}, finish="tool_calls"))
    assert events[0] == ToolCallDelta(0, "call_00_a", "f", "")
    assert events[2] == ToolCallDelta(0, None, None, '{"x"')
    calls = asm.tool_calls
    assert [(c.index, c.id, c.name, c.arguments) for c in calls] == [
        (0, "call_00_a", "f", '{"x": 1}'),
        (1, "call_01_b", "g", "{}"),
    ]
    assert calls[0].to_api()["function"] == {"name": "f", "arguments": '{"x": 1}'}


def test_assembler_fim_text_choices() -> None:
    asm = StreamAssembler()
    events = asm.feed({"id": "f", "choices": [{"index": 0, "text": "    return a", "finish_reason": "stop"}]})
    assert events == [ContentDelta("    return a")] and asm.finish_reason == "stop"
