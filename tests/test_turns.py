"""Turn: a reply streamed into a Message keeps what arrived, however it ends; typed events say what happened."""

from __future__ import annotations

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import ContentDelta, DeepSeekClient, RetryPolicy, StreamInterrupted
from deepseek_tui.conversation.model import Conversation
from deepseek_tui.conversation.throttle import SaveThrottle
from deepseek_tui.conversation.tokens import estimate_request_tokens, estimate_tokens
from deepseek_tui.conversation.turn import (
    AnswerText,
    PhaseChanged,
    ReasoningText,
    TurnEnded,
    prepare_continue,
    prepare_reply,
)
from deepseek_tui.simulator import Fault

CATALOGUE = Catalogue()


def start(model: str, thinking: bool = False):
    conversation = Conversation(settings=ChatSettings(model=model, thinking=thinking))
    conversation.add_user("tell me something")
    turn = prepare_reply(conversation, CATALOGUE)
    return conversation, turn, turn.message


class CountingSaver:
    def __init__(self, conversation) -> None:
        self.conversation, self.snapshots = conversation, []

    def save(self) -> None:
        self.snapshots.append(self.conversation.active_path()[-1].content)


ALWAYS = SaveThrottle(interval=0.0)


async def test_complete_turn_fills_message(simulator):
    conversation, turn, message = start("deepseek-v4-pro", thinking=True)
    saver = CountingSaver(conversation)
    async with DeepSeekClient("sk-test", simulator.url) as client:
        events = [e async for e in turn.stream(client, currency="CNY", save=saver.save, throttle=ALWAYS)]
    content = "".join(e.text for e in events if isinstance(e, AnswerText))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningText))
    phases = [e.phase for e in events if isinstance(e, PhaseChanged)]
    assert phases == ["sending", "thinking", "answering", "done"] and turn.phase == "done"
    assert events[-1] == TurnEnded(message) and turn.error is None
    assert message.status == "complete" and message.finish_reason == "stop"
    assert (message.content, message.reasoning) == (content, reasoning)
    assert message.reasoning_seconds is not None
    assert message.usage is not None and message.usage.reasoning_tokens > 0
    assert message.currency == "CNY" and message.cost > 0
    assert saver.snapshots and saver.snapshots[-1] and content.startswith(saver.snapshots[-1])


async def test_closing_mid_stream_marks_cancelled_with_text_so_far(simulator):
    simulator.token_rate = 200.0
    conversation, turn, message = start("deepseek-flash")
    request = turn.request
    seen = []
    async with DeepSeekClient("sk-test", simulator.url) as client:
        stream = turn.stream(client, currency="USD")
        async for event in stream:
            if isinstance(event, AnswerText):
                seen.append(event.text)
                if len(seen) == 5:
                    break
        await stream.aclose()
    assert message.status == "cancelled" and turn.phase == "cancelled"
    assert message.content == "".join(seen)
    # DeepSeek reports usage only on the finish chunk: the cost is estimated from the text.
    assert message.usage_estimated and message.usage is not None
    assert message.usage.completion_tokens == estimate_tokens(message.content)
    assert message.usage.prompt_tokens == estimate_request_tokens(request.body) == message.usage.cache_miss_tokens
    assert message.currency == "USD" and message.cost > 0


async def test_drop_keeps_partial_and_ends_with_the_error(simulator):
    simulator.inject(Fault.drop(after_chunks=6))
    conversation, turn, message = start("deepseek-flash")
    seen = []
    async with DeepSeekClient("sk-test", simulator.url, retry=RetryPolicy(max_attempts=1)) as client:
        events = [e async for e in turn.stream(client, currency="USD")]
    seen = [e.text for e in events if isinstance(e, AnswerText)]
    assert isinstance(turn.error, StreamInterrupted) and events[-1] == TurnEnded(message, turn.error)
    assert turn.phase == "error"
    assert message.status == "partial" and message.content == "".join(seen) != ""
    assert message.error
    assert message.usage_estimated and message.cost > 0


async def test_failure_before_output_marks_failed(simulator):
    simulator.inject(Fault.status(402))
    conversation, turn, message = start("deepseek-flash")
    async with DeepSeekClient("sk-test", simulator.url) as client:
        async for _ in turn.stream(client, currency="USD"):
            pass
    assert turn.error is not None and turn.phase == "error"
    assert message.status == "failed" and "Insufficient Balance" in message.error
    assert message.usage is None and message.cost is None and not message.usage_estimated


