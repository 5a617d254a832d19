"""stream_into_message: a turn streamed into a Message keeps what arrived, however it ends."""

from __future__ import annotations

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import (
    ContentDelta,
    DeepSeekClient,
    ReasoningDelta,
    RetryPolicy,
    StreamInterrupted,
    UsageReport,
)
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.request import build_chat_request, build_continue_request
from deepseek_tui.conversation.tokens import estimate_request_tokens, estimate_tokens
from deepseek_tui.simulator import Fault
from deepseek_tui.turns import stream_into_message

CATALOGUE = Catalogue()


def start(model: str, thinking: bool = False):
    conversation = Conversation(settings=ChatSettings(model=model, thinking=thinking))
    conversation.add_user("tell me something")
    request = build_chat_request(conversation, CATALOGUE)
    message = conversation.start_assistant(model, CATALOGUE.get(model).thinks(thinking))
    return conversation, request, message


class CountingSaver:
    def __init__(self, conversation) -> None:
        self.conversation, self.snapshots = conversation, []

    def due(self) -> bool:
        return True

    def save(self) -> None:
        self.snapshots.append(self.conversation.active_path()[-1].content)


async def test_complete_turn_fills_message(simulator):
    conversation, request, message = start("deepseek-v4-pro", thinking=True)
    saver = CountingSaver(conversation)
    async with DeepSeekClient("sk-test", simulator.url) as client:
        events = [e async for e in stream_into_message(client, request, conversation, message, CATALOGUE,
                                                       currency="CNY", autosave=saver)]
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert message.status == "complete" and message.finish_reason == "stop"
    assert (message.content, message.reasoning) == (content, reasoning)
    assert message.reasoning_seconds is not None
    assert message.usage is not None and message.usage.reasoning_tokens > 0
    assert message.currency == "CNY" and message.cost > 0
    assert saver.snapshots and saver.snapshots[-1] and content.startswith(saver.snapshots[-1])


async def test_closing_mid_stream_marks_cancelled_with_text_so_far(simulator):
    simulator.token_rate = 200.0
    conversation, request, message = start("deepseek-flash")
    seen = []
    async with DeepSeekClient("sk-test", simulator.url) as client:
        stream = stream_into_message(client, request, conversation, message, CATALOGUE, currency="USD")
        async for event in stream:
            if isinstance(event, ContentDelta):
                seen.append(event.text)
                if len(seen) == 5:
                    break
        await stream.aclose()
    assert message.status == "cancelled"
    assert message.content == "".join(seen)
    # DeepSeek reports usage only on the finish chunk: the cost is estimated from the text.
    assert message.usage_estimated and message.usage is not None
    assert message.usage.completion_tokens == estimate_tokens(message.content)
    assert message.usage.prompt_tokens == estimate_request_tokens(request.body) == message.usage.cache_miss_tokens
    assert message.currency == "USD" and message.cost > 0


async def test_drop_keeps_partial_and_raises(simulator):
    simulator.inject(Fault.drop(after_chunks=6))
    conversation, request, message = start("deepseek-flash")
    seen = []
    async with DeepSeekClient("sk-test", simulator.url, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(StreamInterrupted):
            async for event in stream_into_message(client, request, conversation, message, CATALOGUE, currency="USD"):
                if isinstance(event, ContentDelta):
                    seen.append(event.text)
    assert message.status == "partial" and message.content == "".join(seen) != ""
    assert message.error
    assert message.usage_estimated and message.cost > 0


async def test_failure_before_output_marks_failed(simulator):
    simulator.inject(Fault.status(402))
    conversation, request, message = start("deepseek-flash")
    async with DeepSeekClient("sk-test", simulator.url) as client:
        with pytest.raises(Exception):
            async for _ in stream_into_message(client, request, conversation, message, CATALOGUE, currency="USD"):
                pass
    assert message.status == "failed" and "Insufficient Balance" in message.error
    assert message.usage is None and message.cost is None and not message.usage_estimated


async def test_a_continued_reply_adds_each_requests_usage_and_cost(simulator):
    """Continuing a cut reply is a second request: both are counted, neither replaces the other."""
    simulator.inject(Fault.drop(after_chunks=6))
    conversation, request, message = start("deepseek-flash")
    async with DeepSeekClient("sk-test", simulator.url, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(StreamInterrupted):
            async for _ in stream_into_message(client, request, conversation, message, CATALOGUE, currency="USD"):
                pass
        first_usage, first_cost = message.usage, message.cost
        continuation = build_continue_request(conversation, message.id, CATALOGUE)
        conversation.resume_assistant(message.id)
        events = [e async for e in stream_into_message(client, continuation, conversation, message, CATALOGUE,
                                                       currency="USD")]
    reported = next(e.usage for e in events if isinstance(e, UsageReport))
    assert message.status == "complete"
    assert message.usage == first_usage + reported
    assert message.context_usage == message.last_request_usage == reported  # the gauge's figure
    assert message.cost > first_cost > 0
    assert message.usage_estimated  # the first request's part is still an estimate


async def test_an_estimate_counts_the_previous_requests_prompt_as_cached(simulator):
    """The prompt of the turn before is a cached prefix: an estimate prices it at the hit rate."""
    simulator.token_rate = 200.0
    conversation, request, first = start("deepseek-flash")
    async with DeepSeekClient("sk-test", simulator.url) as client:
        async for _ in stream_into_message(client, request, conversation, first, CATALOGUE, currency="USD"):
            pass
        conversation.add_user("and more, please")
        second_request = build_chat_request(conversation, CATALOGUE)
        second = conversation.start_assistant("deepseek-flash", False)
        stream = stream_into_message(client, second_request, conversation, second, CATALOGUE, currency="USD")
        deltas = 0
        async for event in stream:
            deltas += isinstance(event, ContentDelta)
            if deltas == 5:
                break
        await stream.aclose()
    assert second.status == "cancelled" and second.usage_estimated
    assert not first.usage_estimated and first.usage.prompt_tokens > 0
    prompt = estimate_request_tokens(second_request.body)
    assert second.usage.cache_hit_tokens == min(prompt, first.usage.prompt_tokens) > 0
    assert second.usage.cache_miss_tokens == prompt - second.usage.cache_hit_tokens


class BrokenAfterTwoDeltas:
    """A streamer that fails in an unexpected way (not a DeepSeekError) mid-answer."""

    async def stream_chat(self, body: dict, *, beta: bool = False):
        yield ContentDelta("Hello, ")
        yield ContentDelta("world")
        raise RuntimeError("socket library bug")


async def test_an_unexpected_error_keeps_the_partial_answer():
    conversation, request, message = start("deepseek-flash")
    with pytest.raises(RuntimeError):
        async for _ in stream_into_message(BrokenAfterTwoDeltas(), request, conversation, message, CATALOGUE,
                                           currency="USD"):
            pass
    assert message.status == "partial" and message.content == "Hello, world"
    assert message.error == "socket library bug" and message.usage_estimated
