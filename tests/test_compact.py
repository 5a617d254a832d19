"""Compaction: earlier turns summarised into one answer on a new branch; nothing is lost."""

from __future__ import annotations

import pytest

from deepseek_tui.catalogue import Catalogue
from deepseek_tui.chat_settings import ChatSettings
from deepseek_tui.client import DeepSeekClient, RetryPolicy
from deepseek_tui.conversation.compact import SUMMARY_REQUEST, finish_compaction, prepare_compaction
from deepseek_tui.conversation.model import Conversation, ConversationError
from deepseek_tui.conversation.request import build_chat_request
from deepseek_tui.conversation.turn import prepare_reply
from deepseek_tui.simulator import Fault

CATALOGUE = Catalogue()


async def chat_with(client, exchanges: int) -> Conversation:
    conversation = Conversation(settings=ChatSettings(model="deepseek-flash"))
    for number in range(exchanges):
        conversation.add_user(f"question {number}")
        async for _ in prepare_reply(conversation, CATALOGUE).stream(client, currency="USD"):
            pass
    return conversation


async def test_the_summary_replaces_the_earlier_turns_on_a_new_branch(simulator):
    async with DeepSeekClient("sk-test", simulator.url) as client:
        conversation = await chat_with(client, 4)
        before = [m.id for m in conversation.active_path()]
        cost_before = conversation.total_cost("USD")
        compaction = prepare_compaction(conversation, CATALOGUE)
        summary_body = compaction.turn.request.body
        async for _ in compaction.turn.stream(client, currency="USD"):
            pass
        assert finish_compaction(compaction)
    sent = [m["content"] for m in summary_body["messages"]]
    assert sent[-1] == SUMMARY_REQUEST and "question 0" in sent and "question 3" not in sent
    path = conversation.active_path()
    assert [m.role for m in path] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert path[0].parent_id is None and path[0].content == SUMMARY_REQUEST
    summary = path[1]
    assert summary.status == "complete" and summary.content and summary.cost > 0
    assert [m.content for m in path[2:]] == [conversation.get(i).content for i in before[-4:]]
    assert all(m.id not in before and m.cost is None for m in path[2:])  # copies, spent once
    assert conversation.total_cost("USD") == pytest.approx(cost_before + summary.cost)
    assert conversation.title == "question 0"  # not the summary request
    conversation.switch_to(before[0])  # the full conversation is still there
    assert [m.id for m in conversation.active_path()] == before
    conversation.switch_to(path[-1].id)
    conversation.add_user("and next?")
    follow_up = [m["content"] for m in build_chat_request(conversation, CATALOGUE).body["messages"]]
    assert summary.content in follow_up and "question 0" not in follow_up


async def test_a_failed_summary_leaves_the_conversation_as_it_was(simulator):
    async with DeepSeekClient("sk-test", simulator.url, retry=RetryPolicy(max_attempts=1)) as client:
        conversation = await chat_with(client, 3)
        before = [m.id for m in conversation.active_path()]
        compaction = prepare_compaction(conversation, CATALOGUE)
        simulator.inject(Fault.drop(after_chunks=3))
        async for _ in compaction.turn.stream(client, currency="USD"):
            pass
        assert not finish_compaction(compaction)
    assert [m.id for m in conversation.active_path()] == before
    assert compaction.turn.message.id in conversation  # the attempt stays, as a branch


async def test_too_short_to_compact(simulator):
    async with DeepSeekClient("sk-test", simulator.url) as client:
        conversation = await chat_with(client, 2)
    with pytest.raises(ConversationError):
        prepare_compaction(conversation, CATALOGUE)