async def test_a_continued_reply_adds_each_requests_usage_and_cost(simulator):
    """Continuing a cut reply is a second request: both are counted, neither replaces the other."""
    simulator.inject(Fault.drop(after_chunks=6))
    conversation, turn, message = start("deepseek-flash")
    async with DeepSeekClient("sk-test", simulator.url, retry=RetryPolicy(max_attempts=1)) as client:
        async for _ in turn.stream(client, currency="USD"):
            pass
        assert isinstance(turn.error, StreamInterrupted)
        first_usage, first_cost = message.usage, message.cost
        continuation = prepare_continue(conversation, message.id, CATALOGUE)
        assert continuation.message is message and continuation.continued
        async for _ in continuation.stream(client, currency="USD"):
            pass
    reported = message.last_request_usage
    assert reported is not None and reported.prompt_tokens > 0
    assert message.status == "complete"
    assert message.usage == first_usage + reported
    assert message.context_usage == message.last_request_usage == reported  # the gauge's figure
    assert message.cost > first_cost > 0
    assert message.usage_estimated  # the first request's part is still an estimate


async def test_an_estimate_counts_the_previous_requests_prompt_as_cached(simulator):
    """The prompt of the turn before is a cached prefix: an estimate prices it at the hit rate."""
    simulator.token_rate = 200.0
    conversation, turn, first = start("deepseek-flash")
    async with DeepSeekClient("sk-test", simulator.url) as client:
        async for _ in turn.stream(client, currency="USD"):
            pass
        conversation.add_user("and more, please")
        second_turn = prepare_reply(conversation, CATALOGUE)
        second, second_request = second_turn.message, second_turn.request
        stream = second_turn.stream(client, currency="USD")
        deltas = 0
        async for event in stream:
            deltas += isinstance(event, AnswerText)
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
    conversation, turn, message = start("deepseek-flash")
    with pytest.raises(RuntimeError):
        async for _ in turn.stream(BrokenAfterTwoDeltas(), currency="USD"):
            pass
    assert message.status == "partial" and message.content == "Hello, world"
    assert message.error == "socket library bug" and message.usage_estimated


async def test_a_turn_stopped_before_it_streamed_is_marked_cancelled():
    conversation, turn, message = start("deepseek-flash")
    stream = turn.stream(BrokenAfterTwoDeltas(), currency="USD")
    await stream.aclose()  # never started: the generator's own handlers never ran
    assert message.status == "streaming"
    turn.end_unfinished()
    assert message.status == "cancelled" and message.error == "Cancelled by you" and turn.phase == "cancelled"


def test_json_mode_hint_goes_into_the_request_only():
    conversation = Conversation(
        settings=ChatSettings(model="deepseek-flash", json_output=True, system_prompt="You are terse.")
    )
    conversation.add_user("three primes")
    turn = prepare_reply(conversation, CATALOGUE)
    system = turn.request.body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You are terse.")
    assert "json" in system["content"].lower() and turn.notes
    assert conversation.settings.system_prompt == "You are terse."  # the stored prompt is the user's


def test_a_complete_answer_cannot_be_continued():
    from deepseek_tui.conversation.model import ConversationError

    conversation, turn, message = start("deepseek-flash")
    message.content = "done"
    conversation.finish_assistant(message.id, finish_reason="stop")
    with pytest.raises(ConversationError):
        prepare_continue(conversation, message.id, CATALOGUE)


async def test_a_continued_replys_thinking_is_kept_apart_from_the_earlier_thinking(simulator):
    simulator.inject(Fault.drop(after_chunks=4))  # mid-thinking
    conversation, turn, message = start("deepseek-flash", thinking=True)
    async with DeepSeekClient("sk-test", simulator.url, retry=RetryPolicy(max_attempts=1)) as client:
        async for _ in turn.stream(client, currency="USD"):
            pass
        before = message.reasoning
        assert before and not message.content
        continuation = prepare_continue(conversation, message.id, CATALOGUE)
        events = [e async for e in continuation.stream(client, currency="USD")]
    added = "".join(e.text for e in events if isinstance(e, ReasoningText))
    assert added and message.reasoning == before + "\n\n" + added
