"""Differential test: the official `openai` SDK and DeepSeekClient read the same simulator streams
and must assemble the same content, reasoning, tool calls, finish reason and usage."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from deepseek_tui.client import (
    ContentDelta,
    DeepSeekClient,
    ReasoningDelta,
    StreamEnd,
    Timeouts,
    ToolCallDelta,
    Usage,
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather of a city.",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}
CASES = {
    "plain": (
        {
            "model": "deepseek-flash",
            "thinking": {"type": "disabled"},
            "messages": [{"role": "user", "content": "Explain SSE briefly"}],
        },
        {},
    ),
    "thinking": ({"model": "deepseek-flash", "messages": [{"role": "user", "content": "Is 9.11 > 9.8?"}]}, {}),
    "tool_call": (
        {
            "model": "deepseek-flash",
            "thinking": {"type": "disabled"},
            "messages": [{"role": "user", "content": "What's the weather in Hangzhou?"}],
            "tools": [WEATHER_TOOL],
        },
        {},
    ),
    "thinking_split_crlf": (
        {"model": "deepseek-flash", "messages": [{"role": "user", "content": "Split me"}]},
        {"split_writes": True, "crlf": True, "keepalives": 2},
    ),
    "tool_call_v4_split_crlf": (
        {
            "model": "deepseek-v4-pro",
            "messages": [{"role": "user", "content": "Use the weather tool for Paris"}],
            "tools": [WEATHER_TOOL],
        },
        {"split_writes": True, "crlf": True},
    ),
}


def assemble(
    content: list[str], reasoning: list[str], calls: dict[int, list], finish: str | None, usage: Usage | None
) -> dict[str, Any]:
    return {
        "content": "".join(content),
        "reasoning": "".join(reasoning),
        "tool_calls": [tuple(calls[i]) for i in sorted(calls)],
        "finish_reason": finish,
        "usage": usage,
    }


async def read_with_openai(url: str, body: dict[str, Any]) -> dict[str, Any]:
    sdk = openai.AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0, timeout=10)
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, list] = {}
    finish = None
    usage = None
    try:
        params = {k: v for k, v in body.items() if k != "thinking"}
        extra_body = {"thinking": body["thinking"]} if "thinking" in body else None  # DeepSeek's own field
        stream = await sdk.chat.completions.create(
            **params, extra_body=extra_body, stream=True, stream_options={"include_usage": True}
        )
        async for chunk in stream:
            if chunk.usage is not None:
                usage = Usage.from_api(chunk.usage.model_dump())
            for choice in chunk.choices:
                delta = choice.delta
                extra = delta.model_extra or {}
                if extra.get("reasoning_content"):
                    reasoning.append(extra["reasoning_content"])
                if delta.content:
                    content.append(delta.content)
                for call in delta.tool_calls or ():
                    entry = calls.setdefault(call.index, [None, None, ""])
                    entry[0] = entry[0] or call.id
                    entry[1] = entry[1] or (call.function.name if call.function else None)
                    entry[2] += (call.function.arguments or "") if call.function else ""
                if choice.finish_reason:
                    finish = choice.finish_reason
    finally:
        await sdk.close()
    return assemble(content, reasoning, calls, finish, usage)


async def read_with_client(url: str, body: dict[str, Any]) -> dict[str, Any]:
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, list] = {}
    end = None
    async with DeepSeekClient("sk-test", url, timeouts=Timeouts(connect=2, idle=5, deadline=20)) as client:
        async for event in client.stream_chat(body):
            if isinstance(event, ContentDelta):
                content.append(event.text)
            elif isinstance(event, ReasoningDelta):
                reasoning.append(event.text)
            elif isinstance(event, ToolCallDelta):
                entry = calls.setdefault(event.index, [None, None, ""])
                entry[0] = entry[0] or event.id
                entry[1] = entry[1] or event.name
                entry[2] += event.arguments
            elif isinstance(event, StreamEnd):
                end = event
    assert end is not None
    return assemble(content, reasoning, calls, end.finish_reason, end.usage)


@pytest.mark.parametrize("case", list(CASES))
async def test_openai_sdk_and_client_assemble_the_same_answer(simulator, case: str) -> None:
    body, settings = CASES[case]
    for name, value in settings.items():
        setattr(simulator, name, value)
    ours = await read_with_client(simulator.url, body)
    simulator.reset_cache()  # the second read must see the same cache hits as the first
    theirs = await read_with_openai(simulator.url, body)
    assert ours == theirs
    assert ours["content"] or ours["tool_calls"]
    assert ours["usage"] is not None and ours["finish_reason"]
    if "thinking" in case:
        assert ours["reasoning"]
    if "tool_call" in case:
        assert ours["finish_reason"] == "tool_calls" and ours["tool_calls"][0][1] == "get_weather"


async def test_openai_style_usage_chunk_reads_the_same(simulator) -> None:
    body, _ = CASES["thinking"]
    simulator.openai_usage_chunk = True
    ours = await read_with_client(simulator.url, body)
    simulator.reset_cache()
    theirs = await read_with_openai(simulator.url, body)
    assert ours == theirs and ours["usage"].reasoning_tokens > 0
