"""DeepSeekClient against the local simulator: stream layouts, request shape, non-streaming calls."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from deepseek_tui import __version__
from deepseek_tui.client import (
    ContentDelta,
    DeepSeekClient,
    KeepAlive,
    ReasoningDelta,
    RetryPolicy,
    StreamEnd,
    Timeouts,
    ToolCallDelta,
    UsageReport,
)
from deepseek_tui.simulator import Fault

FAST_TIMEOUTS = Timeouts(connect=2.0, idle=2.0, deadline=30.0)  # a guard: no test here is about it
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


def chat_body(
    model: str = "deepseek-flash", text: str = "Hello there", thinking: bool = False, **extra: Any
) -> dict[str, Any]:
    mode = {"type": "enabled" if thinking else "disabled"}
    return {"model": model, "messages": [{"role": "user", "content": text}], "thinking": mode, **extra}


def request_body(request: Any) -> dict[str, Any]:
    body = request.body
    if isinstance(body, (bytes, str)):
        body = json.loads(body)
    return body


def header(request: Any, name: str) -> str | None:
    headers = request.headers
    for key, value in headers.items() if hasattr(headers, "items") else headers:
        if key.lower() == name.lower():
            return value
    return None


@pytest.fixture
async def client(simulator):
    async with DeepSeekClient("sk-test", simulator.url, timeouts=FAST_TIMEOUTS, retry=FAST_RETRY) as client:
        yield client


class Collected:
    def __init__(self, events: list) -> None:
        self.events = events
        self.content = "".join(e.text for e in events if isinstance(e, ContentDelta))
        self.reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        self.end = events[-1] if events and isinstance(events[-1], StreamEnd) else None
        calls: dict[int, list] = {}
        for e in events:
            if isinstance(e, ToolCallDelta):
                call = calls.setdefault(e.index, [None, None, ""])
                call[0] = call[0] or e.id
                call[1] = call[1] or e.name
                call[2] += e.arguments
        self.tool_calls = [tuple(calls[i]) for i in sorted(calls)]


async def collect(client: DeepSeekClient, body: dict[str, Any], **kwargs: Any) -> Collected:
    return Collected([event async for event in client.stream_chat(body, **kwargs)])


def raw_chunk(delta: Any, finish: str | None = None, **top: Any) -> bytes:
    data = {
        "id": "8f7c2a52-7a43-4b5e-9d43-2d0b7bbde5f1",
        "object": "chat.completion.chunk",
        "created": 1766977600,
        "model": "deepseek-chat",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **top,
    }
    return json.dumps(data, ensure_ascii=False).encode()


# --- streams from the simulator -------------------------------------------------------------


async def test_plain_stream_ends_with_usage_and_stream_end(client, simulator) -> None:
    got = await collect(client, chat_body())
    assert got.content and not got.reasoning
    assert isinstance(got.events[-2], UsageReport)
    assert sum(isinstance(e, UsageReport) for e in got.events) == 1
    end = got.end
    assert end is not None and end.finish_reason == "stop" and end.model == "deepseek-flash"
    assert end.usage == got.events[-2].usage and end.usage.completion_tokens > 0
    assert end.completion_id and UUID.match(end.completion_id)
    assert end.request_id


async def test_request_shape_headers_and_path(client, simulator) -> None:
    await collect(client, chat_body(stream_options={"include_usage": False}))
    request = simulator.requests[-1]
    assert request.method == "POST" and request.path == "/chat/completions"
    body = request_body(request)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert header(request, "authorization") == "Bearer ****test"  # the simulator records it redacted
    assert header(request, "user-agent") == f"deepseek-tui/{__version__}"


@pytest.mark.parametrize("suffix", ["/", "/v1", "/v1/"])
async def test_base_url_variants(simulator, suffix: str) -> None:
    async with DeepSeekClient("sk-test", simulator.url + suffix, timeouts=FAST_TIMEOUTS) as client:
        got = await collect(client, chat_body())
        balance = await client.balance()
    assert got.end is not None
    assert simulator.requests[0].path == "/chat/completions"
    assert simulator.requests[1].path == "/user/balance"
    assert balance.infos


async def test_beta_uses_the_beta_base(client, simulator) -> None:
    got = await collect(client, chat_body(), beta=True)
    assert got.end is not None
    assert simulator.requests[-1].path == "/beta/chat/completions"


async def test_thinking_stream_reasoning_then_content(client) -> None:
    got = await collect(client, chat_body(thinking=True))
    assert got.reasoning and got.content
    kinds = [type(e) for e in got.events if isinstance(e, (ReasoningDelta, ContentDelta))]
    assert kinds.index(ContentDelta) > max(i for i, k in enumerate(kinds) if k is ReasoningDelta)
    assert got.end.model == "deepseek-flash"
    assert got.end.usage.reasoning_tokens > 0


async def test_stream_end_reports_the_effective_model(client) -> None:
    got = await collect(client, chat_body("deepseek-v4-flash"))  # a retired alias, still routed
    assert not got.reasoning
    assert got.end.model == "deepseek-flash"


async def test_tool_call_stream(client) -> None:
    got = await collect(client, chat_body(text="What's the weather in Hangzhou?", tools=[WEATHER_TOOL]))
    assert got.end.finish_reason == "tool_calls"
    assert len(got.tool_calls) == 1
    call_id, name, arguments = got.tool_calls[0]
    assert call_id.startswith("call_00_") and name == "get_weather"
    assert isinstance(json.loads(arguments), dict)


async def test_keep_alives_are_reported(client, simulator) -> None:
    simulator.keepalives = 3
    got = await collect(client, chat_body())
    first_output = next(i for i, e in enumerate(got.events) if isinstance(e, ContentDelta))
    assert sum(isinstance(e, KeepAlive) for e in got.events[:first_output]) == 3
    assert got.end is not None


async def test_split_writes_and_crlf_give_the_same_answer(client, simulator) -> None:
    plain = await collect(client, chat_body(thinking=True))
    simulator.split_writes = True
    simulator.crlf = True
    split = await collect(client, chat_body(thinking=True))
    assert (split.content, split.reasoning) == (plain.content, plain.reasoning)
    assert split.end.usage == plain.end.usage


async def test_usage_on_a_separate_empty_choices_chunk(client, simulator) -> None:
    deepseek_style = await collect(client, chat_body())
    simulator.openai_usage_chunk = True
    openai_style = await collect(client, chat_body())
    assert openai_style.end.usage == deepseek_style.end.usage
    assert openai_style.content == deepseek_style.content


# --- byte-exact layouts via raw responses ---------------------------------------------------


async def test_raw_stream_edge_cases(client, simulator) -> None:
    accented = raw_chunk({"content": "café 深度"})
    cut = accented.index("é".encode()) + 1  # inside the two-byte é
    cut2 = accented.index("深".encode()) + 2  # inside the three-byte 深
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 10,
    }
    chunks = [
        b": keep-alive\r\n\r\n",
        b"data:" + raw_chunk({"role": "assistant", "content": None, "reasoning_content": ""}) + b"\r\n\r\n",
        b"data: " + raw_chunk({"content": None, "reasoning_content": "hmm"}, usage=None) + b"\r\n\r\n",
        b": keep-alive\r\n\r\n",
        b"data: " + accented[:cut],
        accented[cut:cut2],
        accented[cut2:] + b"\r",
        b"\n\r\n",
        b"data: " + raw_chunk({"content": "", "reasoning_content": None}) + b"\n\n",
        b"data: " + raw_chunk({"content": "!", "reasoning_content": None}, "stop") + b"\n\n",
        b"data: "
        + json.dumps({"id": "8f7c2a52", "model": "deepseek-chat", "choices": [], "usage": usage}).encode()
        + b"\n\n",
        b"data: [DONE]\n\n",
    ]
    simulator.inject(
        Fault.raw(headers={"content-type": "text/event-stream", "x-ds-trace-id": "trace-raw"}, chunks=chunks)
    )
    got = await collect(client, chat_body())
    output = [e for e in got.events if not isinstance(e, (UsageReport, StreamEnd))]
    assert output == [
        KeepAlive(),
        ReasoningDelta("hmm"),
        KeepAlive(),
        ContentDelta("café 深度"),
        ContentDelta("!"),
    ]
    assert got.end.finish_reason == "stop"
    assert got.end.request_id == "trace-raw"
    assert got.end.usage.prompt_tokens == 10 and got.end.usage.completion_tokens == 5


# --- non-streaming calls --------------------------------------------------------------------


async def test_chat_matches_the_stream(client, simulator) -> None:
    streamed = await collect(client, chat_body(thinking=True))
    result = await client.chat(chat_body(thinking=True))
    assert (result.content, result.reasoning) == (streamed.content, streamed.reasoning)
    assert result.finish_reason == "stop" and result.model == "deepseek-flash"
    assert result.usage == streamed.end.usage
    assert result.request_id and result.completion_id
    sent = request_body(simulator.requests[-1])
    assert sent["stream"] is False and "stream_options" not in sent  # the API answers 400 to that


async def test_chat_tool_calls(client) -> None:
    result = await client.chat(chat_body(text="weather in Paris?", tools=[WEATHER_TOOL]))
    assert result.finish_reason == "tool_calls"
    assert [c.name for c in result.tool_calls] == ["get_weather"]
    assert json.loads(result.tool_calls[0].arguments)


async def test_chat_tolerates_leading_blank_lines(client, simulator) -> None:
    body = {
        "id": "x",
        "model": "deepseek-chat",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    }
    simulator.inject(
        Fault.raw(headers={"content-type": "application/json"}, chunks=[b"\n\n", b"\n", json.dumps(body).encode()])
    )
    result = await client.chat(chat_body())
    assert result.content == "ok" and result.usage is None


async def test_fim_and_stream_fim(client, simulator) -> None:
    result = await client.fim("deepseek-flash", "def fib(a):\n", suffix="    return fib(a-1) + fib(a-2)", max_tokens=64)
    assert result.text and result.finish_reason in ("stop", "length")
    assert simulator.requests[-1].path == "/beta/completions"
    streamed = [
        e
        async for e in client.stream_fim(
            "deepseek-flash", "def fib(a):\n", suffix="    return fib(a-1) + fib(a-2)", max_tokens=64
        )
    ]
    assert "".join(e.text for e in streamed if isinstance(e, ContentDelta)) == result.text
    assert isinstance(streamed[-1], StreamEnd)


async def test_list_models(client, simulator) -> None:
    models = await client.list_models()
    ids = [m.id for m in models]
    assert ids == ["deepseek-flash", "deepseek-v4-pro"]
    assert simulator.requests[-1].method == "GET" and simulator.requests[-1].path == "/models"


async def test_balance_amounts_are_decimals(client) -> None:
    balance = await client.balance()
    assert isinstance(balance.is_available, bool)
    info = balance.infos[0]
    assert info.currency in ("CNY", "USD")
    assert isinstance(info.total, Decimal)
    assert info.total == info.granted + info.topped_up


# --- read pacing ------------------------------------------------------------------------------


async def test_a_slow_stream_is_read_in_batches(simulator, pauses) -> None:
    """After a read that waited for the network the client pauses, so later tokens come together.

    Counted in pauses (reads that waited), not in gaps between deltas as the consumer sees
    them: a loaded machine splits a batch with gaps of its own.
    """
    simulator.token_rate = 100.0  # a token every 10 ms
    simulator.answer_tokens = 30
    timeouts = Timeouts(connect=2.0, idle=2.0, deadline=10.0, read_pause=0.15)
    text: list[str] = []
    async with DeepSeekClient("sk-test", simulator.url, timeouts=timeouts) as client:
        async for event in client.stream_chat(chat_body()):
            if isinstance(event, ContentDelta):
                text.append(event.text)
    assert len(text) >= 20
    # Paced: about 15 tokens pile up during each pause, 2-3 pauses; unpaced: none; pausing
    # without reading the pile in one go: a pause per token (about 30).
    assert 1 <= pauses.count(("pause", 0.15)) <= 10
    simulator.token_rate = None
    assert "".join(text) == (await collect_text(simulator))


async def collect_text(simulator) -> str:
    async with DeepSeekClient("sk-test", simulator.url, timeouts=FAST_TIMEOUTS) as client:
        return "".join([e.text async for e in client.stream_chat(chat_body()) if isinstance(e, ContentDelta)])


@pytest.fixture
def pauses(monkeypatch) -> list:
    """Every asyncio.sleep of the client (its read pauses), in order, next to the deltas seen."""
    import asyncio

    from deepseek_tui.client import api

    log: list = []
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float, *args: Any) -> Any:
        log.append(("pause", delay))
        return await real_sleep(delay, *args)

    monkeypatch.setattr(api.asyncio, "sleep", recording_sleep)
    return log


def sse_event(delta: dict, finish: str | None = None) -> bytes:
    return b"data: " + raw_chunk(delta, finish) + b"\n\n"


async def test_a_fast_stream_is_not_paused(simulator, pauses) -> None:
    """Many items between waits mean a fast stream (reads batched already): pausing would only delay it."""
    burst = sse_event({"content": "x"}) * 150
    start, end = sse_event({"role": "assistant", "content": ""}), sse_event({}, "stop") + b"data: [DONE]\n\n"
    # The role chunk goes with the first burst: alone, it could make a read that waited on a
    # loaded machine, and the burst after it a second one with few items before it.
    simulator.inject(
        Fault.raw(headers={"content-type": "text/event-stream"}, chunks=[start + burst, *[burst] * 7, end], delay=0.05)
    )
    timeouts = Timeouts(connect=2.0, idle=2.0, deadline=20.0, read_pause=0.01)
    async with DeepSeekClient("sk-test", simulator.url, timeouts=timeouts) as paced:
        deltas = [e async for e in paced.stream_chat(chat_body()) if isinstance(e, ContentDelta) and e.text]
    assert len(deltas) == 8 * 150
    assert pauses.count(("pause", 0.01)) <= 1  # after the first wait only; a pause per burst would be 8


async def test_no_pause_once_the_finish_chunk_is_in(simulator, pauses) -> None:
    """The last token must reach the screen at once: nothing waits after the finish chunk."""
    chunks = [
        b": keep-alive\n\n",
        sse_event({"role": "assistant", "content": "one "}),
        sse_event({"content": "two "}),
        sse_event({"content": "end"}, "stop"),
        b"data: [DONE]\n\n",
    ]
    simulator.inject(Fault.raw(headers={"content-type": "text/event-stream"}, chunks=chunks, delay=0.05))
    timeouts = Timeouts(connect=2.0, idle=2.0, deadline=20.0, read_pause=0.01)
    async with DeepSeekClient("sk-test", simulator.url, timeouts=timeouts) as paced:
        async for event in paced.stream_chat(chat_body()):
            if isinstance(event, (ContentDelta, StreamEnd)):
                pauses.append(type(event).__name__)
    assert ("pause", 0.01) in pauses  # the reads before the finish waited and paused
    assert pauses[pauses.index("StreamEnd") - 1] == "ContentDelta"  # none after the finish chunk ("end")
